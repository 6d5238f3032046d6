package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
)

// The app reads channel secrets only through the store, which seals them:
// what a tenant saved through the app is ciphertext in the database and
// plaintext again where the app uses it (the webhook's checks).
func TestChannelSecretsAreSealedAndUsable(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		const appSecret, verifyToken, accessToken = "app-test-app-secret-d41f", "app-test-verify-token-a9c0", "app-test-access-token-66e3"
		tn := &engine.Tenant{Name: "Sealed", Timezone: "UTC", Mode: engine.ModeEngine,
			Channels: engine.Channels{WhatsApp: &engine.WhatsAppChannel{Provider: "cloud_api", PhoneNumberID: "1",
				AccessToken: accessToken, AppSecret: appSecret, VerifyToken: verifyToken}}}
		if _, _, err := u.a.CreateTenant(u.ctx, tn); err != nil {
			t.Fatal(err)
		}
		q := `SELECT CAST(channels AS TEXT) FROM tenants WHERE id = ?`
		if u.db.Dialect() == store.DialectPostgres {
			q = `SELECT CAST(channels AS TEXT) FROM tenants WHERE id = $1`
		}
		var raw string
		if err := u.db.SQL().QueryRowContext(u.ctx, q, tn.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{appSecret, verifyToken, accessToken} {
			if strings.Contains(raw, s) {
				t.Fatalf("%q is stored in plaintext: %s", s, raw)
			}
		}

		challenge, err := u.a.VerifyWhatsAppWebhook(u.ctx, tn.ID, url.Values{"hub.mode": {"subscribe"},
			"hub.verify_token": {verifyToken}, "hub.challenge": {"42"}})
		if err != nil || challenge != "42" {
			t.Fatalf("verify handshake: %q %v", challenge, err)
		}
		body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write(body)
		if _, err := u.a.HandleWhatsAppWebhook(u.ctx, tn.ID, body, "sha256="+hex.EncodeToString(mac.Sum(nil))); err != nil {
			t.Fatalf("webhook signed with the app secret: %v", err)
		}

		// With another key the tenant does not read: an internal error
		// (a 500 without detail at the API) that names no secret.
		rawKey, _ := secrets.GenerateKey()
		other, _ := secrets.NewKeyring(rawKey)
		u.db.UseSecretKeys(other)
		_, err = u.a.VerifyWhatsAppWebhook(u.ctx, tn.ID, url.Values{})
		var e *engine.Error
		if err == nil || errors.As(err, &e) || !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("read with the wrong key: %v", err)
		}
		for _, s := range []string{appSecret, verifyToken, accessToken, secrets.EncodeKey(rawKey)} {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("the error shows %q: %v", s, err)
			}
		}
	})
}

package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
)

// The four secrets, each distinct so that a leak names its field.
const (
	secretPassword    = "smtp-password-4f1c"
	secretAccessToken = "wa-access-token-9a2e"
	secretAppSecret   = "wa-app-secret-77d0"
	secretVerifyToken = "wa-verify-token-c3b5"
)

var allSecrets = []string{secretPassword, secretAccessToken, secretAppSecret, secretVerifyToken}

func secretChannels() engine.Channels {
	return engine.Channels{
		Email: &engine.EmailChannel{Provider: "smtp", Host: "smtp.example.com", Port: 587, TLS: "starttls",
			Username: "u", Password: secretPassword, From: "Acme <q@acme.example>"},
		WhatsApp: &engine.WhatsAppChannel{Provider: "cloud_api", PhoneNumberID: "123", BusinessAccountID: "456",
			AccessToken: secretAccessToken, AppSecret: secretAppSecret, VerifyToken: secretVerifyToken},
	}
}

func newKeyring(t *testing.T, old ...[]byte) (*secrets.Keyring, []byte) {
	t.Helper()
	raw, err := secrets.GenerateKey()
	must(t, err)
	r, err := secrets.NewKeyring(raw, old...)
	must(t, err)
	return r, raw
}

// rawChannels is the channels column as stored.
func (b *bundle) rawChannels(t *testing.T, tenantID string) string {
	t.Helper()
	s, err := b.db.RawString(b.ctx, `SELECT CAST(channels AS TEXT) FROM tenants WHERE id = ?`, tenantID)
	must(t, err)
	return s
}

// assertSealed fails if any secret is in the column, or if fewer than want
// values are sealed.
func (b *bundle) assertSealed(t *testing.T, tenantID string, want int) {
	t.Helper()
	raw := b.rawChannels(t, tenantID)
	for _, s := range allSecrets {
		if strings.Contains(raw, s) {
			t.Fatalf("secret %q is in the database: %s", s, raw)
		}
	}
	if n := strings.Count(raw, secrets.Prefix); n != want {
		t.Fatalf("%d sealed values, want %d: %s", n, want, raw)
	}
}

func TestSecretsAreSealedAtRest(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
		must(t, b.db.CreateTenant(b.ctx, tn, nil))
		b.assertSealed(t, tn.ID, 4)
		// The caller's tenant keeps its plaintext, and so does a read.
		equal(t, "caller's channels", tn.Channels, secretChannels())
		got, err := b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "read channels", got.Channels, secretChannels())

		// An update seals again, with a fresh nonce: the same secret never
		// gives the same stored value twice.
		before := b.rawChannels(t, tn.ID)
		must(t, b.db.UpdateTenant(b.ctx, got, got.Version))
		b.assertSealed(t, tn.ID, 4)
		if b.rawChannels(t, tn.ID) == before {
			t.Fatal("re-saving the same secrets stored the same ciphertexts")
		}
		got, err = b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "channels after update", got.Channels, secretChannels())
	})
}

func TestSecretsAreBoundToTheirTenantAndField(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
		must(t, b.db.CreateTenant(b.ctx, tn, nil))
		raw := b.rawChannels(t, tn.ID)

		// Tenant b's row gets a's ciphertexts: they must not open there.
		must(t, b.db.RawExec(b.ctx, `UPDATE tenants SET channels = ? WHERE id = ?`, raw, b.b.ID))
		_, err := b.db.GetTenant(b.ctx, b.b.ID)
		var se *store.SecretError
		if !errors.As(err, &se) || !errors.Is(err, secrets.ErrDoesNotOpen) || se.TenantID != b.b.ID {
			t.Fatalf("another tenant's ciphertext: %v", err)
		}
		for _, s := range allSecrets {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("the error shows a secret: %v", err)
			}
		}

		// Within one tenant, the password's ciphertext moved into the
		// verify token does not open either.
		var ch engine.Channels
		must(t, json.Unmarshal([]byte(raw), &ch))
		ch.WhatsApp.VerifyToken = ch.Email.Password
		moved, err := json.Marshal(ch)
		must(t, err)
		must(t, b.db.RawExec(b.ctx, `UPDATE tenants SET channels = ? WHERE id = ?`, string(moved), tn.ID))
		_, err = b.db.GetTenant(b.ctx, tn.ID)
		if !errors.As(err, &se) || se.Field != "channels.whatsapp.verify_token" || !errors.Is(err, secrets.ErrDoesNotOpen) {
			t.Fatalf("a ciphertext moved to another field: %v", err)
		}
	})
}

func TestSecretsWithTheWrongKey(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
		must(t, b.db.CreateTenant(b.ctx, tn, nil))
		other, otherRaw := newKeyring(t)
		b.db.UseSecretKeys(other)
		_, err := b.db.GetTenant(b.ctx, tn.ID)
		if !errors.Is(err, secrets.ErrUnknownKey) {
			t.Fatalf("read with the wrong key: %v", err)
		}
		if strings.Contains(err.Error(), secrets.EncodeKey(otherRaw)) {
			t.Fatalf("the error shows the key: %v", err)
		}
		rep, err := b.db.CheckSecrets(b.ctx)
		must(t, err)
		if rep.Tenants != 1 || rep.Unreadable != 1 || rep.FirstUnreadable == nil || rep.FirstUnreadable.TenantID != tn.ID {
			t.Fatalf("CheckSecrets with the wrong key: %+v", rep)
		}
		// Without any key a sealed secret does not open either.
		b.db.UseSecretKeys(nil)
		if _, err := b.db.GetTenant(b.ctx, tn.ID); !errors.Is(err, store.ErrNoSecretKey) {
			t.Fatalf("read without a key: %v", err)
		}
	})
}

func TestNoKeyRefusesToSaveSecrets(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		b.db.UseSecretKeys(nil)
		tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
		err := b.db.CreateTenant(b.ctx, tn, nil)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) != 4 || e.Fields[0].Field != "body.channels.email.password" {
			t.Fatalf("secret saved without a key: %v", err)
		}
		n, err := b.db.RawInt(b.ctx, `SELECT COUNT(*) FROM tenants`)
		must(t, err)
		if n != 2 {
			t.Fatalf("%d tenants, want the bundle's 2", n)
		}
		// Channels without secrets save as before.
		tn.Channels = engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "q@acme.example"}}
		must(t, b.db.CreateTenant(b.ctx, tn, nil))
		b.a.Channels = secretChannels()
		if err := b.db.UpdateTenant(b.ctx, b.a, 0); !errors.As(err, &e) || e.Code != engine.EINVALID {
			t.Fatalf("update with a secret and no key: %v", err)
		}
	})
}

// legacyChannels is a channels column as written before encryption.
const legacyChannels = `{"email":{"provider":"smtp","host":"smtp.example.com","port":587,"tls":"starttls","username":"u","password":"` +
	secretPassword + `","from":"Acme <q@acme.example>"},"whatsapp":{"provider":"cloud_api","phone_number_id":"123","business_account_id":"456","access_token":"` +
	secretAccessToken + `","app_secret":"` + secretAppSecret + `","verify_token":"` + secretVerifyToken + `"}}`

func TestLegacyPlaintextSecrets(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		for _, tn := range []*engine.Tenant{b.a, b.b} {
			must(t, b.db.RawExec(b.ctx, `UPDATE tenants SET channels = ? WHERE id = ?`, legacyChannels, tn.ID))
		}
		// Read as they are.
		got, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "legacy channels", got.Channels, secretChannels())
		rep, err := b.db.CheckSecrets(b.ctx)
		must(t, err)
		if rep.Tenants != 2 || rep.Plaintext != 2 || rep.Unreadable != 0 {
			t.Fatalf("CheckSecrets on plaintext: %+v", rep)
		}

		// The next write seals them.
		must(t, b.db.UpdateTenant(b.ctx, got, got.Version))
		b.assertSealed(t, b.a.ID, 4)

		// rotate-secrets seals the rest, and only them.
		version := b.b.Version
		rot, err := b.db.RotateSecrets(b.ctx)
		must(t, err)
		if rot != (store.RotateReport{Tenants: 2, Resealed: 1}) {
			t.Fatalf("rotate: %+v", rot)
		}
		b.assertSealed(t, b.b.ID, 4)
		got, err = b.db.GetTenant(b.ctx, b.b.ID)
		must(t, err)
		equal(t, "rotated channels", got.Channels, secretChannels())
		if got.Version != version {
			t.Fatalf("rotation moved the version from %d to %d", version, got.Version)
		}
		rep, err = b.db.CheckSecrets(b.ctx)
		must(t, err)
		if rep != (store.SecretsReport{Tenants: 2}) {
			t.Fatalf("CheckSecrets after rotation: %+v", rep)
		}
	})
}

func TestRotateSecrets(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		oldRing, oldRaw := newKeyring(t)
		b.db.UseSecretKeys(oldRing)
		b.db.SetSecretsPage(2) // several transactions
		var ids []string
		for range 5 {
			tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
			must(t, b.db.CreateTenant(b.ctx, tn, nil))
			ids = append(ids, tn.ID)
		}
		newRing, newRaw := newKeyring(t, oldRaw)
		b.db.UseSecretKeys(newRing)
		// Old values still read...
		got, err := b.db.GetTenant(b.ctx, ids[0])
		must(t, err)
		equal(t, "read with the old key", got.Channels, secretChannels())
		rep, err := b.db.CheckSecrets(b.ctx)
		must(t, err)
		if rep.Tenants != 5 || rep.Stale != 5 || rep.Unreadable != 0 {
			t.Fatalf("CheckSecrets before rotation: %+v", rep)
		}
		// ...new writes use the new key...
		tn := &engine.Tenant{Name: "New", Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
		must(t, b.db.CreateTenant(b.ctx, tn, nil))
		if raw := b.rawChannels(t, tn.ID); strings.Contains(raw, oldRing.CurrentID()) || !strings.Contains(raw, newRing.CurrentID()) {
			t.Fatalf("a new write is not sealed with the new key: %s", raw)
		}
		// ...and rotation moves the rest, once.
		rot, err := b.db.RotateSecrets(b.ctx)
		must(t, err)
		if rot != (store.RotateReport{Tenants: 6, Resealed: 5}) {
			t.Fatalf("rotate: %+v", rot)
		}
		rot, err = b.db.RotateSecrets(b.ctx)
		must(t, err)
		if rot != (store.RotateReport{Tenants: 6, Resealed: 0}) {
			t.Fatalf("second rotate: %+v", rot)
		}
		// The old key can go.
		only, err := secrets.NewKeyring(newRaw)
		must(t, err)
		b.db.UseSecretKeys(only)
		for _, id := range ids {
			b.assertSealed(t, id, 4)
			if raw := b.rawChannels(t, id); strings.Contains(raw, oldRing.CurrentID()) {
				t.Fatalf("tenant %s still has the old key's values: %s", id, raw)
			}
			got, err := b.db.GetTenant(b.ctx, id)
			must(t, err)
			equal(t, "channels after rotation", got.Channels, secretChannels())
		}
	})
}

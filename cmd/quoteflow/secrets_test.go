package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

const (
	cmdAccessToken = "cmd-test-access-token-51a7"
	cmdAppSecret   = "cmd-test-app-secret-0be2"
)

func newKey(t *testing.T) string {
	t.Helper()
	raw, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return secrets.EncodeKey(raw)
}

func keyID(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := secrets.ParseKey(b64)
	if err != nil {
		t.Fatal(err)
	}
	return secrets.KeyID(raw)
}

// openStore opens and migrates the database at url, with key (base64) as
// its secret key unless it is empty.
func openStore(t *testing.T, url, key string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if key != "" {
		raw, err := secrets.ParseKey(key)
		if err != nil {
			t.Fatal(err)
		}
		r, err := secrets.NewKeyring(raw)
		if err != nil {
			t.Fatal(err)
		}
		db.UseSecretKeys(r)
	}
	return db
}

// seedTenant stores a tenant with WhatsApp secrets sealed with key, or, if
// key is empty, written in plaintext as before encryption existed.
func seedTenant(t *testing.T, url, key string) string {
	t.Helper()
	ctx := context.Background()
	db := openStore(t, url, key)
	defer db.Close()
	tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine}
	if key != "" {
		tn.Channels.WhatsApp = &engine.WhatsAppChannel{Provider: "cloud_api", PhoneNumberID: "1", AccessToken: cmdAccessToken, AppSecret: cmdAppSecret}
	}
	if err := db.CreateTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	if key == "" {
		q := `UPDATE tenants SET channels = ? WHERE id = ?`
		if db.Dialect() == store.DialectPostgres {
			q = `UPDATE tenants SET channels = $1 WHERE id = $2`
		}
		legacy := `{"whatsapp":{"provider":"cloud_api","phone_number_id":"1","access_token":"` + cmdAccessToken + `","app_secret":"` + cmdAppSecret + `"}}`
		if _, err := db.SQL().ExecContext(ctx, q, legacy, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	return tn.ID
}

// rawChannels returns every tenant's channels column as stored.
func rawChannels(t *testing.T, url string) string {
	t.Helper()
	db := openStore(t, url, "")
	defer db.Close()
	rows, err := db.SQL().QueryContext(context.Background(), `SELECT CAST(channels AS TEXT) FROM tenants ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	return strings.Join(all, "\n")
}

// runOnce runs a command that is expected to return by itself (an error at
// start, rotate-secrets), with env, and returns its output and error.
func runOnce(env map[string]string, args ...string) (string, error) {
	var out strings.Builder
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

func TestServeRefusesUnreadableSecretsAtStart(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			url := storetest.URL(t, d)
			keyA, keyB := newKey(t), newKey(t)
			seedTenant(t, url, keyA)
			if raw := rawChannels(t, url); strings.Contains(raw, cmdAccessToken) || strings.Contains(raw, cmdAppSecret) {
				t.Fatalf("plaintext secret in the database: %s", raw)
			}

			// No key: refused at start, naming what to set.
			_, err := runOnce(map[string]string{"QUOTEFLOW_DATABASE_URL": url}, "serve", "--addr", "127.0.0.1:0")
			if err == nil || !strings.Contains(err.Error(), "QUOTEFLOW_SECRET_KEY") || !strings.Contains(err.Error(), "cannot read") {
				t.Fatalf("serve without a key: %v", err)
			}
			// The wrong key: refused, naming the key id that is missing and
			// showing neither key.
			_, err = runOnce(map[string]string{"QUOTEFLOW_DATABASE_URL": url, "QUOTEFLOW_SECRET_KEY": keyB}, "serve", "--addr", "127.0.0.1:0")
			if err == nil || !strings.Contains(err.Error(), keyID(t, keyA)) || strings.Contains(err.Error(), keyA) || strings.Contains(err.Error(), keyB) {
				t.Fatalf("serve with the wrong key: %v", err)
			}

			// Rotation: B current, A old. It serves, rotate-secrets moves
			// the tenant to B once, and then B alone serves.
			env := map[string]string{"QUOTEFLOW_DATABASE_URL": url, "QUOTEFLOW_SECRET_KEY": keyB, "QUOTEFLOW_SECRET_KEY_OLD": keyA}
			p := start(t, env, "serve", "--addr", "127.0.0.1:0")
			p.cancel()
			if err := <-p.done; err != nil {
				t.Fatalf("serve with new and old keys: %v", err)
			}
			p.done <- nil
			for i, want := range []string{"1 of 1", "0 of 1"} {
				out, err := runOnce(env, "rotate-secrets")
				if err != nil || !strings.Contains(out, want) || !strings.Contains(out, keyID(t, keyB)) {
					t.Fatalf("rotate-secrets #%d: %q %v", i+1, out, err)
				}
			}
			if raw := rawChannels(t, url); strings.Contains(raw, keyID(t, keyA)) || !strings.Contains(raw, keyID(t, keyB)) {
				t.Fatalf("after rotation: %s", raw)
			}
			delete(env, "QUOTEFLOW_SECRET_KEY_OLD")
			p = start(t, env, "serve", "--addr", "127.0.0.1:0")
			_ = p
		})
	}
}

func TestLegacyPlaintextSecretsNeedAKeyThenRotate(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			url := storetest.URL(t, d)
			id := seedTenant(t, url, "")
			_, err := runOnce(map[string]string{"QUOTEFLOW_DATABASE_URL": url}, "serve", "--addr", "127.0.0.1:0")
			if err == nil || !strings.Contains(err.Error(), "plaintext") || !strings.Contains(err.Error(), "rotate-secrets") {
				t.Fatalf("serve without a key over plaintext secrets: %v", err)
			}
			key := newKey(t)
			env := map[string]string{"QUOTEFLOW_DATABASE_URL": url, "QUOTEFLOW_SECRET_KEY": key}
			out, err := runOnce(env, "rotate-secrets")
			if err != nil || !strings.Contains(out, "1 of 1") {
				t.Fatalf("rotate-secrets: %q %v", out, err)
			}
			if raw := rawChannels(t, url); strings.Contains(raw, cmdAccessToken) || strings.Contains(raw, cmdAppSecret) {
				t.Fatalf("plaintext left after rotate-secrets: %s", raw)
			}
			db := openStore(t, url, key)
			tn, err := db.GetTenant(context.Background(), id)
			if err != nil || tn.Channels.WhatsApp.AccessToken != cmdAccessToken || tn.Channels.WhatsApp.AppSecret != cmdAppSecret {
				t.Fatalf("tenant after rotation: %+v %v", tn, err)
			}
		})
	}
}

func TestServeWithoutAKeyRefusesToSaveSecrets(t *testing.T) {
	env := map[string]string{"QUOTEFLOW_DATABASE_URL": storetest.URL(t, store.DialectSQLite), "QUOTEFLOW_OPERATOR_TOKEN": "op"}
	p := start(t, env, "serve", "--addr", "127.0.0.1:0")
	status, out := p.call(t, "POST", "/v1/tenants", "op", `{"name":"Acme","timezone":"UTC","mode":"engine",
		"channels":{"whatsapp":{"provider":"cloud_api","phone_number_id":"1","access_token":"`+cmdAccessToken+`"}}}`)
	errs, _ := out["errors"].([]any)
	if status != 422 || len(errs) != 1 || errs[0].(map[string]any)["location"] != "body.channels.whatsapp.access_token" {
		t.Fatalf("secret without a key: %d %v", status, out)
	}
	if status, out := p.call(t, "POST", "/v1/tenants", "op", `{"name":"Acme","timezone":"UTC","mode":"engine"}`); status != 201 {
		t.Fatalf("tenant without secrets: %d %v", status, out)
	}
}

func TestSecretKeySettings(t *testing.T) {
	dir := t.TempDir()
	url := filepath.Join(dir, "q.db")
	good := newKey(t)
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"QUOTEFLOW_SECRET_KEY": "not-a-real-key-value"}, nil},
		{map[string]string{"QUOTEFLOW_SECRET_KEY": "c2hvcnQ="}, nil},
		{nil, []string{"--secret-key", good, "--secret-key-file", file}},
		{map[string]string{"QUOTEFLOW_SECRET_KEY_FILE": filepath.Join(dir, "missing")}, nil},
		{map[string]string{"QUOTEFLOW_SECRET_KEY_OLD": good}, nil},
	} {
		env := map[string]string{"QUOTEFLOW_DATABASE_URL": url}
		for k, v := range c.env {
			env[k] = v
		}
		_, err := runOnce(env, append([]string{"rotate-secrets"}, c.args...)...)
		if err == nil {
			t.Errorf("%v %v: no error", c.env, c.args)
			continue
		}
		for _, v := range append([]string{good, "not-a-real-key-value"}, c.args...) {
			if v != file && strings.Contains(err.Error(), v) {
				t.Errorf("the error shows a key: %v", err)
			}
		}
	}
	// A key file works, as does the flag.
	for _, args := range [][]string{{"--secret-key-file", file}, {"--secret-key", good}} {
		if out, err := runOnce(map[string]string{"QUOTEFLOW_DATABASE_URL": url}, append([]string{"rotate-secrets"}, args...)...); err != nil || !strings.Contains(out, keyID(t, good)) {
			t.Fatalf("%v: %q %v", args, out, err)
		}
	}
	// The key never appears in -h, even when the environment sets it.
	var help strings.Builder
	_, _ = parseConfig("serve", []string{"-h"}, func(k string) string {
		if k == "QUOTEFLOW_SECRET_KEY" {
			return good
		}
		return ""
	}, &help)
	if strings.Contains(help.String(), good) {
		t.Fatal("-h shows the secret key")
	}
}

func TestDemoMakesAndReusesItsSecretKey(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "demo.db")
	keyPath := filepath.Join(dir, "demo.key")
	var firstKey []byte
	for round := 1; round <= 2; round++ {
		func() {
			p := start(t, nil, "demo", "--addr", "127.0.0.1:0", "--database-url", dbPath)
			var key string
			for _, line := range p.stdout {
				if k, ok := strings.CutPrefix(strings.TrimSpace(line), "admin key:"); ok {
					key = strings.TrimSpace(k)
				}
			}
			fi, err := os.Stat(keyPath)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("round %d: demo key file: %v %v", round, fi, err)
			}
			b, err := os.ReadFile(keyPath)
			if err != nil {
				t.Fatal(err)
			}
			if round == 1 {
				firstKey = b
				status, out := p.call(t, "PATCH", "/v1/tenant", key, `{"channels":{"whatsapp":{"provider":"cloud_api","phone_number_id":"1",
					"access_token":"`+cmdAccessToken+`","app_secret":"`+cmdAppSecret+`"}}}`)
				if status != 200 {
					t.Fatalf("save secrets in the demo: %d %v", status, out)
				}
			} else if string(b) != string(firstKey) {
				t.Fatal("the demo made a new key on its second start")
			}
			// The second start reads what the first sealed.
			status, tenant := p.call(t, "GET", "/v1/tenant", key, "")
			wa, _ := tenant["channels"].(map[string]any)["whatsapp"].(map[string]any)
			if status != 200 || wa["access_token_set"] != true || wa["app_secret_set"] != true {
				t.Fatalf("round %d: tenant: %d %v", round, status, tenant)
			}
			p.cancel()
			if err := <-p.done; err != nil {
				t.Fatalf("demo stopped with %v", err)
			}
			p.done <- nil
		}()
	}
	if raw := rawChannels(t, dbPath); strings.Contains(raw, cmdAccessToken) || strings.Contains(raw, cmdAppSecret) || !strings.Contains(raw, secrets.Prefix) {
		t.Fatalf("the demo stored: %s", raw)
	}
}

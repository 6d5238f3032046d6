package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestMigrateLegacyCommand(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.URL(t, d)
			env := map[string]string{"QUOTEFLOW_DATABASE_URL": url}
			getenv := func(k string) string { return env[k] }
			cmd := func(args ...string) (string, error) {
				var out strings.Builder
				err := run(ctx, append([]string{"migrate-legacy"}, args...), getenv, &out, io.Discard)
				return out.String(), err
			}
			if _, err := cmd("--tenant", "nope"); err == nil || !strings.Contains(err.Error(), "tenant not found") {
				t.Fatalf("unknown tenant: %v", err)
			}
			db, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			// The tenant's SMTP password is sealed with the key serve uses;
			// the command reads it from the same variable.
			db.UseSecretKeys(storetest.Keyring(t))
			a := app.New(db, nil, app.Config{}, nil)
			tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "smtp",
				Host: "smtp.acme.example", Port: 587, TLS: "starttls", Username: "quotes", Password: "hunter2-sealed", From: "quotes@acme.example"}}}
			if _, _, err := a.CreateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd("--tenant", tn.ID); err == nil || !strings.Contains(err.Error(), "no secret key") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("without the secret key: %v", err)
			}
			env["QUOTEFLOW_SECRET_KEY"] = storetest.SecretKey
			if _, err := cmd("--tenant", tn.ID); err == nil || !strings.Contains(err.Error(), "legacy_settings") {
				t.Fatalf("no settings: %v", err)
			}
			err = a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"email"},
				Email: &engine.EmailContent{Subject: "Your quote {{ quote.number }}", Text: "Hi {{ lead.first_name }}"}}})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()

			out, err := cmd("--tenant", tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"not applied; can be applied", `workflow "Legacy quote.sent" (send_email)`, `email "Your quote Q-1001" to ana@example.com`, "Disagreements (0)", "Nothing was changed"} {
				if !strings.Contains(out, want) {
					t.Fatalf("preview lacks %q:\n%s", want, out)
				}
			}
			out, err = cmd("--tenant", tn.ID, "--apply")
			if err != nil || !strings.Contains(out, "Applied at") || !strings.Contains(out, "The mode is unchanged") {
				t.Fatalf("apply: %v\n%s", err, out)
			}
			out, err = cmd("--tenant", tn.ID, "--apply", "--json")
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(strings.NewReader(out))
			var preview, result map[string]any
			if err := dec.Decode(&preview); err != nil {
				t.Fatal(err)
			}
			if err := dec.Decode(&result); err != nil {
				t.Fatal(err)
			}
			if preview["applied"] != true || result["replayed"] != true || len(result["created"].([]any)) != 1 {
				t.Fatalf("second apply: %v %v", preview, result)
			}
		})
	}
}

package store_test

import (
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func TestTenantRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		tn := &engine.Tenant{
			Name: "Acme", Timezone: "America/Sao_Paulo", Mode: engine.ModeShadow,
			QuietHours: &engine.QuietHours{Start: "21:00", End: "08:00"},
			Holidays:   []string{"2026-12-25", "2027-01-01"},
			Channels: engine.Channels{
				Email: &engine.EmailChannel{Provider: "smtp", Host: "smtp.example.com", Port: 587, TLS: "starttls",
					Username: "u", Password: "secret", From: "Acme <q@acme.example>"},
				WhatsApp: &engine.WhatsAppChannel{Provider: "cloud_api", PhoneNumberID: "123", BusinessAccountID: "456",
					AccessToken: "token", AppSecret: "app-secret", VerifyToken: "verify"},
			},
		}
		key := &engine.APIKey{ID: "0190d000-0000-7000-8000-00000000a001", Role: engine.RoleAdmin, SecretHash: []byte{0, 1, 2, 255}}
		must(t, b.db.CreateTenant(b.ctx, tn, key))
		now := b.clock.Now().Truncate(time.Microsecond)
		if tn.ID == "" || tn.Version != 1 || tn.ConfigVersion != 1 || !tn.CreatedAt.Equal(now) || !tn.UpdatedAt.Equal(now) {
			t.Fatalf("CreateTenant did not fill in the tenant: %+v", tn)
		}
		equal(t, "key", *key, engine.APIKey{ID: "0190d000-0000-7000-8000-00000000a001", TenantID: tn.ID, Role: engine.RoleAdmin,
			SecretHash: []byte{0, 1, 2, 255}, CreatedAt: now})

		got, err := b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "tenant", got, tn)

		// nil and empty holidays stay distinct; nil quiet hours and no
		// channels survive too.
		tn.Holidays, tn.QuietHours, tn.Channels = []string{}, nil, engine.Channels{}
		must(t, b.db.UpdateTenant(b.ctx, tn, 1))
		got, err = b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "tenant with empty holidays", got, tn)
		tn.Holidays = nil
		must(t, b.db.UpdateTenant(b.ctx, tn, 0))
		got, err = b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "tenant with nil holidays", got, tn)
	})
}

func TestUpdateTenant(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		b.clock.Advance(time.Hour)
		tn := *b.a
		tn.Name, tn.Mode = "Renamed", engine.ModeLegacy
		must(t, b.db.UpdateTenant(b.ctx, &tn, 1))
		if tn.Version != 2 || tn.ConfigVersion != b.a.ConfigVersion+1 {
			t.Fatalf("version %d, config version %d after update", tn.Version, tn.ConfigVersion)
		}
		if !tn.UpdatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) || !tn.CreatedAt.Equal(b.a.CreatedAt) {
			t.Fatalf("times after update: %+v", tn)
		}
		got, err := b.db.GetTenant(b.ctx, tn.ID)
		must(t, err)
		equal(t, "tenant", got, &tn)

		stale := tn
		wantCode(t, b.db.UpdateTenant(b.ctx, &stale, 1), engine.EPRECONDITION, "")
		missing := tn
		missing.ID = "no-such-tenant"
		wantCode(t, b.db.UpdateTenant(b.ctx, &missing, 0), engine.ENOTFOUND, "")
		_, err = b.db.GetTenant(b.ctx, "no-such-tenant")
		wantCode(t, err, engine.ENOTFOUND, "")
	})
}

func TestCreateTenantIsAtomic(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		first := &engine.Tenant{Name: "First", Timezone: "UTC", Mode: engine.ModeLegacy}
		must(t, b.db.CreateTenant(b.ctx, first, &engine.APIKey{ID: "0190d000-0000-7000-8000-00000000a002", Role: engine.RoleAdmin, SecretHash: []byte("h")}))

		// The tenant row goes in, then its key collides: nothing stays.
		second := &engine.Tenant{Name: "Second", Timezone: "UTC", Mode: engine.ModeLegacy}
		key := &engine.APIKey{ID: "0190d000-0000-7000-8000-00000000a002", Role: engine.RoleAdmin, SecretHash: []byte("h")}
		wantCode(t, b.db.CreateTenant(b.ctx, second, key), engine.ECONFLICT, "id")
		n, err := b.db.RawInt(b.ctx, `SELECT count(*) FROM tenants WHERE name = ?`, "Second")
		must(t, err)
		if n != 0 {
			t.Fatal("the tenant stayed although its key failed")
		}
		if second.ID != "" || key.TenantID != "" {
			t.Fatalf("a failed create filled in ids: %+v %+v", second, key)
		}
		k, err := b.db.GetAPIKey(b.ctx, "0190d000-0000-7000-8000-00000000a002")
		must(t, err)
		equal(t, "the existing key's tenant", k.TenantID, first.ID)
	})
}

func TestAPIKeys(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		k1 := &engine.APIKey{TenantID: b.a.ID, Role: engine.RoleAdmin, SecretHash: []byte("one")}
		must(t, b.db.CreateAPIKey(b.ctx, k1))
		if k1.ID == "" {
			t.Fatal("no id generated")
		}
		b.clock.Advance(time.Second)
		const chosen = "f190d000-0000-7000-8000-00000000a003" // sorts after the generated ids
		k2 := &engine.APIKey{ID: chosen, TenantID: b.a.ID, Role: engine.RoleApp, SecretHash: []byte("two")}
		must(t, b.db.CreateAPIKey(b.ctx, k2))
		equal(t, "preset id", k2.ID, chosen)
		kb := &engine.APIKey{TenantID: b.b.ID, Role: engine.RoleAdmin, SecretHash: []byte("b")}
		must(t, b.db.CreateAPIKey(b.ctx, kb))

		wantCode(t, b.db.CreateAPIKey(b.ctx, &engine.APIKey{ID: chosen, TenantID: b.b.ID, Role: engine.RoleApp,
			SecretHash: []byte("x")}), engine.ECONFLICT, "id")
		// A preset id is one of ours: PostgreSQL could not store another.
		wantCode(t, b.db.CreateAPIKey(b.ctx, &engine.APIKey{ID: "chosen-id", TenantID: b.b.ID, Role: engine.RoleApp,
			SecretHash: []byte("x")}), engine.EINVALID, "id")
		wantCode(t, b.db.CreateAPIKey(b.ctx, &engine.APIKey{TenantID: "no-such-tenant", Role: engine.RoleApp,
			SecretHash: []byte("x")}), engine.ENOTFOUND, "")

		// Authentication is not tenant-scoped.
		got, err := b.db.GetAPIKey(b.ctx, k2.ID)
		must(t, err)
		equal(t, "key", got, k2)

		keys, err := b.db.ListAPIKeys(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "keys of A", keys, []engine.APIKey{*k1, *k2})

		used := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		must(t, b.db.TouchAPIKey(b.ctx, k1.ID, used))
		// Never backwards.
		must(t, b.db.TouchAPIKey(b.ctx, k1.ID, used.Add(-time.Hour)))
		got, err = b.db.GetAPIKey(b.ctx, k1.ID)
		must(t, err)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Fatalf("last used %v, want %v", got.LastUsedAt, used)
		}
		wantCode(t, b.db.TouchAPIKey(b.ctx, "no-such-key", used), engine.ENOTFOUND, "")

		// Another tenant cannot revoke A's key.
		wantCode(t, b.db.DeleteAPIKey(b.ctx, b.b.ID, k1.ID), engine.ENOTFOUND, "")
		// Nor can A revoke its last admin key (issue 12: the rule lives
		// here, in the revocation's transaction) until it has another.
		wantCode(t, b.db.DeleteAPIKey(b.ctx, b.a.ID, k1.ID), engine.ECONFLICT, "path.key_id")
		k3 := &engine.APIKey{TenantID: b.a.ID, Role: engine.RoleAdmin, SecretHash: []byte("three")}
		must(t, b.db.CreateAPIKey(b.ctx, k3))
		must(t, b.db.DeleteAPIKey(b.ctx, b.a.ID, k1.ID))
		_, err = b.db.GetAPIKey(b.ctx, k1.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		wantCode(t, b.db.TouchAPIKey(b.ctx, k1.ID, used.Add(time.Hour)), engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteAPIKey(b.ctx, b.a.ID, k1.ID), engine.ENOTFOUND, "")
		keys, err = b.db.ListAPIKeys(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "keys of A after revoking one", keys, []engine.APIKey{*k3, *k2}) // by id: uuids sort before "f190d000-0000-7000-8000-00000000a003"
		// A revoked key's id stays taken.
		wantCode(t, b.db.CreateAPIKey(b.ctx, &engine.APIKey{ID: k1.ID, TenantID: b.a.ID, Role: engine.RoleApp,
			SecretHash: []byte("x")}), engine.ECONFLICT, "id")
	})
}

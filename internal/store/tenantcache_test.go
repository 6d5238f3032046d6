package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestTenantReadsSeeEveryChange: a quote action and a step read their
// tenant through the store's cache, and still see every change the moment
// it commits, when another process (another handle on the same database)
// makes it: a new timezone and SMTP password, and a configuration write
// that moves only the configuration version the resolver's cache is keyed
// by. What a caller does to the tenant it was given is not what the next
// caller gets.
func TestTenantReadsSeeEveryChange(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		one, other := storetest.OpenPair(t, d)
		c := &clock{now: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}
		one.Now, other.Now = c.Now, c.Now
		b := &bundle{ctx: context.Background(), db: one, clock: c}
		ob := &bundle{ctx: b.ctx, db: other, clock: c}
		b.a = &engine.Tenant{Name: "Acme Roofing", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine, Channels: secretChannels()}
		must(t, one.CreateTenant(b.ctx, b.a, nil))
		f := b.flow(t, b.a.ID)

		// read returns the tenant as the action and as the step see it.
		read := func() (action, step *engine.Tenant) {
			t.Helper()
			must(t, one.Tx(b.ctx, func(tx *store.Tx) error {
				st, err := tx.LoadQuoteAction(b.ctx, b.a.ID, f.quote.ID, engine.ActionSend, "")
				if err != nil {
					return err
				}
				rs, err := tx.LoadRun(b.ctx, b.a.ID, f.run.ID)
				if err != nil {
					return err
				}
				action, step = st.Tenant, rs.Tenant
				return nil
			}))
			return action, step
		}
		want := func(what string, tn *engine.Tenant, timezone, password string, configVersion int64) {
			t.Helper()
			if tn.ID != b.a.ID || tn.Name != "Acme Roofing" || tn.Timezone != timezone ||
				tn.Channels.Email == nil || tn.Channels.Email.Password != password || tn.ConfigVersion != configVersion {
				t.Errorf("%s: tenant %s %q in %s, the SMTP password expected: %t, config version %d; want %s, config version %d",
					what, tn.ID, tn.Name, tn.Timezone, tn.Channels.Email != nil && tn.Channels.Email.Password == password,
					tn.ConfigVersion, timezone, configVersion)
			}
		}

		first, _ := read()
		version := first.ConfigVersion
		first.Name, first.Timezone = "scribbled on", "Asia/Tokyo"
		action, step := read()
		want("read again", action, "Europe/Lisbon", secretPassword, version)
		want("read again, the step", step, "Europe/Lisbon", secretPassword, version)

		changed, err := other.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		changed.Timezone, changed.Channels.Email.Password = "America/New_York", "rotated-by-hand"
		must(t, other.UpdateTenant(b.ctx, changed, changed.Version))
		action, step = read()
		want("after the other process's update", action, "America/New_York", "rotated-by-hand", changed.ConfigVersion)
		want("after the other process's update, the step", step, "America/New_York", "rotated-by-hand", changed.ConfigVersion)

		ob.workflow(t, b.a.ID, engine.TriggerAccepted)
		after, err := other.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		if after.ConfigVersion <= changed.ConfigVersion {
			t.Fatalf("a new workflow left the config version at %d", after.ConfigVersion)
		}
		action, step = read()
		want("after the other process's new workflow", action, "America/New_York", "rotated-by-hand", after.ConfigVersion)
		want("after the other process's new workflow, the step", step, "America/New_York", "rotated-by-hand", after.ConfigVersion)
	})
}

// TestTenantCacheIsBounded: the store keeps at most its bound of tenant
// rows, and a tenant pushed out is read whole again, unchanged.
func TestTenantCacheIsBounded(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		db := storetest.OpenWith(t, d, store.OpenOptions{TenantCache: 2})
		b := &bundle{ctx: context.Background(), db: db, clock: &clock{now: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}}
		db.Now = b.clock.Now
		var flows []*flow
		var tenants []*engine.Tenant
		for i := range 3 {
			tn := &engine.Tenant{Name: fmt.Sprintf("Tenant %d", i), Timezone: "UTC", Mode: engine.ModeEngine, Channels: secretChannels()}
			must(t, db.CreateTenant(b.ctx, tn, nil))
			tenants, flows = append(tenants, tn), append(flows, b.flow(t, tn.ID))
		}
		for round := range 2 {
			for i, f := range flows {
				var got *engine.Tenant
				must(t, db.Tx(b.ctx, func(tx *store.Tx) error {
					rs, err := tx.LoadRun(b.ctx, tenants[i].ID, f.run.ID)
					if rs != nil {
						got = rs.Tenant
					}
					return err
				}))
				if got.ID != tenants[i].ID || got.Name != tenants[i].Name || got.Channels.Email.Password != secretPassword {
					t.Errorf("round %d: tenant %d read as %s %q", round, i, got.ID, got.Name)
				}
				if n, max := db.TenantCacheUse(); n > 2 || max != 2 {
					t.Fatalf("the cache holds %d of %d rows, want at most 2", n, max)
				}
			}
		}
	})
}

// BenchmarkLoadRun is a step's reads (the run, its tenant, lead, quote and
// the tenant's open circuits) in a transaction of their own, with the
// tenant's row cached and without: on PostgreSQL the time per operation is
// the client's and the server's together, one connection at a time.
func BenchmarkLoadRun(b *testing.B) {
	for _, d := range storetest.Dialects(b) {
		for _, side := range []struct {
			name  string
			cache int
		}{{"cached", 0}, {"uncached", -1}} {
			b.Run(d+"/"+side.name, func(b *testing.B) {
				db := storetest.OpenWith(b, d, store.OpenOptions{TenantCache: side.cache})
				ctx := context.Background()
				tn := &engine.Tenant{Name: "Acme Roofing", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine, Channels: secretChannels()}
				if err := db.CreateTenant(ctx, tn, nil); err != nil {
					b.Fatal(err)
				}
				bb := &bundle{ctx: ctx, db: db, clock: &clock{now: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)}}
				db.Now = bb.clock.Now
				f := bb.flow(b, tn.ID)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := db.Tx(ctx, func(tx *store.Tx) error {
						_, err := tx.LoadRun(ctx, tn.ID, f.run.ID)
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestMigrationPreviews(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		save := func(tenantID, hash string) *engine.MigrationPreview {
			t.Helper()
			var p *engine.MigrationPreview
			must(t, b.tx(func(tx *store.Tx) (err error) {
				p, err = tx.SaveMigrationPreview(b.ctx, tenantID, hash)
				return err
			}))
			return p
		}
		p1 := save(b.a.ID, "h1")
		if p1.ID == "" || p1.SettingsHash != "h1" || p1.AppliedAt != nil || !p1.CreatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("saved preview %+v", p1)
		}
		b.clock.Advance(time.Minute)
		if again := save(b.a.ID, "h1"); again.ID != p1.ID || !again.CreatedAt.Equal(p1.CreatedAt) {
			t.Fatalf("the same settings must keep their preview: %+v, first %+v", again, p1)
		}
		if p2 := save(b.a.ID, "h2"); p2.ID == p1.ID {
			t.Fatal("other settings must get another preview")
		}
		pb := save(b.b.ID, "h1")
		if pb.ID == p1.ID {
			t.Fatal("another tenant's preview of equal settings must be its own")
		}

		get := func(tenantID, id string) (*engine.MigrationPreview, error) {
			var p *engine.MigrationPreview
			err := b.tx(func(tx *store.Tx) (err error) {
				p, err = tx.GetMigrationPreview(b.ctx, tenantID, id)
				return err
			})
			return p, err
		}
		_, err := get(b.a.ID, pb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = get(b.a.ID, "no-such-id")
		wantCode(t, err, engine.ENOTFOUND, "")

		result := []byte(`{"preview_id":"x","created":[]}`)
		must(t, b.tx(func(tx *store.Tx) error { return tx.MarkMigrationApplied(b.ctx, b.a.ID, p1.ID, "key-1", result) }))
		got, err := get(b.a.ID, p1.ID)
		must(t, err)
		if got.AppliedAt == nil || got.AppliedBy != "key-1" || string(canon(t, got.Result)) != string(canon(t, result)) {
			t.Fatalf("applied preview %+v", got)
		}
		// Applied once only; another tenant cannot mark it.
		wantCode(t, b.tx(func(tx *store.Tx) error { return tx.MarkMigrationApplied(b.ctx, b.a.ID, p1.ID, "key-2", result) }), engine.ECONFLICT, "")
		wantCode(t, b.tx(func(tx *store.Tx) error { return tx.MarkMigrationApplied(b.ctx, b.b.ID, p1.ID, "key-2", result) }), engine.ECONFLICT, "")
		if again := save(b.a.ID, "h1"); again.AppliedAt == nil {
			t.Fatal("a preview saved again must stay applied")
		}
		wantCode(t, b.tx(func(tx *store.Tx) error {
			_, err := tx.SaveMigrationPreview(b.ctx, "no-such-tenant", "h1")
			return err
		}), engine.ENOTFOUND, "")
	})
}

func TestModeChanges(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		var mode engine.Mode
		must(t, b.tx(func(tx *store.Tx) (err error) {
			mode, err = tx.LockTenantMode(b.ctx, b.a.ID)
			return err
		}))
		if mode != engine.ModeEngine {
			t.Fatalf("mode %s", mode)
		}
		wantCode(t, b.tx(func(tx *store.Tx) error {
			_, err := tx.LockTenantMode(b.ctx, "no-such-tenant")
			return err
		}), engine.ENOTFOUND, "")

		steps := []engine.Mode{engine.ModeLegacy, engine.ModeShadow, engine.ModeEngine}
		from := engine.ModeEngine
		for _, to := range steps {
			b.clock.Advance(time.Second)
			c := &engine.ModeChange{TenantID: b.a.ID, From: from, To: to, APIKeyID: "key-1"}
			must(t, b.tx(func(tx *store.Tx) error { return tx.InsertModeChange(b.ctx, c) }))
			if c.ID == "" || !c.ChangedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
				t.Fatalf("inserted change %+v", c)
			}
			from = to
		}
		must(t, b.tx(func(tx *store.Tx) error {
			return tx.InsertModeChange(b.ctx, &engine.ModeChange{TenantID: b.b.ID, From: engine.ModeEngine, To: engine.ModeLegacy})
		}))
		var all []engine.ModeChange
		cursor := ""
		for {
			var page []engine.ModeChange
			var next string
			must(t, b.db.ReadTx(b.ctx, func(tx *store.Tx) (err error) {
				page, next, err = tx.ListModeChanges(b.ctx, b.a.ID, engine.Page{Limit: 2, After: cursor})
				return err
			}))
			all = append(all, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(all) != 3 {
			t.Fatalf("%d changes, want A's 3: %+v", len(all), all)
		}
		for i, c := range all {
			if c.To != steps[i] || c.APIKeyID != "key-1" || c.TenantID != b.a.ID {
				t.Fatalf("change %d: %+v", i, c)
			}
		}
		wantCode(t, b.tx(func(tx *store.Tx) error {
			return tx.InsertModeChange(b.ctx, &engine.ModeChange{TenantID: "no-such-tenant", From: engine.ModeEngine, To: engine.ModeLegacy})
		}), engine.ENOTFOUND, "")
	})
}

func TestListEventMessages(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m1 := b.message(t, f.run, f.step, engine.ChannelEmail)
		m2 := b.message(t, f.run, f.step, engine.ChannelWhatsApp, func(m *engine.Message) { m.Status = engine.MsgShadow })
		other := b.flow(t, b.b.ID)
		b.message(t, other.run, other.step, engine.ChannelEmail)
		var got []engine.Message
		must(t, b.db.ReadTx(b.ctx, func(tx *store.Tx) (err error) {
			got, err = tx.ListEventMessages(b.ctx, b.a.ID, []string{f.event.ID, other.event.ID})
			return err
		}))
		if len(got) != 2 || got[0].ID != m1.ID || got[1].ID != m2.ID || got[1].Status != engine.MsgShadow {
			raw, _ := json.Marshal(got)
			t.Fatalf("event messages %s", raw)
		}
		must(t, b.db.ReadTx(b.ctx, func(tx *store.Tx) (err error) {
			got, err = tx.ListEventMessages(b.ctx, b.a.ID, nil)
			return err
		}))
		if len(got) != 0 {
			t.Fatalf("no events, %d messages", len(got))
		}
	})
}

package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// An id that is not one of ours names nothing, on both databases, and
// asking for one leaves the transaction usable: on PostgreSQL, where ids
// are uuid (migration 0015), the server would refuse such text and abort
// the transaction, so the store's codec turns it into an id no row has.
func TestForeignIDsNameNothing(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		odd := []string{"", "no-such-lead", strings.ToUpper(l.ID), "{" + l.ID + "}", strings.ReplaceAll(l.ID, "-", ""),
			l.ID + " ", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "'; DROP TABLE leads; --"}
		must(t, b.tx(func(tx *store.Tx) error {
			for _, id := range odd {
				_, err := tx.GetLead(b.ctx, b.a.ID, id)
				wantCode(t, err, engine.ENOTFOUND, "")
				_, err = tx.GetQuote(b.ctx, b.a.ID, id)
				wantCode(t, err, engine.ENOTFOUND, "")
				_, err = tx.GetLead(b.ctx, id, l.ID)
				wantCode(t, err, engine.ENOTFOUND, "")
				// In a pipelined batch on PostgreSQL too (ListRuns reads with
				// the queued writes).
				runs, _, err := tx.ListRuns(b.ctx, b.a.ID, engine.RunFilter{QuoteID: id}, engine.Page{})
				must(t, err)
				if len(runs) != 0 {
					t.Fatalf("runs of quote %q: %d, want none", id, len(runs))
				}
			}
			// The transaction still works: the lead is there and can change.
			got, err := tx.GetLead(b.ctx, b.a.ID, l.ID)
			if err != nil {
				return err
			}
			got.FirstName = "Beatriz"
			return tx.UpdateLead(b.ctx, got, got.Version)
		}))
		got, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		equal(t, "first name after the transaction", got.FirstName, "Beatriz")
		gq, err := b.db.GetQuote(b.ctx, b.a.ID, q.ID)
		must(t, err)
		equal(t, "the quote, read back by its id", gq.ID, q.ID)

	})
}

// Rows written before migration 0015 read back the same after it, with
// their references still enforced, and on PostgreSQL every id column of
// ours but the listed few is uuid.
func TestUUIDMigrationKeepsRows(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openUnmigrated(t, d)
			db.UseSecretKeys(storetest.Keyring(t))
			v, err := store.MigrationVersion(d, "uuid_ids")
			must(t, err)
			must(t, db.MigrateUpTo(ctx, v-1))

			b := &bundle{ctx: ctx, db: db}
			key := &engine.APIKey{Role: engine.RoleAdmin, SecretHash: []byte("h")}
			tn := &engine.Tenant{Name: "Acme Roofing", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine}
			must(t, db.CreateTenant(ctx, tn, key))
			l := b.lead(t, tn.ID)
			q := b.quote(t, l)
			change := &engine.ModeChange{TenantID: tn.ID, From: engine.ModeEngine, To: engine.ModeShadow}
			must(t, db.Tx(ctx, func(tx *store.Tx) error { return tx.InsertModeChange(ctx, change) }))

			must(t, db.Migrate(ctx))

			gotKey, err := db.GetAPIKey(ctx, key.ID)
			must(t, err)
			equal(t, "the key's tenant", gotKey.TenantID, tn.ID)
			gotLead, err := db.GetLead(ctx, tn.ID, l.ID)
			must(t, err)
			equal(t, "the lead", gotLead, l)
			gotQuote, err := db.GetQuote(ctx, tn.ID, q.ID)
			must(t, err)
			equal(t, "the quote", gotQuote, q)
			var changes []engine.ModeChange
			must(t, db.Tx(ctx, func(tx *store.Tx) error {
				changes, _, err = tx.ListModeChanges(ctx, tn.ID, engine.Page{})
				return err
			}))
			if len(changes) != 1 || changes[0].ID != change.ID || changes[0].APIKeyID != "" {
				t.Fatalf("mode changes %+v, want the one made, by no key", changes)
			}
			// The foreign keys were made again: deleting the lead takes its quote.
			must(t, db.DeleteLead(ctx, tn.ID, l.ID))
			_, err = db.GetQuote(ctx, tn.ID, q.ID)
			wantCode(t, err, engine.ENOTFOUND, "")

			if d != store.DialectPostgres {
				return
			}
			n, err := db.RawInt(ctx, `SELECT count(*) FROM information_schema.columns
				WHERE table_schema = current_schema() AND data_type = 'uuid'`)
			must(t, err)
			if n < 60 {
				t.Errorf("%d uuid columns, want every id column of ours", n)
			}
			left, err := db.RawString(ctx, `SELECT COALESCE(string_agg(table_name || '.' || column_name, ', ' ORDER BY table_name, column_name), '')
				FROM information_schema.columns
				WHERE table_schema = current_schema() AND data_type = 'text' AND table_name NOT LIKE 'river%'
				  AND (column_name = 'id' OR column_name LIKE '%\_id')
				  AND column_name NOT IN ('wa_id', 'context_id', 'phone_number_id', 'provider_message_id', 'step_id')`)
			must(t, err)
			equal(t, "id columns still text", left, "alerts.rule_id, consent_changes.workflow_id, inbound_messages.workflow_id, "+
				"stats_attempt_rollups.workflow_id, stats_message_rollups.workflow_id, stats_reply_rollups.workflow_id, "+
				"tenant_mode_changes.api_key_id")
		})
	}
}

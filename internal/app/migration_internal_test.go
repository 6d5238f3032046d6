package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestModeChangeWaitsForApply checks that there is no window in which a
// mode change and a migration's apply interleave: the apply holds the
// tenant's row (on SQLite, the one connection) until it commits, a PATCH of
// the mode made meanwhile waits for it, then succeeds, recorded after the
// apply.
func TestModeChangeWaitsForApply(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			a := New(db, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			tn := &engine.Tenant{Name: "Acme", Timezone: "UTC"}
			if _, _, err := a.CreateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			err := a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"email"},
				Email: &engine.EmailContent{Subject: "Quote {{ quote.number }}", Text: "Hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := a.PreviewMigration(ctx, tn.ID, PreviewRequest{})
			if err != nil {
				t.Fatal(err)
			}

			locked, release := make(chan struct{}), make(chan struct{})
			a.applyHook = func() { close(locked); <-release }
			applied := make(chan error, 1)
			go func() {
				_, err := a.ApplyMigration(ctx, tn.ID, "key-apply", p.ID)
				applied <- err
			}()
			<-locked
			waitsBefore := db.SQL().Stats().WaitCount
			changed := make(chan error, 1)
			go func() {
				t2, err := a.GetTenant(ctx, tn.ID)
				if err != nil {
					changed <- err
					return
				}
				t2.Mode = engine.ModeShadow
				changed <- a.UpdateTenantAs(ctx, "key-mode", t2, 0)
			}()
			waitingFor(t, db, waitsBefore)
			select {
			case err := <-changed:
				t.Fatalf("the mode change finished while the apply held the tenant: %v", err)
			default:
			}
			close(release)
			if err := <-applied; err != nil {
				t.Fatalf("apply: %v", err)
			}
			if err := <-changed; err != nil {
				t.Fatalf("mode change: %v", err)
			}
			var changes []engine.ModeChange
			if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) {
				changes, _, err = tx.ListModeChanges(ctx, tn.ID, engine.Page{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			again, err := a.PreviewMigration(ctx, tn.ID, PreviewRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 1 || changes[0].APIKeyID != "key-mode" || !again.Applied || changes[0].ChangedAt.Before(again.Result.AppliedAt) {
				t.Fatalf("changes %+v, preview applied %v at %v", changes, again.Applied, again.Result)
			}
		})
	}
}

// waitingFor returns once a second transaction waits for the one holding
// the tenant: on PostgreSQL a backend waits on a lock taken by
// LockTenantMode; on SQLite a request waits for the one connection.
func waitingFor(t *testing.T, db *store.DB, sqliteWaitsBefore int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting bool
		if db.Dialect() == store.DialectPostgres {
			var n int
			err := db.SQL().QueryRowContext(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT mode FROM tenants WHERE id = $1 FOR UPDATE%'
				AND cardinality(pg_blocking_pids(pid)) > 0`).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			waiting = n > 0
		} else {
			waiting = db.SQL().Stats().WaitCount > sqliteWaitsBefore
		}
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the mode change never waited for the apply")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMigrationBadInput covers the use cases' refusals: nothing to migrate,
// a malformed or unknown preview id, settings changed since the preview;
// none of them writes a workflow or a rule.
func TestMigrationBadInput(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			a := New(db, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			tn := &engine.Tenant{Name: "Acme", Timezone: "UTC"}
			if _, _, err := a.CreateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			field := func(err error, code engine.Code) string {
				t.Helper()
				e, ok := err.(*engine.Error)
				if !ok || e.Code != code || len(e.Fields) == 0 {
					t.Fatalf("got %v, want %s with a field", err, code)
				}
				return e.Fields[0].Field
			}
			_, err := a.PreviewMigration(ctx, tn.ID, PreviewRequest{})
			if f := field(err, engine.EINVALID); f != "legacy_settings" {
				t.Fatalf("no settings: %s", f)
			}
			_, err = a.ApplyMigration(ctx, tn.ID, "", "not-an-id")
			if f := field(err, engine.EINVALID); f != "body.preview_id" {
				t.Fatalf("malformed: %s", f)
			}
			_, err = a.ApplyMigration(ctx, tn.ID, "", "0190a6f0-0000-7000-8000-000000000000")
			if f := field(err, engine.ENOTFOUND); f != "body.preview_id" {
				t.Fatalf("unknown: %s", f)
			}
			set := engine.LegacySetting{Enabled: true, Channels: []string{"email"}, Email: &engine.EmailContent{Subject: "s", Text: "t"}}
			if err := a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{engine.TriggerSent: set}); err != nil {
				t.Fatal(err)
			}
			p, err := a.PreviewMigration(ctx, tn.ID, PreviewRequest{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.PreviewMigration(ctx, tn.ID, PreviewRequest{QuoteID: "q"})
			if f := field(err, engine.EINVALID); f != "body.quote_id" {
				t.Fatalf("quote without lead: %s", f)
			}
			if err := a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{engine.TriggerExpired: set}); err != nil {
				t.Fatal(err)
			}
			_, err = a.ApplyMigration(ctx, tn.ID, "", p.ID)
			if f := field(err, engine.ECONFLICT); f != "body.preview_id" {
				t.Fatalf("stale: %s", f)
			}
			if err := a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{}); err != nil {
				t.Fatal(err)
			}
			_, err = a.ApplyMigration(ctx, tn.ID, "", p.ID)
			if code := engine.ErrorCode(err); code != engine.ECONFLICT && code != engine.EINVALID {
				t.Fatalf("apply with the settings gone: %v", err)
			}
			rules, err := a.ListRules(ctx, tn.ID)
			if err != nil || len(rules) != 0 {
				t.Fatalf("refusals wrote rules: %v %v", rules, err)
			}
		})
	}
}

// TestConcurrentAppliesCreateOnce applies one preview from two goroutines
// at once: one creates, the other answers with what it created.
func TestConcurrentAppliesCreateOnce(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			a := New(db, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			tn := &engine.Tenant{Name: "Acme", Timezone: "UTC"}
			if _, _, err := a.CreateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			set := engine.LegacySetting{Enabled: true, Channels: []string{"email"}, Email: &engine.EmailContent{Subject: "s", Text: "t"}}
			if err := a.PutLegacySettings(ctx, tn.ID, engine.LegacySettings{engine.TriggerSent: set, engine.TriggerExpired: set}); err != nil {
				t.Fatal(err)
			}
			p, err := a.PreviewMigration(ctx, tn.ID, PreviewRequest{})
			if err != nil {
				t.Fatal(err)
			}
			results := make(chan *MigrationResult, 2)
			errs := make(chan error, 2)
			for range 2 {
				go func() {
					r, err := a.ApplyMigration(ctx, tn.ID, "", p.ID)
					results <- r
					errs <- err
				}()
			}
			var replayed int
			var created []string
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
				r := <-results
				if r.Replayed {
					replayed++
				}
				created = append(created, r.Created[0].RuleID)
			}
			rules, err := a.ListRules(ctx, tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			if replayed != 1 || created[0] != created[1] || len(rules) != 2 {
				t.Fatalf("replayed %d, created %v, %d rules", replayed, created, len(rules))
			}
		})
	}
}

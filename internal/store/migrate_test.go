package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openUnmigrated(t, d)
			equal(t, "dialect", db.Dialect(), d)

			before, err := db.MigrationStatus(ctx)
			must(t, err)
			if len(before) == 0 {
				t.Fatal("no migrations listed")
			}
			for _, m := range before {
				if m.Applied {
					t.Fatalf("fresh database reports %s %d applied", m.Component, m.Version)
				}
			}

			must(t, db.Migrate(ctx))
			after, err := db.MigrationStatus(ctx)
			must(t, err)
			components := map[string]int{}
			for _, m := range after {
				components[m.Component]++
				if !m.Applied {
					t.Fatalf("%s migration %d (%s) not applied", m.Component, m.Version, m.Name)
				}
				if m.Component == "quoteflow" && m.AppliedAt.IsZero() {
					t.Fatalf("migration %d has no applied time", m.Version)
				}
			}
			if components["quoteflow"] == 0 || components["river"] == 0 {
				t.Fatalf("status lists %v, want quoteflow's and River's migrations", components)
			}

			// Again: nothing to do, nothing changes.
			must(t, db.Migrate(ctx))
			again, err := db.MigrationStatus(ctx)
			must(t, err)
			equal(t, "status after a second Migrate", again, after)
			n, err := db.RawInt(ctx, `SELECT count(*) FROM schema_migrations`)
			must(t, err)
			if n != int64(components["quoteflow"]) {
				t.Fatalf("schema_migrations has %d rows, want %d", n, components["quoteflow"])
			}
			// River's tables are where ours are (on PostgreSQL, the
			// test's schema).
			_, err = db.RawInt(ctx, `SELECT count(*) FROM river_job`)
			must(t, err)
		})
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.URL(t, d)
			// Two processes starting at once both migrate.
			var dbs [2]*store.DB
			for i := range dbs {
				db, err := store.Open(ctx, url, nil)
				must(t, err)
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			errs := make(chan error, len(dbs))
			for _, db := range dbs {
				go func() { errs <- db.Migrate(ctx) }()
			}
			for range dbs {
				must(t, <-errs)
			}
		})
	}
}

func TestOpenSQLiteForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"sqlite://" + filepath.Join(dir, "b.db"),
		filepath.Join(dir, "c.db"),
	} {
		db, err := store.Open(ctx, dsn, nil)
		must(t, err)
		equal(t, dsn+" dialect", db.Dialect(), store.DialectSQLite)
		if db.PgxPool() != nil {
			t.Fatal("SQLite has no pgx pool")
		}
		// The pragmas hold on the connection every query uses.
		for pragma, want := range map[string]string{
			"foreign_keys": "1", "journal_mode": "wal", "synchronous": "2", "busy_timeout": "5000",
		} {
			var got string
			must(t, db.SQL().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
			if !strings.EqualFold(got, want) {
				t.Errorf("%s: PRAGMA %s = %s, want %s", dsn, pragma, got, want)
			}
		}
		must(t, db.Close())
	}
}

func TestOpenPostgresExposesPool(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		if d != store.DialectPostgres {
			continue
		}
		db := storetest.Open(t, d)
		if db.PgxPool() == nil {
			t.Fatal("PostgreSQL must expose its pgx pool for River")
		}
		must(t, db.PgxPool().Ping(context.Background()))
	}
}

// TestRunsQuoteStatusIndex checks migration 2: runs_quote_status exists and
// replaces runs_quote, SQLite answers ListActiveRuns with it, in order and
// without reading the tenant's other active runs, and the answer is right.
func TestRunsQuoteStatusIndex(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		indexes := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND name = ?`
		if b.db.Dialect() == store.DialectPostgres {
			indexes = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'runs' AND indexname = ?`
		}
		for name, want := range map[string]int64{"runs_quote_status": 1, "runs_quote": 0, "runs_status": 1} {
			n, err := b.db.RawInt(b.ctx, indexes, name)
			must(t, err)
			if n != want {
				t.Errorf("index %s: %d, want %d", name, n, want)
			}
		}

		if b.db.Dialect() == store.DialectSQLite {
			rows, err := b.db.SQL().QueryContext(b.ctx, `EXPLAIN QUERY PLAN `+store.ListActiveRunsQuery,
				b.a.ID, "q", string(engine.RunActive))
			must(t, err)
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				must(t, rows.Scan(&id, &parent, &unused, &detail))
				plan = append(plan, detail)
			}
			must(t, rows.Err())
			must(t, rows.Close())
			want := []string{"SEARCH runs USING INDEX runs_quote_status (tenant_id=? AND quote_id=? AND status=?)"}
			equal(t, "plan of ListActiveRuns", plan, want)
		}

		// Active runs on other quotes of the tenant, finished runs on
		// this one, and another tenant's run: only this quote's active
		// runs come back, oldest first.
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		l := b.lead(t, b.a.ID)
		q, other := b.quote(t, l), b.quote(t, l)
		e, eOther := b.event(t, q), b.event(t, other)
		var want []engine.Run
		for i := range 6 {
			b.run(t, eOther, w)
			if i%2 == 0 {
				want = append(want, *b.run(t, e, w))
			} else {
				b.run(t, e, w, func(r *engine.Run) { r.Status = engine.RunCompleted })
			}
		}
		b.run(t, b.event(t, b.quote(t, b.lead(t, b.b.ID))), b.workflow(t, b.b.ID, engine.TriggerSent))
		must(t, b.tx(func(tx *store.Tx) error {
			got, err := tx.ListActiveRuns(b.ctx, b.a.ID, q.ID)
			must(t, err)
			equal(t, "active runs of the quote", got, want)
			got, err = tx.ListActiveRuns(b.ctx, b.b.ID, q.ID)
			must(t, err)
			equal(t, "another tenant's view", got, []engine.Run(nil))
			return nil
		}))
	})
}

// openUnmigrated opens a fresh database of dialect for t, with no
// migration applied.
func openUnmigrated(t *testing.T, dialect string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), storetest.URL(t, dialect), slog.New(slog.DiscardHandler))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

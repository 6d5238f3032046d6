package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.URL(t, d), slog.New(slog.DiscardHandler))
			must(t, err)
			t.Cleanup(func() { db.Close() })
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

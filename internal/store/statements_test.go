package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The statement counter behind quoteflow bench's statements per action
// sees every statement of a transaction on PostgreSQL (begin, each read,
// commit, one round trip each) and is not used on SQLite, which runs in
// the process.
func TestStatementCounter(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			c := &store.StatementCounter{}
			db, err := store.OpenWith(ctx, storetest.URL(t, d), slog.New(slog.DiscardHandler), store.OpenOptions{Statements: c})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			before, trips := c.Statements(), c.RoundTrips()
			err = db.ReadTx(ctx, func(tx *store.Tx) error {
				for range 2 {
					if _, _, err := tx.ListLeads(ctx, "00000000-0000-7000-8000-000000000000", engine.Page{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, gotTrips := c.Statements()-before, c.RoundTrips()-trips
			if d == store.DialectSQLite {
				if got != 0 {
					t.Fatalf("SQLite counted %d statements; the counter is PostgreSQL's", got)
				}
				return
			}
			// BEGIN, two SELECTs, COMMIT; a statement's first use on a
			// connection may add a prepare's round trip.
			if got != 4 || gotTrips < 4 || gotTrips > 6 {
				t.Fatalf("a read transaction of two queries: %d statements in %d round trips, want 4 in 4 to 6", got, gotTrips)
			}
		})
	}
}

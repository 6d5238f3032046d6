package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// countedDB is a migrated database of dialect d whose statements c counts.
func countedDB(t *testing.T, d string) (*store.DB, *store.StatementCounter) {
	t.Helper()
	c := &store.StatementCounter{}
	db, err := store.OpenWith(context.Background(), storetest.URL(t, d), slog.New(slog.DiscardHandler), store.OpenOptions{Statements: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, c
}

// The statement counter behind quoteflow bench's statements per action
// sees every statement of a transaction on PostgreSQL (begin, each read,
// commit, one round trip each) and is not used on SQLite, which runs in
// the process.
func TestStatementCounter(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db, c := countedDB(t, d)
			before, trips := c.Statements(), c.RoundTrips()
			err := db.ReadTx(ctx, func(tx *store.Tx) error {
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

// TestReadsTravelWithQueuedWrites: on PostgreSQL a read or a list inside
// a read-write transaction goes in one batch with the writes queued before
// it (and the BEGIN), rather than after a round trip of their own; on both
// databases each read sees what was queued before it.
func TestReadsTravelWithQueuedWrites(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) { readsTravelWithQueuedWrites(t, d) })
	}
}

func readsTravelWithQueuedWrites(t *testing.T, d string) {
	ctx := context.Background()
	db, c := countedDB(t, d)
	tn := &engine.Tenant{Name: "Acme", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine}
	if err := db.CreateTenant(ctx, tn, nil); err != nil {
		t.Fatal(err)
	}
	l := &engine.Lead{TenantID: tn.ID, FirstName: "Ana", Email: "ana@example.com"}
	if err := db.CreateLead(ctx, l); err != nil {
		t.Fatal(err)
	}
	q := &engine.Quote{TenantID: tn.ID, LeadID: l.ID, Number: "Q-1", AmountMinor: 100, Currency: "EUR",
		Status: engine.QuoteDraft, Revision: 1, PublicToken: "token-reads-travel"}
	if err := db.CreateQuote(ctx, q); err != nil {
		t.Fatal(err)
	}
	// Twice: the first time a connection meets a statement, pgx prepares
	// it in a round trip of its own; the second run counts what stays.
	var stmts, trips int64
	for i := range 2 {
		before, tripsBefore := c.Statements(), c.RoundTrips()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			got, err := tx.GetQuote(ctx, tn.ID, q.ID)
			if err != nil {
				return err
			}
			got.Status = engine.QuoteSent
			if err := tx.QueueQuoteUpdate(ctx, got); err != nil {
				return err
			}
			again, err := tx.GetQuote(ctx, tn.ID, q.ID)
			if err != nil {
				return err
			}
			if again.Version != got.Version {
				t.Errorf("round %d: the read after the queued update saw version %d, want %d", i, again.Version, got.Version)
			}
			leads, _, err := tx.ListLeads(ctx, tn.ID, engine.Page{})
			if err != nil || len(leads) != 1 {
				t.Errorf("round %d: list in the transaction: %d leads, %v", i, len(leads), err)
			}
			got.Status = engine.QuoteDraft
			return tx.QueueQuoteUpdate(ctx, got)
		})
		if err != nil {
			t.Fatal(err)
		}
		stmts, trips = c.Statements()-before, c.RoundTrips()-tripsBefore
	}
	if d == store.DialectSQLite {
		if stmts != 0 {
			t.Fatalf("SQLite counted %d statements; the counter is PostgreSQL's", stmts)
		}
		return
	}
	// BEGIN with the first read; the queued update with the second read;
	// the list; the last update with the COMMIT: 7 statements, 4 round
	// trips. Sent alone, each read after a queued write took two (the
	// writes, then the read).
	if stmts != 7 || trips != 4 {
		t.Fatalf("a transaction of read, queued update, read, list, queued update: %d statements in %d round trips, want 7 in 4", stmts, trips)
	}
}

package store_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestStmtCacheReuse runs the same queries many times in and out of
// transactions: the answers stay right, a rollback leaves the cached
// statements usable, and on SQLite each text is prepared once and then
// reused, so the cache stops growing.
func TestStmtCacheReuse(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		sqlite := b.db.Dialect() == store.DialectSQLite
		const (
			count  = `SELECT count(*) FROM leads WHERE tenant_id = ? AND first_name = ?`
			ids    = `SELECT length(first_name) FROM leads WHERE tenant_id = ? AND first_name = ? ORDER BY id`
			update = `UPDATE leads SET stage = ? WHERE tenant_id = ? AND first_name = ?`
			// Used inside transactions only.
			txOnly = `SELECT count(*) FROM leads WHERE tenant_id = ? AND last_name = ?`
		)
		check := func(what string, got, want int64, err error) {
			t.Helper()
			must(t, err)
			if got != want {
				t.Fatalf("%s: got %d, want %d", what, got, want)
			}
		}
		round := func(want int64) {
			t.Helper()
			n, err := b.db.QueryInt(b.ctx, count, b.a.ID, "Ana")
			check("count outside a transaction", n, want, err)
			n, err = b.db.QueryInt(b.ctx, count, b.b.ID, "Ana")
			check("other tenant's count", n, 1, err)
			must(t, b.tx(func(tx *store.Tx) error {
				// Twice in one transaction, and interleaved with others.
				for range 2 {
					n, err := tx.QueryInt(b.ctx, count, b.a.ID, "Ana")
					check("count in a transaction", n, want, err)
					n, err = tx.QueryInt(b.ctx, txOnly, b.a.ID, "Silva")
					check("count by last name", n, want, err)
					rows, err := tx.QueryInts(b.ctx, ids, b.a.ID, "Ana")
					check("rows", int64(len(rows)), want, err)
					n, err = tx.Exec(b.ctx, update, "stage "+strconv.FormatInt(want, 10), b.a.ID, "Ana")
					check("rows updated", n, want, err)
				}
				return nil
			}))
		}

		b.lead(t, b.b.ID) // the other tenant's one lead, in every round
		b.lead(t, b.a.ID)
		round(1)
		// Every text of a round, and of creating a lead, has been seen once.
		before := b.db.CachedStmts()
		if sqlite {
			for _, q := range []string{count, ids, update, txOnly} {
				if !b.db.StmtCached(q) {
					t.Fatalf("not cached after use: %s", q)
				}
			}
		}
		const rounds = 20
		for i := range rounds {
			b.lead(t, b.a.ID)
			round(int64(i + 2))
		}
		want := int64(rounds + 1)

		// A rolled-back transaction that used the cached statements leaves
		// them working, and its writes gone.
		rollback := errors.New("roll back")
		err := b.tx(func(tx *store.Tx) error {
			must(t, tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: "Ana", LastName: "Silva"}))
			n, err := tx.QueryInt(b.ctx, count, b.a.ID, "Ana")
			check("count of the transaction's own write", n, want+1, err)
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("got %v, want the rollback", err)
		}
		round(want)

		got := b.db.CachedStmts()
		if !sqlite {
			if got != 0 {
				t.Fatalf("PostgreSQL cached %d statements; pgx caches them", got)
			}
			return
		}
		if got != before {
			t.Fatalf("cache grew from %d to %d statements running the same texts again", before, got)
		}
	})
}

// TestStmtCacheConcurrent runs cached statements from many goroutines at
// once, in and out of transactions, for the race detector.
func TestStmtCacheConcurrent(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		for range 3 {
			b.lead(t, b.a.ID)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					// Half the goroutines share texts, half have their own.
					q := fmt.Sprintf(`SELECT count(*) + %d FROM leads WHERE tenant_id = ?`, g%4)
					var n int64
					var err error
					if i%2 == 0 {
						n, err = b.db.QueryInt(b.ctx, q, b.a.ID)
					} else {
						err = b.tx(func(tx *store.Tx) error {
							n, err = tx.QueryInt(b.ctx, q, b.a.ID)
							return err
						})
					}
					if err == nil && n != int64(3+g%4) {
						err = fmt.Errorf("goroutine %d: got %d, want %d", g, n, 3+g%4)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestStmtCacheFailures checks that a statement that fails to prepare is
// not cached, returns the same error as without the cache every time, and
// is prepared once it can be; and that errors translated from constraint
// violations are the same whether the statement was cached or not.
func TestStmtCacheFailures(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		const missing = `SELECT count(*) FROM not_yet WHERE tenant_id = ?`
		_, uncached := b.db.RawInt(b.ctx, missing, b.a.ID)
		if uncached == nil {
			t.Fatal("a query of a missing table succeeded")
		}
		size := b.db.CachedStmts()
		for range 3 {
			_, err := b.db.QueryInt(b.ctx, missing, b.a.ID)
			if err == nil || err.Error() != uncached.Error() {
				t.Fatalf("outside a transaction: got %v, want %v", err, uncached)
			}
			err = b.tx(func(tx *store.Tx) error {
				_, err := tx.QueryInt(b.ctx, missing, b.a.ID)
				return err
			})
			if err == nil || err.Error() != uncached.Error() {
				t.Fatalf("in a transaction: got %v, want %v", err, uncached)
			}
		}
		if b.db.StmtCached(missing) || b.db.CachedStmts() != size {
			t.Fatal("a statement that failed to prepare was cached")
		}

		must(t, b.db.RawExec(b.ctx, `CREATE TABLE not_yet (tenant_id TEXT)`))
		must(t, b.db.RawExec(b.ctx, `INSERT INTO not_yet (tenant_id) VALUES (?)`, b.a.ID))
		n, err := b.db.QueryInt(b.ctx, missing, b.a.ID)
		must(t, err)
		equal(t, "count once the table exists", n, int64(1))
		if b.db.Dialect() == store.DialectSQLite && !b.db.StmtCached(missing) {
			t.Fatal("the statement was not cached once it prepared")
		}

		// The same violation, first sent as text and then cached: the
		// same translated error.
		l := b.lead(t, b.a.ID)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		e := b.event(t, b.quote(t, l))
		var first string
		for i := range 3 {
			r := &engine.Run{TenantID: b.a.ID, EventID: e.ID, LeadID: l.ID, WorkflowID: w.ID, WorkflowVersion: 99,
				Trigger: engine.TriggerSent, Status: engine.RunActive}
			err := b.tx(func(tx *store.Tx) error { return tx.InsertRun(b.ctx, r) })
			wantCode(t, err, engine.EINVALID, "")
			if i == 0 {
				first = err.Error()
			} else if err.Error() != first {
				t.Fatalf("try %d: got %q, first %q", i, err, first)
			}
		}
	})
}

// TestStmtCacheBounded checks that distinct texts past the bound are run
// unprepared and correctly, and that the cache does not grow past it.
func TestStmtCacheBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, store.DialectSQLite)
	for i := range store.MaxCachedStmts + 50 {
		n, err := b.db.QueryInt(b.ctx, `SELECT ? + `+strconv.Itoa(i), 1)
		must(t, err)
		equal(t, "sum", n, int64(i+1))
	}
	if got := b.db.CachedStmts(); got != store.MaxCachedStmts {
		t.Fatalf("cache holds %d statements, want the bound %d", got, store.MaxCachedStmts)
	}
	// Cached statements still answer.
	n, err := b.db.QueryInt(b.ctx, `SELECT ? + 0`, 7)
	must(t, err)
	equal(t, "cached sum", n, int64(7))
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestLoadQuoteActionReadsWhatAnActionNeeds: one call returns the locked
// quote, its tenant and lead, the first event of the same action on the
// quote's revision (found by the key built in SQL, so it proves DedupeKey
// and its SQL mirror agree), the event of the request's Idempotency-Key and
// the quote's active runs; another tenant's quote is not found.
func TestLoadQuoteActionReadsWhatAnActionNeeds(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		first := b.event(t, q, func(e *engine.Event) {
			e.DedupeKey = store.DedupeKey(q.ID, engine.ActionSend, q.Revision)
			e.IdempotencyKey = "req-1"
		})
		// A duplicate under the same key is not "the first".
		b.event(t, q, func(e *engine.Event) {
			e.DedupeKey, e.Duplicate, e.IdempotencyKey = first.DedupeKey, true, "req-2"
		})
		run := b.run(t, first, w)
		b.run(t, first, w, func(r *engine.Run) { r.Status = engine.RunCompleted })

		var st *store.ActionState
		must(t, b.tx(func(tx *store.Tx) (err error) {
			st, err = tx.LoadQuoteAction(b.ctx, b.a.ID, q.ID, engine.ActionSend, "req-2")
			return err
		}))
		if st.Quote.ID != q.ID || st.Quote.Version != q.Version || st.Quote.Revision != q.Revision {
			t.Errorf("quote %+v, want %s at version %d", st.Quote, q.ID, q.Version)
		}
		if st.Tenant.ID != b.a.ID || st.Tenant.Name != b.a.Name {
			t.Errorf("tenant %+v, want %s", st.Tenant, b.a.ID)
		}
		if st.Lead.ID != l.ID || st.Lead.Email != l.Email {
			t.Errorf("lead %+v, want %s", st.Lead, l.ID)
		}
		if st.First == nil || st.First.ID != first.ID {
			t.Errorf("first event %+v, want %s (key %s)", st.First, first.ID, first.DedupeKey)
		}
		if st.Replay == nil || st.Replay.IdempotencyKey != "req-2" {
			t.Errorf("replay %+v, want the event of req-2", st.Replay)
		}
		if len(st.ActiveRuns) != 1 || st.ActiveRuns[0].ID != run.ID {
			t.Errorf("active runs %+v, want only %s", st.ActiveRuns, run.ID)
		}

		// Another revision is another business event; no key, no replay.
		must(t, b.tx(func(tx *store.Tx) (err error) {
			st, err = tx.LoadQuoteAction(b.ctx, b.a.ID, q.ID, engine.ActionAccept, "")
			return err
		}))
		if st.First != nil || st.Replay != nil {
			t.Errorf("accept: first %+v replay %+v, want none", st.First, st.Replay)
		}

		err := b.tx(func(tx *store.Tx) error {
			_, err := tx.LoadQuoteAction(b.ctx, b.b.ID, q.ID, engine.ActionSend, "")
			return err
		})
		wantCode(t, err, engine.ENOTFOUND, "")
	})
}

// TestQueuedWritesAreReadInTheirTransaction: a queued quote update and
// event are seen by the transaction's next read, and are durable after the
// commit, on both databases.
func TestQueuedWritesAreReadInTheirTransaction(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		version := q.Version
		var e *engine.Event
		must(t, b.tx(func(tx *store.Tx) error {
			st, err := tx.LoadQuoteAction(b.ctx, b.a.ID, q.ID, engine.ActionSend, "")
			if err != nil {
				return err
			}
			st.Quote.Status = engine.QuoteSent
			if err := tx.QueueQuoteUpdate(b.ctx, st.Quote); err != nil {
				return err
			}
			e = &engine.Event{TenantID: q.TenantID, LeadID: q.LeadID, QuoteID: q.ID, Trigger: engine.TriggerSent,
				Action: engine.ActionSend, DedupeKey: store.DedupeKey(q.ID, engine.ActionSend, q.Revision),
				Decision: engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceFallback, Reason: engine.ReasonFallbackNoneByDesign}}
			if err := tx.QueueEvent(b.ctx, e); err != nil {
				return err
			}
			got, err := tx.GetQuote(b.ctx, b.a.ID, q.ID)
			if err != nil {
				return err
			}
			if got.Status != engine.QuoteSent || got.Version != version+1 {
				t.Errorf("in the transaction: status %s version %d, want sent at %d", got.Status, got.Version, version+1)
			}
			if _, err := tx.GetEvent(b.ctx, b.a.ID, e.ID); err != nil {
				t.Errorf("the queued event is not read back: %v", err)
			}
			return nil
		}))
		got, err := b.db.GetQuote(b.ctx, b.a.ID, q.ID)
		must(t, err)
		if got.Status != engine.QuoteSent || got.Version != version+1 {
			t.Errorf("after commit: status %s version %d, want sent at %d", got.Status, got.Version, version+1)
		}
		if _, err := b.db.GetEvent(b.ctx, b.a.ID, e.ID); err != nil {
			t.Errorf("the queued event is not durable: %v", err)
		}
	})
}

// TestQueuedWriteErrorUndoesTheTransaction: a queued event whose
// Idempotency-Key is taken fails the transaction with the key's conflict,
// nothing the transaction wrote stays, whether the error surfaces at a
// later read or at the commit.
func TestQueuedWriteErrorUndoesTheTransaction(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		taken := b.event(t, q)
		for _, readAfter := range []bool{false, true} {
			t.Run(fmt.Sprint("read after: ", readAfter), func(t *testing.T) {
				err := b.tx(func(tx *store.Tx) error {
					st, err := tx.LoadQuoteAction(b.ctx, b.a.ID, q.ID, engine.ActionSend, "")
					if err != nil {
						return err
					}
					st.Quote.Status = engine.QuoteSent
					if err := tx.QueueQuoteUpdate(b.ctx, st.Quote); err != nil {
						return err
					}
					e := &engine.Event{TenantID: q.TenantID, LeadID: q.LeadID, QuoteID: q.ID, Trigger: engine.TriggerSent,
						Action: engine.ActionSend, IdempotencyKey: taken.IdempotencyKey, DedupeKey: "other",
						Decision: engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceFallback, Reason: engine.ReasonFallbackNoneByDesign}}
					if err := tx.QueueEvent(b.ctx, e); err != nil {
						return err
					}
					if readAfter {
						_, err := tx.GetQuote(b.ctx, b.a.ID, q.ID)
						return err
					}
					return nil
				})
				wantCode(t, err, engine.ECONFLICT, "header.Idempotency-Key")
				got, err := b.db.GetQuote(b.ctx, b.a.ID, q.ID)
				must(t, err)
				if got.Status != q.Status || got.Version != q.Version {
					t.Errorf("quote %s at %d after a failed transaction, want %s at %d", got.Status, got.Version, q.Status, q.Version)
				}
				if n := b.count(t, "trigger_events", b.a.ID); n != 1 {
					t.Errorf("%d events, want only the first", n)
				}
			})
		}
	})
}

// TestOnCommitRunsOnceBeforeTheCommit: the value made under a key is the
// transaction's one value, its function runs once after the transaction's
// function and its writes are part of the transaction; its error rolls
// everything back.
func TestOnCommitRunsOnceBeforeTheCommit(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		type key struct{}
		type names struct{ list []string }
		runs := 0
		hook := func(tx *store.Tx, name string, fail error) {
			v := tx.OnCommit(key{}, func() (any, func(context.Context) error) {
				n := &names{}
				return n, func(ctx context.Context) error {
					runs++
					for _, name := range n.list {
						if err := tx.CreateLead(ctx, &engine.Lead{TenantID: b.a.ID, FirstName: name}); err != nil {
							return err
						}
					}
					return fail
				}
			}).(*names)
			v.list = append(v.list, name)
		}
		must(t, b.tx(func(tx *store.Tx) error {
			hook(tx, "one", nil)
			hook(tx, "two", nil)
			if runs != 0 {
				t.Errorf("the hook ran before the transaction's function ended")
			}
			return nil
		}))
		if n := b.count(t, "leads", b.a.ID); n != 2 || runs != 1 {
			t.Fatalf("%d leads after %d runs of the hook, want the two it wrote in one run", n, runs)
		}

		boom := errors.New("boom")
		err := b.tx(func(tx *store.Tx) error {
			if err := tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: "before"}); err != nil {
				return err
			}
			hook(tx, "three", boom)
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the hook's error", err)
		}
		if n := b.count(t, "leads", b.a.ID); n != 2 {
			t.Fatalf("%d leads after a failed hook, want the 2 from before", n)
		}
	})
}

// TestBatcherQueuedWriteFailureStaysItsOwn: in a group commit, one
// caller's queued write fails at the commit; that caller gets its
// conflict, every other caller's writes are durable.
func TestBatcherQueuedWriteFailureStaysItsOwn(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		taken := b.event(t, q)
		bt := b.db.NewBatcher(1, 32)
		defer bt.Close()
		release, first := holdRunner(b, bt)
		const n = 8
		const bad = 3
		results := make([]chan error, n)
		for i := range n {
			results[i] = make(chan error, 1)
			go func() {
				results[i] <- bt.Do(b.ctx, func(tx *store.Tx) error {
					key := fmt.Sprintf("batch-%d", i)
					if i == bad {
						key = taken.IdempotencyKey
					}
					return tx.QueueEvent(b.ctx, &engine.Event{TenantID: q.TenantID, LeadID: q.LeadID, QuoteID: q.ID,
						Trigger: engine.TriggerSent, Action: engine.ActionSend, IdempotencyKey: key, DedupeKey: key,
						Decision: engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceFallback, Reason: engine.ReasonFallbackNoneByDesign}})
				})
			}()
		}
		for store.BatchPending(bt) < n {
			runtime.Gosched()
		}
		close(release)
		must(t, <-first)
		for i := range n {
			err := <-results[i]
			if i == bad {
				wantCode(t, err, engine.ECONFLICT, "header.Idempotency-Key")
			} else if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
		if got := b.count(t, "trigger_events", b.a.ID); got != n {
			t.Errorf("%d events, want the taken one and the %d good callers'", got, n-1)
		}
	})
}

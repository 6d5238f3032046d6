package store_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// holdRunner keeps bt's one runner busy with a first caller, which writes a
// lead once release is closed, so that the next callers wait together;
// first answers that caller.
func holdRunner(b *bundle, bt *store.Batcher) (release chan struct{}, first chan error) {
	started := make(chan struct{})
	release, first = make(chan struct{}), make(chan error, 1)
	go func() {
		first <- bt.Do(b.ctx, func(tx *store.Tx) error {
			close(started)
			<-release
			return tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: "First"})
		})
	}()
	<-started // the runner has made its first batch and is in it
	return release, first
}

// TestBatcherFailuresStayTheirOwn holds the one runner on a first caller
// until 20 more wait, some of which fail: each caller gets its own outcome,
// failures and a panic undone, everything else durable.
func TestBatcherFailuresStayTheirOwn(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		bt := b.db.NewBatcher(1, 32)
		defer bt.Close()
		release, first := holdRunner(b, bt)
		const n = 20
		results := make([]chan error, n)
		boom := errors.New("boom")
		for i := range n {
			results[i] = make(chan error, 1)
			go func() {
				results[i] <- bt.Do(b.ctx, func(tx *store.Tx) error {
					if err := tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: fmt.Sprint("L", i)}); err != nil {
						return err
					}
					switch {
					case i%5 == 0:
						return boom // written, then undone
					case i == 7:
						panic("worker bug")
					}
					return nil
				})
			}()
		}
		for store.BatchPending(bt) < n {
			runtime.Gosched()
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		failed := 0
		for i := range n {
			err := <-results[i]
			switch {
			case i%5 == 0:
				if !errors.Is(err, boom) {
					t.Errorf("caller %d: %v, want its own error", i, err)
				}
				failed++
			case i == 7:
				if err == nil {
					t.Errorf("caller 7 panicked and got no error")
				}
				failed++
			case err != nil:
				t.Errorf("caller %d: %v", i, err)
			}
		}
		// The first alone, then the 20 that waited together, rolled back
		// because some failed, then each of the 20 alone.
		if got := store.BatchTransactions(bt); got != 22 {
			t.Errorf("%d transactions for 21 callers, want 22", got)
		}
		if got, want := b.count(t, "leads", b.a.ID), int64(1+n-failed); got != want {
			t.Errorf("%d leads stored, want %d: every successful caller's and no failed one's", got, want)
		}
	})
}

// TestBatcherAloneIsATransaction: a caller alone in its batch gets what
// DB.Tx gives: its error undoes its writes, its success keeps them.
func TestBatcherAloneIsATransaction(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		bt := b.db.NewBatcher(2, 8)
		defer bt.Close()
		boom := errors.New("boom")
		err := bt.Do(b.ctx, func(tx *store.Tx) error {
			if err := tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: "Alone"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the function's error", err)
		}
		if n := b.count(t, "leads", b.a.ID); n != 0 {
			t.Fatalf("%d leads left behind by a failed caller", n)
		}
		if err := bt.Do(b.ctx, func(tx *store.Tx) error {
			return tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: "Kept"})
		}); err != nil {
			t.Fatal(err)
		}
		if n := b.count(t, "leads", b.a.ID); n != 1 {
			t.Fatalf("%d leads after a successful caller, want 1", n)
		}
	})
}

// TestBatcherCommitsCallersTogether holds the one runner on a first caller
// until 20 more wait, then checks that they were committed in one more
// transaction, all durable.
func TestBatcherCommitsCallersTogether(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		bt := b.db.NewBatcher(1, 32)
		defer bt.Close()
		release, first := holdRunner(b, bt)
		const n = 20
		results := make(chan error, n)
		for i := range n {
			go func() {
				results <- bt.Do(b.ctx, func(tx *store.Tx) error {
					return tx.CreateLead(b.ctx, &engine.Lead{TenantID: b.a.ID, FirstName: fmt.Sprint("L", i)})
				})
			}()
		}
		for store.BatchPending(bt) < n {
			runtime.Gosched()
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := <-results; err != nil {
				t.Error(err)
			}
		}
		if got := store.BatchTransactions(bt); got != 2 {
			t.Errorf("%d transactions for 21 callers, want 2: the first alone, then the 20 that waited", got)
		}
		if got := b.count(t, "leads", b.a.ID); got != n+1 {
			t.Errorf("%d leads stored, want %d", got, n+1)
		}
	})
}

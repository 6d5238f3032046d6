package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Batcher commits the transactions of concurrent callers together: a group
// commit. The functions of the callers waiting at one moment run in one
// transaction; if one of them fails, each runs again in a transaction of
// its own, so that a caller gets its own function's error and never
// another's. Do returns only after the transaction that ran the caller's
// function has committed, so a nil error means the caller's writes are
// durable, exactly as with DB.Tx.
//
// What it saves is the commit: under load, a queue worker's transactions
// (a step, a delivery's outcome) are short and many, and each commit is a
// flush of the log (fsync on SQLite, a WAL flush on PostgreSQL) and, on
// PostgreSQL, a transaction in pg_stat_database. Callers are never held
// back to fill a batch: a transaction starts as soon as a runner is free,
// with whatever callers are waiting at that moment, so at low load each
// batch holds one caller and costs what DB.Tx costs.
//
// Functions share the transaction's clock (Tx.Now) and its locks until the
// commit. They must not depend on running alone, and must be safe to run
// again after being rolled back, as a queue's work is: a function may run
// twice, the first time undone.
type Batcher struct {
	db   *DB
	max  int
	reqs chan *batchReq
	wg   sync.WaitGroup
	txs  atomic.Int64 // transactions begun, for tests

	// mu guards closed; Do holds it shared while handing over a function,
	// so that Close cannot close reqs under a sender.
	mu     sync.RWMutex
	closed bool
}

type batchReq struct {
	fn   func(*Tx) error
	done chan error
}

// NewBatcher starts runners goroutines, each committing up to size callers'
// functions per transaction. Close stops them.
func (db *DB) NewBatcher(runners, size int) *Batcher {
	runners, size = max(runners, 1), max(size, 1)
	b := &Batcher{db: db, max: size, reqs: make(chan *batchReq, runners*size)}
	for range runners {
		b.wg.Go(b.loop)
	}
	return b
}

// Do runs fn in a read-write transaction, shared with other callers, and
// returns fn's error, or the transaction's if it could not commit. fn should
// use the ctx of its caller for its statements; the transaction itself is
// not cancelled by any one caller's context, which would undo the others'
// work.
// If ctx ends before fn was taken up, Do returns ctx's error and fn never
// runs; once taken up, Do waits for the commit.
func (b *Batcher) Do(ctx context.Context, fn func(*Tx) error) error {
	r := &batchReq{fn: fn, done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return b.db.Tx(ctx, fn)
	}
	select {
	case b.reqs <- r:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	return <-r.done
}

// Close stops the runners once every function already handed to Do has
// been committed. Do still works afterwards, one transaction per call.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.reqs)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// GroupTx runs fn in a read-write transaction like Tx, possibly together
// with other callers' functions in one group commit (see Batcher): fn may
// run twice, the first time rolled back, so it must be safe to run again.
// The runners start with the first call and stop with Close.
func (db *DB) GroupTx(ctx context.Context, fn func(*Tx) error) error {
	db.batchOnce.Do(func() {
		// SQLite has one connection, so one runner; on PostgreSQL a few,
		// so that a batch being written does not hold up the next.
		runners := 1
		if db.dialect == DialectPostgres {
			runners = 4
		}
		db.batcher = db.NewBatcher(runners, groupSize)
	})
	if db.batcher == nil {
		return db.Tx(ctx, fn) // Close came first: no runners to hand fn to
	}
	return db.batcher.Do(ctx, fn)
}

// groupSize is the most functions GroupTx commits together. Larger groups
// save little more and hold their locks longer.
const groupSize = 32

func (b *Batcher) loop() {
	for r := range b.reqs {
		batch := []*batchReq{r}
	fill:
		for len(batch) < b.max {
			select {
			case r, ok := <-b.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.run(batch)
	}
}

// run commits one batch and answers each of its callers. Functions run one
// after the other in one transaction, without savepoints, which would cost
// two more statements each: failures are rare, so when one function fails
// the transaction is rolled back and every function of the batch runs
// again alone, each answered by its own transaction as DB.Tx would.
func (b *Batcher) run(batch []*batchReq) {
	if len(batch) > 1 {
		b.txs.Add(1)
		failed := false
		err := b.db.Tx(context.Background(), func(tx *Tx) error {
			for _, r := range batch {
				if err := safely(r.fn, tx); err != nil {
					failed = true
					return err
				}
			}
			return nil
		})
		// A queued write's error, or an OnCommit function's, surfaces at
		// the commit but belongs to one of the functions.
		if _, ok := errors.AsType[*pendingError](err); ok {
			failed = true
		}
		if err == nil || !failed {
			// Committed, or the transaction itself failed (begin, commit):
			// then no caller's work is durable, and each is told so.
			for _, r := range batch {
				r.done <- err
			}
			return
		}
	}
	for _, r := range batch {
		b.txs.Add(1)
		r.done <- b.db.Tx(context.Background(), func(tx *Tx) error { return safely(r.fn, tx) })
	}
}

// safely runs fn, turning a panic into its error: a panic must fail its own
// caller, not the runner that serves every caller.
func safely(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: batched transaction panicked: %v", p)
		}
	}()
	return fn(tx)
}

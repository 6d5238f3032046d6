package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Batcher commits the transactions of concurrent callers together: a group
// commit. Each caller's function runs in its own savepoint of one shared
// transaction, so a function that fails is undone alone and its caller gets
// its error, while the others commit. Do returns only after the shared
// transaction has committed, so a nil error means the caller's writes are
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
// commit; they must not depend on running alone, and must be safe to retry
// after an error, as a queue's work is.
type Batcher struct {
	db   *DB
	max  int
	reqs chan *batchReq
	wg   sync.WaitGroup
	txs  atomic.Int64 // transactions begun, for tests

	closeOnce sync.Once
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

// Do runs fn in a savepoint of a shared read-write transaction and returns
// fn's error, or the transaction's if it could not commit. fn should use the
// ctx of its caller for its statements; the transaction itself is not
// cancelled by any one caller's context, which would undo the others' work.
// If ctx ends before fn was taken up, Do returns ctx's error and fn never
// runs; once taken up, Do waits for the commit.
func (b *Batcher) Do(ctx context.Context, fn func(*Tx) error) error {
	r := &batchReq{fn: fn, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// Close stops the runners once every function already handed to Do has
// been committed. Do must not be called after Close.
func (b *Batcher) Close() {
	b.closeOnce.Do(func() { close(b.reqs) })
	b.wg.Wait()
}

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

// run commits one batch and answers each of its callers.
func (b *Batcher) run(batch []*batchReq) {
	ctx := context.Background()
	b.txs.Add(1)
	errs := make([]error, len(batch))
	err := b.db.Tx(ctx, func(tx *Tx) error {
		if len(batch) == 1 {
			// Alone, the transaction is the savepoint.
			errs[0] = safely(batch[0].fn, tx)
			return errs[0]
		}
		for i, r := range batch {
			if _, err := tx.exec(ctx, `SAVEPOINT batch_item`); err != nil {
				return err
			}
			if errs[i] = safely(r.fn, tx); errs[i] != nil {
				if _, err := tx.exec(ctx, `ROLLBACK TO SAVEPOINT batch_item`); err != nil {
					return err
				}
			}
			if _, err := tx.exec(ctx, `RELEASE SAVEPOINT batch_item`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, r := range batch {
		if errs[i] == nil && err != nil {
			errs[i] = err
		}
		r.done <- errs[i]
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

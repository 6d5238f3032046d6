package bench

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store"
)

// commitCeiling measures single-row insert commits per second: Concurrency
// goroutines, each inserting one row per statement outside any transaction
// (so one commit each) into a table of its own, through the pool store.Open
// builds, as quoteflow's own transactions go.
func (r *runner) commitCeiling(ctx context.Context) (*Ceiling, error) {
	ddl := `CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)`
	insert := `INSERT INTO bench_commit (v) VALUES (?)`
	if r.db.Dialect == store.DialectPostgres {
		ddl = `CREATE TABLE IF NOT EXISTS bench_commit (id BIGSERIAL PRIMARY KEY, v BIGINT NOT NULL)`
		insert = `INSERT INTO bench_commit (v) VALUES ($1)`
	}
	if err := r.exec(ctx, ddl); err != nil {
		return nil, err
	}
	before, err := r.db.Counter.read(ctx)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, r.db.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	w, cpu, rec, err := r.closedLoop(ctx, "ceiling-commit", "commits", func(context.Context, int) (func(context.Context, int) error, func(), error) {
		return func(ctx context.Context, i int) error {
			_, err := db.SQL().ExecContext(ctx, insert, i)
			return err
		}, func() {}, nil
	})
	db.Close()
	if err != nil {
		return nil, err
	}
	after, err := r.db.Counter.read(ctx)
	if err != nil {
		return nil, err
	}
	ops, errs, lat := rec.result()
	c := &Ceiling{PerSec: rate(ops, w), Ops: ops, Seconds: round3(w.seconds()), Concurrency: r.cfg.Concurrency,
		Latency: lat, CPU: cpu, Errors: errs, Commits: after.sub(before).report(r.db.Counter)}
	if n := rec.total(); n > 0 {
		c.Commits.PerOp = round3(float64(c.Commits.Total) / float64(n))
	}
	return c, nil
}

// closedLoop runs Concurrency clients through the measured window of
// phase, each calling its op again as soon as the last call returned; op's
// i counts the calls of all clients, client g making calls g, g +
// Concurrency, and so on. client makes a client's op, and what releases
// it; a client that cannot be made fails the phase if no call succeeded.
// The recorder holds each successful call's latency and the failures.
func (r *runner) closedLoop(ctx context.Context, phase, noun string,
	client func(ctx context.Context, g int) (op func(ctx context.Context, i int) error, release func(), err error)) (window, *CPU, *recorder, error) {
	var rec *recorder
	var done atomic.Int64
	var firstErr atomic.Value
	w, cpu, err := r.measure(ctx, phase, func() string { return fmt.Sprintf("%d %s", done.Load(), noun) },
		func(ctx context.Context, w window) error {
			rec = newRecorder(w)
			var wg sync.WaitGroup
			for g := range r.cfg.Concurrency {
				sh := rec.shard()
				wg.Go(func() {
					op, release, err := client(ctx, g)
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					defer release()
					for i := g; time.Now().Before(w.To) && ctx.Err() == nil; i += r.cfg.Concurrency {
						start := time.Now()
						if err := op(ctx, i); err != nil {
							sh.errs++
							continue
						}
						end := time.Now()
						sh.add(end, end.Sub(start))
						done.Add(1)
					}
				})
			}
			wg.Wait()
			return nil
		})
	if err != nil {
		return w, cpu, rec, err
	}
	if e, ok := firstErr.Load().(error); ok && done.Load() == 0 {
		return w, cpu, rec, fmt.Errorf("%s: %w", phase, e)
	}
	return w, cpu, rec, nil
}

// exec runs one statement on a connection of its own.
func (r *runner) exec(ctx context.Context, stmt string) error {
	db, err := store.Open(ctx, r.db.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.SQL().ExecContext(ctx, stmt)
	return err
}

// noopArgs is the job of the queue's ceiling; Inserted is when, in Unix
// nanoseconds.
type noopArgs struct {
	Inserted int64 `json:"inserted"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	mu   sync.Mutex
	sh   *shard
	done atomic.Int64
}

func (w *noopWorker) Work(_ context.Context, job *river.Job[noopArgs]) error {
	now := time.Now()
	w.mu.Lock()
	if w.sh != nil {
		w.sh.add(now, now.Sub(time.Unix(0, job.Args.Inserted)))
	}
	w.mu.Unlock()
	w.done.Add(1)
	return nil
}

// riverCeiling measures River no-op jobs worked per second: a River client
// configured as quoteflow's queue (MaxWorkers, FetchPollInterval and
// FetchCooldown as jobs.New sets them) with a worker that does nothing,
// and Concurrency goroutines inserting jobs one per transaction, as fast as
// they can while fewer than Backlog wait. Latency is from insert to work.
func (r *runner) riverCeiling(ctx context.Context) (*Ceiling, error) {
	before, err := r.db.Counter.read(ctx)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, r.db.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	poll := r.cfg.PollInterval // resolved to the database's default by parse
	worker := &noopWorker{}
	var rec *recorder
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	rc := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: r.cfg.Workers}},
		Workers:              workers,
		Logger:               newLogger(r.sink, slog.LevelWarn),
		FetchPollInterval:    poll,
		FetchCooldown:        jobs.FetchCooldown(poll),
		JobTimeout:           2 * time.Minute,
		RescueStuckJobsAfter: 5 * time.Minute,
	}
	var (
		start, stop func(context.Context) error
		insert      func(context.Context, river.JobArgs) error
	)
	if db.Dialect() == store.DialectPostgres {
		c, err := river.NewClient(riverpgxv5.New(db.PgxPool()), rc)
		if err != nil {
			return nil, err
		}
		start, stop = c.Start, c.Stop
		insert = func(ctx context.Context, a river.JobArgs) error { _, err := c.Insert(ctx, a, nil); return err }
	} else {
		c, err := river.NewClient(riversqlite.New(db.SQL()), rc)
		if err != nil {
			return nil, err
		}
		start, stop = c.Start, c.Stop
		insert = func(ctx context.Context, a river.JobArgs) error { _, err := c.Insert(ctx, a, nil); return err }
	}
	if err := start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	var inserted, insertErrs atomic.Int64
	w, cpu, err := r.measure(ctx, "ceiling-river", func() string {
		return fmt.Sprintf("%d jobs worked", worker.done.Load())
	}, func(ctx context.Context, w window) error {
		rec = newRecorder(w)
		worker.mu.Lock()
		worker.sh = rec.shard()
		worker.mu.Unlock()
		until := w.To
		var wg sync.WaitGroup
		for range r.cfg.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(until) && ctx.Err() == nil {
					if inserted.Load()-worker.done.Load() >= int64(r.cfg.Backlog) {
						time.Sleep(time.Millisecond)
						continue
					}
					inserted.Add(1)
					if err := insert(ctx, noopArgs{Inserted: time.Now().UnixNano()}); err != nil {
						inserted.Add(-1)
						insertErrs.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return nil
	})
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	stopErr := stop(stopCtx)
	cancel()
	db.Close()
	if err != nil {
		return nil, err
	}
	if stopErr != nil {
		return nil, fmt.Errorf("stop river: %w", stopErr)
	}
	after, err := r.db.Counter.read(ctx)
	if err != nil {
		return nil, err
	}
	ops, _, lat := rec.result()
	c := &Ceiling{PerSec: rate(ops, w), Ops: ops, Seconds: round3(w.seconds()), Concurrency: r.cfg.Concurrency,
		Latency: lat, CPU: cpu, Errors: insertErrs.Load(), Commits: after.sub(before).report(r.db.Counter)}
	if n := worker.done.Load(); n > 0 {
		c.Commits.PerOp = round3(float64(c.Commits.Total) / float64(n))
	}
	return c, nil
}

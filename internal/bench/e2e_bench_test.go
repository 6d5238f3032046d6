package bench

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The Go benchmarks of issue 3: quote actions per second through HTTP and
// messages delivered per second end to end to the log provider, on SQLite
// and, when TEST_DATABASE_URL is set, on PostgreSQL. They drive the same
// code as `quoteflow bench` (prepare, startStack, actions) with b.N actions;
// -benchtime 2000x or more gives stable figures. Each reports its rate and
// the database commits per operation (the SQLite commit hook; on
// PostgreSQL pg_stat_database.xact_commit of the whole database, exact only
// when nothing else runs on it).
//
//	go test ./internal/bench -run XXX -bench . -benchtime 3000x
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test go test ./internal/bench -run XXX -bench . -benchtime 3000x

// benchConcurrency is the number of HTTP clients, as quoteflow bench's
// default.
const benchConcurrency = 16

// benchHistory is the past quote sends written before a benchmark, as
// quoteflow bench's --history does, so that PostgreSQL plans its
// statements on tables in use (see seedHistory).
const benchHistory = 2000

// benchDatabase is a fresh migrated database for one benchmark run, with a
// history: a SQLite file, or a schema on TEST_DATABASE_URL (storetest),
// with its commit counter.
func benchDatabase(b *testing.B, dialect string) *database {
	b.Helper()
	ctx := context.Background()
	u := storetest.URL(b, dialect)
	d := &database{Dialect: dialect, URL: u}
	if dialect == store.DialectSQLite {
		c, stop := countSQLite(strings.TrimPrefix(u, "sqlite:"))
		b.Cleanup(stop)
		d.Counter = c
	} else {
		pu, err := url.Parse(u)
		if err != nil {
			b.Fatal(err)
		}
		appName := "qfbench_" + randomHex(6)
		q := pu.Query()
		q.Set("application_name", appName)
		pu.RawQuery = q.Encode()
		d.URL = pu.String()
		base, _ := url.Parse(os.Getenv(storetest.EnvURL))
		d.Counter = &pgCounter{adminURL: base.String(), datname: strings.TrimPrefix(base.Path, "/"), appName: appName}
	}
	if err := d.migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := seedHistory(ctx, d.URL, benchHistory); err != nil {
		b.Fatal(err)
	}
	return d
}

// benchRun is what both end-to-end benchmarks set up: a fresh database with
// b.N quotes, its commit count before the run, and the stack with its HTTP
// clients.
type benchRun struct {
	db     *database
	before commitCount
	st     *stack
	act    *actions
}

func setupBench(ctx context.Context, b *testing.B, dialect string, queue queueMode) *benchRun {
	b.Helper()
	r := &benchRun{db: benchDatabase(b, dialect)}
	f, err := prepare(ctx, r.db.URL, fixtureOptions{Quotes: b.N})
	if err != nil {
		b.Fatal(err)
	}
	if r.before, err = r.db.Counter.read(ctx); err != nil {
		b.Fatal(err)
	}
	// The queue as serve runs it: 50 workers, the database's default poll.
	if r.st, err = startStack(ctx, r.db.URL, stackOptions{Workers: 50, Queue: queue, HTTP: true}); err != nil {
		b.Fatal(err)
	}
	r.act = newActions(r.st.URL, f, benchConcurrency)
	return r
}

// finish stops the clients and the stack and returns the commits made
// since setup.
func (r *benchRun) finish(ctx context.Context, b *testing.B) int64 {
	b.Helper()
	r.act.close()
	if err := r.st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := r.act.err(); err != nil {
		b.Fatal(err)
	}
	after, err := r.db.Counter.read(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return after.sub(r.before).commits
}

// BenchmarkQuoteActionsHTTP is quote actions (POST /v1/quotes/{id}/send)
// per second from 16 HTTP clients, each action one transaction with its
// decision, run and first job; the queue is not working meanwhile.
func BenchmarkQuoteActionsHTTP(b *testing.B) {
	for _, d := range storetest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			r := setupBench(ctx, b, d, queueIdle)
			act := r.act
			b.ResetTimer()
			act.run(ctx, benchConcurrency, window{From: time.Now(), To: time.Now().Add(time.Hour)}, nil)
			b.StopTimer()
			commits := r.finish(ctx, b)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "actions/s")
			b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
		})
	}
}

// BenchmarkDeliverLog is messages per second from quote action to sent
// through the log provider: 16 HTTP clients send b.N quotes (at most 1,000
// waiting for delivery at once), the queue runs each run's step and its
// delivery, and the clock stops when every message has been answered by
// the provider. Its settings are serve's defaults (50 workers, a 1 s poll).
func BenchmarkDeliverLog(b *testing.B) {
	for _, d := range storetest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			r := setupBench(ctx, b, d, queueRunning)
			st, act := r.st, r.act
			gate := func() bool { return act.answered()-st.Sends.answered() < 1000 }
			b.ResetTimer()
			act.run(ctx, benchConcurrency, window{From: time.Now(), To: time.Now().Add(time.Hour)}, gate)
			deadline := time.Now().Add(time.Minute)
			for st.Sends.ok.Load() < int64(b.N) && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
			b.StopTimer()
			commits := r.finish(ctx, b)
			if n := st.Sends.ok.Load(); n != int64(b.N) {
				b.Fatalf("%d of %d messages sent", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
		})
	}
}

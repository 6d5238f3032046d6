package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quoteflow/quoteflow/internal/store"
)

// --processes: the ingest, deliver and mixed scenarios against N quoteflow
// stacks on one PostgreSQL database, as N `quoteflow serve` processes behind
// a round-robin balancer would run.
//
// The stacks live in the bench's process, but share nothing that separate
// processes would not: each has its own store (its own pgx pool of
// pool_max_conns connections and its own group-commit runners), its own app
// with its caches, its own River client (so the N clients compete for jobs
// with row locks and elect one leader, as processes do), its own metrics
// registry and its own HTTP server on a port of its own. What they do share
// is the Go runtime (GOMAXPROCS, the garbage collector) and the bench's own
// clients, which separate processes would not; docs/ops/scaling.md says what
// that means for the figures.

// processesFlag registers --processes on fs.
func processesFlag(fs *flag.FlagSet, c *Config) {
	fs.IntVar(&c.Processes, "processes", 1, "ingest, deliver, mixed: quoteflow stacks sharing the one database (each its own pool, River client and HTTP server), load spread round-robin; more than 1 needs --db postgres://")
}

// checkProcesses refuses the --processes values a run could not honour.
func (c *Config) checkProcesses() error {
	switch {
	case c.Processes < 1:
		return errors.New("--processes must be at least 1")
	case c.Processes > 1 && c.DB == "":
		// One SQLite file has one writer: quoteflow opens it with one
		// connection, and a second process would only wait on its lock.
		return fmt.Errorf("--processes %d needs PostgreSQL (--db postgres://...): SQLite is one file with one writer, so quoteflow runs one process on it", c.Processes)
	case c.Processes > 1 && c.has(ScenarioSoak):
		return fmt.Errorf("--processes %d: the soak samples one stack's memory and connections; run it without --processes", c.Processes)
	}
	return nil
}

// StackShare is one stack's part of a scenario run with --processes > 1.
type StackShare struct {
	// Actions is the quote actions this stack answered 200.
	Actions int64 `json:"actions"`
	// ProviderAnswers is the provider answers to sends this stack's River
	// client made (deliver, mixed): the queue's share of the work.
	ProviderAnswers int64 `json:"provider_answers"`
}

// fleet is the stacks of one scenario: one, or --processes.
type fleet struct {
	stacks []*stack
	// URLs are the stacks' base URLs, in the order actions spread over them.
	URLs []string
}

// startFleet starts n stacks on dsn, each as startStack starts one.
func startFleet(ctx context.Context, dsn string, o stackOptions, n int) (*fleet, error) {
	f := &fleet{}
	for range n {
		st, err := startStack(ctx, dsn, o)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		f.stacks = append(f.stacks, st)
		f.URLs = append(f.URLs, st.URL)
	}
	return f, nil
}

// answered, ok and failed add up the stacks' provider answers.
func (f *fleet) answered() int64 { return f.ok() + f.failed() }

func (f *fleet) ok() int64 {
	var n int64
	for _, st := range f.stacks {
		n += st.Sends.ok.Load()
	}
	return n
}

func (f *fleet) failed() int64 {
	var n int64
	for _, st := range f.stacks {
		n += st.Sends.failed.Load()
	}
	return n
}

// Close stops every stack at once (each in serve's order), so that N stacks
// take as long to stop as one.
func (f *fleet) Close() error {
	errs := make([]error, len(f.stacks))
	var wg sync.WaitGroup
	for i, st := range f.stacks {
		wg.Go(func() { errs[i] = st.Close() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// shares is each stack's part of the work, or nil for a single stack.
func (f *fleet) shares(a *actions) []StackShare {
	if len(f.stacks) < 2 {
		return nil
	}
	out := make([]StackShare, len(f.stacks))
	for i, st := range f.stacks {
		out[i] = StackShare{ProviderAnswers: st.Sends.answered()}
		if i < len(a.perBase) {
			out[i].Actions = a.perBase[i].Load()
		}
	}
	return out
}

// newActionsOver is newActions spreading the quotes over bases: quote i is
// sent to bases[i % len(bases)], as a round-robin balancer would.
func newActionsOver(bases []string, f *fixture, concurrency int) *actions {
	a := newActions(bases[0], f, concurrency)
	if len(bases) > 1 {
		a.bases = bases
		a.perBase = make([]atomic.Int64, len(bases))
	}
	return a
}

// baseFor is the server quote i goes to.
func (a *actions) baseFor(i int64) string {
	if len(a.bases) == 0 {
		return a.base
	}
	return a.bases[i%int64(len(a.bases))]
}

// answeredBy counts an answered action against its server.
func (a *actions) answeredBy(i int64) {
	if len(a.perBase) > 0 {
		a.perBase[i%int64(len(a.perBase))].Add(1)
	}
}

// connectionBudget reads the server's max_connections and warns when the
// stacks' pools could ask for more connections than it has left: a pool
// that cannot connect fails requests, which would be measured as errors.
func (r *runner) connectionBudget(ctx context.Context, rep *Report) {
	if r.db == nil || r.db.Dialect != store.DialectPostgres || rep.Database == nil {
		return
	}
	pc, ok := r.db.Counter.(*pgCounter)
	if !ok {
		return
	}
	conn, err := pgx.Connect(ctx, pc.adminURL)
	if err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("could not read max_connections: %v", err))
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var maxConns, reserved, inUse int
	err = conn.QueryRow(ctx, `SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')`).Scan(&maxConns, &reserved, &inUse)
	if err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("could not read max_connections: %v", err))
		return
	}
	rep.Database.MaxConnections = maxConns
	// The admin connection reading this is one of inUse, and the commit
	// counter opens one like it while the stacks run.
	need := r.cfg.Processes * r.db.PoolMaxConns
	if left := maxConns - reserved - inUse; need > left {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d stacks x %d connections = %d, but the server had %d of max_connections %d left (%d reserved, %d in use): expect connection errors",
			r.cfg.Processes, r.db.PoolMaxConns, need, left, maxConns, reserved, inUse))
	}
}

// writeStacks adds each scenario's split between the stacks to the table.
func writeStacks(b *strings.Builder, r *Report) {
	for _, s := range r.Scenarios {
		if len(s.Stacks) == 0 {
			continue
		}
		acts := make([]string, len(s.Stacks))
		sends := make([]string, len(s.Stacks))
		var answers int64
		for i, sh := range s.Stacks {
			acts[i], sends[i] = fmt.Sprint(sh.Actions), fmt.Sprint(sh.ProviderAnswers)
			answers += sh.ProviderAnswers
		}
		fmt.Fprintf(b, "  %s: per stack, actions answered %s", s.Name, strings.Join(acts, " / "))
		// Ingest's queue is idle: no stack sends anything.
		if answers > 0 {
			fmt.Fprintf(b, "; provider answers %s", strings.Join(sends, " / "))
		}
		b.WriteString("\n")
	}
}

// datname is the bench database's name on PostgreSQL, "" otherwise.
func (r *runner) datname() string {
	if r.db == nil {
		return ""
	}
	if pc, ok := r.db.Counter.(*pgCounter); ok {
		return pc.datname
	}
	return ""
}

// serving is the pids among procs whose process title names database db:
// PostgreSQL titles a backend "postgres: <cluster>: <user> <db> <client>
// <state>" and an autovacuum worker "...: autovacuum worker <db>". With
// other benches on the same server, the server's total CPU says little
// about this run; its own database's backends say what it cost.
func serving(procs map[int]uint64, db string) map[int]bool {
	if db == "" {
		return nil
	}
	out := map[int]bool{}
	for pid := range procs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		if slices.Contains(strings.Fields(strings.ReplaceAll(string(raw), "\x00", " ")), db) {
			out[pid] = true
		}
	}
	return out
}

// dbCores is the cores the database's own processes used between from and
// to: those serving it at either end (a backend that came and went between
// the two samples is missed, as for the server's total).
func dbCores(from, to cpuSample, wall time.Duration) float64 {
	var ticks uint64
	for pid, t := range to.postgres {
		if to.ofDB[pid] || from.ofDB[pid] {
			ticks += t - min(from.postgres[pid], t)
		}
	}
	return float64(ticks) / clockTicks / wall.Seconds()
}

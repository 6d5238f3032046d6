//go:build faults

package faults

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	writeSummary(os.Stdout)
	os.Exit(code)
}

// TestFaults runs every scenario at once (each has its own database,
// processes and provider; running them side by side keeps the whole
// harness within CI's few minutes). PostgreSQL scenarios need
// TEST_DATABASE_URL and fail, not skip, without it: the restart scenario
// alone uses a server of its own.
func TestFaults(t *testing.T) {
	t.Run("kill/sqlite", func(t *testing.T) { t.Parallel(); kill(t, store.DialectSQLite) })
	t.Run("kill/postgres", func(t *testing.T) { t.Parallel(); kill(t, store.DialectPostgres) })
	t.Run("provider/sqlite", func(t *testing.T) { t.Parallel(); providerFaults(t, store.DialectSQLite) })
	t.Run("provider/postgres", func(t *testing.T) { t.Parallel(); providerFaults(t, store.DialectPostgres) })
	t.Run("twoproc/postgres", func(t *testing.T) { t.Parallel(); twoProcesses(t) })
	t.Run("pgrestart/postgres", func(t *testing.T) { t.Parallel(); pgRestart(t) })
	t.Run("canary/sqlite", func(t *testing.T) { t.Parallel(); canary(t) })
}

// canary: the provider takes two sends twice and pretends to take one it
// never did; the check must count exactly those, or it could not fail.
func canary(t *testing.T) {
	s := newScenario(t, "canary", store.DialectSQLite, storetest.URL(t, store.DialectSQLite),
		profile{Duplicates: 2, Phantoms: 1, Latency: 20 * time.Millisecond})
	s.canary = true
	p := startProc(t, s.env)
	s.setup(p)
	stopLoad := s.load(2, 100*time.Millisecond)
	s.deliveriesInFlight(0, 20)
	stopLoad()
	s.f.Faults = "planted: 2 sends accepted twice, 1 answered but never accepted"
	s.finish(time.Minute, p)
}

// scenario is what every scenario shares: a provider, a database, a tenant
// and the clients' ledger.
type scenario struct {
	t        *testing.T
	ctx      context.Context
	f        figures
	start    time.Time
	dbURL    string
	prov     *provider
	to       *targets
	env      []string
	admin    *client
	tenantID string
	ledger   *ledger
	// describe, when set, names the faults once the run is over (the
	// provider's counts are known only then).
	describe func() string
	// canary: the provider plants known faults, which the check must find.
	canary bool
}

func newScenario(t *testing.T, name, dialect, dbURL string, prof profile) *scenario {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	s := &scenario{t: t, ctx: ctx, f: figures{Scenario: name, DB: dialect}, start: time.Now(), dbURL: dbURL,
		prov: startProvider(t, prof), to: &targets{}, ledger: newLedger()}
	s.env = serveEnv(dbURL, s.prov.url)
	return s
}

// setup creates the tenant through the first process.
func (s *scenario) setup(p ...*proc) {
	var bases []string
	for _, x := range p {
		bases = append(bases, x.base)
	}
	s.to.set(bases...)
	key, tenantID := setupTenant(s.ctx, s.t, s.to, s.prov)
	s.admin, s.tenantID = newClient(s.to, key), tenantID
}

// load starts the clients; the returned function stops them and waits.
func (s *scenario) load(clients int, pause time.Duration) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		runLoad(s.ctx, s.admin, s.ledger, clients, pause, 5000, stop)
	}()
	return func() {
		close(stop)
		<-done
	}
}

// deliveriesInFlight waits until the provider has seen n more sends than
// before, so that a fault lands while messages are moving.
func (s *scenario) deliveriesInFlight(before int64, n int64) {
	deadline := time.Now().Add(30 * time.Second)
	for s.prov.sends.Load() < before+n {
		if time.Now().After(deadline) {
			s.t.Fatalf("the provider saw %d sends in 30 s, want %d: no deliveries are moving", s.prov.sends.Load()-before, n)
		}
		time.Sleep(20 * time.Millisecond) // polling a counter with a deadline
	}
}

// finish drains, settles by receipt, stops the processes and checks.
func (s *scenario) finish(drainFor time.Duration, procs ...*proc) {
	s.t.Helper()
	drain(s.ctx, s.t, s.admin, drainFor)
	_, reqs := s.prov.accepted()
	sendReceipts(s.ctx, s.t, newClient(s.to, ""), s.tenantID, reqs)
	for _, p := range procs {
		p.stop()
	}
	s.f.Retries = s.admin.retries.Load()
	s.f.Seconds = time.Since(s.start).Seconds()
	if s.describe != nil {
		s.f.Faults = s.describe()
	}
	problems := check(s.t, s.dbURL, s.tenantID, s.ledger, s.admin, s.prov, &s.f)
	record(s.f)
	f := s.f
	if s.canary {
		// The planted faults must be found, and nothing else.
		if f.Duplicated != int(s.prov.prof.Duplicates) || f.Lost != int(s.prov.prof.Phantoms) || f.Missing2xx != 0 {
			s.t.Errorf("canary: the check found %d duplicated and %d lost, want the %d and %d planted:\n  %s",
				f.Duplicated, f.Lost, s.prov.prof.Duplicates, s.prov.prof.Phantoms, strings.Join(problems, "\n  "))
		}
		return
	}
	if len(problems) > 0 {
		s.t.Errorf("%s on %s: %d lost, %d duplicated, %d 2xx not stored, %d requests without an answer:\n  %s",
			f.Scenario, f.DB, f.Lost, f.Duplicated, f.Missing2xx, len(s.ledger.gaveUp), strings.Join(problems, "\n  "))
	}
}

func (s *scenario) providerFaults() string {
	p := s.prov
	return fmt.Sprintf("%d sends: %d 5xx, %d timeouts (%d accepted), %d 429", p.sends.Load(), p.serverErrors.Load(),
		p.timeoutsAccepted.Load()+p.timeoutsLost.Load(), p.timeoutsAccepted.Load(), p.tooMany.Load())
}

// kill: 10 SIGKILLs of the serving process under load, with deliveries
// and waits in flight; a new process takes over each time.
func kill(t *testing.T, dialect string) {
	s := newScenario(t, "kill", dialect, storetest.URL(t, dialect), profile{Latency: 150 * time.Millisecond})
	p := startProc(t, s.env)
	s.setup(p)
	stopLoad := s.load(4, 200*time.Millisecond)
	for k := range 10 {
		// Each process lives at least 1.5 s (pacing, not synchronisation)
		// and until it has moved deliveries.
		alive := time.After(1500 * time.Millisecond)
		s.deliveriesInFlight(s.prov.sends.Load(), 6)
		<-alive
		p.kill()
		t.Logf("%.1fs: kill %d, %d items, %d sends, %d retries", time.Since(s.start).Seconds(), k+1, s.ledger.started.Load(), s.prov.sends.Load(), s.admin.retries.Load())
		next := startProc(t, s.env)
		s.to.replace(p.base, next.base)
		p = next
	}
	stopLoad()
	t.Logf("%.1fs: load stopped", time.Since(s.start).Seconds())
	s.f.Faults = "10 SIGKILLs"
	s.finish(2*time.Minute, p)
}

// providerFaults: the provider profile (20 % 5xx, 5 % timeouts, 429
// bursts with Retry-After) under load.
func providerFaults(t *testing.T, dialect string) {
	s := newScenario(t, "provider", dialect, storetest.URL(t, dialect), faultProfile)
	// The profile's 429 bursts are what opens a tenant's circuit for the
	// provider (issue 10's retry noise). Its production backoff, a minute
	// doubling to an hour, would stall the run; seconds make the circuit
	// open, half-open and probe many times within it, under the same
	// faults, which is what the harness should hold to its promises.
	s.env = append(s.env, "QUOTEFLOW_CIRCUIT_OPEN_FOR=2s", "QUOTEFLOW_CIRCUIT_MAX_OPEN_FOR=8s")
	p := startProc(t, s.env)
	s.setup(p)
	stopLoad := s.load(4, 250*time.Millisecond)
	s.deliveriesInFlight(0, 150)
	stopLoad()
	// WhatsApp retries back off from 15 s with full jitter, and a timeout
	// holds a worker for the client's 30 s: the tail is long, and the few
	// messages still backing off after it are counted as retrying.
	s.describe = s.providerFaults
	s.finish(150*time.Second, p)
}

// twoProcesses: two processes on one PostgreSQL database share the load
// and the queue.
func twoProcesses(t *testing.T) {
	s := newScenario(t, "twoproc", store.DialectPostgres, storetest.URL(t, store.DialectPostgres), profile{Latency: 50 * time.Millisecond})
	p1, p2 := startProc(t, s.env), startProc(t, s.env)
	s.setup(p1, p2)
	stopLoad := s.load(6, 100*time.Millisecond)
	s.deliveriesInFlight(0, 300)
	stopLoad()
	s.f.Faults = "2 processes, 1 database"
	s.finish(2*time.Minute, p1, p2)
}

// pgRestart: the harness's own PostgreSQL server stops at once and starts
// again under load.
func pgRestart(t *testing.T) {
	cluster := startPGCluster(t)
	s := newScenario(t, "pgrestart", store.DialectPostgres, cluster.URL(), profile{Latency: 100 * time.Millisecond})
	p := startProc(t, s.env)
	s.setup(p)
	stopLoad := s.load(4, 200*time.Millisecond)
	s.deliveriesInFlight(0, 40)
	cluster.restart(t)
	s.deliveriesInFlight(s.prov.sends.Load(), 40)
	stopLoad()
	s.f.Faults = "1 PostgreSQL restart (immediate)"
	s.finish(2*time.Minute, p)
}

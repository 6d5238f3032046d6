package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/store"
)

// runner runs the phases of one bench run.
type runner struct {
	cfg      *Config
	db       *database
	wa       *waFake
	sink     *logSink
	progress *progress
	prof     *profiler
	ceilings Ceilings
}

// measure runs load for the warm-up and the measured window, showing
// status, and returns the window with the CPU used during it (and profiles
// it when asked). load must return once the window's end has passed.
func (r *runner) measure(ctx context.Context, phase string, status func() string,
	load func(ctx context.Context, w window) error) (window, *CPU, error) {
	t0 := time.Now()
	w := window{From: t0.Add(r.cfg.Warmup), To: t0.Add(r.cfg.Warmup + r.cfg.Duration)}
	r.progress.begin(phase, status)
	defer r.progress.end()

	var (
		cpuStart cpuSample
		profErr  error
	)
	started := make(chan struct{})
	stopWait := make(chan struct{})
	go func() {
		defer close(started)
		select {
		case <-time.After(time.Until(w.From)):
		case <-stopWait:
		}
		cpuStart = sampleCPUOf(r.db != nil && r.db.Dialect == store.DialectPostgres, r.datname())
		profErr = r.prof.start(phase)
	}()
	err := load(ctx, w)
	close(stopWait)
	<-started
	cpu := cpuSince(cpuStart)
	share, perr := r.prof.stop(phase)
	if perr != nil && profErr == nil {
		profErr = perr
	}
	if cpu != nil && share >= 0 {
		cpu.Bench = round3(cpu.Process * share)
		cpu.Quoteflow = round3(cpu.Process - cpu.Bench)
	}
	if err == nil && profErr != nil {
		err = fmt.Errorf("profile: %w", profErr)
	}
	return w, cpu, err
}

// scenarioRSS runs fn between a reset and a reading of the peak RSS.
func scenarioRSS(s *Scenario, fn func() error) error {
	s.RSSScope = "process"
	if resetPeakRSS() {
		s.RSSScope = "scenario"
	}
	err := fn()
	s.PeakRSSMB = peakRSS()
	return err
}

// ---- resolve ----

// resolveInput is the resolve scenario's rule set and lead: n rules for
// quote.sent, each an all of five leaves over different kinds of field;
// only the last matches, and every other fails on its fifth leaf, so every
// leaf of every rule is evaluated (the engine's BenchmarkResolve1000Rules).
func resolveInput(n int) (*resolver.RuleSet, resolver.ResolveInput, error) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rules := make([]engine.Rule, n)
	for i := range rules {
		roof := fmt.Sprintf("slate-%d", i)
		if i == n-1 {
			roof = "tile"
		}
		cond := fmt.Sprintf(`{"all":[
			{"field":"lead.source","op":"eq","value":"web"},
			{"field":"quote.amount","op":"gte","value":%d},
			{"field":"lead.tags","op":"contains","value":"roofing"},
			{"field":"lead.country","op":"in","value":["ES","FR","PT"]},
			{"field":"lead.custom.roof_type","op":"eq","value":%q}]}`, 100+i%1000, roof)
		rules[i] = engine.Rule{ID: fmt.Sprintf("rule_%04d", i), Name: fmt.Sprintf("rule %d", i), Trigger: string(engine.TriggerSent),
			Priority: i, Enabled: true, Condition: json.RawMessage(cond), WorkflowID: "wf_sent", CreatedAt: created}
	}
	wfs := []engine.Workflow{{ID: "wf_sent", Name: "Sent", Trigger: engine.TriggerSent, Enabled: true, Version: 1, CreatedAt: created}}
	rs, err := resolver.NewRuleSet(rules, wfs)
	if err != nil {
		return nil, resolver.ResolveInput{}, err
	}
	valid := created.Add(60 * 24 * time.Hour)
	ctx := &engine.Context{
		Tenant: &engine.Tenant{Name: "Acme Roofing", Timezone: "Europe/Lisbon"},
		Lead: &engine.Lead{ID: "lead_1", FirstName: "Ana", LastName: "Silva", Email: "ana@example.com", Phone: "+351912345678",
			Language: "pt", Country: "PT", Source: "web", Stage: "new", Tags: []string{"roofing", "vip"}, Owner: "joao",
			WhatsAppOptIn: true, CreatedAt: created, Custom: map[string]any{"roof_type": "tile", "floors": 2.0}},
		Quote: &engine.Quote{ID: "q_1", Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: engine.QuoteSent,
			ValidUntil: &valid, Revision: 2, CreatedAt: created.Add(time.Hour)},
		QuoteURL: "https://quotes.example/t/abc",
	}
	in := resolver.ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Now: created.Add(48 * time.Hour)}
	if d := rs.Resolve(in); d.RuleID != rules[n-1].ID {
		return nil, in, fmt.Errorf("resolve: decided %s/%s, want %s", d.Reason, d.RuleID, rules[n-1].ID)
	}
	return rs, in, nil
}

// resolveLoad resolves in goroutines until until, recording each
// resolution.
func resolveLoad(ctx context.Context, rs *resolver.RuleSet, in resolver.ResolveInput, goroutines int, rec *recorder, done *atomic.Int64) {
	until := rec.w.To
	var wg sync.WaitGroup
	for range goroutines {
		sh := rec.shard()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(until) {
					return
				}
				rs.Resolve(in)
				end := time.Now()
				sh.add(end, end.Sub(start))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
}

func (r *runner) resolve(ctx context.Context) (Scenario, error) {
	s := Scenario{Name: ScenarioResolve, Unit: "resolutions/s", Ceiling: "cpu"}
	rs, in, err := resolveInput(r.cfg.Rules)
	if err != nil {
		return s, err
	}
	// The ceiling: one goroutine, scaled to the cores the scenario can use.
	var one *recorder
	var n atomic.Int64
	oneW, _, err := r.measure(ctx, "ceiling-cpu", func() string { return fmt.Sprintf("%d resolutions on one goroutine", n.Load()) },
		func(ctx context.Context, w window) error {
			one = newRecorder(w)
			resolveLoad(ctx, rs, in, 1, one, &n)
			return nil
		})
	if err != nil {
		return s, err
	}
	ops, _, lat := one.result()
	scale := min(r.cfg.Concurrency, runtime.GOMAXPROCS(0))
	r.ceilings.CPU = &Ceiling{PerSec: round3(rate(ops, oneW) * float64(scale)), Ops: ops, Seconds: round3(oneW.seconds()),
		Concurrency: 1, Latency: lat}

	var rec *recorder
	var done atomic.Int64
	err = scenarioRSS(&s, func() error {
		w, cpu, err := r.measure(ctx, ScenarioResolve, func() string { return fmt.Sprintf("%d resolutions", done.Load()) },
			func(ctx context.Context, w window) error {
				rec = newRecorder(w)
				resolveLoad(ctx, rs, in, r.cfg.Concurrency, rec, &done)
				return nil
			})
		if err != nil {
			return err
		}
		ops, _, lat := rec.result()
		s.Seconds, s.CPU = round3(w.seconds()), cpu
		s.Resolutions = &Flow{Count: ops, PerSec: rate(ops, w), Total: rec.total(), Latency: lat,
			LatencyOf: fmt.Sprintf("one RuleSet.Resolve over %d rules", r.cfg.Rules), Ceiling: "cpu"}
		return err
	})
	if err != nil {
		return s, err
	}
	s.Throughput, s.CeilingPerSec = s.Resolutions.PerSec, r.ceilings.CPU.PerSec
	s.Ratio = ratio(s.Throughput, s.CeilingPerSec)
	s.Resolutions.Ratio = s.Ratio
	return s, nil
}

// ---- ingest, deliver, mixed ----

// poolSize is how many quotes a scenario may send: its expected rate (from
// the run's ceilings) over the warm-up and the window, with room to spare.
// Running out ends the window early, which the report notes.
func (r *runner) poolSize(perSec float64) int {
	secs := (r.cfg.Warmup + r.cfg.Duration).Seconds()
	n := int(perSec*secs*1.5) + r.cfg.Backlog + 500
	return min(n, 2_000_000)
}

func (r *runner) fixture(ctx context.Context, perSec float64) (*fixture, error) {
	n := r.poolSize(perSec)
	r.progress.note("  preparing a tenant with %d quotes", n)
	return prepare(ctx, r.db.URL, fixtureOptions{WhatsApp: r.wa, Quotes: n})
}

func (r *runner) stackOptions(q queueMode) stackOptions {
	return stackOptions{Workers: r.cfg.Workers, PollInterval: r.cfg.PollInterval, WhatsAppAPIBase: whatsAppBase(r.wa),
		WhatsAppRate: r.cfg.WhatsAppRate, Queue: q, HTTP: true, Log: newLogger(r.sink, r.cfg.LogLevel), Caches: r.cfg.Caches}
}

// dbScenario runs one of ingest, deliver and mixed: it prepares a tenant,
// reads the commit counters, starts quoteflow as serve does (with the queue
// idle for ingest), drives it, stops it, reads the counters again and the
// messages from the database.
func (r *runner) dbScenario(ctx context.Context, name string) (Scenario, error) {
	s := Scenario{Name: name}
	expect := r.ceilings.Commit.PerSec
	if name == ScenarioDeliver {
		expect = r.ceilings.RiverNoop.PerSec / 2
	}
	f, err := r.fixture(ctx, expect)
	if err != nil {
		return s, err
	}
	var sizes storageSnapshot
	if name == ScenarioDeliver {
		if sizes, err = readStorage(ctx, r.db.Dialect, r.db.URL); err != nil {
			return s, err
		}
	}
	before, err := r.db.Counter.read(ctx)
	if err != nil {
		return s, err
	}
	mode := queueRunning
	if name == ScenarioIngest {
		mode = queueIdle
	}
	var (
		st  *fleet
		act *actions
		w   window
	)
	var stmts *store.StatementCounter
	if r.db.Dialect == store.DialectPostgres {
		stmts = &store.StatementCounter{ByText: r.cfg.StatementDetail}
	}
	err = scenarioRSS(&s, func() error {
		var err error
		opts := r.stackOptions(mode)
		opts.Statements = stmts
		if st, err = startFleet(ctx, r.db.URL, opts, r.cfg.Processes); err != nil {
			return err
		}
		defer st.Close()
		act = newActionsOver(st.URLs, f, r.cfg.Concurrency)
		defer act.close()
		var gate func() bool
		if name == ScenarioDeliver {
			// At most Backlog actions whose message the provider has not
			// answered yet.
			gate = func() bool { return act.answered()-st.answered() < int64(r.cfg.Backlog) }
		}
		status := func() string {
			return fmt.Sprintf("%d actions, %d sent, %d provider errors", act.answered(), st.ok(), st.failed())
		}
		w, s.CPU, err = r.measure(ctx, name, status, func(ctx context.Context, w window) error {
			act.run(ctx, r.cfg.Concurrency, w, gate)
			return nil
		})
		if err != nil {
			return err
		}
		if name == ScenarioDeliver {
			// Drain: every action's message answered once by the provider,
			// so that the commits counted belong to whole deliveries.
			deadline := time.Now().Add(30 * time.Second)
			for st.answered() < act.answered() && time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(5 * time.Millisecond)
			}
			if n := act.answered() - st.answered(); n > 0 {
				s.Notes = append(s.Notes, fmt.Sprintf("%d messages were still unanswered 30s after the window", n))
			}
		}
		return st.Close()
	})
	if err != nil {
		return s, err
	}
	after, err := r.db.Counter.read(ctx)
	if err != nil {
		return s, err
	}
	if e := act.err(); e != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("%d actions failed; the first: %v", act.failed.Load(), e))
	}
	if short, ok := act.window(w); ok {
		s.Notes = append(s.Notes, fmt.Sprintf("the pool of %d quotes ran out %.1fs into the window, which ends there", len(f.Quotes), short.To.Sub(w.From).Seconds()))
		w = short
	}
	s.Seconds = round3(w.seconds())
	s.Stacks = st.shares(act)
	s.Actions = act.flow(w)
	s.Actions.Ceiling, s.Actions.Ratio = "commit", ratio(s.Actions.PerSec, r.ceilings.Commit.PerSec)
	s.Commits = after.sub(before).report(r.db.Counter)
	if stmts != nil {
		s.Statements = &Statements{Total: stmts.Statements(), RoundTrips: stmts.RoundTrips(), Top: stmts.Top(25)}
	}
	if n := act.answered(); n > 0 {
		s.Commits.PerAction = round3(float64(s.Commits.Total) / float64(n))
		if s.Statements != nil {
			s.Statements.PerAction = round3(float64(s.Statements.Total) / float64(n))
			s.Statements.RoundTripsPerAction = round3(float64(s.Statements.RoundTrips) / float64(n))
		}
	}
	if name == ScenarioIngest {
		s.Actions.CoreMS = coreMS(s.CPU, s.Actions.PerSec)
		s.Throughput, s.Unit, s.Ceiling, s.CeilingPerSec = s.Actions.PerSec, "actions/s", "commit", r.ceilings.Commit.PerSec
		s.Ratio = s.Actions.Ratio
		return s, nil
	}
	if s.Messages, err = messageFlow(ctx, r.db.URL, act, w); err != nil {
		return s, err
	}
	s.Messages.Ceiling, s.Messages.Ratio = "river_noop", ratio(s.Messages.PerSec, r.ceilings.RiverNoop.PerSec)
	s.Messages.CoreMS = coreMS(s.CPU, s.Messages.PerSec)
	if s.Messages.Total > 0 {
		s.Commits.PerMessage = round3(float64(s.Commits.Total) / float64(s.Messages.Total))
		if s.Statements != nil {
			s.Statements.PerMessage = round3(float64(s.Statements.Total) / float64(s.Messages.Total))
			s.Statements.RoundTripsPerMessage = round3(float64(s.Statements.RoundTrips) / float64(s.Messages.Total))
		}
	}
	s.Throughput, s.Unit, s.Ceiling, s.CeilingPerSec = s.Messages.PerSec, "messages/s", "river_noop", r.ceilings.RiverNoop.PerSec
	s.Ratio = s.Messages.Ratio
	if name == ScenarioDeliver {
		sizesAfter, err := readStorage(ctx, r.db.Dialect, r.db.URL)
		if err != nil {
			return s, err
		}
		s.Storage = storageDelta(sizes, sizesAfter, s.Messages.Total)
	}
	if name == ScenarioMixed {
		s.Notes = append(s.Notes, "commits per action and per message both divide the scenario's one total")
	}
	return s, nil
}

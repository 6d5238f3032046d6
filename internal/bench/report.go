package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
)

// SchemaVersion names the shape of the --json document; it changes when a
// field changes meaning or goes away.
const SchemaVersion = "quoteflow-bench/1"

// Report is the --json document. docs/PERFORMANCE.md describes every field.
type Report struct {
	Schema    string     `json:"schema"`
	StartedAt time.Time  `json:"started_at"`
	Config    ConfigOut  `json:"config"`
	Machine   Machine    `json:"machine"`
	Database  *Database  `json:"database,omitempty"`
	Ceilings  Ceilings   `json:"ceilings"`
	Scenarios []Scenario `json:"scenarios"`
	Targets   []Target   `json:"targets"`
	// Warnings are quoteflow's own warnings and errors logged during the
	// run (the first few), and anything else that makes a figure suspect.
	Warnings []string `json:"warnings"`
}

// ConfigOut is the run's configuration as measured.
type ConfigOut struct {
	DurationS    float64  `json:"duration_s"`
	WarmupS      float64  `json:"warmup_s"`
	Concurrency  int      `json:"concurrency"`
	Scenarios    []string `json:"scenarios"`
	Provider     string   `json:"provider"`
	LatencyMS    float64  `json:"latency_ms"`
	ErrorRate    float64  `json:"error_rate"`
	WhatsAppRate float64  `json:"whatsapp_rate"`
	Workers      int      `json:"workers"`
	PollInterval string   `json:"poll_interval"`
	Backlog      int      `json:"backlog"`
	Rules        int      `json:"rules"`
	History      int      `json:"history"`
	// Processes is the number of quoteflow stacks on the one database.
	Processes int `json:"processes"`
	Tenants   int `json:"tenants"`
}

// Database is the fresh database the run used.
type Database struct {
	Dialect string `json:"dialect"`
	Server  string `json:"server"`
	// URL names it, without a password; the database no longer exists.
	URL          string `json:"url"`
	PoolMaxConns int    `json:"pool_max_conns"`
	// MaxConnections is the PostgreSQL server's max_connections.
	MaxConnections int `json:"max_connections,omitempty"`
}

// Ceilings are the machine's own limits, measured in the same run.
type Ceilings struct {
	// Commit: single-row INSERTs, each its own transaction, by Concurrency
	// goroutines through the store's connection pool.
	Commit *Ceiling `json:"commit,omitempty"`
	// RiverNoop: jobs of a no-op worker, inserted one per transaction by
	// Concurrency goroutines and worked by a River client configured as
	// quoteflow's queue (Workers, PollInterval).
	RiverNoop *Ceiling `json:"river_noop,omitempty"`
	// CPU: resolutions per second of one goroutine, times
	// min(Concurrency, GOMAXPROCS): perfect scaling over the cores.
	CPU *Ceiling `json:"cpu,omitempty"`
	// FloorAction and FloorMessage (PostgreSQL): the cheapest statements
	// that write what a quote action, and a delivered message end to end,
	// write, on copies of the real tables with their indexes, each
	// transaction one round trip, timed alone (floor.go).
	FloorAction  *Ceiling `json:"floor_action,omitempty"`
	FloorMessage *Ceiling `json:"floor_message,omitempty"`
}

// Statements is what a scenario sent PostgreSQL, counted by a pgx tracer
// on quoteflow's pool (store.StatementCounter): its own statements and
// River's, from the stack's start to its stop.
type Statements struct {
	Total      int64 `json:"total"`
	RoundTrips int64 `json:"round_trips"`
	// Per quote action answered and per message sent, each dividing the
	// scenario's one total, as the commits do.
	PerAction            float64 `json:"per_action,omitempty"`
	RoundTripsPerAction  float64 `json:"round_trips_per_action,omitempty"`
	PerMessage           float64 `json:"per_message,omitempty"`
	RoundTripsPerMessage float64 `json:"round_trips_per_message,omitempty"`
	// Top is the statements sent most often, with --statement-detail.
	Top []store.StatementCount `json:"top,omitempty"`
}

// Ceiling is one measured limit.
type Ceiling struct {
	PerSec      float64      `json:"per_sec"`
	Ops         int64        `json:"ops"`
	Seconds     float64      `json:"seconds"`
	Concurrency int          `json:"concurrency"`
	Latency     *Percentiles `json:"latency_ms,omitempty"`
	Commits     *Commits     `json:"commits,omitempty"`
	CPU         *CPU         `json:"cpu,omitempty"`
	Errors      int64        `json:"errors"`
}

// Scenario is one scenario's figures.
type Scenario struct {
	Name string `json:"name"`
	// Seconds is the measured window (shorter than the duration asked for
	// if the scenario ran out of quotes; see Notes).
	Seconds float64 `json:"seconds"`
	// Throughput is the headline rate, in Unit per second: resolutions
	// (resolve), actions (ingest), messages sent (deliver, mixed).
	Throughput float64 `json:"throughput"`
	Unit       string  `json:"unit"`
	// Ceiling names the ceiling Throughput is compared with ("cpu",
	// "commit", "river_noop"), CeilingPerSec is its rate and Ratio is
	// Throughput / CeilingPerSec.
	Ceiling       string  `json:"ceiling"`
	CeilingPerSec float64 `json:"ceiling_per_sec"`
	Ratio         float64 `json:"ratio"`
	// Resolutions (resolve), Actions (ingest, deliver, mixed) and
	// Messages (deliver, mixed) are the flows measured.
	Resolutions *Flow    `json:"resolutions,omitempty"`
	Actions     *Flow    `json:"actions,omitempty"`
	Messages    *Flow    `json:"messages,omitempty"`
	Commits     *Commits `json:"commits,omitempty"`
	// Statements are what quoteflow sent PostgreSQL (nil on SQLite).
	Statements *Statements `json:"statements,omitempty"`
	// PeakRSSMB is the process's peak resident set during the scenario
	// (RSSScope "scenario") or, where it cannot be reset, since the
	// process started ("process").
	PeakRSSMB float64  `json:"peak_rss_mb"`
	RSSScope  string   `json:"rss_scope"`
	CPU       *CPU     `json:"cpu,omitempty"`
	Notes     []string `json:"notes,omitempty"`
	// Soak is the soak scenario's samples and slopes (soak only).
	Soak *Soak `json:"soak,omitempty"`
	// Stacks is each stack's part of the work when --processes > 1.
	Stacks []StackShare `json:"stacks,omitempty"`
	// Tenants is the tenants scenario's memory figures (tenants only).
	Tenants *Tenants `json:"tenants,omitempty"`
	// Storage is what the scenario added to the database per message
	// sent (deliver only).
	Storage *Storage `json:"storage,omitempty"`
}

// Flow is a stream of operations of one kind in a scenario.
type Flow struct {
	// Count finished inside the measured window; PerSec = Count / Seconds.
	Count  int64   `json:"count"`
	PerSec float64 `json:"per_sec"`
	// Total is every one of the run, warm-up and drain included.
	Total  int64 `json:"total"`
	Errors int64 `json:"errors"`
	// Latency of the operations counted; LatencyOf says from what to what.
	Latency   *Percentiles `json:"latency_ms,omitempty"`
	LatencyOf string       `json:"latency_of"`
	// Ceiling and Ratio compare PerSec with a ceiling of the run.
	Ceiling string  `json:"ceiling,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	// CoreMS is the CPU time each operation cost, in core-milliseconds:
	// the window's busy cores divided by PerSec. Only the scenario's
	// headline flow has it (actions in ingest, messages in deliver and
	// mixed), which is charged with all of the window's work.
	CoreMS *CoreMS `json:"core_ms_per_op,omitempty"`
	// Statuses counts messages by final status (messages only).
	Statuses map[string]int64 `json:"statuses,omitempty"`
}

// CPU is the average number of cores busy during a measured window.
type CPU struct {
	// Process is this process (quoteflow, and the bench's clients and, in
	// WhatsApp runs, the fake provider).
	Process float64 `json:"process_cores"`
	// Bench is the part of Process that the bench's own load spent (its
	// HTTP clients and the fake provider), and Quoteflow the rest: Process
	// split by the share of a CPU profile of the window whose goroutines
	// carried the bench's pprof label. Both absent when no profile ran.
	Bench     float64 `json:"bench_cores,omitempty"`
	Quoteflow float64 `json:"quoteflow_cores,omitempty"`
	// Machine is every process on the machine, the database server
	// included; IOWait is time the cores sat idle waiting for disk.
	Machine float64 `json:"machine_cores"`
	IOWait  float64 `json:"iowait_cores"`
	// Steal is time the hypervisor gave this machine's cores to others.
	Steal float64 `json:"steal_cores"`
	// Postgres is, in runs on PostgreSQL, every process named postgres on
	// this machine: the server when it is local (0 otherwise), with the
	// backends of its other clients. Backends that exit during the window
	// are missed.
	Postgres float64 `json:"postgres_cores"`
	// PostgresDB is the part of Postgres spent by the backends (and
	// autovacuum workers) of the bench's own database, told by their
	// process titles: other databases' clients are left out, and so are
	// the server's shared processes (WAL writer, checkpointer).
	PostgresDB float64 `json:"postgres_db_cores,omitempty"`
}

// CoreMS is CPU time per operation, in core-milliseconds.
type CoreMS struct {
	// Process is this process: quoteflow, with the bench's own clients.
	Process float64 `json:"process"`
	// Quoteflow is Process without the bench's clients and fake provider
	// (CPU.Quoteflow), and QuoteflowBoth it with Postgres: what quoteflow
	// itself costs. Absent when the window had no profile; Process then
	// stands for it.
	Quoteflow     float64 `json:"quoteflow,omitempty"`
	QuoteflowBoth float64 `json:"quoteflow_and_postgres,omitempty"`
	// Postgres is the bench database's backends (postgres_db_cores), or
	// the whole server's processes where those are unknown; 0 on SQLite.
	Postgres float64 `json:"postgres"`
	// Both is Process + Postgres.
	Both float64 `json:"both"`
}

// coreMS is c's cores spent per operation at perSec operations a second.
func coreMS(c *CPU, perSec float64) *CoreMS {
	if c == nil || perSec <= 0 {
		return nil
	}
	per := func(cores float64) float64 { return round3(cores * 1000 / perSec) }
	// The bench database's own backends where they could be told apart:
	// the whole server also serves whatever else runs on the machine.
	pg := c.Postgres
	if c.PostgresDB > 0 {
		pg = c.PostgresDB
	}
	out := &CoreMS{Process: per(c.Process), Postgres: per(pg), Both: per(c.Process + pg)}
	if c.Quoteflow > 0 {
		out.Quoteflow, out.QuoteflowBoth = per(c.Quoteflow), per(c.Quoteflow+pg)
	}
	return out
}

// own is what quoteflow itself cost per operation with the database: the
// process's CPU without the bench's load where a profile told it apart,
// all of the process's otherwise.
func (c *CoreMS) own() float64 {
	if c.QuoteflowBoth > 0 {
		return c.QuoteflowBoth
	}
	return c.Both
}

// Target is one target of issues 3, 4 and 14, evaluated on this run.
type Target struct {
	Issue int    `json:"issue"`
	What  string `json:"what"`
	// Dialect is the database the target is set for.
	Dialect string  `json:"dialect"`
	Value   float64 `json:"value"`
	Op      string  `json:"op"` // ">=" or "<="
	Limit   float64 `json:"limit"`
	Met     bool    `json:"met"`
}

func (r *Report) scenario(name string) *Scenario {
	for i := range r.Scenarios {
		if r.Scenarios[i].Name == name {
			return &r.Scenarios[i]
		}
	}
	return nil
}

// evaluateTargets fills r.Targets with the targets of issues 3, 4 and 14 that
// apply to the run's database and scenarios.
func (r *Report) evaluateTargets() {
	r.Targets = []Target{}
	if r.Database == nil {
		return
	}
	dialect := r.Database.Dialect
	add := func(issue int, forDialect, what string, value float64, op string, limit float64) {
		if forDialect != dialect {
			return
		}
		met := value >= limit
		if op == "<=" {
			met = value <= limit
		}
		r.Targets = append(r.Targets, Target{Issue: issue, What: what, Dialect: forDialect, Value: value, Op: op, Limit: limit, Met: met})
	}
	ingest, deliver, mixed := r.scenario(ScenarioIngest), r.scenario(ScenarioDeliver), r.scenario(ScenarioMixed)
	if ingest != nil {
		add(4, "postgres", "ingest / commit ceiling", ingest.Ratio, ">=", 0.25)
		if ingest.Commits != nil {
			add(4, "postgres", "commits per quote action (ingest)", ingest.Commits.PerAction, "<=", 1)
			add(4, "sqlite", "commits per quote action (ingest)", ingest.Commits.PerAction, "<=", 1)
		}
		add(3, "postgres", "quote actions/s (ingest)", ingest.Throughput, ">=", 1500)
		add(4, "sqlite", "quote actions/s (ingest)", ingest.Throughput, ">=", 500)
	}
	if deliver != nil {
		add(4, "postgres", "deliver / River no-op ceiling", deliver.Ratio, ">=", 0.25)
		if deliver.Commits != nil {
			add(4, "postgres", "commits per delivered message, end to end (deliver)", deliver.Commits.PerMessage, "<=", 3)
			add(4, "sqlite", "commits per delivered message, end to end (deliver)", deliver.Commits.PerMessage, "<=", 3)
		}
		add(3, "postgres", "messages sent/s (deliver)", deliver.Throughput, ">=", 3000)
		add(4, "sqlite", "messages sent/s (deliver)", deliver.Throughput, ">=", 500)
		if deliver.Storage != nil {
			add(14, "postgres", "bytes stored per sent message (deliver)", deliver.Storage.BytesPerMessage, "<=", 4096)
		}
	}
	if mixed != nil {
		add(4, "postgres", "mixed: peak RSS, MB", mixed.PeakRSSMB, "<=", 256)
	}
	if t := r.scenario(ScenarioTenants); t != nil && t.Tenants != nil {
		what := fmt.Sprintf("peak RSS at %d active tenants, MB (set at 20,000)", t.Tenants.Tenants)
		add(14, "postgres", what, t.PeakRSSMB, "<=", 256)
		add(14, "sqlite", what, t.PeakRSSMB, "<=", 256)
	}
	r.evaluateHotPathTargets(add, ingest, deliver)
}

// evaluateHotPathTargets adds the targets of issue 14 (the PostgreSQL hot
// path), each a ratio to a ceiling of the same run or a cost per
// operation, so that they hold on any machine.
func (r *Report) evaluateHotPathTargets(add func(issue int, forDialect, what string, value float64, op string, limit float64),
	ingest, deliver *Scenario) {
	if ingest != nil && ingest.Actions != nil {
		add(14, "postgres", "ingest / commit ceiling", ingest.Ratio, ">=", 0.20)
		if c := ingest.Actions.CoreMS; c != nil {
			add(14, "postgres", "core-ms per quote action, quoteflow + PostgreSQL", c.own(), "<=", 0.5)
		}
		if st := ingest.Statements; st != nil {
			add(14, "postgres", "round trips per quote action", st.RoundTripsPerAction, "<=", 3)
		}
		if l := ingest.Actions.Latency; l != nil {
			add(14, "postgres", "p99 of a quote action, ms", l.P99, "<=", 50)
		}
		if f := r.Ceilings.FloorAction; f != nil && r.Ceilings.Commit != nil {
			add(14, "postgres", "floor: an action's writes alone / commit ceiling", ratio(f.PerSec, r.Ceilings.Commit.PerSec), ">=", 0.20)
		}
		// The floor's own CPU per action against the same limit: on a
		// machine where even the bare writes cost more, the limit is out
		// of reach in this run, and the gap that matters is to the floor.
		if f := r.Ceilings.FloorAction; f != nil {
			if c := coreMS(f.CPU, f.PerSec); c != nil {
				add(14, "postgres", "floor: core-ms per action's writes alone", c.Both, "<=", 0.5)
			}
		}
	}
	if deliver != nil && deliver.Messages != nil {
		add(14, "postgres", "deliver / River no-op ceiling", deliver.Ratio, ">=", 0.30)
		if c := deliver.Messages.CoreMS; c != nil {
			add(14, "postgres", "core-ms per delivered message, end to end", c.own(), "<=", 1.5)
		}
		if f := r.Ceilings.FloorMessage; f != nil && r.Ceilings.RiverNoop != nil {
			add(14, "postgres", "floor: a message's writes alone / River no-op ceiling", ratio(f.PerSec, r.Ceilings.RiverNoop.PerSec), ">=", 0.30)
		}
		if f := r.Ceilings.FloorMessage; f != nil {
			if c := coreMS(f.CPU, f.PerSec); c != nil {
				add(14, "postgres", "floor: core-ms per message's writes alone", c.Both, "<=", 1.5)
			}
		}
	}
}

// WriteJSON writes r as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes r for people.
func (r *Report) WriteTable(w io.Writer) error {
	b := &strings.Builder{}
	c := r.Config
	db := "no database"
	if r.Database != nil {
		db = r.Database.Server
		if r.Database.Dialect == "postgres" {
			db += fmt.Sprintf(", pool of %d connections", r.Database.PoolMaxConns)
		}
	}
	fmt.Fprintf(b, "quoteflow bench: %s\n", db)
	fmt.Fprintf(b, "  %gs measured after %gs warm-up per phase; concurrency %d; %d workers, poll %s; provider %s",
		c.DurationS, c.WarmupS, c.Concurrency, c.Workers, c.PollInterval, c.Provider)
	if c.Provider == ProviderWhatsApp {
		fmt.Fprintf(b, " (latency %gms, error rate %g, %g/s per number)", c.LatencyMS, c.ErrorRate, c.WhatsAppRate)
	}
	if c.Processes > 1 {
		fmt.Fprintf(b, "\n  %d quoteflow stacks on the one database (in this process, each its own pool, River client and HTTP server), actions round-robin", c.Processes)
	}
	m := r.Machine
	fmt.Fprintf(b, "\n  machine: %d CPUs (%s), %.1f GiB, %s %s, load %.2f at start\n\n",
		m.NProc, m.CPUModel, m.MemTotalMB/1024, m.GoVersion, m.OSArch, m.LoadAvg)

	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ceiling\tper sec\tp50 ms\tp99 ms\tcommits/op\tcores (proc/pg/all)\t")
	for _, x := range []struct {
		name string
		c    *Ceiling
	}{{"commit (1-row insert)", r.Ceilings.Commit}, {"River no-op job", r.Ceilings.RiverNoop}, {"CPU (resolve x cores)", r.Ceilings.CPU},
		{"floor: action's writes", r.Ceilings.FloorAction}, {"floor: message's writes", r.Ceilings.FloorMessage}} {
		if x.c == nil {
			continue
		}
		cpo := "-"
		if x.c.Commits != nil {
			cpo = fmt.Sprintf("%.2f", x.c.Commits.PerOp)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\t%s\t\n", x.name, x.c.PerSec, p50(x.c.Latency), p99(x.c.Latency), cpo, cores(x.c.CPU))
	}
	tw.Flush()
	b.WriteString("\n")

	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tflow\tper sec\tp50 ms\tp95 ms\tp99 ms\tcommits\tstatements (round trips)\tvs ceiling\tcore-ms/op (proc (quoteflow)/pg)\tpeak RSS MB\tcores (proc/pg/all)\t")
	for _, s := range r.Scenarios {
		rows := []struct {
			name string
			f    *Flow
			cpu  string
		}{{"resolutions", s.Resolutions, ""}, {"actions", s.Actions, "/action"}, {"messages sent", s.Messages, "/message"}}
		first := true
		for _, row := range rows {
			if row.f == nil {
				continue
			}
			name, rss, cpu := "", "", ""
			if first {
				name, rss, cpu = s.Name, fmt.Sprintf("%.0f", s.PeakRSSMB), cores(s.CPU)
				first = false
			}
			commits := "-"
			if s.Commits != nil && row.cpu != "" {
				per := s.Commits.PerAction
				if row.cpu == "/message" {
					per = s.Commits.PerMessage
				}
				if per > 0 {
					commits = fmt.Sprintf("%.2f%s", per, row.cpu)
				}
			}
			stmts := "-"
			if st := s.Statements; st != nil && row.cpu != "" {
				per, rt := st.PerAction, st.RoundTripsPerAction
				if row.cpu == "/message" {
					per, rt = st.PerMessage, st.RoundTripsPerMessage
				}
				if per > 0 {
					stmts = fmt.Sprintf("%.1f (%.1f)%s", per, rt, row.cpu)
				}
			}
			vs := "-"
			if row.f.Ceiling != "" {
				vs = fmt.Sprintf("%.3f %s", row.f.Ratio, row.f.Ceiling)
			}
			errs := ""
			if row.f.Errors > 0 {
				errs = fmt.Sprintf(" (%d errors)", row.f.Errors)
			}
			coreMS := "-"
			if c := row.f.CoreMS; c != nil {
				coreMS = fmt.Sprintf("%.2f/%.2f", c.Process, c.Postgres)
				if c.Quoteflow > 0 {
					coreMS = fmt.Sprintf("%.2f (%.2f)/%.2f", c.Process, c.Quoteflow, c.Postgres)
				}
			}
			fmt.Fprintf(tw, "%s\t%s%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, row.name, errs, row.f.PerSec,
				p50(row.f.Latency), p95(row.f.Latency), p99(row.f.Latency), commits, stmts, vs, coreMS, rss, cpu)
		}
	}
	tw.Flush()
	if len(r.Scenarios) > 0 {
		b.WriteString("  latency: resolutions, one Resolve; actions, HTTP request to response; messages sent, start of the action to sent_at\n")
	}
	for _, s := range r.Scenarios {
		for _, n := range s.Notes {
			fmt.Fprintf(b, "  %s: %s\n", s.Name, n)
		}
	}
	writeStacks(b, r)
	for _, s := range r.Scenarios {
		if s.Statements == nil || len(s.Statements.Top) == 0 {
			continue
		}
		fmt.Fprintf(b, "\nstatements most sent in %s (count, text)\n", s.Name)
		for _, t := range s.Statements.Top {
			sql := t.SQL
			if len(sql) > 150 {
				sql = sql[:150] + "…"
			}
			fmt.Fprintf(b, "  %8d  %s\n", t.Count, sql)
		}
	}
	for _, s := range r.Scenarios {
		if s.Soak != nil {
			s.Soak.writeTable(b)
		}
		if s.Tenants != nil {
			s.Tenants.writeTable(b)
		}
		if s.Storage != nil {
			s.Storage.writeTable(b, s.Name)
		}
	}
	if len(r.Targets) > 0 {
		b.WriteString("\ntargets (issues 3, 4 and 14)\n")
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, t := range r.Targets {
			met := "MET"
			if !t.Met {
				met = "not met"
			}
			fmt.Fprintf(tw, "  #%d\t%s\t%.3f %s %g\t%s\n", t.Issue, t.What, t.Value, t.Op, t.Limit, met)
		}
		tw.Flush()
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\nwarnings\n")
		for _, wmsg := range r.Warnings {
			fmt.Fprintf(b, "  %s\n", wmsg)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func p50(p *Percentiles) string { return pct(p, func(p *Percentiles) float64 { return p.P50 }) }
func p95(p *Percentiles) string { return pct(p, func(p *Percentiles) float64 { return p.P95 }) }
func p99(p *Percentiles) string { return pct(p, func(p *Percentiles) float64 { return p.P99 }) }

func pct(p *Percentiles, f func(*Percentiles) float64) string {
	if p == nil {
		return "-"
	}
	v := f(p)
	if v < 1 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func cores(c *CPU) string {
	if c == nil {
		return "-"
	}
	if c.Postgres > 0 {
		return fmt.Sprintf("%.2f/%.2f/%.2f", c.Process, c.Postgres, c.Machine)
	}
	return fmt.Sprintf("%.2f/%.2f", c.Process, c.Machine)
}

package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/envvar"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Scenario names, in the order they run.
const (
	ScenarioResolve = "resolve"
	ScenarioIngest  = "ingest"
	ScenarioDeliver = "deliver"
	ScenarioMixed   = "mixed"
)

var allScenarios = []string{ScenarioResolve, ScenarioIngest, ScenarioDeliver, ScenarioMixed}

// knownScenarios are every scenario, in the order they run: "all" and
// then the soak and tenants, which are asked for by name only.
var knownScenarios = append(append([]string(nil), allScenarios...), ScenarioSoak, ScenarioTenants)

// Providers a deliver scenario can deliver through.
const (
	ProviderLog      = "log"
	ProviderWhatsApp = "whatsapp"
)

// Config is what `quoteflow bench` was asked to do.
type Config struct {
	// DB is a postgres:// URL of a server to create the bench database on;
	// empty means a SQLite file in a temporary directory.
	DB string
	// Duration is the measured window of each ceiling and scenario; Warmup
	// runs before it and is not counted.
	Duration, Warmup time.Duration
	// Concurrency is the number of clients: HTTP clients for quote actions,
	// inserting goroutines for the ceilings, resolving goroutines.
	Concurrency int
	Scenarios   []string
	JSON        bool
	// Provider is "log" or "whatsapp" (the local fake); Latency and
	// ErrorRate apply to the fake.
	Provider  string
	Latency   time.Duration
	ErrorRate float64
	// Workers, PollInterval and WhatsAppRate are serve's settings of the
	// same names (QUOTEFLOW_WORKERS, QUOTEFLOW_POLL_INTERVAL,
	// QUOTEFLOW_WHATSAPP_RATE give their defaults, as for serve).
	Workers      int
	PollInterval time.Duration
	WhatsAppRate float64
	// Backlog bounds, in deliver and in the queue's ceiling, how many
	// actions (jobs) may wait to be delivered (worked) at once.
	Backlog int
	// Rules is the size of the resolve scenario's rule set.
	Rules int
	// History is how many past quote sends (event, run, step, message,
	// attempt) are written before the scenarios, so that they run on a
	// database in use rather than on empty tables.
	History int
	// ProfileDir, when set, receives a CPU and a heap profile per phase.
	ProfileDir string
	// StatementDetail lists each scenario's most frequent statements.
	StatementDetail bool
	// Processes is how many quoteflow stacks the ingest, deliver and mixed
	// scenarios run against on the one database (processes.go).
	Processes int
	// Tenants is how many tenants the tenants scenario sets up and acts on.
	Tenants int
	// Caches are serve's --cache-* bounds of the app's caches.
	Caches   app.CacheSizes
	LogLevel slog.Level
}

// has reports whether scenario name was asked for.
func (c *Config) has(name string) bool { return slices.Contains(c.Scenarios, name) }

// needsDB reports whether any scenario asked for uses the database.
func (c *Config) needsDB() bool {
	return c.has(ScenarioIngest) || c.has(ScenarioDeliver) || c.has(ScenarioMixed) || c.has(ScenarioSoak) || c.has(ScenarioTenants)
}

// needsCeilings reports whether a scenario asked for is compared with the
// commit and River ceilings (the soak is not: measuring them would cost
// two more durations of ten minutes).
func (c *Config) needsCeilings() bool {
	return c.has(ScenarioIngest) || c.has(ScenarioDeliver) || c.has(ScenarioMixed)
}

const usage = `Usage: quoteflow bench [flags]

Measures quoteflow's throughput beside this machine's own ceilings, all in
one run on a fresh database: a SQLite file in a temporary directory, or with
--db a new database on that PostgreSQL server (dropped at the end).

Ceilings: single-row insert commits per second, and River no-op jobs worked
per second, at the same concurrency. Scenarios: resolve (1,000 rules
in-process), ingest (quote actions over HTTP), deliver (actions to messages
sent, end to end), mixed (ingest and deliver at once). soak, asked for by
name only, measures deliver's peak and then holds half of it for --duration,
sampling RSS, goroutines and open connections, and reports their slopes.
tenants, by name only, gives each of --tenants tenants one quote action and
one message and reports resident memory per active tenant.
See docs/PERFORMANCE.md for what each figure means and the --json schema.

Flags:
`

// parseFlags parses the bench command's arguments.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Config{}
	fs := flag.NewFlagSet("quoteflow bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var scenarios, logLevel string
	fs.StringVar(&c.DB, "db", "", "postgres:// URL of a server to create a fresh bench database on (default: a SQLite file in a temporary directory)")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured time of each ceiling and scenario")
	fs.DurationVar(&c.Warmup, "warmup", -1, "unmeasured time before each measurement (default: a fifth of --duration, at most 2s)")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "concurrent clients: HTTP clients, inserting and resolving goroutines")
	fs.StringVar(&scenarios, "scenario", strings.Join(allScenarios, ","), "comma-separated scenarios to run: resolve, ingest, deliver, mixed, or all; and soak and tenants, by name only")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON document (schema in docs/PERFORMANCE.md) instead of the table")
	fs.StringVar(&c.Provider, "provider", "", "deliver to: log (the log provider) or whatsapp (a local fake of the Cloud API); default log, or whatsapp when --latency or --error-rate is given")
	fs.DurationVar(&c.Latency, "latency", 0, "WhatsApp fake: delay of every send response")
	fs.Float64Var(&c.ErrorRate, "error-rate", 0, "WhatsApp fake: fraction (0 to 1) of sends that fail with a transient error (131000)")
	fs.Float64Var(&c.WhatsAppRate, "whatsapp-rate", envvar.Float(getenv, "QUOTEFLOW_WHATSAPP_RATE", whatsapp.DefaultPerSecond), "WhatsApp sends per second per phone number, as serve's flag; 0 is unlimited")
	fs.IntVar(&c.Workers, "workers", envvar.Int(getenv, "QUOTEFLOW_WORKERS", 50), "jobs worked at once, as serve's flag")
	fs.DurationVar(&c.PollInterval, "poll-interval", envvar.Duration(getenv, "QUOTEFLOW_POLL_INTERVAL", 0), "how often the queue looks for due jobs, as serve's flag (default 1s on PostgreSQL, 100ms on SQLite)")
	fs.IntVar(&c.Backlog, "backlog", 1000, "deliver and the queue's ceiling: most actions (jobs) waiting to be delivered (worked) at once")
	fs.IntVar(&c.Rules, "rules", 1000, "resolve: rules in the rule set")
	fs.IntVar(&c.History, "history", 10000, "past quote sends (event, run, step, message, attempt) written before the scenarios, so that they run on tables in use")
	fs.StringVar(&c.ProfileDir, "profile-dir", "", "write a CPU profile (cpu-<phase>.pprof) and a heap profile (heap-<phase>.pprof) of each phase's measured window here")
	fs.BoolVar(&c.StatementDetail, "statement-detail", false, "PostgreSQL: list each scenario's 25 most frequent statements, by text, in the report")
	processesFlag(fs, c)
	fs.IntVar(&c.Tenants, "tenants", DefaultTenants, "tenants: how many tenants to set up, each given one quote action")
	c.Caches.RegisterFlags(fs, getenv)
	fs.StringVar(&logLevel, "log-level", "info", "level of quoteflow's own logs, formatted and discarded as serve would write them; warnings are shown after the run")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.PollInterval == 0 {
		dialect := store.DialectSQLite
		if c.DB != "" {
			dialect = store.DialectPostgres
		}
		c.PollInterval = jobs.DefaultPollInterval(dialect)
	}

	var err error
	if c.Scenarios, err = parseScenarios(scenarios); err != nil {
		return nil, err
	}
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)
	}
	if err := c.checkProcesses(); err != nil {
		return nil, err
	}
	switch {
	case c.Duration <= 0:
		return nil, errors.New("--duration must be positive")
	case c.Concurrency < 1:
		return nil, errors.New("--concurrency must be at least 1")
	case c.Workers < 1:
		return nil, errors.New("--workers must be at least 1")
	case c.PollInterval < 0:
		return nil, errors.New("--poll-interval must not be negative")
	case c.Backlog < 1:
		return nil, errors.New("--backlog must be at least 1")
	case c.Rules < 1:
		return nil, errors.New("--rules must be at least 1")
	case c.Tenants < 1:
		return nil, errors.New("--tenants must be at least 1")
	case c.History < 0:
		return nil, errors.New("--history must not be negative")
	case c.ErrorRate < 0 || c.ErrorRate > 1:
		return nil, errors.New("--error-rate must be between 0 and 1")
	case c.Latency < 0:
		return nil, errors.New("--latency must not be negative")
	case c.WhatsAppRate < 0:
		return nil, errors.New("--whatsapp-rate must not be negative")
	case c.DB != "" && !isPostgres(c.DB):
		return nil, errors.New("--db: want a postgres:// URL (the default is a SQLite file in a temporary directory)")
	}
	if c.Warmup < 0 {
		c.Warmup = min(c.Duration/5, 2*time.Second)
	}
	fake := set["latency"] || set["error-rate"]
	switch c.Provider {
	case "":
		c.Provider = ProviderLog
		if fake {
			c.Provider = ProviderWhatsApp
		}
	case ProviderLog:
		if fake {
			return nil, errors.New("--latency and --error-rate apply to the WhatsApp fake: use --provider whatsapp")
		}
	case ProviderWhatsApp:
	default:
		return nil, fmt.Errorf("--provider %q: want log or whatsapp", c.Provider)
	}
	return c, nil
}

func parseScenarios(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
		case name == "all":
			out = append(out, allScenarios...)
		case slices.Contains(knownScenarios, name):
			out = append(out, name)
		default:
			return nil, fmt.Errorf("--scenario %q: want resolve, ingest, deliver, mixed, all, soak or tenants", name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--scenario: name at least one scenario")
	}
	// Always in the documented order, each once.
	var ordered []string
	for _, name := range knownScenarios {
		if slices.Contains(out, name) {
			ordered = append(ordered, name)
		}
	}
	return ordered, nil
}

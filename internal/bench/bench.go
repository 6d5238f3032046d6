// Package bench is quoteflow bench: throughput of the resolver, of quote
// actions over HTTP and of deliveries, each measured beside the machine's own
// ceilings in the same run.
//
// A run creates a fresh database (a SQLite file in a temporary directory, or
// a new database on a PostgreSQL server), measures the ceilings (single-row
// insert commits per second; River no-op jobs worked per second) and then
// each scenario against quoteflow wired as `quoteflow serve` wires it, and
// drops the database. docs/PERFORMANCE.md explains every figure and the
// --json schema.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Run is the bench command.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	rep, err := Measure(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if cfg.JSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteTable(stdout)
}

// Measure runs the ceilings and scenarios cfg asks for and returns their
// report. Progress goes to progressOut (nil for none).
func Measure(ctx context.Context, cfg *Config, progressOut io.Writer) (*Report, error) {
	rep := &Report{
		Schema:    SchemaVersion,
		StartedAt: time.Now().UTC().Truncate(time.Second),
		Machine:   machine(),
		Config: ConfigOut{DurationS: cfg.Duration.Seconds(), WarmupS: cfg.Warmup.Seconds(), Concurrency: cfg.Concurrency,
			Scenarios: cfg.Scenarios, Provider: cfg.Provider, LatencyMS: ms(cfg.Latency), ErrorRate: cfg.ErrorRate,
			WhatsAppRate: cfg.WhatsAppRate, Workers: cfg.Workers, PollInterval: cfg.PollInterval.String(), Backlog: cfg.Backlog,
			Rules: cfg.Rules, History: cfg.History, Processes: cfg.Processes, Tenants: cfg.Tenants},
		Scenarios: []Scenario{},
		Warnings:  []string{},
	}
	r := &runner{cfg: cfg, sink: &logSink{}, progress: newProgress(progressOut), prof: &profiler{dir: cfg.ProfileDir}}
	if cfg.Provider != ProviderWhatsApp {
		rep.Config.LatencyMS, rep.Config.ErrorRate = 0, 0
	}

	if cfg.needsDB() {
		r.progress.note("creating a fresh database")
		db, err := createDatabase(ctx, cfg.DB)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := db.Close(); err != nil {
				r.progress.note("could not drop the bench database %s: %v", db.Display, err)
			}
		}()
		r.db = db
		rep.Database = &Database{Dialect: db.Dialect, Server: db.Server, URL: db.Display, PoolMaxConns: db.PoolMaxConns}
		r.connectionBudget(ctx, rep)
		if cfg.Provider == ProviderWhatsApp {
			wa, stop, err := startWhatsAppFake(cfg.Latency, cfg.ErrorRate)
			if err != nil {
				return nil, err
			}
			defer stop()
			r.wa = wa
		}
		if cfg.needsCeilings() {
			if r.ceilings.Commit, err = r.commitCeiling(ctx); err != nil {
				return nil, fmt.Errorf("commit ceiling: %w", err)
			}
			if r.ceilings.RiverNoop, err = r.riverCeiling(ctx); err != nil {
				return nil, fmt.Errorf("river ceiling: %w", err)
			}
		}
		if cfg.History > 0 {
			r.progress.note("writing the history of %d quote sends", cfg.History)
			if err := seedHistory(ctx, db.URL, cfg.History); err != nil {
				return nil, fmt.Errorf("history: %w", err)
			}
		}
	}
	for _, name := range cfg.Scenarios {
		var s Scenario
		var err error
		switch name {
		case ScenarioResolve:
			s, err = r.resolve(ctx)
		case ScenarioSoak:
			s, err = r.soak(ctx)
		case ScenarioTenants:
			s, err = r.tenants(ctx)
		default:
			s, err = r.dbScenario(ctx, name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rep.Scenarios = append(rep.Scenarios, s)
	}
	if r.db != nil && cfg.has(ScenarioDeliver) {
		note, err := r.floors(ctx)
		if err != nil {
			return nil, fmt.Errorf("floors: %w", err)
		}
		if note != "" {
			rep.Warnings = append(rep.Warnings, note)
		}
	}
	rep.Ceilings = r.ceilings
	warnings, dropped := r.sink.take()
	rep.Warnings = append(rep.Warnings, warnings...)
	if dropped > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("... and %d more warnings", dropped))
	}
	rep.evaluateTargets()
	return rep, nil
}

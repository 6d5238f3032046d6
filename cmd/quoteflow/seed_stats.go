package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

const seedStatsUsage = `Usage: quoteflow seed-stats --db URL [--tenant ID] [--messages N] [--events N] [--days N] [--measure N]

Writes a synthetic history into one tenant, fast (COPY on PostgreSQL, large
transactions of multi-row INSERTs on SQLite), for measuring the outbox
statistics and the message list at scale (docs/ops/observability.md).
Without --tenant it creates a tenant (Europe/Lisbon) and prints its id and
an admin key. With --measure N it then times N runs of a 7-day hourly
GET /v1/stats/outbox and of a filtered GET /v1/messages page, through the
same app calls the API makes. Never point it at a database whose data
matters: it writes rows no quote action made.

Flags:
`

func seedStats(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quoteflow seed-stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, seedStatsUsage)
		fs.PrintDefaults()
	}
	var dbURL, tenant string
	var messages, events, days, measure int
	var seed uint64
	def := getenv("QUOTEFLOW_DATABASE_URL")
	fs.StringVar(&dbURL, "db", def, "SQLite file path or sqlite:PATH, or postgres://... (QUOTEFLOW_DATABASE_URL)")
	fs.StringVar(&tenant, "tenant", "", "the tenant's id; empty: create one")
	fs.IntVar(&messages, "messages", 200000, "messages to write")
	fs.IntVar(&events, "events", 60000, "trigger events to write")
	fs.IntVar(&days, "days", 30, "days of history, ending now")
	fs.IntVar(&measure, "measure", 0, "after seeding (or with --messages 0 --events 0 to only measure), time this many runs of each query")
	fs.Uint64Var(&seed, "seed", 1, "random seed, for a reproducible history")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if dbURL == "" {
		fs.Usage()
		return errors.New("seed-stats needs --db")
	}
	log, err := newLogger("warn", stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dbURL, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	a := app.New(db, nil, app.Config{}, log)
	if tenant == "" {
		t := &engine.Tenant{Name: "Seeded statistics", Timezone: "Europe/Lisbon", Mode: engine.ModeEngine}
		_, secret, err := a.CreateTenant(ctx, t)
		if err != nil {
			return explain(err)
		}
		tenant = t.ID
		fmt.Fprintf(stdout, "tenant %s\nadmin key %s\n", tenant, secret)
	}
	now := time.Now()
	if events > 0 {
		began := time.Now()
		err := db.SeedStats(ctx, tenant, store.SeedOptions{Messages: messages, Events: events, Days: days, Now: now, Seed: seed, Progress: stdout})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "seeded in %v\n", time.Since(began).Round(time.Millisecond))
	}
	if measure <= 0 {
		return nil
	}
	week := app.StatsParams{From: now.Add(-7 * 24 * time.Hour), To: now, Bucket: app.Bucket1h}
	runs := []struct {
		name string
		fn   func() error
	}{
		{"stats 7 d hourly", func() error { _, err := a.OutboxStats(ctx, tenant, week); return err }},
		{"stats 7 d hourly by trigger,channel,status", func() error {
			p := week
			p.GroupBy = []string{"trigger,channel,status"}
			_, err := a.OutboxStats(ctx, tenant, p)
			return err
		}},
		{"stats 30 d daily by trigger", func() error {
			_, err := a.OutboxStats(ctx, tenant, app.StatsParams{From: now.AddDate(0, 0, -30), To: now, Bucket: app.Bucket1d, GroupBy: []string{"trigger"}})
			return err
		}},
		{"messages page status+channel+trigger+7 d", func() error {
			_, _, err := a.ListMessages(ctx, tenant, engine.MessageFilter{Status: engine.MsgFailed, Channel: "whatsapp", Trigger: engine.TriggerSent,
				From: week.From, To: week.To}, engine.Page{Limit: 50})
			return err
		}},
		{"messages page status=delivered+channel=email+1 d", func() error {
			_, _, err := a.ListMessages(ctx, tenant, engine.MessageFilter{Status: engine.MsgDelivered, Channel: "email", Trigger: engine.TriggerSent,
				From: now.Add(-24 * time.Hour), To: now}, engine.Page{Limit: 50})
			return err
		}},
	}
	for _, r := range runs {
		var ds []time.Duration
		for range measure {
			began := time.Now()
			if err := r.fn(); err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			ds = append(ds, time.Since(began))
		}
		slices.Sort(ds)
		fmt.Fprintf(stdout, "%-48s min %8v  median %8v  max %8v  (%d runs)\n", r.name, ds[0].Round(time.Microsecond),
			ds[len(ds)/2].Round(time.Microsecond), ds[len(ds)-1].Round(time.Microsecond), len(ds))
	}
	return nil
}

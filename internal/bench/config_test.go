package bench

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
)

func parse(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	return parseFlags(args, func(k string) string { return env[k] }, io.Discard)
}

func TestFlagDefaults(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "" || c.Duration != 30*time.Second || c.Warmup != 2*time.Second || c.Concurrency != 16 || c.JSON {
		t.Fatalf("defaults: %+v", c)
	}
	if !slices.Equal(c.Scenarios, allScenarios) {
		t.Fatalf("scenarios %v, want all", c.Scenarios)
	}
	// serve's defaults, so that the bench measures what serve runs.
	if c.Workers != 50 || c.PollInterval != 100*time.Millisecond || c.WhatsAppRate != whatsapp.DefaultPerSecond {
		t.Fatalf("queue defaults %d %v %v, want serve's on SQLite", c.Workers, c.PollInterval, c.WhatsAppRate)
	}
	pg, err := parse(t, nil, "--db", "postgres://postgres@127.0.0.1/test")
	if err != nil {
		t.Fatal(err)
	}
	if pg.PollInterval != time.Second {
		t.Fatalf("poll interval %v, want serve's 1s on PostgreSQL", pg.PollInterval)
	}
	if c.Provider != ProviderLog || c.Backlog != 1000 || c.Rules != 1000 || c.History != 10000 {
		t.Fatalf("provider %q backlog %d rules %d history %d", c.Provider, c.Backlog, c.Rules, c.History)
	}
}

func TestFlagsFollowServesEnvironment(t *testing.T) {
	env := map[string]string{"QUOTEFLOW_WORKERS": "8", "QUOTEFLOW_POLL_INTERVAL": "50ms", "QUOTEFLOW_WHATSAPP_RATE": "0"}
	c, err := parse(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 8 || c.PollInterval != 50*time.Millisecond || c.WhatsAppRate != 0 {
		t.Fatalf("%d %v %v: the environment gives serve's defaults", c.Workers, c.PollInterval, c.WhatsAppRate)
	}
	c, err = parse(t, env, "--workers", "100")
	if err != nil || c.Workers != 100 {
		t.Fatalf("a flag overrides the environment: %v %v", c, err)
	}
}

func TestFlags(t *testing.T) {
	c, err := parse(t, nil, "--db", "postgres://u@h/db", "--duration", "10s", "--concurrency", "4",
		"--scenario", "mixed, ingest,ingest", "--json", "--backlog", "50", "--profile-dir", "/tmp/p")
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://u@h/db" || c.Duration != 10*time.Second || c.Concurrency != 4 || !c.JSON || c.Backlog != 50 || c.ProfileDir != "/tmp/p" {
		t.Fatalf("%+v", c)
	}
	if !slices.Equal(c.Scenarios, []string{ScenarioIngest, ScenarioMixed}) {
		t.Fatalf("scenarios %v: in the documented order, once each", c.Scenarios)
	}
	if c.Warmup != 2*time.Second {
		t.Fatalf("warm-up %v, want at most 2s", c.Warmup)
	}
	if c, _ := parse(t, nil, "--duration", "1s"); c.Warmup != 200*time.Millisecond {
		t.Fatalf("warm-up %v, want a fifth of a short duration", c.Warmup)
	}
	if c, _ := parse(t, nil, "--warmup", "0s"); c.Warmup != 0 {
		t.Fatalf("an explicit warm-up of 0 is kept: %v", c.Warmup)
	}
	if c, _ := parse(t, nil, "--scenario", "all"); !slices.Equal(c.Scenarios, allScenarios) {
		t.Fatalf("all: %v", c.Scenarios)
	}
	if c.needsDB() != true {
		t.Fatal("ingest needs the database")
	}
	if c, _ := parse(t, nil, "--scenario", "resolve"); c.needsDB() {
		t.Fatal("resolve alone needs no database")
	}
}

func TestFakeProviderFlags(t *testing.T) {
	c, err := parse(t, nil, "--latency", "20ms", "--error-rate", "0.1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Provider != ProviderWhatsApp || c.Latency != 20*time.Millisecond || c.ErrorRate != 0.1 {
		t.Fatalf("--latency and --error-rate imply the WhatsApp fake: %+v", c)
	}
	if c, err := parse(t, nil, "--provider", "whatsapp"); err != nil || c.Provider != ProviderWhatsApp {
		t.Fatalf("%v %v", c, err)
	}
	if _, err := parse(t, nil, "--provider", "log", "--latency", "1ms"); err == nil {
		t.Fatal("the log provider has no latency to set")
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "resolve,bogus"},
		{"--scenario", ","},
		{"--duration", "0s"},
		{"--concurrency", "0"},
		{"--workers", "0"},
		{"--backlog", "0"},
		{"--history", "-1"},
		{"--error-rate", "1.5"},
		{"--provider", "smtp"},
		{"--db", "mysql://x"},
		{"--db", "/tmp/file.db"},
		{"--log-level", "loud"},
		{"extra"},
	} {
		if _, err := parse(t, nil, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	if _, err := parse(t, nil, "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

func TestHelpMentionsEveryFlag(t *testing.T) {
	var b strings.Builder
	_, _ = parseFlags([]string{"-h"}, nil, &b)
	for _, f := range []string{"-db", "-duration", "-concurrency", "-scenario", "-json", "-latency", "-error-rate", "-provider", "-backlog"} {
		if !strings.Contains(b.String(), f) {
			t.Errorf("usage lacks %s:\n%s", f, b.String())
		}
	}
}

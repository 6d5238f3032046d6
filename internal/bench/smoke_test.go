package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestSmoke runs the command for a second per phase on SQLite and checks
// that its JSON parses and that every figure moved. No thresholds: a
// loaded CI machine must not fail it.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bench for several seconds")
	}
	var out, progress bytes.Buffer
	// A short poll interval, as the process tests use, so that deliveries
	// happen within a one-second window.
	err := Run(context.Background(), []string{"--duration", "1s", "--scenario", "ingest,deliver", "--json",
		"--concurrency", "4", "--poll-interval", "100ms", "--backlog", "200", "--history", "300"}, nil, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Schema != SchemaVersion || rep.Database == nil || rep.Database.Dialect != "sqlite" {
		t.Fatalf("schema %q database %+v", rep.Schema, rep.Database)
	}
	if c := rep.Ceilings.Commit; c == nil || c.PerSec <= 0 || c.Commits == nil || c.Commits.Total <= 0 {
		t.Fatalf("commit ceiling %+v", c)
	}
	if c := rep.Ceilings.RiverNoop; c == nil || c.PerSec <= 0 {
		t.Fatalf("River ceiling %+v", c)
	}
	if len(rep.Scenarios) != 2 || rep.Scenarios[0].Name != ScenarioIngest || rep.Scenarios[1].Name != ScenarioDeliver {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	for _, s := range rep.Scenarios {
		// Under the race detector on a loaded machine, a one-second window
		// can close before the first message of deliver is sent; that it was
		// sent at all is checked below, so only ingest must show throughput.
		if (s.Name == ScenarioIngest && (s.Throughput <= 0 || s.Ratio <= 0)) || s.Commits == nil || s.Commits.Total <= 0 || s.PeakRSSMB <= 0 {
			t.Errorf("%s: %+v", s.Name, s)
		}
		if s.Actions == nil || s.Actions.Errors != 0 || s.Actions.Latency == nil {
			t.Errorf("%s: actions %+v", s.Name, s.Actions)
		}
	}
	if m := rep.Scenarios[1].Messages; m == nil || m.Statuses["sent"] == 0 {
		t.Errorf("deliver: messages %+v", m)
	}
	if rep.Ceilings.FloorAction != nil || rep.Ceilings.FloorMessage != nil {
		t.Errorf("floors measured on SQLite: %+v %+v", rep.Ceilings.FloorAction, rep.Ceilings.FloorMessage)
	}
	if !strings.Contains(progress.String(), "[deliver") {
		t.Errorf("no progress for deliver:\n%s", progress.String())
	}
	for _, w := range rep.Warnings {
		t.Logf("warning: %s", w)
	}
}

// TestSmokePostgresFloors runs deliver for a second on PostgreSQL and
// checks that the floors were measured from its rows, without errors, and
// that issue 14's targets were evaluated beside them, core-ms per message
// among them.
func TestSmokePostgresFloors(t *testing.T) {
	dsn := os.Getenv(storetest.EnvURL)
	if dsn == "" {
		t.Skip("the floors are PostgreSQL's: set " + storetest.EnvURL)
	}
	var out, progress bytes.Buffer
	err := Run(context.Background(), []string{"--db", dsn, "--duration", "1s", "--scenario", "ingest,deliver", "--json",
		"--concurrency", "4", "--poll-interval", "100ms", "--backlog", "200", "--history", "50"}, nil, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	for name, f := range map[string]*Ceiling{"action": rep.Ceilings.FloorAction, "message": rep.Ceilings.FloorMessage} {
		if f == nil || f.PerSec <= 0 || f.Errors != 0 || f.CPU == nil {
			t.Errorf("floor of a %s: %+v (warnings %v)", name, f, rep.Warnings)
		}
	}
	want := map[string]bool{"floor: an action's writes alone / commit ceiling": false,
		"floor: a message's writes alone / River no-op ceiling": false, "core-ms per quote action, quoteflow + PostgreSQL": false}
	for _, tg := range rep.Targets {
		if _, ok := want[tg.What]; ok && tg.Issue == 14 {
			want[tg.What] = true
		}
	}
	for what, seen := range want {
		if !seen {
			t.Errorf("target %q not evaluated: %+v", what, rep.Targets)
		}
	}
	if d := rep.scenario(ScenarioDeliver); d == nil || d.Messages == nil || d.Messages.CoreMS == nil || d.Messages.CoreMS.Postgres <= 0 {
		t.Errorf("deliver: no core-ms per message on PostgreSQL: %+v", d)
	}
}

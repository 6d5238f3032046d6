package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// TestSmoke runs the command for a second per phase on SQLite (and on
// PostgreSQL when TEST_DATABASE_URL is set, in a database of its own on
// that server) and checks that its JSON parses and that every figure moved.
// No thresholds: a loaded CI machine must not fail it.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bench for several seconds")
	}
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) { smoke(t, d) })
	}
}

func smoke(t *testing.T, dialect string) {
	var out, progress bytes.Buffer
	// A short poll interval, as the process tests use, so that deliveries
	// happen within a one-second window.
	args := []string{"--duration", "1s", "--scenario", "ingest,deliver", "--json",
		"--concurrency", "4", "--poll-interval", "100ms", "--backlog", "200", "--history", "300"}
	if dialect == store.DialectPostgres {
		args = append(args, "--db", os.Getenv(storetest.EnvURL))
	}
	err := Run(context.Background(), args, nil, &out, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Schema != SchemaVersion || rep.Database == nil || rep.Database.Dialect != dialect {
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
	// The deliver scenario measures what it stored per message sent, per
	// table, the tables it writes among them.
	st := rep.Scenarios[1].Storage
	if st == nil || st.BytesPerMessage <= 0 || st.Messages != rep.Scenarios[1].Messages.Total {
		t.Fatalf("deliver: storage %+v", st)
	}
	wantSource := map[string]string{store.DialectSQLite: "sqlite_dbstat", store.DialectPostgres: "pg_total_relation_size"}[dialect]
	if st.Source != wantSource {
		t.Errorf("storage source %q, want %q", st.Source, wantSource)
	}
	for _, table := range []string{"messages", "trigger_events", "runs"} {
		if !slices.ContainsFunc(st.Tables, func(ts TableStorage) bool { return ts.Table == table && ts.Bytes > 0 }) {
			t.Errorf("storage: no growth of %s in %+v", table, st.Tables)
		}
	}
	if rep.Scenarios[0].Storage != nil {
		t.Errorf("ingest has a storage figure: %+v", rep.Scenarios[0].Storage)
	}
	floors := map[string]*Ceiling{"action": rep.Ceilings.FloorAction, "message": rep.Ceilings.FloorMessage}
	if dialect == store.DialectSQLite {
		if rep.Ceilings.FloorAction != nil || rep.Ceilings.FloorMessage != nil {
			t.Errorf("floors measured on SQLite: %+v %+v", rep.Ceilings.FloorAction, rep.Ceilings.FloorMessage)
		}
	} else {
		// The floors are measured from deliver's rows, and issue 14's
		// targets evaluated beside them, core-ms per operation among them.
		for name, f := range floors {
			if f == nil || f.PerSec <= 0 || f.Errors != 0 || f.CPU == nil {
				t.Errorf("floor of a %s: %+v (warnings %v)", name, f, rep.Warnings)
			}
		}
		want := map[string]bool{"floor: an action's writes alone / commit ceiling": false,
			"floor: a message's writes alone / River no-op ceiling": false, "core-ms per quote action, quoteflow + PostgreSQL": false,
			"floor: core-ms per action's writes alone": false, "floor: core-ms per message's writes alone": false}
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
		if m := rep.Scenarios[1].Messages; m.CoreMS == nil || m.CoreMS.Postgres <= 0 {
			t.Errorf("deliver: no core-ms per message on PostgreSQL: %+v", m)
		}
	}
	if !strings.Contains(progress.String(), "[deliver") {
		t.Errorf("no progress for deliver:\n%s", progress.String())
	}
	for _, w := range rep.Warnings {
		t.Logf("warning: %s", w)
	}
}

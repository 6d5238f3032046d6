package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	empty, rows := int64(3), int64(40)
	lat := &Percentiles{P50: 1, P95: 2, P99: 3, Max: 4, N: 10}
	r := &Report{
		Schema: SchemaVersion, StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Config:   ConfigOut{DurationS: 10, WarmupS: 2, Concurrency: 16, Scenarios: allScenarios, Provider: ProviderLog, Workers: 50, PollInterval: "1s", Backlog: 1000, Rules: 1000},
		Machine:  Machine{NProc: 2, GOMAXPROCS: 2, CPUModel: "AMD EPYC", MemTotalMB: 24000, GoVersion: "go1.26", OSArch: "linux/amd64"},
		Database: &Database{Dialect: "postgres", Server: "PostgreSQL 15", URL: "postgres://u@h/qf_bench_x", PoolMaxConns: 4},
		Ceilings: Ceilings{
			Commit:    &Ceiling{PerSec: 2000, Ops: 20000, Seconds: 10, Concurrency: 16, Latency: lat, Commits: &Commits{Source: "pg_stat_database.xact_commit", Total: 20001, PerOp: 1}},
			RiverNoop: &Ceiling{PerSec: 500, Ops: 5000, Seconds: 10, Concurrency: 16, Latency: lat},
			CPU:       &Ceiling{PerSec: 10000, Ops: 50000, Seconds: 10, Concurrency: 1},
		},
		Scenarios: []Scenario{
			{Name: ScenarioResolve, Seconds: 10, Throughput: 9000, Unit: "resolutions/s", Ceiling: "cpu", CeilingPerSec: 10000, Ratio: 0.9,
				Resolutions: &Flow{Count: 90000, PerSec: 9000, Total: 99000, Latency: lat, LatencyOf: "resolve", Ceiling: "cpu", Ratio: 0.9}, PeakRSSMB: 40, RSSScope: "scenario"},
			{Name: ScenarioIngest, Seconds: 10, Throughput: 600, Unit: "actions/s", Ceiling: "commit", CeilingPerSec: 2000, Ratio: 0.3,
				Actions: &Flow{Count: 6000, PerSec: 600, Total: 7000, Latency: lat, Ceiling: "commit", Ratio: 0.3},
				Commits: &Commits{Source: "pg_stat_database.xact_commit", Total: 14000, PerAction: 2}, PeakRSSMB: 60, RSSScope: "scenario",
				CPU: &CPU{Process: 1, Machine: 2}},
			{Name: ScenarioDeliver, Seconds: 10, Throughput: 100, Unit: "messages/s", Ceiling: "river_noop", CeilingPerSec: 500, Ratio: 0.2,
				Actions:   &Flow{Count: 1000, PerSec: 100, Total: 1200, Latency: lat, Ceiling: "commit", Ratio: 0.05},
				Messages:  &Flow{Count: 1000, PerSec: 100, Total: 1200, Latency: lat, Ceiling: "river_noop", Ratio: 0.2, Statuses: map[string]int64{"sent": 1200}},
				Commits:   &Commits{Source: "sqlite_commit_hook", Total: 6000, PerAction: 5, PerMessage: 5, EmptyCommits: &empty, RowsChanged: &rows},
				PeakRSSMB: 70, RSSScope: "scenario", Notes: []string{"a note"}},
			{Name: ScenarioMixed, Seconds: 10, Throughput: 90, Unit: "messages/s", Ceiling: "river_noop", CeilingPerSec: 500, Ratio: 0.18,
				Actions:  &Flow{Count: 3000, PerSec: 300, Total: 3300},
				Messages: &Flow{Count: 900, PerSec: 90, Total: 950},
				Commits:  &Commits{Total: 9000, PerAction: 3, PerMessage: 9.5}, PeakRSSMB: 300, RSSScope: "scenario"},
		},
		Warnings: []string{},
	}
	r.evaluateTargets()
	return r
}

// TestJSONShape pins the --json document's field names, which
// docs/PERFORMANCE.md documents and scripts read.
func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path ...any) any {
		t.Helper()
		var v any = doc
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, ok := v.(map[string]any)
				if !ok {
					t.Fatalf("%v: not an object at %q", path, k)
				}
				if v, ok = m[k]; !ok {
					t.Fatalf("%v: no field %q in %v", path, k, keys(m))
				}
			case int:
				a, ok := v.([]any)
				if !ok || k >= len(a) {
					t.Fatalf("%v: no element %d", path, k)
				}
				v = a[k]
			}
		}
		return v
	}
	if get("schema") != "quoteflow-bench/1" {
		t.Fatalf("schema %v", get("schema"))
	}
	for _, p := range [][]any{
		{"started_at"}, {"config", "duration_s"}, {"config", "warmup_s"}, {"config", "concurrency"}, {"config", "scenarios"},
		{"config", "provider"}, {"config", "workers"}, {"config", "poll_interval"}, {"config", "backlog"}, {"config", "history"},
		{"machine", "nproc"}, {"machine", "cpu_model"}, {"machine", "mem_total_mb"}, {"machine", "go_version"}, {"machine", "load_avg_1m"},
		{"database", "dialect"}, {"database", "server"}, {"database", "pool_max_conns"},
		{"ceilings", "commit", "per_sec"}, {"ceilings", "commit", "latency_ms", "p99"}, {"ceilings", "commit", "commits", "per_op"},
		{"ceilings", "river_noop", "per_sec"}, {"ceilings", "cpu", "per_sec"},
		{"scenarios", 0, "name"}, {"scenarios", 0, "throughput"}, {"scenarios", 0, "unit"}, {"scenarios", 0, "ceiling"},
		{"scenarios", 0, "ceiling_per_sec"}, {"scenarios", 0, "ratio"}, {"scenarios", 0, "peak_rss_mb"}, {"scenarios", 0, "rss_scope"},
		{"scenarios", 0, "resolutions", "latency_ms", "p50"},
		{"scenarios", 1, "actions", "per_sec"}, {"scenarios", 1, "actions", "latency_ms", "p95"}, {"scenarios", 1, "commits", "per_action"},
		{"scenarios", 1, "cpu", "process_cores"}, {"scenarios", 1, "cpu", "machine_cores"}, {"scenarios", 1, "cpu", "postgres_cores"},
		{"scenarios", 2, "messages", "per_sec"}, {"scenarios", 2, "messages", "statuses", "sent"}, {"scenarios", 2, "commits", "per_message"},
		{"scenarios", 2, "commits", "empty_commits"}, {"scenarios", 2, "commits", "source"}, {"scenarios", 2, "notes"},
		{"targets", 0, "issue"}, {"targets", 0, "what"}, {"targets", 0, "value"}, {"targets", 0, "op"}, {"targets", 0, "limit"}, {"targets", 0, "met"},
		{"warnings"},
	} {
		get(p...)
	}
	// A PostgreSQL count has no SQLite detail.
	if _, ok := get("scenarios", 1, "commits").(map[string]any)["empty_commits"]; ok {
		t.Fatal("empty_commits is SQLite's only")
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTargets(t *testing.T) {
	r := sampleReport()
	got := map[string]bool{}
	for _, tg := range r.Targets {
		if tg.Dialect != "postgres" {
			t.Fatalf("a postgres run evaluated %+v", tg)
		}
		got[tg.What] = tg.Met
	}
	want := map[string]bool{
		"ingest / commit ceiling":                             true, // 0.3 >= 0.25
		"commits per quote action (ingest)":                   false,
		"quote actions/s (ingest)":                            false,
		"deliver / River no-op ceiling":                       false,
		"commits per delivered message, end to end (deliver)": false,
		"messages sent/s (deliver)":                           false,
		"mixed: peak RSS, MB":                                 false,
	}
	for k, v := range want {
		if m, ok := got[k]; !ok || m != v {
			t.Errorf("target %q: met %v (present %v), want %v", k, m, ok, v)
		}
	}
	r.Database.Dialect = "sqlite"
	r.evaluateTargets()
	for _, tg := range r.Targets {
		if tg.Dialect != "sqlite" {
			t.Fatalf("a sqlite run evaluated %+v", tg)
		}
	}
	if len(r.Targets) != 4 {
		t.Fatalf("sqlite targets: %+v", r.Targets)
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"commit (1-row insert)", "River no-op job", "ingest", "deliver", "messages sent", "2.00/action", "5.00/message", "0.300 commit", "targets", "not met", "a note"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

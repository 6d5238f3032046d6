package bench

import (
	"strings"
	"testing"
)

func TestStorageDelta(t *testing.T) {
	before := storageSnapshot{source: "pg_total_relation_size", tables: map[string]int64{
		"messages": 8192, "runs": 16384, "tenants": 8192, "gone": 4096}}
	after := storageSnapshot{source: "pg_total_relation_size", tables: map[string]int64{
		"messages": 8192 + 40960, "runs": 16384 + 8192, "tenants": 8192, "river_job": 24576, "quotes": 0}}
	got := storageDelta(before, after, 8)
	want := []TableStorage{
		{Table: "messages", Bytes: 40960, BytesPerMessage: 5120},
		{Table: "river_job", Bytes: 24576, BytesPerMessage: 3072},
		{Table: "runs", Bytes: 8192, BytesPerMessage: 1024},
		{Table: "gone", Bytes: -4096, BytesPerMessage: -512},
	}
	if got.Source != "pg_total_relation_size" || got.Messages != 8 || got.TotalBytes != 69632 || got.BytesPerMessage != 8704 ||
		got.KeptBytesPerMessage != 8704-3072 {
		t.Errorf("totals: %+v", got)
	}
	if len(got.Tables) != len(want) {
		t.Fatalf("tables %+v, want %+v", got.Tables, want)
	}
	for i := range want {
		if got.Tables[i] != want[i] {
			t.Errorf("table %d: %+v, want %+v", i, got.Tables[i], want[i])
		}
	}

	// Rounded to a tenth of a byte; no messages, no division.
	odd := storageDelta(storageSnapshot{tables: map[string]int64{}}, storageSnapshot{tables: map[string]int64{"a": 10}}, 3)
	if odd.BytesPerMessage != 3.3 || odd.Tables[0].BytesPerMessage != 3.3 {
		t.Errorf("10 bytes over 3 messages: %+v", odd)
	}
	none := storageDelta(storageSnapshot{tables: map[string]int64{}}, storageSnapshot{tables: map[string]int64{"a": 10}}, 0)
	if none.BytesPerMessage != 0 || none.TotalBytes != 10 {
		t.Errorf("no messages: %+v", none)
	}
}

func TestStorageTable(t *testing.T) {
	r := sampleReport()
	r.scenario(ScenarioDeliver).Storage = storageDelta(storageSnapshot{tables: map[string]int64{}},
		storageSnapshot{source: "sqlite_dbstat", tables: map[string]int64{"messages": 409600, "trigger_events": 204800}}, 100)
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"storage in deliver: 6144 bytes per sent message, 6144 without River's jobs (614400 bytes for 100 messages, sqlite_dbstat)",
		"messages           4096  409600",
		"trigger_events           2048  204800",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestStorageTarget checks issue 14's target: on PostgreSQL, at most 4 KB
// stored per message sent in deliver.
func TestStorageTarget(t *testing.T) {
	for _, tc := range []struct {
		perMessage float64
		met        bool
	}{{8704, false}, {4096, true}} {
		r := sampleReport()
		r.scenario(ScenarioDeliver).Storage = &Storage{BytesPerMessage: tc.perMessage}
		r.evaluateTargets()
		var got []Target
		for _, tg := range r.Targets {
			if tg.Issue == 14 && strings.HasPrefix(tg.What, "bytes stored") {
				got = append(got, tg)
			}
		}
		want := []Target{{Issue: 14, What: "bytes stored per sent message (deliver)", Dialect: "postgres", Value: tc.perMessage,
			Op: "<=", Limit: 4096, Met: tc.met}}
		if len(got) != 1 || got[0] != want[0] {
			t.Errorf("%v bytes: targets %+v, want %+v", tc.perMessage, got, want)
		}
	}
	r := sampleReport()
	r.Database.Dialect = "sqlite"
	r.scenario(ScenarioDeliver).Storage = &Storage{BytesPerMessage: 8704}
	r.evaluateTargets()
	for _, tg := range r.Targets {
		if tg.Issue == 14 {
			t.Errorf("SQLite has issue 14's target: %+v", tg)
		}
	}
}

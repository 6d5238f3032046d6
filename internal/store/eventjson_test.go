package store_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// snapshotContext is an event's context as the app writes it: the lead and
// the quote as encoding/json writes them, with empty, zero and nil fields
// among the set ones and custom values that JSON must keep as they are.
func snapshotContext(t *testing.T, l *engine.Lead, q *engine.Quote) json.RawMessage {
	t.Helper()
	lead, quote := *l, *q
	created := time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)
	lead.Custom = map[string]any{"roof_type": "", "floors": 2.5, "note": "<b>&é\u2028</b>", "nested": map[string]any{"z": nil, "a": []any{}},
		"flag": false}
	lead.Timezone, lead.Owner, lead.Tags, lead.CreatedAt, lead.UpdatedAt = "", "", nil, created, time.Time{}
	quote.ValidUntil, quote.RejectionReason, quote.CreatedAt = nil, "", created
	b, err := json.Marshal(map[string]any{"lead": &lead, "quote": &quote})
	must(t, err)
	return b
}

// TestEventCompactJSON checks that an event stored in the compact form
// reads back exactly as the same event stored in the plain form that
// earlier versions wrote, which must stay readable, and that what SQL
// reads of both (the coverage check's snapshot paths, the statistics'
// rule_id and missing_fields) is the same.
func TestEventCompactJSON(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		evCtx := snapshotContext(t, l, q)
		d := decision("wf-1")
		d.Trace = append(d.Trace, engine.TraceEntry{Kind: "rule", ID: "r2", Result: "failed", Reason: "condition_unknown",
			Field: "lead.custom.x", Op: "eq", Expected: map[string]any{"k": "<v>"}, Detail: `missing "x" & more`})
		d.Shadow = &engine.Decision{Outcome: engine.OutcomeLegacy, Source: engine.SourceFallback, Reason: "fallback",
			MissingFields: nil, Trace: engine.Trace{}}

		compact := b.event(t, q, func(e *engine.Event) { e.Context, e.Decision, e.DedupeKey = evCtx, d, "" })
		cases := map[string]*engine.Event{"compact": compact}

		// The same event as earlier versions stored it: context and
		// decision as plain JSON.
		plainDecision, err := json.Marshal(d)
		must(t, err)
		old := *compact
		old.ID, old.IdempotencyKey = "01900000-0000-7000-8000-000000000001", "idem-old"
		must(t, b.db.RawExec(b.ctx, `INSERT INTO trigger_events (id, tenant_id, lead_id, quote_id, trigger, action, idempotency_key,
			duplicate, context, decision, outcome, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			old.ID, old.TenantID, old.LeadID, old.QuoteID, string(old.Trigger), string(old.Action), old.IdempotencyKey, false,
			string(evCtx), string(plainDecision), string(d.Outcome), d.Reason, old.CreatedAt.UnixMicro()))
		cases["plain"] = &old

		read := map[string]*engine.Event{}
		for name, e := range cases {
			got, err := b.db.GetEvent(b.ctx, b.a.ID, e.ID)
			must(t, err)
			read[name] = got
		}
		equal(t, "context, compact and plain", string(read["compact"].Context), string(read["plain"].Context))
		if b.db.Dialect() == store.DialectSQLite {
			// SQLite keeps text as written: the context is the app's bytes.
			equal(t, "context as written", string(read["compact"].Context), string(evCtx))
		}
		equal(t, "context's meaning", string(canon(t, read["compact"].Context)), string(canon(t, evCtx)))
		for name, e := range read {
			got, err := json.Marshal(e.Decision)
			must(t, err)
			equal(t, name+" decision", string(got), string(plainDecision))
			equal(t, name+" decision value", e.Decision, read["plain"].Decision)
		}

		// Smaller as stored, and what SQL reads of it is the same.
		sizeOf := `SELECT length(context) + length(decision) FROM trigger_events WHERE id = ?`
		path := func(col, p string) string { return `json_extract(` + col + `, '$.` + p + `')` }
		if b.db.Dialect() == store.DialectPostgres {
			sizeOf = `SELECT length(context::text) + length(decision::text) FROM trigger_events WHERE id = ?`
			path = func(col, p string) string {
				expr := col
				for i, k := range bytes.Split([]byte(p), []byte(".")) {
					op := ` -> `
					if i == len(bytes.Split([]byte(p), []byte(".")))-1 {
						op = ` ->> `
					}
					expr += op + `'` + string(k) + `'`
				}
				return expr
			}
		}
		newSize, err := b.db.RawInt(b.ctx, sizeOf, compact.ID)
		must(t, err)
		oldSize, err := b.db.RawInt(b.ctx, sizeOf, old.ID)
		must(t, err)
		if newSize >= oldSize*3/4 {
			t.Errorf("compact form is %d bytes, the plain one %d", newSize, oldSize)
		}
		for _, p := range []string{path("context", "lead.FirstName"), path("context", "lead.Timezone"),
			path("context", "lead.CreatedAt"), path("context", "lead.UpdatedAt"), path("context", "quote.Number"),
			path("context", "quote.ValidUntil"), path("context", "lead.Custom.roof_type"), path("context", "lead.Custom.flag"),
			path("decision", "rule_id"), `COALESCE(` + path("decision", "missing_fields") + `, '')`} {
			q := `SELECT COALESCE(` + p + `, '<null>') FROM trigger_events WHERE id = ?`
			want, err := b.db.RawString(b.ctx, q, old.ID)
			must(t, err)
			got, err := b.db.RawString(b.ctx, q, compact.ID)
			must(t, err)
			// A zero value left out reads as absent (NULL) where the
			// plain form has it: both are missing to the coverage check.
			if got != want && !(got == "<null>" && (want == "" || want == "0001-01-01T00:00:00Z")) {
				t.Errorf("%s: compact %q, plain %q", p, got, want)
			}
		}
	})
}

// TestEventCompactJSONOtherShapes checks contexts that are not snapshots
// (any JSON the caller gave), which are stored and read as given, and an
// empty decision.
func TestEventCompactJSONOtherShapes(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		for _, raw := range []string{`{"lead":{"first_name":"Ana"}}`, `{"lead":{"ID":"x"},"quote":null}`, `[1,2]`, `"~"`,
			`{"~":1,"lead":{"~":"v"}}`, `{"lead":{"~":2}}`, `{"quote":{"~":1},"lead":{"Custom":{"~":1}}}`, `{}`} {
			e := b.event(t, q, func(e *engine.Event) {
				e.Context, e.Decision, e.DedupeKey = json.RawMessage(raw), engine.Decision{}, ""
			})
			got, err := b.db.GetEvent(b.ctx, b.a.ID, e.ID)
			must(t, err)
			equal(t, raw, string(canon(t, got.Context)), string(canon(t, json.RawMessage(raw))))
			equal(t, raw+" decision", got.Decision, engine.Decision{})
		}
		e := b.event(t, q, func(e *engine.Event) { e.Context, e.DedupeKey = nil, "" })
		got, err := b.db.GetEvent(b.ctx, b.a.ID, e.ID)
		must(t, err)
		if got.Context != nil {
			t.Errorf("nil context read back as %s", got.Context)
		}
	})
}

package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// jsonbOrdered is raw with every object's keys in JSONB's order (length,
// then bytes), as PostgreSQL returns a JSONB value.
func jsonbOrdered(t *testing.T, raw []byte) []byte {
	t.Helper()
	ms, ok := objectMembers(string(raw))
	if !ok {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.WriteByte('[')
			for i, it := range items {
				if i > 0 {
					b.WriteByte(',')
				}
				b.Write(jsonbOrdered(t, it))
			}
			b.WriteByte(']')
			return b.Bytes()
		}
		return raw
	}
	for i := range ms {
		ms[i].value = string(jsonbOrdered(t, []byte(ms[i].value)))
	}
	slices.SortStableFunc(ms, func(a, b member) int {
		if len(a.key) != len(b.key) {
			return len(a.key) - len(b.key)
		}
		return strings.Compare(a.key, b.key)
	})
	return []byte(objectText(ms))
}

func randomSnapshot(r *rand.Rand, tenantID, leadID string) []byte {
	pick := func(vals ...string) string { return vals[r.IntN(len(vals))] }
	at := func() time.Time {
		if r.IntN(3) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
	}
	ptr := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		v := at()
		return &v
	}
	l := &engine.Lead{ID: pick(leadID, "", "other"), TenantID: pick(tenantID, "", "t-other"), FirstName: pick("", "Ana", "<é>"),
		LastName: pick("", "Silva"), Email: pick("", "a@b"), Phone: pick("", "+351"), Language: pick("", "pt"), Country: pick("", "PT"),
		Timezone: pick("", "Europe/Lisbon"), Source: pick("", "web"), Stage: pick("", "new"), Owner: pick("", "joao"),
		EmailOptOut: r.IntN(2) == 0, WhatsAppOptIn: r.IntN(2) == 0, WhatsAppOptedOutAt: ptr(), Version: r.Int64N(3),
		CreatedAt: at(), UpdatedAt: at()}
	switch r.IntN(3) {
	case 1:
		l.Tags = []string{}
	case 2:
		l.Tags = []string{"roofing", "\u2028"}
	}
	if r.IntN(2) == 0 {
		l.Custom = map[string]any{"k": pick("", "v"), "n": float64(r.IntN(5)) / 2, "b": false, "z": nil, "o": map[string]any{"a": 1.0}}
		if r.IntN(10) == 0 {
			// The marker's name in a custom field, where reading never
			// looks for it.
			l.Custom["~"] = map[string]any{"~": 1.0}
		}
	}
	var q *engine.Quote
	if r.IntN(4) != 0 {
		q = &engine.Quote{ID: pick("", "q1"), TenantID: pick(tenantID, ""), LeadID: pick(leadID, "", "l2"), Number: pick("", "Q-1"),
			AmountMinor: r.Int64N(3), Currency: pick("", "EUR"), Status: engine.QuoteStatus(pick("", "sent")), ValidUntil: ptr(),
			Revision: r.Int64N(3), PublicToken: pick("", "tok"), RejectionReason: pick("", "too dear"), Version: r.Int64N(2),
			CreatedAt: at(), UpdatedAt: at()}
	}
	b, _ := json.Marshal(map[string]any{"lead": l, "quote": q})
	return b
}

// TestEventContextRoundTrip holds the compact context to the plain one on
// random snapshots: read back, it is the bytes the plain form gives on
// SQLite (as written) and on PostgreSQL (in JSONB's order).
func TestEventContextRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const tenantID, leadID = "t-1", "l-1"
	smaller := 0
	for i := range 2000 {
		plain := randomSnapshot(r, tenantID, leadID)
		for _, pg := range []bool{false, true} {
			stored := []byte(encodeEventContext(string(plain), tenantID, leadID, pg))
			want := plain
			if pg {
				stored, want = jsonbOrdered(t, stored), jsonbOrdered(t, plain)
			}
			got, err := decodeEventContext(stored, tenantID, leadID)
			if err != nil {
				t.Fatalf("%d: %v\n%s", i, err, stored)
			}
			var c bytes.Buffer
			if err := json.Compact(&c, got); err != nil {
				t.Fatalf("%d: not JSON: %v\n%s", i, err, got)
			}
			if !bytes.Equal(c.Bytes(), want) {
				t.Fatalf("%d (jsonb %v):\nplain  %s\nstored %s\nread   %s", i, pg, want, stored, c.Bytes())
			}
			if len(stored) < len(plain) {
				smaller++
			}
		}
	}
	if smaller < 3900 {
		t.Errorf("only %d of 4000 stored forms are smaller than the plain one", smaller)
	}
}

// TestEventDecisionRoundTrip holds the compact decision to the plain one:
// read back, it is the same decision, and the same JSON.
func TestEventDecisionRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		d := engine.Decision{Outcome: engine.Outcome([]string{"workflow", "legacy", "none", ""}[r.IntN(4)]), Source: engine.SourceRule,
			Reason: fmt.Sprint("r", r.IntN(3)), WorkflowID: []string{"", "wf"}[r.IntN(2)], WorkflowVersion: r.Int64N(3),
			RuleID: []string{"", "rule"}[r.IntN(2)], OverrideID: []string{"", "ov"}[r.IntN(2)]}
		if r.IntN(2) == 0 {
			d.MissingFields = []string{}
		}
		if r.IntN(3) == 0 {
			d.MissingFields = append(d.MissingFields, "lead.custom.x")
		}
		switch r.IntN(3) {
		case 1:
			d.Trace = engine.Trace{}
		case 2:
			for j := range r.IntN(4) + 1 {
				d.Trace = append(d.Trace, engine.TraceEntry{Kind: "rule", ID: fmt.Sprint("r", j), Result: "failed", Detail: `<"&">`,
					Reason: "condition_false", Path: "all[0]", Field: "quote.amount", Op: "gte", Expected: []any{1.0, "x", nil},
					Actual: map[string]any{"a": true}})
			}
		}
		if r.IntN(3) == 0 {
			d.Shadow = &engine.Decision{Outcome: engine.OutcomeLegacy, Reason: "fallback", Trace: engine.Trace{{Kind: "mode", Result: "matched"}}}
		}
		plain, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := encodeEventDecision(d)
		if err != nil {
			t.Fatal(err)
		}
		var want, got engine.Decision
		if err := json.Unmarshal(plain, &want); err != nil {
			t.Fatal(err)
		}
		if err := decodeEventDecision([]byte(stored), string(d.Outcome), d.Reason, &got); err != nil {
			t.Fatalf("%d: %v\n%s", i, err, stored)
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, plain) {
			t.Fatalf("%d:\nplain  %s\nstored %s\nread   %s", i, plain, stored, again)
		}
		// The plain form (older rows) reads as it always did.
		var old engine.Decision
		if err := decodeEventDecision(plain, string(d.Outcome), d.Reason, &old); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(old); !bytes.Equal(again, plain) {
			t.Fatalf("%d: plain form read back as %s", i, again)
		}
	}
}

// BenchmarkEncodeEvent is the cost of an event's stored context and
// decision, paid on every quote action: a snapshot of a full lead and
// quote, and a decision with a short trace.
func BenchmarkEncodeEvent(b *testing.B) {
	const tenantID, leadID = "t-1", "l-1"
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	l := &engine.Lead{ID: leadID, TenantID: tenantID, FirstName: "Ana", LastName: "Silva", Email: "ana@example.com",
		Phone: "+351912345678", Language: "pt", Country: "PT", Timezone: "Europe/Lisbon", Source: "web", Stage: "new",
		Tags: []string{"roofing"}, Custom: map[string]any{"segment": "smb"}, Version: 1, CreatedAt: at, UpdatedAt: at}
	q := &engine.Quote{ID: "q-1", TenantID: tenantID, LeadID: leadID, Number: "Q-1", AmountMinor: 125000, Currency: "EUR",
		Status: "sent", Revision: 1, PublicToken: "tok", Version: 2, CreatedAt: at, UpdatedAt: at}
	plain, err := json.Marshal(map[string]any{"lead": l, "quote": q})
	if err != nil {
		b.Fatal(err)
	}
	d := engine.Decision{Outcome: engine.OutcomeWorkflow, Source: engine.SourceRule, Reason: "rule_matched", WorkflowID: "wf-1",
		WorkflowVersion: 3, RuleID: "rule-1", Trace: engine.Trace{{Kind: "rule", ID: "rule-1", Result: "matched"}}}
	b.ReportAllocs()
	for b.Loop() {
		for _, pg := range []bool{false, true} {
			_ = encodeEventContext(string(plain), tenantID, leadID, pg)
		}
		if _, err := encodeEventDecision(d); err != nil {
			b.Fatal(err)
		}
	}
}

package condition_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
)

// FuzzParseCondition feeds arbitrary bytes to the parser. Whatever it
// rejects must be an EINVALID error naming at least one field; whatever it
// accepts must evaluate and explain itself without panicking, report a
// missing field whenever it is unknown, survive a trip through a rule set
// and a stored decision, and marshal to a canonical form that parses to
// the same condition.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		`{"all":[]}`,
		`{"any":[]}`,
		`{"field":"lead.source","op":"eq","value":"web"}`,
		`{"all":[{"field":"lead.tags","op":"contains","value":"vip"},{"any":[{"field":"quote.amount","op":"gte","value":1000},{"field":"lead.custom.roof_type","op":"in","value":["tile",1,true]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	noQuote := enginetest.FullContext()
	noQuote.Quote = nil
	contexts := []*engine.Context{nil, {}, {Lead: &engine.Lead{}, Quote: &engine.Quote{}}, noQuote, enginetest.FullContext()}

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := condition.Parse(data)
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) == 0 {
				t.Fatalf("rejection %v is not an EINVALID error with fields", err)
			}
			for _, fe := range e.Fields {
				if fe.Message == "" {
					t.Fatalf("field error %q has no message", fe.Field)
				}
			}
			if c != nil {
				t.Fatal("a rejected condition was returned")
			}
			return
		}

		canonical, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := condition.Parse(canonical)
		if err != nil {
			t.Fatalf("canonical form %s does not parse: %v", canonical, err)
		}
		if b, _ := json.Marshal(again); string(b) != string(canonical) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", canonical, b)
		}

		for _, ctx := range contexts {
			r := c.Eval(ctx)
			_ = r.Detail()
			missing := c.MissingFields(ctx)
			if (r.Truth == condition.TruthUnknown) != (len(missing) > 0) {
				t.Fatalf("truth %v with missing fields %v", r.Truth, missing)
			}
			if r.Truth == condition.TruthUnknown && !r.Missing() {
				t.Fatalf("unknown result does not say its field is missing")
			}
			if r2 := again.Eval(ctx); r2.Truth != r.Truth || r2.Path() != r.Path() {
				t.Fatalf("canonical form evaluates to %v at %q, original to %v at %q", r2.Truth, r2.Path(), r.Truth, r.Path())
			}
		}

		// The same condition twice in a rule set, where leaves are shared
		// and results remembered across rules, must decide as it does alone.
		rs, err := resolver.NewRuleSet([]engine.Rule{
			{ID: "r1", Trigger: engine.AnyTrigger, Priority: 1, Enabled: true, Condition: data, WorkflowID: "w"},
			{ID: "r2", Trigger: engine.AnyTrigger, Priority: 2, Enabled: true, Condition: canonical, WorkflowID: "w"},
			{ID: "r3", Trigger: engine.AnyTrigger, Priority: 3, Enabled: true, Condition: json.RawMessage(`{"all":[]}`), WorkflowID: "w"},
		}, []engine.Workflow{{ID: "w", Trigger: engine.TriggerSent, Enabled: true, Version: 1}})
		if err != nil {
			t.Fatalf("NewRuleSet rejects a condition condition.Parse accepted: %v", err)
		}
		for _, ctx := range contexts {
			r := c.Eval(ctx)
			d := rs.Resolve(resolver.ResolveInput{Mode: engine.ModeShadow, Trigger: engine.TriggerSent, Context: ctx})
			want, entries := "r3", 3
			if r.Matched() {
				want, entries = "r1", 1
			}
			if e := d.Shadow; e.RuleID != want || len(e.Trace) != entries {
				t.Fatalf("rule set decided %s with %d entries, want %s with %d", e.RuleID, len(e.Trace), want, entries)
			}
			for _, e := range d.Shadow.Trace[:entries-1] {
				if e.Path != r.Path() || e.Field != r.Field() || e.Op != r.Op() || (e.Reason == engine.ReasonConditionUnknown) != (r.Truth == condition.TruthUnknown) {
					t.Fatalf("trace entry %+v disagrees with Eval: %s at %q (%s %s)", e, r.Truth, r.Path(), r.Field(), r.Op())
				}
			}
			stored, err := json.Marshal(d)
			if err != nil {
				t.Fatalf("marshal decision: %v", err)
			}
			var back engine.Decision
			if err := json.Unmarshal(stored, &back); err != nil {
				t.Fatalf("unmarshal decision %s: %v", stored, err)
			}
			if b, _ := json.Marshal(back); string(b) != string(stored) {
				t.Fatalf("decision does not round-trip:\n%s\n%s", stored, b)
			}
		}
	})
}

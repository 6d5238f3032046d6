package resolver

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// quoteActionRuleSet is a tenant as a quote action meets it: n rules for
// quote.sent of the shapes tenants write (a source, a country list, an
// amount, a tag, a custom field), every one but the last failing for the
// lead of fullCtx, so that the trace has n entries, n-1 of them failed
// conditions with their expected and actual values.
func quoteActionRuleSet(b *testing.B, n int) (*RuleSet, ResolveInput) {
	b.Helper()
	shapes := []string{
		`{"all":[{"field":"lead.source","op":"eq","value":"phone"},{"field":"quote.amount","op":"gte","value":%d}]}`,
		`{"all":[{"field":"lead.country","op":"in","value":["ES","FR"]},{"field":"lead.tags","op":"contains","value":"roofing"}]}`,
		`{"any":[{"field":"quote.amount","op":"gt","value":%d},{"field":"lead.stage","op":"eq","value":"won"}]}`,
		`{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.custom.roof_type","op":"eq","value":"slate"}]}`,
		`{"field":"lead.custom.floors","op":"gte","value":%d}`,
	}
	rules := make([]engine.Rule, n)
	for i := range rules {
		cond := `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.tags","op":"contains","value":"roofing"}]}`
		if i < n-1 {
			cond = shapes[i%len(shapes)]
			if i%len(shapes) != 1 && i%len(shapes) != 3 {
				cond = fmt.Sprintf(cond, 1_000_000+i)
			}
		}
		rules[i] = testRule(fmt.Sprintf("rule_%04d", i), "quote.sent", i, true, cond, "wf_sent", 0)
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		b.Fatal(err)
	}
	in := ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: fullCtx(), Legacy: legacyAllOn, Now: nowTest}
	d := rs.Resolve(in)
	d.Render()
	if d.RuleID != rules[n-1].ID || len(d.Trace) != n {
		b.Fatalf("decision %s/%s with %d entries, want %s after %d", d.Reason, d.RuleID, len(d.Trace), rules[n-1].ID, n)
	}
	return rs, in
}

// BenchmarkDecisionJSON marshals the decision a quote action stores in its
// event (json.Marshal of Event.Decision in the store) for a tenant of 1
// rule (as quoteflow bench's), 8 and 40 rules (a lazy trace), and 1,000.
// It was first written to compare the hand-written trace encoder that the
// engine had with encoding/json on the same traces; the figures that
// decided its removal are in the notes of that change.
func BenchmarkDecisionJSON(b *testing.B) {
	for _, n := range []int{1, 8, 40, 1000} {
		rs, in := quoteActionRuleSet(b, n)
		d := rs.Resolve(in)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package engine

import (
	"encoding/json"
	"fmt"
	"testing"
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
	rules := make([]Rule, n)
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
	in := ResolveInput{Mode: ModeEngine, Trigger: TriggerSent, Context: fullCtx(), Legacy: legacyAllOn, Now: nowTest}
	d := rs.Resolve(in)
	d.Render()
	if d.RuleID != rules[n-1].ID || len(d.Trace) != n {
		b.Fatalf("decision %s/%s with %d entries, want %s after %d", d.Reason, d.RuleID, len(d.Trace), rules[n-1].ID, n)
	}
	return rs, in
}

// stdDecision is a Decision whose trace encoding/json writes: what
// Trace.MarshalJSON would be without the hand-written encoder.
type stdDecision struct {
	Outcome         Outcome      `json:"outcome"`
	Source          Source       `json:"source"`
	Reason          string       `json:"reason"`
	WorkflowID      string       `json:"workflow_id,omitempty"`
	WorkflowVersion int64        `json:"workflow_version,omitempty"`
	RuleID          string       `json:"rule_id,omitempty"`
	OverrideID      string       `json:"override_id,omitempty"`
	MissingFields   []string     `json:"missing_fields"`
	Trace           stdTrace     `json:"trace"`
	Shadow          *stdDecision `json:"shadow,omitempty"`
}

type stdTrace Trace

type stdEntry TraceEntry

// MarshalJSON writes the trace out (a lazy one too), renders the Detail of
// every entry into a copy and lets encoding/json write the copies.
func (t stdTrace) MarshalJSON() ([]byte, error) {
	d := Decision{Trace: Trace(t)}
	d.Render() // a lazy trace's entries; a written one is shared, so copied below
	out := make([]stdEntry, len(d.Trace))
	for i := range d.Trace {
		e := d.Trace[i]
		e.render()
		out[i] = stdEntry(e)
	}
	return json.Marshal(out)
}

func std(d *Decision) *stdDecision {
	if d == nil {
		return nil
	}
	return &stdDecision{Outcome: d.Outcome, Source: d.Source, Reason: d.Reason, WorkflowID: d.WorkflowID,
		WorkflowVersion: d.WorkflowVersion, RuleID: d.RuleID, OverrideID: d.OverrideID,
		MissingFields: d.MissingFields, Trace: stdTrace(d.Trace), Shadow: std(d.Shadow)}
}

// BenchmarkDecisionJSON marshals the decision a quote action stores in its
// event (json.Marshal of Event.Decision in the store) with the trace
// encoder of this package (hand) and with encoding/json (std) on the same
// trace, for a tenant of 1 rule (as quoteflow bench's), 8 and 40 rules
// (lazy trace), and 1,000.
func BenchmarkDecisionJSON(b *testing.B) {
	for _, n := range []int{1, 8, 40, 1000} {
		rs, in := quoteActionRuleSet(b, n)
		d := rs.Resolve(in)
		hand, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		if s, err := json.Marshal(std(&d)); err != nil || string(s) != string(hand) {
			b.Fatalf("%d rules: encoding/json writes\n%.400s\nwant\n%.400s (%v)", n, s, hand, err)
		}
		b.Run(fmt.Sprintf("rules=%d/hand", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(d); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rules=%d/std", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(std(&d)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

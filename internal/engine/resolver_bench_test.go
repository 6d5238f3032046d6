package engine

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchRuleSet builds n enabled rules for quote.sent, each an all of five
// leaves over different kinds of field. Every rule but the last fails on its
// fifth leaf, so every leaf of every rule is evaluated: the worst case for
// a resolution that has to walk all the rules.
func benchRuleSet(b *testing.B, n int) *RuleSet {
	b.Helper()
	rules := make([]Rule, n)
	for i := range rules {
		roof := fmt.Sprintf("slate-%d", i)
		if i == n-1 {
			roof = "tile"
		}
		cond := fmt.Sprintf(`{"all":[
			{"field":"lead.source","op":"eq","value":"web"},
			{"field":"quote.amount","op":"gte","value":%d},
			{"field":"lead.tags","op":"contains","value":"roofing"},
			{"field":"lead.country","op":"in","value":["ES","FR","PT"]},
			{"field":"lead.custom.roof_type","op":"eq","value":%q}]}`, 100+i%1000, roof)
		rules[i] = testRule(fmt.Sprintf("rule_%04d", i), "quote.sent", i, true, cond, "wf_sent", 0)
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

func BenchmarkResolve1000Rules(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := ResolveInput{Mode: ModeEngine, Trigger: TriggerSent, Context: fullCtx(), Legacy: legacyAllOn, Now: nowTest}
	if d := rs.Resolve(in); d.RuleID != "rule_0999" || len(d.Trace) != 1000 {
		b.Fatalf("decision %s/%s with %d trace entries, want rule_0999 after 1000", d.Reason, d.RuleID, len(d.Trace))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.Resolve(in)
	}
}

// BenchmarkResolve1000RulesFirstMatch is the same rule set when the first
// rule matches: the cost of a resolution that stops early, whose trace is
// one entry long.
func BenchmarkResolve1000RulesFirstMatch(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	ctx := fullCtx()
	ctx.Lead.Custom = map[string]any{"roof_type": "slate-0"}
	in := ResolveInput{Mode: ModeEngine, Trigger: TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest}
	if d := rs.Resolve(in); d.RuleID != "rule_0000" || len(d.Trace) != 1 {
		b.Fatalf("decision %s/%s with %d trace entries, want rule_0000 after 1", d.Reason, d.RuleID, len(d.Trace))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.Resolve(in)
	}
}

// BenchmarkEvaluate1000Rules is the first pass of Resolve alone: every
// condition of the rule set evaluated against one lead, without the
// trace. The difference from BenchmarkResolve1000Rules is what the trace
// costs.
func BenchmarkEvaluate1000Rules(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	ctx := fullCtx()
	ti := triggerIndex(TriggerSent)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sc := rs.getScratch()
		env := newEnv(ctx)
		env.memo = sc.memo
		for i := range rs.hot {
			if h := &rs.hot[i]; h.skip[ti] == skipNone {
				if t, _, _ := rs.conds.evalNode(&env, h.root); t == TruthTrue {
					break
				}
			}
		}
		rs.putScratch(sc)
	}
}

// BenchmarkResolve1000RulesJSON adds what storing the decision costs:
// rendering 999 failed-condition explanations and encoding the trace.
func BenchmarkResolve1000RulesJSON(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := ResolveInput{Mode: ModeEngine, Trigger: TriggerSent, Context: fullCtx(), Legacy: legacyAllOn, Now: nowTest}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := rs.Resolve(in)
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConditionEval measures one five-leaf condition on its own; it
// must report 0 allocs/op.
func BenchmarkConditionEval(b *testing.B) {
	c, err := ParseCondition(json.RawMessage(`{"all":[
		{"field":"lead.source","op":"eq","value":"web"},
		{"field":"quote.amount","op":"gte","value":1000},
		{"field":"lead.tags","op":"contains","value":"roofing"},
		{"field":"lead.country","op":"in","value":["ES","FR","PT"]},
		{"field":"lead.custom.roof_type","op":"eq","value":"tile"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	ctx := fullCtx()
	if !c.Eval(ctx).Matched() {
		b.Fatal("condition does not match")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Eval(ctx)
	}
}

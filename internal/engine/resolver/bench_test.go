package resolver

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
)

// benchRuleSet builds n enabled rules for quote.sent, each an all of five
// leaves over different kinds of field. Every rule but the last fails on its
// fifth leaf, so every leaf of every rule is evaluated: the worst case for
// a resolution that has to walk all the rules. The fifth leaf is
// lead.custom.roof_type eq "slate-<i>", which the rule index keys the rules
// on; with prefix instead of eq (noIndex) the index cannot pass over them.
func benchRuleSet(b *testing.B, n int, noIndex ...bool) *RuleSet {
	b.Helper()
	op := "eq"
	if len(noIndex) > 0 && noIndex[0] {
		op = "prefix"
	}
	rules := make([]engine.Rule, n)
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
			{"field":"lead.custom.roof_type","op":%q,"value":%q}]}`, 100+i%1000, op, roof)
		rules[i] = testRule(fmt.Sprintf("rule_%04d", i), "quote.sent", i, true, cond, "wf_sent", 0)
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

// resolve1000 is the input of the 1,000-rule benchmarks: the last rule
// matches.
func resolve1000(b *testing.B, rs *RuleSet, eager bool) ResolveInput {
	b.Helper()
	in := ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: fullCtx(), Legacy: legacyAllOn, Now: nowTest}
	d := rs.resolve(in, eager)
	d.Render()
	if d.RuleID != "rule_0999" || len(d.Trace) != 1000 {
		b.Fatalf("decision %s/%s with %d trace entries, want rule_0999 after 1000", d.Reason, d.RuleID, len(d.Trace))
	}
	return in
}

// BenchmarkResolve1000Rules is Resolve alone: the decision, with its trace
// lazy.
func BenchmarkResolve1000Rules(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := resolve1000(b, rs, false)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.Resolve(in)
	}
}

// BenchmarkResolve1000RulesNoIndex is the same when the rule index cannot
// pass over the rules: every leaf of every rule is evaluated.
func BenchmarkResolve1000RulesNoIndex(b *testing.B) {
	rs := benchRuleSet(b, 1000, true)
	in := resolve1000(b, rs, false)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.Resolve(in)
	}
}

// BenchmarkResolve1000RulesEager is the same resolution made by the tests'
// reference (resolveEager): no index, no condition set, every rule's own
// condition evaluated and explained through condition.Result, the trace
// written out as it goes. Since the reference moved to test code it no
// longer measures what production once did (which was about 150 µs and
// one allocation); it is kept to show what the reference costs.
func BenchmarkResolve1000RulesEager(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := resolve1000(b, rs, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.resolve(in, true)
	}
}

// BenchmarkResolve1000RulesFirstMatch is the same rule set when the first
// rule matches: the cost of a resolution that stops early, whose trace is
// one entry long.
func BenchmarkResolve1000RulesFirstMatch(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	ctx := fullCtx()
	ctx.Lead.Custom = map[string]any{"roof_type": "slate-0"}
	in := ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest}
	if d := rs.Resolve(in); d.RuleID != "rule_0000" || len(d.Trace) != 1 {
		b.Fatalf("decision %s/%s with %d trace entries, want rule_0000 after 1", d.Reason, d.RuleID, len(d.Trace))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs.Resolve(in)
	}
}

// BenchmarkResolve1000RulesJSON adds what storing the decision costs:
// writing the lazy trace's 1,000 entries, with 999 failed-condition
// explanations, as JSON.
func BenchmarkResolve1000RulesJSON(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := resolve1000(b, rs, false)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := rs.Resolve(in)
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve1000RulesEagerJSON is BenchmarkResolve1000RulesJSON made
// by the tests' reference: the trace written out by resolveEager, then
// marshalled by encoding/json entry by entry, as traces were before they
// were lazy.
func BenchmarkResolve1000RulesEagerJSON(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := resolve1000(b, rs, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := rs.resolve(in, true)
		if _, err := json.Marshal(enginetest.Reference(b, &d)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve1000RulesRender is Resolve and Render: the decision with
// its trace written out for Go code.
func BenchmarkResolve1000RulesRender(b *testing.B) {
	rs := benchRuleSet(b, 1000)
	in := resolve1000(b, rs, false)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d := rs.Resolve(in)
		d.Render()
	}
}

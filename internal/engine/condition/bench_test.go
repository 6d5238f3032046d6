package condition

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchSet is the conditions of the resolver's 1,000-rule benchmarks: an
// all of five leaves over different kinds of field, every one but the last
// failing on its fifth leaf for fullCtx's lead.
func benchSet(b *testing.B, n int) *Set {
	b.Helper()
	conds := make([]*Condition, n)
	groups := make([]uint8, n)
	for i := range conds {
		roof := fmt.Sprintf("slate-%d", i)
		if i == n-1 {
			roof = "tile"
		}
		conds[i] = mustParse(b, fmt.Sprintf(`{"all":[
			{"field":"lead.source","op":"eq","value":"web"},
			{"field":"quote.amount","op":"gte","value":%d},
			{"field":"lead.tags","op":"contains","value":"roofing"},
			{"field":"lead.country","op":"in","value":["ES","FR","PT"]},
			{"field":"lead.custom.roof_type","op":"eq","value":%q}]}`, 100+i%1000, roof))
		groups[i] = 1
	}
	return NewSet(conds, groups)
}

// BenchmarkEvaluate1000Rules is every condition of the resolver's 1,000
// rules evaluated against one lead as Set.First evaluates them, without the
// index or the trace: the evaluation in the resolver's
// BenchmarkResolve1000RulesNoIndex.
func BenchmarkEvaluate1000Rules(b *testing.B) {
	s := benchSet(b, 1000)
	ctx := fullCtx()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var env Env
		s.Prepare(&env, ctx)
		e := &env.env
		for i := range s.hot {
			h := &s.hot[i]
			var t Truth
			if h.nflat >= 0 {
				t = s.all.evalFlat(e, s.flat[h.flat:h.flat+h.nflat])
			} else {
				t, _, _ = s.all.evalNode(e, h.root)
			}
			if t == TruthTrue {
				break
			}
		}
		s.Release(&env)
	}
}

// BenchmarkConditionEval measures one five-leaf condition on its own; it
// must report 0 allocs/op.
func BenchmarkConditionEval(b *testing.B) {
	c, err := Parse(json.RawMessage(`{"all":[
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

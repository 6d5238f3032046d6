//go:build !race

// The race detector makes sync.Pool drop what it is given, so that the
// resolver's scratch memory is allocated again now and then.

package resolver

import (
	"fmt"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// TestResolveAllocates checks that a resolution allocates one object,
// whatever the number of rules and conditions it evaluates: the record of
// a lazy trace, or a short trace written out.
func TestResolveAllocates(t *testing.T) {
	for _, op := range []string{"eq", "prefix"} { // keyed by the index, and not
		var rules []engine.Rule
		for i := 0; i < 200; i++ {
			rules = append(rules, testRule(fmt.Sprintf("r%03d", i), "quote.sent", i, true, fmt.Sprintf(`{"all":[
				{"field":"lead.source","op":"eq","value":"web"},
				{"field":"quote.amount","op":"gte","value":%d},
				{"field":"lead.tags","op":"contains","value":"roofing"},
				{"any":[{"field":"lead.country","op":"in","value":["ES","FR","PT"]},{"field":"lead.timezone","op":"eq","value":"x"}]},
				{"field":"lead.custom.roof_type","op":%q,"value":"slate-%d"}]}`, i, op, i), "wf_sent", 0))
		}
		rs, err := NewRuleSet(rules, standardWorkflows())
		if err != nil {
			t.Fatal(err)
		}
		for _, roof := range []string{"none", "slate-3"} {
			ctx := fullCtx()
			ctx.Lead.Custom = map[string]any{"roof_type": roof}
			in := ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest}
			rs.Resolve(in) // fills the pool
			if n := testing.AllocsPerRun(50, func() { rs.Resolve(in) }); n != 1 {
				t.Errorf("%s, roof %s: Resolve allocates %v times per run, want 1", op, roof, n)
			}
		}
	}
}

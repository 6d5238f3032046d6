package resolver

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
)

// checkLazy resolves in twice, lazily and eagerly, and checks that the two
// decisions are the same to Go code after Render and the same JSON, and
// that the lazy one's JSON does not depend on what happens to the context
// after resolution (mutate changes it). It returns the lazy decision.
func checkLazy(t *testing.T, rs *RuleSet, in ResolveInput, mutate func(*engine.Context)) engine.Decision {
	t.Helper()
	eager := rs.resolve(in, true)
	want := enginetest.Encodings(t, enginetest.Reference(t, &eager))

	d := rs.Resolve(in)
	if mutate != nil && in.Context != nil {
		mutate(in.Context)
	}
	if got := enginetest.Encodings(t, d); got != want {
		t.Fatalf("lazy decision marshals as\n%s\nwant\n%s", got[0], want[0])
	}
	// Marshalling leaves the decision as it was.
	if got := enginetest.Encodings(t, d); got != want {
		t.Fatalf("second marshal differs:\n%s\nwant\n%s", got[0], want[0])
	}
	// A copy rendered in Go is the eager decision, field for field.
	r := d
	r.Render()
	if got, want := enginetest.Rendered(t, &r), enginetest.Rendered(t, &eager); !reflect.DeepEqual(got, want) {
		t.Fatalf("rendered decision\n%+v\nwant\n%+v", got, want)
	}
	if got := enginetest.Encodings(t, r); got != want {
		t.Fatalf("rendered decision marshals as\n%s\nwant\n%s", got[0], want[0])
	}
	// Stored and read back, the JSON is the same (but for invalid UTF-8,
	// which JSON cannot carry and reads back as U+FFFD).
	var back engine.Decision
	if err := json.Unmarshal([]byte(want[0]), &back); err != nil {
		t.Fatal(err)
	}
	wantBack := enginetest.Encodings(t, enginetest.Reference(t, &back))
	if got := enginetest.Encodings(t, back); got != wantBack {
		t.Fatalf("decision read back marshals as\n%s\nwant\n%s", got[0], wantBack[0])
	}
	if !strings.Contains(want[0], `\ufffd`) && wantBack != want {
		t.Fatalf("decision does not round-trip:\n%s\n%s", wantBack[0], want[0])
	}
	// Reading a stored decision into one that holds a lazy trace replaces
	// the trace.
	into := d
	if d.Shadow != nil {
		s := *d.Shadow
		into.Shadow = &s
	}
	if err := json.Unmarshal([]byte(want[0]), &into); err != nil {
		t.Fatal(err)
	}
	if got := enginetest.Encodings(t, into); got != wantBack {
		t.Fatalf("decision read into a lazy one marshals as\n%s\nwant\n%s", got[0], wantBack[0])
	}
	return d
}

// TestLazyTraceMatchesEager replays the resolver's table tests with rule
// sets large enough for a lazy trace, and checks the lazy trace against
// the eager one.
func TestLazyTraceMatchesEager(t *testing.T) {
	t.Parallel()
	// Padding rules before the case's own rules make the trace longer
	// than eagerTraceMax, without changing the outcome: they never match,
	// some through the index and some not, one adds a missing field
	// wherever the case's context lacks lead.stage, and they read custom
	// keys past the slots evalEnv holds.
	var padding []engine.Rule
	for i := 0; i < eagerTraceMax+4; i++ {
		cond := fmt.Sprintf(`{"all":[{"field":"lead.source","op":"eq","value":"pad-%d"},{"field":"lead.custom.pad%d","op":"eq","value":"x"}]}`, i, i)
		switch i % 4 {
		case 1:
			cond = fmt.Sprintf(`{"any":[{"field":"lead.custom.pad%d","op":"exists"},{"field":"quote.amount","op":"lt","value":-1}]}`, i)
		case 2:
			cond = `{"all":[{"field":"lead.stage","op":"eq","value":"never"},{"field":"lead.tags","op":"contains","value":"never"}]}`
		}
		padding = append(padding, testRule(fmt.Sprintf("pad_%02d", i), "*", -100+i, true, cond, "wf_sent", 0))
	}
	for _, tt := range resolveOrderCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, pad := range [][]engine.Rule{nil, padding} {
				rs, err := NewRuleSet(append(append([]engine.Rule{}, pad...), tt.rules...), standardWorkflows())
				if err != nil {
					t.Fatal(err)
				}
				legacy := tt.legacy
				if legacy == nil {
					legacy = legacyAllOn
				}
				for _, mode := range []engine.Mode{engine.ModeEngine, engine.ModeShadow, engine.ModeLegacy} {
					ctx := fullCtx()
					if tt.ctx != nil {
						tt.ctx(ctx)
					}
					in := ResolveInput{Mode: mode, Trigger: tt.trigger, Context: ctx, Overrides: tt.overrides, Legacy: legacy, Now: nowTest}
					d := checkLazy(t, rs, in, scramble)
					if d.Reason != tt.reason && mode == engine.ModeEngine {
						t.Errorf("reason %s, want %s", d.Reason, tt.reason)
					}
				}
			}
		})
	}
}

// scramble changes a context in every way a caller might after resolving.
func scramble(c *engine.Context) {
	if l := c.Lead; l != nil {
		for i := range l.Tags {
			l.Tags[i] = "scrambled"
		}
		l.Source, l.Country, l.FirstName = "scrambled", "XX", ""
		l.Custom = map[string]any{"roof_type": "scrambled"}
	}
	if q := c.Quote; q != nil {
		q.AmountMinor, q.Status = 1, engine.QuoteDraft
	}
	c.Lead, c.Quote, c.Tenant = &engine.Lead{}, nil, nil
}

// TestLazyTraceDecisionJSON is TestDecisionJSON's rule set, padded so that
// its trace is lazy.
func TestLazyTraceDecisionJSON(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_false", "quote.sent", 1, true, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"any":[{"field":"lead.tags","op":"contains","value":"gold"},{"field":"quote.amount","op":"gt","value":5000}]}]}`, "wf_sent", 0),
		testRule("r_unknown", "quote.sent", 2, true, condTZ, "wf_sent", 0),
		testRule("r_custom", "quote.sent", 3, true, `{"field":"lead.custom.roof_type","op":"gte","value":3}`, "wf_sent", 0),
		testRule("r_off", "quote.sent", 4, false, condWeb, "wf_sent", 0),
	}
	for i := 0; i < 30; i++ {
		rules = append(rules, testRule(fmt.Sprintf("r_more_%02d", i), "quote.sent", 5+i, true,
			fmt.Sprintf(`{"all":[{"field":"lead.custom.roof_type","op":"eq","value":"slate-%d"},{"field":"lead.tags","op":"contains","value":"roofing"}]}`, i), "wf_sent", 0))
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []engine.Mode{engine.ModeEngine, engine.ModeShadow} {
		ctx := fullCtx()
		in := ResolveInput{Mode: mode, Trigger: engine.TriggerSent, Context: ctx, Legacy: engine.LegacySettings{}, Now: nowTest}
		checkLazy(t, rs, in, scramble)
		// checkLazy rendered the decision's shadow, which copies share.
		in.Context = fullCtx()
		d := rs.Resolve(in)
		e := &d
		if mode == engine.ModeShadow {
			e = d.Shadow
		}
		if !e.Trace.Lazy() || len(e.Trace) != 0 {
			t.Fatalf("%s: trace of %d entries is not lazy", mode, len(e.Trace))
		}
		e.Render()
		if len(e.Trace) != 35 || e.Trace[0].Detail == "" || !reflect.DeepEqual(e.Trace[0].Actual, []string{"roofing", "vip"}) {
			t.Errorf("%s: after Render: %d entries, first %+v", mode, len(e.Trace), e.Trace[0])
		}
		if e.Trace[5].Field != "lead.custom.roof_type" || e.Trace[5].Actual != "tile" {
			t.Errorf("%s: trace[5] = %+v, want the failed roof_type leaf", mode, e.Trace[5])
		}
	}
}

// TestLazyTraceRandom compares lazy and eager resolutions of random rule
// sets and contexts.
func TestLazyTraceRandom(t *testing.T) {
	t.Parallel()
	n := 300
	if testing.Short() {
		n = 60
	}
	for seed := 0; seed < n; seed++ {
		g := gen{r: rand.New(rand.NewPCG(uint64(seed), 7))}
		rules := g.rules()
		rs, err := NewRuleSet(rules, standardWorkflows())
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if seed%10 == 0 {
			rs.writeOut = true // the rule set a lazy trace cannot serve
		}
		for k := 0; k < 8; k++ {
			in := ResolveInput{
				Mode: g.pick(engine.ModeEngine, engine.ModeEngine, engine.ModeShadow, engine.ModeLegacy), Trigger: g.trigger(),
				Context: g.context(), Overrides: g.overrides(), Legacy: g.legacy(), Now: nowTest,
			}
			t.Run(fmt.Sprintf("seed%d/%d", seed, k), func(t *testing.T) {
				checkLazy(t, rs, in, scramble)
			})
		}
	}
}

// gen makes random rules and contexts from small vocabularies, so that
// rules and leads often agree, often differ by one value, and often lack
// what the other has.
type gen struct{ r *rand.Rand }

func (g gen) pick(opts ...engine.Mode) engine.Mode { return opts[g.r.IntN(len(opts))] }

func (g gen) str(pool ...string) string { return pool[g.r.IntN(len(pool))] }

var (
	genSources   = []string{"web", "phone", "email", "Wéb", "<b>&amp;", "", "line\nbreak\u2028"}
	genCountries = []string{"PT", "ES", "FR", "", "DE"}
	genStages    = []string{"new", "won", "", "lost"}
	genCustom    = []string{"roof_type", "floors", "solar", "areas", "inspected_at", "k0", "k1", "k2", "k3", "k4",
		"k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17"}
	genCustomStr = []string{"tile", "slate", "flat", "2026-03-01T10:00:00+01:00", "x\"y", "\x01bad\xff"}
)

func (g gen) trigger() engine.Trigger {
	if g.r.IntN(20) == 0 {
		return "quote.lost"
	}
	return engine.Trigger(g.str("quote.sent", "quote.sent", "quote.sent", "quote.accepted", "quote.viewed", "quote.rejected", "quote.expired"))
}

func (g gen) legacy() engine.LegacySettings {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return legacyAllOn
	}
	return engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"email"}}}
}

func (g gen) rules() []engine.Rule {
	n := g.r.IntN(60)
	rules := make([]engine.Rule, n)
	for i := range rules {
		trig := g.str("*", "quote.sent", "quote.sent", "quote.sent", "quote.accepted")
		wf := g.str("wf_sent", "wf_sent", "wf_sent_b", "wf_sent_off", "wf_accepted", "wf_gone")
		cond, _ := json.Marshal(g.cond(0))
		rules[i] = testRule(fmt.Sprintf("r%02d", i), trig, g.r.IntN(10), g.r.IntN(8) != 0, string(cond), wf, g.r.IntN(3))
	}
	return rules
}

func (g gen) cond(depth int) any {
	if depth == 0 || (depth < 3 && g.r.IntN(4) == 0) {
		kids := make([]any, g.r.IntN(5))
		if depth == 0 && g.r.IntN(10) == 0 {
			kids = kids[:0]
		}
		for i := range kids {
			kids[i] = g.cond(depth + 1)
		}
		if depth > 0 && g.r.IntN(3) == 0 || g.r.IntN(8) == 0 {
			return map[string]any{"any": kids}
		}
		return map[string]any{"all": kids}
	}
	return g.leaf()
}

func (g gen) leaf() any {
	leaf := func(field, op string, value any) any {
		m := map[string]any{"field": field, "op": op}
		if op != "exists" && op != "missing" {
			m["value"] = value
		}
		return m
	}
	switch g.r.IntN(12) {
	case 0, 1, 2:
		return leaf("lead.source", g.str("eq", "eq", "eq", "neq", "prefix", "exists"), g.str(genSources[:5]...))
	case 3:
		if op := g.str("in", "nin"); g.r.IntN(2) == 0 {
			return leaf("lead.country", op, []any{"PT", "ES"})
		}
		return leaf("lead.country", g.str("eq", "eq", "missing"), g.str(genCountries[:4]...))
	case 4:
		return leaf("lead.stage", g.str("eq", "eq", "contains"), g.str(genStages[:3]...))
	case 5:
		return leaf("quote.amount", g.str("gt", "gte", "lt", "eq"), float64(g.r.IntN(3000)))
	case 6:
		if op := g.str("in", "nin"); g.r.IntN(2) == 0 {
			return leaf("lead.tags", op, []any{"vip", "gold"})
		}
		return leaf("lead.tags", "contains", g.str("roofing", "vip", "gold"))
	case 7:
		return leaf("lead.name", g.str("eq", "prefix", "contains"), g.str("Ana Silva", "Ana", "a S", "Silva"))
	case 8:
		return leaf("quote.valid_until", g.str("gt", "lt", "exists"), "2026-05-01T00:00:00Z")
	case 9:
		return leaf("lead.email_opt_out", g.str("eq", "neq"), g.r.IntN(2) == 0)
	}
	key := "lead.custom." + g.str(genCustom...)
	switch g.r.IntN(6) {
	case 0, 1, 2:
		return leaf(key, "eq", g.str(genCustomStr...))
	case 3:
		return leaf(key, g.str("eq", "gt", "lte"), float64(g.r.IntN(4)))
	case 4:
		return leaf(key, g.str("in", "nin"), []any{"tile", 2.0, true})
	}
	return leaf(key, g.str("exists", "missing"), nil)
}

func (g gen) context() *engine.Context {
	if g.r.IntN(20) == 0 {
		return nil
	}
	ctx := fullCtx()
	l := ctx.Lead
	l.Source = g.str(genSources...)
	l.Country = g.str(genCountries...)
	l.Stage = g.str(genStages...)
	l.FirstName = g.str("Ana", "", " Ana ", "Zoë")
	l.Tags = [][]string{nil, {}, {"roofing"}, {"vip", "gold", "a", "b", "c", "d"}}[g.r.IntN(4)]
	l.EmailOptOut = g.r.IntN(2) == 0
	l.Custom = map[string]any{}
	for _, k := range genCustom {
		switch g.r.IntN(9) {
		case 0, 1:
			l.Custom[k] = g.str(genCustomStr...)
		case 2:
			l.Custom[k] = float64(g.r.IntN(4))
		case 3:
			l.Custom[k] = g.r.IntN(2) == 0
		case 4:
			l.Custom[k] = []any{"tile", 1.5e-7, "x"}
		case 5:
			l.Custom[k] = map[string]any{"a": 1.0}
		case 6:
			l.Custom[k] = nil
		case 7:
			l.Custom[k] = json.Number("3")
		}
	}
	switch g.r.IntN(6) {
	case 0:
		ctx.Quote = nil
	case 1:
		ctx.Lead = nil
	case 2:
		ctx.Quote.ValidUntil = nil
	}
	return ctx
}

func (g gen) overrides() []engine.Override {
	var out []engine.Override
	for i := g.r.IntN(4); i > 0; i-- {
		if g.r.IntN(2) == 0 {
			continue
		}
		var exp *time.Time
		if g.r.IntN(3) == 0 {
			exp = expired()
		}
		out = append(out, testOverride(fmt.Sprintf("o%d", i), g.str("*", "quote.sent", "quote.accepted"),
			engine.OverrideAction(g.str("workflow", "workflow", "suppress", "mute")), g.str("wf_sent_off", "wf_gone", "wf_accepted", "wf_sent"), g.r.IntN(3), exp))
	}
	return out
}

// TestLazyTraceSharesNothing marshals and renders copies of one lazy
// decision concurrently; the race detector checks that they share nothing
// they write.
func TestLazyTraceSharesNothing(t *testing.T) {
	t.Parallel()
	var rules []engine.Rule
	for i := 0; i < 40; i++ {
		rules = append(rules, testRule(fmt.Sprintf("r%02d", i), "quote.sent", i, true,
			fmt.Sprintf(`{"all":[{"field":"lead.custom.k%d","op":"eq","value":"v"},{"field":"lead.tags","op":"contains","value":"x"}]}`, i), "wf_sent", 0))
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	ctx := fullCtx()
	for i := 0; i < 40; i += 2 {
		ctx.Lead.Custom[fmt.Sprintf("k%d", i)] = "w"
	}
	d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Now: nowTest})
	want := enginetest.Encodings(t, d)
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			c := d
			if g%2 == 0 {
				c.Render()
			}
			b, _ := json.Marshal(c)
			done <- string(b)
		}()
	}
	for g := 0; g < 4; g++ {
		if got := <-done; got != want[0] {
			t.Errorf("concurrent marshal:\n%s\nwant\n%s", got, want[0])
		}
	}
}

package engine_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
)

// TestTraceJSONEncoder checks engine.Trace.MarshalJSON against encoding/json, as
// it encoded traces before they were lazy, on entries that Go code builds,
// with every kind of value and string.
func TestTraceJSONEncoder(t *testing.T) {
	t.Parallel()
	strs := []string{"", "plain", "quote\"back\\slash", "<script>&", "tab\tnl\ncr\rbs\bff\f", "\x00\x1f\x7f",
		"héllo wörld", "\u2028\u2029", "bad\xffutf8\xc3", "emoji 🙂", "\xed\xa0\x80"}
	vals := []any{nil, "s", "<&>", 0.0, math.Copysign(0, -1), 1.0, 1e21, 1e-7, 123456789.125, -1.5e-6, 1e20, math.MaxFloat64,
		math.SmallestNonzeroFloat64, true, false, []string{}, []string(nil), []string{"a", "<b>"}, []any{}, []any(nil),
		[]any{"a", 1.0, true, nil, []any{2.0}}, []any{json.Number("7")}, map[string]any{"z": 1.0, "a": "<"},
		json.Number("12.50"), 3, int64(-4), uint8(5), float32(0.1), struct{ A int }{1}}
	r := rand.New(rand.NewPCG(1, 2))
	var entries []engine.TraceEntry
	for i := 0; i < 2000; i++ {
		s := func() string { return strs[r.IntN(len(strs))] }
		e := engine.TraceEntry{Kind: s(), ID: s(), Result: s(), Detail: s(), Reason: s(), Path: s(), Field: s(), Op: s(),
			Expected: vals[r.IntN(len(vals))], Actual: vals[r.IntN(len(vals))], Cause: engine.Cause(r.IntN(4))}
		if r.IntN(2) == 0 {
			e.Kind, e.Detail = engine.TraceKindRule, ""
			e.Reason = []string{engine.ReasonConditionFalse, engine.ReasonConditionUnknown, engine.ReasonDisabled}[r.IntN(3)]
		}
		entries = append(entries, e)
	}
	for i := range entries {
		d := engine.Decision{Trace: engine.Trace(entries[i : i+1])}
		if got, want := enginetest.Encodings(t, d), enginetest.Encodings(t, enginetest.Reference(t, &d)); got != want {
			t.Fatalf("entry %#v:\n%s\nwant\n%s", entries[i], got[0], want[0])
		}
	}
	for _, tr := range []engine.Trace{nil, {}, entries} {
		d := engine.Decision{Trace: tr}
		if got, want := enginetest.Encodings(t, d), enginetest.Encodings(t, enginetest.Reference(t, &d)); got != want {
			t.Fatalf("trace of %d entries:\n%.300s\nwant\n%.300s", len(tr), got[0], want[0])
		}
	}
	// A value encoding/json cannot write fails the marshal, as it did.
	for _, v := range []any{math.NaN(), math.Inf(1), []any{"a", math.Inf(-1)}} {
		d := engine.Decision{Trace: engine.Trace{{Kind: engine.TraceKindRule, Result: engine.TraceFailed, Reason: engine.ReasonConditionFalse, Field: "f", Actual: v}}}
		if _, err := json.Marshal(d); err == nil || !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("marshal of actual %v: err %v", v, err)
		}
	}
}

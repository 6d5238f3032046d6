package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refDecision and refEntry encode a decision as encoding/json encoded it
// before traces were lazy and had an encoder of their own: the struct by
// reflection, and each entry through the entry's MarshalJSON of that time.
// The resolver's tests keep the same reference.
type refDecision struct {
	Outcome         Outcome      `json:"outcome"`
	Source          Source       `json:"source"`
	Reason          string       `json:"reason"`
	WorkflowID      string       `json:"workflow_id,omitempty"`
	WorkflowVersion int64        `json:"workflow_version,omitempty"`
	RuleID          string       `json:"rule_id,omitempty"`
	OverrideID      string       `json:"override_id,omitempty"`
	MissingFields   []string     `json:"missing_fields"`
	Trace           []refEntry   `json:"trace"`
	Shadow          *refDecision `json:"shadow,omitempty"`
}

type refEntry TraceEntry

func (e refEntry) MarshalJSON() ([]byte, error) {
	switch {
	case e.Detail != "" || e.Kind != TraceKindRule:
	case e.Reason == ReasonConditionFalse:
		c := e.Cause
		if e.Field == "" {
			c = CauseEmptyAny
		}
		e.Detail = refConditionDetail("false", e.Path, e.Field, e.Op, e.Expected, e.Actual, c)
	case e.Reason == ReasonConditionUnknown:
		e.Detail = refConditionDetail("unknown", e.Path, e.Field, e.Op, e.Expected, nil, CauseMissing)
	}
	type plain TraceEntry
	return json.Marshal(plain(e))
}

func reference(t testing.TB, d *Decision) *refDecision {
	t.Helper()
	if d == nil {
		return nil
	}
	r := &refDecision{
		Outcome: d.Outcome, Source: d.Source, Reason: d.Reason, WorkflowID: d.WorkflowID,
		WorkflowVersion: d.WorkflowVersion, RuleID: d.RuleID, OverrideID: d.OverrideID,
		MissingFields: d.MissingFields, Shadow: reference(t, d.Shadow),
	}
	if d.Trace != nil {
		r.Trace = make([]refEntry, len(d.Trace))
		for i, e := range d.Trace {
			r.Trace[i] = refEntry(e)
		}
	}
	return r
}

// encodings marshals v with json.Marshal and with an Encoder that does not
// escape HTML and indents, which is how an HTTP framework may write it.
func encodings(t testing.TB, v any) [2]string {
	t.Helper()
	a, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return [2]string{string(a), b.String()}
}

// TestTraceJSONEncoder checks Trace.MarshalJSON against encoding/json, as
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
	var entries []TraceEntry
	for i := 0; i < 2000; i++ {
		s := func() string { return strs[r.IntN(len(strs))] }
		e := TraceEntry{Kind: s(), ID: s(), Result: s(), Detail: s(), Reason: s(), Path: s(), Field: s(), Op: s(),
			Expected: vals[r.IntN(len(vals))], Actual: vals[r.IntN(len(vals))], Cause: Cause(r.IntN(4))}
		if r.IntN(2) == 0 {
			e.Kind, e.Detail = TraceKindRule, ""
			e.Reason = []string{ReasonConditionFalse, ReasonConditionUnknown, ReasonDisabled}[r.IntN(3)]
		}
		entries = append(entries, e)
	}
	for i := range entries {
		d := Decision{Trace: Trace(entries[i : i+1])}
		if got, want := encodings(t, d), encodings(t, reference(t, &d)); got != want {
			t.Fatalf("entry %#v:\n%s\nwant\n%s", entries[i], got[0], want[0])
		}
	}
	for _, tr := range []Trace{nil, {}, entries} {
		d := Decision{Trace: tr}
		if got, want := encodings(t, d), encodings(t, reference(t, &d)); got != want {
			t.Fatalf("trace of %d entries:\n%.300s\nwant\n%.300s", len(tr), got[0], want[0])
		}
	}
	// A value encoding/json cannot write fails the marshal, as it did.
	for _, v := range []any{math.NaN(), math.Inf(1), []any{"a", math.Inf(-1)}} {
		d := Decision{Trace: Trace{{Kind: TraceKindRule, Result: TraceFailed, Reason: ReasonConditionFalse, Field: "f", Actual: v}}}
		if _, err := json.Marshal(d); err == nil || !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("marshal of actual %v: err %v", v, err)
		}
	}
}

// refConditionDetail is the sentence of a failed condition as the engine
// wrote it before traces had an encoder of their own (conditionDetail),
// values through json.Marshal: the reference the engine's own sentence
// writer is checked against.
func refConditionDetail(truth, path, field, op string, expected, actual any, c Cause) string {
	var b strings.Builder
	b.WriteString("condition ")
	b.WriteString(truth)
	if path != "" {
		b.WriteString(" at ")
		b.WriteString(path)
	}
	b.WriteString(": ")
	if c == CauseEmptyAny || field == "" {
		b.WriteString("an empty any matches nothing")
		return b.String()
	}
	b.WriteString(field)
	b.WriteByte(' ')
	b.WriteString(op)
	if expected != nil {
		b.WriteByte(' ')
		b.WriteString(refJSONText(expected))
	}
	switch c {
	case CauseMissing:
		b.WriteString(", but the field is missing")
	case CauseMismatch:
		b.WriteString(", but the lead holds ")
		b.WriteString(refJSONText(actual))
		b.WriteString(", ")
		b.WriteString(refJSONType(actual))
		b.WriteString(" that ")
		b.WriteString(op)
		b.WriteString(" cannot compare with that value")
	default:
		b.WriteString(", actual ")
		b.WriteString(refJSONText(actual))
	}
	return b.String()
}

func refJSONText(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(out)
}

func refJSONType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "a number"
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err == nil {
			return "a number"
		}
	}
	return "a value"
}

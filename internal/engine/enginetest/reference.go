package enginetest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// RefDecision and RefEntry encode a decision as encoding/json encoded it
// before traces were lazy and had their own encoder: the struct by
// reflection, and each entry through the entry's MarshalJSON of that time.
type RefDecision struct {
	Outcome         engine.Outcome `json:"outcome"`
	Source          engine.Source  `json:"source"`
	Reason          string         `json:"reason"`
	WorkflowID      string         `json:"workflow_id,omitempty"`
	WorkflowVersion int64          `json:"workflow_version,omitempty"`
	RuleID          string         `json:"rule_id,omitempty"`
	OverrideID      string         `json:"override_id,omitempty"`
	MissingFields   []string       `json:"missing_fields"`
	Trace           []RefEntry     `json:"trace"`
	Shadow          *RefDecision   `json:"shadow,omitempty"`
}

type RefEntry engine.TraceEntry

func (e RefEntry) MarshalJSON() ([]byte, error) {
	e.Render()
	type plain engine.TraceEntry
	return json.Marshal(plain(e))
}

// Render is TraceEntry.render as it was, with conditionDetail.
func (e *RefEntry) Render() {
	if e.Detail != "" || e.Kind != engine.TraceKindRule {
		return
	}
	switch e.Reason {
	case engine.ReasonConditionFalse:
		c := e.Cause
		if e.Field == "" {
			c = engine.CauseEmptyAny
		}
		e.Detail = RefConditionDetail("false", e.Path, e.Field, e.Op, e.Expected, e.Actual, c)
	case engine.ReasonConditionUnknown:
		e.Detail = RefConditionDetail("unknown", e.Path, e.Field, e.Op, e.Expected, nil, engine.CauseMissing)
	}
}

// Reference converts a decision whose trace is written out.
func Reference(t testing.TB, d *engine.Decision) *RefDecision {
	t.Helper()
	if d == nil {
		return nil
	}
	if d.Trace.Lazy() {
		t.Fatal("reference of a lazy decision")
	}
	r := &RefDecision{
		Outcome: d.Outcome, Source: d.Source, Reason: d.Reason, WorkflowID: d.WorkflowID,
		WorkflowVersion: d.WorkflowVersion, RuleID: d.RuleID, OverrideID: d.OverrideID,
		MissingFields: d.MissingFields, Shadow: Reference(t, d.Shadow),
	}
	if d.Trace != nil {
		r.Trace = make([]RefEntry, len(d.Trace))
		for i, e := range d.Trace {
			r.Trace[i] = RefEntry(e)
		}
	}
	return r
}

// Rendered is Reference with every entry rendered, as Render renders it
// for got and as render did for want: what Go code reads after Render.
func Rendered(t testing.TB, d *engine.Decision) *RefDecision {
	r := Reference(t, d)
	for x := r; x != nil; x = x.Shadow {
		for i := range x.Trace {
			x.Trace[i].Render()
		}
	}
	return r
}

// Encodings marshals v with json.Marshal and with an Encoder that does not
// escape HTML and indents, which is how an HTTP framework may write it.
func Encodings(t testing.TB, v any) [2]string {
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

// RefConditionDetail is the sentence of a failed condition as the engine
// wrote it before traces had an encoder of their own (conditionDetail),
// values through json.Marshal: the reference the engine's own sentence
// writer is checked against.
func RefConditionDetail(truth, path, field, op string, expected, actual any, c engine.Cause) string {
	var b strings.Builder
	b.WriteString("condition ")
	b.WriteString(truth)
	if path != "" {
		b.WriteString(" at ")
		b.WriteString(path)
	}
	b.WriteString(": ")
	if c == engine.CauseEmptyAny || field == "" {
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
	case engine.CauseMissing:
		b.WriteString(", but the field is missing")
	case engine.CauseMismatch:
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

package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Outcome is what a decision says to do.
type Outcome string

// Outcomes.
const (
	OutcomeWorkflow   Outcome = "workflow"   // run a workflow
	OutcomeLegacy     Outcome = "legacy"     // send the legacy settings' message
	OutcomeSuppressed Outcome = "suppressed" // an override says say nothing
	OutcomeNone       Outcome = "none"       // nothing applies; send nothing
)

// Source is which part of the resolution produced a decision.
type Source string

// Sources.
const (
	SourceOverride Source = "override"
	SourceRule     Source = "rule"
	SourceFallback Source = "fallback"
	SourceMode     Source = "mode"
)

// Decision is the resolver's answer for one lead and trigger, with the trace
// that explains it. It is stored on every trigger event, so its JSON form is
// part of the API contract.
//
// Resolve leaves a trace of more than 16 entries lazy (see Trace): JSON
// always carries every entry, but Go code must call Render before it reads
// Trace. Copies of a decision share its trace until one of them is
// rendered.
type Decision struct {
	Outcome         Outcome  `json:"outcome"`
	Source          Source   `json:"source"`
	Reason          string   `json:"reason"`
	WorkflowID      string   `json:"workflow_id,omitempty"`
	WorkflowVersion int64    `json:"workflow_version,omitempty"`
	RuleID          string   `json:"rule_id,omitempty"`
	OverrideID      string   `json:"override_id,omitempty"`
	MissingFields   []string `json:"missing_fields"`
	Trace           Trace    `json:"trace"`
	// Shadow is the engine's own decision in shadow mode, computed and
	// stored beside the legacy decision that is acted on.
	Shadow *Decision `json:"shadow,omitempty"`
}

// TraceEntry explains what the resolver did with one override, rule or
// policy step. Kind is "override", "rule", "fallback" or "mode"; Result is
// "matched", "skipped", "failed" or "warning"; Detail is a sentence for
// people, and the other fields say the same for programs.
//
// The resolver writes out short traces only: of a long one it keeps what it
// did in the decision, and the entries are written when the decision is
// marshalled (or when Decision.Render is called), so that resolving
// against many rules allocates nothing per rule. In either case the Detail
// of a failed condition is written then. Read a decision's Trace in Go
// only after Render; JSON always carries it all.
type TraceEntry struct {
	Kind   string `json:"kind"`
	ID     string `json:"id,omitempty"`
	Result string `json:"result"`
	Detail string `json:"detail"`
	// Reason is a stable code: disabled, wrong_trigger, workflow_disabled,
	// workflow_missing, expired, condition_false, condition_unknown, ...
	Reason string `json:"reason,omitempty"`
	// Path is the JSON path, inside the rule's condition, of the node that
	// decided a failure; Field, Op, Expected and Actual describe it.
	Path     string `json:"path,omitempty"`
	Field    string `json:"field,omitempty"`
	Op       string `json:"op,omitempty"`
	Expected any    `json:"expected,omitempty"`
	Actual   any    `json:"actual,omitempty"`

	// Cause says how the leaf that decided a failed condition got its
	// value, for the Detail written later; it is not part of the JSON.
	Cause Cause `json:"-"`

	// lazy marks the entry that stands for a lazy trace (see LazyTrace).
	lazy bool
}

// Trace entry kinds.
const (
	TraceKindOverride = "override"
	TraceKindRule     = "rule"
	TraceKindFallback = "fallback"
	TraceKindMode     = "mode"
)

// Trace entry results.
const (
	TraceMatched = "matched"
	TraceSkipped = "skipped"
	TraceFailed  = "failed"
	TraceWarning = "warning"
)

// Reason codes of trace entries. They are stable: clients and the
// observability API group by them.
const (
	ReasonDisabled         = "disabled"
	ReasonWrongTrigger     = "wrong_trigger"
	ReasonWorkflowDisabled = "workflow_disabled"
	ReasonWorkflowMissing  = "workflow_missing"
	ReasonExpired          = "expired"
	ReasonInvalidAction    = "invalid_action"
	ReasonConditionFalse   = "condition_false"
	ReasonConditionUnknown = "condition_unknown"
)

// Reason codes of decisions. A matching trace entry carries the same code.
const (
	ReasonOverrideSuppress             = "override_suppress"
	ReasonOverrideWorkflow             = "override_workflow"
	ReasonRuleMatched                  = "rule_matched"
	ReasonFallbackLegacy               = "fallback_legacy"
	ReasonFallbackLegacyDisabled       = "fallback_legacy_disabled"
	ReasonFallbackInternalSignal       = "fallback_internal_signal"
	ReasonFallbackNoneByDesign         = "fallback_none_by_design"
	ReasonModeLegacy                   = "mode_legacy"
	ReasonModeLegacyDisabled           = "mode_legacy_disabled"
	ReasonModeLegacyUnsupportedTrigger = "mode_legacy_unsupported_trigger"
	ReasonUnknownTrigger               = "unknown_trigger"
)

// Cause says how the leaf that decided a condition got its truth value,
// which the Detail of a failed rule's trace entry explains.
type Cause uint8

// Causes.
const (
	CauseCompared Cause = iota // the field's value was compared
	CauseMissing               // the field is absent from the context
	CauseMismatch              // a custom field holds a type the operator cannot compare
	CauseEmptyAny              // an empty any, which matches nothing
)

// MarshalJSON writes the entry with its Detail rendered.
func (e TraceEntry) MarshalJSON() ([]byte, error) {
	var w detailWriter
	w.render(&e)
	return json.Marshal(plainEntry(e))
}

// plainEntry is a TraceEntry without its MarshalJSON, for encoding/json to
// write field by field.
type plainEntry TraceEntry

// Trace is a decision's trace: the overrides, rules and policy steps the
// resolver considered, in order.
//
// A trace of more than 16 entries that the resolver returns is lazy: it is
// empty to Go code (len 0), and holds, beyond its length, what the
// resolver did, from which its entries are written when it is marshalled
// to JSON or when Decision.Render replaces it with its entries. Read a
// decision's Trace in Go only after Render.
type Trace []TraceEntry

// TraceSource is what a lazy Trace stands for: a resolution that writes its
// trace's entries when they are read. TraceEntries may be called any number
// of times, concurrently, and returns new entries, the same every time.
type TraceSource interface {
	TraceEntries() []TraceEntry
}

// LazyTrace returns a Trace of length 0 that stands for the entries src
// writes. head is its storage: the caller keeps it alive with src, in the
// same allocation, so that a lazy trace costs nothing more than src.
func LazyTrace(head *[1]TraceEntry, src TraceSource) Trace {
	head[0] = TraceEntry{Expected: src, lazy: true}
	return head[:0:1]
}

// Lazy reports whether t stands for entries not written out yet: Go code
// calls Decision.Render before it reads such a trace.
func (t Trace) Lazy() bool { return t.source() != nil }

// source returns what a lazy trace stands for, nil for any other trace.
func (t Trace) source() TraceSource {
	if len(t) != 0 || cap(t) == 0 {
		return nil
	}
	// Only LazyTrace sets lazy, which no other package can.
	if e := &t[:1][0]; e.lazy {
		return e.Expected.(TraceSource)
	}
	return nil
}

// MarshalJSON writes the trace as a JSON array of its entries, exactly as
// encoding/json writes a []TraceEntry, lazy or not: the entries are written
// out (for a lazy trace), their Details rendered into copies, and
// encoding/json writes the copies.
func (t Trace) MarshalJSON() ([]byte, error) {
	entries := []TraceEntry(t)
	if src := t.source(); src != nil {
		entries = src.TraceEntries()
	} else if t == nil {
		return []byte("null"), nil
	}
	out := make([]plainEntry, len(entries))
	var w detailWriter
	for i := range entries {
		out[i] = plainEntry(entries[i])
		w.render((*TraceEntry)(&out[i]))
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a JSON array of entries as encoding/json reads a
// []TraceEntry; a lazy trace is replaced, never decoded into.
func (t *Trace) UnmarshalJSON(b []byte) error {
	if t.Lazy() {
		*t = nil
	}
	return json.Unmarshal(b, (*[]TraceEntry)(t))
}

// Render writes out a lazy trace and fills in the Detail of every trace
// entry that the resolver left to be rendered later, in this decision and
// its shadow. JSON encoding does the same on its own, without changing
// the decision; Go code calls Render before it reads Trace.
//
// A lazy trace reads a copy of the lead context's values taken by the
// resolver, so Render gives the same entries however the context changed
// since; it shares the lead's custom values (a list, an object), which must
// not be changed in place until the decision has been rendered or
// marshalled.
func (d *Decision) Render() {
	if d == nil {
		return
	}
	if src := d.Trace.source(); src != nil {
		d.Trace = src.TraceEntries()
	}
	var w detailWriter
	for i := range d.Trace {
		w.render(&d.Trace[i])
	}
	d.Shadow.Render()
}

// ConditionDetail is the sentence that explains why a condition is not
// true: truth is "false" or "unknown", path the JSON path of the node that
// decided it, field, op and expected its leaf, actual the value the
// context holds. The condition package's explanations and the Detail of a
// failed rule's trace entry both use it, so that the preview API and
// stored decisions say the same thing.
func ConditionDetail(truth, path, field, op string, expected, actual any, c Cause) string {
	var w detailWriter
	return w.sentence(truth, path, field, op, expected, actual, c)
}

// detailWriter writes the sentences of failed conditions, and can be used
// for many: the buffer and the encoder that writes values in it are kept
// from one sentence to the next, so that a trace of a thousand failed rules
// allocates one string per sentence and little else.
type detailWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// render fills e.Detail if the resolver left it for later: a failed rule's
// entry, whose sentence depends only on the entry's other fields.
func (w *detailWriter) render(e *TraceEntry) {
	if e.Detail != "" || e.Kind != TraceKindRule {
		return
	}
	switch e.Reason {
	case ReasonConditionFalse:
		c := e.Cause
		if e.Field == "" {
			c = CauseEmptyAny
		}
		e.Detail = w.sentence("false", e.Path, e.Field, e.Op, e.Expected, e.Actual, c)
	case ReasonConditionUnknown:
		e.Detail = w.sentence("unknown", e.Path, e.Field, e.Op, e.Expected, nil, CauseMissing)
	}
}

func (w *detailWriter) sentence(truth, path, field, op string, expected, actual any, c Cause) string {
	b := &w.buf
	b.Reset()
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
		w.value(expected)
	}
	switch c {
	case CauseMissing:
		b.WriteString(", but the field is missing")
	case CauseMismatch:
		b.WriteString(", but the lead holds ")
		w.value(actual)
		b.WriteString(", ")
		b.WriteString(jsonType(actual))
		b.WriteString(" that ")
		b.WriteString(op)
		b.WriteString(" cannot compare with that value")
	default:
		b.WriteString(", actual ")
		w.value(actual)
	}
	return b.String()
}

// value writes v as json.Marshal does, or "?" if it cannot be written. A
// string of plain ASCII, the commonest value, is written as it is between
// quotes, which is what encoding/json writes for it, without the encoder's
// cost per call; anything else goes through encoding/json.
func (w *detailWriter) value(v any) {
	if s, ok := v.(string); ok && plainASCII(s) {
		w.buf.WriteByte('"')
		w.buf.WriteString(s)
		w.buf.WriteByte('"')
		return
	}
	if w.enc == nil {
		w.enc = json.NewEncoder(&w.buf)
	}
	n := w.buf.Len()
	if err := w.enc.Encode(v); err != nil {
		w.buf.Truncate(n)
		w.buf.WriteByte('?')
		return
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode ends the value with a newline
}

// plainASCII reports whether encoding/json writes s unchanged between
// quotes: printable ASCII without the characters it escapes (", \ and,
// as json.Marshal escapes HTML, <, > and &).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// jsonType names the JSON type of a custom field's value, for a sentence.
func jsonType(v any) string {
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

package engine

import (
	"encoding/json"
	"strings"
)

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

// render fills Detail if the resolver left it for later.
func (e *TraceEntry) render() {
	if e.Detail != "" || e.Kind != TraceKindRule {
		return
	}
	switch e.Reason {
	case ReasonConditionFalse:
		w := e.why
		if e.Field == "" {
			w = whyEmptyAny
		}
		e.Detail = conditionDetail(TruthFalse, e.Path, e.Field, e.Op, e.Expected, e.Actual, w)
	case ReasonConditionUnknown:
		e.Detail = conditionDetail(TruthUnknown, e.Path, e.Field, e.Op, e.Expected, nil, whyMissing)
	}
}

// MarshalJSON writes the entry with its Detail rendered.
func (e TraceEntry) MarshalJSON() ([]byte, error) {
	e.render()
	type plain TraceEntry
	return json.Marshal(plain(e))
}

// Render fills in the Detail of every trace entry, in this decision and
// its shadow, that the resolver left to be rendered later.
// JSON encoding does the same on its own; call Render before reading those
// fields in Go.
func (d *Decision) Render() {
	if d == nil {
		return
	}
	for i := range d.Trace {
		d.Trace[i].render()
	}
	d.Shadow.Render()
}

// conditionDetail is the sentence that explains why a condition is not
// true, shared by Result.Detail and trace entries so that the preview API
// and stored decisions say the same thing.
func conditionDetail(t Truth, path, field, op string, expected, actual any, w why) string {
	var b strings.Builder
	b.WriteString("condition ")
	b.WriteString(t.String())
	if path != "" {
		b.WriteString(" at ")
		b.WriteString(path)
	}
	b.WriteString(": ")
	if w == whyEmptyAny || field == "" {
		b.WriteString("an empty any matches nothing")
		return b.String()
	}
	b.WriteString(field)
	b.WriteByte(' ')
	b.WriteString(op)
	if expected != nil {
		b.WriteByte(' ')
		b.WriteString(jsonText(expected))
	}
	switch {
	case w == whyMissing:
		b.WriteString(", but the field is missing")
	case w == whyMismatch:
		b.WriteString(", but the lead holds ")
		b.WriteString(jsonText(actual))
		b.WriteString(", ")
		b.WriteString(jsonType(actual))
		b.WriteString(" that ")
		b.WriteString(op)
		b.WriteString(" cannot compare with that value")
	default:
		b.WriteString(", actual ")
		b.WriteString(jsonText(actual))
	}
	return b.String()
}

func jsonText(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(out)
}

func jsonType(v any) string {
	switch v.(type) {
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
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return "a value"
}

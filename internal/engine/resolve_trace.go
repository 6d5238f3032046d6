package engine

import (
	"bytes"
	"encoding/json"
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
	var w detailWriter
	w.render(e)
}

// MarshalJSON writes the entry with its Detail rendered.
func (e TraceEntry) MarshalJSON() ([]byte, error) {
	e.render()
	return json.Marshal(plainEntry(e))
}

// plainEntry is a TraceEntry without its MarshalJSON, for encoding/json to
// write field by field.
type plainEntry TraceEntry

// Trace is a decision's trace: the overrides, rules and policy steps the
// resolver considered, in order.
//
// A trace of more than 16 entries that Resolve returns is lazy: it is
// empty to Go code (len 0), and holds, beyond its length, what the
// resolver did, from which its entries are written when it is marshalled
// to JSON or when Decision.Render replaces it with its entries. Read a
// decision's Trace in Go only after Render.
type Trace []TraceEntry

// lazy returns the record of a lazy trace, nil for any other.
func (t Trace) lazy() *lazyTrace {
	if len(t) != 0 || cap(t) == 0 {
		return nil
	}
	// Only lazyTrace.trace makes an entry whose Expected is a *lazyTrace,
	// and the type is the package's own, so nothing else can pass for one.
	lt, _ := t[:1][0].Expected.(*lazyTrace)
	return lt
}

// MarshalJSON writes the trace as a JSON array of its entries, exactly as
// encoding/json writes a []TraceEntry, lazy or not: the entries are written
// out (for a lazy trace), their Details rendered into copies, and
// encoding/json writes the copies.
func (t Trace) MarshalJSON() ([]byte, error) {
	entries := []TraceEntry(t)
	if lt := t.lazy(); lt != nil {
		entries = lt.entries()
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
	if t.lazy() != nil {
		*t = nil
	}
	return json.Unmarshal(b, (*[]TraceEntry)(t))
}

// Render writes out a lazy trace and fills in the Detail of every trace
// entry that the resolver left to be rendered later, in this decision and
// its shadow. JSON encoding does the same on its own, without changing
// the decision; Go code calls Render before it reads Trace.
//
// A lazy trace reads a copy of the lead context's values taken by Resolve,
// so Render gives the same entries however the context changed since; it
// shares the lead's custom values (a list, an object), which must not be
// changed in place until the decision has been rendered or marshalled.
func (d *Decision) Render() {
	if d == nil {
		return
	}
	if lt := d.Trace.lazy(); lt != nil {
		d.Trace = lt.entries()
	}
	var w detailWriter
	for i := range d.Trace {
		w.render(&d.Trace[i])
	}
	d.Shadow.Render()
}

// traceSource is what a resolution that considered rules did, from which
// its trace entries are written: the override entries before the rules,
// how far down the rules it went, and whether the last one it reached
// matched. The entries of failed conditions are derived again by
// evaluating them, in the order they are written, in the same context.
type traceSource struct {
	rs      *RuleSet
	prefix  []TraceEntry // the overrides' entries
	trigger Trigger
	reason  string // the fallback's, when no rule won
	end     int32  // rules[:end] were considered
	ti      uint8
	won     bool // rules[end-1] matched
}

// lazyTrace is a traceSource kept in a decision instead of its trace,
// with a copy of the context's values.
type lazyTrace struct {
	// head is the trace's storage, beyond its length: head[0].Expected
	// points back at the record (see Trace.lazy).
	head [1]TraceEntry
	traceSource
	// env is the context's values, detached from the context by capture.
	env evalEnv
	// tagBuf holds a short copy of the lead's tags.
	tagBuf [4]string
}

// trace returns the lazy Trace that stands for lt.
func (lt *lazyTrace) trace() Trace {
	lt.head[0].Expected = lt
	return lt.head[:0:1]
}

// capture detaches lt.env from the context and the resolution's scratch
// memory: it looks up every custom key that rules[:end] read, which the
// rules the index passed over may not have, and copies what the context
// shares.
func (lt *lazyTrace) capture() {
	e := &lt.env
	keys := lt.rs.customKeys[:lt.rs.keysUpTo[lt.end-1]]
	for slot, key := range keys {
		var c *any
		if slot < customSlots {
			c = &e.custom[slot]
		} else {
			c = &e.more[slot-customSlots]
		}
		if *c == nil {
			v, ok := e.lookupCustom(key)
			if !ok {
				v = missingValue{}
			}
			*c = v
		}
	}
	if n := len(keys) - customSlots; n > 0 {
		e.more = append([]any(nil), e.more[:n]...)
	} else {
		e.more = nil
	}
	e.customMap, e.memo = nil, nil
	switch {
	case !lt.rs.readsTags:
		e.tags = nil
	case len(e.tags) <= len(lt.tagBuf):
		e.tags = lt.tagBuf[:copy(lt.tagBuf[:], e.tags)]
	default:
		e.tags = append([]string(nil), e.tags...)
	}
}

// entry writes entry k of the trace into te, which is zero, evaluating
// the failed condition it explains in env, which is lt.env or a copy of
// it; boxed serves every entry of one trace. The Detail of a failed
// condition is left for TraceEntry.render. The fields are written one by
// one: te may be in a new trace on the heap, where writing a whole entry
// would cost a write barrier per pointer while the collector runs.
func (ts *traceSource) entry(k int, env *evalEnv, boxed *boxedFields, te *TraceEntry) {
	if k < len(ts.prefix) {
		*te = ts.prefix[k]
		return
	}
	i := k - len(ts.prefix)
	if i >= int(ts.end) {
		*te = fallbackEntry(ts.trigger, ts.reason)
		return
	}
	rs := ts.rs
	r := &rs.rules[i]
	te.Kind, te.ID = TraceKindRule, r.id
	switch skip := rs.hot[i].skip[ts.ti]; {
	case skip != skipNone:
		te.Result, te.Reason, te.Detail = TraceSkipped, skipReasons[skip], r.details[skip]
	case ts.won && i == int(ts.end)-1:
		te.Result, te.Reason, te.Detail = TraceMatched, ReasonRuleMatched, r.details[skipNone]
	default:
		conds := &rs.conds
		t, node, w := conds.evalNode(env, rs.hot[i].root)
		te.Result, te.Reason = TraceFailed, ReasonConditionFalse
		if t == TruthUnknown {
			te.Reason = ReasonConditionUnknown
		}
		te.why = w
		if node < 0 {
			return
		}
		te.Path = conds.paths[node]
		if n := conds.nodes[node]; n.kind == nodeLeaf {
			l := &conds.leaves[n.leaf]
			te.Field, te.Op, te.Expected = conds.info[n.leaf].name, opNames[l.op], conds.info[n.leaf].expected
			if w != whyMissing {
				te.Actual = env.actual(l, boxed)
			}
		}
	}
}

// size is the number of entries of the trace.
func (ts *traceSource) size() int {
	n := len(ts.prefix) + int(ts.end)
	if !ts.won {
		n++
	}
	return n
}

// entries writes the trace out, evaluating in env.
func (ts *traceSource) entries(env *evalEnv) []TraceEntry {
	out := make([]TraceEntry, ts.size())
	var boxed boxedFields
	for k := range out {
		ts.entry(k, env, &boxed, &out[k])
	}
	return out
}

// readEnv returns a copy of lt.env to evaluate in, so that concurrent
// readers of one decision share nothing they write. Every custom value
// they read is cached in it already.
func (lt *lazyTrace) readEnv() evalEnv {
	env := lt.env
	if len(env.more) > 0 {
		env.more = append([]any(nil), env.more...)
	}
	return env
}

// entries writes the lazy trace out.
func (lt *lazyTrace) entries() []TraceEntry {
	env := lt.readEnv()
	return lt.traceSource.entries(&env)
}

// conditionDetail is the sentence that explains why a condition is not
// true, shared by Result.Detail and trace entries so that the preview API
// and stored decisions say the same thing.
func conditionDetail(t Truth, path, field, op string, expected, actual any, w why) string {
	var dw detailWriter
	return dw.sentence(t, path, field, op, expected, actual, w)
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
		why := e.why
		if e.Field == "" {
			why = whyEmptyAny
		}
		e.Detail = w.sentence(TruthFalse, e.Path, e.Field, e.Op, e.Expected, e.Actual, why)
	case ReasonConditionUnknown:
		e.Detail = w.sentence(TruthUnknown, e.Path, e.Field, e.Op, e.Expected, nil, whyMissing)
	}
}

func (w *detailWriter) sentence(t Truth, path, field, op string, expected, actual any, why why) string {
	b := &w.buf
	b.Reset()
	b.WriteString("condition ")
	b.WriteString(t.String())
	if path != "" {
		b.WriteString(" at ")
		b.WriteString(path)
	}
	b.WriteString(": ")
	if why == whyEmptyAny || field == "" {
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
	switch {
	case why == whyMissing:
		b.WriteString(", but the field is missing")
	case why == whyMismatch:
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

// value writes v as json.Marshal does, or "?" if it cannot be written.
func (w *detailWriter) value(v any) {
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

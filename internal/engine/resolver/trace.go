package resolver

import (
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
)

// traceSource is what a resolution that considered rules did, from which
// its trace entries are written: the override entries before the rules,
// how far down the rules it went, and whether the last one it reached
// matched. The entries of failed conditions are derived again by
// evaluating them, in the order they are written, in the same context.
type traceSource struct {
	rs      *RuleSet
	prefix  []engine.TraceEntry // the overrides' entries
	trigger engine.Trigger
	reason  string // the fallback's, when no rule won
	end     int32  // rules[:end] were considered
	ti      uint8
	won     bool // rules[end-1] matched
}

// lazyTrace is a traceSource kept in a decision instead of its trace (see
// engine.LazyTrace), with the context's values, detached from the context.
type lazyTrace struct {
	// head is the trace's storage, beyond its length.
	head [1]engine.TraceEntry
	traceSource
	env condition.Env
}

// trace returns the lazy Trace that stands for lt.
func (lt *lazyTrace) trace() engine.Trace { return engine.LazyTrace(&lt.head, lt) }

// TraceEntries writes the lazy trace out, in a copy of its values, so that
// concurrent readers share nothing they write.
func (lt *lazyTrace) TraceEntries() []engine.TraceEntry {
	env := lt.env.Copy()
	return lt.entries(&env)
}

// entry writes entry k of the trace into te, which is zero, evaluating the
// failed condition it explains in env; vals serves every entry of one
// trace. The Detail of a failed condition is left for the engine to write
// when the entry is rendered. The fields are written one by one: te may be
// in a new trace on the heap, where writing a whole entry would cost a
// write barrier per pointer while the collector runs.
func (ts *traceSource) entry(k int, env *condition.Env, vals *condition.Values, te *engine.TraceEntry) {
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
	te.Kind, te.ID = engine.TraceKindRule, r.id
	switch skip := r.skip[ts.ti]; {
	case skip != skipNone:
		te.Result, te.Reason, te.Detail = engine.TraceSkipped, skipReasons[skip], r.details[skip]
	case ts.won && i == int(ts.end)-1:
		te.Result, te.Reason, te.Detail = engine.TraceMatched, engine.ReasonRuleMatched, r.details[skipNone]
	default:
		x := rs.conds.Explain(env, i, vals)
		te.Result, te.Reason = engine.TraceFailed, engine.ReasonConditionFalse
		if x.Truth == condition.TruthUnknown {
			te.Reason = engine.ReasonConditionUnknown
		}
		te.Cause = x.Cause
		if x.Decided {
			te.Path, te.Field, te.Op, te.Expected, te.Actual = x.Path, x.Field, x.Op, x.Expected, x.Actual
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
func (ts *traceSource) entries(env *condition.Env) []engine.TraceEntry {
	out := make([]engine.TraceEntry, ts.size())
	var vals condition.Values
	for k := range out {
		ts.entry(k, env, &vals, &out[k])
	}
	return out
}

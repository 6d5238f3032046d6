package resolver

import (
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
)

// resolve is Resolve, or with eager set resolveEager: the reference the
// lazy trace is checked against.
func (rs *RuleSet) resolve(in ResolveInput, eager bool) engine.Decision {
	if !eager || !in.Trigger.Valid() || in.Mode == engine.ModeLegacy {
		return rs.Resolve(in)
	}
	if in.Mode == engine.ModeShadow {
		d := legacyDecision(in.Trigger, in.Legacy)
		e := rs.resolveEager(in)
		d.Shadow = &e
		return d
	}
	return rs.resolveEager(in)
}

// resolveEager is Resolve building the trace as it goes, rule after rule,
// from each rule's own condition and its public explanation
// (condition.Result), without the rule index, the condition set's first
// pass or a lazy trace: what a resolution did before traces were lazy,
// kept as the reference the resolver must agree with.
func (rs *RuleSet) resolveEager(in ResolveInput) engine.Decision {
	d := engine.Decision{MissingFields: []string{}}
	if rs.resolveOverrides(in, &d) {
		return d
	}
	if rs == nil || len(rs.rules) == 0 {
		d.Trace = append(make(engine.Trace, 0, len(d.Trace)+1), d.Trace...)
		fallback(in.Trigger, in.Legacy, &d)
		return d
	}
	ti := triggerIndex(in.Trigger)
	for i := range rs.rules {
		r := &rs.rules[i]
		te := engine.TraceEntry{Kind: engine.TraceKindRule, ID: r.id}
		if k := r.skip[ti]; k != skipNone {
			te.Result, te.Reason, te.Detail = engine.TraceSkipped, skipReasons[k], r.details[k]
			d.Trace = append(d.Trace, te)
			continue
		}
		res := r.cond.Eval(in.Context)
		if res.Matched() {
			te.Result, te.Reason, te.Detail = engine.TraceMatched, engine.ReasonRuleMatched, r.details[skipNone]
			d.Trace = append(d.Trace, te)
			d.Outcome, d.Source, d.Reason = engine.OutcomeWorkflow, engine.SourceRule, engine.ReasonRuleMatched
			d.RuleID, d.WorkflowID, d.WorkflowVersion = r.id, r.wf.id, r.wf.version
			return d
		}
		te.Result, te.Reason = engine.TraceFailed, engine.ReasonConditionFalse
		if res.Truth == condition.TruthUnknown {
			te.Reason = engine.ReasonConditionUnknown
			for _, f := range r.cond.MissingFields(in.Context) {
				d.MissingFields = appendUnique(d.MissingFields, f)
			}
		}
		// What decided a failed condition is a leaf, or an empty any,
		// which has no field.
		switch {
		case res.Mismatch():
			te.Cause = engine.CauseMismatch
		case res.Missing():
			te.Cause = engine.CauseMissing
		case res.Field() == "":
			te.Cause = engine.CauseEmptyAny
		}
		te.Path, te.Field, te.Op, te.Expected = res.Path(), res.Field(), res.Op(), res.Expected()
		if !res.Missing() {
			te.Actual = res.Actual()
		}
		d.Trace = append(d.Trace, te)
	}
	fallback(in.Trigger, in.Legacy, &d)
	return d
}

func appendUnique(dst []string, s string) []string {
	for _, x := range dst {
		if x == s {
			return dst
		}
	}
	return append(dst, s)
}

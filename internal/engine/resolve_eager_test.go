package engine

// resolve is Resolve, or with eager set resolveEager: the reference the
// lazy trace is checked against.
func (rs *RuleSet) resolve(in ResolveInput, eager bool) Decision {
	if !eager || !in.Trigger.Valid() || in.Mode == ModeLegacy {
		return rs.Resolve(in)
	}
	if in.Mode == ModeShadow {
		d := legacyDecision(in.Trigger, in.Legacy)
		e := rs.resolveEager(in)
		d.Shadow = &e
		return d
	}
	return rs.resolveEager(in)
}

// ruleResult is one rule's evaluation, kept between the two passes of
// resolveEager.
type ruleResult struct {
	node  int32
	truth Truth
	why   why
}

// resolveEager is Resolve building the trace as it goes, without the rule
// index: what a resolution did before traces were lazy, kept as the
// reference the lazy trace must agree with.
func (rs *RuleSet) resolveEager(in ResolveInput) Decision {
	d := Decision{MissingFields: []string{}}
	if rs.resolveOverrides(in, &d) {
		return d
	}
	if rs == nil || len(rs.rules) == 0 {
		d.Trace = append(make(Trace, 0, len(d.Trace)+1), d.Trace...)
		fallback(in.Trigger, in.Legacy, &d)
		return d
	}
	rules := rs.rules
	sc := rs.getScratch()
	defer rs.putScratch(sc)
	results := make([]ruleResult, len(rules))
	env := newEnv(in.Context)
	env.memo, env.more = sc.memo, sc.more
	var boxed boxedFields
	ti := triggerIndex(in.Trigger)

	// The first pass only finds the winner, so that the trace, the one
	// large allocation of a resolution, is made at its exact size: a rule
	// set of a thousand rules whose third rule matches needs four entries,
	// not a thousand and one. The second pass reads the first's results.
	conds := &rs.conds
	end, won := len(rules), false
	for i := range rs.hot {
		h := &rs.hot[i]
		if h.skip[ti] != skipNone {
			continue
		}
		t, node, w := conds.evalNode(&env, h.root)
		results[i] = ruleResult{node: node, truth: t, why: w}
		if t == TruthTrue {
			end, won = i+1, true
			break
		}
	}
	size := len(d.Trace) + end
	if !won {
		size++ // the fallback's entry
	}
	d.Trace = append(make(Trace, 0, size), d.Trace...)

	for i := range rules[:end] {
		r := &rules[i]
		// The slice is zeroed and sized; writing the fields in place costs
		// less than appending a composed entry, which the garbage
		// collector's write barrier would scan as a whole.
		d.Trace = d.Trace[:len(d.Trace)+1]
		te := &d.Trace[len(d.Trace)-1]
		te.Kind, te.ID = TraceKindRule, r.id
		if k := rs.hot[i].skip[ti]; k != skipNone {
			te.Result, te.Reason, te.Detail = TraceSkipped, skipReasons[k], r.details[k]
			continue
		}
		res := results[i]
		if res.truth == TruthTrue {
			te.Result, te.Reason, te.Detail = TraceMatched, ReasonRuleMatched, r.details[skipNone]
			d.Outcome, d.Source, d.Reason = OutcomeWorkflow, SourceRule, ReasonRuleMatched
			d.RuleID, d.WorkflowID, d.WorkflowVersion = r.id, r.wf.id, r.wf.version
			return d
		}
		te.Result = TraceFailed
		te.Reason = ReasonConditionFalse
		if res.truth == TruthUnknown {
			te.Reason = ReasonConditionUnknown
			d.MissingFields = conds.appendMissing(&env, rs.hot[i].root, d.MissingFields)
		}
		te.why = res.why
		if res.node < 0 {
			continue
		}
		te.Path = conds.paths[res.node]
		if n := conds.nodes[res.node]; n.kind == nodeLeaf {
			l := &conds.leaves[n.leaf]
			te.Field, te.Op, te.Expected = conds.info[n.leaf].name, opNames[l.op], conds.info[n.leaf].expected
			if res.why != whyMissing {
				te.Actual = env.actual(l, &boxed)
			}
		}
	}

	fallback(in.Trigger, in.Legacy, &d)
	return d
}


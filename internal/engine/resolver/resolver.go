package resolver

import (
	"fmt"
	"sort"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
)

// RuleSet is the compiled, immutable form of a tenant's rules and
// workflows: conditions parsed once and compiled together (a
// condition.Set), rules in evaluation order, each rule's fate on every
// trigger worked out in advance. It is safe for concurrent use; the caller
// caches one per tenant and configuration version.
type RuleSet struct {
	rules []compiledRule
	// conds holds every rule's condition, rule i's as condition i, in the
	// group of each trigger (by its index in engine.Triggers) on which the
	// rule's condition is evaluated.
	conds     *condition.Set
	workflows map[string]*workflowInfo
	// writeOut is set when the conditions read more custom keys than a
	// lazy trace can capture (see condition.Set.Detachable): a resolution
	// then writes its trace out at once, however long.
	writeOut bool
}

// workflowInfo is what resolution needs of a workflow's current version.
type workflowInfo struct {
	id      string
	name    string
	trigger engine.Trigger
	enabled bool
	version int64
}

// Why a rule is skipped on a trigger; 0 means its condition is evaluated.
const (
	skipNone uint8 = iota
	skipWrongTrigger
	skipDisabled
	skipWorkflowMissing
	skipWorkflowDisabled
	skipWorkflowWrongTrigger
	skipKinds
)

var skipReasons = [skipKinds]string{
	skipNone:                 engine.ReasonRuleMatched,
	skipWrongTrigger:         engine.ReasonWrongTrigger,
	skipDisabled:             engine.ReasonDisabled,
	skipWorkflowMissing:      engine.ReasonWorkflowMissing,
	skipWorkflowDisabled:     engine.ReasonWorkflowDisabled,
	skipWorkflowWrongTrigger: engine.ReasonWrongTrigger,
}

// compiledRule is a rule with its condition compiled and the sentences of
// its trace entries written in advance: they depend only on the rule and
// its workflow, and writing them per resolution would allocate per rule.
type compiledRule struct {
	skip [5]uint8 // per trigger, in the order of Triggers
	cond *condition.Condition
	id   string
	wf   *workflowInfo
	// details[k] explains skip kind k; details[skipNone] a match.
	details [skipKinds]string

	rule *engine.Rule
}

func triggerIndex(t engine.Trigger) int {
	for i, x := range engine.Triggers {
		if x == t {
			return i
		}
	}
	return -1
}

// ruleError is one rule whose stored condition does not parse.
type ruleError struct {
	rule *engine.Rule
	err  error
}

// compileRules orders and compiles rules; rules whose condition does not
// parse are returned beside the others, so that coverage can report them
// while NewRuleSet refuses them.
func compileRules(rules []engine.Rule, wfs map[string]*workflowInfo) ([]compiledRule, []ruleError) {
	order := make([]int, len(rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := &rules[order[a]], &rules[order[b]]
		if ra.Priority != rb.Priority {
			return ra.Priority < rb.Priority
		}
		if !ra.CreatedAt.Equal(rb.CreatedAt) {
			return ra.CreatedAt.Before(rb.CreatedAt)
		}
		return ra.ID < rb.ID
	})
	out := make([]compiledRule, 0, len(rules))
	var errs []ruleError
	// Most sentences repeat from rule to rule (every rule for quote.sent
	// "applies to quote.sent only"); one copy of each is kept, so that a
	// large rule set is a few objects for the garbage collector to mark.
	sentences := map[string]string{}
	sentence := func(format string, args ...any) string {
		s := fmt.Sprintf(format, args...)
		if t, ok := sentences[s]; ok {
			return t
		}
		sentences[s] = s
		return s
	}
	for _, i := range order {
		r := &rules[i]
		cond, err := condition.Parse(r.Condition)
		if err != nil {
			errs = append(errs, ruleError{rule: r, err: err})
			continue
		}
		cr := compiledRule{cond: cond, id: r.ID, wf: wfs[r.WorkflowID], rule: r}
		cr.details[skipWrongTrigger] = sentence("rule applies to %s only", r.Trigger)
		cr.details[skipDisabled] = "rule is disabled"
		if wf := cr.wf; wf == nil {
			cr.details[skipWorkflowMissing] = sentence("workflow %q does not exist", r.WorkflowID)
		} else {
			cr.details[skipWorkflowDisabled] = sentence("workflow %q (%s) is disabled", wf.id, wf.name)
			cr.details[skipWorkflowWrongTrigger] = sentence("workflow %q (%s) is for %s", wf.id, wf.name, wf.trigger)
			cr.details[skipNone] = sentence("condition true; assigns workflow %q (%s) version %d", wf.id, wf.name, wf.version)
		}
		for ti, t := range engine.Triggers {
			switch {
			case r.Trigger != engine.AnyTrigger && r.Trigger != string(t):
				cr.skip[ti] = skipWrongTrigger
			case !r.Enabled:
				cr.skip[ti] = skipDisabled
			case cr.wf == nil:
				cr.skip[ti] = skipWorkflowMissing
			case !cr.wf.enabled:
				cr.skip[ti] = skipWorkflowDisabled
			case cr.wf.trigger != t:
				cr.skip[ti] = skipWorkflowWrongTrigger
			}
		}
		out = append(out, cr)
	}
	return out, errs
}

func indexWorkflows(workflows []engine.Workflow) map[string]*workflowInfo {
	m := make(map[string]*workflowInfo, len(workflows))
	for i := range workflows {
		w := &workflows[i]
		if _, dup := m[w.ID]; dup {
			continue
		}
		m[w.ID] = &workflowInfo{id: w.ID, name: w.Name, trigger: w.Trigger, enabled: w.Enabled, version: w.Version}
	}
	return m
}

// NewRuleSet compiles rules and the current versions of workflows. Rules
// are validated when saved, so a condition that does not parse here means
// stored data is corrupt: the error is EINTERNAL and names the rule.
func NewRuleSet(rules []engine.Rule, workflows []engine.Workflow) (*RuleSet, error) {
	wfs := indexWorkflows(workflows)
	compiled, errs := compileRules(rules, wfs)
	if len(errs) > 0 {
		e := errs[0]
		return nil, &engine.Error{Code: engine.EINTERNAL, Message: fmt.Sprintf("rule %s has an invalid stored condition: %v", e.rule.ID, e.err)}
	}
	conds := make([]*condition.Condition, len(compiled))
	groups := make([]uint8, len(compiled))
	for i := range compiled {
		compiled[i].rule = nil // the caller's slice is not ours to keep
		conds[i] = compiled[i].cond
		for ti, k := range compiled[i].skip {
			if k == skipNone {
				groups[i] |= 1 << ti
			}
		}
	}
	set := condition.NewSet(conds, groups)
	return &RuleSet{rules: compiled, conds: set, workflows: wfs, writeOut: !set.Detachable()}, nil
}

// ResolveInput is everything one resolution reads besides the rule set.
type ResolveInput struct {
	Mode    engine.Mode
	Trigger engine.Trigger
	// Context is the lead, the quote if there is one, and the tenant.
	Context *engine.Context
	// Overrides are the lead's overrides, for any trigger and possibly
	// expired; the resolver picks the ones that apply.
	Overrides []engine.Override
	Legacy    engine.LegacySettings
	Now       time.Time
}

// Resolve decides what answers in.Trigger for the lead in in.Context,
// following the product's order (SPEC §2): in engine mode an override, then
// the first matching rule, then the trigger's fixed fallback; in legacy
// mode the legacy settings alone; in shadow mode the legacy decision with
// the engine's beside it in Shadow. A Mode that is neither legacy nor
// shadow resolves as engine.
//
// Resolve allocates one object, whatever the number of rules and
// conditions it evaluates: a trace of at most eagerTraceMax (16) entries,
// written out, or for a longer one the record a lazy Trace keeps (what the
// resolver did and a copy of the context's values), from which the
// entries are written when the decision is marshalled to JSON or when
// Decision.Render is called. Go code that reads Decision.Trace calls
// Render first. Overrides add a few small objects, shadow mode the second
// decision.
//
// Rules that the conditions' index shows cannot match (see
// condition.Set.First) are passed over without evaluating their
// conditions; the trace, which names the leaf that decided each failure,
// evaluates them when it is written.
func (rs *RuleSet) Resolve(in ResolveInput) engine.Decision {
	if !in.Trigger.Valid() {
		return engine.Decision{
			Outcome: engine.OutcomeNone, Source: engine.SourceFallback, Reason: engine.ReasonUnknownTrigger,
			MissingFields: []string{},
			Trace: engine.Trace{{
				Kind: engine.TraceKindFallback, Result: engine.TraceMatched, Reason: engine.ReasonUnknownTrigger,
				Detail: fmt.Sprintf("%q is not a trigger; nothing is sent", in.Trigger),
			}},
		}
	}
	switch in.Mode {
	case engine.ModeLegacy:
		return legacyDecision(in.Trigger, in.Legacy)
	case engine.ModeShadow:
		d := legacyDecision(in.Trigger, in.Legacy)
		shadow := rs.resolveEngine(in)
		d.Shadow = &shadow
		return d
	}
	return rs.resolveEngine(in)
}

func isLegacyTrigger(t engine.Trigger) bool {
	for _, x := range engine.LegacyTriggers {
		if x == t {
			return true
		}
	}
	return false
}

func legacyDecision(t engine.Trigger, legacy engine.LegacySettings) engine.Decision {
	d := engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceMode, MissingFields: []string{}}
	var detail string
	switch {
	case !isLegacyTrigger(t):
		// Checked first: settings stored for such a trigger were never
		// acted on by the old system, and must not start to be now.
		d.Reason = engine.ReasonModeLegacyUnsupportedTrigger
		detail = "legacy settings decide; they never send on " + string(t)
	case legacy.Sends(t):
		d.Outcome, d.Reason = engine.OutcomeLegacy, engine.ReasonModeLegacy
		detail = "legacy settings decide; they send on " + string(t)
	default:
		d.Reason = engine.ReasonModeLegacyDisabled
		detail = "legacy settings decide; they are disabled for " + string(t)
	}
	d.Trace = engine.Trace{{Kind: engine.TraceKindMode, Result: engine.TraceMatched, Reason: d.Reason, Detail: detail}}
	return d
}

func (rs *RuleSet) workflow(id string) *workflowInfo {
	if rs == nil || id == "" {
		return nil
	}
	return rs.workflows[id]
}

func (rs *RuleSet) resolveEngine(in ResolveInput) engine.Decision {
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
	var env condition.Env
	rs.conds.Prepare(&env, in.Context)
	// One pass finds the winner, and the missing fields of the rules it
	// finds unknown.
	end, won, missing := rs.conds.First(&env, ti, d.MissingFields)
	d.MissingFields = missing
	src := traceSource{rs: rs, prefix: d.Trace, trigger: in.Trigger, end: int32(end), ti: uint8(ti), won: won}
	if won {
		r := &rs.rules[end-1]
		d.Outcome, d.Source, d.Reason = engine.OutcomeWorkflow, engine.SourceRule, engine.ReasonRuleMatched
		d.RuleID, d.WorkflowID, d.WorkflowVersion = r.id, r.wf.id, r.wf.version
	} else {
		fallbackDecision(in.Trigger, in.Legacy, &d)
		src.reason = d.Reason
	}

	// A short trace costs no more to write out than the record of a lazy
	// one, and Go code that forgets Render still sees it.
	if src.size() <= eagerTraceMax || rs.writeOut {
		d.Trace = src.entries(&env)
		rs.conds.Release(&env)
		return d
	}
	lt := &lazyTrace{traceSource: src, env: env}
	rs.conds.Detach(&lt.env, end)
	d.Trace = lt.trace()
	return d
}

// eagerTraceMax is the longest trace that Resolve writes out; longer ones
// are lazy.
const eagerTraceMax = 16

// fallback applies the trigger's fixed fallback policy (SPEC §2) and
// appends its trace entry.
func fallback(t engine.Trigger, legacy engine.LegacySettings, d *engine.Decision) {
	fallbackDecision(t, legacy, d)
	d.Trace = append(d.Trace, fallbackEntry(t, d.Reason))
}

// fallbackDecision sets the outcome and reason of the trigger's fallback.
func fallbackDecision(t engine.Trigger, legacy engine.LegacySettings, d *engine.Decision) {
	d.Source, d.Outcome = engine.SourceFallback, engine.OutcomeNone
	switch t {
	case engine.TriggerViewed:
		d.Reason = engine.ReasonFallbackInternalSignal
	case engine.TriggerRejected:
		d.Reason = engine.ReasonFallbackNoneByDesign
	default:
		if legacy.Sends(t) {
			d.Outcome, d.Reason = engine.OutcomeLegacy, engine.ReasonFallbackLegacy
		} else {
			d.Reason = engine.ReasonFallbackLegacyDisabled
		}
	}
}

// fallbackEntry is the trace entry of the fallback that gave reason.
func fallbackEntry(t engine.Trigger, reason string) engine.TraceEntry {
	var detail string
	switch reason {
	case engine.ReasonFallbackInternalSignal:
		detail = "no override or rule matched; quote.viewed is an internal signal and sends nothing"
	case engine.ReasonFallbackNoneByDesign:
		detail = "no override or rule matched; quote.rejected sends nothing without an explicit rule"
	case engine.ReasonFallbackLegacy:
		detail = "no override or rule matched; " + string(t) + " falls back to the legacy settings"
	default:
		detail = "no override or rule matched; " + string(t) + " falls back to the legacy settings, which send nothing for it"
	}
	return engine.TraceEntry{Kind: engine.TraceKindFallback, Result: engine.TraceMatched, Reason: reason, Detail: detail}
}

// overrideOrder returns the indexes of the overrides that apply to t: the
// ones for t before the ones for every trigger, and within each the newest
// first, because the latest instruction about a lead is the one meant.
func overrideOrder(ovs []engine.Override, t engine.Trigger) []int {
	idx := make([]int, 0, 4)
	for i := range ovs {
		if ovs[i].Trigger == string(t) || ovs[i].Trigger == engine.AnyTrigger {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		oa, ob := &ovs[idx[a]], &ovs[idx[b]]
		ea, eb := oa.Trigger != engine.AnyTrigger, ob.Trigger != engine.AnyTrigger
		if ea != eb {
			return ea
		}
		if !oa.CreatedAt.Equal(ob.CreatedAt) {
			return oa.CreatedAt.After(ob.CreatedAt)
		}
		return oa.ID < ob.ID
	})
	return idx
}

// resolveOverrides considers the lead's overrides and reports whether one
// decided.
func (rs *RuleSet) resolveOverrides(in ResolveInput, d *engine.Decision) bool {
	if len(in.Overrides) == 0 {
		return false
	}
	for _, i := range overrideOrder(in.Overrides, in.Trigger) {
		o := &in.Overrides[i]
		te := engine.TraceEntry{Kind: engine.TraceKindOverride, ID: o.ID}
		switch {
		case !o.Active(in.Now):
			te.Result, te.Reason = engine.TraceSkipped, engine.ReasonExpired
			te.Detail = "override expired at " + o.ExpiresAt.UTC().Format(time.RFC3339)
		case o.Action == engine.OverrideSuppress:
			te.Result, te.Reason = engine.TraceMatched, engine.ReasonOverrideSuppress
			te.Detail = "override suppresses communication for this lead"
			if o.Reason != "" {
				te.Detail += ": " + o.Reason
			}
			d.Trace = append(d.Trace, te)
			d.Outcome, d.Source, d.Reason, d.OverrideID = engine.OutcomeSuppressed, engine.SourceOverride, engine.ReasonOverrideSuppress, o.ID
			return true
		case o.Action == engine.OverrideWorkflow:
			wf := rs.workflow(o.WorkflowID)
			switch {
			case wf == nil:
				te.Result, te.Reason = engine.TraceWarning, engine.ReasonWorkflowMissing
				te.Detail = fmt.Sprintf("pinned workflow %q does not exist; override skipped", o.WorkflowID)
			case !wf.enabled:
				te.Result, te.Reason = engine.TraceWarning, engine.ReasonWorkflowDisabled
				te.Detail = fmt.Sprintf("pinned workflow %q (%s) is disabled; override skipped", wf.id, wf.name)
			case wf.trigger != in.Trigger:
				te.Result, te.Reason = engine.TraceWarning, engine.ReasonWrongTrigger
				te.Detail = fmt.Sprintf("pinned workflow %q (%s) is for %s, not %s; override skipped", wf.id, wf.name, wf.trigger, in.Trigger)
			default:
				te.Result, te.Reason = engine.TraceMatched, engine.ReasonOverrideWorkflow
				te.Detail = fmt.Sprintf("override pins workflow %q (%s) version %d", wf.id, wf.name, wf.version)
				d.Trace = append(d.Trace, te)
				d.Outcome, d.Source, d.Reason = engine.OutcomeWorkflow, engine.SourceOverride, engine.ReasonOverrideWorkflow
				d.OverrideID, d.WorkflowID, d.WorkflowVersion = o.ID, wf.id, wf.version
				return true
			}
		default:
			te.Result, te.Reason = engine.TraceWarning, engine.ReasonInvalidAction
			te.Detail = fmt.Sprintf("override has unknown action %q; skipped", o.Action)
		}
		d.Trace = append(d.Trace, te)
	}
	return false
}

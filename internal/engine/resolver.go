package engine

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// RuleSet is the compiled, immutable form of a tenant's rules and
// workflows: conditions parsed once and packed side by side in memory,
// rules in evaluation order, each rule's fate on every trigger worked out
// in advance. It is safe for concurrent use; the caller caches one per
// tenant and configuration version.
type RuleSet struct {
	// hot is what the first pass of a resolution reads per rule, apart
	// from the rest so that it is a few bytes a rule; rules is the rest.
	hot   []ruleHot
	rules []compiledRule
	// conds views every rule's condition; a rule's is at hot[i].root.
	conds     Condition
	workflows map[string]*workflowInfo
	// memoSize is the number of distinct leaves across the rules.
	memoSize int
	// customKeys are the custom keys the rules read, by slot, and
	// keysUpTo[i] how many of them rules[:i+1] read: slots are numbered
	// in order of first use, so a resolution that stops at rule i can
	// capture the values its trace needs (see lazyTrace).
	customKeys []string
	keysUpTo   []int32
	// readsTags says whether a rule reads lead.tags, which a lazy trace
	// then copies.
	readsTags bool
	// writeOut is set when some custom key has no slot (more keys than a
	// slot can number): a lazy trace cannot capture every value it needs,
	// so a resolution writes its trace out at once, however long.
	writeOut bool
	index ruleIndex
	// flat lists the leaves of the conditions that are one leaf or an all
	// of leaves, rule after rule; see ruleHot.flat.
	flat    []flatLeaf
	scratch sync.Pool // of *scratch
}

// ruleHot is what the first pass reads per rule: its fate on each
// trigger, its condition and up to two keys of the rule index.
type ruleHot struct {
	skip [5]uint8
	root int32
	keys [2]ruleKey
	// flat, when nflat >= 0, is where the rule's leaves are in
	// RuleSet.flat: a condition that is one leaf or an all of leaves, the
	// commonest shape, is evaluated from that list (see evalFlat).
	flat, nflat int32
}

// workflowInfo is what resolution needs of a workflow's current version.
type workflowInfo struct {
	id      string
	name    string
	trigger Trigger
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
	skipNone:                 ReasonRuleMatched,
	skipWrongTrigger:         ReasonWrongTrigger,
	skipDisabled:             ReasonDisabled,
	skipWorkflowMissing:      ReasonWorkflowMissing,
	skipWorkflowDisabled:     ReasonWorkflowDisabled,
	skipWorkflowWrongTrigger: ReasonWrongTrigger,
}

// compiledRule is a rule with its condition compiled and the sentences of
// its trace entries written in advance: they depend only on the rule and
// its workflow, and writing them per resolution would allocate per rule.
type compiledRule struct {
	skip [5]uint8 // per trigger, in the order of Triggers
	cond Condition
	id   string
	wf   *workflowInfo
	// details[k] explains skip kind k; details[skipNone] a match.
	details [skipKinds]string

	rule *Rule
}

func triggerIndex(t Trigger) int {
	for i, x := range Triggers {
		if x == t {
			return i
		}
	}
	return -1
}

// ruleError is one rule whose stored condition does not parse.
type ruleError struct {
	rule *Rule
	err  error
}

// compileRules orders and compiles rules; rules whose condition does not
// parse are returned beside the others, so that coverage can report them
// while NewRuleSet refuses them.
func compileRules(rules []Rule, wfs map[string]*workflowInfo) ([]compiledRule, []ruleError) {
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
		cond, err := ParseCondition(r.Condition)
		if err != nil {
			errs = append(errs, ruleError{rule: r, err: err})
			continue
		}
		cr := compiledRule{cond: *cond, id: r.ID, wf: wfs[r.WorkflowID], rule: r}
		cr.details[skipWrongTrigger] = sentence("rule applies to %s only", r.Trigger)
		cr.details[skipDisabled] = "rule is disabled"
		if wf := cr.wf; wf == nil {
			cr.details[skipWorkflowMissing] = sentence("workflow %q does not exist", r.WorkflowID)
		} else {
			cr.details[skipWorkflowDisabled] = sentence("workflow %q (%s) is disabled", wf.id, wf.name)
			cr.details[skipWorkflowWrongTrigger] = sentence("workflow %q (%s) is for %s", wf.id, wf.name, wf.trigger)
			cr.details[skipNone] = sentence("condition true; assigns workflow %q (%s) version %d", wf.id, wf.name, wf.version)
		}
		for ti, t := range Triggers {
			switch {
			case r.Trigger != AnyTrigger && r.Trigger != string(t):
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

// pack moves every rule's condition into one set of arrays, in evaluation
// order, so that walking the rules reads memory front to back, and returns
// a Condition that views them all. It also numbers custom keys across the
// rule set, so that one resolution looks each custom field up once however
// many rules read it, and gives identical leaves one memo slot, so that one
// resolution evaluates each once; it returns the number of memo slots.
//
// Identical leaves also share their values, paths and field names, so that
// a large rule set is few objects for the garbage collector to mark on
// every cycle while it sits in the cache.
func pack(rules []compiledRule) (Condition, packInfo) {
	var all Condition
	var pi packInfo
	slots := map[string]int16{}
	type shared struct {
		memo     int32
		leaf     leaf
		expected any
	}
	leaves := map[string]shared{}
	keyAux := map[string]*leafAux{}
	strs := map[string]string{}
	intern := func(s string) string {
		if t, ok := strs[s]; ok {
			return t
		}
		strs[s] = s
		return s
	}
	for i := range rules {
		c := &rules[i].cond
		n0, k0, l0 := int32(len(all.nodes)), int32(len(all.kids)), int32(len(all.leaves))
		for j, n := range c.nodes {
			if n.kind == nodeLeaf {
				l, li := c.leaves[n.leaf], c.info[n.leaf]
				key := li.name + "\x00" + opNames[l.op] + "\x00" + jsonText(li.expected)
				sh, ok := leaves[key]
				if !ok {
					if l.field == fCustom {
						slot, known := slots[l.aux.key]
						if !known {
							slot = ruleSetSlot(len(slots))
							slots[l.aux.key] = slot
							if slot >= 0 {
								pi.customKeys = append(pi.customKeys, l.aux.key)
							} else {
								pi.unslotted = true
							}
						}
						l.slot = slot
						if l.vt != vtTime && l.vt != vtArray {
							// Only the key is in aux; one per key will do.
							if a, seen := keyAux[l.aux.key]; seen {
								l.aux = a
							} else {
								keyAux[l.aux.key] = l.aux
							}
						}
					}
					sh = shared{memo: int32(len(leaves)), leaf: l, expected: li.expected}
					leaves[key] = sh
				}
				if sh.leaf.field == fLeadTags {
					pi.readsTags = true
				}
				c.leaves[n.leaf] = sh.leaf
				c.info[n.leaf] = leafInfo{name: intern(li.name), expected: sh.expected}
				n.leaf += l0
				n.first = sh.memo
			} else {
				n.first += k0
			}
			all.nodes = append(all.nodes, n)
			all.paths = append(all.paths, intern(c.paths[j]))
		}
		for _, k := range c.kids {
			all.kids = append(all.kids, k+n0)
		}
		all.leaves = append(all.leaves, c.leaves...)
		all.info = append(all.info, c.info...)
		c.root += n0
		pi.keysUpTo = append(pi.keysUpTo, int32(len(pi.customKeys)))
	}
	for i := range rules {
		c := &rules[i].cond
		c.nodes, c.kids, c.leaves, c.paths, c.info, c.customKeys = all.nodes, all.kids, all.leaves, all.paths, all.info, nil
	}
	pi.memoSize = len(leaves)
	return all, pi
}

// packInfo is what pack learns about a rule set besides its conditions.
type packInfo struct {
	memoSize   int
	customKeys []string // by slot
	keysUpTo   []int32  // per rule, see RuleSet.keysUpTo
	readsTags  bool
	unslotted  bool // some custom key has no slot
}

// maxRuleSetSlots bounds the custom keys a rule set numbers; a slot is an
// int16.
const maxRuleSetSlots = 1 << 14

// ruleSetSlot is slotOrNone for a rule set, which caches every custom key
// it can number (see evalEnv.more).
func ruleSetSlot(i int) int16 {
	if i >= maxRuleSetSlots {
		return -1
	}
	return int16(i)
}

func indexWorkflows(workflows []Workflow) map[string]*workflowInfo {
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
func NewRuleSet(rules []Rule, workflows []Workflow) (*RuleSet, error) {
	wfs := indexWorkflows(workflows)
	compiled, errs := compileRules(rules, wfs)
	if len(errs) > 0 {
		e := errs[0]
		return nil, &Error{Code: EINTERNAL, Message: fmt.Sprintf("rule %s has an invalid stored condition: %v", e.rule.ID, e.err)}
	}
	conds, pi := pack(compiled)
	hot := make([]ruleHot, len(compiled))
	for i := range compiled {
		compiled[i].rule = nil // the caller's slice is not ours to keep
		hot[i] = ruleHot{skip: compiled[i].skip, root: compiled[i].cond.root}
	}
	rs := &RuleSet{
		hot: hot, rules: compiled, conds: conds, workflows: wfs, memoSize: pi.memoSize,
		customKeys: pi.customKeys, keysUpTo: pi.keysUpTo, readsTags: pi.readsTags, writeOut: pi.unslotted,
	}
	rs.index = buildIndex(&rs.conds, hot)
	rs.flat = flatten(&rs.conds, hot)
	return rs, nil
}

// ResolveInput is everything one resolution reads besides the rule set.
type ResolveInput struct {
	Mode    Mode
	Trigger Trigger
	// Context is the lead, the quote if there is one, and the tenant.
	Context *Context
	// Overrides are the lead's overrides, for any trigger and possibly
	// expired; the resolver picks the ones that apply.
	Overrides []Override
	Legacy    LegacySettings
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
// Rules that the rule index shows cannot match (see ruleIndex) are passed
// over without evaluating their conditions; the trace, which names the
// leaf that decided each failure, evaluates them when it is written.
func (rs *RuleSet) Resolve(in ResolveInput) Decision {
	if !in.Trigger.Valid() {
		return Decision{
			Outcome: OutcomeNone, Source: SourceFallback, Reason: ReasonUnknownTrigger,
			MissingFields: []string{},
			Trace: Trace{{
				Kind: TraceKindFallback, Result: TraceMatched, Reason: ReasonUnknownTrigger,
				Detail: fmt.Sprintf("%q is not a trigger; nothing is sent", in.Trigger),
			}},
		}
	}
	switch in.Mode {
	case ModeLegacy:
		return legacyDecision(in.Trigger, in.Legacy)
	case ModeShadow:
		d := legacyDecision(in.Trigger, in.Legacy)
		engine := rs.resolveEngine(in)
		d.Shadow = &engine
		return d
	}
	return rs.resolveEngine(in)
}

func isLegacyTrigger(t Trigger) bool {
	for _, x := range LegacyTriggers {
		if x == t {
			return true
		}
	}
	return false
}

func legacyDecision(t Trigger, legacy LegacySettings) Decision {
	d := Decision{Outcome: OutcomeNone, Source: SourceMode, MissingFields: []string{}}
	var detail string
	switch {
	case !isLegacyTrigger(t):
		// Checked first: settings stored for such a trigger were never
		// acted on by the old system, and must not start to be now.
		d.Reason = ReasonModeLegacyUnsupportedTrigger
		detail = "legacy settings decide; they never send on " + string(t)
	case legacy.Sends(t):
		d.Outcome, d.Reason = OutcomeLegacy, ReasonModeLegacy
		detail = "legacy settings decide; they send on " + string(t)
	default:
		d.Reason = ReasonModeLegacyDisabled
		detail = "legacy settings decide; they are disabled for " + string(t)
	}
	d.Trace = Trace{{Kind: TraceKindMode, Result: TraceMatched, Reason: d.Reason, Detail: detail}}
	return d
}

func (rs *RuleSet) workflow(id string) *workflowInfo {
	if rs == nil || id == "" {
		return nil
	}
	return rs.workflows[id]
}

// scratch is the per-resolution working memory of a rule set, pooled so
// that resolving allocates only what the decision keeps.
type scratch struct {
	memo []uint8 // see Condition.evalLeaf
	more []any   // custom values of slots from customSlots on
	keys []int32 // per index column, see ruleIndex.leadValues
}

func (rs *RuleSet) getScratch() *scratch {
	if sc, ok := rs.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{
		memo: make([]uint8, rs.memoSize),
		more: make([]any, max(0, len(rs.customKeys)-customSlots)),
		keys: make([]int32, len(rs.index.cols)),
	}
}

func (rs *RuleSet) putScratch(sc *scratch) {
	clear(sc.memo)
	clear(sc.more)
	rs.scratch.Put(sc)
}

func (rs *RuleSet) resolveEngine(in ResolveInput) Decision {
	d := Decision{MissingFields: []string{}}
	if rs.resolveOverrides(in, &d) {
		return d
	}
	if rs == nil || len(rs.rules) == 0 {
		d.Trace = append(make(Trace, 0, len(d.Trace)+1), d.Trace...)
		fallback(in.Trigger, in.Legacy, &d)
		return d
	}
	ti := triggerIndex(in.Trigger)
	var env evalEnv
	env.fill(in.Context)
	sc := rs.getScratch()
	defer rs.putScratch(sc)
	env.memo, env.more = sc.memo, sc.more
	keys := rs.index.leadValues(&env, sc.keys)

	// One pass finds the winner, and the missing fields of the rules it
	// finds unknown. A rule whose condition an index key shows false is
	// passed over: false is neither a match nor unknown.
	conds := &rs.conds
	end, won := len(rs.hot), false
	for i := range rs.hot {
		h := &rs.hot[i]
		if h.skip[ti] != skipNone {
			continue
		}
		if v := keys[h.keys[0].col]; v != 0 && v != h.keys[0].val {
			continue
		}
		if v := keys[h.keys[1].col]; v != 0 && v != h.keys[1].val {
			continue
		}
		var t Truth
		if h.nflat >= 0 {
			t = conds.evalFlat(&env, rs.flat[h.flat:h.flat+h.nflat])
		} else {
			t, _, _ = conds.evalNode(&env, h.root)
		}
		if t == TruthTrue {
			end, won = i+1, true
			break
		}
		if t == TruthUnknown {
			d.MissingFields = conds.appendMissing(&env, h.root, d.MissingFields)
		}
	}
	src := traceSource{rs: rs, prefix: d.Trace, trigger: in.Trigger, end: int32(end), ti: uint8(ti), won: won}
	if won {
		r := &rs.rules[end-1]
		d.Outcome, d.Source, d.Reason = OutcomeWorkflow, SourceRule, ReasonRuleMatched
		d.RuleID, d.WorkflowID, d.WorkflowVersion = r.id, r.wf.id, r.wf.version
	} else {
		fallbackDecision(in.Trigger, in.Legacy, &d)
		src.reason = d.Reason
	}

	// A short trace costs no more to write out than the record of a lazy
	// one, and Go code that forgets Render still sees it.
	if src.size() <= eagerTraceMax || rs.writeOut {
		d.Trace = src.entries(&env)
		return d
	}
	lt := &lazyTrace{traceSource: src, env: env}
	lt.capture()
	d.Trace = lt.trace()
	return d
}

// eagerTraceMax is the longest trace that Resolve writes out; longer ones
// are lazy.
const eagerTraceMax = 16

// fallback applies the trigger's fixed fallback policy (SPEC §2) and
// appends its trace entry.
func fallback(t Trigger, legacy LegacySettings, d *Decision) {
	fallbackDecision(t, legacy, d)
	d.Trace = append(d.Trace, fallbackEntry(t, d.Reason))
}

// fallbackDecision sets the outcome and reason of the trigger's fallback.
func fallbackDecision(t Trigger, legacy LegacySettings, d *Decision) {
	d.Source, d.Outcome = SourceFallback, OutcomeNone
	switch t {
	case TriggerViewed:
		d.Reason = ReasonFallbackInternalSignal
	case TriggerRejected:
		d.Reason = ReasonFallbackNoneByDesign
	default:
		if legacy.Sends(t) {
			d.Outcome, d.Reason = OutcomeLegacy, ReasonFallbackLegacy
		} else {
			d.Reason = ReasonFallbackLegacyDisabled
		}
	}
}

// fallbackEntry is the trace entry of the fallback that gave reason.
func fallbackEntry(t Trigger, reason string) TraceEntry {
	var detail string
	switch reason {
	case ReasonFallbackInternalSignal:
		detail = "no override or rule matched; quote.viewed is an internal signal and sends nothing"
	case ReasonFallbackNoneByDesign:
		detail = "no override or rule matched; quote.rejected sends nothing without an explicit rule"
	case ReasonFallbackLegacy:
		detail = "no override or rule matched; " + string(t) + " falls back to the legacy settings"
	default:
		detail = "no override or rule matched; " + string(t) + " falls back to the legacy settings, which send nothing for it"
	}
	return TraceEntry{Kind: TraceKindFallback, Result: TraceMatched, Reason: reason, Detail: detail}
}

// overrideOrder returns the indexes of the overrides that apply to t: the
// ones for t before the ones for every trigger, and within each the newest
// first, because the latest instruction about a lead is the one meant.
func overrideOrder(ovs []Override, t Trigger) []int {
	idx := make([]int, 0, 4)
	for i := range ovs {
		if ovs[i].Trigger == string(t) || ovs[i].Trigger == AnyTrigger {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		oa, ob := &ovs[idx[a]], &ovs[idx[b]]
		ea, eb := oa.Trigger != AnyTrigger, ob.Trigger != AnyTrigger
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
func (rs *RuleSet) resolveOverrides(in ResolveInput, d *Decision) bool {
	if len(in.Overrides) == 0 {
		return false
	}
	for _, i := range overrideOrder(in.Overrides, in.Trigger) {
		o := &in.Overrides[i]
		te := TraceEntry{Kind: TraceKindOverride, ID: o.ID}
		switch {
		case !o.Active(in.Now):
			te.Result, te.Reason = TraceSkipped, ReasonExpired
			te.Detail = "override expired at " + o.ExpiresAt.UTC().Format(time.RFC3339)
		case o.Action == OverrideSuppress:
			te.Result, te.Reason = TraceMatched, ReasonOverrideSuppress
			te.Detail = "override suppresses communication for this lead"
			if o.Reason != "" {
				te.Detail += ": " + o.Reason
			}
			d.Trace = append(d.Trace, te)
			d.Outcome, d.Source, d.Reason, d.OverrideID = OutcomeSuppressed, SourceOverride, ReasonOverrideSuppress, o.ID
			return true
		case o.Action == OverrideWorkflow:
			wf := rs.workflow(o.WorkflowID)
			switch {
			case wf == nil:
				te.Result, te.Reason = TraceWarning, ReasonWorkflowMissing
				te.Detail = fmt.Sprintf("pinned workflow %q does not exist; override skipped", o.WorkflowID)
			case !wf.enabled:
				te.Result, te.Reason = TraceWarning, ReasonWorkflowDisabled
				te.Detail = fmt.Sprintf("pinned workflow %q (%s) is disabled; override skipped", wf.id, wf.name)
			case wf.trigger != in.Trigger:
				te.Result, te.Reason = TraceWarning, ReasonWrongTrigger
				te.Detail = fmt.Sprintf("pinned workflow %q (%s) is for %s, not %s; override skipped", wf.id, wf.name, wf.trigger, in.Trigger)
			default:
				te.Result, te.Reason = TraceMatched, ReasonOverrideWorkflow
				te.Detail = fmt.Sprintf("override pins workflow %q (%s) version %d", wf.id, wf.name, wf.version)
				d.Trace = append(d.Trace, te)
				d.Outcome, d.Source, d.Reason = OutcomeWorkflow, SourceOverride, ReasonOverrideWorkflow
				d.OverrideID, d.WorkflowID, d.WorkflowVersion = o.ID, wf.id, wf.version
				return true
			}
		default:
			te.Result, te.Reason = TraceWarning, ReasonInvalidAction
			te.Detail = fmt.Sprintf("override has unknown action %q; skipped", o.Action)
		}
		d.Trace = append(d.Trace, te)
	}
	return false
}

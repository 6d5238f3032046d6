package condition

import (
	"strings"
	"time"
	"unicode"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Truth is the three-valued result of a condition: a comparison on a field
// the context lacks is neither true nor false.
type Truth uint8

// The three truth values. Only TruthTrue makes a rule match or a step run.
const (
	TruthFalse Truth = iota
	TruthTrue
	TruthUnknown
)

func (t Truth) String() string {
	switch t {
	case TruthTrue:
		return "true"
	case TruthUnknown:
		return "unknown"
	}
	return "false"
}

// why says how a leaf reached its truth value, for explanations: the
// engine's Cause, which the trace entry of a failed rule carries.
type why = engine.Cause

const (
	whyCompared = engine.CauseCompared
	whyMissing  = engine.CauseMissing  // the field is absent from the context
	whyMismatch = engine.CauseMismatch // a custom field holds a type the operator cannot compare
	whyEmptyAny = engine.CauseEmptyAny // an empty any, which matches nothing
)

func truth(b bool) Truth {
	if b {
		return TruthTrue
	}
	return TruthFalse
}

// absent is the value of a leaf whose field the context lacks.
func absent(op opCode) (Truth, why) {
	switch op {
	case opExists:
		return TruthFalse, whyMissing
	case opMissing:
		return TruthTrue, whyMissing
	}
	return TruthUnknown, whyMissing
}

// present is the value of exists and missing on a field the context has.
func present(op opCode) (Truth, bool) {
	switch op {
	case opExists:
		return TruthTrue, true
	case opMissing:
		return TruthFalse, true
	}
	return 0, false
}

func (l *leaf) eval(e *evalEnv) (Truth, why) {
	switch l.kind {
	case engine.FieldString:
		if l.field == fLeadName {
			return l.evalName(e)
		}
		v := e.strs[l.field]
		switch {
		case v == "":
			return absent(l.op)
		case l.op == opEq: // the commonest leaf, answered without a call
			return truth(v == l.s), whyCompared
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpString(v)), whyCompared
	case engine.FieldNumber:
		if !e.hasQuote {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpNumber(e.nums[l.field])), whyCompared
	case engine.FieldAny:
		v, ok := e.customValue(l)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		if s, isString := v.(string); isString && l.op == opEq && l.vt == vtString {
			return truth(s == l.s), whyCompared
		}
		return l.cmpCustom(v)
	case engine.FieldBool:
		v, ok := e.boolean(l.field)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpBool(v)), whyCompared
	case engine.FieldList:
		v, ok := e.list(l.field)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpList(v)), whyCompared
	case engine.FieldTime:
		v := e.when(l.field)
		if v.IsZero() {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpTime(v)), whyCompared
	}
	return TruthUnknown, whyMissing
}

// joinName is lead.name, as templates show it: the first and last name
// with a space between them, trimmed.
func joinName(first, last string) string {
	return strings.TrimSpace(first + " " + last)
}

// nameParts returns lead.name without building it: either the whole name
// in one part (last == ""), or two non-empty parts to be read as
// first+" "+last. Trimming returns substrings, so nothing is allocated.
func nameParts(first, last string) (string, string) {
	f, l := strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case f == "":
		return l, ""
	case l == "":
		return f, ""
	}
	return strings.TrimLeftFunc(first, unicode.IsSpace), strings.TrimRightFunc(last, unicode.IsSpace)
}

// evalName compares lead.name without building it: the name is the
// virtual string first+" "+last, and every string operator can be answered
// on the two parts.
func (l *leaf) evalName(e *evalEnv) (Truth, why) {
	if !e.hasLead {
		return absent(l.op)
	}
	first, last := nameParts(e.strs[fLeadFirstName], e.strs[fLeadLastName])
	if first == "" {
		return absent(l.op)
	}
	if t, ok := present(l.op); ok {
		return t, whyCompared
	}
	if last == "" {
		return truth(l.cmpString(first)), whyCompared
	}
	n := splitName{first, last}
	switch l.op {
	case opEq:
		return truth(n.equal(l.s)), whyCompared
	case opNeq:
		return truth(!n.equal(l.s)), whyCompared
	case opIn, opNin:
		hit := false
		for _, s := range l.aux.strs {
			if n.equal(s) {
				hit = true
				break
			}
		}
		return truth(hit == (l.op == opIn)), whyCompared
	case opPrefix:
		return truth(n.hasPrefix(l.s)), whyCompared
	case opContains:
		return truth(n.contains(l.s)), whyCompared
	}
	return TruthFalse, whyCompared
}

// splitName is first+" "+last, both non-empty, read without joining.
type splitName struct{ first, last string }

func (n splitName) len() int { return len(n.first) + 1 + len(n.last) }

func (n splitName) at(i int) byte {
	switch {
	case i < len(n.first):
		return n.first[i]
	case i == len(n.first):
		return ' '
	}
	return n.last[i-len(n.first)-1]
}

func (n splitName) equal(s string) bool {
	k := len(n.first)
	return len(s) == n.len() && s[:k] == n.first && s[k] == ' ' && s[k+1:] == n.last
}

func (n splitName) hasPrefix(p string) bool {
	k := len(n.first)
	if len(p) <= k {
		return strings.HasPrefix(n.first, p)
	}
	return p[:k] == n.first && p[k] == ' ' && strings.HasPrefix(n.last, p[k+1:])
}

func (n splitName) contains(s string) bool {
	if strings.Contains(n.first, s) || strings.Contains(n.last, s) {
		return true
	}
	// Otherwise a match must cover the space; try every start that does.
	k := len(n.first)
	for start := max(0, k-len(s)+1); start <= k && start+len(s) <= n.len(); start++ {
		i := 0
		for i < len(s) && n.at(start+i) == s[i] {
			i++
		}
		if i == len(s) {
			return true
		}
	}
	return false
}

func (l *leaf) hasString(v string) bool {
	if l.aux.strM != nil {
		_, ok := l.aux.strM[v]
		return ok
	}
	for _, s := range l.aux.strs {
		if s == v {
			return true
		}
	}
	return false
}

func (l *leaf) hasNumber(v float64) bool {
	for _, f := range l.aux.nums {
		if f == v {
			return true
		}
	}
	return false
}

func (l *leaf) hasBool(v bool) bool {
	for _, b := range l.aux.bools {
		if b == v {
			return true
		}
	}
	return false
}

func (l *leaf) cmpString(v string) bool {
	switch l.op {
	case opEq:
		return v == l.s
	case opNeq:
		return v != l.s
	case opIn:
		return l.hasString(v)
	case opNin:
		return !l.hasString(v)
	case opContains:
		return strings.Contains(v, l.s)
	case opPrefix:
		return strings.HasPrefix(v, l.s)
	}
	return false
}

func (l *leaf) cmpNumber(v float64) bool {
	switch l.op {
	case opEq:
		return v == l.f
	case opNeq:
		return v != l.f
	case opGt:
		return v > l.f
	case opGte:
		return v >= l.f
	case opLt:
		return v < l.f
	case opLte:
		return v <= l.f
	case opIn:
		return l.hasNumber(v)
	case opNin:
		return !l.hasNumber(v)
	}
	return false
}

func (l *leaf) cmpBool(v bool) bool {
	switch l.op {
	case opEq:
		return v == l.b
	case opNeq:
		return v != l.b
	case opIn:
		return l.hasBool(v)
	case opNin:
		return !l.hasBool(v)
	}
	return false
}

func (l *leaf) cmpList(v []string) bool {
	switch l.op {
	case opContains:
		for _, s := range v {
			if s == l.s {
				return true
			}
		}
		return false
	case opIn, opNin:
		hit := false
		for _, s := range v {
			if l.hasString(s) {
				hit = true
				break
			}
		}
		return hit == (l.op == opIn)
	}
	return false
}

func (l *leaf) cmpTime(v time.Time) bool {
	switch l.op {
	case opEq:
		return v.Equal(l.aux.t)
	case opNeq:
		return !v.Equal(l.aux.t)
	case opGt:
		return v.After(l.aux.t)
	case opGte:
		return !v.Before(l.aux.t)
	case opLt:
		return v.Before(l.aux.t)
	case opLte:
		return !v.After(l.aux.t)
	case opIn, opNin:
		hit := false
		for _, t := range l.aux.times {
			if v.Equal(t) {
				hit = true
				break
			}
		}
		return hit == (l.op == opIn)
	}
	return false
}

// evalLeaf evaluates leaf node n, through the environment's memo when the
// leaf has a slot there: rules in one set often share leaves ("source is
// web"), and each distinct one is evaluated once per resolution. The slot
// is kept in the node, so that a hit does not even load the leaf.
func (c *Condition) evalLeaf(e *evalEnv, n *node) (Truth, why) {
	m := n.first
	if m < 0 || e.memo == nil {
		return c.leaves[n.leaf].eval(e)
	}
	if v := e.memo[m]; v != 0 {
		return Truth(v >> 1 & 3), why(v >> 3)
	}
	t, w := c.leaves[n.leaf].eval(e)
	e.memo[m] = 1 | uint8(t)<<1 | uint8(w)<<3
	return t, w
}

// evalNode evaluates node i and returns its truth, the node that decided it
// (the first false or unknown leaf, or an empty any; -1 when nothing needs
// explaining) and how that node got its value. Leaf children are evaluated
// in the loop rather than by recursion, which is most of the calls saved.
func (c *Condition) evalNode(e *evalEnv, i int32) (Truth, int32, why) {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		t, w := c.evalLeaf(e, n)
		return t, i, w
	}
	all := n.kind == nodeAll
	unknown, uwhy := int32(-1), whyCompared
	falsy, fwhy := int32(-1), whyCompared
	for _, k := range c.children(n) {
		var t Truth
		var d int32
		var w why
		if kn := &c.nodes[k]; kn.kind == nodeLeaf {
			t, w = c.evalLeaf(e, kn)
			d = k
		} else {
			t, d, w = c.evalNode(e, k)
		}
		switch t {
		case TruthFalse:
			if all {
				return TruthFalse, d, w
			}
			if falsy < 0 {
				falsy, fwhy = d, w
			}
		case TruthTrue:
			if !all {
				return TruthTrue, d, w
			}
		default:
			if unknown < 0 {
				unknown, uwhy = d, w
			}
		}
	}
	switch {
	case unknown >= 0:
		return TruthUnknown, unknown, uwhy
	case all:
		return TruthTrue, -1, whyCompared
	case falsy >= 0:
		return TruthFalse, falsy, fwhy
	}
	return TruthFalse, i, whyEmptyAny
}

func (c *Condition) eval(e *evalEnv) Result {
	if c == nil || len(c.nodes) == 0 {
		return Result{Truth: TruthTrue, node: -1}
	}
	t, d, w := c.evalNode(e, c.root)
	return Result{Truth: t, c: c, node: d, why: w}
}

// appendMissing appends the fields whose absence made node i unknown. It
// descends only into unknown children: a missing field beside a true
// sibling of an any did not change the outcome and is not worth reporting.
func (c *Condition) appendMissing(e *evalEnv, i int32, dst []string) []string {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		if t, _ := c.evalLeaf(e, n); t == TruthUnknown {
			dst = appendUnique(dst, c.info[n.leaf].name)
		}
		return dst
	}
	for _, k := range c.children(n) {
		if t, _, _ := c.evalNode(e, k); t == TruthUnknown {
			dst = c.appendMissing(e, k, dst)
		}
	}
	return dst
}

func appendUnique(dst []string, s string) []string {
	for _, x := range dst {
		if x == s {
			return dst
		}
	}
	return append(dst, s)
}

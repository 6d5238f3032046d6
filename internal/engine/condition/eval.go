package condition

import (
	"encoding/json"
	"strconv"
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

// customSlots is how many distinct custom keys an evaluation caches in
// evalEnv itself. A lone condition with more looks the rest up in the
// lead's map every time; a rule set gives every key a slot and caches the
// ones beyond customSlots in evalEnv.more.
const customSlots = 16

// evalEnv is one context prepared for evaluating conditions. The fields
// conditions read most are copied into arrays indexed by fieldID, so that
// a leaf reads its field with one load; values that cost something to
// derive (the amount in major units, a custom field's map lookup) are
// computed once per resolution, however many rules read them.
//
// Everything is held by value but the lead's tags and custom map, so that
// a resolution can keep a copy of the environment (see snapshot) and
// explain itself later, whatever the caller does to the lead meanwhile.
type evalEnv struct {
	hasLead, hasQuote bool
	optOut, optIn     bool // lead.email_opt_out, lead.whatsapp_opt_in

	strs  [fCustom]string  // string fields; "" is missing
	nums  [fCustom]float64 // number fields, present when quote is
	times [3]time.Time     // see when; the zero time is missing
	tags  []string         // lead.tags

	// customMap is the lead's custom fields, nil in a snapshot.
	customMap map[string]any
	// custom caches custom fields by slot: nil is not looked up yet,
	// missingValue{} is missing; more holds slots from customSlots on,
	// in a rule set's resolution.
	custom [customSlots]any
	more   []any
	// memo holds the results of a rule set's distinct leaves; see
	// Condition.evalLeaf. Nil outside a rule set.
	memo []uint8
}

// missingValue marks a custom field known to be missing in evalEnv.custom.
type missingValue struct{}

func newEnv(ctx *engine.Context) evalEnv {
	var e evalEnv
	e.fill(ctx)
	return e
}

// fill sets e up for ctx; e must be zero.
func (e *evalEnv) fill(ctx *engine.Context) {
	if ctx == nil {
		return
	}
	if l := ctx.Lead; l != nil {
		e.hasLead = true
		e.optOut, e.optIn = l.EmailOptOut, l.WhatsAppOptIn
		e.tags, e.customMap = l.Tags, l.Custom
		e.times[0] = l.CreatedAt
		e.strs[fLeadID] = l.ID
		e.strs[fLeadFirstName] = l.FirstName
		e.strs[fLeadLastName] = l.LastName
		e.strs[fLeadEmail] = l.Email
		e.strs[fLeadPhone] = l.Phone
		e.strs[fLeadLanguage] = l.Language
		e.strs[fLeadCountry] = l.Country
		e.strs[fLeadTimezone] = l.Timezone
		e.strs[fLeadSource] = l.Source
		e.strs[fLeadStage] = l.Stage
		e.strs[fLeadOwner] = l.Owner
	}
	if q := ctx.Quote; q != nil {
		e.hasQuote = true
		e.times[1] = q.CreatedAt
		if q.ValidUntil != nil {
			e.times[2] = *q.ValidUntil
		}
		e.strs[fQuoteID] = q.ID
		e.strs[fQuoteNumber] = q.Number
		e.strs[fQuoteCurrency] = q.Currency
		e.strs[fQuoteStatus] = string(q.Status)
		e.strs[fQuoteURL] = ctx.QuoteURL
		e.strs[fQuoteRejectionReason] = q.RejectionReason
		e.nums[fQuoteAmount] = q.Amount()
		e.nums[fQuoteRevision] = float64(q.Revision)
	}
	if t := ctx.Tenant; t != nil {
		e.strs[fTenantName] = t.Name
		e.strs[fTenantTimezone] = t.Timezone
	}
}

// str returns a string field; "" means missing.
func (e *evalEnv) str(id fieldID) string {
	if id == fLeadName {
		// Only explanations read the joined name, once per field (see
		// actual); conditions compare it in parts, in leaf.evalName.
		if !e.hasLead {
			return ""
		}
		return joinName(e.strs[fLeadFirstName], e.strs[fLeadLastName])
	}
	return e.strs[id]
}

// num returns a number field. Numbers are present whenever the quote is.
func (e *evalEnv) num(id fieldID) (float64, bool) {
	return e.nums[id], e.hasQuote
}

func (e *evalEnv) boolean(id fieldID) (v, ok bool) {
	if !e.hasLead {
		return false, false
	}
	switch id {
	case fLeadEmailOptOut:
		return e.optOut, true
	case fLeadWhatsAppOptIn:
		return e.optIn, true
	}
	return false, false
}

// list returns a list field; an empty list is present.
func (e *evalEnv) list(id fieldID) ([]string, bool) {
	if !e.hasLead || id != fLeadTags {
		return nil, false
	}
	return e.tags, true
}

// when returns a time field; the zero time means missing.
func (e *evalEnv) when(id fieldID) time.Time {
	switch id {
	case fLeadCreatedAt:
		return e.times[0]
	case fQuoteCreatedAt:
		return e.times[1]
	case fQuoteValidUntil:
		return e.times[2]
	}
	return time.Time{}
}

// customValue returns a custom field; an absent key and a JSON null are
// missing.
func (e *evalEnv) customValue(l *leaf) (any, bool) {
	if l.slot < 0 {
		return e.lookupCustom(l.aux.key)
	}
	var c *any
	if l.slot < customSlots {
		c = &e.custom[l.slot]
	} else if int(l.slot)-customSlots < len(e.more) {
		c = &e.more[int(l.slot)-customSlots]
	} else {
		return e.lookupCustom(l.aux.key)
	}
	if *c == nil {
		v, ok := e.lookupCustom(l.aux.key)
		if !ok {
			v = missingValue{}
		}
		*c = v
	}
	if _, missing := (*c).(missingValue); missing {
		return nil, false
	}
	return *c, true
}

func (e *evalEnv) lookupCustom(key string) (any, bool) {
	v, ok := e.customMap[key]
	return v, ok && v != nil
}

// boxedFields holds built-in fields' values as interfaces for trace
// entries, so that a field that fails a thousand rules is boxed once.
type boxedFields [fCustom]any

// actual returns the value of l's field as an interface, for a trace. It
// allocates at most once per field and boxedFields.
func (e *evalEnv) actual(l *leaf, boxed *boxedFields) any {
	if l.field == fCustom {
		v, _ := e.customValue(l)
		return v
	}
	if v := boxed[l.field]; v != nil {
		return v
	}
	var v any
	switch l.kind {
	case engine.FieldString:
		if s := e.str(l.field); s != "" {
			v = s
		}
	case engine.FieldNumber:
		if f, ok := e.num(l.field); ok {
			v = f
		}
	case engine.FieldBool:
		if b, ok := e.boolean(l.field); ok {
			v = b
		}
	case engine.FieldList:
		if list, ok := e.list(l.field); ok {
			// A copy: the trace must not change if the lead's tags do.
			v = append([]string{}, list...)
		}
	case engine.FieldTime:
		if t := e.when(l.field); !t.IsZero() {
			v = t.Format(time.RFC3339Nano)
		}
	}
	boxed[l.field] = v
	return v
}

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

// number reports whether a custom value is a JSON number, whichever Go type
// the lead's decoder or a caller gave it.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// cmpCustom compares a custom field by the JSON type the lead holds. A type
// the operator cannot compare is false, with whyMismatch to say so, rather
// than unknown: the field is there, it just is not what the rule expects.
func (l *leaf) cmpCustom(v any) (Truth, why) {
	switch x := v.(type) {
	case string:
		switch l.op {
		case opEq, opNeq:
			if l.vt != vtString {
				return TruthFalse, whyMismatch
			}
			return truth((x == l.s) == (l.op == opEq)), whyCompared
		case opIn, opNin:
			return truth(l.hasString(x) == (l.op == opIn)), whyCompared
		case opContains:
			if l.vt != vtString {
				return TruthFalse, whyMismatch
			}
			return truth(strings.Contains(x, l.s)), whyCompared
		case opPrefix:
			return truth(strings.HasPrefix(x, l.s)), whyCompared
		default: // orderings
			if l.vt != vtTime {
				return TruthFalse, whyMismatch
			}
			t, ok := parseInstant(x)
			if !ok {
				return TruthFalse, whyMismatch
			}
			return truth(l.cmpTime(t)), whyCompared
		}
	case bool:
		switch l.op {
		case opEq, opNeq:
			if l.vt != vtBool {
				return TruthFalse, whyMismatch
			}
			return truth((x == l.b) == (l.op == opEq)), whyCompared
		case opIn, opNin:
			return truth(l.hasBool(x) == (l.op == opIn)), whyCompared
		}
		return TruthFalse, whyMismatch
	case []any:
		if !l.listOp() {
			return TruthFalse, whyMismatch
		}
		hit := false
		for _, el := range x {
			if l.scalarHit(el) {
				hit = true
				break
			}
		}
		return truth(hit != (l.op == opNin)), whyCompared
	case []string:
		if !l.listOp() {
			return TruthFalse, whyMismatch
		}
		hit := false
		for _, el := range x {
			if l.stringHit(el) {
				hit = true
				break
			}
		}
		return truth(hit != (l.op == opNin)), whyCompared
	}
	f, ok := number(v)
	if !ok {
		return TruthFalse, whyMismatch
	}
	switch l.op {
	case opEq, opNeq, opGt, opGte, opLt, opLte:
		if l.vt != vtNumber {
			return TruthFalse, whyMismatch
		}
		return truth(l.cmpNumber(f)), whyCompared
	case opIn, opNin:
		return truth(l.hasNumber(f) == (l.op == opIn)), whyCompared
	}
	return TruthFalse, whyMismatch
}

// scalarHit reports whether one element of a custom list is in the leaf's
// value: equal to it for contains, a member of it for in and nin.
func (l *leaf) scalarHit(v any) bool {
	switch x := v.(type) {
	case string:
		return l.stringHit(x)
	case bool:
		if l.op == opContains {
			return l.vt == vtBool && x == l.b
		}
		return l.hasBool(x)
	}
	f, ok := number(v)
	if !ok {
		return false
	}
	if l.op == opContains {
		return l.vt == vtNumber && f == l.f
	}
	return l.hasNumber(f)
}

func (l *leaf) listOp() bool { return l.op == opContains || l.op == opIn || l.op == opNin }

func (l *leaf) stringHit(x string) bool {
	if l.op == opContains {
		return l.vt == vtString && x == l.s
	}
	return l.hasString(x)
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

// Eval evaluates the condition against ctx. A nil condition, such as a
// step without a when, is true. Eval does not allocate; the explanation
// methods of the Result do, and are meant for the path that reports.
func (c *Condition) Eval(ctx *engine.Context) Result {
	e := newEnv(ctx)
	r := c.eval(&e)
	r.ctx = ctx
	return r
}

// MissingFields returns the fields whose absence from ctx makes the
// condition unknown, each once, in the order the condition names them. It
// is empty when the condition is true or false.
func (c *Condition) MissingFields(ctx *engine.Context) []string {
	out := []string{}
	if c == nil || len(c.nodes) == 0 {
		return out
	}
	e := newEnv(ctx)
	if t, _, _ := c.evalNode(&e, c.root); t != TruthUnknown {
		return out
	}
	return c.appendMissing(&e, c.root, out)
}

// Result is the outcome of evaluating a condition: its truth value and, for
// a condition that is not true, the node that decided it. It is a small
// value so that evaluating allocates nothing; the explanation is derived
// from it on demand.
type Result struct {
	Truth Truth
	c     *Condition
	ctx   *engine.Context
	node  int32
	why   why
}

// Matched reports whether the condition is true.
func (r Result) Matched() bool { return r.Truth == TruthTrue }

func (r Result) leafIndex() int32 {
	if r.c == nil || r.node < 0 || r.c.nodes[r.node].kind != nodeLeaf {
		return -1
	}
	return r.c.nodes[r.node].leaf
}

// Path is the JSON path, inside the condition, of the deciding node: the
// first false or unknown leaf, or an empty any. It is "" for the root and
// for a true condition.
func (r Result) Path() string {
	if r.c == nil || r.node < 0 {
		return ""
	}
	return r.c.paths[r.node]
}

// Field is the deciding leaf's field, "" when no leaf decided.
func (r Result) Field() string {
	if i := r.leafIndex(); i >= 0 {
		return r.c.info[i].name
	}
	return ""
}

// Op is the deciding leaf's operator.
func (r Result) Op() string {
	if i := r.leafIndex(); i >= 0 {
		return opNames[r.c.leaves[i].op]
	}
	return ""
}

// Expected is the deciding leaf's value as the condition gives it: a
// string, float64, bool or []any; nil for exists and missing.
func (r Result) Expected() any {
	if i := r.leafIndex(); i >= 0 {
		return r.c.info[i].expected
	}
	return nil
}

// Missing reports whether the deciding leaf's field is absent from the
// context.
func (r Result) Missing() bool { return r.why == whyMissing && r.leafIndex() >= 0 }

// Mismatch reports whether the deciding leaf is false because a custom
// field holds a type its operator cannot compare.
func (r Result) Mismatch() bool { return r.why == whyMismatch }

// Actual is the value the deciding leaf's field has in the context: a
// string, float64, bool, []string, an RFC 3339 string for timestamps, or a
// custom field's JSON value; nil when it is missing or nothing decided.
func (r Result) Actual() any {
	i := r.leafIndex()
	if i < 0 || r.why == whyMissing {
		return nil
	}
	e := newEnv(r.ctx)
	return e.actual(&r.c.leaves[i], &boxedFields{})
}

// Detail explains the result in a sentence.
func (r Result) Detail() string {
	if r.Truth == TruthTrue {
		return "condition true"
	}
	return engine.ConditionDetail(r.Truth.String(), r.Path(), r.Field(), r.Op(), r.Expected(), r.Actual(), r.why)
}

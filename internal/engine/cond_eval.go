package engine

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
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

// why says how a leaf reached its truth value, for explanations.
type why uint8

const (
	whyCompared why = iota
	whyMissing      // the field is absent from the context
	whyMismatch     // a custom field holds a type the operator cannot compare
	whyEmptyAny     // an empty any, which matches nothing
)

// customSlots is how many distinct custom keys an evaluation caches; a
// rule set with more looks the rest up in the lead's map every time.
const customSlots = 16

// evalEnv is one context prepared for evaluating conditions. Values that
// cost something to derive (the quote's amount in major units, a custom
// field's map lookup, a boxed value for a trace) are computed at most once
// per resolution, however many rules read them.
type evalEnv struct {
	lead   *Lead
	quote  *Quote
	tenant *Tenant
	url    string

	amount     float64
	amountDone bool

	custom [customSlots]cachedValue
	// memo holds the results of a rule set's distinct leaves; see
	// Condition.evalLeaf. Nil outside a rule set.
	memo []uint8
	// boxed holds built-in fields' values as interfaces for trace
	// entries, so that a field that fails a thousand rules is boxed once.
	boxed [fCustom]any
}

type cachedValue struct {
	v     any
	state uint8 // 0 not looked up, 1 missing, 2 present
}

func newEnv(ctx *Context) evalEnv {
	if ctx == nil {
		return evalEnv{}
	}
	return evalEnv{lead: ctx.Lead, quote: ctx.Quote, tenant: ctx.Tenant, url: ctx.QuoteURL}
}

// str returns a string field; "" means missing.
func (e *evalEnv) str(id fieldID) string {
	if l := e.lead; l != nil {
		switch id {
		case fLeadID:
			return l.ID
		case fLeadFirstName:
			return l.FirstName
		case fLeadLastName:
			return l.LastName
		case fLeadName:
			// Only explanations read the joined name, once per field (see
			// actual); conditions compare it in parts, in leaf.evalName.
			return joinName(l.FirstName, l.LastName)
		case fLeadEmail:
			return l.Email
		case fLeadPhone:
			return l.Phone
		case fLeadLanguage:
			return l.Language
		case fLeadCountry:
			return l.Country
		case fLeadTimezone:
			return l.Timezone
		case fLeadSource:
			return l.Source
		case fLeadStage:
			return l.Stage
		case fLeadOwner:
			return l.Owner
		}
	}
	if q := e.quote; q != nil {
		switch id {
		case fQuoteID:
			return q.ID
		case fQuoteNumber:
			return q.Number
		case fQuoteCurrency:
			return q.Currency
		case fQuoteStatus:
			return string(q.Status)
		case fQuoteURL:
			return e.url
		case fQuoteRejectionReason:
			return q.RejectionReason
		}
	}
	if t := e.tenant; t != nil {
		switch id {
		case fTenantName:
			return t.Name
		case fTenantTimezone:
			return t.Timezone
		}
	}
	return ""
}

// num returns a number field. Numbers are present whenever the thing that
// holds them is.
func (e *evalEnv) num(id fieldID) (float64, bool) {
	q := e.quote
	if q == nil {
		return 0, false
	}
	switch id {
	case fQuoteAmount:
		if !e.amountDone {
			e.amount = q.Amount()
			e.amountDone = true
		}
		return e.amount, true
	case fQuoteRevision:
		return float64(q.Revision), true
	}
	return 0, false
}

func (e *evalEnv) boolean(id fieldID) (v, ok bool) {
	if e.lead == nil {
		return false, false
	}
	switch id {
	case fLeadEmailOptOut:
		return e.lead.EmailOptOut, true
	case fLeadWhatsAppOptIn:
		return e.lead.WhatsAppOptIn, true
	}
	return false, false
}

// list returns a list field; an empty list is present.
func (e *evalEnv) list(id fieldID) ([]string, bool) {
	if e.lead == nil || id != fLeadTags {
		return nil, false
	}
	return e.lead.Tags, true
}

// when returns a time field; the zero time means missing.
func (e *evalEnv) when(id fieldID) time.Time {
	switch id {
	case fLeadCreatedAt:
		if e.lead != nil {
			return e.lead.CreatedAt
		}
	case fQuoteCreatedAt:
		if e.quote != nil {
			return e.quote.CreatedAt
		}
	case fQuoteValidUntil:
		if e.quote != nil && e.quote.ValidUntil != nil {
			return *e.quote.ValidUntil
		}
	}
	return time.Time{}
}

// customValue returns a custom field; an absent key and a JSON null are
// missing.
func (e *evalEnv) customValue(l *leaf) (any, bool) {
	if l.slot < 0 || l.slot >= customSlots {
		return e.lookupCustom(l.key)
	}
	c := &e.custom[l.slot]
	if c.state == 0 {
		v, ok := e.lookupCustom(l.key)
		c.v, c.state = v, 1
		if ok {
			c.state = 2
		}
	}
	return c.v, c.state == 2
}

func (e *evalEnv) lookupCustom(key string) (any, bool) {
	if e.lead == nil {
		return nil, false
	}
	v, ok := e.lead.Custom[key]
	return v, ok && v != nil
}

// actual returns the value of l's field as an interface, for a trace. It
// allocates at most once per field and environment.
func (e *evalEnv) actual(l *leaf) any {
	if l.field == fCustom {
		v, _ := e.customValue(l)
		return v
	}
	if v := e.boxed[l.field]; v != nil {
		return v
	}
	var v any
	switch l.kind {
	case FieldString:
		if s := e.str(l.field); s != "" {
			v = s
		}
	case FieldNumber:
		if f, ok := e.num(l.field); ok {
			v = f
		}
	case FieldBool:
		if b, ok := e.boolean(l.field); ok {
			v = b
		}
	case FieldList:
		if list, ok := e.list(l.field); ok {
			// A copy: the trace must not change if the lead's tags do.
			v = append([]string{}, list...)
		}
	case FieldTime:
		if t := e.when(l.field); !t.IsZero() {
			v = t.Format(time.RFC3339Nano)
		}
	}
	e.boxed[l.field] = v
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
	case FieldString:
		if l.field == fLeadName {
			return l.evalName(e)
		}
		v := e.str(l.field)
		if v == "" {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpString(v)), whyCompared
	case FieldNumber:
		v, ok := e.num(l.field)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpNumber(v)), whyCompared
	case FieldBool:
		v, ok := e.boolean(l.field)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpBool(v)), whyCompared
	case FieldList:
		v, ok := e.list(l.field)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpList(v)), whyCompared
	case FieldTime:
		v := e.when(l.field)
		if v.IsZero() {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return truth(l.cmpTime(v)), whyCompared
	case FieldAny:
		v, ok := e.customValue(l)
		if !ok {
			return absent(l.op)
		}
		if t, ok := present(l.op); ok {
			return t, whyCompared
		}
		return l.cmpCustom(v)
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
	if e.lead == nil {
		return absent(l.op)
	}
	first, last := nameParts(e.lead.FirstName, e.lead.LastName)
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
		for _, s := range l.set.strs {
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
	if l.set.strM != nil {
		_, ok := l.set.strM[v]
		return ok
	}
	for _, s := range l.set.strs {
		if s == v {
			return true
		}
	}
	return false
}

func (l *leaf) hasNumber(v float64) bool {
	for _, f := range l.set.nums {
		if f == v {
			return true
		}
	}
	return false
}

func (l *leaf) hasBool(v bool) bool {
	for _, b := range l.set.bools {
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
		return v.Equal(l.t)
	case opNeq:
		return !v.Equal(l.t)
	case opGt:
		return v.After(l.t)
	case opGte:
		return !v.Before(l.t)
	case opLt:
		return v.Before(l.t)
	case opLte:
		return !v.After(l.t)
	case opIn, opNin:
		hit := false
		for _, t := range l.set.times {
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

// evalLeaf evaluates leaf li, through the environment's memo when the
// leaf has a slot there: rules in one set often share leaves ("source is
// web"), and each distinct one is evaluated once per resolution.
func (c *Condition) evalLeaf(e *evalEnv, li int32) (Truth, why) {
	l := &c.leaves[li]
	if l.memo < 0 || e.memo == nil {
		return l.eval(e)
	}
	if m := e.memo[l.memo]; m != 0 {
		return Truth(m >> 1 & 3), why(m >> 3)
	}
	t, w := l.eval(e)
	e.memo[l.memo] = 1 | uint8(t)<<1 | uint8(w)<<3
	return t, w
}

// evalNode evaluates node i and returns its truth, the node that decided it
// (the first false or unknown leaf, or an empty any; -1 when nothing needs
// explaining) and how that node got its value. Leaf children are evaluated
// in the loop rather than by recursion, which is most of the calls saved.
func (c *Condition) evalNode(e *evalEnv, i int32) (Truth, int32, why) {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		t, w := c.evalLeaf(e, n.leaf)
		return t, i, w
	}
	all := n.kind == nodeAll
	unknown, uwhy := int32(-1), whyCompared
	falsy, fwhy := int32(-1), whyCompared
	for _, k := range c.kids[n.first : n.first+n.count] {
		var t Truth
		var d int32
		var w why
		if kn := &c.nodes[k]; kn.kind == nodeLeaf {
			t, w = c.evalLeaf(e, kn.leaf)
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
	t, d, w := c.evalNode(e, 0)
	return Result{Truth: t, c: c, node: d, why: w}
}

// appendMissing appends the fields whose absence made node i unknown. It
// descends only into unknown children: a missing field beside a true
// sibling of an any did not change the outcome and is not worth reporting.
func (c *Condition) appendMissing(e *evalEnv, i int32, dst []string) []string {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		if t, _ := c.evalLeaf(e, n.leaf); t == TruthUnknown {
			dst = appendUnique(dst, c.info[n.leaf].name)
		}
		return dst
	}
	for _, k := range c.kids[n.first : n.first+n.count] {
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
func (c *Condition) Eval(ctx *Context) Result {
	e := newEnv(ctx)
	r := c.eval(&e)
	r.ctx = ctx
	return r
}

// MissingFields returns the fields whose absence from ctx makes the
// condition unknown, each once, in the order the condition names them. It
// is empty when the condition is true or false.
func (c *Condition) MissingFields(ctx *Context) []string {
	out := []string{}
	if c == nil || len(c.nodes) == 0 {
		return out
	}
	e := newEnv(ctx)
	if t, _, _ := c.evalNode(&e, 0); t != TruthUnknown {
		return out
	}
	return c.appendMissing(&e, 0, out)
}

// Result is the outcome of evaluating a condition: its truth value and, for
// a condition that is not true, the node that decided it. It is a small
// value so that evaluating allocates nothing; the explanation is derived
// from it on demand.
type Result struct {
	Truth Truth
	c     *Condition
	ctx   *Context
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
	return e.actual(&r.c.leaves[i])
}

// Detail explains the result in a sentence.
func (r Result) Detail() string {
	if r.Truth == TruthTrue {
		return "condition true"
	}
	return conditionDetail(r.Truth, r.Path(), r.Field(), r.Op(), r.Expected(), r.Actual(), r.why)
}

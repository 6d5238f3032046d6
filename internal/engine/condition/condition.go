package condition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Limits on a condition's shape. Conditions come from an editor and are
// small; the limits exist so that hostile or corrupted input cannot make
// parsing or evaluation expensive.
const (
	MaxDepth = 32
	MaxNodes = 1000
)

// Operators lists the condition operators in the order an editor should
// offer them.
var Operators = []string{"eq", "neq", "in", "nin", "contains", "gt", "gte", "lt", "lte", "exists", "missing", "prefix"}

type opCode uint8

const (
	opEq opCode = iota + 1
	opNeq
	opIn
	opNin
	opContains
	opGt
	opGte
	opLt
	opLte
	opExists
	opMissing
	opPrefix
)

var opNames = [...]string{
	opEq: "eq", opNeq: "neq", opIn: "in", opNin: "nin", opContains: "contains",
	opGt: "gt", opGte: "gte", opLt: "lt", opLte: "lte",
	opExists: "exists", opMissing: "missing", opPrefix: "prefix",
}

func lookupOp(name string) (opCode, bool) {
	for i, n := range opNames {
		if n != "" && n == name {
			return opCode(i), true
		}
	}
	return 0, false
}

// fieldID selects an accessor at evaluation time, so that a leaf never looks
// its field up by name while a lead is being resolved.
type fieldID uint8

const (
	fLeadID fieldID = iota + 1
	fLeadFirstName
	fLeadLastName
	fLeadName
	fLeadEmail
	fLeadPhone
	fLeadLanguage
	fLeadCountry
	fLeadTimezone
	fLeadSource
	fLeadStage
	fLeadTags
	fLeadOwner
	fLeadEmailOptOut
	fLeadWhatsAppOptIn
	fLeadCreatedAt
	fQuoteID
	fQuoteNumber
	fQuoteAmount
	fQuoteCurrency
	fQuoteStatus
	fQuoteValidUntil
	fQuoteRevision
	fQuoteURL
	fQuoteRejectionReason
	fQuoteCreatedAt
	fTenantName
	fTenantTimezone
	fCustom
)

// fieldIDs maps the catalogue in fields.go to accessors; a test keeps the
// two in step.
var fieldIDs = map[string]fieldID{
	"lead.id":                fLeadID,
	"lead.first_name":        fLeadFirstName,
	"lead.last_name":         fLeadLastName,
	"lead.name":              fLeadName,
	"lead.email":             fLeadEmail,
	"lead.phone":             fLeadPhone,
	"lead.language":          fLeadLanguage,
	"lead.country":           fLeadCountry,
	"lead.timezone":          fLeadTimezone,
	"lead.source":            fLeadSource,
	"lead.stage":             fLeadStage,
	"lead.tags":              fLeadTags,
	"lead.owner":             fLeadOwner,
	"lead.email_opt_out":     fLeadEmailOptOut,
	"lead.whatsapp_opt_in":   fLeadWhatsAppOptIn,
	"lead.created_at":        fLeadCreatedAt,
	"quote.id":               fQuoteID,
	"quote.number":           fQuoteNumber,
	"quote.amount":           fQuoteAmount,
	"quote.currency":         fQuoteCurrency,
	"quote.status":           fQuoteStatus,
	"quote.valid_until":      fQuoteValidUntil,
	"quote.revision":         fQuoteRevision,
	"quote.url":              fQuoteURL,
	"quote.rejection_reason": fQuoteRejectionReason,
	"quote.created_at":       fQuoteCreatedAt,
	"tenant.name":            fTenantName,
	"tenant.timezone":        fTenantTimezone,
}

type nodeKind uint8

const (
	nodeAll nodeKind = iota + 1
	nodeAny
	nodeLeaf
)

// node is one vertex of a compiled condition. Children of all/any live in
// Condition.kids[first:first+count], so the tree is a few flat slices and
// evaluating it chases no pointers of its own.
type node struct {
	kind nodeKind
	leaf int32 // index into Condition.leaves for a leaf
	// first is the index of the first child in kids for all and any; for
	// a leaf, its result slot in a rule set's memo (see evalLeaf), or -1.
	first int32
	count int32
}

// valueType is the JSON type of a leaf's value; for custom fields it
// decides how the value compares with whatever the lead holds.
type valueType uint8

const (
	vtNone valueType = iota
	vtString
	vtNumber
	vtBool
	vtTime
	vtArray
)

// smallSet is the size up to which a linear scan beats hashing.
const smallSet = 8

// leaf is a compiled comparison: its field resolved to an accessor and its
// value converted once to the form evaluation compares with. It holds only
// what most comparisons read, in 40 bytes, so that a rule set's leaves stay
// dense in cache; the rest is behind aux, and what explanations need is in
// leafInfo.
type leaf struct {
	field fieldID
	kind  engine.FieldKind
	op    opCode
	vt    valueType
	b     bool
	slot  int16 // custom-field cache slot, see evalEnv.customValue; -1 for none
	f     float64
	s     string
	aux   *leafAux // custom fields, timestamps, in and nin
}

// leafAux is the part of a leaf that only some comparisons read.
type leafAux struct {
	key   string // custom key for fCustom
	t     time.Time
	strs  []string
	strM  map[string]struct{} // strs again, when there are many
	nums  []float64
	bools []bool
	times []time.Time
}

// leafInfo is what explanations need of a leaf.
type leafInfo struct {
	name string // field path as written
	// expected is the value as the rule gives it (numbers as float64,
	// arrays as []any), boxed once here so that traces can carry it
	// without allocating.
	expected any
}

// Condition is a parsed, validated and compiled condition tree. It is
// immutable and safe for concurrent use.
//
// Semantics, which the editor and the API documentation repeat:
//   - Evaluation is three-valued. A leaf on a field the context lacks (an
//     empty string, a zero time, no quote for quote.* fields, an absent or
//     null custom key) is unknown, except exists (false) and missing (true).
//     all is false if a child is false, else unknown if a child is unknown;
//     any is true if a child is true, else unknown if a child is unknown.
//     {"all": []} is true and {"any": []} false.
//   - Strings compare byte for byte: eq, in, contains and prefix are
//     case-sensitive ("Web" is not "web").
//   - Numbers compare as float64; timestamps as instants, whatever their
//     offsets; booleans and lists are always present.
//   - lead.tags: contains is "has this tag", in is "has any of these", nin
//     is "has none of these"; eq and neq are not allowed.
//   - lead.name is what templates show: the first and last name with a
//     space between them, trimmed.
//   - Custom fields (lead.custom.<key>) compare by the JSON type the lead
//     holds. eq, neq and contains compare only within one type; gt, gte, lt
//     and lte compare numbers with a number and RFC 3339 strings with a
//     timestamp; a list holding the rule's value satisfies contains, and
//     shares a value with in's list for in. A type that cannot be compared
//     (gt 5 on "tile", anything but exists and missing on an object)
//     makes the leaf false, and the result says so. in and nin on a scalar
//     or a list ask membership, so a value of another type is simply not a
//     member ("5" is not in [5]).
type Condition struct {
	// The arrays may be shared with other conditions of a rule set (see
	// pack); root is this condition's node in them.
	nodes  []node
	kids   []int32
	leaves []leaf
	paths  []string   // per node: its JSON path from the root, "" for the root
	info   []leafInfo // per leaf
	root   int32
	// customKeys are the distinct custom keys the leaves read; a leaf's
	// slot indexes it.
	customKeys []string
}

// ParseCondition parses, validates and compiles a condition. Every problem
// found is reported as one FieldError of an EINVALID Error, named by its
// JSON path relative to the condition (all[1].any[0].op; "" is the root),
// so that the API can place it in the request with PrefixFields.
func Parse(raw json.RawMessage) (*Condition, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, engine.Invalid("", "a condition is required")
	}
	if !json.Valid(trimmed) {
		return nil, engine.Invalid("", "the condition is not valid JSON")
	}
	p := parser{c: &Condition{}}
	p.node(trimmed, "", 1)
	if len(p.errs) > 0 {
		return nil, &engine.Error{Code: engine.EINVALID, Message: "invalid condition", Fields: p.errs}
	}
	return p.c, nil
}

type parser struct {
	c       *Condition
	errs    []engine.FieldError
	count   int
	tooMany bool
}

func (p *parser) fail(path, format string, args ...any) {
	p.errs = append(p.errs, engine.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func joinPath(path, seg string) string {
	if path == "" {
		return seg
	}
	return path + "." + seg
}

// decodeJSON decodes with json.Number so that numbers keep their text until
// they are checked for range.
func decodeJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}

// node parses one node and returns its index, or -1 when it is invalid. The
// index is reserved before the children are parsed so that the root is
// always node 0.
func (p *parser) node(raw []byte, path string, depth int) int32 {
	if p.tooMany {
		return -1
	}
	p.count++
	if p.count > MaxNodes {
		p.tooMany = true
		p.fail("", "a condition may have at most %d nodes", MaxNodes)
		return -1
	}
	if depth > MaxDepth {
		p.fail(path, "conditions may nest at most %d levels deep", MaxDepth)
		return -1
	}
	var obj map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		p.fail(path, "must be an object with all, any, or field and op")
		return -1
	}
	_, hasAll := obj["all"]
	_, hasAny := obj["any"]
	_, hasField := obj["field"]
	_, hasOp := obj["op"]
	_, hasValue := obj["value"]
	hasLeaf := hasField || hasOp || hasValue

	var unknown []string
	for k := range obj {
		switch k {
		case "all", "any", "field", "op", "value":
		default:
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.fail(joinPath(path, k), "unknown key %q", k)
	}

	kinds := 0
	for _, b := range []bool{hasAll, hasAny, hasLeaf} {
		if b {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		if len(unknown) == 0 {
			p.fail(path, "must have all, any, or field and op")
		}
		return -1
	case kinds > 1:
		p.fail(path, "must be exactly one of all, any, or a leaf with field and op")
		return -1
	}

	idx := int32(len(p.c.nodes))
	p.c.nodes = append(p.c.nodes, node{})
	p.c.paths = append(p.c.paths, path)
	switch {
	case hasAll:
		p.group(idx, nodeAll, "all", obj["all"], path, depth)
	case hasAny:
		p.group(idx, nodeAny, "any", obj["any"], path, depth)
	default:
		p.c.nodes[idx].kind = nodeLeaf
		p.c.nodes[idx].leaf = p.leaf(obj, path, hasValue)
		p.c.nodes[idx].first = -1
	}
	if len(unknown) > 0 {
		return -1
	}
	return idx
}

func (p *parser) group(idx int32, kind nodeKind, key string, raw json.RawMessage, path string, depth int) {
	p.c.nodes[idx].kind = kind
	var elems []json.RawMessage
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		p.fail(joinPath(path, key), "must be an array of conditions")
		return
	}
	children := make([]int32, 0, len(elems))
	for i, e := range elems {
		c := p.node(bytes.TrimSpace(e), joinPath(path, key+"["+strconv.Itoa(i)+"]"), depth+1)
		if p.tooMany {
			return
		}
		children = append(children, c)
	}
	p.c.nodes[idx].first = int32(len(p.c.kids))
	p.c.nodes[idx].count = int32(len(children))
	p.c.kids = append(p.c.kids, children...)
}

func (p *parser) leaf(obj map[string]json.RawMessage, path string, hasValue bool) int32 {
	var l leaf
	var li leafInfo
	ok := true

	var info engine.FieldInfo
	if raw, has := obj["field"]; !has {
		p.fail(joinPath(path, "field"), "field is required")
		ok = false
	} else if err := json.Unmarshal(raw, &li.name); err != nil {
		p.fail(joinPath(path, "field"), "field must be a string")
		ok = false
	} else if f, found := engine.LookupField(li.name); !found {
		p.fail(joinPath(path, "field"), "unknown field %q", li.name)
		ok = false
	} else {
		info = f
		l.kind = f.Kind
		if f.Kind == engine.FieldAny {
			l.field = fCustom
			l.aux = &leafAux{key: strings.TrimPrefix(li.name, engine.CustomPrefix)}
			l.slot = p.c.customSlot(l.aux.key)
		} else if id, known := fieldIDs[li.name]; known {
			l.field = id
		} else {
			p.fail(joinPath(path, "field"), "field %q cannot be used in conditions", li.name)
			ok = false
		}
	}

	var opName string
	if raw, has := obj["op"]; !has {
		p.fail(joinPath(path, "op"), "op is required")
		ok = false
	} else if err := json.Unmarshal(raw, &opName); err != nil {
		p.fail(joinPath(path, "op"), "op must be a string")
		ok = false
	} else if op, found := lookupOp(opName); !found {
		p.fail(joinPath(path, "op"), "unknown operator %q; use one of %s", opName, strings.Join(Operators, ", "))
		ok = false
	} else {
		l.op = op
	}

	if l.op == opExists || l.op == opMissing {
		if hasValue {
			p.fail(joinPath(path, "value"), "%s takes no value", opNames[l.op])
			ok = false
		}
	} else if l.op != 0 {
		vpath := joinPath(path, "value")
		if !hasValue {
			p.fail(vpath, "value is required for %s", opNames[l.op])
			ok = false
		} else if info.Kind != 0 {
			var v any
			if err := decodeJSON(obj["value"], &v); err != nil {
				p.fail(vpath, "value is not valid JSON")
				ok = false
			} else if !p.compileValue(&l, &li, v, path) {
				ok = false
			}
		}
	}
	if !ok {
		return -1
	}
	p.c.leaves = append(p.c.leaves, l)
	p.c.info = append(p.c.info, li)
	return int32(len(p.c.leaves) - 1)
}

// customSlot returns the cache slot of a custom key, adding it if new; -1
// when the cache is full.
func (c *Condition) customSlot(key string) int16 {
	for i, k := range c.customKeys {
		if k == key {
			return slotOrNone(i)
		}
	}
	c.customKeys = append(c.customKeys, key)
	return slotOrNone(len(c.customKeys) - 1)
}

func slotOrNone(i int) int16 {
	if i >= customSlots {
		return -1
	}
	return int16(i)
}

// compileValue checks v against the leaf's field kind and operator and
// stores it in the form evaluation compares with. path is the leaf's.
func (p *parser) compileValue(l *leaf, li *leafInfo, v any, path string) bool {
	op := opNames[l.op]
	vc := valueCompiler{p: p, l: l, li: li, path: joinPath(path, "value")}
	switch l.kind {
	case engine.FieldString:
		switch l.op {
		case opEq, opNeq, opContains, opPrefix:
			return vc.scalar(v, vtString)
		case opIn, opNin:
			return vc.array(v, vtString)
		}
	case engine.FieldNumber:
		switch l.op {
		case opEq, opNeq, opGt, opGte, opLt, opLte:
			return vc.scalar(v, vtNumber)
		case opIn, opNin:
			return vc.array(v, vtNumber)
		}
	case engine.FieldBool:
		switch l.op {
		case opEq, opNeq:
			return vc.scalar(v, vtBool)
		case opIn, opNin:
			return vc.array(v, vtBool)
		}
	case engine.FieldTime:
		switch l.op {
		case opEq, opNeq, opGt, opGte, opLt, opLte:
			return vc.scalar(v, vtTime)
		case opIn, opNin:
			return vc.array(v, vtTime)
		}
	case engine.FieldList:
		switch l.op {
		case opContains:
			return vc.scalar(v, vtString)
		case opIn, opNin:
			return vc.array(v, vtString)
		case opEq, opNeq:
			p.fail(joinPath(path, "op"), "%s is not allowed on list field %s; use contains, in or nin", op, li.name)
			return false
		}
	case engine.FieldAny:
		return vc.custom(v)
	}
	p.fail(joinPath(path, "op"), "%s is not allowed on %s field %s", op, l.kind, li.name)
	return false
}

// valueCompiler compiles one leaf's value.
type valueCompiler struct {
	p    *parser
	l    *leaf
	li   *leafInfo
	path string // of the value
}

// custom compiles the value of a custom-field leaf, whose type is only known
// at evaluation; the value's own JSON type decides how it compares.
func (vc valueCompiler) custom(v any) bool {
	op := opNames[vc.l.op]
	switch vc.l.op {
	case opIn, opNin:
		return vc.array(v, vtNone)
	case opPrefix:
		return vc.scalar(v, vtString)
	case opGt, opGte, opLt, opLte:
		if _, isNum := v.(json.Number); isNum {
			return vc.scalar(v, vtNumber)
		}
		if s, isStr := v.(string); isStr {
			if _, ok := parseInstant(s); ok {
				return vc.scalar(v, vtTime)
			}
		}
		vc.p.fail(vc.path, "%s on a custom field needs a number or an RFC 3339 timestamp", op)
		return false
	default: // eq, neq, contains
		switch v.(type) {
		case json.Number:
			return vc.scalar(v, vtNumber)
		case string:
			return vc.scalar(v, vtString)
		case bool:
			return vc.scalar(v, vtBool)
		}
		vc.p.fail(vc.path, "%s on a custom field needs a string, number or boolean", op)
		return false
	}
}

func typeWanted(vt valueType) string {
	switch vt {
	case vtString:
		return "a string"
	case vtNumber:
		return "a number"
	case vtBool:
		return "a boolean"
	case vtTime:
		return "an RFC 3339 timestamp"
	}
	return "a string, number or boolean"
}

// scalarValue is one JSON scalar in comparison form.
type scalarValue struct {
	vt       valueType
	s        string
	f        float64
	b        bool
	t        time.Time
	expected any
}

// convert turns one decoded JSON scalar into comparison form. vtNone
// accepts any scalar, for custom fields.
func convert(v any, want valueType) (scalarValue, bool) {
	switch x := v.(type) {
	case string:
		if want == vtTime {
			t, ok := parseInstant(x)
			return scalarValue{vt: vtTime, s: x, t: t, expected: x}, ok
		}
		return scalarValue{vt: vtString, s: x, expected: x}, want == vtString || want == vtNone
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return scalarValue{vt: vtNumber}, false
		}
		return scalarValue{vt: vtNumber, f: f, expected: f}, want == vtNumber || want == vtNone
	case bool:
		return scalarValue{vt: vtBool, b: x, expected: x}, want == vtBool || want == vtNone
	}
	return scalarValue{}, false
}

func (vc valueCompiler) scalar(v any, want valueType) bool {
	sv, ok := convert(v, want)
	if !ok {
		if sv.vt == vtNumber && want == vtNumber {
			vc.p.fail(vc.path, "%s needs a finite number", opNames[vc.l.op])
		} else {
			vc.p.fail(vc.path, "%s on %s needs %s", opNames[vc.l.op], vc.li.name, typeWanted(want))
		}
		return false
	}
	vc.l.vt, vc.l.s, vc.l.f, vc.l.b = sv.vt, sv.s, sv.f, sv.b
	if sv.vt == vtTime {
		vc.aux().t = sv.t
	}
	vc.li.expected = sv.expected
	return true
}

func (vc valueCompiler) array(v any, want valueType) bool {
	elems, isArr := v.([]any)
	if !isArr {
		vc.p.fail(vc.path, "%s needs an array value", opNames[vc.l.op])
		return false
	}
	set := vc.aux()
	exp := make([]any, 0, len(elems))
	ok := true
	for i, e := range elems {
		sv, good := convert(e, want)
		if !good {
			vc.p.fail(vc.path+"["+strconv.Itoa(i)+"]", "%s on %s needs %s", opNames[vc.l.op], vc.li.name, typeWanted(want))
			ok = false
			continue
		}
		exp = append(exp, sv.expected)
		switch sv.vt {
		case vtString:
			set.strs = append(set.strs, sv.s)
		case vtNumber:
			set.nums = append(set.nums, sv.f)
		case vtBool:
			set.bools = append(set.bools, sv.b)
		case vtTime:
			set.times = append(set.times, sv.t)
		}
	}
	if len(set.strs) > smallSet {
		set.strM = make(map[string]struct{}, len(set.strs))
		for _, s := range set.strs {
			set.strM[s] = struct{}{}
		}
	}
	vc.l.vt = vtArray
	vc.li.expected = exp
	return ok
}

func (vc valueCompiler) aux() *leafAux {
	if vc.l.aux == nil {
		vc.l.aux = &leafAux{}
	}
	return vc.l.aux
}

// MarshalJSON writes the condition in its canonical form: the keys all,
// any, field, op and value only, numbers as JSON writes a float64. Parsing
// the output gives an equivalent condition.
func (c *Condition) MarshalJSON() ([]byte, error) {
	if c == nil || len(c.nodes) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(c.tree(c.root))
}

type leafJSON struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

func (c *Condition) tree(i int32) any {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		return leafJSON{Field: c.info[n.leaf].name, Op: opNames[c.leaves[n.leaf].op], Value: c.info[n.leaf].expected}
	}
	kids := make([]any, 0, n.count)
	for _, k := range c.children(n) {
		kids = append(kids, c.tree(k))
	}
	if n.kind == nodeAll {
		return map[string]any{"all": kids}
	}
	return map[string]any{"any": kids}
}

// Fields returns the distinct field paths the condition reads, in the order
// they first appear.
func (c *Condition) Fields() []string {
	if c == nil || len(c.nodes) == 0 {
		return []string{}
	}
	return c.appendFields(c.root, []string{})
}

func (c *Condition) appendFields(i int32, dst []string) []string {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		return appendUnique(dst, c.info[n.leaf].name)
	}
	for _, k := range c.children(n) {
		dst = c.appendFields(k, dst)
	}
	return dst
}

// AlwaysTrue reports whether the condition matches every lead whatever its
// fields, as a catch-all {"all": []} does. It is a syntactic check: a
// condition that is true for every lead only by coincidence of its values
// is not detected.
func (c *Condition) AlwaysTrue() bool {
	if c == nil || len(c.nodes) == 0 {
		return true
	}
	return c.alwaysTrue(c.root)
}

// children returns the child indexes of an all or any node; none for a
// leaf, whose first field means something else.
func (c *Condition) children(n *node) []int32 {
	if n.kind == nodeLeaf {
		return nil
	}
	return c.kids[n.first : n.first+n.count]
}

func (c *Condition) alwaysTrue(i int32) bool {
	n := &c.nodes[i]
	kids := c.children(n)
	switch n.kind {
	case nodeAll:
		for _, k := range kids {
			if !c.alwaysTrue(k) {
				return false
			}
		}
		return true
	case nodeAny:
		for _, k := range kids {
			if c.alwaysTrue(k) {
				return true
			}
		}
	}
	return false
}

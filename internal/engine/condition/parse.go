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

// Parse parses, validates and compiles a condition. Every problem
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

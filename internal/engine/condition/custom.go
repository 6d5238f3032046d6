package condition

import (
	"encoding/json"
	"strconv"
	"strings"
)

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

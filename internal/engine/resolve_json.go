package engine

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file writes traces as JSON without reflection: a trace of a
// thousand failed rules is some 270 KB, and encoding/json spent most of its
// time on it finding its way through TraceEntry field by field, with eight
// allocations an entry. The output is byte for byte what encoding/json
// writes for a []TraceEntry (with TraceEntry.MarshalJSON, so with HTML
// escaping, whatever the caller's encoder says); any value this file does
// not know how to write is handed to encoding/json. Tests compare the two
// on random traces. (encoding/json still scans the output once, as it
// scans whatever a MarshalJSON method returns: that is most of what
// marshalling a long trace costs now.)

// appendJSON writes the lazy trace.
func (lt *lazyTrace) appendJSON(b []byte) ([]byte, error) {
	env := lt.readEnv()
	var boxed boxedFields
	var te TraceEntry
	var tmp []byte
	var err error
	b = append(b, '[')
	for k, n := 0, lt.size(); k < n; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		te = TraceEntry{}
		lt.entry(k, &env, &boxed, &te)
		if b, tmp, err = appendEntryJSON(b, tmp, &te); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendEntriesJSON writes a trace that is not lazy.
func appendEntriesJSON(b []byte, entries []TraceEntry) ([]byte, error) {
	var tmp []byte
	b = append(b, '[')
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, tmp, err = appendEntryJSON(b, tmp, &entries[i]); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendEntryJSON writes one entry as TraceEntry.MarshalJSON does; tmp is
// scratch space for its Detail, returned for reuse.
func appendEntryJSON(b, tmp []byte, e *TraceEntry) ([]byte, []byte, error) {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, e.Kind)
	if e.ID != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, e.ID)
	}
	b = append(b, `,"result":`...)
	b = appendJSONString(b, e.Result)
	b = append(b, `,"detail":`...)
	var rendered bool
	if tmp, rendered = e.appendDetail(tmp[:0]); rendered {
		b = appendJSONBytes(b, tmp)
	} else {
		b = appendJSONString(b, e.Detail)
	}
	for _, f := range [...]struct{ key, val string }{
		{`,"reason":`, e.Reason}, {`,"path":`, e.Path}, {`,"field":`, e.Field}, {`,"op":`, e.Op},
	} {
		if f.val != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.val)
		}
	}
	var err error
	if e.Expected != nil {
		b = append(b, `,"expected":`...)
		if b, err = appendJSONValue(b, e.Expected); err != nil {
			return nil, tmp, err
		}
	}
	if e.Actual != nil {
		b = append(b, `,"actual":`...)
		if b, err = appendJSONValue(b, e.Actual); err != nil {
			return nil, tmp, err
		}
	}
	return append(b, '}'), tmp, nil
}

// appendDetail appends the Detail that render would write, and reports
// whether it would write one.
func (e *TraceEntry) appendDetail(b []byte) ([]byte, bool) {
	if e.Detail != "" || e.Kind != TraceKindRule {
		return b, false
	}
	switch e.Reason {
	case ReasonConditionFalse:
		w := e.why
		if e.Field == "" {
			w = whyEmptyAny
		}
		return appendConditionDetail(b, TruthFalse, e.Path, e.Field, e.Op, e.Expected, e.Actual, w), true
	case ReasonConditionUnknown:
		return appendConditionDetail(b, TruthUnknown, e.Path, e.Field, e.Op, e.Expected, nil, whyMissing), true
	}
	return b, false
}

// appendConditionDetail appends conditionDetail's sentence.
func appendConditionDetail(b []byte, t Truth, path, field, op string, expected, actual any, w why) []byte {
	b = append(b, "condition "...)
	b = append(b, t.String()...)
	if path != "" {
		b = append(b, " at "...)
		b = append(b, path...)
	}
	b = append(b, ": "...)
	if w == whyEmptyAny || field == "" {
		return append(b, "an empty any matches nothing"...)
	}
	b = append(b, field...)
	b = append(b, ' ')
	b = append(b, op...)
	if expected != nil {
		b = append(b, ' ')
		b = appendJSONText(b, expected)
	}
	switch {
	case w == whyMissing:
		b = append(b, ", but the field is missing"...)
	case w == whyMismatch:
		b = append(b, ", but the lead holds "...)
		b = appendJSONText(b, actual)
		b = append(b, ", "...)
		b = append(b, jsonType(actual)...)
		b = append(b, " that "...)
		b = append(b, op...)
		b = append(b, " cannot compare with that value"...)
	default:
		b = append(b, ", actual "...)
		b = appendJSONText(b, actual)
	}
	return b
}

// appendJSONText appends what jsonText returns.
func appendJSONText(b []byte, v any) []byte {
	n := len(b)
	b, err := appendJSONValue(b, v)
	if err != nil {
		return append(b[:n], '?')
	}
	return b
}

// appendJSONValue appends v as json.Marshal writes it.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			return appendJSONFloat(b, x), nil
		}
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		n := len(b)
		b = append(b, '[')
		for i, el := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONValue(b, el); err != nil {
				b = b[:n]
				goto slow
			}
		}
		return append(b, ']'), nil
	}
slow:
	out, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// appendJSONFloat is encoding/json's float64 encoder: like %g, with the
// exponent cutoffs and form of ES6 number formatting.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoder with HTML escaping,
// as json.Marshal uses it.
func appendJSONString(dst []byte, src string) []byte { return appendJSONText8(dst, src) }

// appendJSONBytes is appendJSONString for text in a byte slice.
func appendJSONBytes(dst, src []byte) []byte { return appendJSONText8(dst, src) }

func appendJSONText8[T string | []byte](dst []byte, src T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(src)-i, utf8.UTFMax)
		r, size := utf8.DecodeRuneInString(string(src[i : i+n]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// The compact forms of a trigger event's context and decision (issue 14:
// storage per sent message). Both stay JSON in their JSONB (TEXT) column,
// because SQL reads parts of them: the coverage check tests the
// snapshot's lead and quote fields by their paths, the statistics and
// the purge read decision.missing_fields and decision.rule_id. So the
// compact forms keep those paths and shrink the rest; a versioned member
// "~" marks them, and a row without it is the plain form written before,
// read as it always was.
//
// Context: the snapshot's "lead" and "quote" objects, when they have
// exactly the members encoding/json writes for engine.Lead and
// engine.Quote, leave out each member that holds its zero value ("",
// false, 0, null, the zero time: what conditions and the coverage check
// treat as missing, or never read) and TenantID (and the quote's LeadID)
// when it is the event's own; such an object carries "~":1. The top
// object's "~" says how reading restores them: in encoding/json's order
// (1, SQLite keeps the text as written) or in JSONB's order (2,
// PostgreSQL, which sorts an object's keys by length and then bytes), so
// that the bytes are those the plain form read back as. A context with a
// "~" member of its own there is stored whole under "v", with "~":0.
//
// Decision: the members other than rule_id and missing_fields take short
// names, those of its trace entries too, and outcome and reason, which the
// event keeps in columns of their own, are left out; reading maps the names
// back and decodes the plain form with engine.Decision's own decoder.

const (
	compactKey        = "~"
	compactWrapped    = 0 // a context kept whole under "v"
	compactGoOrder    = 1 // restore in encoding/json's order
	compactJSONBOrder = 2 // restore in JSONB's order
)

type member struct {
	key   string
	value string // the value's JSON text, exactly as it was
}

// objectMembers parses a JSON object into its members, in order, each
// value as the exact text it was; ok is false for anything else. It runs
// on every event written and read, so it walks the text with gjson, once
// to validate and once to split, and the values are slices of raw: the
// token decoder of encoding/json it replaced cost about a fifth of
// quoteflow's own CPU per quote action (docs/PERFORMANCE.md).
func objectMembers(raw string) (ms []member, ok bool) {
	if !gjson.Valid(raw) {
		return nil, false
	}
	return validMembers(raw)
}

// validMembers is objectMembers for text already known to be valid JSON,
// such as a value objectMembers returned.
func validMembers(raw string) (ms []member, ok bool) {
	obj := gjson.Parse(raw)
	if !obj.IsObject() {
		return nil, false
	}
	ms = make([]member, 0, 24)
	obj.ForEach(func(k, v gjson.Result) bool {
		ms = append(ms, member{k.Str, v.Raw})
		return true
	})
	return ms, true
}

func writeObject(b *strings.Builder, ms []member) {
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(b, m.key)
		b.WriteByte(':')
		b.WriteString(m.value)
	}
	b.WriteByte('}')
}

// objectText is ms written as a JSON object.
func objectText(ms []member) string {
	var b strings.Builder
	n := 2
	for _, m := range ms {
		n += len(m.key) + len(m.value) + 4
	}
	b.Grow(n)
	writeObject(&b, ms)
	return b.String()
}

// writeKey writes key as a JSON string: as it is when encoding/json would
// write it unchanged (every key quoteflow writes), else through it.
func writeKey(b *strings.Builder, key string) {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b.WriteString(quoted(key))
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(key)
	b.WriteByte('"')
}

// snapshotTemplates are the members of the zero engine.Lead and
// engine.Quote as encoding/json writes them: the order of a snapshot's
// members and each one's zero value.
var snapshotTemplates = map[string][]member{
	"lead":  mustMembers(engine.Lead{}),
	"quote": mustMembers(engine.Quote{}),
}

func mustMembers(v any) []member {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	ms, ok := objectMembers(string(b))
	if !ok {
		panic(fmt.Sprintf("store: %T does not encode as an object", v))
	}
	return ms
}

// rowValue is the event column a snapshot member repeats, if any.
func rowValue(object, key, tenantID, leadID string) (string, bool) {
	switch {
	case key == "TenantID":
		return tenantID, true
	case object == "quote" && key == "LeadID":
		return leadID, true
	}
	return "", false
}

// quoted is s as a JSON string, as encoding/json writes it.
func quoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// isQuoted reports whether value is the JSON string encoding/json writes
// for s, without encoding s when it need not be escaped.
func isQuoted(value, s string) bool {
	if len(value) == len(s)+2 && value[0] == '"' && value[len(value)-1] == '"' && value[1:len(value)-1] == s {
		return true
	}
	return value == quoted(s)
}

func isMarker(m member) bool { return m.key == compactKey }

// encodeEventContext is the stored form of an event's context, already
// compacted JSON (rawJSONValue). jsonbOrder says the column sorts keys
// (PostgreSQL).
func encodeEventContext(compacted string, tenantID, leadID string, jsonbOrder bool) string {
	top, ok := objectMembers(compacted)
	if !ok {
		return compacted
	}
	// The lead and quote objects, parsed once: reading looks for the
	// marker in them as well as in the top object.
	subs := make([][]member, len(top))
	wrap := slices.ContainsFunc(top, isMarker)
	for i, m := range top {
		if wrap || snapshotTemplates[m.key] == nil {
			continue
		}
		if ms, ok := validMembers(m.value); ok {
			subs[i] = ms
			wrap = slices.ContainsFunc(ms, isMarker)
		}
	}
	if wrap {
		// A context that holds the marker's name where reading looks for
		// it (no snapshot does) is kept whole inside a wrapper, so that
		// reading never mistakes it for a compact one.
		return objectText([]member{{compactKey, fmt.Sprint(compactWrapped)}, {"v", compacted}})
	}
	order := compactGoOrder
	if jsonbOrder {
		order = compactJSONBOrder
	}
	changed := false
	for i, m := range top {
		tmpl, ms := snapshotTemplates[m.key], subs[i]
		if tmpl == nil || ms == nil || !slices.EqualFunc(ms, tmpl, func(a, b member) bool { return a.key == b.key }) {
			continue
		}
		kept := append(make([]member, 0, len(ms)+1), member{compactKey, "1"})
		for j, f := range ms {
			// A member the row repeats is left out when it is the row's
			// value, and only then: reading gives it the row's value.
			if v, ok := rowValue(m.key, f.key, tenantID, leadID); ok {
				if !isQuoted(f.value, v) {
					kept = append(kept, f)
				}
				continue
			}
			if f.value != tmpl[j].value {
				kept = append(kept, f)
			}
		}
		top[i].value = objectText(kept)
		changed = true
	}
	if !changed {
		return compacted
	}
	return objectText(append([]member{{compactKey, fmt.Sprint(order)}}, top...))
}

// decodeEventContext is the plain form of a stored context: itself when
// it is not a compact one.
func decodeEventContext(stored []byte, tenantID, leadID string) ([]byte, error) {
	if stored == nil || !bytes.Contains(stored, []byte(`"`+compactKey+`"`)) {
		return stored, nil
	}
	top, ok := objectMembers(string(stored))
	if !ok {
		return stored, nil
	}
	at := slices.IndexFunc(top, isMarker)
	if at < 0 {
		return stored, nil
	}
	order := top[at].value
	top = slices.Delete(top, at, at+1)
	switch order {
	case fmt.Sprint(compactWrapped):
		for _, m := range top {
			if m.key == "v" {
				return []byte(m.value), nil
			}
		}
		return nil, fmt.Errorf("store: stored context: a wrapper without its value")
	case fmt.Sprint(compactGoOrder), fmt.Sprint(compactJSONBOrder):
	default:
		return nil, fmt.Errorf("store: stored context: unknown compact form %s", order)
	}
	for i, m := range top {
		tmpl := snapshotTemplates[m.key]
		if tmpl == nil {
			continue
		}
		ms, ok := validMembers(m.value)
		if !ok {
			continue
		}
		at := slices.IndexFunc(ms, isMarker)
		if at < 0 {
			continue
		}
		ms = slices.Delete(ms, at, at+1)
		out := make([]member, 0, len(tmpl))
		for _, t := range tmpl {
			if j := slices.IndexFunc(ms, func(f member) bool { return f.key == t.key }); j >= 0 {
				out = append(out, ms[j])
				ms = slices.Delete(ms, j, j+1)
			} else if v, ok := rowValue(m.key, t.key, tenantID, leadID); ok {
				out = append(out, member{t.key, quoted(v)})
			} else {
				out = append(out, t)
			}
		}
		out = append(out, ms...) // none, unless the engine's types changed since
		if order == fmt.Sprint(compactJSONBOrder) {
			slices.SortStableFunc(out, func(a, b member) int {
				if len(a.key) != len(b.key) {
					return len(a.key) - len(b.key)
				}
				return strings.Compare(a.key, b.key)
			})
		}
		top[i].value = objectText(out)
	}
	return []byte(objectText(top)), nil
}

// decisionNames are the short names of a decision's members and of its
// trace entries' members. rule_id and missing_fields keep theirs (SQL
// reads them); a member not listed keeps its name.
var decisionNames = map[string]string{
	"outcome": "o", "source": "s", "reason": "r", "workflow_id": "w", "workflow_version": "v",
	"override_id": "x", "trace": "t", "shadow": "h",
}

var traceNames = map[string]string{
	"kind": "k", "id": "i", "result": "r", "detail": "d", "reason": "c", "path": "p", "field": "f",
	"op": "o", "expected": "e", "actual": "a",
}

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	decisionLong = invert(decisionNames)
	traceLong    = invert(traceNames)
)

// encodeEventDecision is the stored form of d: outcome and reason are the
// event's columns.
func encodeEventDecision(d engine.Decision) (string, error) {
	plain, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("store: encode json: %w", err)
	}
	out, err := renameDecision(string(plain), decisionNames, traceNames, true, true)
	if err != nil {
		return "", err
	}
	return objectText(append([]member{{compactKey, fmt.Sprint(compactGoOrder)}}, out...)), nil
}

// renameDecision renames the members of a decision object, of its trace
// entries and of its shadow's: from the long names to the short ones when
// encoding, back when not. Encoding leaves out the top decision's outcome
// and reason (top).
func renameDecision(raw string, names, entryNames map[string]string, encoding, top bool) ([]member, error) {
	ms, ok := objectMembers(raw)
	if !ok {
		return nil, fmt.Errorf("store: a decision is not a JSON object")
	}
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		renamed := m.key
		if n, ok := names[m.key]; ok {
			renamed = n
		}
		long := m.key
		if !encoding {
			long = renamed
		}
		if encoding && top && (long == "outcome" || long == "reason") {
			continue
		}
		switch long {
		case "trace":
			v, err := renameEntries(m.value, entryNames)
			if err != nil {
				return nil, err
			}
			m.value = v
		case "shadow":
			if m.value != "null" {
				sub, err := renameDecision(m.value, names, entryNames, encoding, false)
				if err != nil {
					return nil, err
				}
				m.value = objectText(sub)
			}
		}
		m.key = renamed
		out = append(out, m)
	}
	return out, nil
}

func renameEntries(raw string, names map[string]string) (string, error) {
	list := gjson.Parse(raw)
	switch {
	case raw == "null":
		return raw, nil
	case !list.IsArray():
		return "", fmt.Errorf("store: a decision's trace is not a list")
	}
	var b strings.Builder
	b.Grow(len(raw))
	b.WriteByte('[')
	var bad bool
	i := 0
	list.ForEach(func(_, e gjson.Result) bool {
		ms, ok := validMembers(e.Raw)
		if !ok {
			bad = true
			return false
		}
		for j := range ms {
			if n, ok := names[ms[j].key]; ok {
				ms[j].key = n
			}
		}
		if i > 0 {
			b.WriteByte(',')
		}
		i++
		writeObject(&b, ms)
		return true
	})
	if bad {
		return "", fmt.Errorf("store: a trace entry is not a JSON object")
	}
	b.WriteByte(']')
	return b.String(), nil
}

// decodeEventDecision fills d from a stored decision, compact or plain;
// outcome and reason are the event's columns.
func decodeEventDecision(stored []byte, outcome, reason string, d *engine.Decision) error {
	if stored == nil {
		return nil
	}
	ms, ok := objectMembers(string(stored))
	if !ok || !slices.ContainsFunc(ms, isMarker) {
		return decodeJSON(stored, d)
	}
	for _, m := range ms {
		if m.key == compactKey && m.value != fmt.Sprint(compactGoOrder) {
			return fmt.Errorf("store: stored decision: unknown compact form %s", m.value)
		}
	}
	ms = slices.DeleteFunc(ms, isMarker)
	plain, err := renameDecision(objectText(ms), decisionLong, traceLong, false, false)
	if err != nil {
		return err
	}
	plain = append(plain, member{"outcome", quoted(outcome)}, member{"reason", quoted(reason)})
	return decodeJSON([]byte(objectText(plain)), d)
}

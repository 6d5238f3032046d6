package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// FieldProbe says how to tell, from the lead context stored on a trigger
// event (trigger_events.context), that the event lacked one field: the
// field is missing when, at every one of Paths, the stored JSON has no
// value, a JSON null, or one of the Blank strings. The caller, which knows
// the snapshot's layout and what "missing" means for the field, builds the
// probes; the store only turns them into SQL.
type FieldProbe struct {
	Field string
	// Paths are key paths into the context document, e.g. {"lead",
	// "Custom", "roof_type"}.
	Paths [][]string
	// Blank are the strings that count as missing as well, e.g. "" for a
	// text field or the zero time for a timestamp.
	Blank []string
}

// Window is the period [From, To).
type Window struct{ From, To time.Time }

// FieldCounts is, for one trigger and window, how many non-duplicate
// events there were and how many of them lacked each probed field.
type FieldCounts struct {
	Trigger string
	Events  int64
	Missing map[string]int64
}

// maxProbesPerQuery bounds the width of one counting query; more probes
// run as more queries over the same rows.
const maxProbesPerQuery = 32

// MissingFieldCounts counts, per trigger, the tenant's non-duplicate
// events created in w and, for each probe, those whose stored lead context
// lacked the field. Triggers without events are absent. It reads the
// events of the window once per 32 probes, through trigger_events_created.
func (db *DB) MissingFieldCounts(ctx context.Context, tenantID string, w Window, probes []FieldProbe) ([]FieldCounts, error) {
	byTrigger := map[string]*FieldCounts{}
	var order []string
	err := db.ReadTx(ctx, func(tx *Tx) error {
		clear(byTrigger)
		order = order[:0]
		for start := 0; start == 0 || start < len(probes); start += maxProbesPerQuery {
			chunk := probes[start:min(len(probes), start+maxProbesPerQuery)]
			var cols []string
			var args []any
			for _, p := range chunk {
				cond, a, err := tx.db.missingCondition(p)
				if err != nil {
					return err
				}
				cols = append(cols, `SUM(CASE WHEN `+cond+` THEN 1 ELSE 0 END)`)
				args = append(args, a...)
			}
			q := `SELECT trigger, COUNT(*)`
			for _, c := range cols {
				q += `, ` + c
			}
			q += ` FROM trigger_events WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND duplicate = ? GROUP BY trigger ORDER BY trigger`
			args = append(args, tenantID, micros(w.From), micros(w.To), false)
			err := tx.each(ctx, func(rows scanner) error {
				var trigger string
				var events int64
				sums := make([]sql.NullInt64, len(chunk))
				dst := []any{&trigger, &events}
				for i := range sums {
					dst = append(dst, &sums[i])
				}
				if err := rows.Scan(dst...); err != nil {
					return err
				}
				fc := byTrigger[trigger]
				if fc == nil {
					fc = &FieldCounts{Trigger: trigger, Events: events, Missing: map[string]int64{}}
					byTrigger[trigger] = fc
					order = append(order, trigger)
				}
				for i, p := range chunk {
					fc.Missing[p.Field] = sums[i].Int64
				}
				return nil
			}, q, args...)
			if err != nil {
				return translate(err, "count missing fields", onViolation{})
			}
			if len(probes) == 0 {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]FieldCounts, 0, len(order))
	for _, t := range order {
		out = append(out, *byTrigger[t])
	}
	return out, nil
}

// missingCondition is the SQL condition, with its arguments, that an
// event's context lacks p's field.
func (db *DB) missingCondition(p FieldProbe) (string, []any, error) {
	if len(p.Paths) == 0 {
		return "", nil, fmt.Errorf("store: field probe %q has no path", p.Field)
	}
	var parts []string
	var args []any
	for _, path := range p.Paths {
		if len(path) == 0 {
			return "", nil, fmt.Errorf("store: field probe %q has an empty path", p.Field)
		}
		v, a := db.jsonText(path)
		cond := v + ` IS NULL`
		args = append(args, a...)
		if len(p.Blank) > 0 {
			cond += ` OR ` + v + ` IN (` + marks(len(p.Blank)) + `)`
			args = append(args, a...)
			for _, b := range p.Blank {
				args = append(args, b)
			}
		}
		parts = append(parts, `(`+cond+`)`)
	}
	return `(` + strings.Join(parts, ` AND `) + `)`, args, nil
}

// jsonText is the SQL expression of the text at path in an event's context
// (NULL when absent or JSON null), with its arguments: keys are always
// arguments, never SQL.
func (db *DB) jsonText(path []string) (string, []any) {
	if db.dialect == DialectPostgres {
		expr := `context`
		args := make([]any, 0, len(path))
		for i, k := range path {
			op := ` -> `
			if i == len(path)-1 {
				op = ` ->> `
			}
			expr += op + `?::text`
			args = append(args, k)
		}
		return `(` + expr + `)`, args
	}
	var b strings.Builder
	b.WriteString("$")
	for _, k := range path {
		if strings.ContainsRune(k, '"') {
			// A quoted label takes any key but one holding a double quote,
			// which SQLite's JSON path cannot write: such a field reads as
			// missing in every event on SQLite.
			return `NULL`, nil
		}
		b.WriteString(`."` + k + `"`)
	}
	return `json_extract(context, ?)`, []any{b.String()}
}

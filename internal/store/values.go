package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Times are Unix microseconds in both dialects (see the migrations).

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros is the column value of an optional time.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr is the Go value of an optional time column.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// normTime returns a copy of t as it will read back: UTC, microseconds. The
// Create and Update methods store it on the struct they were given, so the
// struct equals what a later Get returns.
func normTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := t.UTC().Truncate(time.Microsecond)
	return &n
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonValue marshals v for a JSON column; a nil v (nil pointer, slice or map)
// is SQL NULL, so that nil and empty survive the round trip. It returns a
// string: TEXT on SQLite (a []byte would be a BLOB) and accepted as JSON
// text by pgx for JSONB.
func jsonValue[T any](v T, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode json: %w", err)
	}
	return string(b), nil
}

func jsonSlice[E any](s []E) (any, error)                 { return jsonValue(s, s == nil) }
func jsonMap[K comparable, V any](m map[K]V) (any, error) { return jsonValue(m, m == nil) }
func jsonPtr[T any](p *T) (any, error)                    { return jsonValue(p, p == nil) }

// rawJSONValue stores caller-supplied raw JSON; field names it in the error
// when it is not JSON at all.
func rawJSONValue(raw json.RawMessage, field string) (any, error) {
	if raw == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, engine.Invalid(field, "not valid JSON: %v", err)
	}
	return buf.String(), nil
}

// rawJSON is the Go value of a raw JSON column: compacted, because JSONB
// adds spaces that SQLite would not.
func rawJSON(b []byte) (json.RawMessage, error) {
	if b == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("store: stored json is invalid: %w", err)
	}
	return json.RawMessage(buf.Bytes()), nil
}

// decodeJSON decodes a nullable JSON column into dst, leaving dst alone for
// NULL.
func decodeJSON(b []byte, dst any) error {
	if b == nil {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("store: decode json: %w", err)
	}
	return nil
}

// nullInt is the column value of an optional integer: 0 is SQL NULL.
func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// nullZeroTime is the column value of a time whose zero value means
// "none": the zero time is SQL NULL, anything else is normalised.
func nullZeroTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// zeroTime is the Go value of a nullable time column read into a
// time.Time: NULL is the zero time.
func zeroTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// normZero returns t as it will read back, keeping the zero time zero.
func normZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// where accumulates the conditions and arguments of a filtered query.
type where struct {
	sql  string
	args []any
}

// newWhere starts a query's conditions with tenant scoping.
func newWhere(tenantID string) *where {
	return &where{sql: `tenant_id = ?`, args: []any{tenantID}}
}

// eq adds col = v unless v is "".
func (w *where) eq(col, v string) {
	if v != "" {
		w.sql += ` AND ` + col + ` = ?`
		w.args = append(w.args, v)
	}
}

// between adds from <= col < to, each bound only when it is not zero.
func (w *where) between(col string, from, to time.Time) {
	if !from.IsZero() {
		w.sql += ` AND ` + col + ` >= ?`
		w.args = append(w.args, micros(from))
	}
	if !to.IsZero() {
		w.sql += ` AND ` + col + ` < ?`
		w.args = append(w.args, micros(to))
	}
}

// decodeOptional decodes a nullable JSON column into a new *T, nil for NULL.
func decodeOptional[T any](b []byte) (*T, error) {
	if b == nil {
		return nil, nil
	}
	v := new(T)
	if err := decodeJSON(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

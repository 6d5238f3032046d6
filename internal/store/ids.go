package store

import (
	"database/sql/driver"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// On PostgreSQL every id quoteflow makes is stored as uuid (migration 0015:
// 16 bytes in a row and in an index entry, against 37 as text), and the
// store keeps handing ids around as Go strings, as it does on SQLite, where
// they stay text. idCodec is the one place that knows the difference: it
// replaces pgx's codec for the uuid type on every connection of the pool,
// so that a string in a uuid parameter keeps the meaning it had when the
// column was text.
//
//   - An id in canonical form (what newID writes: 36 characters, lower-case
//     hex) is the uuid it spells.
//   - "" is the nil uuid: "id greater than the empty string" still starts
//     a listing at the beginning (no id sorts before the nil uuid), and
//     "id equal to the empty string" still finds nothing (newID never makes it). The columns that hold "" for
//     "none" stay text (migration 0015), and a nullable id column holds
//     NULL for none, so no row stores the nil uuid; were one to, it would
//     read back as "".
//   - Anything else (an id from a URL, a webhook or a test that was never
//     ours, an upper-case copy of one of ours) is the max uuid, which no
//     row has either: the statement finds nothing, exactly as a text
//     column would have, and a foreign key to it fails as it would have.
//     Without this PostgreSQL would refuse the text itself, and the error
//     would abort the whole transaction, or, inside a pipeline, pgx would
//     close the connection.
//
// Scanning a uuid into a string gives its canonical form (the nil uuid "").
//
// pgx sends a plain string parameter as text without asking the codec of
// the parameter's type, so on PostgreSQL the store passes its string
// arguments as *pgText (DB.bind), which pgx does route through the codecs:
// idCodec for a uuid parameter, textArgCodec for text and JSON, and for
// any other type pgText's Value, the string itself.
type idCodec struct{ pgtype.UUIDCodec }

// pgText is a string argument of a PostgreSQL statement (see idCodec).
type pgText string

// Value is the string, for a parameter type with no plan of its own for
// pgText (registerIDCodec).
func (t pgText) Value() (driver.Value, error) { return string(t), nil }

// bind is args as the database is to get them: on PostgreSQL each string
// (or non-nil *string) becomes a *pgText, so that idCodec sees the ones
// bound to uuid parameters. Pointers into one slice, because boxing each
// pgText in an interface would allocate once per argument.
func (db *DB) bind(args []any) []any {
	if db.dialect != DialectPostgres {
		return args
	}
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n++
		case *string:
			if v != nil {
				n++
			}
		}
	}
	if n == 0 {
		return args
	}
	texts := make([]pgText, 0, n)
	out := slices.Clone(args)
	for i, a := range args {
		switch v := a.(type) {
		case string:
			texts = append(texts, pgText(v))
		case *string:
			if v == nil {
				continue
			}
			texts = append(texts, pgText(*v))
		default:
			continue
		}
		out[i] = &texts[len(texts)-1]
	}
	return out
}

// textOf is the string of a *pgText, a pgText or a string.
func textOf(v any) string {
	switch t := v.(type) {
	case *pgText:
		return string(*t)
	case pgText:
		return string(t)
	}
	return v.(string)
}

var (
	nilID = [16]byte{}
	maxID = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// registerIDCodec installs idCodec for uuid in m, and gives the types the
// store binds most strings to a direct plan for pgText: without one pgx
// would reach the string through pgText's Value, an allocation and a
// second plan lookup per argument (BenchmarkBindEncode).
func registerIDCodec(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: idCodec{}})
	for _, oid := range []uint32{pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
		pgtype.JSONOID, pgtype.JSONBOID} {
		if t, ok := m.TypeForOID(oid); ok {
			m.RegisterType(&pgtype.Type{Name: t.Name, OID: oid, Codec: textArgCodec{t.Codec}})
		}
	}
}

// textArgCodec is a text-like type's own codec, but for a pgText sent in
// text format, which is the string's bytes as they are (as pgx sends a
// plain string to these types).
type textArgCodec struct{ pgtype.Codec }

func (c textArgCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	switch value.(type) {
	case *pgText, pgText:
		if format == pgtype.TextFormatCode {
			return encodeTextArg{}
		}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type encodeTextArg struct{}

func (encodeTextArg) Encode(value any, buf []byte) ([]byte, error) {
	return append(buf, textOf(value)...), nil
}

// idBytes is the uuid a string stands for, as the comment above says.
func idBytes(s string) [16]byte {
	if s == "" {
		return nilID
	}
	b, ok := parseCanonicalID(s)
	if !ok {
		return maxID
	}
	return b
}

// parseCanonicalID parses the one form newID writes; ok is false for any
// other text, including forms PostgreSQL itself would accept (upper case,
// braces, no hyphens), which a text column would not have matched.
func parseCanonicalID(s string) (b [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	for j, i := range idHexAt {
		hi, ok1 := hexNibble(s[i])
		lo, ok2 := hexNibble(s[i+1])
		if !ok1 || !ok2 {
			return b, false
		}
		b[j] = hi<<4 | lo
	}
	return b, true
}

// idHexAt is where each byte's two hex digits start in the canonical form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
var idHexAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

func hexNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// idText is the string a stored uuid reads back as.
func idText(b [16]byte) string {
	if b == nilID {
		return ""
	}
	return uuid.UUID(b).String()
}

// PlanEncode encodes strings as above and leaves every other Go type to
// pgx.
func (c idCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	switch value.(type) {
	case *pgText, pgText, string: // a string reaches here inside an array, or in COPY
		if format == pgtype.BinaryFormatCode {
			return encodeIDBinary{}
		}
		return encodeIDText{}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

type encodeIDBinary struct{}

func (encodeIDBinary) Encode(value any, buf []byte) ([]byte, error) {
	b := idBytes(textOf(value))
	return append(buf, b[:]...), nil
}

type encodeIDText struct{}

func (encodeIDText) Encode(value any, buf []byte) ([]byte, error) {
	b := idBytes(textOf(value))
	if b == nilID {
		return append(buf, "00000000-0000-0000-0000-000000000000"...), nil
	}
	return append(buf, idText(b)...), nil
}

// PlanScan reads a uuid into a *string as idText does; other targets are
// pgx's.
func (c idCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*string); ok {
		return scanIDString{format: format}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type scanIDString struct{ format int16 }

func (p scanIDString) Scan(src []byte, dst any) error {
	if src == nil {
		return fmt.Errorf("cannot scan NULL into *string")
	}
	b, err := p.bytes(src)
	if err != nil {
		return err
	}
	*dst.(*string) = idText(b)
	return nil
}

func (p scanIDString) bytes(src []byte) ([16]byte, error) {
	var b [16]byte
	if p.format == pgtype.BinaryFormatCode {
		if len(src) != 16 {
			return b, fmt.Errorf("invalid length for uuid: %d", len(src))
		}
		copy(b[:], src)
		return b, nil
	}
	// The server writes its canonical form, the one parseCanonicalID reads.
	b, ok := parseCanonicalID(string(src))
	if !ok {
		return b, fmt.Errorf("invalid uuid text %q", src)
	}
	return b, nil
}

// DecodeDatabaseSQLValue is what database/sql scans: the same string.
func (c idCodec) DecodeDatabaseSQLValue(m *pgtype.Map, oid uint32, format int16, src []byte) (driver.Value, error) {
	if src == nil {
		return nil, nil
	}
	b, err := scanIDString{format: format}.bytes(src)
	if err != nil {
		return nil, err
	}
	return idText(b), nil
}

// DecodeValue is what a generic scan into any gets: the same string.
func (c idCodec) DecodeValue(m *pgtype.Map, oid uint32, format int16, src []byte) (any, error) {
	return c.DecodeDatabaseSQLValue(m, oid, format, src)
}

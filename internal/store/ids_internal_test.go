package store

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

func TestIDBytes(t *testing.T) {
	for range 100 {
		id, err := uuid.NewV7()
		if err != nil {
			t.Fatal(err)
		}
		s := id.String()
		b := idBytes(s)
		if b != [16]byte(id) {
			t.Fatalf("idBytes(%s) = %x", s, b)
		}
		if got := idText(b); got != s {
			t.Fatalf("idText(idBytes(%s)) = %s", s, got)
		}
	}
	if idBytes("") != nilID || idText(nilID) != "" {
		t.Fatal(`"" is not the nil uuid both ways`)
	}
	for _, s := range []string{"x", "0190D000-0000-7000-8000-000000000001", "{0190d000-0000-7000-8000-000000000001}",
		"0190d0000000700080000000000000001", "0190d000-0000-7000-8000-00000000000g", "0190d000+0000-7000-8000-000000000001",
		"0190d000-0000-7000-8000-0000000000011"} {
		if idBytes(s) != maxID {
			t.Errorf("idBytes(%q) = %x, want the max uuid", s, idBytes(s))
		}
	}
}

// BenchmarkBindEncode is what binding costs a statement's arguments on
// PostgreSQL: four ids and four other strings, encoded as pgx encodes
// them for uuid and text parameters, with DB.bind's wrapping and without.
func BenchmarkBindEncode(b *testing.B) {
	m := pgtype.NewMap()
	registerIDCodec(m)
	db := &DB{dialect: DialectPostgres}
	id := uuid.Must(uuid.NewV7()).String()
	args := []any{id, id, id, id, "sent", "email", "Ana", "lead000910@customer.example"}
	oids := []uint32{pgtype.UUIDOID, pgtype.UUIDOID, pgtype.UUIDOID, pgtype.UUIDOID,
		pgtype.TextOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID}
	encode := func(b *testing.B, args []any) {
		buf := make([]byte, 0, 256)
		for i, a := range args {
			// The format pgx's extended protocol picks: text for a string.
			format := m.FormatCodeForOID(oids[i])
			if _, ok := a.(string); ok {
				format = pgtype.TextFormatCode
			}
			var err error
			if buf, err = m.Encode(oids[i], format, a, buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("strings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encode(b, args)
		}
	})
	b.Run("bound", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encode(b, db.bind(args))
		}
	})
}

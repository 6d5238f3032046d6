package store

import (
	"strings"
	"testing"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteCounter asks SQLite itself how many statements a text holds, by
// preparing it statement by statement as sqlite3_prepare_v2 does, on an
// in-memory database with a table t(a, b) so that queries on it compile.
type sqliteCounter struct {
	tls              *libc.TLS
	db               uintptr
	ppDB, ppS, ppTal uintptr
}

func newSQLiteCounter(tb testing.TB) *sqliteCounter {
	c := &sqliteCounter{tls: libc.NewTLS()}
	c.ppDB, c.ppS, c.ppTal = libc.Xmalloc(c.tls, 8), libc.Xmalloc(c.tls, 8), libc.Xmalloc(c.tls, 8)
	name, _ := libc.CString(":memory:")
	defer libc.Xfree(c.tls, name)
	if rc := sqlite3.Xsqlite3_open_v2(c.tls, name, c.ppDB, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, 0); rc != sqlite3.SQLITE_OK {
		tb.Fatalf("sqlite3_open_v2: %d", rc)
	}
	c.db = peek(c.ppDB)
	if n, ok := c.count("CREATE TABLE t(a, b)", true); !ok || n != 1 {
		tb.Fatal("cannot create the table")
	}
	tb.Cleanup(func() {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		libc.Xfree(c.tls, c.ppDB)
		libc.Xfree(c.tls, c.ppS)
		libc.Xfree(c.tls, c.ppTal)
		c.tls.Close()
	})
	return c
}

// cMemory turns an address in libc's memory, which Go's collector neither
// moves nor frees, into a pointer.
func cMemory(p uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), p) }

// peek reads the pointer stored at p.
func peek(p uintptr) uintptr { return *(*uintptr)(cMemory(p)) }

// count returns how many statements SQLite finds in q, and false when one
// of them does not compile (then SQLite does not say where it ends). With
// run set, each statement is also executed.
func (c *sqliteCounter) count(q string, run bool) (int, bool) {
	text, err := libc.CString(q)
	if err != nil {
		return 0, false
	}
	defer libc.Xfree(c.tls, text)
	n, p := 0, text
	for *(*byte)(cMemory(p)) != 0 {
		if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, p, -1, c.ppS, c.ppTal); rc != sqlite3.SQLITE_OK {
			return n, false
		}
		stmt := peek(c.ppS)
		p = peek(c.ppTal)
		if stmt == 0 {
			continue // only blanks and comments were left
		}
		n++
		if run {
			sqlite3.Xsqlite3_step(c.tls, stmt)
		}
		sqlite3.Xsqlite3_finalize(c.tls, stmt)
	}
	return n, true
}

// FuzzCacheable checks the statement splitter that decides whether a text
// is cached as one prepared statement (cacheable) against SQLite's own
// parser: a text SQLite reads as two statements or more is never cached
// (a migration must run as the script it is), and a text it reads as
// exactly one statement, with nothing after it but blanks, semicolons and
// comments, is. Two refusals are allowed, being only slower: a trigger body
// (its inner semicolons look like separators) and a text with an
// unterminated /* comment, which SQLite reads to the end.
func FuzzCacheable(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT 1;", "SELECT 1; SELECT 2", "SELECT ';'; ", "SELECT a FROM t -- x; y\n",
		"SELECT \"a;\" FROM t", "SELECT [a;b] FROM t", "SELECT `a;` FROM t", "SELECT 1 /* ; */", "SELECT 1; /* c */ ;; -- d",
		"SELECT 'it''s;'; SELECT 2", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END",
		"SELECT 1; /* unterminated", "SELECT x'00'; INSERT INTO t VALUES (1, 2)", "SELECT 1 --", "-- only\n;",
	} {
		f.Add(s)
	}
	c := newSQLiteCounter(f)
	f.Fuzz(func(t *testing.T, q string) {
		if strings.IndexByte(q, 0) >= 0 {
			return // a C string ends there; database/sql texts never hold NUL
		}
		got := cacheable(q)
		n, ok := c.count(q, false)
		switch {
		case n >= 2 && got:
			t.Fatalf("cacheable(%q) = true, but SQLite reads %d statements", q, n)
		case ok && n == 1 && !got && !strings.Contains(q, "/*") && !strings.Contains(strings.ToUpper(q), "BEGIN"):
			t.Fatalf("cacheable(%q) = false, but SQLite reads one statement", q)
		}
	})
}

// TestCacheableAgreesWithSQLite holds the splitter's cases the fuzz target
// found: an empty statement before one ("; END") and a form feed after the
// last semicolon are one statement to SQLite, and were sent uncached.
func TestCacheableAgreesWithSQLite(t *testing.T) {
	for q, want := range map[string]bool{
		"; END": true, ";;SELECT 1": true, "SELECT 1;\f": true, "SELECT 1;\v-- c": true,
		"; SELECT 1; SELECT 2": false, "SELECT 1;\fSELECT 2": false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", q, got, want)
		}
	}
}

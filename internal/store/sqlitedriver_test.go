package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// openSQLite opens a SQLite database in a temporary directory.
func openSQLite(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "q.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSQLiteDriverQueryWhileItsRowsAreOpen: the same text run again while
// its rows are still being read cannot share the prepared statement, and
// must still work.
func TestSQLiteDriverQueryWhileItsRowsAreOpen(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT value FROM json_each('[1,2,3]') WHERE value >= ?`
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for outer.Next() {
		var v int
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var inner int
		if err := conn.QueryRowContext(ctx, q, v).Scan(&inner); err != nil {
			t.Fatalf("the same query while its rows are open: %v", err)
		}
		sum += inner
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if sum != 1+2+3 {
		t.Fatalf("sum %d, want 6", sum)
	}
}

// TestSQLiteDriverScriptsAndErrors: a text of several statements runs them
// all and is not cached; a statement that does not prepare gives SQLite's
// error, every time.
func TestSQLiteDriverScriptsAndErrors(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	before := db.CachedStmts()
	for i := range 3 {
		script := fmt.Sprintf(`CREATE TABLE s%d (x); INSERT INTO s%d VALUES (1); INSERT INTO s%d VALUES (2);`, i, i, i)
		if _, err := db.sql.ExecContext(ctx, script); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.sql.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM s%d`, i)).Scan(&n); err != nil || n != 2 {
			t.Fatalf("script %d: %d rows (%v), want both inserts run", i, n, err)
		}
	}
	for range 2 {
		_, err := db.sql.ExecContext(ctx, `INSERT INTO missing VALUES (1)`)
		if err == nil || !strings.Contains(err.Error(), "no such table") {
			t.Fatalf("got %v, want SQLite's no such table", err)
		}
	}
	if got := db.CachedStmts() - before; got != 3 {
		t.Fatalf("%d statements cached, want 3: the three counts, no script, no failed statement", got)
	}
}

func TestCacheableFindsScripts(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT 1`:                                  true,
		`SELECT 1;`:                                 true,
		"SELECT 1; -- done\n":                       true,
		"-- first; then second\nSELECT 1":           true,
		`SELECT ';' AS x`:                           true,
		`SELECT "a;b" FROM t`:                       true,
		`SELECT 1 /* a; b */ + 1`:                   true,
		`CREATE TABLE a (x); CREATE TABLE b (y);`:   false,
		"SELECT 1;\n/* note */ SELECT 2":            false,
		"INSERT INTO t VALUES ('it''s; fine'); ":    true,
		"INSERT INTO t VALUES ('a'); DELETE FROM t": false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", q, got, want)
		}
	}
}

package bench

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/quoteflow/quoteflow/internal/store"
)

// TestSQLiteCommitCounter checks what the SQLite counter counts, through a
// store opened as quoteflow opens it (WAL, BEGIN IMMEDIATE, one connection).
func TestSQLiteCommitCounter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "counted.db")
	c, stop := countSQLite(path)
	defer stop()
	db, err := store.Open(ctx, "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlDB := db.SQL()
	exec := func(q string) {
		t.Helper()
		if _, err := sqlDB.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	read := func() commitCount {
		n, err := c.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tx := func(opts *sql.TxOptions, fn func(*sql.Tx), commit bool) {
		t.Helper()
		tx, err := sqlDB.BeginTx(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		fn(tx)
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	insert := func(tx *sql.Tx) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (1), (2)`); err != nil {
			t.Fatal(err)
		}
	}
	selectOne := func(tx *sql.Tx) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}

	exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)`)
	base := read()
	if base.commits != 1 || base.empty != 1 {
		// DDL outside a transaction is one write commit that changed no
		// table row (only the schema).
		t.Fatalf("after CREATE TABLE: %+v", base)
	}
	step := func(what string, want commitCount, do func()) {
		t.Helper()
		before := read()
		do()
		if got := read().sub(before); got != want {
			t.Fatalf("%s: counted %+v, want %+v", what, got, want)
		}
	}
	step("a read-write transaction that inserts two rows", commitCount{commits: 1, rows: 2}, func() { tx(nil, insert, true) })
	step("a read-write transaction that only reads: BEGIN IMMEDIATE takes the write lock",
		commitCount{commits: 1, empty: 1}, func() { tx(nil, selectOne, true) })
	step("a read-only transaction", commitCount{}, func() { tx(&sql.TxOptions{ReadOnly: true}, selectOne, true) })
	step("a write outside a transaction", commitCount{commits: 1, rows: 1}, func() { exec(`UPDATE t SET v = 3 WHERE id = 1`) })
	step("a write that matches no row", commitCount{commits: 1, empty: 1}, func() { exec(`DELETE FROM t WHERE id = 999`) })
	step("a read outside a transaction", commitCount{}, func() {
		var n int
		if err := sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	})
	step("a rolled back write", commitCount{rollbacks: 1, rows: 2}, func() { tx(nil, insert, false) })
	step("the store's own transaction", commitCount{commits: 1, rows: 1}, func() {
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.SQLTx().ExecContext(ctx, `INSERT INTO t (v) VALUES (9)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})

	// Another file is not counted, and after stop nothing new is hooked.
	other, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "other.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	step("another database", commitCount{}, func() {
		if _, err := other.SQL().ExecContext(ctx, `CREATE TABLE u (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
	})
	if r := (commitCount{commits: 5, empty: 2, rows: 9}).report(c); r.Total != 5 || *r.EmptyCommits != 2 || *r.RowsChanged != 9 || r.Source != "sqlite_commit_hook" {
		t.Fatalf("report %+v", r)
	}
}

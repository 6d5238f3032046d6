package store

import (
	"context"
	"fmt"
	"strings"
)

// RawExec runs a statement written with ? placeholders, for tests that set
// up rows the store has no methods for yet.
func (db *DB) RawExec(ctx context.Context, query string, args ...any) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(query), args...)
	return err
}

// MigrateUpTo applies the migrations up to version last and stops there.
func (db *DB) MigrateUpTo(ctx context.Context, last int) error { return db.migrateUpTo(ctx, last) }

// RawInt runs a query that returns one integer.
func (db *DB) RawInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, db.rebind(query), args...).Scan(&n)
	return n, err
}

// RawString runs a query that returns one text value.
func (db *DB) RawString(ctx context.Context, query string, args ...any) (string, error) {
	var s string
	err := db.sql.QueryRowContext(ctx, db.rebind(query), args...).Scan(&s)
	return s, err
}

// SetSecretsPage sets how many tenants db's CheckSecrets and RotateSecrets
// take per transaction.
func (db *DB) SetSecretsPage(n int) { db.secretsPage = n }

// MaxCachedStmts is the bound of a SQLite connection's statement cache.
const MaxCachedStmts = maxConnStmts

// ListActiveRunsQuery is the text of ListActiveRuns' query, for EXPLAIN.
const ListActiveRunsQuery = listActiveRunsQuery

// FirstEventQuery is FindEventByDedupeKey's query, for EXPLAIN.
const FirstEventQuery = `SELECT id FROM trigger_events WHERE ` + firstEventWhere

// RawPlan returns the plan of query, written with ? placeholders, one line
// per node: EXPLAIN QUERY PLAN's details on SQLite, EXPLAIN's lines on
// PostgreSQL with sequential scans disabled, so that a test tables too
// small for an index still asks whether an index can answer the query.
func (db *DB) RawPlan(ctx context.Context, query string, args ...any) ([]string, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	explain := `EXPLAIN QUERY PLAN `
	if db.dialect == DialectPostgres {
		if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
			return nil, err
		}
		defer conn.ExecContext(ctx, `RESET enable_seqscan`)
		explain = `EXPLAIN `
	}
	rows, err := conn.QueryContext(ctx, explain+db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		var detail string
		dest[len(dest)-1] = &detail
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// InFlightCountsQuery is the text of InFlightCounts' query, for EXPLAIN.
const InFlightCountsQuery = inFlightCountsQuery

// PoolConfig is the pool configuration Open uses for a postgres:// URL.
var PoolConfig = poolConfig

// CachedStmts returns how many statements the SQLite connection's cache
// holds; 0 on PostgreSQL. Call it outside transactions: it takes the
// connection.
func (db *DB) CachedStmts() int {
	n := 0
	db.withCachingConn(func(c *cachingConn) { n = len(c.stmts) })
	return n
}

// StmtCached reports whether the SQLite connection's cache holds query.
func (db *DB) StmtCached(query string) bool {
	ok := false
	db.withCachingConn(func(c *cachingConn) { _, ok = c.stmts[db.rebind(query)] })
	return ok
}

func (db *DB) withCachingConn(fn func(*cachingConn)) {
	if db.dialect != DialectSQLite {
		return
	}
	conn, err := db.sql.Conn(context.Background())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	_ = conn.Raw(func(dc any) error { fn(dc.(*cachingConn)); return nil })
}

// QueryInt runs a query that returns one integer through the store's own
// statement path, outside any transaction.
func (db *DB) QueryInt(ctx context.Context, query string, args ...any) (int64, error) {
	return db.auto().QueryInt(ctx, query, args...)
}

// QueryInt runs a query that returns one integer through the store's own
// statement path, in tx.
func (tx *Tx) QueryInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, query, args...).Scan(&n)
	return n, err
}

// QueryInts runs a query that returns rows of one integer through the
// store's own statement path (collect), in tx.
func (tx *Tx) QueryInts(ctx context.Context, query string, args ...any) ([]int64, error) {
	return collect(ctx, tx, func(s scanner) (int64, error) {
		var n int64
		err := s.Scan(&n)
		return n, err
	}, query, args...)
}

// Exec runs a statement through the store's own statement path, in tx.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MigrationVersion returns the version of the dialect's migration called
// name (its file without number and extension), for tests that undo one.
func MigrationVersion(dialect, name string) (int, error) {
	all, err := migrations(dialect)
	if err != nil {
		return 0, err
	}
	for _, m := range all {
		if _, n, _ := strings.Cut(m.name, "_"); n == name {
			return m.version, nil
		}
	}
	return 0, fmt.Errorf("no migration %s", name)
}

package store

import "context"

// RawExec runs a statement written with ? placeholders, for tests that set
// up rows the store has no methods for yet.
func (db *DB) RawExec(ctx context.Context, query string, args ...any) error {
	_, err := db.sql.ExecContext(ctx, db.rebind(query), args...)
	return err
}

// RawInt runs a query that returns one integer.
func (db *DB) RawInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, db.rebind(query), args...).Scan(&n)
	return n, err
}

// MaxCachedStmts is the bound of the SQLite statement cache.
const MaxCachedStmts = maxCachedStmts

// ListActiveRunsQuery is the text of ListActiveRuns' query, for EXPLAIN.
const ListActiveRunsQuery = listActiveRunsQuery

// PoolConfig is the pool configuration Open uses for a postgres:// URL.
var PoolConfig = poolConfig

// CachedStmts returns how many statements the SQLite statement cache holds.
func (db *DB) CachedStmts() int { return db.stmts.size() }

// StmtCached reports whether the SQLite statement cache holds query.
func (db *DB) StmtCached(query string) bool { return db.stmts.get(query) != nil }

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

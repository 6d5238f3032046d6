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

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A quote action used to send each of its statements and wait for its
// answer: ten round trips to PostgreSQL, each a wait on the network and a
// wake-up of the server, which cost more than the statements' own work.
// The pipeline lets a transaction send statements together:
//
//   - reads whose inputs are all known up front go in one batch (tx.batch);
//   - writes whose results nothing reads before the commit are queued
//     (tx.later) and travel with the transaction's next batch, or with its
//     COMMIT, so a quote action's writes cost no round trip of their own.
//
// On SQLite there are no round trips: the same statements run one after
// the other, as they are given, so that both databases behave alike.

// stmt is one statement of a batch.
type stmt struct {
	query string // with ? placeholders, as everywhere in the store
	args  []any
	// row, if set, is called with each row the statement returns.
	row func(scanner) error
	// done, if set, is called after the statement with the number of rows
	// it returned (a query) or touched (an exec). Its error is the batch's,
	// but on PostgreSQL the statements after it have run by then: a check
	// that must stop them, or the COMMIT, is touch.
	done func(n int64) error
	// touch, if set, is the error of the statement (an INSERT or UPDATE)
	// when it touches no row. On PostgreSQL the server raises it, so that
	// nothing sent after it in the batch, a COMMIT above all, runs: a
	// check made on the answer would come after that COMMIT had run. A
	// statement with row as well writes that check itself: on PostgreSQL
	// a division by count(*) of its RETURNING rows, which is how the
	// server raises touch; on SQLite its RETURNING rows, none being touch.
	touch error
	// tag, if set, is the command tag the statement must answer with:
	// "COMMIT", which PostgreSQL answers "ROLLBACK" when it rolled back.
	tag string
	// what and on translate the statement's database error (translate).
	what string
	on   onViolation
	// raw leaves the database's error as it comes, for the statements that
	// Tx.exec, Tx.queryRow and collect send: their callers translate it.
	raw bool
}

// pendingError marks an error of a queued write, or of a function run just
// before the commit (Tx.OnCommit), that surfaced at the commit: it belongs
// to one of the functions a group commit ran, not to the commit itself, so
// the Batcher runs each function again alone to find whose it is.
type pendingError struct{ err error }

func (e *pendingError) Error() string { return e.err.Error() }
func (e *pendingError) Unwrap() error { return e.err }

// later queues a write whose outcome nothing needs before the commit. On
// PostgreSQL it travels with the transaction's next batch (or its COMMIT)
// and its error surfaces there; on SQLite, and outside a transaction, it
// runs at once. Either way its error reaches the caller of DB.Tx.
func (tx *Tx) later(ctx context.Context, s stmt) error {
	if !tx.pipelined() {
		return tx.batch(ctx, s)
	}
	tx.pending = append(tx.pending, s)
	return nil
}

// flush sends the queued writes, if any, in one round trip.
func (tx *Tx) flush(ctx context.Context) error {
	if len(tx.pending) == 0 {
		return nil
	}
	return tx.batch(ctx)
}

// batch runs the queued writes and then stmts. On PostgreSQL they travel in
// one round trip (a pgx batch: one pipeline, one sync); on SQLite they run
// in order. The first statement that fails stops the rest and is the error.
func (tx *Tx) batch(ctx context.Context, stmts ...stmt) error {
	if !tx.pipelined() {
		for i := range stmts {
			if err := tx.runOne(ctx, &stmts[i]); err != nil {
				return err
			}
		}
		return nil
	}
	all := stmts
	if len(tx.pending) > 0 {
		all = append(tx.pending, stmts...)
		tx.pending = nil
	}
	if len(all) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	begins := tx.beginsWith(b)
	for _, s := range all {
		q := tx.db.rebind(s.query)
		if s.touch != nil && s.row == nil {
			// No row, no RETURNING row, and 1 / 0 is the server's error.
			q = `WITH touched AS (` + q + ` RETURNING 1) SELECT 1 / count(*) FROM touched`
		}
		b.Queue(q, tx.db.bind(s.args)...)
	}
	var br pgx.BatchResults
	if begins {
		br = tx.pgConn.SendBatch(ctx, b)
		tx.pgxTx = br.Tx()
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			// pgx prepares a batch's new statements before sending it and
			// reports a failure on the first result, the BEGIN's: it is a
			// statement's, and a raw one's caller translates it as it would
			// the same statement's error sent alone.
			if len(all) == 1 && all[0].raw {
				return untranslated(err)
			}
			return translate(err, "begin", onViolation{})
		}
	} else {
		br = tx.pgxTx.SendBatch(ctx, b)
	}
	var first error
	for i := range all {
		if err := readBatched(br, &all[i]); err != nil && first == nil {
			first = err
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = translate(err, "batch", onViolation{})
	}
	return first
}

// untranslated is a raw statement's error: the server's own, unwrapped
// from pgx's batch wrapping, as the statement sent alone would fail.
func untranslated(err error) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr
	}
	return err
}

// readBatched reads one statement's result from a batch.
func readBatched(br pgx.BatchResults, s *stmt) error {
	translate := translate
	if s.raw {
		translate = func(err error, _ string, _ onViolation) error { return untranslated(err) }
	}
	var n int64
	if s.row != nil {
		rows, err := br.Query()
		if untouched(s, err) {
			return s.touch
		}
		if err != nil {
			return translate(err, s.what, s.on)
		}
		for rows.Next() {
			n++
			if err := s.row(rows); err != nil {
				rows.Close()
				return translate(err, s.what, s.on)
			}
		}
		rows.Close()
		if err := rows.Err(); untouched(s, err) {
			return s.touch
		} else if err != nil {
			return translate(err, s.what, s.on)
		}
	} else {
		tag, err := br.Exec()
		if untouched(s, err) {
			return s.touch
		}
		if err != nil {
			return translate(err, s.what, s.on)
		}
		if s.tag != "" && tag.String() != s.tag {
			return fmt.Errorf("store: %s answered %q", s.what, tag.String())
		}
		n = tag.RowsAffected()
	}
	if s.done != nil {
		return s.done(n)
	}
	return nil
}

// untouched reports whether err is PostgreSQL's answer to s's touch check
// (the division by the count of the rows it touched).
func untouched(s *stmt, err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && s.touch != nil && pgErr.Code == pgerrcode.DivisionByZero
}

// runOne runs one statement on its own, through database/sql.
func (tx *Tx) runOne(ctx context.Context, s *stmt) error {
	var n int64
	if s.row != nil {
		rows, err := tx.q.QueryContext(ctx, tx.db.rebind(s.query), tx.db.bind(s.args)...)
		if untouched(s, err) {
			return s.touch
		}
		if err != nil {
			return translate(err, s.what, s.on)
		}
		defer rows.Close()
		for rows.Next() {
			n++
			if err := s.row(rows); err != nil {
				return translate(err, s.what, s.on)
			}
		}
		if err := rows.Err(); untouched(s, err) {
			return s.touch
		} else if err != nil {
			return translate(err, s.what, s.on)
		}
		if n == 0 && s.touch != nil {
			return s.touch
		}
	} else {
		res, err := tx.q.ExecContext(ctx, tx.db.rebind(s.query), tx.db.bind(s.args)...)
		if err != nil {
			return translate(err, s.what, s.on)
		}
		if n, err = res.RowsAffected(); err != nil {
			return translate(err, s.what, s.on)
		}
		if n == 0 && s.touch != nil {
			return s.touch
		}
	}
	if s.done != nil {
		return s.done(n)
	}
	return nil
}

// OnCommit returns the value the transaction holds under key, making it
// with make on the first call. make also returns a function that runs once
// just before the commit, after every function of a group commit: the
// place for work that many callers' writes share, such as inserting all
// their queue jobs with one statement. Its error rolls the transaction
// back; in a group commit each function then runs again alone.
func (tx *Tx) OnCommit(key any, make func() (v any, flush func(context.Context) error)) any {
	for _, h := range tx.hooks {
		if h.key == key {
			return h.v
		}
	}
	v, flush := make()
	tx.hooks = append(tx.hooks, commitHook{key: key, v: v, flush: flush})
	return v
}

type commitHook struct {
	key   any
	v     any
	flush func(context.Context) error
}

// beforeCommit runs the OnCommit functions, in the order they were made.
func (tx *Tx) beforeCommit(ctx context.Context) error {
	for _, h := range tx.hooks {
		if err := h.flush(ctx); err != nil {
			return &pendingError{err}
		}
	}
	return nil
}

// commitPostgres commits on PostgreSQL: the OnCommit functions first, then
// the queued writes and COMMIT in one round trip. The pgx transaction is
// not committed through its own method, which would cost a round trip of
// its own; the server ends the transaction, and the connection goes back
// to the pool idle.
func (tx *Tx) commitPostgres(ctx context.Context) error {
	if err := tx.beforeCommit(ctx); err != nil {
		return err
	}
	if len(tx.pending) == 0 {
		if err := tx.commitOrNothing(ctx); err != nil {
			return translate(err, "commit", onViolation{})
		}
		return nil
	}
	writes := len(tx.pending)
	committed := false
	err := tx.batch(ctx, stmt{query: "COMMIT", what: "commit", tag: "COMMIT", done: func(int64) error { committed = true; return nil }})
	if err == nil && committed {
		return nil
	}
	if err == nil {
		err = errors.New("store: commit did not run")
	}
	// The error of a queued write belongs to one caller's function.
	if !committed && writes > 0 {
		return &pendingError{err}
	}
	return err
}

// row is a *sql.Row that may carry the error of the queued writes sent
// before it, or, on PostgreSQL, a statement that Scan sends in the
// transaction's next batch.
type row struct {
	*sql.Row
	err error

	tx    *Tx
	ctx   context.Context
	query string
	args  []any
}

// Scan is sql.Row's Scan, or the error of the writes sent before it. On
// PostgreSQL the statement goes with the queued writes, in one round trip
// through pgx itself rather than two through database/sql.
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if r.tx == nil {
		return r.Row.Scan(dest...)
	}
	found, err := r.tx.batchRow(r.ctx, stmt{query: r.query, args: r.args, raw: true}, dest...)
	switch {
	case err != nil:
		return err
	case !found:
		return sql.ErrNoRows
	}
	return nil
}

// batchRow sends s in the transaction's next batch and scans the first row
// it returns into dest, as QueryRow does; found is false when it returned
// none.
func (tx *Tx) batchRow(ctx context.Context, s stmt, dest ...any) (found bool, err error) {
	s.row = func(r scanner) error {
		if found {
			return nil
		}
		found = true
		return r.Scan(dest...)
	}
	err = tx.batch(ctx, s)
	return found, err
}

// flagged is a stmt.row that sets *found before it scans: for the reads of
// a batch, each of which may find nothing.
func flagged(found *bool, scan func(scanner) error) func(scanner) error {
	return func(s scanner) error { *found = true; return scan(s) }
}

// batchCount sends s in the transaction's next batch and returns the
// number of rows it touched.
func (tx *Tx) batchCount(ctx context.Context, s stmt) (n int64, err error) {
	s.done = func(touched int64) error { n = touched; return nil }
	err = tx.batch(ctx, s)
	return n, err
}

// rowsAffected is the sql.Result of a statement Tx.exec sent in a batch.
type rowsAffected int64

func (n rowsAffected) LastInsertId() (int64, error) {
	return 0, errors.New("store: LastInsertId is not supported")
}
func (n rowsAffected) RowsAffected() (int64, error) { return int64(n), nil }

package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// A read-write transaction on PostgreSQL sends its BEGIN with its first
// statements rather than on its own: pgx's Conn.BeginTx waits for the
// server's answer, a round trip that carries nothing else, and every
// quote action, step job and delivery outcome paid it. pgx's
// Batch.BeginTx puts the BEGIN at the head of the transaction's first
// batch (Tx.batch) and gives the pgx.Tx from the batch's results; a
// transaction whose first statement goes alone begins as before, and one
// that sends nothing never begins.

// ensureBegun begins the transaction, if it has not begun, in a round
// trip of its own: for a statement sent alone.
func (tx *Tx) ensureBegun(ctx context.Context) error {
	if tx.pgxTx != nil || tx.pgConn == nil {
		return nil
	}
	ptx, err := tx.pgConn.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return translate(err, "begin", onViolation{})
	}
	tx.pgxTx = ptx
	return nil
}

// beginsWith reports whether the batch about to be sent must begin the
// transaction, and queues its BEGIN if so.
func (tx *Tx) beginsWith(b *pgx.Batch) bool {
	if tx.pgxTx != nil {
		return false
	}
	b.BeginTx(pgx.TxOptions{})
	return true
}

// BegunPgxTx returns the pgx transaction on PostgreSQL, beginning it if
// nothing has been sent yet, for River's riverpgxv5 driver to insert jobs
// in it; an error on SQLite. Statements sent through it go before the
// writes the store has queued and not yet sent: use it only for
// statements that do not depend on them.
func (tx *Tx) BegunPgxTx(ctx context.Context) (pgx.Tx, error) {
	if !tx.pipelined() {
		return nil, errors.New("store: not a PostgreSQL transaction")
	}
	if err := tx.ensureBegun(ctx); err != nil {
		return nil, err
	}
	return tx.pgxTx, nil
}

// commitOrNothing commits the pgx transaction, if one was begun.
func (tx *Tx) commitOrNothing(ctx context.Context) error {
	if tx.pgxTx == nil {
		return nil
	}
	return tx.pgxTx.Commit(ctx)
}

// rollbackOrNothing rolls the pgx transaction back, if one was begun.
func (tx *Tx) rollbackOrNothing(ctx context.Context) error {
	if tx.pgxTx == nil {
		return nil
	}
	return tx.pgxTx.Rollback(ctx)
}

// pipelined reports whether tx is a PostgreSQL transaction, begun or not,
// whose statements the pipeline batches; SQLite's, and statements outside
// a transaction, run one by one.
func (tx *Tx) pipelined() bool { return tx.pgxTx != nil || tx.pgConn != nil }

// execScript runs script, several statements in one text (a migration),
// in tx after the writes it has queued. On PostgreSQL it goes through pgx,
// which sends a text without arguments by the simple protocol, the one
// that takes several statements.
func (tx *Tx) execScript(ctx context.Context, script string) error {
	if !tx.pipelined() {
		_, err := tx.q.ExecContext(ctx, script)
		return err
	}
	if err := tx.flush(ctx); err != nil {
		return err
	}
	ptx, err := tx.BegunPgxTx(ctx)
	if err != nil {
		return err
	}
	_, err = ptx.Exec(ctx, script)
	return err
}

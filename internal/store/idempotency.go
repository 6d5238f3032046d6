package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// IdempotencyLease is how long, by default, a reservation without an
// answer holds its key. A request that reserved a key and died (SIGKILL, a
// dropped connection) never completes nor releases it; after the lease
// another request with the key takes the reservation over and runs the
// create again. That is safe because a create records its answer in its
// own transaction, on the condition that it still holds the reservation
// (Tx.CompleteIdempotencyKey): a dead holder either committed its resource
// with its answer, and the retry replays it, or committed nothing, and the
// retry creates it once. A holder still alive past its lease loses the
// reservation and its create rolls back. The lease only bounds how long a
// retry after a crash answers 409 "in progress".
const IdempotencyLease = 30 * time.Second

// errInProgress is the conflict of a key another request holds.
func errInProgress() error {
	return conflict("header.Idempotency-Key", "a request with this Idempotency-Key is in progress")
}

// ReserveIdempotencyKey claims key for req for lease (IdempotencyLease when
// 0 or less). When the key was used before it returns that request (and its
// answer, if it has one) and reserves nothing; a reservation taken
// concurrently by another request is ECONFLICT. A reservation without an
// answer older than the lease is taken over. When it reserves, held names
// the reservation for CompleteIdempotencyKey and ReleaseIdempotencyKey.
func (db *DB) ReserveIdempotencyKey(ctx context.Context, tenantID, key string, req engine.IdempotentRequest, lease time.Duration) (prev *engine.IdempotentRequest, held int64, err error) {
	if lease <= 0 {
		lease = IdempotencyLease
	}
	err = db.Tx(ctx, func(tx *Tx) error {
		prev, held = nil, 0
		var p engine.IdempotentRequest
		var response []byte
		var reserved int64
		err := tx.queryRow(ctx, `SELECT method, path, request_hash, status_code, response, created_at FROM idempotency_keys
			WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&p.Method, &p.Path, &p.RequestHash, &p.StatusCode, &response, &reserved)
		now := micros(tx.Now())
		switch {
		case err == nil && p.StatusCode == 0 && p.Method == req.Method && p.Path == req.Path && p.RequestHash == req.RequestHash &&
			!fromMicros(reserved).After(tx.Now().Add(-lease)):
			// The holder's lease ran out: take the reservation over. The
			// condition on created_at lets one of two racing takers win,
			// and makes the old holder's completion fail.
			res, err := tx.exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE tenant_id = ? AND key = ? AND status_code = 0 AND created_at = ?`,
				now, tenantID, key, reserved)
			if err != nil {
				return translate(err, "take over idempotency key", onViolation{})
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errInProgress()
			}
			held = now
			return nil
		case err == nil:
			p.Response = response
			prev = &p
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return translate(err, "get idempotency key", onViolation{})
		}
		_, err = tx.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, status_code, created_at)
			VALUES (?, ?, ?, ?, ?, 0, ?)`, tenantID, key, req.Method, req.Path, req.RequestHash, now)
		if err != nil {
			return translate(err, "reserve idempotency key", onViolation{unique: errInProgress()})
		}
		held = now
		return nil
	})
	return prev, held, err
}

// CompleteIdempotencyKey stores the answer of the reservation held, in a
// transaction of its own.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, tenantID, key string, held int64, status int, response []byte) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CompleteIdempotencyKey(ctx, tenantID, key, held, status, response) })
}

// CompleteIdempotencyKey stores the answer of the reservation held in tx,
// the transaction that writes what the answer reports, so that both commit
// or neither does. A reservation no longer held (its lease ran out and
// another request took it over, or it was answered) is ECONFLICT on
// header.Idempotency-Key, and the caller's transaction must roll back.
func (tx *Tx) CompleteIdempotencyKey(ctx context.Context, tenantID, key string, held int64, status int, response []byte) error {
	var body any
	if len(response) > 0 {
		body = string(response)
	}
	res, err := tx.exec(ctx, `UPDATE idempotency_keys SET status_code = ?, response = ?
		WHERE tenant_id = ? AND key = ? AND status_code = 0 AND created_at = ?`, status, body, tenantID, key, held)
	if err != nil {
		return translate(err, "complete idempotency key", onViolation{})
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return conflict("header.Idempotency-Key", "this request's hold on its Idempotency-Key lapsed and another request with the key took it over")
	}
	return nil
}

// ReleaseIdempotencyKey forgets the reservation held by a request that
// failed, so that the client can try again with the same key. A
// reservation another request took over, or an answered key, stays.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, tenantID, key string, held int64) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND key = ? AND status_code = 0 AND created_at = ?`,
			tenantID, key, held)
		return translate(err, "release idempotency key", onViolation{})
	})
}

// PurgeIdempotencyKeys deletes keys older than before, in every tenant.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
		if err != nil {
			return translate(err, "purge idempotency keys", onViolation{})
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// IdempotencyLease is how long a reservation without an answer holds its
// key. A request that reserved a key and died (SIGKILL, a dropped
// connection) never completes nor releases it; after the lease another
// request with the key takes the reservation over and runs the create
// again. Creates are one transaction each, so the dead request either wrote
// nothing, and the retry completes it once, or its write committed before
// the answer was recorded, and the retry writes it a second time: exactly
// once needs the answer recorded in the create's own transaction, as quote
// actions do (issue 12, not yet done). The lease is far longer than any
// create takes: a request alive past it could run twice.
const IdempotencyLease = 30 * time.Second

// ReserveIdempotencyKey claims key for req. When the key was used before it
// returns that request (and its answer, if it has one) and reserves nothing;
// a reservation taken concurrently by another request is ECONFLICT. A
// reservation without an answer older than IdempotencyLease is taken over:
// the call reserves the key anew and returns nil.
func (db *DB) ReserveIdempotencyKey(ctx context.Context, tenantID, key string, req engine.IdempotentRequest) (*engine.IdempotentRequest, error) {
	var prev *engine.IdempotentRequest
	err := db.Tx(ctx, func(tx *Tx) error {
		var p engine.IdempotentRequest
		var response []byte
		var reserved int64
		err := tx.queryRow(ctx, `SELECT method, path, request_hash, status_code, response, created_at FROM idempotency_keys
			WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&p.Method, &p.Path, &p.RequestHash, &p.StatusCode, &response, &reserved)
		switch {
		case err == nil && p.StatusCode == 0 && p.Method == req.Method && p.Path == req.Path && p.RequestHash == req.RequestHash &&
			!fromMicros(reserved).After(tx.Now().Add(-IdempotencyLease)):
			// The holder's lease ran out: take the reservation over. The
			// condition on created_at lets one of two racing takers win.
			res, err := tx.exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE tenant_id = ? AND key = ? AND status_code = 0 AND created_at = ?`,
				micros(tx.Now()), tenantID, key, reserved)
			if err != nil {
				return translate(err, "take over idempotency key", onViolation{})
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return conflict("header.Idempotency-Key", "a request with this Idempotency-Key is in progress")
			}
			return nil
		case err == nil:
			p.Response = response
			prev = &p
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return translate(err, "get idempotency key", onViolation{})
		}
		_, err = tx.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, status_code, created_at)
			VALUES (?, ?, ?, ?, ?, 0, ?)`, tenantID, key, req.Method, req.Path, req.RequestHash, micros(tx.Now()))
		return translate(err, "reserve idempotency key", onViolation{
			unique: conflict("header.Idempotency-Key", "a request with this Idempotency-Key is in progress"),
		})
	})
	return prev, err
}

// CompleteIdempotencyKey stores the answer of a reserved request.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, tenantID, key string, status int, response []byte) error {
	return db.Tx(ctx, func(tx *Tx) error {
		var body any
		if len(response) > 0 {
			body = string(response)
		}
		return tx.execOne(ctx, engine.Errorf(engine.ENOTFOUND, "no such idempotency key"),
			`UPDATE idempotency_keys SET status_code = ?, response = ? WHERE tenant_id = ? AND key = ?`, status, body, tenantID, key)
	})
}

// ReleaseIdempotencyKey forgets a reservation whose request failed, so that
// the client can try again with the same key.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, tenantID, key string) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND key = ? AND status_code = 0`, tenantID, key)
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

package app

import (
	"context"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// idempotencyRetention is how long an Idempotency-Key answers with its
// first response.
const idempotencyRetention = 24 * time.Hour

// Points of an idempotent write where Config.Hold is called: inside its
// transaction once the answer is written (HoldBeforeCommit), and once the
// transaction committed, before the answer goes back (HoldAfterCommit).
const (
	HoldBeforeCommit = "before-commit"
	HoldAfterCommit  = "after-commit"
)

// IdempotentCall is a request that reserved its Idempotency-Key, carried
// to the use case in its context (WithIdempotentCall). The use case's
// transaction stores the request's answer with what it writes, so that a
// crash leaves both or neither: a retry then replays the answer or runs the
// request once. Without it, a create that committed before its answer was
// stored would run again on a retry.
type IdempotentCall struct {
	TenantID string
	Key      string
	// Answer renders what the request will answer, from the result of the
	// use case (the resource it wrote, as the caller passes it back), in
	// the form the replay reads. It is called inside the transaction; an
	// error rolls the write back.
	Answer func(result any) (status int, stored []byte, err error)

	held     int64
	recorded bool
}

// Recorded reports whether the answer was committed with the write: the
// caller has nothing more to store.
func (c *IdempotentCall) Recorded() bool { return c.recorded }

type callKey struct{}

// WithIdempotentCall returns ctx carrying call to the use case it reaches.
func WithIdempotentCall(ctx context.Context, call *IdempotentCall) context.Context {
	return context.WithValue(ctx, callKey{}, call)
}

// IdempotentCallFrom returns the call ctx carries, or nil.
func IdempotentCallFrom(ctx context.Context) *IdempotentCall {
	c, _ := ctx.Value(callKey{}).(*IdempotentCall)
	return c
}

// ReserveIdempotencyKey claims the tenant's key for req. When the key was
// used before it returns that request (and its answer, if it has one) and
// reserves nothing; a reservation taken concurrently is ECONFLICT on
// header.Idempotency-Key. Otherwise it returns the call to hand the use
// case (WithIdempotentCall), and to complete or release afterwards.
func (a *App) ReserveIdempotencyKey(ctx context.Context, tenantID, key string, req engine.IdempotentRequest) (*engine.IdempotentRequest, *IdempotentCall, error) {
	prev, held, err := a.db.ReserveIdempotencyKey(ctx, tenantID, key, req, a.lease)
	if err != nil || prev != nil {
		return prev, nil, err
	}
	return nil, &IdempotentCall{TenantID: tenantID, Key: key, held: held}, nil
}

// CompleteIdempotencyKey stores the answer of a call whose use case did not
// store it in its transaction. The write committed before this, so a crash
// in between leaves the key in progress until its lease ends, and a retry
// then runs the request again: every operation that takes a key records its
// answer in its own transaction instead (write), and this is what an
// operation that does not falls back on.
func (a *App) CompleteIdempotencyKey(ctx context.Context, call *IdempotentCall, status int, response []byte) error {
	return a.db.CompleteIdempotencyKey(ctx, call.TenantID, call.Key, call.held, status, response)
}

// ReleaseIdempotencyKey forgets the reservation of a call that failed, so
// that the client can try again with the same key.
func (a *App) ReleaseIdempotencyKey(ctx context.Context, call *IdempotentCall) error {
	return a.db.ReleaseIdempotencyKey(ctx, call.TenantID, call.Key, call.held)
}

// write runs fn in one transaction and, when ctx carries an IdempotentCall,
// stores the call's answer, rendered from fn's result, in that same
// transaction. Every use case an Idempotency-Key reaches writes through it.
func write[R any](a *App, ctx context.Context, fn func(tx *store.Tx) (R, error)) (R, error) {
	call := IdempotentCallFrom(ctx)
	var res R
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if res, err = fn(tx); err != nil {
			return err
		}
		return a.recordAnswer(ctx, tx, call, res)
	})
	if err == nil && call != nil {
		call.recorded = true
		a.hold(ctx, HoldAfterCommit)
	}
	return res, err
}

// recordAnswer stores call's answer for res in tx; nothing without a call.
func (a *App) recordAnswer(ctx context.Context, tx *store.Tx, call *IdempotentCall, res any) error {
	if call == nil {
		return nil
	}
	if call.recorded {
		return errors.New("app: an idempotent request wrote twice; its answer is stored with the first write")
	}
	if call.Answer == nil {
		return errors.New("app: an idempotent request did not say how it answers")
	}
	status, stored, err := call.Answer(res)
	if err != nil {
		return err
	}
	if err := tx.CompleteIdempotencyKey(ctx, call.TenantID, call.Key, call.held, status, stored); err != nil {
		return err
	}
	a.hold(ctx, HoldBeforeCommit)
	return nil
}

// hold calls Config.Hold at point, if it is set.
func (a *App) hold(ctx context.Context, point string) {
	if a.holdAt != nil {
		a.holdAt(ctx, point)
	}
}

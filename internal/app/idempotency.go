package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// idempotencyRetention is how long an Idempotency-Key answers with its
// first response.
const idempotencyRetention = 24 * time.Hour

// ReserveIdempotencyKey claims the tenant's key for req. When the key was
// used before it returns that request (and its answer, if it has one) and
// reserves nothing; a reservation taken concurrently is ECONFLICT.
func (a *App) ReserveIdempotencyKey(ctx context.Context, tenantID, key string, req engine.IdempotentRequest) (*engine.IdempotentRequest, error) {
	return a.db.ReserveIdempotencyKey(ctx, tenantID, key, req)
}

// CompleteIdempotencyKey stores the answer of a reserved request, for its
// repeats to be answered with.
func (a *App) CompleteIdempotencyKey(ctx context.Context, tenantID, key string, status int, response []byte) error {
	return a.db.CompleteIdempotencyKey(ctx, tenantID, key, status, response)
}

// ReleaseIdempotencyKey forgets a reservation whose request failed, so that
// the client can try again with the same key.
func (a *App) ReleaseIdempotencyKey(ctx context.Context, tenantID, key string) error {
	return a.db.ReleaseIdempotencyKey(ctx, tenantID, key)
}

package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Enqueuer puts durable jobs in the caller's transaction, so that a job
// exists if and only if the rows that caused it were committed.
type Enqueuer interface {
	// EnqueueStepTx schedules step position of a run at at (now when zero
	// or past).
	EnqueueStepTx(ctx context.Context, tx *store.Tx, tenantID, runID string, position int, at time.Time) error
	// EnqueueDeliveryTx schedules a delivery attempt of a message at at.
	EnqueueDeliveryTx(ctx context.Context, tx *store.Tx, tenantID, messageID string, at time.Time) error
}

// Senders builds the provider client that delivers a tenant's messages on a
// channel, with the tenant's own credentials.
type Senders interface {
	// For returns the sender and the provider name ("log", "smtp",
	// "cloud_api"). An error means the channel is not configured.
	For(tenant *engine.Tenant, channelName string) (channel.Sender, string, error)
}

// reader is what compiling a rule set reads; both *store.DB and *store.Tx
// have it, so the same code serves a preview and a quote action's
// transaction.
type reader interface {
	ResolverInputs(ctx context.Context, tenantID string) (store.ResolverInputs, error)
}

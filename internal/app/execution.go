package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// The three kinds of job are one call each: the queue calls RunStep,
// Deliver and Sweep, and each does the whole of its job here, from the
// claim to the recorded outcome. Work is idempotent rather than completed
// in its own transaction: a job run again after a crash finds what its
// first try wrote (the unique run step and message, the message's status)
// and does nothing twice.

// RunStep is a step job: step position of a run in one transaction (see
// executeStep) and, when the step claimed a message due now, its delivery
// after the commit.
func (a *App) RunStep(ctx context.Context, tenantID, runID string, position int) (err error) {
	ctx, end := a.begin(ctx, "app.RunStep", slog.String("tenant_id", tenantID), slog.String("run_id", runID))
	defer func() { end(err) }()
	var d *delivery
	// Group-committed with concurrent actions and jobs; the function may
	// run twice, the first time rolled back, and sets d afresh each time.
	step := func(fresh bool) error {
		return a.db.GroupTx(ctx, func(tx *store.Tx) error {
			var err error
			d, err = a.executeStep(ctx, tx, tenantID, runID, position, fresh)
			return err
		})
	}
	// First as the step's first try, its writes sent with the commit;
	// if an earlier try wrote the step, again to see what that try did.
	err = step(true)
	if errors.Is(err, store.ErrRunStepExists) {
		err = step(false)
	}
	if err != nil || d == nil {
		return err
	}
	return a.deliver(ctx, d)
}

// Deliver is a delivery job, for a message deferred past quiet hours,
// holidays or an open circuit, or retried: it claims the message (one
// commit), then delivers it.
func (a *App) Deliver(ctx context.Context, tenantID, messageID string) (err error) {
	ctx, end := a.begin(ctx, "app.Deliver", slog.String("tenant_id", tenantID), slog.String("message_id", messageID))
	defer func() { end(err) }()
	var d *delivery
	err = a.db.GroupTx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = a.beginDelivery(ctx, tx, tenantID, messageID)
		return err
	})
	if err != nil || d == nil {
		return err
	}
	return a.deliver(ctx, d)
}

// deliver calls the provider for a claimed message, outside any
// transaction, counts its answer and records the outcome (one commit).
func (a *App) deliver(ctx context.Context, d *delivery) error {
	m := d.Message
	ctx = annotate(ctx, slog.String("message_id", m.ID), slog.String("run_id", m.RunID), slog.String("event_id", m.EventID))
	// The provider call's own span; what follows (the outcome's
	// transaction, a retry's job) belongs to the job, not to the call.
	sctx, span := a.tracer.Start(ctx, "app.send", trace.WithAttributes(attribute.String("quoteflow.channel", m.Channel),
		attribute.String("quoteflow.provider", m.Provider), attribute.Int("quoteflow.attempt", d.Attempt.Number)))
	res, sendErr := a.send(sctx, d)
	if sendErr != nil {
		span.SetStatus(codes.Error, string(channel.ClassOf(sendErr)))
	}
	span.End()
	outcome := "sent"
	if sendErr != nil {
		outcome = string(channel.ClassOf(sendErr))
	}
	a.metrics.deliveries.WithLabelValues(d.Message.Channel, d.Message.Provider, outcome).Inc()
	// The outcome is recorded even if the job's context has ended: the
	// provider has answered, and losing that answer would leave the
	// message sending until it is settled as unknown.
	rctx := context.WithoutCancel(ctx)
	record := func(quick bool) error {
		return a.db.GroupTx(rctx, func(tx *store.Tx) error {
			d.EventAt, d.circuit = time.Time{}, nil
			if quick {
				return tx.QueueMessageSent(rctx, m, d.Attempt, res.ProviderMessageID, &d.EventAt)
			}
			return a.recordOutcome(rctx, tx, d, res, sendErr)
		})
	}
	// A send accepted, of a message still as its claim left it, is the
	// outcome of nearly every message and needs nothing read: writes with
	// the commit (QueueMessageSent). Anything else (an error, a probe
	// whose answer closes its circuit, a message a receipt has moved) is
	// recordOutcome's, which reads the message under its lock first.
	quick := sendErr == nil && !d.Probe
	err := record(quick)
	if quick && errors.Is(err, store.ErrMessageMoved) {
		err = record(false)
	}
	if err == nil {
		a.logCircuit(ctx, m, d.circuit)
	}
	if err == nil && d.Attempt.Outcome != "" {
		a.metrics.attempted(m, d.Attempt, d.EventAt)
		// The error class, never the provider's text: that may quote the
		// recipient or the message.
		a.log.InfoContext(ctx, "attempt", "channel", m.Channel, "provider", m.Provider, "attempt", d.Attempt.Number,
			"outcome", d.Attempt.Outcome, "error_class", d.Attempt.ErrorClass)
	}
	return err
}

// sweepBatch is how many due quotes the sweep expires per round.
const sweepBatch = 100

// Sweep is the periodic job: it forgets Idempotency-Keys older than a day
// and expires every quote past its valid_until.
func (a *App) Sweep(ctx context.Context) error {
	if _, err := a.db.PurgeIdempotencyKeys(ctx, a.Now().Add(-idempotencyRetention)); err != nil {
		return err
	}
	total := 0
	defer func() {
		if total > 0 {
			a.log.InfoContext(ctx, "expired quotes", "count", total)
		}
	}()
	for {
		n, err := a.ExpireDueQuotes(ctx, sweepBatch)
		total += n
		if err != nil || n < sweepBatch {
			return err
		}
	}
}

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

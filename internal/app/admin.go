package app

import (
	"context"
	"fmt"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// RetryMessage sends a failed, unknown or cancelled message again, now. It
// is the explicit decision that settles an unknown outcome: the admin
// accepts that the recipient may get it twice.
func (a *App) RetryMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return write(a, ctx, func(tx *store.Tx) (*engine.Message, error) {
		m, err := tx.GetMessageForUpdate(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		switch m.Status {
		case engine.MsgFailed, engine.MsgUnknown, engine.MsgCancelled:
		default:
			return nil, engine.Errorf(engine.ECONFLICT, "a message that is %s cannot be retried", m.Status)
		}
		now := tx.Now()
		m.Status, m.Reason, m.ScheduledAt = engine.MsgQueued, "admin_retry", &now
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return nil, err
		}
		return m, a.jobs.EnqueueDeliveryTx(ctx, tx, tenantID, m.ID, now)
	})
}

// CancelMessage stops a message that has not been handed to its provider.
func (a *App) CancelMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return write(a, ctx, func(tx *store.Tx) (*engine.Message, error) {
		m, err := tx.GetMessageForUpdate(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		if m.Status != engine.MsgQueued && m.Status != engine.MsgScheduled {
			return nil, engine.Errorf(engine.ECONFLICT, "a message that is %s cannot be cancelled", m.Status)
		}
		m.Status, m.Reason = engine.MsgCancelled, "admin_cancel"
		return m, tx.UpdateMessage(ctx, m)
	})
}

// RunSteps is a run with its steps, as read in one transaction.
type RunSteps struct {
	Run   *engine.Run
	Steps []engine.RunStep
}

// CancelRun stops an active run: no further step runs and its undelivered
// messages are cancelled. It returns the run and its steps as cancelled.
func (a *App) CancelRun(ctx context.Context, tenantID, id string) (*RunSteps, error) {
	return write(a, ctx, func(tx *store.Tx) (*RunSteps, error) {
		r, err := tx.GetRun(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		if r.Status != engine.RunActive {
			return nil, engine.Errorf(engine.ECONFLICT, "a run that is %s cannot be cancelled", r.Status)
		}
		if err := a.cancelRun(ctx, tx, r, "cancelled by an admin"); err != nil {
			return nil, err
		}
		if r, err = tx.GetRun(ctx, tenantID, id); err != nil {
			return nil, err
		}
		steps, err := tx.ListRunSteps(ctx, tenantID, id)
		return &RunSteps{Run: r, Steps: steps}, err
	})
}

// CloseCircuit closes the tenant's circuit for a provider, after its
// settings were fixed: the messages waiting on it are made due now
// (circuits.go, releaseWaiters).
func (a *App) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	if a.jobs == nil {
		return a.db.CloseCircuit(ctx, tenantID, provider)
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.CloseCircuit(ctx, tenantID, provider); err != nil {
			return err
		}
		_, err := a.releaseWaiters(ctx, tx, tenantID, provider)
		return err
	})
}

// ExpireDueQuotes expires up to limit quotes whose valid_until has passed,
// each in its own transaction, as the quote.expired trigger. It returns
// how many it expired.
func (a *App) ExpireDueQuotes(ctx context.Context, limit int) (int, error) {
	var due []engine.Quote
	err := a.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		due, err = tx.ListQuotesToExpire(ctx, a.Now(), limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, q := range due {
		// Two sweeps can list the same quote (two processes, or a periodic
		// run beside a manual one); the second waits on the quote's row lock
		// and would then record a duplicate quote.expired event. One key
		// per quote revision makes it replay the first instead.
		_, err := a.QuoteAction(ctx, ActionRequest{TenantID: q.TenantID, QuoteID: q.ID, Action: engine.ActionExpire,
			IdempotencyKey: fmt.Sprintf("quoteflow-sweep:expire:%s:%d", q.ID, q.Revision)})
		switch engine.ErrorCode(err) {
		case "":
			n++
		case engine.ECONFLICT, engine.ENOTFOUND:
			// Accepted, rejected or deleted since it was listed.
		default:
			return n, err
		}
	}
	return n, nil
}

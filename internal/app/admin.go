package app

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// RetryMessage sends a failed, unknown or cancelled message again, now. It
// is the explicit decision that settles an unknown outcome: the admin
// accepts that the recipient may get it twice.
func (a *App) RetryMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	var m *engine.Message
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = tx.GetMessageForUpdate(ctx, tenantID, id); err != nil {
			return err
		}
		switch m.Status {
		case engine.MsgFailed, engine.MsgUnknown, engine.MsgCancelled:
		default:
			return engine.Errorf(engine.ECONFLICT, "a message that is %s cannot be retried", m.Status)
		}
		now := tx.Now()
		m.Status, m.Reason, m.ScheduledAt = engine.MsgQueued, "admin_retry", &now
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		return a.jobs.EnqueueDeliveryTx(ctx, tx, tenantID, m.ID, now)
	})
	return m, err
}

// CancelMessage stops a message that has not been handed to its provider.
func (a *App) CancelMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	var m *engine.Message
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = tx.GetMessageForUpdate(ctx, tenantID, id); err != nil {
			return err
		}
		if m.Status != engine.MsgQueued && m.Status != engine.MsgScheduled {
			return engine.Errorf(engine.ECONFLICT, "a message that is %s cannot be cancelled", m.Status)
		}
		m.Status, m.Reason = engine.MsgCancelled, "admin_cancel"
		return tx.UpdateMessage(ctx, m)
	})
	return m, err
}

// CancelRun stops an active run: no further step runs and its undelivered
// messages are cancelled.
func (a *App) CancelRun(ctx context.Context, tenantID, id string) (*engine.Run, error) {
	var r *engine.Run
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.GetRun(ctx, tenantID, id); err != nil {
			return err
		}
		if r.Status != engine.RunActive {
			return engine.Errorf(engine.ECONFLICT, "a run that is %s cannot be cancelled", r.Status)
		}
		if err := a.cancelRun(ctx, tx, r, "cancelled by an admin"); err != nil {
			return err
		}
		r, err = tx.GetRun(ctx, tenantID, id)
		return err
	})
	return r, err
}

// CloseCircuit closes the tenant's circuit for a provider, after its
// settings were fixed: the messages waiting on it go at their next try.
func (a *App) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	return a.db.CloseCircuit(ctx, tenantID, provider)
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
		_, err := a.QuoteAction(ctx, ActionRequest{TenantID: q.TenantID, QuoteID: q.ID, Action: engine.ActionExpire})
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

package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// purgeBatch is how many trigger events one purge transaction removes, with
// all that hangs off them (a handful of rows each): small enough that the
// locks it takes are brief, large enough that a year's backlog goes in
// minutes.
const purgeBatch = 500

// purgeBudget bounds one purge job's work, well inside the queue's job
// timeout; what is left waits for the next period.
const purgeBudget = 45 * time.Second

// Purge is the periodic retention job: for each tenant it deletes, batch by
// batch, the timeline entries older than the tenant's retention_days,
// keeping their statistics in rollups (store.PurgeBatch). One tenant's
// failure is logged and the others still run; the first error is returned
// so that the queue retries the job.
func (a *App) Purge(ctx context.Context) error {
	tenants, err := a.db.TenantRetentions(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(purgeBudget)
	var first error
	for _, t := range tenants {
		if err := a.purgeTenant(ctx, t.TenantID, t.Days, deadline); err != nil {
			a.log.ErrorContext(ctx, "purge", "tenant_id", t.TenantID, "error", err)
			if first == nil {
				first = err
			}
		}
		if time.Now().After(deadline) {
			a.log.InfoContext(ctx, "purge paused: it continues at the next period")
			break
		}
	}
	return first
}

func (a *App) purgeTenant(ctx context.Context, tenantID string, days int, deadline time.Time) error {
	if days <= 0 {
		days = engine.DefaultRetentionDays
	}
	cutoff := a.Now().AddDate(0, 0, -days)
	var events, messages, attempts, receipts, alerts, alertEmails int64
	defer func() {
		if events+receipts+alerts+alertEmails > 0 {
			a.log.InfoContext(ctx, "purged timeline", "tenant_id", tenantID, "before", cutoff,
				"events", events, "messages", messages, "attempts", attempts, "orphan_receipts", receipts,
				"alerts", alerts, "alert_emails", alertEmails)
		}
	}()
	if err := a.purgeInbound(ctx, tenantID, cutoff, deadline); err != nil {
		return err
	}
	for {
		res, err := a.db.PurgeBatch(ctx, tenantID, cutoff, purgeBatch)
		events += int64(res.Events)
		messages += res.Messages
		attempts += res.Attempts
		receipts += res.OrphanReceipts
		alerts += res.Alerts
		alertEmails += res.AlertEmails
		if err != nil || !res.Full(purgeBatch) {
			return err
		}
		if time.Now().After(deadline) {
			return nil
		}
	}
}

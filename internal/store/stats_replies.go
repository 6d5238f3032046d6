package store

import (
	"context"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// ReplySent is, for one trigger and workflow, how many of the tenant's
// messages written in a statistics window reached their provider (Sent)
// and how many of those got a reply attributed to them (Replied).
type ReplySent struct {
	Trigger, WorkflowID string
	Sent, Replied       int64
}

// ReplySentCounts counts, by trigger and workflow, the messages created in
// the window that the provider accepted, and those of them an inbound
// message answers (its reply_to). It reads the tables only: the rollups of
// purged messages carry no replies, so a window reaching past the
// retention counts the replies kept without the messages they answered.
func (tx *Tx) ReplySentCounts(ctx context.Context, q StatsQuery) ([]ReplySent, error) {
	rows, err := tx.query(ctx, `SELECT m.trigger, COALESCE(m.workflow_id, ''), COUNT(*),
			SUM(CASE WHEN EXISTS (SELECT 1 FROM inbound_messages i WHERE i.tenant_id = m.tenant_id AND i.reply_to = m.id)
				THEN 1 ELSE 0 END)
		FROM messages m
		WHERE m.tenant_id = ? AND m.created_at >= ? AND m.created_at < ? AND m.sent_at IS NOT NULL
		GROUP BY m.trigger, COALESCE(m.workflow_id, '')
		ORDER BY m.trigger, COALESCE(m.workflow_id, '')`, q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, translate(err, "reply sent counts", onViolation{})
	}
	defer rows.Close()
	var out []ReplySent
	for rows.Next() {
		var r ReplySent
		if err := rows.Scan(&r.Trigger, &r.WorkflowID, &r.Sent, &r.Replied); err != nil {
			return nil, translate(err, "reply sent counts", onViolation{})
		}
		out = append(out, r)
	}
	return out, translate(rows.Err(), "reply sent counts", onViolation{})
}

// InboundCounts counts the tenant's inbound messages received in the
// window that are replies (every type but Meta's system notices), by slot
// of received_at and by the trigger and workflow of the message they were
// attributed to (empty when none): Keys are trigger, workflow.
func (tx *Tx) InboundCounts(ctx context.Context, q StatsQuery) ([]StatsCount, error) {
	return tx.slotCounts(ctx, q, "received_at", `inbound_messages`, `type <> ?`, engine.InboundSystem)
}

// OptOutCounts counts the consent changes to opted out made in the window,
// by slot of created_at, trigger, workflow and channel: Keys are trigger,
// workflow, channel.
func (tx *Tx) OptOutCounts(ctx context.Context, q StatsQuery) ([]StatsCount, error) {
	return tx.slotCounts(ctx, q, "created_at", `consent_changes`, `opted_in = ?`, false, "channel")
}

// slotCounts counts table's rows of the tenant in the window of timeCol
// that match cond, by slot, trigger, workflow_id and extra columns.
func (tx *Tx) slotCounts(ctx context.Context, q StatsQuery, timeCol, table, cond string, arg any, extra ...string) ([]StatsCount, error) {
	slot, err := q.slotExpr(timeCol)
	if err != nil {
		return nil, err
	}
	cols := append([]string{slot, "trigger", "workflow_id"}, extra...)
	sel := strings.Join(cols, ", ")
	out, err := collectCounts(ctx, tx, len(cols)-1, 0, `SELECT `+sel+`, COUNT(*) FROM `+table+`
		WHERE tenant_id = ? AND `+timeCol+` >= ? AND `+timeCol+` < ? AND `+cond+` GROUP BY `+sel,
		q.TenantID, micros(q.From), micros(q.To), arg)
	if err != nil {
		return nil, translate(err, "count "+table, onViolation{})
	}
	return plainCounts(out), nil
}

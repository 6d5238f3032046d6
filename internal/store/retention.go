package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// RollupSlot is the width of a statistics rollup slot: the smallest bucket
// the outbox statistics offer, and a divisor of every time zone's offset,
// so a bucket in any zone is a union of whole slots.
const RollupSlot = 5 * time.Minute

// TenantRetention is how long one tenant keeps its timeline.
type TenantRetention struct {
	TenantID string
	Days     int
}

// TenantRetentions lists every tenant's retention, for the purge job.
func (db *DB) TenantRetentions(ctx context.Context) ([]TenantRetention, error) {
	rows, err := db.auto().query(ctx, `SELECT id, retention_days FROM tenants ORDER BY id`)
	if err != nil {
		return nil, translate(err, "list retentions", onViolation{})
	}
	defer rows.Close()
	var out []TenantRetention
	for rows.Next() {
		var r TenantRetention
		if err := rows.Scan(&r.TenantID, &r.Days); err != nil {
			return nil, translate(err, "list retentions", onViolation{})
		}
		out = append(out, r)
	}
	return out, translate(rows.Err(), "list retentions", onViolation{})
}

// PurgeResult counts what one PurgeBatch removed.
type PurgeResult struct {
	// Events is the number of trigger events chosen (older than the cutoff,
	// nothing of theirs still in flight); their duplicates, runs, steps,
	// messages, attempts and receipts went with them.
	Events int
	// Messages and Attempts are the rows of theirs added to the rollups.
	Messages, Attempts int64
	// OrphanReceipts are receipts that matched no message, removed by age.
	OrphanReceipts int64
	// Alerts are resolved alerts, removed by when they resolved, and
	// AlertEmails settled alert emails (sent, failed or unknown) that no
	// alert left names, removed by when they were queued.
	Alerts, AlertEmails int64
}

// Full reports whether some part of r reached limit, the batch's size: then
// more may be left, and the caller runs another batch.
func (r PurgeResult) Full(limit int) bool {
	n := int64(limit)
	return int64(r.Events) >= n || r.OrphanReceipts >= n || r.Alerts >= n || r.AlertEmails >= n
}

// inFlightMessage lists the statuses in which a message is still on its way
// (engine.MessageStatus.Final false); an event with such a message, or with
// an active run, is kept until it settles, however old. It is also the
// predicate of the partial index messages_in_flight (InFlightCounts).
const inFlightMessage = `('scheduled', 'queued', 'sending')`

// PurgeBatch deletes, in one transaction, up to limit of the tenant's
// trigger events created before cutoff, with everything that hangs off
// them (their duplicates, runs, run steps, messages, attempts and
// receipts, by the schema's cascades), and up to limit each of: receipts
// older than cutoff that matched no message, alerts resolved before cutoff,
// and settled alert emails queued before it that no remaining alert names.
// Before deleting, it adds the counts the outbox statistics read —
// messages, attempts, decisions and missing fields — to the rollup tables,
// so that statistics of purged periods stay what they were. Events with an active run or a message still being
// delivered are left for a later purge. A short transaction per batch keeps
// locks brief; the caller loops until a batch comes back short.
func (db *DB) PurgeBatch(ctx context.Context, tenantID string, cutoff time.Time, limit int) (PurgeResult, error) {
	var res PurgeResult
	err := db.Tx(ctx, func(tx *Tx) error {
		res = PurgeResult{}
		ids, err := tx.purgeableEvents(ctx, tenantID, cutoff, limit)
		if err != nil {
			return err
		}
		res.Events = len(ids)
		if len(ids) > 0 {
			if err := tx.rollUp(ctx, tenantID, ids, &res); err != nil {
				return err
			}
			args := append([]any{tenantID}, ids...)
			if _, err := tx.exec(ctx, `DELETE FROM trigger_events WHERE tenant_id = ? AND id IN (`+marks(len(ids))+`)`, args...); err != nil {
				return translate(err, "purge events", onViolation{})
			}
		}
		r, err := tx.exec(ctx, `DELETE FROM receipts WHERE id IN (
			SELECT id FROM receipts WHERE tenant_id = ? AND message_id IS NULL AND received_at < ? LIMIT ?)`,
			tenantID, micros(cutoff), limit)
		if err != nil {
			return translate(err, "purge receipts", onViolation{})
		}
		res.OrphanReceipts, _ = r.RowsAffected()
		// Alerts first, so that the emails of the alerts just purged can go
		// in the same batch; an email an open alert still names stays.
		r, err = tx.exec(ctx, `DELETE FROM alerts WHERE id IN (
			SELECT id FROM alerts WHERE tenant_id = ? AND state = ? AND resolved_at < ? LIMIT ?)`,
			tenantID, string(engine.AlertResolved), micros(cutoff), limit)
		if err != nil {
			return translate(err, "purge alerts", onViolation{})
		}
		res.Alerts, _ = r.RowsAffected()
		r, err = tx.exec(ctx, `DELETE FROM alert_emails WHERE id IN (
			SELECT e.id FROM alert_emails e WHERE e.tenant_id = ? AND e.status IN (?, ?, ?) AND e.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.tenant_id = e.tenant_id AND a.email_id = e.id) LIMIT ?)`,
			tenantID, AlertEmailSent, AlertEmailFailed, AlertEmailUnknown, micros(cutoff), limit)
		if err != nil {
			return translate(err, "purge alert emails", onViolation{})
		}
		res.AlertEmails, _ = r.RowsAffected()
		if !res.Full(limit) {
			// Caught up: say so on the tenant, for the statistics' readers.
			_, err = tx.exec(ctx, `UPDATE tenants SET purged_before = ? WHERE id = ? AND (purged_before IS NULL OR purged_before < ?)`,
				micros(cutoff), tenantID, micros(cutoff))
			return translate(err, "record purge", onViolation{})
		}
		return nil
	})
	if err != nil {
		return PurgeResult{}, err
	}
	return res, nil
}

// PurgedBefore returns the time before which the tenant's timeline has been
// purged into rollups, or the zero time if it never was.
func (db *DB) PurgedBefore(ctx context.Context, tenantID string) (time.Time, error) {
	var at *int64
	err := db.auto().queryRow(ctx, `SELECT purged_before FROM tenants WHERE id = ?`, tenantID).Scan(&at)
	if err != nil {
		return time.Time{}, translate(err, "get purge", onViolation{})
	}
	if at == nil {
		return time.Time{}, nil
	}
	return fromMicros(*at), nil
}

func (tx *Tx) purgeableEvents(ctx context.Context, tenantID string, cutoff time.Time, limit int) ([]any, error) {
	var ids []any
	err := tx.each(ctx, func(rows scanner) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, `SELECT e.id FROM trigger_events e
		WHERE e.tenant_id = ? AND e.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.tenant_id = e.tenant_id AND r.event_id = e.id AND r.status = 'active')
		AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = e.tenant_id AND m.event_id = e.id
			AND m.status IN `+inFlightMessage+`)
		ORDER BY e.created_at LIMIT ?`, tenantID, micros(cutoff), limit)
	if err != nil {
		return nil, translate(err, "choose events to purge", onViolation{})
	}
	return ids, nil
}

// rollUp adds the counts of the events ids (and of their duplicates, which
// the delete takes with them) to the rollups.
func (tx *Tx) rollUp(ctx context.Context, tenantID string, ids []any, res *PurgeResult) error {
	in := marks(len(ids))
	args := append([]any{tenantID}, ids...)
	slot := func(col string) string {
		return "(" + col + " - " + col + " % " + strconv.FormatInt(int64(RollupSlot/time.Microsecond), 10) + ")"
	}
	// Events: the batch and every duplicate pointing at it.
	events := `(e.id IN (` + in + `) OR e.duplicate_of IN (` + in + `))`
	eventArgs := append(append([]any{tenantID}, ids...), ids...)

	_, err := tx.exec(ctx, `INSERT INTO stats_message_rollups
			(tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id, messages)
		SELECT m.tenant_id, `+slot("m.created_at")+`, m.trigger, m.channel, m.status, m.reason, m.error_class,
			COALESCE(CAST(m.workflow_id AS TEXT), ''), COUNT(*)
		FROM messages m WHERE m.tenant_id = ? AND m.event_id IN (`+in+`)
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
		ON CONFLICT (tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id)
		DO UPDATE SET messages = stats_message_rollups.messages + excluded.messages`, args...)
	if err != nil {
		return translate(err, "roll up messages", onViolation{})
	}
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM messages m WHERE m.tenant_id = ? AND m.event_id IN (`+in+`)`, args...).
		Scan(&res.Messages); err != nil {
		return translate(err, "roll up messages", onViolation{})
	}

	if _, err := tx.exec(ctx, `INSERT INTO stats_attempt_rollups
			(tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id, provider, retry, attempts)
		SELECT a.tenant_id, `+slot("a.started_at")+`, m.trigger, m.channel, m.status, m.reason, a.error_class,
			COALESCE(CAST(m.workflow_id AS TEXT), ''), a.provider, CASE WHEN a.number > 1 THEN 1 ELSE 0 END, COUNT(*)
		FROM message_attempts a JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id
		WHERE a.tenant_id = ? AND m.event_id IN (`+in+`)
		GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
		ON CONFLICT (tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id, provider, retry)
		DO UPDATE SET attempts = stats_attempt_rollups.attempts + excluded.attempts`, args...); err != nil {
		return translate(err, "roll up attempts", onViolation{})
	}
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM message_attempts a JOIN messages m ON m.tenant_id = a.tenant_id AND m.id = a.message_id
		WHERE a.tenant_id = ? AND m.event_id IN (`+in+`)`, args...).Scan(&res.Attempts); err != nil {
		return translate(err, "roll up attempts", onViolation{})
	}

	if _, err := tx.exec(ctx, `INSERT INTO stats_decision_rollups (tenant_id, slot, trigger, outcome, reason, events)
		SELECT e.tenant_id, `+slot("e.created_at")+`, e.trigger, e.outcome, e.reason, COUNT(*)
		FROM trigger_events e WHERE e.tenant_id = ? AND `+events+`
		GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (tenant_id, slot, trigger, outcome, reason)
		DO UPDATE SET events = stats_decision_rollups.events + excluded.events`, eventArgs...); err != nil {
		return translate(err, "roll up decisions", onViolation{})
	}

	// A JSON null (no missing fields) would be one row of its own.
	fields := `json_each(CASE WHEN json_type(e.decision, '$.missing_fields') = 'array'
		THEN json_extract(e.decision, '$.missing_fields') ELSE '[]' END) AS f`
	if tx.db.dialect == DialectPostgres {
		fields = `LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.decision -> 'missing_fields') = 'array'
			THEN e.decision -> 'missing_fields' ELSE '[]'::jsonb END) AS f(value)`
	}
	if _, err := tx.exec(ctx, `INSERT INTO stats_missing_rollups (tenant_id, slot, trigger, field, events)
		SELECT e.tenant_id, `+slot("e.created_at")+`, e.trigger, f.value, COUNT(*)
		FROM trigger_events e CROSS JOIN `+fields+`
		WHERE e.tenant_id = ? AND e.id IN (`+in+`) AND e.duplicate = ?
		GROUP BY 1, 2, 3, 4
		ON CONFLICT (tenant_id, slot, trigger, field)
		DO UPDATE SET events = stats_missing_rollups.events + excluded.events`, append(args, false)...); err != nil {
		return translate(err, "roll up missing fields", onViolation{})
	}
	return nil
}

// marks is n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

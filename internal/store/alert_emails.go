package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Alert emails are an outbox of their own (migration 0012): the messages
// table is the leads' (lead_id NOT NULL, and its readers assume a lead and
// a trigger). A row is written in the transaction that opens the alerts it
// names and delivered by the alert job.

// Alert email statuses.
const (
	AlertEmailQueued  = "queued"
	AlertEmailSending = "sending"
	AlertEmailSent    = "sent"
	AlertEmailFailed  = "failed"
	AlertEmailUnknown = "unknown"
)

// AlertEmail is one email to a tenant's alert address.
type AlertEmail struct {
	ID, TenantID, To, Subject, Body string
	// Alerts is how many alerts it names.
	Alerts                                             int
	Status                                             string
	Attempts                                           int
	Provider, ErrorClass, LastError, ProviderMessageID string
	NextAt, CreatedAt, UpdatedAt                       time.Time
	SentAt                                             *time.Time
}

// listedAlertColumns are an alert's columns (as alertColumns, from alerts
// a) and its email's (alert_emails e, LEFT JOINed).
const listedAlertColumns = `a.id, a.tenant_id, a.kind, a.subject, a.state, a.lead_id, a.message_id, a.rule_id, a.provider,
	a.trigger, a.summary, a.action, a.figures, a.first_seen, a.last_seen, a.resolved_at, a.emailed_at, e.status`

func scanListedAlert(s scanner) (engine.Alert, error) {
	var a engine.Alert
	var lead, message, rule, provider, trigger, emailStatus sql.NullString
	var figures []byte
	var first, last int64
	var resolved, emailed sql.NullInt64
	if err := s.Scan(&a.ID, &a.TenantID, &a.Kind, &a.Subject, &a.State, &lead, &message, &rule, &provider, &trigger,
		&a.Summary, &a.Action, &figures, &first, &last, &resolved, &emailed, &emailStatus); err != nil {
		return a, err
	}
	a.LeadID, a.MessageID, a.RuleID, a.Provider, a.Trigger = lead.String, message.String, rule.String, provider.String, trigger.String
	a.FirstSeen, a.LastSeen, a.ResolvedAt = fromMicros(first), fromMicros(last), timePtr(resolved)
	a.EmailedAt, a.EmailStatus = timePtr(emailed), emailStatus.String
	return a, decodeJSON(figures, &a.Figures)
}

// AlertEmailedSince reports whether an alert of the tenant with kind and
// subject was named by an email queued at or after since.
func (tx *Tx) AlertEmailedSince(ctx context.Context, tenantID string, kind engine.AlertKind, subject string, since time.Time) (bool, error) {
	ok, err := tx.exists(ctx, `SELECT 1 FROM alerts WHERE tenant_id = ? AND kind = ? AND subject = ? AND emailed_at >= ? LIMIT 1`,
		tenantID, string(kind), subject, micros(since))
	return ok, translate(err, "alert emailed", onViolation{})
}

// QueueAlertEmail stores e, queued and due now, and marks the alerts
// alertIDs as named by it; it fills in e's ID, status and times.
func (tx *Tx) QueueAlertEmail(ctx context.Context, e *AlertEmail, alertIDs []string) error {
	id, err := newID()
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO alert_emails (id, tenant_id, recipient, subject, body, alert_count, status, next_at,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, e.TenantID, e.To, e.Subject, e.Body, e.Alerts, AlertEmailQueued, micros(tx.now), micros(tx.now), micros(tx.now)); err != nil {
		return translate(err, "queue alert email", onViolation{foreign: notFound("tenant")})
	}
	for len(alertIDs) > 0 {
		chunk := alertIDs[:min(len(alertIDs), 500)]
		alertIDs = alertIDs[len(chunk):]
		args := []any{id, micros(tx.now), e.TenantID}
		for _, a := range chunk {
			args = append(args, a)
		}
		if _, err := tx.exec(ctx, `UPDATE alerts SET email_id = ?, emailed_at = ? WHERE tenant_id = ? AND id IN (`+marks(len(chunk))+`)`,
			args...); err != nil {
			return translate(err, "mark alerts emailed", onViolation{})
		}
	}
	e.ID, e.Status, e.NextAt, e.CreatedAt, e.UpdatedAt = id, AlertEmailQueued, tx.now, tx.now, tx.now
	return nil
}

const alertEmailColumns = `id, tenant_id, recipient, subject, body, alert_count, status, attempts, provider, error_class,
	last_error, provider_message_id, next_at, sent_at, created_at, updated_at`

func scanAlertEmail(s scanner) (AlertEmail, error) {
	var e AlertEmail
	var providerID sql.NullString
	var next, created, updated int64
	var sent sql.NullInt64
	err := s.Scan(&e.ID, &e.TenantID, &e.To, &e.Subject, &e.Body, &e.Alerts, &e.Status, &e.Attempts, &e.Provider,
		&e.ErrorClass, &e.LastError, &providerID, &next, &sent, &created, &updated)
	e.ProviderMessageID, e.SentAt = providerID.String, timePtr(sent)
	e.NextAt, e.CreatedAt, e.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return e, err
}

// PendingAlertEmails reports whether the tenant has alert emails queued or
// being sent: one indexed read, so that an evaluation with nothing to send
// writes nothing.
func (db *DB) PendingAlertEmails(ctx context.Context, tenantID string) (bool, error) {
	ok, err := db.auto().exists(ctx, `SELECT 1 FROM alert_emails WHERE tenant_id = ? AND status IN (?, ?) LIMIT 1`,
		tenantID, AlertEmailQueued, AlertEmailSending)
	return ok, translate(err, "pending alert emails", onViolation{})
}

// ClaimAlertEmails claims up to limit of the tenant's queued alert emails
// that are due, oldest first: each becomes sending with one more attempt,
// and is returned for the caller to send and then record
// (RecordAlertEmail). Of two callers at once, each email goes to one: the
// update is conditional on the status, and on PostgreSQL each skips the
// rows the other holds. Emails left sending since before
// staleBefore (their process stopped mid-send) are settled as unknown
// first, never sent again.
func (db *DB) ClaimAlertEmails(ctx context.Context, tenantID string, staleBefore time.Time, limit int) ([]AlertEmail, error) {
	var out []AlertEmail
	err := db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE alert_emails SET status = ?, error_class = 'unknown',
			last_error = 'the process stopped while this email was being sent', updated_at = ?
			WHERE tenant_id = ? AND status = ? AND updated_at < ?`,
			AlertEmailUnknown, micros(tx.now), tenantID, AlertEmailSending, micros(staleBefore)); err != nil {
			return translate(err, "settle alert emails", onViolation{})
		}
		// On PostgreSQL a second caller skips the rows the first has
		// locked instead of waiting for them and finding them taken.
		skip := ""
		if tx.db.dialect == DialectPostgres {
			skip = ` FOR UPDATE SKIP LOCKED`
		}
		var err error
		out, err = collect(ctx, tx, scanAlertEmail, `UPDATE alert_emails SET status = ?, attempts = attempts + 1, updated_at = ?
			WHERE tenant_id = ? AND status = ? AND id IN (SELECT id FROM alert_emails WHERE tenant_id = ? AND status = ? AND next_at <= ?
				ORDER BY next_at, id LIMIT ?`+skip+`)
			RETURNING `+alertEmailColumns,
			AlertEmailSending, micros(tx.now), tenantID, AlertEmailQueued, tenantID, AlertEmailQueued, micros(tx.now), limit)
		return translate(err, "claim alert emails", onViolation{})
	})
	return out, err
}

// RecordAlertEmail stores the outcome of a claimed email's attempt: its
// status, provider, error and its class, provider message id, when it is
// due again (a queued email) and when it was sent.
func (db *DB) RecordAlertEmail(ctx context.Context, e *AlertEmail) error {
	return db.Tx(ctx, func(tx *Tx) error {
		err := tx.execOne(ctx, notFound("alert email"), `UPDATE alert_emails SET status = ?, provider = ?, error_class = ?,
			last_error = ?, provider_message_id = ?, next_at = ?, sent_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			e.Status, e.Provider, e.ErrorClass, e.LastError, nullString(e.ProviderMessageID), micros(e.NextAt),
			nullMicros(e.SentAt), micros(tx.now), e.TenantID, e.ID)
		if engine.IsNotFound(err) {
			return err
		}
		return translate(err, "record alert email", onViolation{})
	})
}

// ListAlertEmails returns the tenant's alert emails, oldest first, for
// tests and support.
func (db *DB) ListAlertEmails(ctx context.Context, tenantID string) ([]AlertEmail, error) {
	out, err := collect(ctx, db.auto(), scanAlertEmail, `SELECT `+alertEmailColumns+` FROM alert_emails WHERE tenant_id = ? ORDER BY id`, tenantID)
	return out, translate(err, "list alert emails", onViolation{})
}

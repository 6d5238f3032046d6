package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const messageColumns = `id, tenant_id, run_id, run_step_id, event_id, lead_id, quote_id, workflow_id, workflow_version,
	step_id, trigger, channel, provider, recipient, subject, body, html, template, status, attempts, last_error,
	error_class, reason, provider_message_id, fallback_of, scheduled_at, sent_at, delivered_at, read_at, created_at,
	updated_at`

func scanMessage(s scanner) (engine.Message, error) {
	var m engine.Message
	var runID, runStepID, eventID, quoteID, workflowID, stepID, html, providerMessageID, fallbackOf sql.NullString
	var workflowVersion, scheduled, sent, delivered, read sql.NullInt64
	var template []byte
	var created, updated int64
	if err := s.Scan(&m.ID, &m.TenantID, &runID, &runStepID, &eventID, &m.LeadID, &quoteID, &workflowID,
		&workflowVersion, &stepID, &m.Trigger, &m.Channel, &m.Provider, &m.To, &m.Subject, &m.Body, &html, &template,
		&m.Status, &m.Attempts, &m.LastError, &m.ErrorClass, &m.Reason, &providerMessageID, &fallbackOf,
		&scheduled, &sent, &delivered, &read, &created, &updated); err != nil {
		return m, err
	}
	m.RunID, m.RunStepID, m.EventID, m.QuoteID = runID.String, runStepID.String, eventID.String, quoteID.String
	m.WorkflowID, m.WorkflowVersion, m.StepID = workflowID.String, workflowVersion.Int64, stepID.String
	m.HTML, m.ProviderMessageID, m.FallbackOf = html.String, providerMessageID.String, fallbackOf.String
	if template != nil {
		m.Template = &engine.WhatsAppContent{}
		if err := decodeJSON(template, m.Template); err != nil {
			return m, err
		}
	}
	m.ScheduledAt, m.SentAt, m.DeliveredAt, m.ReadAt = timePtr(scheduled), timePtr(sent), timePtr(delivered), timePtr(read)
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return m, nil
}

// normMessageTimes normalises m's optional times as they will read back.
func normMessageTimes(m *engine.Message) {
	m.ScheduledAt, m.SentAt, m.DeliveredAt, m.ReadAt = normTime(m.ScheduledAt), normTime(m.SentAt), normTime(m.DeliveredAt), normTime(m.ReadAt)
}

// InsertMessage stores m and fills in its ID and times, and reports true.
// A run step writes one message per channel: if m's run step already has a
// message on m.Channel (a retried step job), nothing is written, the
// existing message is loaded into *m and InsertMessage reports false.
// Messages without a run step (legacy sends) never conflict. References
// (run, run step, event, lead, quote, FallbackOf) must be the tenant's, else
// EINVALID. Empty optional references, HTML and ProviderMessageID and a 0
// WorkflowVersion are stored as NULL; a nil Template is NULL.
func (tx *Tx) InsertMessage(ctx context.Context, m *engine.Message) (bool, error) {
	id, err := newID()
	if err != nil {
		return false, err
	}
	template, err := jsonPtr(m.Template)
	if err != nil {
		return false, err
	}
	c := *m
	normMessageTimes(&c)
	n, err := tx.batchCount(ctx, insertMessageStmt(&c, id, template, tx.now))
	if err != nil {
		return false, err
	}
	if n == 1 {
		c.ID, c.CreatedAt, c.UpdatedAt = id, tx.now, tx.now
		*m = c
		return true, nil
	}
	existing, err := scanMessage(tx.queryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = ? AND run_step_id = ? AND channel = ?`, m.TenantID, m.RunStepID, m.Channel))
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound("run step")
	}
	if err != nil {
		return false, translate(err, "get message", onViolation{})
	}
	*m = existing
	return false, nil
}

// insertMessageStmt is the insert of message c under id, which does
// nothing when c's run step already has a message on c's channel.
// event_at copies the trigger event's created_at, which the event -> sent
// latency ranks against: without it those statistics joined a week of
// messages to the tenant's events (docs/ops/observability.md).
func insertMessageStmt(c *engine.Message, id string, template any, now time.Time) stmt {
	return stmt{
		query: `INSERT INTO messages (` + messageColumns + `, event_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT e.created_at FROM trigger_events e WHERE e.tenant_id = ? AND e.id = ?))
		ON CONFLICT (run_step_id, channel) DO NOTHING`,
		args: []any{id, c.TenantID, nullString(c.RunID), nullString(c.RunStepID), nullString(c.EventID), c.LeadID,
			nullString(c.QuoteID), nullString(c.WorkflowID), nullInt(c.WorkflowVersion), nullString(c.StepID),
			string(c.Trigger), c.Channel, c.Provider, c.To, c.Subject, c.Body, nullString(c.HTML), template,
			string(c.Status), c.Attempts, c.LastError, c.ErrorClass, c.Reason, nullString(c.ProviderMessageID),
			nullString(c.FallbackOf), nullMicros(c.ScheduledAt), nullMicros(c.SentAt), nullMicros(c.DeliveredAt),
			nullMicros(c.ReadAt), micros(now), micros(now), c.TenantID, nullString(c.EventID)},
		what: "insert message",
	}
}

// GetMessage returns the tenant's message with id.
func (db *DB) GetMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return db.auto().GetMessage(ctx, tenantID, id)
}

// GetMessage is DB.GetMessage in tx.
func (tx *Tx) GetMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return tx.getMessage(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
}

// GetMessageForUpdate is GetMessage with a row lock on PostgreSQL (SELECT …
// FOR UPDATE) until the transaction ends, so that two workers, a webhook and
// an admin's retry or cancel change one message one after the other, each
// seeing what the one before wrote. Use it in DB.Tx, not in DB.ReadTx.
func (tx *Tx) GetMessageForUpdate(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return tx.getMessage(ctx, `tenant_id = ? AND id = ?`+tx.forUpdate(), tenantID, id)
}

// FindMessageByProviderID returns the tenant's message that the provider
// knows as providerMessageID (the first, should there be several);
// ENOTFOUND if none.
func (tx *Tx) FindMessageByProviderID(ctx context.Context, tenantID, providerMessageID string) (*engine.Message, error) {
	if providerMessageID == "" {
		return nil, notFound("message")
	}
	return tx.getMessage(ctx, `tenant_id = ? AND provider_message_id = ? ORDER BY id LIMIT 1`, tenantID, providerMessageID)
}

func (tx *Tx) getMessage(ctx context.Context, where string, args ...any) (*engine.Message, error) {
	m, err := scanMessage(tx.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("message")
	}
	if err != nil {
		return nil, translate(err, "get message", onViolation{})
	}
	return &m, nil
}

// UpdateMessage stores every mutable field of m: provider, recipient,
// content (subject, body, HTML, template), status, attempts, last error and
// its class, reason, provider message id and the times (scheduled, sent,
// delivered, read); it sets UpdatedAt. What the message came from (tenant,
// run, run step, event, lead, quote, workflow, step, trigger, channel,
// FallbackOf) and CreatedAt do not change.
func (tx *Tx) UpdateMessage(ctx context.Context, m *engine.Message) error {
	template, err := jsonPtr(m.Template)
	if err != nil {
		return err
	}
	c := *m
	normMessageTimes(&c)
	var created int64
	s := updateMessageStmt(&c, template, tx.now)
	s.query += ` RETURNING created_at`
	found, err := tx.batchRow(ctx, s, &created)
	if err != nil {
		return err
	}
	if !found {
		return notFound("message")
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), tx.now
	*m = c
	return nil
}

// updateMessageStmt writes every mutable field of c (see UpdateMessage).
func updateMessageStmt(c *engine.Message, template any, now time.Time) stmt {
	return stmt{
		query: `UPDATE messages SET provider = ?, recipient = ?, subject = ?, body = ?, html = ?, template = ?,
		status = ?, attempts = ?, last_error = ?, error_class = ?, reason = ?, provider_message_id = ?,
		scheduled_at = ?, sent_at = ?, delivered_at = ?, read_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		args: []any{c.Provider, c.To, c.Subject, c.Body, nullString(c.HTML), template, string(c.Status), c.Attempts, c.LastError,
			c.ErrorClass, c.Reason, nullString(c.ProviderMessageID), nullMicros(c.ScheduledAt), nullMicros(c.SentAt),
			nullMicros(c.DeliveredAt), nullMicros(c.ReadAt), micros(now), c.TenantID, c.ID},
		what: "update message",
	}
}

// CancelRunMessages cancels the run's messages that are not yet being sent
// (scheduled or queued) with reason, and returns their ids in order.
// Messages already sending, sent or otherwise settled keep their status.
func (tx *Tx) CancelRunMessages(ctx context.Context, tenantID, runID, reason string) ([]string, error) {
	ids, err := collect(ctx, tx, scanString, `UPDATE messages SET status = ?, reason = ?, updated_at = ?
		WHERE tenant_id = ? AND run_id = ? AND status IN (?, ?) RETURNING id`,
		string(engine.MsgCancelled), reason, micros(tx.now), tenantID, runID,
		string(engine.MsgScheduled), string(engine.MsgQueued))
	if err != nil {
		return nil, translate(err, "cancel run messages", onViolation{})
	}
	slices.Sort(ids)
	return ids, nil
}

// ListMessages returns a page of the tenant's messages that match f, in
// creation order (created_at, then id; newest first when f.NewestFirst),
// and the position of the next page.
func (db *DB) ListMessages(ctx context.Context, tenantID string, f engine.MessageFilter, p engine.Page) ([]engine.Message, string, error) {
	return db.auto().ListMessages(ctx, tenantID, f, p)
}

// ListMessages is DB.ListMessages in tx.
//
// The list is ordered by (created_at, id) rather than by id alone so that
// every filter has an index that starts at the window and walks it in
// list order (messages_stats, messages_status, messages_lead,
// messages_quote all have created_at, id): ordered by id, a filtered
// page of a busy tenant made PostgreSQL walk the tenant's messages from
// the first one (docs/ops/observability.md).
func (tx *Tx) ListMessages(ctx context.Context, tenantID string, f engine.MessageFilter, p engine.Page) ([]engine.Message, string, error) {
	w := newWhere(tenantID)
	w.eq("status", string(f.Status))
	w.eq("channel", f.Channel)
	w.eq("trigger", string(f.Trigger))
	w.eq("lead_id", f.LeadID)
	w.eq("quote_id", f.QuoteID)
	w.eq("run_id", f.RunID)
	w.eq("event_id", f.EventID)
	w.between("created_at", f.From, f.To)
	cmp, order := ">", "created_at, id"
	if f.NewestFirst {
		cmp, order = "<", "created_at DESC, id DESC"
	}
	msgs, next, err := paginate(p, messagePosition, func(after string, limit int) ([]engine.Message, error) {
		sql, args := w.sql, w.args
		if after != "" {
			created, id, err := tx.messageAfter(ctx, tenantID, after)
			if err != nil {
				return nil, err
			}
			sql += ` AND (created_at, id) ` + cmp + ` (?, ?)`
			args = append(slices.Clip(args), created, id)
		}
		return collect(ctx, tx, scanMessage, `SELECT `+messageColumns+` FROM messages WHERE `+sql+` ORDER BY `+order+` LIMIT ?`,
			append(slices.Clip(args), limit)...)
	})
	return msgs, next, translate(err, "list messages", onViolation{})
}

// messagePosition is a message's place in the list: its created_at in
// microseconds and its id, "<micros>.<id>".
func messagePosition(m *engine.Message) string {
	return strconv.FormatInt(micros(m.CreatedAt), 10) + "." + m.ID
}

// messageAfter reads a position messagePosition made. A bare id is the
// position servers before the (created_at, id) order gave; its created_at
// is looked up, and a message since deleted is an invalid cursor rather
// than a silent restart from the beginning.
func (tx *Tx) messageAfter(ctx context.Context, tenantID, pos string) (int64, string, error) {
	if t, id, ok := strings.Cut(pos, "."); ok {
		created, err := strconv.ParseInt(t, 10, 64)
		if err == nil && id != "" {
			return created, id, nil
		}
	}
	var created int64
	err := tx.queryRow(ctx, `SELECT created_at FROM messages WHERE tenant_id = ? AND id = ?`, tenantID, pos).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", engine.Invalid("query.cursor", "the page this cursor continues no longer exists: start from the first page")
	}
	if err != nil {
		return 0, "", err
	}
	return created, pos, nil
}

const attemptColumns = `id, tenant_id, message_id, number, provider, started_at, finished_at, outcome, error, error_class,
	provider_message_id, retry_at`

func scanAttempt(s scanner) (engine.Attempt, error) {
	var a engine.Attempt
	var started int64
	var finished, retryAt sql.NullInt64
	var providerMessageID sql.NullString
	if err := s.Scan(&a.ID, &a.TenantID, &a.MessageID, &a.Number, &a.Provider, &started, &finished, &a.Outcome,
		&a.Error, &a.ErrorClass, &providerMessageID, &retryAt); err != nil {
		return a, err
	}
	a.StartedAt, a.FinishedAt, a.RetryAt = fromMicros(started), timePtr(finished), timePtr(retryAt)
	a.ProviderMessageID = providerMessageID.String
	return a, nil
}

// InsertAttempt stores a and fills in its ID, and its StartedAt from the
// transaction's clock when it is zero. The message must be the tenant's
// (else ENOTFOUND); a Number the message already has is ECONFLICT.
func (tx *Tx) InsertAttempt(ctx context.Context, a *engine.Attempt) error {
	s, err := tx.insertAttempt(a)
	if err != nil {
		return err
	}
	if err := tx.batch(ctx, s); err != nil {
		a.ID = ""
		return err
	}
	return nil
}

// insertAttempt is InsertAttempt's statement; it sets a's ID and times.
func (tx *Tx) insertAttempt(a *engine.Attempt) (stmt, error) {
	id, err := newID()
	if err != nil {
		return stmt{}, err
	}
	started := normZero(a.StartedAt)
	if started.IsZero() {
		started = tx.now
	}
	finished, retryAt := normTime(a.FinishedAt), normTime(a.RetryAt)
	a.ID, a.StartedAt, a.FinishedAt, a.RetryAt = id, started, finished, retryAt
	return stmt{
		query: `INSERT INTO message_attempts (` + attemptColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{id, a.TenantID, a.MessageID, a.Number, a.Provider, micros(started), nullMicros(finished), a.Outcome, a.Error,
			a.ErrorClass, nullString(a.ProviderMessageID), nullMicros(retryAt)},
		what: "insert attempt",
		on: onViolation{
			unique:  engine.Errorf(engine.ECONFLICT, "message has an attempt number %d", a.Number),
			foreign: notFound("message"),
		},
	}, nil
}

// UpdateAttempt stores a's provider, finished time, outcome, error and its
// class, provider message id and retry time, and loads the stored StartedAt
// into a. Its message, number and start do not change.
func (tx *Tx) UpdateAttempt(ctx context.Context, a *engine.Attempt) error {
	c := *a
	c.FinishedAt, c.RetryAt = normTime(c.FinishedAt), normTime(c.RetryAt)
	var started int64
	s := updateAttemptStmt(&c)
	s.query += ` RETURNING started_at`
	found, err := tx.batchRow(ctx, s, &started)
	if err != nil {
		return err
	}
	if !found {
		return notFound("attempt")
	}
	a.StartedAt, a.FinishedAt, a.RetryAt = fromMicros(started), c.FinishedAt, c.RetryAt
	return nil
}

// updateAttemptStmt writes a's outcome (see UpdateAttempt).
func updateAttemptStmt(a *engine.Attempt) stmt {
	return stmt{
		query: `UPDATE message_attempts SET provider = ?, finished_at = ?, outcome = ?, error = ?,
		error_class = ?, provider_message_id = ?, retry_at = ? WHERE tenant_id = ? AND id = ?`,
		args: []any{a.Provider, nullMicros(a.FinishedAt), a.Outcome, a.Error, a.ErrorClass, nullString(a.ProviderMessageID),
			nullMicros(a.RetryAt), a.TenantID, a.ID},
		what: "update attempt",
	}
}

// GetAttempt returns the tenant's attempt with id: provider webhooks carry
// attempt ids (WhatsApp's biz_opaque_callback_data).
func (tx *Tx) GetAttempt(ctx context.Context, tenantID, id string) (*engine.Attempt, error) {
	a, err := scanAttempt(tx.queryRow(ctx, `SELECT `+attemptColumns+` FROM message_attempts WHERE tenant_id = ? AND id = ?`,
		tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("attempt")
	}
	if err != nil {
		return nil, translate(err, "get attempt", onViolation{})
	}
	return &a, nil
}

// ListAttempts returns the message's attempts by number.
func (db *DB) ListAttempts(ctx context.Context, tenantID, messageID string) ([]engine.Attempt, error) {
	return db.auto().ListAttempts(ctx, tenantID, messageID)
}

// ListAttempts is DB.ListAttempts in tx.
func (tx *Tx) ListAttempts(ctx context.Context, tenantID, messageID string) ([]engine.Attempt, error) {
	as, err := collect(ctx, tx, scanAttempt, `SELECT `+attemptColumns+` FROM message_attempts
		WHERE tenant_id = ? AND message_id = ? ORDER BY number, id`, tenantID, messageID)
	return as, translate(err, "list attempts", onViolation{})
}

const receiptColumns = `id, tenant_id, message_id, provider_message_id, status, provider_timestamp, error_code, error_class,
	payload, received_at`

func scanReceipt(s scanner) (engine.Receipt, error) {
	var r engine.Receipt
	var messageID sql.NullString
	var providerTS sql.NullInt64
	var payload []byte
	var received int64
	if err := s.Scan(&r.ID, &r.TenantID, &messageID, &r.ProviderMessageID, &r.Status, &providerTS, &r.ErrorCode,
		&r.ErrorClass, &payload, &received); err != nil {
		return r, err
	}
	r.MessageID, r.ProviderTimestamp, r.ReceivedAt = messageID.String, zeroTime(providerTS), fromMicros(received)
	var err error
	r.Payload, err = rawJSON(payload)
	return r, err
}

// InsertReceipt stores r and fills in its ID, and its ReceivedAt from the
// transaction's clock when it is zero. An empty MessageID (no message
// matched) and a zero ProviderTimestamp are stored as NULL. A MessageID must
// be the tenant's (else ENOTFOUND). A receipt already stored (the same
// provider message, status and provider time: a replayed webhook) is not
// stored again and r is left as it was, its ID empty.
func (tx *Tx) InsertReceipt(ctx context.Context, r *engine.Receipt) error {
	id, err := newID()
	if err != nil {
		return err
	}
	payload, err := rawJSONValue(r.Payload, "payload")
	if err != nil {
		return err
	}
	received := normZero(r.ReceivedAt)
	if received.IsZero() {
		received = tx.now
	}
	providerTS := normZero(r.ProviderTimestamp)
	res, err := tx.exec(ctx, `INSERT INTO receipts (`+receiptColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		id, r.TenantID, nullString(r.MessageID), r.ProviderMessageID, r.Status, nullZeroTime(providerTS), r.ErrorCode,
		r.ErrorClass, payload, micros(received))
	if err != nil {
		return translate(err, "insert receipt", onViolation{foreign: notFound("message")})
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return translate(err, "insert receipt", onViolation{})
	}
	r.ID, r.ProviderTimestamp, r.ReceivedAt = id, providerTS, received
	return nil
}

// ListReceipts returns the message's receipts in the order the provider
// reports them happening: by provider timestamp (a receipt without one
// counts as happening when it was received), then by received_at, then id.
func (db *DB) ListReceipts(ctx context.Context, tenantID, messageID string) ([]engine.Receipt, error) {
	return db.auto().ListReceipts(ctx, tenantID, messageID)
}

// ListReceipts is DB.ListReceipts in tx.
func (tx *Tx) ListReceipts(ctx context.Context, tenantID, messageID string) ([]engine.Receipt, error) {
	rs, err := collect(ctx, tx, scanReceipt, `SELECT `+receiptColumns+` FROM receipts
		WHERE tenant_id = ? AND message_id = ?
		ORDER BY COALESCE(provider_timestamp, received_at), received_at, id`, tenantID, messageID)
	return rs, translate(err, "list receipts", onViolation{})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// A step job and a delivery's outcome are the other two transactions of
// every message (the quote action is the first: actions.go). Like the
// action, each reads what it needs in one batch and queues the writes
// whose results nothing reads before the commit; see pipeline.go.

// RunState is what a step job reads before it runs a step: the run, its
// tenant, lead and quote as they are now, and the tenant's open circuits.
type RunState struct {
	Run    *engine.Run
	Tenant *engine.Tenant
	Lead   *engine.Lead
	// Quote is nil for a run of no quote.
	Quote *engine.Quote
	// Circuits are the tenant's open circuits, one per provider at most.
	Circuits []engine.Circuit
}

// Circuit returns the open circuit of provider among s.Circuits, or nil.
func (s *RunState) Circuit(provider string) *engine.Circuit {
	for i := range s.Circuits {
		if s.Circuits[i].Provider == provider {
			return &s.Circuits[i]
		}
	}
	return nil
}

// LoadRun reads the tenant's run and what its step needs (RunState) in one
// round trip on PostgreSQL. An unknown run is ENOTFOUND.
func (tx *Tx) LoadRun(ctx context.Context, tenantID, runID string) (*RunState, error) {
	st := &RunState{}
	var run engine.Run
	tenant := tx.readTenant(tenantID)
	var lead engine.Lead
	var quote engine.Quote
	var haveRun, haveLead, haveQuote bool
	err := tx.batch(ctx,
		stmt{query: `SELECT ` + runColumns + ` FROM runs WHERE tenant_id = ? AND id = ?`, args: []any{tenantID, runID},
			what: "get run", row: flagged(&haveRun, func(s scanner) (err error) { run, err = scanRun(s); return err })},
		tenant.stmt(),
		stmt{query: `SELECT ` + leadColumns + ` FROM leads WHERE tenant_id = ? AND id = (SELECT lead_id FROM runs WHERE tenant_id = ? AND id = ?)`,
			args: []any{tenantID, tenantID, runID}, what: "get lead",
			row: flagged(&haveLead, func(s scanner) (err error) { lead, err = scanLead(s); return err })},
		stmt{query: `SELECT ` + quoteColumns + ` FROM quotes WHERE tenant_id = ? AND id = (SELECT quote_id FROM runs WHERE tenant_id = ? AND id = ?)`,
			args: []any{tenantID, tenantID, runID}, what: "get quote",
			row: flagged(&haveQuote, func(s scanner) (err error) { quote, err = scanQuote(s); return err })},
		stmt{query: `SELECT ` + circuitColumns + ` FROM circuits WHERE tenant_id = ? AND ` + openCircuits,
			args: []any{tenantID}, what: "list circuits",
			row: func(s scanner) error {
				c, err := scanCircuit(s)
				st.Circuits = append(st.Circuits, c)
				return err
			}},
	)
	if err != nil {
		return nil, err
	}
	if !haveRun {
		return nil, notFound("run")
	}
	t, err := tenant.result()
	if err != nil {
		return nil, err
	}
	if t == nil || !haveLead || (run.QuoteID != "" && !haveQuote) {
		// The foreign keys forbid it: deleting a lead deletes its runs.
		return nil, errors.New("store: run " + runID + " has no tenant, lead or quote")
	}
	st.Run, st.Tenant, st.Lead = &run, t, &lead
	if haveQuote {
		st.Quote = &quote
	}
	return st, nil
}

// ErrRunStepExists is the error of a transaction whose QueueNewRunStep
// found the run's step already written: an earlier try of the step's job
// wrote it. The caller runs the step again with InsertRunStep, which reads
// what that try did.
var ErrRunStepExists = errors.New("store: the run step was written by an earlier try")

// QueueNewRunStep is InsertRunStep for the common case, a step written for
// the first time: the insert goes with the transaction's next statements,
// s's ID and times are set at once, and if the run already has the step
// the transaction fails with ErrRunStepExists, writing nothing.
func (tx *Tx) QueueNewRunStep(ctx context.Context, s *engine.RunStep) error {
	id, err := newID()
	if err != nil {
		return err
	}
	ins := insertRunStepStmt(s, id, tx.now)
	ins.touch = ErrRunStepExists
	return tx.later(ctx, ins)
}

// QueueNewMessage is InsertMessage for a message that cannot exist yet,
// because its run step was created in this transaction: the insert goes
// with the transaction's next statements, m's ID and times are set at
// once, and a message found there after all fails the transaction.
func (tx *Tx) QueueNewMessage(ctx context.Context, m *engine.Message) error {
	id, err := newID()
	if err != nil {
		return err
	}
	template, err := jsonPtr(m.Template)
	if err != nil {
		return err
	}
	c := *m
	normMessageTimes(&c)
	c.ID, c.CreatedAt, c.UpdatedAt = id, tx.now, tx.now
	*m = c
	s := insertMessageStmt(&c, id, template, tx.now)
	s.touch = errors.New("store: run step " + c.RunStepID + " already has a " + c.Channel + " message")
	return tx.later(ctx, s)
}

// QueueAttempt is InsertAttempt whose insert goes with the transaction's
// next statements; a's ID and StartedAt are set at once.
func (tx *Tx) QueueAttempt(ctx context.Context, a *engine.Attempt) error {
	s, err := tx.insertAttempt(a)
	if err != nil {
		return err
	}
	return tx.later(ctx, s)
}

// QueueUpdateAttempt is UpdateAttempt for an attempt whose StartedAt the
// caller holds (it made or read the attempt): the update goes with the
// transaction's next statements, and an attempt not found fails the
// transaction with ENOTFOUND.
func (tx *Tx) QueueUpdateAttempt(ctx context.Context, a *engine.Attempt) error {
	a.FinishedAt, a.RetryAt = normTime(a.FinishedAt), normTime(a.RetryAt)
	s := updateAttemptStmt(a)
	s.touch = notFound("attempt")
	return tx.later(ctx, s)
}

// QueueUpdateMessage is UpdateMessage for a message the caller read in this
// transaction (its CreatedAt is known): the update goes with the
// transaction's next statements, and a message not found fails the
// transaction with ENOTFOUND.
func (tx *Tx) QueueUpdateMessage(ctx context.Context, m *engine.Message) error {
	template, err := jsonPtr(m.Template)
	if err != nil {
		return err
	}
	normMessageTimes(m)
	m.UpdatedAt = tx.now
	s := updateMessageStmt(m, template, tx.now)
	s.touch = notFound("message")
	return tx.later(ctx, s)
}

// QueueFinishRun is FinishRun for a run this transaction read as active,
// whose outcome it does not need: a run that is no longer active is left
// alone, as FinishRun leaves it.
func (tx *Tx) QueueFinishRun(ctx context.Context, tenantID, id string, status engine.RunStatus, reason string) error {
	return tx.later(ctx, finishRunStmt(tenantID, id, status, reason, tx.now))
}

// ErrMessageMoved is the error of a transaction whose QueueMessageSent
// found the message no longer sending the attempt that claimed it: a
// receipt, or another process, changed it meanwhile. The transaction
// wrote nothing; the caller records the outcome again the long way
// (LockMessageForOutcome), which reads what changed.
var ErrMessageMoved = errors.New("store: the message changed after its attempt claimed it")

// QueueMessageSent records that the provider accepted attempt att of m,
// which this process claimed (status sending, att.Number its attempts):
// the attempt's outcome, and the message sent with the provider's id,
// its errors cleared, in writes that go with the transaction's commit and
// read nothing first. It is the outcome of nearly every message, and the
// read it saves (the message locked and read whole, its own round trip)
// was a fifth of a message's round trips. If the message is no longer so,
// the transaction fails with ErrMessageMoved and writes nothing.
//
// *eventAt is set, once the writes have run, to when the message's
// trigger event happened (zero for a message of no event), for the
// event → sent histogram. m and att are set as the writes leave them,
// at once, whether or not the transaction then commits.
func (tx *Tx) QueueMessageSent(ctx context.Context, m *engine.Message, att *engine.Attempt, providerID string, eventAt *time.Time) error {
	now := tx.now
	att.Outcome, att.ProviderMessageID, att.FinishedAt = "sent", providerID, &now
	if err := tx.QueueUpdateAttempt(ctx, att); err != nil {
		return err
	}
	m.Status, m.ProviderMessageID, m.SentAt, m.UpdatedAt = engine.MsgSent, providerID, &now, now
	m.LastError, m.ErrorClass, m.Reason = "", "", ""
	q := `UPDATE messages SET status = ?, provider_message_id = ?, sent_at = ?, last_error = '', error_class = '',
		reason = '', updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ? AND attempts = ?`
	if tx.db.dialect == DialectPostgres {
		// The server raises the check (stmt.touch), so that the COMMIT
		// sent after it does not run.
		q = `WITH touched AS (` + q + ` RETURNING event_at) SELECT max(event_at), 1 / count(*) FROM touched`
	} else {
		q += ` RETURNING event_at, 1`
	}
	return tx.later(ctx, stmt{query: q,
		args: []any{string(engine.MsgSent), nullString(providerID), micros(now), micros(now), m.TenantID, m.ID,
			string(engine.MsgSending), att.Number},
		what: "update message", touch: ErrMessageMoved,
		row: func(s scanner) error {
			var at sql.NullInt64
			var one int64
			if err := s.Scan(&at, &one); err != nil {
				return err
			}
			*eventAt = time.Time{}
			if at.Valid {
				*eventAt = fromMicros(at.Int64)
			}
			return nil
		}})
}

// LockMessageForOutcome is GetMessageForUpdate that also returns when the
// message's trigger event happened (zero for a message of no event), which
// the event-to-sent latency is observed against.
func (tx *Tx) LockMessageForOutcome(ctx context.Context, tenantID, id string) (*engine.Message, time.Time, error) {
	var eventAt sql.NullInt64
	m, err := scanMessage(scanTail{tx.queryRow(ctx, `SELECT `+messageColumns+`, event_at FROM messages
		WHERE tenant_id = ? AND id = ?`+tx.forUpdate(), tenantID, id), []any{&eventAt}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, notFound("message")
	}
	if err != nil {
		return nil, time.Time{}, translate(err, "get message", onViolation{})
	}
	var at time.Time
	if eventAt.Valid {
		at = fromMicros(eventAt.Int64)
	}
	return &m, at, nil
}

// scanTail is a scanner whose row has columns after those its scan
// function reads: they go to tail.
type scanTail struct {
	s    scanner
	tail []any
}

// Scan scans dest and then the tail.
func (t scanTail) Scan(dest ...any) error { return t.s.Scan(append(dest, t.tail...)...) }

package app

import (
	"context"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// CircuitOpenFor is how long a tenant-class error first stops a tenant's
// sends through a provider before one message probes it again (the default
// of CircuitPolicy.TenantOpenFor).
const CircuitOpenFor = 15 * time.Minute

// SendTimeout bounds one provider call.
const SendTimeout = 60 * time.Second

// delivery is a claimed delivery attempt: the message is marked sending and
// the attempt is recorded before the provider is called, so that a crash
// during the call leaves a trace that stops a blind resend.
type delivery struct {
	Tenant  *engine.Tenant
	Message *engine.Message
	Attempt *engine.Attempt
	// Unsubscribe is the List-Unsubscribe target of an email: the one-click
	// https URL or a mailto (ListUnsubscribe).
	Unsubscribe string
	// EventAt is when the message's trigger event happened, read when the
	// attempt sent it, for the event → sent histogram.
	EventAt time.Time
	// Probe is whether this attempt is the probe of a half-open circuit,
	// whose outcome closes or re-opens it (circuits.go).
	Probe bool
	// circuit is what the outcome did to the circuit, logged after the
	// commit.
	circuit *circuitNote
}

// beginDelivery claims a message for one attempt in tx. It returns nil when
// there is nothing to send: the message was cancelled, delivered, is
// waiting on an open circuit (rescheduled), or was left sending by a process
// that died mid-send (settled as unknown).
func (a *App) beginDelivery(ctx context.Context, tx *store.Tx, tenantID, messageID string) (*delivery, error) {
	m, err := tx.GetMessageForUpdate(ctx, tenantID, messageID)
	if engine.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := tx.Now()
	switch m.Status {
	case engine.MsgQueued, engine.MsgScheduled:
	case engine.MsgSending:
		return nil, a.settleInterrupted(ctx, tx, m, now)
	default:
		return nil, nil
	}
	if shut, err := a.windowShut(ctx, tx, m); shut || err != nil {
		return nil, err
	}
	tenant, err := tx.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	g, err := a.circuitGate(ctx, tx, m)
	if err != nil {
		return nil, err
	}
	if g.blocked {
		// No attempt: the circuit holds back the tenant's sends together.
		m.Status, m.Reason, m.ScheduledAt = engine.MsgScheduled, "circuit_open", &g.wait
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return nil, err
		}
		return nil, a.jobs.EnqueueDeliveryTx(ctx, tx, tenantID, m.ID, g.wait)
	}
	m.Status, m.Attempts = engine.MsgSending, m.Attempts+1
	if err := tx.UpdateMessage(ctx, m); err != nil {
		return nil, err
	}
	var q *engine.Quote
	if m.Channel == engine.ChannelEmail && m.QuoteID != "" {
		if q, err = tx.GetQuote(ctx, tenantID, m.QuoteID); err != nil {
			return nil, err
		}
	}
	d, err := a.claimed(ctx, tx, tenant, m, q)
	if d != nil {
		d.Probe = g.probe
	}
	return d, err
}

// claimed records the attempt of a message just marked sending and returns
// the delivery to make; q, the message's quote, gives an email its
// unsubscribe link.
func (a *App) claimed(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, m *engine.Message, q *engine.Quote) (*delivery, error) {
	att := &engine.Attempt{TenantID: m.TenantID, MessageID: m.ID, Number: m.Attempts, Provider: m.Provider, StartedAt: tx.Now()}
	if err := tx.QueueAttempt(ctx, att); err != nil {
		return nil, err
	}
	d := &delivery{Tenant: tenant, Message: m, Attempt: att}
	if m.Channel == engine.ChannelEmail && q != nil {
		d.Unsubscribe = a.ListUnsubscribe(tenant, q)
	}
	return d, nil
}

// settleInterrupted handles a message found sending: the process that
// claimed it stopped before recording the outcome. The provider may or may
// not have it, so the message becomes unknown; a receipt or an admin's
// retry settles it, never a blind resend.
func (a *App) settleInterrupted(ctx context.Context, tx *store.Tx, m *engine.Message, now time.Time) error {
	atts, err := tx.ListAttempts(ctx, m.TenantID, m.ID)
	if err != nil {
		return err
	}
	if n := len(atts); n > 0 && atts[n-1].FinishedAt == nil {
		last := &atts[n-1]
		last.FinishedAt, last.Outcome, last.ErrorClass = &now, "unknown", string(channel.Unknown)
		last.Error = "the process stopped while this attempt was in flight"
		if err := tx.UpdateAttempt(ctx, last); err != nil {
			return err
		}
	}
	m.Status, m.ErrorClass, m.Reason = engine.MsgUnknown, string(channel.Unknown), "interrupted"
	m.LastError = "the process stopped while the message was being sent"
	return tx.UpdateMessage(ctx, m)
}

// send calls the provider for a claimed delivery. It runs outside any
// transaction: a slow provider must not hold database locks.
func (a *App) send(ctx context.Context, d *delivery) (channel.Result, error) {
	sender, _, err := a.Senders.For(d.Tenant, d.Message.Channel)
	if err != nil {
		return channel.Result{}, &channel.Error{Class: channel.Tenant, Code: "config", Message: err.Error(), Err: err}
	}
	m := d.Message
	msg := &channel.Message{MessageID: m.ID, AttemptID: d.Attempt.ID, TenantID: m.TenantID, To: m.To}
	switch m.Channel {
	case engine.ChannelEmail:
		from := ""
		if e := d.Tenant.Channels.Email; e != nil {
			from = e.From
		}
		msg.Email = &channel.Email{From: from, Subject: m.Subject, Text: m.Body, HTML: m.HTML, ListUnsubscribe: d.Unsubscribe}
	case engine.ChannelWhatsApp:
		switch {
		case m.Template != nil:
			msg.WhatsApp = &channel.WhatsAppTemplate{Name: m.Template.Template, Language: m.Template.Language, Parameters: m.Template.Parameters}
		case m.Body != "":
			msg.WhatsAppText = m.Body // free-form, inside the customer-service window
		default:
			return channel.Result{}, &channel.Error{Class: channel.Request, Code: "no_template", Message: "the message has no template"}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	return sender.Send(ctx, msg)
}

// recordOutcome records the outcome of an attempt in tx: sent, retried
// later with backoff, failed (with the email fallback for a WhatsApp
// recipient error), unknown, or a tenant error that opens the circuit; then
// what it means for the provider's circuit (circuitOutcome).
func (a *App) recordOutcome(ctx context.Context, tx *store.Tx, d *delivery, res channel.Result, sendErr error) error {
	m, eventAt, err := tx.LockMessageForOutcome(ctx, d.Message.TenantID, d.Message.ID)
	if err != nil {
		return err
	}
	now := tx.Now()
	att := d.Attempt
	att.FinishedAt = &now
	if sendErr == nil {
		att.Outcome, att.ProviderMessageID = "sent", res.ProviderMessageID
		m.ProviderMessageID, m.SentAt = res.ProviderMessageID, &now
		// A receipt may have overtaken us and moved the message further.
		if m.Status == engine.MsgSending {
			m.Status = engine.MsgSent
		}
		m.LastError, m.ErrorClass, m.Reason = "", "", ""
		// Only a histogram needs it: a message of no event costs the
		// observation, never the recorded send.
		d.EventAt = eventAt
		if err := a.saveDelivery(ctx, tx, m, att); err != nil {
			return err
		}
		return a.circuitOutcome(ctx, tx, d, m, "", "", "")
	}
	class := channel.ClassOf(sendErr)
	var ce *channel.Error
	var retryAfter time.Duration
	code := ""
	if errors.As(sendErr, &ce) {
		retryAfter, code = ce.RetryAfter, ce.Code
	}
	att.Error, att.ErrorClass = sendErr.Error(), string(class)
	m.LastError, m.ErrorClass = sendErr.Error(), string(class)
	if m.Status != engine.MsgSending {
		// Settled by a receipt meanwhile; the answer still tells about the
		// provider.
		if err := a.saveDelivery(ctx, tx, m, att); err != nil {
			return err
		}
		return a.circuitOutcome(ctx, tx, d, m, class, code, sendErr.Error())
	}
	switch class {
	case channel.Transient:
		policy := a.retry[m.Channel]
		if delay, ok := policy.Next(m.Attempts, retryAfter, a.Rand()); ok {
			at := now.Add(delay)
			att.Outcome, att.RetryAt = "retry", &at
			m.Status, m.Reason, m.ScheduledAt = engine.MsgScheduled, "retry", &at
			if err := a.jobs.EnqueueDeliveryTx(ctx, tx, m.TenantID, m.ID, at); err != nil {
				return err
			}
		} else {
			att.Outcome = "failed"
			m.Status, m.Reason = engine.MsgFailed, "attempts_exhausted"
		}
	case channel.Unknown:
		att.Outcome = "unknown"
		m.Status, m.Reason = engine.MsgUnknown, "outcome_unknown"
	case channel.Tenant:
		att.Outcome = "failed"
		m.Status, m.Reason = engine.MsgFailed, "tenant_error"
	case channel.Recipient:
		att.Outcome = "failed"
		m.Status, m.Reason = engine.MsgFailed, "recipient_error"
		if err := a.saveDelivery(ctx, tx, m, att); err != nil {
			return err
		}
		if err := a.fallback(ctx, tx, m); err != nil {
			return err
		}
		return a.circuitOutcome(ctx, tx, d, m, class, code, sendErr.Error())
	case channel.Window:
		att.Outcome = "failed"
		m.Status, m.Reason = engine.MsgFailed, engine.ReasonOutsideWindow
		if err := a.saveDelivery(ctx, tx, m, att); err != nil {
			return err
		}
		if err := a.windowFallback(ctx, tx, m); err != nil {
			return err
		}
		// The provider answered: for a probe, the circuit closes.
		return a.circuitOutcome(ctx, tx, d, m, class, code, sendErr.Error())
	default: // request
		att.Outcome = "failed"
		m.Status, m.Reason = engine.MsgFailed, "request_error"
	}
	if err := a.saveDelivery(ctx, tx, m, att); err != nil {
		return err
	}
	return a.circuitOutcome(ctx, tx, d, m, class, code, sendErr.Error())
}

// saveDelivery writes an attempt's outcome and its message; both updates
// go with the transaction's commit (or its next read).
func (a *App) saveDelivery(ctx context.Context, tx *store.Tx, m *engine.Message, att *engine.Attempt) error {
	if err := tx.QueueUpdateAttempt(ctx, att); err != nil {
		return err
	}
	return tx.QueueUpdateMessage(ctx, m)
}

// stepOf returns the run and the workflow step that m was written for;
// a nil step for a message of no run, or of a step its run's workflow
// version does not have.
func (a *App) stepOf(ctx context.Context, tx *store.Tx, m *engine.Message) (*engine.Run, *engine.Step, error) {
	if m.RunID == "" {
		return nil, nil, nil
	}
	run, err := tx.GetRun(ctx, m.TenantID, m.RunID)
	if err != nil {
		return nil, nil, err
	}
	wf, err := a.workflowVersion(ctx, tx, run.TenantID, run.WorkflowID, run.WorkflowVersion)
	if err != nil {
		return nil, nil, err
	}
	for i := range wf.Steps {
		if wf.Steps[i].ID == m.StepID {
			return run, &wf.Steps[i], nil
		}
	}
	return run, nil, nil
}

// fallback queues the step's email when a WhatsApp message cannot reach
// its recipient, now or later by receipt. A step has one email fallback at
// most: the outbox is unique per run step and channel.
func (a *App) fallback(ctx context.Context, tx *store.Tx, failed *engine.Message) error {
	if failed.Channel != engine.ChannelWhatsApp {
		return nil
	}
	run, step, err := a.stepOf(ctx, tx, failed)
	if err != nil || step == nil {
		return err
	}
	tenant, rc, err := a.runContext(ctx, tx, run)
	if err != nil {
		return err
	}
	plan, ok := engine.PlanFallback(step, rc.Lead, tenant.Channels)
	if !ok {
		return nil
	}
	r, err := a.render.RenderStep(step, engine.ChannelEmail, rc)
	if err != nil {
		return err
	}
	m := &engine.Message{TenantID: run.TenantID, EventID: run.EventID, RunID: run.ID, RunStepID: failed.RunStepID,
		LeadID: run.LeadID, QuoteID: run.QuoteID, WorkflowID: run.WorkflowID, WorkflowVersion: run.WorkflowVersion,
		StepID: step.ID, Trigger: run.Trigger, Channel: engine.ChannelEmail, To: plan.To, FallbackOf: failed.ID,
		Reason: fallbackReason(failed), Subject: r.Subject, Body: r.Text, HTML: r.HTML}
	if plan.Suppressed {
		m.Status, m.Reason = engine.MsgSuppressed, plan.Reason
	}
	return a.queueMessage(ctx, tx, tenant, rc, m)
}

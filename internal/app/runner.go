package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
	"github.com/quoteflow/quoteflow/internal/store"
)

// executeStep runs step position of a run inside tx: its record, its
// message and the next step's job are written together or not at all.
//
// A send step whose message is due now also claims it in tx (status
// sending, its first attempt recorded) and returns the delivery, which
// RunStep makes after the commit. Claiming here rather than in a delivery
// job of its own saves a job and a transaction per message, and keeps the
// guarantee that matters: the claim commits with the message, so a crash
// during the provider call leaves the message sending, to be settled as
// unknown when the step's job runs again, never sent twice. Messages
// deferred by quiet hours, holidays or an open circuit get a delivery job
// for their time.
//
// With fresh, the step is taken to be written for the first time and its
// record is queued with the commit (QueueNewRunStep): if an earlier try
// wrote it, the transaction fails with store.ErrRunStepExists and the
// caller runs it again without fresh, which finds that try's record.
func (a *App) executeStep(ctx context.Context, tx *store.Tx, tenantID, runID string, position int, fresh bool) (*delivery, error) {
	// The run and everything the step reads, in one round trip.
	state, err := tx.LoadRun(ctx, tenantID, runID)
	if engine.IsNotFound(err) {
		return nil, nil // the lead was deleted with its runs
	}
	if err != nil {
		return nil, err
	}
	run := state.Run
	wf, err := a.workflowVersion(ctx, tx, tenantID, run.WorkflowID, run.WorkflowVersion)
	if err != nil {
		return nil, err
	}
	if run.Status != engine.RunActive {
		// Cancelled or superseded while the job waited, or completed by
		// this very step on an earlier try that may have been cut mid-send.
		if position < len(wf.Steps) {
			return nil, a.resumeStep(ctx, tx, tenantID, runID, wf.Steps[position].ID)
		}
		return nil, nil
	}
	if position > 0 && position <= len(wf.Steps) && wf.Steps[position-1].Type == engine.StepWait {
		if err := finishWait(ctx, tx, tenantID, runID, position-1); err != nil {
			return nil, err
		}
	}
	if position >= len(wf.Steps) {
		return nil, tx.QueueFinishRun(ctx, tenantID, runID, engine.RunCompleted, "")
	}
	step := &wf.Steps[position]
	now := tx.Now()
	rs := &engine.RunStep{TenantID: tenantID, RunID: runID, StepID: step.ID, Position: position, Type: step.Type,
		Status: engine.StepCompleted, StartedAt: &now, FinishedAt: &now}
	tenant, rc := state.Tenant, a.context(state.Tenant, state.Lead, state.Quote)
	next := now
	var msg *engine.Message
	switch truth, missing := evalWhen(step, rc); {
	case truth != "true":
		rs.Status, rs.Outcome = engine.StepSkipped, "condition_"+truth
		rs.Detail = "the step's condition is " + truth
		if len(missing) > 0 {
			rs.Detail += fmt.Sprintf("; missing %v", missing)
		}
	case step.Type == engine.StepWait:
		d, err := engine.ParseISODuration(step.Wait.Duration)
		if err != nil {
			return nil, err
		}
		next = now.Add(d)
		// The wait is in progress until the next step starts: scheduled, so
		// that cancelling the run cancels it too.
		rs.Status, rs.FinishedAt = engine.StepScheduled, nil
		rs.Outcome, rs.Detail, rs.ScheduledAt = "waited", "next step at "+next.Format(time.RFC3339), &next
	default:
		if err := loadWindow(ctx, tx, step, rc); err != nil {
			return nil, err
		}
		if msg, err = a.stepMessage(tenant, rc, run, step, now); err != nil {
			rs.Status, rs.Outcome, rs.Detail = engine.StepFailed, "render_failed", err.Error()
			msg = nil
		}
	}
	if msg != nil {
		// Routed before the step is written, so that the step records the
		// message's status in one insert.
		gate := func(provider string) (engine.MessageStatus, time.Time) {
			return stepGate(state.Circuit(provider), now)
		}
		a.routeMessage(tx, tenant, rc, msg, gate)
		rs.Outcome, rs.Detail = string(msg.Status), msg.Reason
	}
	created := true
	if fresh {
		err = tx.QueueNewRunStep(ctx, rs)
	} else {
		created, err = tx.InsertRunStep(ctx, rs)
	}
	if err != nil {
		return nil, err
	}
	if !created {
		// An earlier try of this job wrote the step and its successor's job.
		return nil, a.resumeStep(ctx, tx, tenantID, runID, step.ID)
	}
	var d *delivery
	if msg != nil {
		msg.RunStepID = rs.ID
		// The step was created just now, so its message cannot exist yet.
		if d, err = a.storeMessage(ctx, tx, tenant, rc, msg, true); err != nil {
			return nil, err
		}
	}
	if position+1 == len(wf.Steps) && step.Type != engine.StepWait {
		return d, tx.QueueFinishRun(ctx, tenantID, runID, engine.RunCompleted, "")
	}
	return d, a.jobs.EnqueueStepTx(ctx, tx, tenantID, runID, position+1, next)
}

// resumeStep handles a step's job run again after the step was written: the
// process stopped, or could not record the provider's answer, after the
// step had claimed its message. The provider may or may not have the
// message, so it is settled as unknown, never sent again; everything else
// the earlier try wrote stands. Only an attempt begun in the step's own
// transaction is the step's to settle: a deferred message is claimed later
// by its delivery job, which may be sending it right now.
func (a *App) resumeStep(ctx context.Context, tx *store.Tx, tenantID, runID, stepID string) error {
	steps, err := tx.ListRunSteps(ctx, tenantID, runID)
	if err != nil {
		return err
	}
	var rs *engine.RunStep
	for i := range steps {
		if steps[i].StepID == stepID {
			rs = &steps[i]
		}
	}
	if rs == nil || rs.StartedAt == nil {
		return nil
	}
	msgs, _, err := tx.ListMessages(ctx, tenantID, engine.MessageFilter{RunID: runID, Status: engine.MsgSending}, engine.Page{Limit: 200})
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.RunStepID != rs.ID {
			continue
		}
		locked, err := tx.GetMessageForUpdate(ctx, tenantID, m.ID)
		if err != nil {
			return err
		}
		if locked.Status != engine.MsgSending {
			continue
		}
		atts, err := tx.ListAttempts(ctx, tenantID, m.ID)
		if err != nil {
			return err
		}
		if n := len(atts); n > 0 && atts[n-1].FinishedAt == nil && atts[n-1].StartedAt.Equal(*rs.StartedAt) {
			if err := a.settleInterrupted(ctx, tx, locked, tx.Now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// finishWait marks the wait at position completed, now that the step after
// it runs.
func finishWait(ctx context.Context, tx *store.Tx, tenantID, runID string, position int) error {
	steps, err := tx.ListRunSteps(ctx, tenantID, runID)
	if err != nil {
		return err
	}
	for i := range steps {
		if rs := &steps[i]; rs.Position == position && rs.Status == engine.StepScheduled {
			now := tx.Now()
			rs.Status, rs.FinishedAt = engine.StepCompleted, &now
			return tx.UpdateRunStep(ctx, rs)
		}
	}
	return nil
}

// runContext loads the tenant and the lead context of a run as they are
// now: a step renders the lead's current name and the quote's current
// amount, not those of the moment the run started.
func (a *App) runContext(ctx context.Context, tx *store.Tx, run *engine.Run) (*engine.Tenant, *engine.Context, error) {
	tenant, err := tx.GetTenant(ctx, run.TenantID)
	if err != nil {
		return nil, nil, err
	}
	lead, err := tx.GetLead(ctx, run.TenantID, run.LeadID)
	if err != nil {
		return nil, nil, err
	}
	var q *engine.Quote
	if run.QuoteID != "" {
		if q, err = tx.GetQuote(ctx, run.TenantID, run.QuoteID); err != nil {
			return nil, nil, err
		}
	}
	return tenant, a.context(tenant, lead, q), nil
}

// evalWhen evaluates a step's condition: "true", "false" or "unknown".
func evalWhen(step *engine.Step, rc *engine.Context) (string, []string) {
	if len(step.When) == 0 {
		return "true", nil
	}
	c, err := condition.Parse(step.When)
	if err != nil {
		// Saved conditions were validated; one that no longer parses is
		// treated as not true rather than sending on a broken rule.
		return "unknown", nil
	}
	r := c.Eval(rc)
	if r.Matched() {
		return "true", nil
	}
	return r.Truth.String(), c.MissingFields(rc)
}

// stepMessage builds the outbox message of a send step run at now: the
// channel and recipient the lead's consent allows, or a suppressed record
// saying why. A WhatsApp step's free-form text goes only if the
// customer-service window (rc.WhatsAppWindowEnd) is still open when the
// message would go, after quiet hours and holidays.
func (a *App) stepMessage(tenant *engine.Tenant, rc *engine.Context, run *engine.Run, step *engine.Step, now time.Time) (*engine.Message, error) {
	due := engine.NextAllowed(now, a.zones.Of(rc.Lead, tenant), tenant.QuietHours, tenant.Holidays)
	plan := engine.PlanSendAt(step, rc.Lead, tenant.Channels, due, rc.WhatsAppWindowEnd)
	m := &engine.Message{TenantID: run.TenantID, EventID: run.EventID, RunID: run.ID, LeadID: run.LeadID, QuoteID: run.QuoteID,
		WorkflowID: run.WorkflowID, WorkflowVersion: run.WorkflowVersion, StepID: step.ID, Trigger: run.Trigger,
		Channel: plan.Channel, To: plan.To}
	if m.Channel == "" {
		m.Channel = engine.ChannelEmail
		if step.Type == engine.StepSendWhatsApp {
			m.Channel = engine.ChannelWhatsApp
		}
	}
	if plan.Suppressed {
		m.Status, m.Reason = engine.MsgSuppressed, plan.Reason
		return m, nil
	}
	if plan.Fallback {
		m.Reason = "fallback: " + plan.Reason
	}
	r, err := a.render.RenderStep(step, m.Channel, rc)
	if err != nil {
		return nil, err
	}
	m.Subject, m.Body, m.HTML, m.Template = r.Subject, r.Text, r.HTML, r.Template
	if m.Channel == engine.ChannelWhatsApp {
		// The outbox holds one form: a text's body, or a template.
		if plan.Text {
			m.Template = nil
			if strings.TrimSpace(m.Body) == "" {
				return nil, engine.Invalid("whatsapp.text", "renders as nothing for this lead; WhatsApp sends no empty text")
			}
		} else {
			m.Body = ""
			if plan.Reason == engine.ReasonOutsideWindow {
				m.Reason = plan.Reason
			}
		}
	}
	return m, nil
}

// providerOf is the provider configured for a channel, "" when none is.
func providerOf(tenant *engine.Tenant, ch string) string {
	switch {
	case ch == engine.ChannelEmail && tenant.Channels.Email != nil:
		return tenant.Channels.Email.Provider
	case ch == engine.ChannelWhatsApp && tenant.Channels.WhatsApp != nil:
		return tenant.Channels.WhatsApp.Provider
	}
	return ""
}

// queueMessage writes a message to the outbox and, unless it is suppressed
// or a shadow, its delivery job — deferred past quiet hours and holidays in
// the lead's timezone.
func (a *App) queueMessage(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, m *engine.Message) error {
	a.routeMessage(tx, tenant, rc, m, nil)
	_, err := a.storeMessage(ctx, tx, tenant, rc, m, false)
	return err
}

// routeMessage sets the provider, status and time of a message to be
// delivered (one whose Status is still empty): scheduled past quiet hours
// and holidays in the lead's timezone, else queued, or, given claim,
// whatever claim says of its provider's circuit: sending, queued (a
// half-open circuit, whose probe its delivery job may take) or scheduled
// until the circuit's time.
func (a *App) routeMessage(tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, m *engine.Message,
	claim func(provider string) (engine.MessageStatus, time.Time)) {
	if m.Status != "" {
		return
	}
	now := tx.Now()
	m.Provider = providerOf(tenant, m.Channel)
	at := engine.NextAllowed(now, a.zones.Of(rc.Lead, tenant), tenant.QuietHours, tenant.Holidays)
	m.Status, m.ScheduledAt = engine.MsgQueued, &at
	switch {
	case at.After(now):
		m.Status = engine.MsgScheduled
		if m.Reason == "" {
			m.Reason = "quiet_hours"
		}
	case claim != nil:
		switch status, until := claim(m.Provider); status {
		case engine.MsgScheduled:
			m.Status, m.Reason, m.ScheduledAt = engine.MsgScheduled, "circuit_open", &until
		case engine.MsgSending:
			m.Status, m.Attempts = engine.MsgSending, 1
		}
	}
}

// storeMessage writes a routed message: a message claimed for sending with
// its first attempt, returned as its delivery; a queued or scheduled one with
// its delivery job; any other (suppressed, failed, shadow) alone.
//
// fresh says m's run step was created in tx, so that m cannot exist yet:
// its insert is then queued with the transaction's commit.
func (a *App) storeMessage(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, m *engine.Message, fresh bool) (*delivery, error) {
	if fresh {
		if err := tx.QueueNewMessage(ctx, m); err != nil {
			return nil, err
		}
	} else if created, err := tx.InsertMessage(ctx, m); err != nil || !created {
		return nil, err
	}
	switch m.Status {
	case engine.MsgSending:
		return a.claimed(ctx, tx, tenant, m, rc.Quote)
	case engine.MsgQueued, engine.MsgScheduled:
		return nil, a.jobs.EnqueueDeliveryTx(ctx, tx, m.TenantID, m.ID, *m.ScheduledAt)
	}
	return nil, nil
}

// sendLegacy queues the legacy settings' message on each of its channels.
func (a *App) sendLegacy(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, ev *engine.Event, set engine.LegacySetting) error {
	for _, ch := range set.Channels {
		m := a.legacyMessage(tenant, rc, set, ch)
		m.TenantID, m.EventID, m.LeadID, m.QuoteID, m.Trigger = ev.TenantID, ev.ID, ev.LeadID, ev.QuoteID, ev.Trigger
		if err := a.queueMessage(ctx, tx, tenant, rc, m); err != nil {
			return err
		}
	}
	return nil
}

// recordShadowRun records, in shadow mode, the run the engine would have
// started and the messages it would have sent, with status shadow and the
// time each would have gone out. Nothing of it is ever delivered.
func (a *App) recordShadowRun(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, ev *engine.Event, d *engine.Decision) error {
	wf, err := a.workflowVersion(ctx, tx, ev.TenantID, d.WorkflowID, d.WorkflowVersion)
	if err != nil {
		return err
	}
	now := tx.Now()
	run := &engine.Run{TenantID: ev.TenantID, EventID: ev.ID, LeadID: ev.LeadID, QuoteID: ev.QuoteID, WorkflowID: wf.ID,
		WorkflowVersion: wf.Version, Trigger: ev.Trigger, Status: engine.RunCompleted, Shadow: true, FinishedAt: &now}
	if err := tx.InsertRun(ctx, run); err != nil {
		return err
	}
	if err := loadWindowFor(ctx, tx, wf, rc); err != nil {
		return err
	}
	plan, err := workflow.Simulate(wf, rc, now, a.render, a.zones)
	if err != nil {
		return err
	}
	for _, p := range plan {
		at := p.At
		rs := &engine.RunStep{TenantID: run.TenantID, RunID: run.ID, StepID: p.StepID, Position: p.Position, Type: p.Type,
			Status: engine.StepCompleted, Outcome: "shadow", ScheduledAt: &at, StartedAt: &now, FinishedAt: &now}
		if p.Skipped {
			rs.Status, rs.Outcome = engine.StepSkipped, "condition_"+p.When
		}
		if _, err := tx.InsertRunStep(ctx, rs); err != nil {
			return err
		}
		if p.Type == engine.StepWait || p.Skipped {
			continue
		}
		m := &engine.Message{TenantID: run.TenantID, EventID: ev.ID, RunID: run.ID, RunStepID: rs.ID, LeadID: run.LeadID,
			QuoteID: run.QuoteID, WorkflowID: wf.ID, WorkflowVersion: wf.Version, StepID: p.StepID, Trigger: ev.Trigger,
			Channel: p.Channel, To: p.To, Status: engine.MsgShadow, Reason: p.Reason, ScheduledAt: &at,
			Provider: providerOf(tenant, p.Channel)}
		if p.Suppressed {
			m.Reason = "would be suppressed: " + p.Reason
		}
		if r := p.Rendered; r != nil {
			m.Subject, m.Body, m.HTML, m.Template = r.Subject, r.Text, r.HTML, r.Template
		}
		if _, err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

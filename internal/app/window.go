package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// A send_whatsapp step may carry free-form text, which Meta accepts only
// inside the customer-service window: the 24 hours after the customer's
// last message. The window is judged three times: when the step runs (the
// send plan, engine.PlanSendAt, at the time the message would go after
// quiet hours), when a deferred or retried message is claimed (windowShut),
// and by Meta itself, whose refusal (131047) is the window error class.
// Each time the remedy is the same (windowFallback): the step's template,
// else its email fallback.

// loadWindow reads, for a step that has free-form text, when the window of
// the lead's number closes.
func loadWindow(ctx context.Context, tx *store.Tx, step *engine.Step, rc *engine.Context) error {
	if step.Type != engine.StepSendWhatsApp || step.WhatsApp == nil || step.WhatsApp.Text == "" || rc.Lead == nil {
		return nil
	}
	end, err := tx.WhatsAppWindowEnd(ctx, rc.Lead.TenantID, rc.Lead.Phone)
	rc.WhatsAppWindowEnd = end
	return err
}

// loadWindowFor is loadWindow for a whole workflow, as the shadow run's
// dry run of it needs.
func loadWindowFor(ctx context.Context, tx *store.Tx, wf *engine.Workflow, rc *engine.Context) error {
	for i := range wf.Steps {
		if s := &wf.Steps[i]; s.Type == engine.StepSendWhatsApp && s.WhatsApp != nil && s.WhatsApp.Text != "" {
			return loadWindow(ctx, tx, s, rc)
		}
	}
	return nil
}

// isText reports whether m is a free-form WhatsApp text rather than a
// template.
func isText(m *engine.Message) bool {
	return m.Channel == engine.ChannelWhatsApp && m.Template == nil && m.Body != ""
}

// windowShut handles a free-form text about to be claimed for delivery
// (deferred by quiet hours, retried, or held by a circuit) whose window has
// closed meanwhile: it is suppressed with reason outside_window, never sent
// to be refused, and its fallback is queued. It reports whether it did so.
func (a *App) windowShut(ctx context.Context, tx *store.Tx, m *engine.Message) (bool, error) {
	if !isText(m) {
		return false, nil
	}
	end, err := tx.WhatsAppWindowEnd(ctx, m.TenantID, m.To)
	if err != nil || engine.WindowOpen(end, tx.Now()) {
		return false, err
	}
	m.Status, m.Reason = engine.MsgSuppressed, engine.ReasonOutsideWindow
	if err := tx.UpdateMessage(ctx, m); err != nil {
		return true, err
	}
	return true, a.windowFallback(ctx, tx, m)
}

// windowFallback queues what goes instead of a free-form text the window
// no longer allows: the step's template, on WhatsApp, when it has one,
// else its email fallback, as the step's plan outside the window says
// (consent and channels are read again, so an opt-out meanwhile holds).
// The template goes as a message of its own pointing at the text
// (fallback_of) without a run step: the outbox keeps one message per run
// step and channel, and the step's WhatsApp message is the text.
func (a *App) windowFallback(ctx context.Context, tx *store.Tx, text *engine.Message) error {
	if !isText(text) {
		// Meta's window error for a template would be Meta's mistake; the
		// template again would meet it again, so the email goes instead.
		return a.fallback(ctx, tx, text)
	}
	run, step, err := a.stepOf(ctx, tx, text)
	if err != nil || step == nil {
		return err
	}
	tenant, rc, err := a.runContext(ctx, tx, run)
	if err != nil {
		return err
	}
	plan := engine.PlanSendAt(step, rc.Lead, tenant.Channels, tx.Now(), time.Time{})
	if plan.Suppressed {
		return nil
	}
	r, err := a.render.RenderStep(step, plan.Channel, rc)
	if err != nil {
		return err
	}
	m := &engine.Message{TenantID: run.TenantID, EventID: run.EventID, RunID: run.ID, LeadID: run.LeadID, QuoteID: run.QuoteID,
		WorkflowID: run.WorkflowID, WorkflowVersion: run.WorkflowVersion, StepID: step.ID, Trigger: run.Trigger,
		Channel: plan.Channel, To: plan.To, FallbackOf: text.ID, Reason: "fallback: " + engine.ReasonOutsideWindow}
	if plan.Channel == engine.ChannelEmail {
		m.RunStepID, m.Subject, m.Body, m.HTML = text.RunStepID, r.Subject, r.Text, r.HTML
	} else {
		m.Template = r.Template
	}
	return a.queueMessage(ctx, tx, tenant, rc, m)
}

package app

import (
	"context"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// maxCandidates is how many leads an inbox message from a shared number
// names; more than that many leads with one number is a data problem the
// tenant sees from the first few.
const maxCandidates = 10

// WebhookResult says what one delivery of a WhatsApp webhook changed.
type WebhookResult struct {
	// Applied is how many status receipts moved a message forward.
	Applied int
	// Inbound is how many customers' messages were stored; a message Meta
	// delivered before is not stored, nor counted, again.
	Inbound int
}

// e164 is the sender's number as leads store it: Meta sends the digits of
// the number without +; one that does not parse as a number is kept as
// "+" and those digits, so that it still names its sender in the inbox.
func e164(from string) string {
	d := "+" + strings.TrimPrefix(strings.TrimSpace(from), "+")
	num, err := phonenumbers.Parse(d, "")
	if err != nil {
		return d
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

// receiveInbound stores one customer's message, in tx, and acts on it:
// matched to the lead with the sender's number (or kept in the inbox with
// the candidates, or none), attributed to the message it answers, a
// consent keyword or button applied, and the lead's runs that stop on a
// reply cancelled. A message stored before (Meta redelivered the webhook)
// changes nothing again; it reports whether the message was new.
func (a *App) receiveInbound(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, in whatsapp.Inbound, counted *pendingMetrics) (bool, error) {
	m := &engine.InboundMessage{TenantID: tenant.ID, ProviderMessageID: in.ID, PhoneNumberID: in.PhoneNumberID,
		From: e164(in.From), WaID: in.WaID, ProfileName: in.ProfileName, Type: in.Type, Text: in.Text, Payload: in.Payload,
		ContextID: in.ContextID, Raw: in.Raw, SentAt: in.Timestamp, ReceivedAt: tx.Now()}
	if m.Type == "" {
		m.Type = engine.InboundUnknownType
	}
	if md := in.Media; md != nil {
		m.Media = &engine.InboundMedia{ID: md.ID, MimeType: md.MimeType, SHA256: md.SHA256, Filename: md.Filename}
	}
	leads, err := a.match(ctx, tx, m)
	if err != nil {
		return false, err
	}
	if err := a.attribute(ctx, tx, m); err != nil {
		return false, err
	}
	source := ""
	m.Consent, m.ConsentWord, source = classifyConsent(tenant, m, in.Preference)
	created, err := tx.InsertInbound(ctx, m)
	if err != nil || !created {
		return false, err
	}
	typ, match := metricType(m.Type), string(m.Match)
	counted.add(func() { a.metrics.inbound.WithLabelValues(typ, match).Inc() })
	if m.Consent != "" {
		// Refusing is always safe: an opt-out from a number several leads
		// share applies to each of them, since any WhatsApp message to
		// that number reaches the person who asked. Opting in again is
		// the customer's consent: only the lead the message is matched to
		// gets it, none when the number is shared and nothing says whose.
		targets := leads
		if m.Consent == engine.ConsentOptIn {
			targets = slices.DeleteFunc(slices.Clone(leads), func(l engine.Lead) bool { return l.ID != m.LeadID || m.LeadID == "" })
		}
		for _, l := range targets {
			if _, err := a.changeWhatsAppConsent(ctx, tx, tenant.ID, l.ID, m.Consent == engine.ConsentOptIn, source, m.ConsentWord, m, counted); err != nil {
				return false, err
			}
		}
	}
	if m.Match == engine.MatchLead && m.OpensWindow() {
		if err := a.cancelOnReply(ctx, tx, m); err != nil {
			return false, err
		}
	}
	return true, nil
}

// match finds the leads with the sender's number: exactly one matches the
// message to it; several are its candidates, unless the message quotes one
// of our messages to one of them, which says whom it answers. It returns
// the leads the number belongs to.
func (a *App) match(ctx context.Context, tx *store.Tx, m *engine.InboundMessage) ([]engine.Lead, error) {
	leads, err := tx.LeadsByPhone(ctx, m.TenantID, m.From, maxCandidates)
	if err != nil {
		return nil, err
	}
	switch len(leads) {
	case 0:
		m.Match = engine.MatchUnknownNumber
		return nil, nil
	case 1:
		m.Match, m.LeadID = engine.MatchLead, leads[0].ID
		return leads, nil
	}
	if m.ContextID != "" {
		quoted, err := tx.FindMessageByProviderID(ctx, m.TenantID, m.ContextID)
		if err != nil && !engine.IsNotFound(err) {
			return nil, err
		}
		if quoted != nil {
			if i := slices.IndexFunc(leads, func(l engine.Lead) bool { return l.ID == quoted.LeadID }); i >= 0 {
				m.Match, m.LeadID = engine.MatchLead, quoted.LeadID
				return leads, nil
			}
		}
	}
	m.Match = engine.MatchAmbiguous
	for _, l := range leads {
		m.Candidates = append(m.Candidates, engine.LeadRef{ID: l.ID, FirstName: l.FirstName, LastName: l.LastName})
	}
	return leads, nil
}

// attribute names the outbox message a lead's message answers: the one it
// quotes, else the lead's latest sent within engine.ReplyAttribution before
// it. Statistics count replies and opt-outs by that message's trigger and
// workflow.
func (a *App) attribute(ctx context.Context, tx *store.Tx, m *engine.InboundMessage) error {
	if m.LeadID == "" {
		return nil
	}
	var to *engine.Message
	if m.ContextID != "" {
		q, err := tx.FindMessageByProviderID(ctx, m.TenantID, m.ContextID)
		if err != nil && !engine.IsNotFound(err) {
			return err
		}
		if q != nil && q.LeadID == m.LeadID {
			to = q
		}
	}
	if to == nil {
		// Up to when it was received, not Meta's timestamp: that has whole
		// seconds, and a message sent in the same second still counts.
		at := m.ReceivedAt
		latest, err := tx.LatestSentMessage(ctx, m.TenantID, m.LeadID, at.Add(-engine.ReplyAttribution), at)
		if err != nil && !engine.IsNotFound(err) {
			return err
		}
		to = latest
	}
	if to == nil {
		return nil
	}
	answered, err := tx.HasReply(ctx, m.TenantID, to.ID)
	if err != nil {
		return err
	}
	m.ReplyTo, m.Trigger, m.WorkflowID = to.ID, to.Trigger, to.WorkflowID
	m.ReplyToAt, m.FirstReply = to.CreatedAt, !answered
	return nil
}

// classifyConsent says what a message asks of the lead's WhatsApp consent,
// with the keyword or label it matched and the source of the change: a
// text that is one of the tenant's keywords, a button (Meta's marketing
// opt-out button "Stop promotions" among them) whose payload or label is
// one, or Meta's system notice of a changed marketing preference.
func classifyConsent(tenant *engine.Tenant, m *engine.InboundMessage, preference string) (engine.ConsentAction, string, string) {
	switch m.Type {
	case "text":
		if c, w := tenant.ConsentKeywords.Classify(m.Text); c != "" {
			return c, w, engine.ConsentByKeyword
		}
	case "button", "interactive":
		for _, s := range []string{m.Payload, m.Text} {
			if c, w := tenant.ConsentKeywords.Classify(s); c != "" {
				return c, w, engine.ConsentByButton
			}
		}
	case engine.InboundSystem:
		if c := preferenceAction(preference); c != "" {
			return c, preference, engine.ConsentByPreference
		}
	}
	return "", "", ""
}

// preferenceAction reads Meta's marketing-messages preference.
func preferenceAction(v string) engine.ConsentAction {
	switch v {
	case "stop":
		return engine.ConsentOptOut
	case "resume":
		return engine.ConsentOptIn
	}
	return ""
}

// applyPreference applies a user_preferences entry: the user stopped or
// resumed the business's marketing messages in WhatsApp's own setting.
// It carries no message id, so a redelivery is recognised by changing
// nothing: only a change of the lead's consent is recorded.
func (a *App) applyPreference(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, p whatsapp.Preference, counted *pendingMetrics) error {
	action := preferenceAction(p.Value)
	if action == "" || (p.Category != "" && p.Category != "marketing_messages") {
		return nil
	}
	leads, err := tx.LeadsByPhone(ctx, tenant.ID, e164(p.WaID), maxCandidates)
	if err != nil {
		return err
	}
	if len(leads) != 1 && action == engine.ConsentOptIn {
		return nil
	}
	for _, l := range leads {
		if _, err := a.changeWhatsAppConsent(ctx, tx, tenant.ID, l.ID, action == engine.ConsentOptIn, engine.ConsentByPreference, p.Detail, nil, counted); err != nil {
			return err
		}
	}
	return nil
}

// cancelOnReply ends the lead's active runs of workflows whose exit_on
// lists replied: their pending steps do not run and their messages not yet
// handed to a provider become cancelled with reason replied.
func (a *App) cancelOnReply(ctx context.Context, tx *store.Tx, m *engine.InboundMessage) error {
	runs, err := tx.ListLeadActiveRuns(ctx, m.TenantID, m.LeadID)
	if err != nil {
		return err
	}
	for i := range runs {
		r := &runs[i]
		wf, err := a.workflowVersion(ctx, tx, r.TenantID, r.WorkflowID, r.WorkflowVersion)
		if err != nil {
			return err
		}
		if slices.Contains(wf.ExitOn, engine.ExitOnReplied) {
			if err := a.endRun(ctx, tx, r, "exit_on: replied", ReasonReplied); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReasonReplied is the reason of a message cancelled because its lead
// replied and its workflow stops on a reply.
const ReasonReplied = "replied"

// metricType bounds the type label of the inbound counter to Meta's
// documented types, so that a type Meta adds cannot grow the series
// without bound.
func metricType(t string) string {
	switch t {
	case "text", "button", "interactive", "image", "audio", "video", "document", "sticker", "location", "contacts",
		"reaction", "order", "system", "unsupported", "request_welcome":
		return t
	}
	return "other"
}

// GetInbound returns one of the tenant's inbound messages.
func (a *App) GetInbound(ctx context.Context, tenantID, id string) (*engine.InboundMessage, error) {
	return a.db.GetInbound(ctx, tenantID, id)
}

// ListInbound returns a page of the tenant's inbound messages that match
// f, oldest first; f.Inbox keeps those matched to no single lead.
func (a *App) ListInbound(ctx context.Context, tenantID string, f engine.InboundFilter, p engine.Page) ([]engine.InboundMessage, string, error) {
	return a.db.ListInbound(ctx, tenantID, f, p)
}

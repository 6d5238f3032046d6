package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// timelineLimit bounds each part of a timeline; a lead with more history
// than this is read page by page through /v1/events, /v1/runs and
// /v1/messages.
const timelineLimit = 500

// TimelineOut is everything that happened to a lead: events with their
// decisions, runs with their steps, messages with attempts and receipts.
type TimelineOut struct {
	LeadID   string             `json:"lead_id"`
	Events   []EventOut         `json:"events"`
	Runs     []RunOut           `json:"runs"`
	Messages []MessageDetailOut `json:"messages"`
	Alerts   []AlertOut         `json:"alerts" doc:"Alerts that concern the lead, such as its messages failing permanently"`
	// Inbound and ConsentChanges are the lead's side (issue 13).
	Inbound        []InboundOut       `json:"inbound" doc:"The lead's WhatsApp messages to the tenant: replies, buttons, media, opt-outs"`
	ConsentChanges []ConsentChangeOut `json:"consent_changes" doc:"Every change of the lead's consent: when, how, and which message made it"`
	Truncated      bool               `json:"truncated" doc:"More history exists than the timeline shows"`
}

func (s *Server) getTimeline(ctx context.Context, in *LeadPath) (*body[TimelineOut], error) {
	tenant := principal(ctx).TenantID
	if _, err := s.app.GetLead(ctx, tenant, in.LeadID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := TimelineOut{LeadID: in.LeadID, Events: []EventOut{}, Runs: []RunOut{}, Messages: []MessageDetailOut{}, Alerts: []AlertOut{},
		Inbound: []InboundOut{}, ConsentChanges: []ConsentChangeOut{}}
	page := engine.Page{Limit: timelineLimit}
	evs, next, err := s.app.ListEvents(ctx, tenant, engine.EventFilter{LeadID: in.LeadID}, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = next != ""
	for i := range evs {
		out.Events = append(out.Events, eventOut(&evs[i]))
	}
	runs, next, err := s.app.ListRuns(ctx, tenant, engine.RunFilter{LeadID: in.LeadID}, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = out.Truncated || next != ""
	for i := range runs {
		r, err := s.runWithSteps(ctx, &runs[i])
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		out.Runs = append(out.Runs, r)
	}
	ms, next, err := s.app.ListMessages(ctx, tenant, engine.MessageFilter{LeadID: in.LeadID}, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = out.Truncated || next != ""
	for i := range ms {
		m, err := s.messageDetail(ctx, &ms[i])
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		out.Messages = append(out.Messages, m)
	}
	as, next, err := s.app.ListAlerts(ctx, tenant, engine.AlertFilter{LeadID: in.LeadID}, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = out.Truncated || next != ""
	for i := range as {
		out.Alerts = append(out.Alerts, alertOut(&as[i]))
	}
	ins, next, err := s.app.ListInbound(ctx, tenant, engine.InboundFilter{LeadID: in.LeadID}, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = out.Truncated || next != ""
	for i := range ins {
		out.Inbound = append(out.Inbound, inboundOut(&ins[i]))
	}
	cs, next, err := s.app.ListConsentChanges(ctx, tenant, in.LeadID, page)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out.Truncated = out.Truncated || next != ""
	for i := range cs {
		out.ConsentChanges = append(out.ConsentChanges, consentOut(&cs[i]))
	}
	return &body[TimelineOut]{Body: out}, nil
}

// SimulateIn is POST /v1/leads/{lead_id}/simulate.
type SimulateIn struct {
	Trigger string `json:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	QuoteID string `json:"quote_id,omitempty"`
}

// PlannedStepOut is one step of a dry run.
type PlannedStepOut struct {
	StepID        string            `json:"step_id"`
	Position      int               `json:"position"`
	Type          string            `json:"type"`
	At            time.Time         `json:"at" doc:"When it would run, after waits, quiet hours and holidays"`
	When          string            `json:"when" enum:"true,false,unknown"`
	MissingFields []string          `json:"missing_fields"`
	Skipped       bool              `json:"skipped"`
	Channel       string            `json:"channel,omitempty"`
	To            string            `json:"to,omitempty"`
	Suppressed    bool              `json:"suppressed"`
	Reason        string            `json:"reason,omitempty"`
	Fallback      bool              `json:"fallback"`
	Email         *RenderedEmail    `json:"email,omitempty"`
	WhatsApp      *RenderedWhatsApp `json:"whatsapp,omitempty"`
	RenderError   string            `json:"render_error,omitempty"`
}

// SimulateOut is a dry run: the decision, and the steps it would run.
type SimulateOut struct {
	ResolutionOut
	Steps       []PlannedStepOut `json:"steps"`
	CancelledBy []string         `json:"cancelled_by" doc:"Later quote statuses that would cancel the run, and replied when the lead's WhatsApp message would"`
}

type simulateInput struct {
	LeadPath
	Body SimulateIn
}

func (s *Server) simulate(ctx context.Context, in *simulateInput) (*body[SimulateOut], error) {
	sim, err := s.app.Simulate(ctx, principal(ctx).TenantID, app.ResolveRequest{Trigger: engine.Trigger(in.Body.Trigger),
		LeadID: in.LeadID, QuoteID: in.Body.QuoteID})
	if err != nil {
		return nil, toProblem(ctx, s.log, engine.PrefixFields(err, "body"))
	}
	out := SimulateOut{ResolutionOut: ResolutionOut{Trigger: in.Body.Trigger, LeadID: in.LeadID, QuoteID: in.Body.QuoteID,
		Decision: decisionOut(sim.Decision)}, Steps: []PlannedStepOut{}, CancelledBy: []string{}}
	for _, st := range sim.CancelledBy {
		out.CancelledBy = append(out.CancelledBy, string(st))
	}
	for _, p := range sim.Steps {
		ps := PlannedStepOut{StepID: p.StepID, Position: p.Position, Type: string(p.Type), At: p.At, When: p.When,
			MissingFields: nonNil(p.MissingFields), Skipped: p.Skipped, Channel: p.Channel, To: p.To,
			Suppressed: p.Suppressed, Reason: p.Reason, Fallback: p.Fallback, RenderError: p.RenderError}
		if r := p.Rendered; r != nil {
			if p.Channel == engine.ChannelWhatsApp {
				// What would go: the text inside the window, else the template.
				ps.WhatsApp = renderedWhatsApp(*r)
				if p.Text {
					ps.WhatsApp.Template, ps.WhatsApp.Language, ps.WhatsApp.Parameters = "", "", []string{}
				} else {
					ps.WhatsApp.Text = ""
				}
			} else {
				ps.Email = &RenderedEmail{Subject: r.Subject, Text: r.Text, HTML: r.HTML}
			}
		}
		out.Steps = append(out.Steps, ps)
	}
	return &body[SimulateOut]{Body: out}, nil
}

// WebhookPath names the tenant a WhatsApp webhook is for.
type WebhookPath struct {
	TenantID string `path:"tenant_id"`
}

type verifyWebhookInput struct {
	WebhookPath
	Mode        string `query:"hub.mode"`
	VerifyToken string `query:"hub.verify_token"`
	Challenge   string `query:"hub.challenge"`
}

type textOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// verifyWebhook answers Meta's subscription handshake with the challenge.
func (s *Server) verifyWebhook(ctx context.Context, in *verifyWebhookInput) (*textOutput, error) {
	q := map[string][]string{"hub.mode": {in.Mode}, "hub.verify_token": {in.VerifyToken}, "hub.challenge": {in.Challenge}}
	challenge, err := s.app.VerifyWhatsAppWebhook(ctx, in.TenantID, q)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &textOutput{ContentType: "text/plain", Body: []byte(challenge)}, nil
}

type webhookInput struct {
	WebhookPath
	Signature string `header:"X-Hub-Signature-256"`
	RawBody   []byte
}

// WebhookOut says how many statuses moved a message, and how many
// customers' messages were stored.
type WebhookOut struct {
	Applied int `json:"applied"`
	Inbound int `json:"inbound" doc:"Customers' messages stored by this delivery; one Meta delivered before is not stored again"`
}

func (s *Server) receiveWebhook(ctx context.Context, in *webhookInput) (*body[WebhookOut], error) {
	res, err := s.app.HandleWhatsAppWebhook(ctx, in.TenantID, in.RawBody, in.Signature)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[WebhookOut]{Body: WebhookOut{Applied: res.Applied, Inbound: res.Inbound}}, nil
}

package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// InboundMediaOut is a media message's reference at Meta; the content is
// not fetched.
type InboundMediaOut struct {
	ID       string `json:"id" doc:"Meta's media id"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// CandidateOut is a lead an inbox message's number belongs to.
type CandidateOut struct {
	LeadID    string `json:"lead_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// InboundOut is a customer's WhatsApp message to the tenant's number.
type InboundOut struct {
	ID                string           `json:"id"`
	ProviderMessageID string           `json:"provider_message_id" doc:"Meta's wamid; stored once however often Meta delivers it"`
	PhoneNumberID     string           `json:"phone_number_id,omitempty" doc:"The tenant's business number that received it"`
	From              string           `json:"from" doc:"The sender's number, E.164"`
	ProfileName       string           `json:"profile_name,omitempty" doc:"The sender's WhatsApp profile name"`
	Type              string           `json:"type" doc:"Meta's message type, as sent: text, button, interactive, image, ...; unknown when Meta sent none"`
	Text              string           `json:"text,omitempty" doc:"What a person reads: the text, a button's label, a reply's title, a media caption"`
	Payload           string           `json:"payload,omitempty" doc:"What a machine reads: a button's payload, an interactive reply's id, a reaction's emoji"`
	Media             *InboundMediaOut `json:"media,omitempty"`
	ContextID         string           `json:"context_id,omitempty" doc:"The wamid of the business message replied to"`
	Raw               json.RawMessage  `json:"raw" doc:"The message object exactly as Meta sent it"`
	LeadID            string           `json:"lead_id,omitempty" doc:"The lead it came from; absent for the inbox"`
	Match             string           `json:"match" doc:"lead: one lead has the sender's number; unknown_number: none has; ambiguous: several have (candidates)"`
	Candidates        []CandidateOut   `json:"candidates" doc:"The leads that share the sender's number, for an ambiguous match"`
	Consent           string           `json:"consent,omitempty" doc:"opt_out or opt_in when the message is a consent keyword, Meta's opt-out button or preference"`
	ConsentWord       string           `json:"consent_word,omitempty" doc:"The keyword or label it matched"`
	ReplyTo           string           `json:"reply_to,omitempty" doc:"The outbox message it answers: the one it quotes, else the lead's latest sent within 7 days before it"`
	Trigger           string           `json:"trigger,omitempty" doc:"The trigger of the message it answers"`
	WorkflowID        string           `json:"workflow_id,omitempty" doc:"The workflow of the message it answers"`
	SentAt            time.Time        `json:"sent_at" doc:"When the customer sent it (Meta's timestamp); the 24-hour window runs from here"`
	ReceivedAt        time.Time        `json:"received_at"`
}

func inboundOut(m *engine.InboundMessage) InboundOut {
	out := InboundOut{ID: m.ID, ProviderMessageID: m.ProviderMessageID, PhoneNumberID: m.PhoneNumberID, From: m.From,
		ProfileName: m.ProfileName, Type: m.Type, Text: m.Text, Payload: m.Payload, ContextID: m.ContextID,
		Raw: m.Raw, LeadID: m.LeadID, Match: string(m.Match), Candidates: []CandidateOut{}, Consent: string(m.Consent),
		ConsentWord: m.ConsentWord, ReplyTo: m.ReplyTo, Trigger: string(m.Trigger), WorkflowID: m.WorkflowID,
		SentAt: m.SentAt, ReceivedAt: m.ReceivedAt}
	if !json.Valid(out.Raw) {
		// Stored with its odd bytes replaced; shown as a string then.
		out.Raw, _ = json.Marshal(string(m.Raw))
	}
	if md := m.Media; md != nil {
		out.Media = &InboundMediaOut{ID: md.ID, MimeType: md.MimeType, SHA256: md.SHA256, Filename: md.Filename}
	}
	for _, c := range m.Candidates {
		out.Candidates = append(out.Candidates, CandidateOut{LeadID: c.ID, FirstName: c.FirstName, LastName: c.LastName})
	}
	return out
}

// ConsentChangeOut is one change of a lead's consent.
type ConsentChangeOut struct {
	ID         string    `json:"id"`
	LeadID     string    `json:"lead_id"`
	Channel    string    `json:"channel" doc:"whatsapp (whatsapp_opt_in) or email (email_opt_out)"`
	OptedIn    bool      `json:"opted_in" doc:"The consent after the change: whatsapp_opt_in, or not email_opt_out"`
	Source     string    `json:"source" doc:"keyword, button (Meta's opt-out button among them), preference (Meta's marketing preference), unsubscribe (the email's one-click link) or api"`
	Detail     string    `json:"detail,omitempty" doc:"The keyword or label matched, or what was done"`
	InboundID  string    `json:"inbound_id,omitempty" doc:"The inbound message that made the change"`
	Trigger    string    `json:"trigger,omitempty" doc:"The trigger of the message it answered"`
	WorkflowID string    `json:"workflow_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

func consentOut(c *engine.ConsentChange) ConsentChangeOut {
	return ConsentChangeOut{ID: c.ID, LeadID: c.LeadID, Channel: c.Channel, OptedIn: c.OptedIn, Source: c.Source,
		Detail: c.Detail, InboundID: c.InboundID, Trigger: string(c.Trigger), WorkflowID: c.WorkflowID, CreatedAt: c.CreatedAt}
}

type listInboxInput struct {
	PageParams
	Match string    `query:"match" enum:"unknown_number,ambiguous" doc:"Only messages from unknown numbers, or only those from a number several leads share"`
	From  time.Time `query:"from" doc:"Received at or after (RFC 3339)"`
	To    time.Time `query:"to" doc:"Received before (RFC 3339)"`
}

func (s *Server) listInbox(ctx context.Context, in *listInboxInput) (*body[List[InboundOut]], error) {
	ms, next, err := s.app.ListInbound(ctx, principal(ctx).TenantID, engine.InboundFilter{Inbox: true,
		Match: engine.InboundMatch(in.Match), From: in.From, To: in.To}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[InboundOut]]{Body: listOf(ms, next, inboundOut)}, nil
}

type listInboundInput struct {
	PageParams
	LeadID string    `query:"lead_id"`
	Match  string    `query:"match" enum:"lead,unknown_number,ambiguous"`
	From   time.Time `query:"from" doc:"Received at or after (RFC 3339)"`
	To     time.Time `query:"to" doc:"Received before (RFC 3339)"`
}

func (s *Server) listInbound(ctx context.Context, in *listInboundInput) (*body[List[InboundOut]], error) {
	ms, next, err := s.app.ListInbound(ctx, principal(ctx).TenantID, engine.InboundFilter{LeadID: in.LeadID,
		Match: engine.InboundMatch(in.Match), From: in.From, To: in.To}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[InboundOut]]{Body: listOf(ms, next, inboundOut)}, nil
}

// InboundPath names an inbound message.
type InboundPath struct {
	InboundID string `path:"inbound_id"`
}

func (s *Server) getInbound(ctx context.Context, in *InboundPath) (*body[InboundOut], error) {
	m, err := s.app.GetInbound(ctx, principal(ctx).TenantID, in.InboundID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[InboundOut]{Body: inboundOut(m)}, nil
}

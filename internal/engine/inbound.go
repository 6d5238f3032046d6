package engine

import (
	"encoding/json"
	"time"
)

// InboundMatch says which lead an inbound message was matched to, by its
// sender's number.
type InboundMatch string

// How an inbound message was matched. Only MatchLead names a lead; the
// other two are the tenant's inbox.
const (
	// MatchLead: exactly one lead of the tenant has the sender's number.
	MatchLead InboundMatch = "lead"
	// MatchUnknownNumber: no lead has it.
	MatchUnknownNumber InboundMatch = "unknown_number"
	// MatchAmbiguous: several leads have it; Candidates names them.
	MatchAmbiguous InboundMatch = "ambiguous"
)

// Inbound message types that are not the customer writing to the business:
// Meta's system notices (a changed number, a marketing preference). They
// are stored like any other, but neither open the customer-service window
// nor count as a reply.
const InboundSystem = "system"

// InboundUnknownType is the type of an inbound message whose type Meta did
// not say.
const InboundUnknownType = "unknown"

// WhatsAppWindow is how long Meta's customer-service window stays open
// after the customer's last message: inside it a business may send
// free-form text; outside it, only approved templates.
const WhatsAppWindow = 24 * time.Hour

// ReplyAttribution is how far back an inbound message without a quoted
// message (context) looks for the outbound message it answers: the lead's
// latest message sent within this span.
const ReplyAttribution = 7 * 24 * time.Hour

// InboundMessage is one message a customer sent to the tenant's WhatsApp
// number, as the webhook delivered it, with what quoteflow made of it.
type InboundMessage struct {
	ID       string
	TenantID string
	// ProviderMessageID is Meta's wamid; a tenant stores each once.
	ProviderMessageID string
	// PhoneNumberID is the tenant's business number that received it.
	PhoneNumberID string
	// From is the sender's number in E.164 when it parses as one, else
	// "+" and the digits Meta gave.
	From        string
	WaID        string
	ProfileName string
	// Type is Meta's message type (text, button, interactive, image, ...),
	// stored as sent, InboundUnknownType when absent.
	Type string
	// Text is what a person reads: a text's body, a button's label, an
	// interactive reply's title, a media caption.
	Text string
	// Payload is what a machine reads: a quick-reply button's payload, an
	// interactive reply's id, a reaction's emoji.
	Payload string
	// Media is the reference to an image, audio, video, document or
	// sticker; the content stays at Meta.
	Media *InboundMedia
	// ContextID is the wamid of the business message the customer replied
	// to or tapped a button of; empty when none.
	ContextID string
	// Raw is the message object as Meta sent it, so that nothing of an
	// unknown type is lost.
	Raw        json.RawMessage
	LeadID     string
	Match      InboundMatch
	Candidates []LeadRef
	// Consent is what the message asked for: ConsentOptOut, ConsentOptIn
	// or "" for neither; ConsentWord is the keyword or button it matched.
	Consent     ConsentAction
	ConsentWord string
	// ReplyTo is the outbox message the reply is attributed to (the quoted
	// one, else the lead's latest sent within ReplyAttribution), with its
	// trigger and workflow, for the statistics; empty when none.
	ReplyTo    string
	Trigger    Trigger
	WorkflowID string
	// ReplyToAt is when the answered message was written, and FirstReply
	// whether this is its first reply: the reply rate counts answered
	// messages by when they were written.
	ReplyToAt  time.Time
	FirstReply bool
	// SentAt is when the customer sent it (Meta's timestamp, never later
	// than ReceivedAt); the customer-service window runs from it.
	SentAt     time.Time
	ReceivedAt time.Time
}

// OpensWindow reports whether the message opens the customer-service
// window and counts as the customer's reply.
func (m *InboundMessage) OpensWindow() bool { return m.Type != InboundSystem }

// InboundMedia is a media message's reference at Meta.
type InboundMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// LeadRef names a lead as it was when an inbound message named it.
type LeadRef struct {
	ID        string `json:"lead_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// InboundFilter narrows a list of inbound messages; empty fields do not
// filter. Inbox keeps only those matched to no single lead. From and To
// bound received_at: From <= received_at < To, a zero bound is open.
type InboundFilter struct {
	LeadID string
	Match  InboundMatch
	Inbox  bool
	From   time.Time
	To     time.Time
}

// Consent channels and sources.
const (
	// Sources of a consent change.
	ConsentByKeyword     = "keyword"     // a text message that is one of the keywords
	ConsentByButton      = "button"      // a quick-reply or interactive button (Meta's "Stop promotions" among them)
	ConsentByPreference  = "preference"  // Meta's marketing-messages preference (user_preferences, system notice)
	ConsentByUnsubscribe = "unsubscribe" // the email's one-click unsubscribe (RFC 8058)
	ConsentByAPI         = "api"         // the tenant changed the lead's flag over the API
)

// ConsentChange is the record of one change of a lead's consent on one
// channel: when, how, and which inbound message made it.
type ConsentChange struct {
	ID       string
	TenantID string
	LeadID   string
	// Channel is ChannelWhatsApp (whatsapp_opt_in) or ChannelEmail
	// (email_opt_out).
	Channel string
	// OptedIn is the consent after the change: whatsapp_opt_in, or not
	// email_opt_out.
	OptedIn bool
	// Source is one of the ConsentBy values; Detail says more (the keyword
	// matched, the button's label).
	Source string
	Detail string
	// InboundID is the inbound message that made the change, if any.
	InboundID string
	// Trigger and WorkflowID attribute the change to the message it
	// answered, for the statistics; empty when unknown.
	Trigger    Trigger
	WorkflowID string
	CreatedAt  time.Time
}

// WindowOpen reports whether a customer-service window that ends at end
// (zero: never opened) is still open at t.
func WindowOpen(end, t time.Time) bool { return !end.IsZero() && t.Before(end) }

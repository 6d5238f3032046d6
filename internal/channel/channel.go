// Package channel is the port through which quoteflow delivers a message:
// the Sender interface, the message as a provider sees it, and the error
// classes that decide what delivery does after a failure. Providers live in
// sub-packages (logsender, smtp, whatsapp) and import only this package and
// engine.
package channel

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class is what a failed send means for what happens next.
type Class string

// Error classes, as in SPEC §3.
const (
	// Transient: try again later (timeouts before the request left, 5xx,
	// 429, SMTP 4xx, WhatsApp rate limits).
	Transient Class = "transient"
	// Recipient: permanent for this recipient; try the fallback channel.
	Recipient Class = "recipient"
	// Request: permanent; the workflow or template must be fixed.
	Request Class = "request"
	// Tenant: credentials, policy or quality blocks; stop sending for this
	// tenant and provider (open the circuit) and tell the admin.
	Tenant Class = "tenant"
	// Unknown: the request may have reached the provider and its outcome is
	// not known. Never resent blindly; settled by a receipt or by policy.
	Unknown Class = "unknown"
	// Window: a free-form WhatsApp message outside the 24-hour
	// customer-service window (Meta's 131047, "Re-engagement message").
	// Permanent for this message, like Recipient, but the remedy differs:
	// the step's template goes instead, or its email fallback.
	Window Class = "window"
)

// Error is a classified provider failure.
type Error struct {
	Class Class
	// Code is the provider's own code ("131026", "550", "timeout").
	Code string
	// Message is the provider's explanation, safe to show to an admin (it
	// never contains credentials).
	Message string
	// RetryAfter is the provider's requested delay before a retry, from a
	// Retry-After header or equivalent; zero when it gave none.
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s error %s: %s", e.Class, e.Code, e.Message)
	}
	return fmt.Sprintf("%s error: %s", e.Class, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err: the Class of the first *Error in its
// chain, "" for nil, and Unknown for anything else, a context error
// included, because an unclassified failure may have been a send. Providers
// therefore classify what they know themselves: a deadline that ended a send
// before its request left is their Transient *Error.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Unknown
}

// Email is the content of an email message, rendered.
type Email struct {
	From    string // "Acme Roofing <quotes@acme.example>"
	Subject string
	Text    string
	HTML    string // optional
	// ListUnsubscribe is the URL (https: or mailto:) for List-Unsubscribe;
	// with an https URL the sender also sets List-Unsubscribe-Post for
	// one-click unsubscribe (RFC 8058).
	ListUnsubscribe string
}

// WhatsAppTemplate is an approved WhatsApp template with rendered body
// parameters.
type WhatsAppTemplate struct {
	Name       string
	Language   string // "en_US"
	Parameters []string
}

// Message is one delivery attempt as a provider sees it.
type Message struct {
	// MessageID is quoteflow's outbox id; AttemptID identifies this attempt
	// and travels with the message where the provider allows (WhatsApp's
	// biz_opaque_callback_data), so that receipts can be matched.
	MessageID string
	AttemptID string
	TenantID  string
	// To is an email address or an E.164 phone number.
	To       string
	Email    *Email
	WhatsApp *WhatsAppTemplate
	// WhatsAppText is a free-form WhatsApp text, sent instead of a
	// template; Meta accepts it only inside the customer-service window.
	WhatsAppText string
}

// Result is a successful send.
type Result struct {
	// ProviderMessageID is the provider's id for the message (WhatsApp's
	// wamid, SMTP's Message-ID), by which receipts refer to it.
	ProviderMessageID string
}

// Sender delivers messages through one provider with one tenant's
// credentials. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m *Message) (Result, error)
}

// Package logsender is a channel.Sender that delivers nothing: it writes each
// message to a structured log and keeps the most recent ones in memory. It
// backs the "log" provider of both channels, for development and for
// `quoteflow demo`, where the operator (or a test) reads what would have been
// sent instead of receiving it.
package logsender

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
)

// DefaultCapacity is how many messages New keeps. It bounds the memory a
// long-running demo can use while keeping enough history to inspect a run.
const DefaultCapacity = 1000

// Record is one message as the Sender received it.
type Record struct {
	// At is when Send was called.
	At time.Time
	// TenantID, MessageID, AttemptID and To are the message's.
	TenantID  string
	MessageID string
	AttemptID string
	To        string
	// Email and WhatsApp are copies of the message's content; at least one
	// is set.
	Email    *channel.Email
	WhatsApp *channel.WhatsAppTemplate
	// WhatsAppText is a free-form WhatsApp text, when that was sent.
	WhatsAppText string
	// ProviderMessageID is what Send returned: "log-" + AttemptID.
	ProviderMessageID string
}

// Sender records messages instead of sending them. It is safe for
// concurrent use.
type Sender struct {
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	ring []Record // ring[next] is the oldest record once the ring is full
	next int
	full bool
}

var _ channel.Sender = (*Sender)(nil)

// New returns a Sender that logs to log (nothing, when log is nil) and keeps
// the last DefaultCapacity messages.
func New(log *slog.Logger) *Sender {
	return NewWithCapacity(log, DefaultCapacity)
}

// NewWithCapacity is New keeping the last n messages (at least one).
func NewWithCapacity(log *slog.Logger, n int) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{log: log, now: time.Now, ring: make([]Record, max(n, 1))}
}

// Send records m and returns "log-" followed by the attempt id as the
// provider's message id, so that an attempt can be found in the log.
func (s *Sender) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	if err := ctx.Err(); err != nil {
		// Nothing was recorded, so trying again later is harmless.
		return channel.Result{}, &channel.Error{Class: channel.Transient, Code: "canceled",
			Message: "send canceled before the message was recorded", Err: err}
	}
	if m == nil || (m.Email == nil && m.WhatsApp == nil && m.WhatsAppText == "") {
		return channel.Result{}, &channel.Error{Class: channel.Request, Code: "empty",
			Message: "message has neither email nor whatsapp content", Err: errEmpty}
	}
	r := Record{
		At:                s.now(),
		TenantID:          m.TenantID,
		MessageID:         m.MessageID,
		AttemptID:         m.AttemptID,
		To:                m.To,
		ProviderMessageID: "log-" + m.AttemptID,
		WhatsAppText:      m.WhatsAppText,
	}
	// Copies, so that a caller reusing its message cannot rewrite history.
	if m.Email != nil {
		e := *m.Email
		r.Email = &e
	}
	if m.WhatsApp != nil {
		w := *m.WhatsApp
		w.Parameters = slices.Clone(w.Parameters)
		r.WhatsApp = &w
	}

	s.mu.Lock()
	s.ring[s.next] = r
	s.next++
	if s.next == len(s.ring) {
		s.next, s.full = 0, true
	}
	s.mu.Unlock()

	s.logRecord(ctx, &r)
	return channel.Result{ProviderMessageID: r.ProviderMessageID}, nil
}

var errEmpty = errors.New("message has no content")

// logRecord writes the info line without the body, because bodies carry
// customers' personal data and amounts that have no place in ordinary logs;
// the body goes to a separate debug line for whoever turns that on.
func (s *Sender) logRecord(ctx context.Context, r *Record) {
	attrs := []slog.Attr{
		slog.String("tenant_id", r.TenantID),
		slog.String("message_id", r.MessageID),
		slog.String("attempt_id", r.AttemptID),
		slog.String("to", r.To),
	}
	var body []slog.Attr
	switch {
	case r.Email != nil:
		attrs = append(attrs, slog.String("channel", "email"), slog.String("subject", r.Email.Subject))
		body = []slog.Attr{slog.String("from", r.Email.From), slog.String("text", r.Email.Text)}
		if r.Email.HTML != "" {
			body = append(body, slog.String("html", r.Email.HTML))
		}
		if r.Email.ListUnsubscribe != "" {
			body = append(body, slog.String("list_unsubscribe", r.Email.ListUnsubscribe))
		}
	case r.WhatsApp == nil:
		attrs = append(attrs, slog.String("channel", "whatsapp"), slog.String("form", "text"))
		body = []slog.Attr{slog.String("text", r.WhatsAppText)}
	default:
		attrs = append(attrs, slog.String("channel", "whatsapp"),
			slog.String("template", r.WhatsApp.Name), slog.String("language", r.WhatsApp.Language))
		body = []slog.Attr{slog.Any("parameters", r.WhatsApp.Parameters)}
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "message recorded", attrs...)
	if s.log.Enabled(ctx, slog.LevelDebug) {
		ids := []slog.Attr{slog.String("message_id", r.MessageID), slog.String("attempt_id", r.AttemptID)}
		s.log.LogAttrs(ctx, slog.LevelDebug, "message body", append(ids, body...)...)
	}
}

// Messages returns the recorded messages, oldest first. The slice is a copy;
// the Email and WhatsApp values it points to must not be modified.
func (s *Sender) Messages() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		return slices.Clone(s.ring[:s.next])
	}
	out := make([]Record, 0, len(s.ring))
	out = append(out, s.ring[s.next:]...)
	return append(out, s.ring[:s.next]...)
}

// Package senders builds, per tenant and channel, the provider client that
// delivers a message with that tenant's own credentials.
package senders

import (
	"fmt"
	"net/http"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// Options configure the registry.
type Options struct {
	// Log records messages of tenants whose provider is "log".
	Log *logsender.Sender
	// WhatsAppBaseURL is QUOTEFLOW_WHATSAPP_API_BASE.
	WhatsAppBaseURL string
	// WhatsAppThrottle paces sends per phone number; nil gives the
	// registry a throttle of its own at Meta's default (80 messages a
	// second). whatsapp.NewThrottle(0, 0) turns pacing off.
	WhatsAppThrottle *whatsapp.Throttle
	// HTTPClient serves the WhatsApp Cloud API; nil uses a default.
	HTTPClient *http.Client
	// SMTP holds options for every SMTP sender (tests pass a TLS config
	// that trusts their server).
	SMTP smtp.Options
}

// Registry builds senders. Clients are cheap to build and hold no
// connections between sends, so one is built per delivery and a change of
// credentials applies to the next message.
type Registry struct {
	opts Options
}

// New returns a registry.
func New(opts Options) *Registry {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: whatsapp.DefaultTimeout}
	}
	if opts.WhatsAppThrottle == nil {
		opts.WhatsAppThrottle = whatsapp.NewThrottle(whatsapp.DefaultPerSecond, whatsapp.DefaultBurst)
	}
	return &Registry{opts: opts}
}

// For returns the sender of a tenant's channel and its provider name.
func (r *Registry) For(t *engine.Tenant, ch string) (channel.Sender, string, error) {
	switch ch {
	case engine.ChannelEmail:
		e := t.Channels.Email
		if e == nil {
			return nil, "", fmt.Errorf("the tenant has no email channel configured")
		}
		switch e.Provider {
		case "log":
			return r.opts.Log, "log", nil
		case "smtp":
			s, err := smtp.New(*e, r.opts.SMTP)
			return s, "smtp", err
		}
		return nil, "", fmt.Errorf("unknown email provider %q", e.Provider)
	case engine.ChannelWhatsApp:
		w := t.Channels.WhatsApp
		if w == nil {
			return nil, "", fmt.Errorf("the tenant has no WhatsApp channel configured")
		}
		switch w.Provider {
		case "log":
			return r.opts.Log, "log", nil
		case "cloud_api":
			return whatsapp.New(*w, whatsapp.Options{BaseURL: r.opts.WhatsAppBaseURL, HTTPClient: r.opts.HTTPClient, Throttle: r.opts.WhatsAppThrottle}), "cloud_api", nil
		}
		return nil, "", fmt.Errorf("unknown WhatsApp provider %q", w.Provider)
	}
	return nil, "", fmt.Errorf("unknown channel %q", ch)
}

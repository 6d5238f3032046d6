package senders_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/channel/smtp/smtptest"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/engine"
)

const recipient = "+351912345678"

func emailTo(to string) *channel.Message {
	return &channel.Message{MessageID: "m1", AttemptID: "a1", TenantID: "t1", To: to,
		Email: &channel.Email{From: "Acme <quotes@acme.example>", Subject: "Your quote", Text: "Hello"}}
}

func whatsAppTo(to string) *channel.Message {
	return &channel.Message{MessageID: "m2", AttemptID: "a2", TenantID: "t1", To: to,
		WhatsApp: &channel.WhatsAppTemplate{Name: "quote_sent", Language: "en_US"}}
}

// TestLogProviderIsTheSharedLogSender: a tenant whose email or WhatsApp
// provider is "log" gets the process's one log sender, so its messages are
// all found in one place.
func TestLogProviderIsTheSharedLogSender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	logs := logsender.New(nil)
	r := senders.New(senders.Options{Log: logs})
	tenant := &engine.Tenant{Channels: engine.Channels{
		Email:    &engine.EmailChannel{Provider: "log", From: "Acme <quotes@acme.example>"},
		WhatsApp: &engine.WhatsAppChannel{Provider: "log"},
	}}
	for _, c := range []struct {
		ch  string
		msg *channel.Message
	}{
		{engine.ChannelEmail, emailTo("ana@customer.example")},
		{engine.ChannelWhatsApp, whatsAppTo(recipient)},
	} {
		s, provider, err := r.For(tenant, c.ch)
		if err != nil {
			t.Fatalf("%s: %v", c.ch, err)
		}
		if provider != "log" || s != channel.Sender(logs) {
			t.Fatalf("%s: got %v (%q), want the log sender", c.ch, s, provider)
		}
		if _, err := s.Send(ctx, c.msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := logs.Messages(); len(got) != 2 || got[0].To != "ana@customer.example" || got[1].To != recipient {
		t.Fatalf("log sender recorded %+v", got)
	}
}

// TestSMTPSendsWithTheTenantsServerAndCredentials: a tenant on "smtp" is
// delivered through its own server, logged in with its own user, and a
// change to its settings applies to the next message.
func TestSMTPSendsWithTheTenantsServerAndCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.WithCredentials("acme-user", "acme-secret"))
	r := senders.New(senders.Options{SMTP: smtp.Options{TLSConfig: srv.ClientTLSConfig()}})
	ch := srv.Channel("Acme <quotes@acme.example>")
	tenant := &engine.Tenant{Channels: engine.Channels{Email: &ch}}

	s, provider, err := r.For(tenant, engine.ChannelEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*smtp.Sender); !ok || provider != "smtp" {
		t.Fatalf("got %T (%q), want an SMTP sender", s, provider)
	}
	if _, err := s.Send(ctx, emailTo("ana@customer.example")); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || got[0].User != "acme-user" || got[0].To[0] != "ana@customer.example" {
		t.Fatalf("server received %+v, want one message sent as acme-user", got)
	}

	// The password changes: the next sender logs in with the new one.
	ch.Password = "wrong-now"
	s, _, err = r.For(tenant, engine.ChannelEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, emailTo("ana@customer.example")); channel.ClassOf(err) != channel.Tenant {
		t.Fatalf("with a changed password: %v, want a tenant error", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server has %d messages after a failed login, want 1", n)
	}
}

// TestCloudAPISendsWithTheTenantsAccount: a tenant on "cloud_api" sends
// from its phone number with its access token, to the configured API base,
// through the registry's HTTP client; a new token applies to the next
// message.
func TestCloudAPISendsWithTheTenantsAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wa := whatsapptest.Start(t)
	calls := &countingTransport{}
	r := senders.New(senders.Options{WhatsAppBaseURL: wa.URL(), HTTPClient: &http.Client{Transport: calls},
		WhatsAppThrottle: whatsapp.NewThrottle(0, 0)})
	ch := wa.Channel()
	tenant := &engine.Tenant{Channels: engine.Channels{WhatsApp: &ch}}

	s, provider, err := r.For(tenant, engine.ChannelWhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*whatsapp.Sender); !ok || provider != "cloud_api" {
		t.Fatalf("got %T (%q), want a Cloud API sender", s, provider)
	}
	res, err := s.Send(ctx, whatsAppTo(recipient))
	if err != nil {
		t.Fatal(err)
	}
	reqs := wa.Requests()
	if len(reqs) != 1 || reqs[0].PhoneNumberID != ch.PhoneNumberID || reqs[0].Token != ch.AccessToken || reqs[0].WAMID != res.ProviderMessageID {
		t.Fatalf("server received %+v, want one send from %s with the tenant's token", reqs, ch.PhoneNumberID)
	}
	if calls.n.Load() != 1 {
		t.Fatalf("the registry's HTTP client made %d requests, want 1", calls.n.Load())
	}

	wa.SetToken("rotated-token")
	ch.AccessToken = "rotated-token"
	s, _, err = r.For(tenant, engine.ChannelWhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, whatsAppTo(recipient)); err != nil {
		t.Fatalf("after the token was rotated: %v", err)
	}
	if reqs := wa.Requests(); len(reqs) != 2 || reqs[1].Token != "rotated-token" {
		t.Fatalf("second send carried %+v, want the rotated token", reqs[len(reqs)-1])
	}
}

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

// TestThrottleOutlivesSenders: the registry's throttle paces the phone
// number across the senders it builds, one per delivery, so building a new
// sender does not buy a new allowance.
func TestThrottleOutlivesSenders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wa := whatsapptest.Start(t)
	// One send per ~11 days: the second can never be served in the test.
	r := senders.New(senders.Options{WhatsAppBaseURL: wa.URL(), WhatsAppThrottle: whatsapp.NewThrottle(1e-6, 1)})
	ch := wa.Channel()
	tenant := &engine.Tenant{Channels: engine.Channels{WhatsApp: &ch}}
	send := func() error {
		s, _, err := r.For(tenant, engine.ChannelWhatsApp)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_, err = s.Send(ctx, whatsAppTo(recipient))
		return err
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	err := send()
	var ce *channel.Error
	if !errors.As(err, &ce) || ce.Class != channel.Transient || ce.Code != "timeout" {
		t.Fatalf("second send: %v, want a transient timeout from the throttle", err)
	}
	if n := wa.Attempts(recipient); n != 1 {
		t.Fatalf("server saw %d sends, want 1: a throttled send must not leave", n)
	}
}

// TestMisconfiguredChannels: a channel the tenant has not set up, or set up
// with a provider quoteflow does not know, yields no sender and an error
// that says what to fix (app.Send reports it as a Tenant error); SMTP
// settings that can never work are a Tenant error already.
func TestMisconfiguredChannels(t *testing.T) {
	t.Parallel()
	r := senders.New(senders.Options{Log: logsender.New(nil)})
	for _, c := range []struct {
		name     string
		channels engine.Channels
		ch       string
		want     string
	}{
		{"no email channel", engine.Channels{WhatsApp: &engine.WhatsAppChannel{Provider: "log"}}, engine.ChannelEmail, "no email channel"},
		{"no whatsapp channel", engine.Channels{Email: &engine.EmailChannel{Provider: "log"}}, engine.ChannelWhatsApp, "no WhatsApp channel"},
		{"unknown email provider", engine.Channels{Email: &engine.EmailChannel{Provider: "sendgrid"}}, engine.ChannelEmail, `unknown email provider "sendgrid"`},
		{"empty email provider", engine.Channels{Email: &engine.EmailChannel{}}, engine.ChannelEmail, `unknown email provider ""`},
		{"unknown whatsapp provider", engine.Channels{WhatsApp: &engine.WhatsAppChannel{Provider: "twilio"}}, engine.ChannelWhatsApp, `unknown WhatsApp provider "twilio"`},
		{"unknown channel", engine.Channels{Email: &engine.EmailChannel{Provider: "log"}}, "sms", `unknown channel "sms"`},
	} {
		s, provider, err := r.For(&engine.Tenant{Channels: c.channels}, c.ch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
		if s != nil || provider != "" {
			t.Errorf("%s: got sender %v (%q) with the error", c.name, s, provider)
		}
	}

	// An SMTP channel without a host.
	tenant := &engine.Tenant{Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "smtp", Port: 587, From: "quotes@acme.example"}}}
	_, provider, err := r.For(tenant, engine.ChannelEmail)
	var ce *channel.Error
	if !errors.As(err, &ce) || ce.Class != channel.Tenant || ce.Code != "config" || provider != "smtp" {
		t.Fatalf("smtp without a host: %v (%q), want a tenant config error", err, provider)
	}

	// A Cloud API channel without credentials still gets its sender; the
	// first send says what is missing, without contacting Meta.
	tenant = &engine.Tenant{Channels: engine.Channels{WhatsApp: &engine.WhatsAppChannel{Provider: "cloud_api"}}}
	s, _, err := r.For(tenant, engine.ChannelWhatsApp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), whatsAppTo(recipient)); !errors.As(err, &ce) || ce.Class != channel.Tenant || ce.Code != "config" {
		t.Fatalf("cloud_api without credentials: %v, want a tenant config error", err)
	}
}

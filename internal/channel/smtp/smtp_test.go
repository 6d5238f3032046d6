package smtp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/channel/smtp/smtptest"
	"github.com/quoteflow/quoteflow/internal/engine"
)

const from = "Olá João <quotes@acme.example>"

func newSender(t *testing.T, cfg engine.EmailChannel, opts smtp.Options) *smtp.Sender {
	t.Helper()
	s, err := smtp.New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func senderFor(t *testing.T, srv *smtptest.Server) *smtp.Sender {
	t.Helper()
	return newSender(t, srv.Channel(from), smtp.Options{TLSConfig: srv.ClientTLSConfig(), Timeout: 5 * time.Second})
}

func message(to string) *channel.Message {
	return &channel.Message{
		MessageID: "0190f3a2-7c1e-7b7a-9c55-3f1d2e4a5b6c",
		AttemptID: "att-1",
		TenantID:  "tenant-1",
		To:        to,
		Email: &channel.Email{
			Subject: "Olá João, o seu orçamento Q-1001",
			Text:    "Olá João,\n\nO seu orçamento está pronto: 1.234,56 €.\n",
		},
	}
}

// wantError asserts that err is a *channel.Error of class and code.
func wantError(t *testing.T, err error, class channel.Class, code string) *channel.Error {
	t.Helper()
	var ce *channel.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *channel.Error", err, err)
	}
	if ce.Class != class || ce.Code != code {
		t.Fatalf("got %s/%s (%v), want %s/%s", ce.Class, ce.Code, ce, class, code)
	}
	return ce
}

func TestSendSTARTTLSHeaders(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	s := senderFor(t, srv)

	m := message("joao@example.com")
	m.Email.HTML = "<p>Olá João, o seu orçamento está pronto.</p>"
	m.Email.ListUnsubscribe = "https://app.quoteflow.example/u/abc123"
	res1, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	m.AttemptID = "att-2"
	res2, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("second send: %v", err)
	}

	wantID := "<0190f3a2-7c1e-7b7a-9c55-3f1d2e4a5b6c@acme.example>"
	if res1.ProviderMessageID != wantID || res2.ProviderMessageID != wantID {
		t.Errorf("provider ids %q, %q; want %q for both", res1.ProviderMessageID, res2.ProviderMessageID, wantID)
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("server got %d messages, want 2", len(got))
	}
	for i, rm := range got {
		if rm.Header.Get("Message-ID") != wantID {
			t.Errorf("message %d: Message-ID %q, want %q", i, rm.Header.Get("Message-ID"), wantID)
		}
		if want := fmt.Sprintf("att-%d", i+1); rm.Header.Get("X-Quoteflow-Attempt") != want {
			t.Errorf("message %d: X-Quoteflow-Attempt %q, want %q", i, rm.Header.Get("X-Quoteflow-Attempt"), want)
		}
	}

	rm := got[0]
	if !rm.TLS || rm.User != smtptest.User {
		t.Errorf("TLS=%v User=%q, want an authenticated TLS session", rm.TLS, rm.User)
	}
	if rm.From != "quotes@acme.example" || len(rm.To) != 1 || rm.To[0] != "joao@example.com" {
		t.Errorf("envelope %q -> %q", rm.From, rm.To)
	}
	fromList, err := rm.Header.AddressList("From")
	if err != nil || len(fromList) != 1 || fromList[0].Name != "Olá João" || fromList[0].Address != "quotes@acme.example" {
		t.Errorf("From = %q (%v)", rm.Header.Get("From"), err)
	}
	toList, err := rm.Header.AddressList("To")
	if err != nil || len(toList) != 1 || toList[0].Address != "joao@example.com" {
		t.Errorf("To = %q (%v)", rm.Header.Get("To"), err)
	}
	if subj := rm.DecodedHeader("Subject"); subj != m.Email.Subject {
		t.Errorf("Subject = %q (raw %q)", subj, rm.Header.Get("Subject"))
	}
	if d, err := rm.Header.Date(); err != nil || time.Since(d) > time.Hour || time.Until(d) > time.Hour {
		t.Errorf("Date = %q (%v)", rm.Header.Get("Date"), err)
	}
	if v := rm.Header.Get("List-Unsubscribe"); v != "<https://app.quoteflow.example/u/abc123>" {
		t.Errorf("List-Unsubscribe = %q", v)
	}
	if v := rm.Header.Get("List-Unsubscribe-Post"); v != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", v)
	}
	if v := rm.Header.Get("User-Agent") + rm.Header.Get("X-Mailer"); v != "" {
		t.Errorf("library advertised itself: %q", v)
	}
	if ct := rm.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
	bodies, err := rm.Bodies()
	if err != nil {
		t.Fatal(err)
	}
	if bodies["text/plain"] != m.Email.Text {
		t.Errorf("text/plain = %q", bodies["text/plain"])
	}
	if bodies["text/html"] != m.Email.HTML {
		t.Errorf("text/html = %q", bodies["text/html"])
	}
}

func TestSendImplicitTLSTextOnly(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithImplicitTLS())
	s := senderFor(t, srv)
	m := message("ana@example.com")
	m.Email.ListUnsubscribe = "mailto:unsubscribe@acme.example?subject=q1001"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	rm := got[0]
	if !rm.TLS || rm.User != smtptest.User {
		t.Errorf("TLS=%v User=%q", rm.TLS, rm.User)
	}
	if ct := rm.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	if v := rm.Header.Get("List-Unsubscribe"); v != "<mailto:unsubscribe@acme.example?subject=q1001>" {
		t.Errorf("List-Unsubscribe = %q", v)
	}
	if v, ok := rm.Header["List-Unsubscribe-Post"]; ok {
		t.Errorf("List-Unsubscribe-Post = %q for a mailto URL", v)
	}
}

func TestSendPlainRelay(t *testing.T) {
	t.Parallel()
	t.Run("with auth", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.WithoutTLS())
		if _, err := senderFor(t, srv).Send(context.Background(), message("ana@example.com")); err != nil {
			t.Fatal(err)
		}
		if rm := srv.Messages()[0]; rm.TLS || rm.User != smtptest.User {
			t.Errorf("TLS=%v User=%q", rm.TLS, rm.User)
		}
	})
	t.Run("without auth", func(t *testing.T) {
		t.Parallel()
		srv := smtptest.Start(t, smtptest.WithoutTLS(), smtptest.WithoutAuth())
		cfg := srv.Channel(from)
		if cfg.Username != "" {
			t.Fatalf("channel has credentials for a server without auth: %+v", cfg)
		}
		if _, err := newSender(t, cfg, smtp.Options{}).Send(context.Background(), message("ana@example.com")); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("server got %d messages", n)
		}
	})
}

func TestSendLoginWhenPlainIsNotOffered(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithAuthMechanisms("LOGIN"))
	if _, err := senderFor(t, srv).Send(context.Background(), message("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	if rm := srv.Messages()[0]; rm.User != smtptest.User {
		t.Errorf("User=%q", rm.User)
	}
}

func TestSTARTTLSNotOfferedSendsNothing(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithoutTLS())
	cfg := srv.Channel(from)
	cfg.TLS = smtp.TLSStartTLS
	_, err := newSender(t, cfg, smtp.Options{}).Send(context.Background(), message("ana@example.com"))
	wantError(t, err, channel.Tenant, "tls")
	if srv.AuthAttempts() != 0 || srv.MailCommands() != 0 || len(srv.Messages()) != 0 {
		t.Errorf("sent in clear: auth=%d mail=%d messages=%d",
			srv.AuthAttempts(), srv.MailCommands(), len(srv.Messages()))
	}
}

func TestUntrustedCertificate(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]smtptest.Option{nil, {smtptest.WithImplicitTLS()}} {
		srv := smtptest.Start(t, opts...)
		t.Run(srv.TLS, func(t *testing.T) {
			t.Parallel()
			// No TLSConfig: the system roots do not know the test's
			// self-signed certificate.
			s := newSender(t, srv.Channel(from), smtp.Options{})
			_, err := s.Send(context.Background(), message("ana@example.com"))
			wantError(t, err, channel.Tenant, "tls")
			if srv.AuthAttempts() != 0 || srv.MailCommands() != 0 {
				t.Errorf("auth=%d mail=%d after a failed handshake", srv.AuthAttempts(), srv.MailCommands())
			}
		})
	}
}

func TestAuthFailureIsTenantAndHidesThePassword(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	cfg := srv.Channel(from)
	cfg.Password = "wrong-but-secret-password"
	_, err := newSender(t, cfg, smtp.Options{TLSConfig: srv.ClientTLSConfig()}).
		Send(context.Background(), message("ana@example.com"))
	ce := wantError(t, err, channel.Tenant, "535")
	if srv.AuthAttempts() != 1 || srv.MailCommands() != 0 {
		t.Errorf("auth=%d mail=%d", srv.AuthAttempts(), srv.MailCommands())
	}
	for e := error(ce); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), cfg.Password) {
			t.Errorf("error chain shows the password: %v", e)
		}
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	cfg := srv.Channel(from)
	cfg.Username, cfg.Password = "", ""
	_, err := newSender(t, cfg, smtp.Options{TLSConfig: srv.ClientTLSConfig()}).
		Send(context.Background(), message("ana@example.com"))
	wantError(t, err, channel.Tenant, "530")
}

// TestReplies covers the reply part of the classification table against a
// server scripted to fail at each stage.
func TestReplies(t *testing.T) {
	t.Parallel()
	rule := func(st smtptest.Stage, local string, code int) smtptest.Rule {
		return smtptest.Rule{Stage: st, Local: local, Code: code, Message: "scripted"}
	}
	srv := smtptest.Start(t, smtptest.WithRules(
		rule(smtptest.StageMail, "busy", 421),
		rule(smtptest.StageRcpt, "full", 452),
		rule(smtptest.StageRcpt, "moved", 551),
		rule(smtptest.StageRcpt, "badbox", 553),
		rule(smtptest.StageRcpt, "toomany", 552),
		rule(smtptest.StageRcpt, "relay", 554),
		rule(smtptest.StageRcpt, "odd", 555),
		rule(smtptest.StageData, "later", 451),
		rule(smtptest.StageData, "huge", 552),
		rule(smtptest.StageData, "dmarc", 550),
	))
	tests := []struct {
		from, to string
		class    channel.Class
		code     string
	}{
		{to: "temp@example.com", class: channel.Transient, code: "451"},
		{to: "full@example.com", class: channel.Transient, code: "452"},
		{to: "nobody@example.com", class: channel.Recipient, code: "550"},
		{to: "moved@example.com", class: channel.Recipient, code: "551"},
		{to: "badbox@example.com", class: channel.Recipient, code: "553"},
		{to: "toomany@example.com", class: channel.Transient, code: "552"},
		{to: "relay@example.com", class: channel.Tenant, code: "554"},
		{to: "odd@example.com", class: channel.Request, code: "555"},
		{from: "blocked@acme.example", to: "ana@example.com", class: channel.Tenant, code: "553"},
		{from: "busy@acme.example", to: "ana@example.com", class: channel.Transient, code: "421"},
		{to: "later@example.com", class: channel.Transient, code: "451"},
		{to: "spam@example.com", class: channel.Tenant, code: "554"},
		{to: "dmarc@example.com", class: channel.Tenant, code: "550"},
		{to: "huge@example.com", class: channel.Request, code: "552"},
		{to: "drop@example.com", class: channel.Unknown, code: "connection"},
	}
	for _, tt := range tests {
		t.Run(tt.from+"->"+tt.to, func(t *testing.T) {
			t.Parallel()
			cfg := srv.Channel(from)
			if tt.from != "" {
				cfg.From = tt.from
			}
			s := newSender(t, cfg, smtp.Options{TLSConfig: srv.ClientTLSConfig(), Timeout: 5 * time.Second})
			_, err := s.Send(context.Background(), message(tt.to))
			wantError(t, err, tt.class, tt.code)
		})
	}
}

func TestDroppedAfterDataWasReceived(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	_, err := senderFor(t, srv).Send(context.Background(), message("drop@example.com"))
	ce := wantError(t, err, channel.Unknown, "connection")
	if !strings.Contains(ce.Message, "may have accepted") {
		t.Errorf("message %q does not say the outcome is unknown", ce.Message)
	}
	got := srv.Messages()
	if len(got) != 1 || !got[0].Dropped {
		t.Fatalf("server messages: %+v", got)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.WithRules(
		smtptest.Rule{Stage: smtptest.StageRcpt, Local: "slow", Action: smtptest.Hang},
	))
	s := newSender(t, srv.Channel(from), smtp.Options{TLSConfig: srv.ClientTLSConfig(), Timeout: 300 * time.Millisecond})
	t.Run("before data", func(t *testing.T) {
		t.Parallel()
		_, err := s.Send(context.Background(), message("slow@example.com"))
		wantError(t, err, channel.Transient, "timeout")
	})
	t.Run("after data", func(t *testing.T) {
		t.Parallel()
		_, err := s.Send(context.Background(), message("hang@example.com"))
		wantError(t, err, channel.Unknown, "timeout")
	})
	t.Run("caller deadline after data", func(t *testing.T) {
		t.Parallel()
		long := newSender(t, srv.Channel(from), smtp.Options{TLSConfig: srv.ClientTLSConfig()})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := long.Send(ctx, message("hang@example.com"))
		wantError(t, err, channel.Unknown, "timeout")
	})
}

func TestDialFailures(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()

	cfg := engine.EmailChannel{Provider: "smtp", Host: "127.0.0.1", Port: closedPort, TLS: "starttls", From: from}
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		_, err := newSender(t, cfg, smtp.Options{}).Send(context.Background(), message("ana@example.com"))
		wantError(t, err, channel.Transient, "dial")
	})
	dialErr := func(err error) smtp.Options {
		return smtp.Options{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, err }}
	}
	t.Run("dns failure", func(t *testing.T) {
		t.Parallel()
		dns := &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "smtp.nowhere.invalid", IsNotFound: true}}
		_, err := newSender(t, cfg, dialErr(dns)).Send(context.Background(), message("ana@example.com"))
		ce := wantError(t, err, channel.Transient, "dial")
		var de *net.DNSError
		if !errors.As(ce, &de) {
			t.Errorf("DNS error not wrapped: %v", ce)
		}
	})
	t.Run("dial timeout", func(t *testing.T) {
		t.Parallel()
		timeout := &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}
		_, err := newSender(t, cfg, dialErr(timeout)).Send(context.Background(), message("ana@example.com"))
		wantError(t, err, channel.Transient, "timeout")
	})
	t.Run("caller canceled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newSender(t, cfg, smtp.Options{}).Send(ctx, message("ana@example.com"))
		wantError(t, err, channel.Transient, "canceled")
	})
}

// TestMessageFaultsDoNotDial checks that problems with the message itself
// are found before connecting.
func TestMessageFaultsDoNotDial(t *testing.T) {
	t.Parallel()
	cfg := engine.EmailChannel{Provider: "smtp", Host: "smtp.acme.example", From: from}
	s := newSender(t, cfg, smtp.Options{DialContext: func(context.Context, string, string) (net.Conn, error) {
		t.Error("dialled for a message that cannot be sent")
		return nil, errors.New("no")
	}})
	tests := []struct {
		name  string
		edit  func(*channel.Message)
		class channel.Class
		code  string
	}{
		{"bad recipient", func(m *channel.Message) { m.To = "not an address" }, channel.Recipient, "address"},
		{"header injection in recipient", func(m *channel.Message) { m.To = "a@example.com\r\nBcc: x@example.com" },
			channel.Recipient, "address"},
		{"no email", func(m *channel.Message) { m.Email = nil }, channel.Request, "content"},
		{"no message id", func(m *channel.Message) { m.MessageID = "" }, channel.Request, "content"},
		{"http unsubscribe", func(m *channel.Message) { m.Email.ListUnsubscribe = "http://acme.example/u" },
			channel.Request, "list-unsubscribe"},
		{"unsubscribe injection", func(m *channel.Message) {
			m.Email.ListUnsubscribe = "https://acme.example/u>\r\nBcc: x@example.com"
		}, channel.Request, "list-unsubscribe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := message("ana@example.com")
			tt.edit(m)
			_, err := s.Send(context.Background(), m)
			wantError(t, err, tt.class, tt.code)
		})
	}
	if _, err := s.Send(context.Background(), nil); channel.ClassOf(err) != channel.Request {
		t.Errorf("nil message: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := engine.EmailChannel{Provider: "smtp", Host: "smtp.acme.example", TLS: "starttls", From: from}
	tests := []struct {
		name string
		edit func(*engine.EmailChannel)
		opts smtp.Options
	}{
		{"no host", func(c *engine.EmailChannel) { c.Host = "" }, smtp.Options{}},
		{"bad tls", func(c *engine.EmailChannel) { c.TLS = "ssl" }, smtp.Options{}},
		{"bad port", func(c *engine.EmailChannel) { c.Port = 70000 }, smtp.Options{}},
		{"bad from", func(c *engine.EmailChannel) { c.From = "acme" }, smtp.Options{}},
		{"password without user", func(c *engine.EmailChannel) { c.Password = "x" }, smtp.Options{}},
		{"bad hostname", func(*engine.EmailChannel) {}, smtp.Options{Hostname: "a>b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.edit(&cfg)
			_, err := smtp.New(cfg, tt.opts)
			wantError(t, err, channel.Tenant, "config")
		})
	}
	if _, err := smtp.New(good, smtp.Options{}); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestHostnameOptionAndConcurrentSends(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	s := newSender(t, srv.Channel(from), smtp.Options{TLSConfig: srv.ClientTLSConfig(), Hostname: "mx.quoteflow.example"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := message(fmt.Sprintf("lead%d@example.com", i))
			m.MessageID = fmt.Sprintf("msg-%d", i)
			res, err := s.Send(context.Background(), m)
			if err != nil {
				t.Error(err)
				return
			}
			if want := fmt.Sprintf("<msg-%d@mx.quoteflow.example>", i); res.ProviderMessageID != want {
				t.Errorf("ProviderMessageID = %q, want %q", res.ProviderMessageID, want)
			}
		})
	}
	wg.Wait()
	if n := len(srv.Messages()); n != 8 {
		t.Errorf("server got %d messages, want 8", n)
	}
}

func TestFromDisplayNameButNotAddressComesFromTheMessage(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t)
	s := senderFor(t, srv)
	m := message("ana@example.com")
	m.Email.From = "Acme Roofing <QUOTES@acme.example>"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m.Email.From = "CEO <ceo@elsewhere.example>"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if a, _ := got[0].Header.AddressList("From"); len(a) != 1 || a[0].Name != "Acme Roofing" {
		t.Errorf("same address: From = %q", got[0].Header.Get("From"))
	}
	if a, _ := got[1].Header.AddressList("From"); len(a) != 1 || a[0].Name != "Olá João" ||
		a[0].Address != "quotes@acme.example" {
		t.Errorf("other address: From = %q", got[1].Header.Get("From"))
	}
	for _, rm := range got {
		if rm.From != "quotes@acme.example" {
			t.Errorf("envelope from %q", rm.From)
		}
	}
}

// Package smtp is the channel.Sender that delivers email through a tenant's
// SMTP submission server, using github.com/wneessen/go-mail to build the
// message and to speak the protocol.
//
// Each Send opens its own connection (no pooling), so that one tenant's slow
// or broken server affects only its own messages and a failure can be pinned
// on the stage at which it happened. That stage decides the error's class
// (classify.go has the full table):
//
//   - no connection (refused, DNS, dial timeout): Transient;
//   - any 4xx reply: Transient;
//   - 530/534/535/538, and any 5xx before RCPT: Tenant;
//   - 550/551/553 at RCPT: Recipient; 552 at RCPT: Transient (RFC 5321
//     §4.5.3.1.10); 554 at RCPT: Tenant; other 5xx at RCPT: Request;
//   - 552 at DATA: Request; other 5xx at DATA: Tenant;
//   - TLS handshake or certificate failure, STARTTLS not offered, no usable
//     AUTH mechanism: Tenant;
//   - a broken connection or timeout before the message's final "." was
//     sent: Transient; after it may have been sent: Unknown, never retried
//     blindly.
//
// The error's Code is the reply code ("451") or one of "dial", "timeout",
// "canceled", "connection", "tls", "auth", "protocol", "config", "address",
// "content", "list-unsubscribe", "render".
//
// Transport security follows engine.EmailChannel.TLS:
//
//   - "starttls" (the default; port 587 unless set): STARTTLS is mandatory.
//     A server that does not offer it gets nothing but EHLO and QUIT, never
//     the credentials or the message.
//   - "tls" (port 465 unless set): TLS from the first byte.
//   - "none" (port 25 unless set): plain text throughout, AUTH included. It
//     exists only for a relay on the same host or a trusted local network,
//     such as a sidecar MTA; anything reached over a real network must use
//     one of the others.
//
// With a Username, the sender authenticates with PLAIN, or with LOGIN when
// the server offers only that. Both send the password as it is, which is
// safe only inside TLS; go-mail's auth refuses them on a clear connection and
// the sender allows it only with "none". Mechanisms such as CRAM-MD5 or SCRAM
// are not used: submission servers rarely offer them, and the choice would
// then depend on what a server advertises rather than on configuration.
package smtp

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// The values of engine.EmailChannel.TLS.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// DefaultTimeout bounds one Send when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// HeaderAttempt carries the delivery attempt's id, so that a message found
// in a mailbox or a bounce can be traced to the attempt that sent it.
const HeaderAttempt = "X-Quoteflow-Attempt"

// Options are the settings of a Sender that are not the tenant's.
type Options struct {
	// Hostname is the right-hand side of Message-IDs and the name given in
	// EHLO. Default: the domain of the channel's From address.
	Hostname string
	// Timeout bounds a whole Send, from dialling to the server's reply to
	// the message. Default: DefaultTimeout.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS and implicit TLS; it is cloned. Its
	// ServerName defaults to the channel's Host and its MinVersion to TLS
	// 1.2. Tests pass one that trusts their self-signed certificate.
	TLSConfig *tls.Config
	// DialContext opens the TCP connection. Default: a net.Dialer.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
}

// Sender sends email through one tenant's SMTP server. It is safe for
// concurrent use.
type Sender struct {
	host      string
	port      int
	mode      string
	username  string
	password  string
	from      *netmail.Address
	hostname  string
	timeout   time.Duration
	tlsConfig *tls.Config
	dial      func(ctx context.Context, network, address string) (net.Conn, error)
	mailer    *gomail.Client
	secrets   *strings.Replacer
}

var _ channel.Sender = (*Sender)(nil)

// New returns a Sender for cfg. A configuration that can never work (no host,
// an unknown TLS mode, an unparseable From) is reported as a *channel.Error
// of class Tenant, like any other problem the tenant has to fix.
func New(cfg engine.EmailChannel, opts Options) (*Sender, error) {
	s := &Sender{
		host:     cfg.Host,
		port:     cfg.Port,
		mode:     cfg.TLS,
		username: cfg.Username,
		password: cfg.Password,
		hostname: opts.Hostname,
		timeout:  opts.Timeout,
		dial:     opts.DialContext,
	}
	if s.host == "" {
		return nil, configError("smtp host is not set")
	}
	if s.mode == "" {
		s.mode = TLSStartTLS
	}
	if s.port == 0 {
		switch s.mode {
		case TLSImplicit:
			s.port = 465
		case TLSNone:
			s.port = 25
		default:
			s.port = 587
		}
	}
	switch {
	case s.mode != TLSStartTLS && s.mode != TLSImplicit && s.mode != TLSNone:
		return nil, configError(fmt.Sprintf("unknown tls mode %q (want starttls, tls or none)", cfg.TLS))
	case s.port < 1 || s.port > 65535:
		return nil, configError(fmt.Sprintf("invalid smtp port %d", cfg.Port))
	case s.username == "" && s.password != "":
		return nil, configError("smtp password is set without a username")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, configError(fmt.Sprintf("invalid from address %q: %v", cfg.From, err))
	}
	s.from = from
	if s.hostname == "" {
		_, s.hostname, _ = strings.Cut(from.Address, "@")
	}
	if !validHostname(s.hostname) {
		return nil, configError(fmt.Sprintf("invalid hostname %q for message ids", s.hostname))
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.dial == nil {
		s.dial = (&net.Dialer{}).DialContext
	}
	if opts.TLSConfig != nil {
		s.tlsConfig = opts.TLSConfig.Clone()
	} else {
		s.tlsConfig = &tls.Config{}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	if s.tlsConfig.MinVersion == 0 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	// The go-mail client is used only for the transaction (MAIL, RCPT,
	// DATA) on a connection this package set up; NOOP and RSET would only
	// add round trips to a connection that carries a single message.
	s.mailer, err = gomail.NewClient(s.host, gomail.WithHELO(s.hostname), gomail.WithTimeout(s.timeout),
		gomail.WithoutNoop(), gomail.WithoutRset())
	if err != nil {
		return nil, fmt.Errorf("smtp: create client: %w", err)
	}
	if len(s.password) >= minRedactLen {
		plain := "\x00" + s.username + "\x00" + s.password
		s.secrets = strings.NewReplacer(
			s.password, "[redacted]",
			base64.StdEncoding.EncodeToString([]byte(s.password)), "[redacted]",
			base64.StdEncoding.EncodeToString([]byte(plain)), "[redacted]",
		)
	}
	return s, nil
}

// minRedactLen keeps redaction from mangling every message that happens to
// contain a very short password's characters.
const minRedactLen = 4

func configError(msg string) error {
	return &channel.Error{Class: channel.Tenant, Code: "config", Message: msg, Err: errors.New(msg)}
}

// Send delivers m.Email to m.To. On success the provider message id is the
// Message-ID header's value, angle brackets included ("<id@host>"), exactly
// as bounces and replies quote it. Every error is a *channel.Error.
func (s *Sender) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	if m == nil || m.Email == nil {
		return channel.Result{}, &channel.Error{Class: channel.Request, Code: "content",
			Message: "message has no email content", Err: errNoContent}
	}
	msg, msgID, err := s.compose(m)
	if err != nil {
		return channel.Result{}, err
	}
	if err := s.deliver(ctx, msg); err != nil {
		return channel.Result{}, s.redact(err)
	}
	return channel.Result{ProviderMessageID: msgID}, nil
}

var errNoContent = errors.New("no email content")

// compose builds the message. Its failures are the message's fault, found
// before anything goes on the wire.
func (s *Sender) compose(m *channel.Message) (*gomail.Msg, string, error) {
	e := m.Email
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, "", &channel.Error{Class: channel.Recipient, Code: "address",
			Message: fmt.Sprintf("invalid recipient address %q", m.To), Err: err}
	}
	if m.MessageID == "" {
		return nil, "", &channel.Error{Class: channel.Request, Code: "content",
			Message: "message has no id to derive a Message-ID from", Err: errNoContent}
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.headerFrom(e.From))
	// The envelope sender is always the configured address: it is what the
	// tenant's server authorises and where bounces must go.
	msg.EnvelopeFromMailAddress(&netmail.Address{Address: s.from.Address})
	msg.ToMailAddress(to)
	msg.Subject(e.Subject)
	msg.SetMessageIDWithValue(messageIDLeft(m.MessageID) + "@" + s.hostname)
	msg.SetDateWithValue(time.Now())
	if m.AttemptID != "" {
		msg.SetGenHeader(HeaderAttempt, m.AttemptID)
	}
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	if e.ListUnsubscribe != "" {
		if err := setListUnsubscribe(msg, e.ListUnsubscribe); err != nil {
			return nil, "", &channel.Error{Class: channel.Request, Code: "list-unsubscribe",
				Message: err.Error(), Err: err}
		}
	}
	return msg, msg.GetMessageID(), nil
}

// headerFrom lets a message choose the display name of its From but not the
// address: a template must not be able to send as someone the tenant's
// server (and its SPF and DKIM) does not vouch for.
func (s *Sender) headerFrom(emailFrom string) *netmail.Address {
	if emailFrom != "" {
		if a, err := netmail.ParseAddress(emailFrom); err == nil && strings.EqualFold(a.Address, s.from.Address) {
			return a
		}
	}
	return s.from
}

// setListUnsubscribe adds List-Unsubscribe and, for an https URL, the RFC
// 8058 one-click List-Unsubscribe-Post. The header is written as given, so
// the URL is checked first: it must not be able to break out of its angle
// brackets or its header line.
func setListUnsubscribe(msg *gomail.Msg, raw string) error {
	if strings.ContainsAny(raw, "<>\r\n \t\"") {
		return fmt.Errorf("list-unsubscribe url %q contains characters not allowed in the header", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid list-unsubscribe url: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
		return msg.SetListUnsubscribeOneClick(raw)
	case u.Scheme == "mailto" && u.Opaque != "":
		msg.SetListUnsubscribe(raw)
		return nil
	}
	return fmt.Errorf("list-unsubscribe url %q is neither https nor mailto", raw)
}

// messageIDLeft returns the outbox id as the left-hand side of a Message-ID
// when it is a valid dot-atom (UUIDs and ULIDs are), and its hex encoding
// otherwise; either way the same id always gives the same Message-ID, which
// is what lets receivers drop a retried duplicate.
func messageIDLeft(id string) string {
	ok := !strings.HasPrefix(id, ".") && !strings.HasSuffix(id, ".") && !strings.Contains(id, "..")
	for _, r := range id {
		if !ok {
			break
		}
		ok = r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(".-_+=", r))
	}
	if ok {
		return id
	}
	return "x" + hex.EncodeToString([]byte(id))
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// redact removes the password, plain or base64-encoded as AUTH sends it, from
// an error, in case a server echoes what it was sent.
func (s *Sender) redact(err error) error {
	var ce *channel.Error
	if s.secrets == nil || !errors.As(err, &ce) {
		return err
	}
	msg := s.secrets.Replace(ce.Message)
	underlying := ce.Err
	if underlying != nil {
		if text := underlying.Error(); s.secrets.Replace(text) != text {
			underlying = errors.New(s.secrets.Replace(text))
		}
	}
	if msg == ce.Message && underlying == ce.Err {
		return err
	}
	out := *ce
	out.Message, out.Err = msg, underlying
	return &out
}

// deliver runs one SMTP session for msg.
func (s *Sender) deliver(ctx context.Context, msg *gomail.Msg) error {
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	raw, err := s.dial(ctx, "tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil {
		return s.fail(ctx, nil, stageDial, err)
	}
	conn := &trackedConn{Conn: raw}
	// Closing the connection is what interrupts a blocked read or write
	// when the context ends; go-mail resets the connection's deadline as it
	// goes, so a deadline alone would not hold.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetDeadline(deadline)

	var nc net.Conn = conn
	if s.mode == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return s.fail(ctx, conn, stageTLS, err)
		}
		nc = tc
	}
	client, err := gosmtp.NewClient(nc, s.host)
	if err != nil {
		_ = conn.Close()
		return s.fail(ctx, conn, stageGreeting, err)
	}
	if err := s.setup(ctx, conn, client); err != nil {
		_ = client.Close()
		return err
	}

	err = s.mailer.SendWithSMTPClient(client, msg)
	if msg.IsDelivered() {
		// The server took responsibility for the message; whatever happens
		// to the connection now does not change that.
		_ = client.Quit()
		return nil
	}
	_ = client.Close()
	if err == nil {
		err = errors.New("go-mail reported neither delivery nor an error")
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return s.fail(ctx, conn, stageEnd, err)
	}
	return s.fail(ctx, conn, sendErrorStage(se.Reason), err)
}

// setup runs EHLO, STARTTLS and AUTH.
func (s *Sender) setup(ctx context.Context, conn *trackedConn, client *gosmtp.Client) error {
	if err := client.Hello(s.hostname); err != nil {
		return s.fail(ctx, conn, stageHello, err)
	}
	if s.mode == TLSStartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return &channel.Error{Class: channel.Tenant, Code: "tls", Err: errNoSTARTTLS,
				Message: "server does not offer STARTTLS; refusing to authenticate or send in clear text"}
		}
		if err := client.StartTLS(s.tlsConfig); err != nil {
			st := stageTLS
			// go-mail's StartTLS also sends the EHLO that follows the
			// handshake; a failure after a completed handshake is that
			// EHLO's, not the TLS configuration's.
			if state, ok := client.TLSConnectionState(); ok && state.HandshakeComplete {
				st = stageHello
			}
			return s.fail(ctx, conn, st, err)
		}
	}
	if s.username == "" {
		return nil
	}
	ok, offered := client.Extension("AUTH")
	if !ok {
		return &channel.Error{Class: channel.Tenant, Code: "auth", Err: errNoAuth,
			Message: "server does not offer AUTH but credentials are configured"}
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	allowClear := s.mode == TLSNone
	var auth gosmtp.Auth
	switch {
	case containsString(mechs, "PLAIN"):
		auth = gosmtp.PlainAuth("", s.username, s.password, s.host, allowClear)
	case containsString(mechs, "LOGIN"):
		auth = gosmtp.LoginAuth(s.username, s.password, s.host, allowClear)
	default:
		return &channel.Error{Class: channel.Tenant, Code: "auth", Err: errNoAuth,
			Message: fmt.Sprintf("server offers neither AUTH PLAIN nor LOGIN (offers %q)", offered)}
	}
	if err := client.Auth(auth); err != nil {
		return s.fail(ctx, conn, stageAuth, err)
	}
	return nil
}

var (
	errNoSTARTTLS = errors.New("starttls not offered")
	errNoAuth     = errors.New("no usable auth mechanism")
)

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

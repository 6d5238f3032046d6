// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests of the SMTP sender and of end-to-end delivery. It
// offers STARTTLS, implicit TLS or no TLS with a self-signed certificate made
// in memory, requires AUTH (PLAIN, optionally LOGIN) with fixed credentials,
// records what it accepted, and fails on cue: a Rule keyed by an address's
// local part makes it reply an error, drop the connection or stop answering
// at MAIL, RCPT or after DATA. DefaultRules gives every server a few
// well-known failing addresses (temp@, nobody@, spam@, drop@, hang@,
// blocked@), so a test can provoke a failure just by choosing a recipient.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// The credentials every server accepts unless WithCredentials says
// otherwise.
const (
	User     = "quoteflow-test"
	Password = "correct-horse-battery-staple"
)

// TLS modes of a server, the values of engine.EmailChannel.TLS a client must
// use with it.
const (
	ModeSTARTTLS = "starttls"
	ModeTLS      = "tls"
	ModeNone     = "none"
)

// Stage is the point of an SMTP transaction at which a Rule applies.
type Stage string

// Stages at which a Rule can fail a transaction.
const (
	// StageMail matches the envelope sender of MAIL FROM.
	StageMail Stage = "MAIL"
	// StageRcpt matches the address of each RCPT TO.
	StageRcpt Stage = "RCPT"
	// StageData matches any recipient of the transaction, after the server
	// has read the whole message, in place of its reply to the final ".".
	StageData Stage = "DATA"
)

// Action is what the server does when a Rule matches.
type Action int

// Actions of a Rule.
const (
	// Reply answers Code, Enhanced and Message instead of accepting.
	Reply Action = iota
	// Drop closes the connection without answering. At StageData the
	// message is recorded (with Dropped set) first: it was received and
	// only the reply was lost, which is what a client must treat as an
	// unknown outcome.
	Drop
	// Hang never answers; the client has to time out. The server lets go
	// when it is closed at the end of the test. At StageData the message is
	// recorded (with Dropped set) first.
	Hang
)

// Rule makes the server fail a transaction for one address.
type Rule struct {
	Stage Stage
	// Local is the local part of the address the rule matches,
	// case-insensitively: "temp" matches temp@any.example.
	Local    string
	Action   Action
	Code     int    // for Reply, e.g. 451
	Enhanced [3]int // for Reply, e.g. {4, 3, 0}; zero means X.0.0
	Message  string // for Reply
}

// DefaultRules are the rules of every server, after those given with
// WithRules.
var DefaultRules = []Rule{
	{Stage: StageMail, Local: "blocked", Code: 553, Enhanced: [3]int{5, 7, 1}, Message: "Sender address not allowed"},
	{Stage: StageRcpt, Local: "temp", Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "Temporary failure, try again later"},
	{Stage: StageRcpt, Local: "nobody", Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "No such user"},
	{Stage: StageData, Local: "spam", Code: 554, Enhanced: [3]int{5, 7, 1}, Message: "Message rejected as spam"},
	{Stage: StageData, Local: "drop", Action: Drop},
	{Stage: StageData, Local: "hang", Action: Hang},
}

// Message is a message the server received.
type Message struct {
	// From and To are the envelope (MAIL FROM and RCPT TO).
	From string
	To   []string
	// Data is the message as transmitted, headers and body.
	Data []byte
	// Header is Data's header; Body is what follows it, still encoded.
	Header mail.Header
	Body   []byte
	// TLS reports whether the message came over an encrypted connection;
	// User is the name the client authenticated as, empty without AUTH.
	TLS  bool
	User string
	// Dropped reports that the server read the message but never
	// acknowledged it (a Drop or Hang rule).
	Dropped bool
}

// DecodedHeader returns the first value of the header key with RFC 2047
// encoded words decoded ("=?UTF-8?q?Ol=C3=A1?=" becomes "Olá").
func (m *Message) DecodedHeader(key string) string {
	v := m.Header.Get(key)
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// Bodies returns the message's text parts by media type ("text/plain",
// "text/html"), with their transfer encoding undone and CRLF line ends
// turned into "\n", so that they compare with what was rendered. A
// multipart message contributes each of its parts, nested multiparts
// included.
func (m *Message) Bodies() (map[string]string, error) {
	out := map[string]string{}
	err := collectParts(out, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"),
		bytes.NewReader(m.Body))
	return out, err
}

func collectParts(out map[string]string, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("parse content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mediaType, err)
			}
			// multipart.Reader already undid a quoted-printable encoding
			// and removed its header.
			err = collectParts(out, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("decode %s: %w", mediaType, err)
	}
	out[mediaType] = strings.ReplaceAll(string(b), "\r\n", "\n")
	return nil
}

// Option configures a server.
type Option func(*config)

type config struct {
	mode        string
	user, pass  string
	requireAuth bool
	mechs       []string
	rules       []Rule
}

// WithImplicitTLS makes the server speak TLS from the first byte (as on port
// 465) instead of offering STARTTLS.
func WithImplicitTLS() Option { return func(c *config) { c.mode = ModeTLS } }

// WithoutTLS makes the server offer neither STARTTLS nor TLS, and AUTH in
// the clear, like a relay on the same host.
func WithoutTLS() Option { return func(c *config) { c.mode = ModeNone } }

// WithCredentials replaces User and Password.
func WithCredentials(user, password string) Option {
	return func(c *config) { c.user, c.pass = user, password }
}

// WithoutAuth makes the server accept mail without AUTH and offer no AUTH
// at all.
func WithoutAuth() Option { return func(c *config) { c.requireAuth, c.mechs = false, nil } }

// WithAuthMechanisms sets the SASL mechanisms offered, among "PLAIN" and
// "LOGIN" (default: PLAIN alone).
func WithAuthMechanisms(mechs ...string) Option {
	return func(c *config) { c.mechs = mechs }
}

// WithRules adds rules that take precedence over DefaultRules.
func WithRules(rules ...Rule) Option {
	return func(c *config) { c.rules = append(c.rules, rules...) }
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	// Host and Port are where the server listens; Addr is both.
	Host string
	Port int
	Addr string
	// TLS is the mode a client must use: ModeSTARTTLS, ModeTLS or ModeNone.
	TLS string
	// User and Password are the credentials the server accepts.
	User, Password string

	cfg       config
	clientTLS *tls.Config
	release   chan struct{} // closed when the test ends, to free Hang rules

	mu           sync.Mutex
	messages     []Message
	mailCommands int
	authAttempts int
}

// Start starts a server listening on 127.0.0.1 and stops it when the test
// ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{mode: ModeSTARTTLS, user: User, pass: Password, requireAuth: true, mechs: []string{sasl.Plain}}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.rules = append(cfg.rules, DefaultRules...)

	c, err := certificate()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{c.cert}, MinVersion: tls.VersionTLS12}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	s := &Server{
		Host: "127.0.0.1", Port: addr.Port, Addr: addr.String(), TLS: cfg.mode,
		User: cfg.user, Password: cfg.pass,
		cfg:       cfg,
		clientTLS: &tls.Config{RootCAs: c.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
		release:   make(chan struct{}),
	}

	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	// Generous bounds so that a client that misbehaves fails the test
	// instead of hanging it.
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	switch cfg.mode {
	case ModeSTARTTLS:
		srv.TLSConfig = serverTLS
	case ModeTLS:
		l = tls.NewListener(l, serverTLS)
	case ModeNone:
		srv.AllowInsecureAuth = true
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		close(s.release)
		_ = srv.Close()
	})
	return s
}

// ClientTLSConfig returns a TLS configuration that trusts the server's
// certificate and nothing else.
func (s *Server) ClientTLSConfig() *tls.Config { return s.clientTLS.Clone() }

// Channel returns a tenant's email settings for this server, sending as
// from.
func (s *Server) Channel(from string) engine.EmailChannel {
	ch := engine.EmailChannel{Provider: "smtp", Host: s.Host, Port: s.Port, TLS: s.TLS, From: from}
	if s.cfg.requireAuth {
		ch.Username, ch.Password = s.User, s.Password
	}
	return ch
}

// Messages returns the messages received so far, in order: those accepted
// and those read but dropped (see Message.Dropped).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// MailCommands returns how many MAIL FROM commands the server has seen,
// accepted or not: zero means no client got as far as starting a
// transaction.
func (s *Server) MailCommands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailCommands
}

// AuthAttempts returns how many AUTH exchanges reached the credential check.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authAttempts
}

// backend keeps smtp.Backend out of Server's API.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, conn: c, tls: isTLS}, nil
}

func (s *Server) rule(stage Stage, addrs ...string) (Rule, bool) {
	for _, r := range s.cfg.rules {
		if r.Stage != stage {
			continue
		}
		for _, a := range addrs {
			local, _, _ := strings.Cut(a, "@")
			if strings.EqualFold(local, r.Local) {
				return r, true
			}
		}
	}
	return Rule{}, false
}

// act carries out a matched rule; it returns the error to reply, or nil
// after a Drop or Hang.
func (s *session) act(r Rule) error {
	switch r.Action {
	case Drop:
		_ = s.conn.Conn().Close()
		return nil
	case Hang:
		<-s.s.release
		_ = s.conn.Conn().Close()
		return nil
	}
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: r.Message}
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message: "Authentication required"}

func (s *session) AuthMechanisms() []string { return s.s.cfg.mechs }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(s.s.cfg.mechs, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(username, password string) error {
		s.s.mu.Lock()
		s.s.authAttempts++
		s.s.mu.Unlock()
		if username != s.s.cfg.user || password != s.s.cfg.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.s.mu.Lock()
	s.s.mailCommands++
	s.s.mu.Unlock()
	if s.s.cfg.requireAuth && s.user == "" {
		return errAuthRequired
	}
	if r, ok := s.s.rule(StageMail, from); ok {
		return s.act(r)
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r, ok := s.s.rule(StageRcpt, to); ok {
		return s.act(r)
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: s.from, To: slices.Clone(s.to), Data: data, TLS: s.tls, User: s.user}
	if parsed, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		m.Header = parsed.Header
		m.Body, _ = io.ReadAll(parsed.Body)
	}
	rule, matched := s.s.rule(StageData, s.to...)
	if matched && rule.Action == Reply {
		return s.act(rule)
	}
	m.Dropped = matched
	s.s.mu.Lock()
	s.s.messages = append(s.s.messages, m)
	s.s.mu.Unlock()
	if matched {
		return s.act(rule)
	}
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl only
// implements for clients.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(response) > 0 { // initial response carries the username
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.username = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

type certs struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// certificate makes, once per process, a self-signed certificate for
// 127.0.0.1 and localhost and a pool that trusts it.
var certificate = sync.OnceValues(func() (certs, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return certs{}, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return certs{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return certs{}, fmt.Errorf("parse certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return certs{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool: pool}, nil
})

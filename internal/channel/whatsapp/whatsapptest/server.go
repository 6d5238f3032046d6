// Over 600 lines: one fake of one API, whose request checks, answers and
// scripting are read together.

// Package whatsapptest is a local stand-in for Meta's WhatsApp Cloud API: an
// HTTP server on 127.0.0.1 that speaks the documented request, response,
// error and paging shapes, records what it was sent, and can be scripted to
// fail. End-to-end tests point whatsapp.Options.BaseURL (or
// QUOTEFLOW_WHATSAPP_API_BASE) at it. StatusWebhook builds the signed status
// webhooks that Meta would post back, InboundWebhook those of users'
// messages; UserSends also opens the sender's 24-hour window, outside which
// the fake refuses free-form texts with 131047 as Meta does.
package whatsapptest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// The account the fake knows by default. Channel returns settings that use
// them.
const (
	PhoneNumberID      = "106540352242922"
	DisplayPhoneNumber = "15550783881"
	BusinessAccountID  = "102290129340398"
	AccessToken        = "test-access-token"
	AppSecret          = "test-app-secret"
	VerifyToken        = "test-verify-token"
)

// templatePageSize is deliberately tiny so that any listing with more than
// two templates exercises the client's paging.
const templatePageSize = 2

// Server is a fake Cloud API. It is safe for concurrent use.
type Server struct {
	srv       *httptest.Server
	done      chan struct{}
	closeOnce sync.Once
	idPrefix  string

	mu            sync.Mutex
	seq           int
	token         string
	accountTokens map[string]string // phone number id or WABA id → token
	scripts       map[string][]Response
	requests      []Request
	attempts      map[string]int
	accepted      map[string]int
	templates     []Template
	windows       map[string]time.Time // recipient → their last message (UserSends)
	latency       time.Duration
	errorRate     float64
	errorCode     int
}

// Start starts a fake on 127.0.0.1:0 and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s := &Server{
		done:          make(chan struct{}),
		idPrefix:      strings.ToUpper(hex.EncodeToString(b)),
		token:         AccessToken,
		accountTokens: map[string]string{},
		scripts:       map[string][]Response{},
		attempts:      map[string]int{},
		accepted:      map[string]int{},
		windows:       map[string]time.Time{},
		errorCode:     131000,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.Close)
	return s
}

// URL is the server's origin, for whatsapp.Options.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, releasing requests held by Hang. Start arranges it;
// calling it again is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// Channel returns tenant settings for the default account with the token
// the server currently accepts.
func (s *Server) Channel() engine.WhatsAppChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return engine.WhatsAppChannel{
		Provider:          "cloud_api",
		PhoneNumberID:     PhoneNumberID,
		BusinessAccountID: BusinessAccountID,
		AccessToken:       s.token,
		AppSecret:         AppSecret,
		VerifyToken:       VerifyToken,
	}
}

// Options returns sender options aimed at the server, without a throttle, so
// that tests are not paced.
func (s *Server) Options() whatsapp.Options {
	return whatsapp.Options{BaseURL: s.URL()}
}

// SetToken sets the bearer token the server accepts for every account
// without its own (AccessToken until changed).
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetAccountToken sets the token accepted for one phone number id or WABA
// id, so several tenants can share one fake with distinct credentials.
func (s *Server) SetAccountToken(id, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accountTokens[id] = token
}

// SetLatency delays every send response by d, for benchmarks. A client that
// gives up first is released at once.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetErrorRate makes a random fraction rate (0 to 1) of unscripted sends
// fail with Meta error code (131000, "something went wrong", when code is 0),
// for benchmarks.
func (s *Server) SetErrorRate(rate float64, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errorRate = rate
	if code != 0 {
		s.errorCode = code
	}
}

// Script queues responses for sends to recipient (E.164, with or without
// +). They are used in order, one per send; after them, sends succeed.
func (s *Server) Script(recipient string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(recipient)
	s.scripts[k] = append(s.scripts[k], rs...)
}

// Requests returns every send request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Count returns how many sends to recipient Meta would have accepted (issued
// a wamid for), including those answered by Hang, Disconnect or Malformed:
// the number of messages the person would receive. An exactly-once check
// wants 1.
func (s *Server) Count(recipient string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted[key(recipient)]
}

// Attempts returns how many send requests for recipient arrived, accepted or
// not.
func (s *Server) Attempts(recipient string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[key(recipient)]
}

// key is the recipient as Meta sees it: digits without the +.
func key(recipient string) string { return strings.TrimPrefix(strings.TrimSpace(recipient), "+") }

// Request is one send request as the server received it.
type Request struct {
	PhoneNumberID string
	// Token is the bearer token it carried.
	Token string
	Body  SendBody
	Raw   []byte
	// WAMID is the id issued when Meta would have accepted the message.
	WAMID string
	// HTTPStatus is the status answered; 0 for Hang and Disconnect.
	HTTPStatus int
	// ErrorCode is the Meta error code answered, 0 for none.
	ErrorCode int
}

// Receipt returns the status receipt Meta would send for this request, for
// StatusWebhook.
func (r Request) Receipt(status string, errs ...whatsapp.StatusError) Status {
	return Status{
		ProviderMessageID: r.WAMID,
		Status:            status,
		Timestamp:         time.Now().UTC().Truncate(time.Second),
		RecipientID:       key(r.Body.To),
		AttemptID:         r.Body.BizOpaqueCallbackData,
		PhoneNumberID:     r.PhoneNumberID,
		Errors:            errs,
	}
}

// SendBody is the decoded JSON of a send request.
type SendBody struct {
	MessagingProduct      string        `json:"messaging_product"`
	RecipientType         string        `json:"recipient_type"`
	To                    string        `json:"to"`
	Type                  string        `json:"type"`
	Template              *TemplateBody `json:"template"`
	Text                  *TextBody     `json:"text"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data"`
}

// TextBody is the text object of a free-form message.
type TextBody struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

// TemplateBody is the template object of a send request.
type TemplateBody struct {
	Name       string      `json:"name"`
	Language   Language    `json:"language"`
	Components []Component `json:"components"`
}

// Language is a template's language object.
type Language struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// Component is a template component with its parameters.
type Component struct {
	Type       string      `json:"type"`
	Parameters []Parameter `json:"parameters"`
}

// Parameter is a component parameter; only text parameters are used.
type Parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// BodyParameters returns the texts of the body component's parameters.
func (b SendBody) BodyParameters() []string {
	if b.Template == nil {
		return nil
	}
	var out []string
	for _, c := range b.Template.Components {
		if strings.EqualFold(c.Type, "body") {
			for _, p := range c.Parameters {
				out = append(out, p.Text)
			}
		}
	}
	return out
}

type responseKind int

const (
	kindOK responseKind = iota
	kindFail
	kindHang
	kindDisconnect
	kindMalformed
)

// Response is one scripted answer to a send.
type Response struct {
	kind       responseKind
	code       int
	status     int
	retryAfter string
	details    string
}

// Option adjusts a failure.
type Option func(*Response)

// OK accepts the message and returns a wamid.
func OK() Response { return Response{kind: kindOK} }

// Fail answers with Meta error code, with the HTTP status Meta uses for it
// (see WithStatus) and Meta's title as the message.
func Fail(code int, opts ...Option) Response {
	r := Response{kind: kindFail, code: code, status: defaultStatus(code)}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// Hang accepts the message (it counts, and gets a wamid) and then never
// answers, until the client gives up or the server closes: a response lost
// after Meta took the message.
func Hang() Response { return Response{kind: kindHang} }

// Disconnect accepts the message and then closes the connection without an
// answer.
func Disconnect() Response { return Response{kind: kindDisconnect} }

// Malformed accepts the message and answers 200 with a body that is not
// Meta's JSON.
func Malformed() Response { return Response{kind: kindMalformed} }

// WithRetryAfter adds a Retry-After header of the given seconds.
func WithRetryAfter(seconds int) Option {
	return func(r *Response) { r.retryAfter = strconv.Itoa(seconds) }
}

// WithRetryAfterHeader adds a Retry-After header with a raw value, such as
// an HTTP date.
func WithRetryAfterHeader(v string) Option {
	return func(r *Response) { r.retryAfter = v }
}

// WithStatus overrides the HTTP status of a failure.
func WithStatus(httpStatus int) Option {
	return func(r *Response) { r.status = httpStatus }
}

// WithDetails sets error_data.details.
func WithDetails(details string) Option {
	return func(r *Response) { r.details = details }
}

// defaultStatus is the HTTP status the fake pairs with a Meta code. Meta
// answers most errors with 400; the others follow the Graph API's habits.
func defaultStatus(code int) int {
	switch {
	case code == 0 || code == 190:
		return http.StatusUnauthorized
	case code == 3 || code == 10 || (code >= 200 && code <= 299):
		return http.StatusForbidden
	case code == 4 || code == 80007 || code == 130429 || code == 131056:
		return http.StatusTooManyRequests
	case code == 1 || code == 2 || code == 131000:
		return http.StatusInternalServerError
	case code == 131016 || code == 133004:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// titles are Meta's titles for the codes the fake is likely to be asked
// for; the error message is "(#code) title" as in Meta's responses.
var titles = map[int]string{
	0:      "AuthException",
	1:      "API Unknown",
	2:      "API Service",
	3:      "API Method",
	4:      "API Too Many Calls",
	10:     "Permission Denied",
	100:    "Invalid parameter",
	190:    "Invalid OAuth access token - Cannot parse access token",
	368:    "Temporarily blocked for policies violations",
	80007:  "Rate limit issues",
	130429: "Rate limit hit",
	130472: "User's number is part of an experiment",
	131000: "Something went wrong",
	131008: "Required parameter is missing",
	131009: "Parameter value is not valid",
	131016: "Service unavailable",
	131021: "Recipient cannot be sender",
	131026: "Message undeliverable",
	131031: "Business Account locked",
	131042: "Business eligibility payment issue",
	131047: "Re-engagement message",
	131048: "Spam rate limit hit",
	131049: "This message was not delivered to maintain healthy ecosystem engagement",
	131050: "User has stopped marketing messages",
	131051: "Unsupported message type",
	131056: "(Business Account, Consumer Account) pair rate limit hit",
	132000: "Number of parameters does not match the expected number of params",
	132001: "Template name does not exist in the translation",
	132012: "Parameter format does not match format in the created template",
	132015: "Template is Paused",
	132016: "Template is Disabled",
	133004: "Server temporarily unavailable",
	133010: "Phone number Not Registered",
}

// Title returns Meta's title for code, for building receipts.
func Title(code int) string {
	if t, ok := titles[code]; ok {
		return t
	}
	return "Error"
}

func errorMessage(code int) string {
	if code == 190 {
		return titles[190]
	}
	return fmt.Sprintf("(#%d) %s", code, Title(code))
}

// Template is a template translation the server lists and checks sends
// against.
type Template struct {
	Name     string
	Language string // "en_US"
	Status   string // "APPROVED" when empty
	Category string // "UTILITY" when empty
	// Body is the BODY component text, with {{1}}-style placeholders.
	Body string
	// Header, when set, adds a TEXT HEADER component; its placeholders are
	// not body parameters.
	Header string
}

// AddTemplate registers templates. Once any is registered, sends are checked
// against them as Meta would: an unknown name or language is 132001, a
// PAUSED template 132015, a DISABLED one 132016, a wrong parameter count
// 132000.
func (s *Server) AddTemplate(ts ...Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range ts {
		if t.Status == "" {
			t.Status = "APPROVED"
		}
		if t.Category == "" {
			t.Category = "UTILITY"
		}
		s.templates = append(s.templates, t)
	}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 3 && strings.HasPrefix(parts[0], "v") {
		switch {
		case parts[2] == "messages" && r.Method == http.MethodPost:
			s.send(w, r, parts[1])
			return
		case parts[2] == "message_templates" && r.Method == http.MethodGet:
			s.listTemplates(w, r, parts[1])
			return
		}
	}
	writeError(w, http.StatusBadRequest, 100, "", "",
		fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation", strings.ToLower(r.Method), r.URL.Path))
}

// tokenOK checks the bearer token for an account id; s.mu must be held.
func (s *Server) tokenOK(id string, r *http.Request) (string, bool) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want, ok := s.accountTokens[id]
	if !ok {
		want = s.token
	}
	return tok, tok != "" && tok == want
}

func (s *Server) send(w http.ResponseWriter, r *http.Request, phoneID string) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body SendBody
	decodeErr := json.Unmarshal(raw, &body)
	k := key(body.To)

	s.mu.Lock()
	tok, tokOK := s.tokenOK(phoneID, r)
	var resp Response
	details := ""
	switch {
	case !tokOK:
		resp = Fail(190)
	case decodeErr != nil:
		resp, details = Fail(100), "request body is not valid json"
	case len(s.scripts[k]) > 0:
		resp = s.scripts[k][0]
		s.scripts[k] = s.scripts[k][1:]
	default:
		resp, details = s.validate(body)
		if resp.kind == kindOK && s.errorRate > 0 && randv2.Float64() < s.errorRate {
			resp = Fail(s.errorCode)
		}
	}
	if resp.details == "" {
		resp.details = details
	}
	rec := Request{PhoneNumberID: phoneID, Token: tok, Body: body, Raw: raw}
	if resp.kind != kindFail {
		s.seq++
		rec.WAMID = fmt.Sprintf("wamid.HBg%s%08d", s.idPrefix, s.seq)
		s.accepted[k]++
	} else {
		rec.HTTPStatus, rec.ErrorCode = resp.status, resp.code
	}
	if resp.kind == kindOK || resp.kind == kindMalformed {
		rec.HTTPStatus = http.StatusOK
	}
	s.attempts[k]++
	s.requests = append(s.requests, rec)
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.done:
		}
		t.Stop()
	}

	switch resp.kind {
	case kindOK:
		writeJSON(w, http.StatusOK, map[string]any{
			"messaging_product": "whatsapp",
			"contacts":          []map[string]string{{"input": body.To, "wa_id": k}},
			"messages":          []map[string]string{{"id": rec.WAMID, "message_status": "accepted"}},
		})
	case kindFail:
		if resp.retryAfter != "" {
			w.Header().Set("Retry-After", resp.retryAfter)
		}
		writeError(w, resp.status, resp.code, resp.details, "", "")
	case kindHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case kindDisconnect:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
	case kindMalformed:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":`)
	}
}

// validate checks a send as Meta would; s.mu must be held.
func (s *Server) validate(b SendBody) (Response, string) {
	switch {
	case b.MessagingProduct != "whatsapp":
		return Fail(100), "messaging_product must be whatsapp"
	case b.Type == "text":
		switch {
		case b.Text == nil || b.Text.Body == "":
			return Fail(100), "text.body is required"
		case !digits(key(b.To)):
			return Fail(100), "to must be a phone number"
		case !s.windowOpen(key(b.To)):
			return Fail(131047), "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
		}
		return OK(), ""
	case b.Type != "template" || b.Template == nil:
		return Fail(100), "the fake only accepts template and text messages"
	case b.Template.Name == "" || b.Template.Language.Code == "":
		return Fail(131008), "template name and language.code are required"
	case !digits(key(b.To)):
		return Fail(100), "to must be a phone number"
	}
	if len(s.templates) == 0 {
		return OK(), ""
	}
	for _, t := range s.templates {
		if t.Name != b.Template.Name || t.Language != b.Template.Language.Code {
			continue
		}
		switch t.Status {
		case "APPROVED":
		case "PAUSED":
			return Fail(132015), fmt.Sprintf("template %s is paused", t.Name)
		case "DISABLED":
			return Fail(132016), fmt.Sprintf("template %s is disabled", t.Name)
		default:
			return Fail(132001), fmt.Sprintf("template %s is %s", t.Name, t.Status)
		}
		if want, got := countPlaceholders(t.Body), len(b.BodyParameters()); want != got {
			return Fail(132000), fmt.Sprintf("body: number of localizable_params (%d) does not match the expected number of params (%d)", got, want)
		}
		return OK(), ""
	}
	return Fail(132001), fmt.Sprintf("template name (%s) does not exist in %s", b.Template.Name, b.Template.Language.Code)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var placeholderRE = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

func countPlaceholders(text string) int {
	seen := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		seen[m[1]] = true
	}
	return len(seen)
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, waba string) {
	s.mu.Lock()
	_, tokOK := s.tokenOK(waba, r)
	ts := append([]Template(nil), s.templates...)
	s.mu.Unlock()
	if !tokOK {
		writeError(w, http.StatusUnauthorized, 190, "", "", "")
		return
	}
	start := 0
	if a := r.URL.Query().Get("after"); a != "" {
		n, err := decodeCursor(a)
		if err != nil || n > len(ts) {
			writeError(w, http.StatusBadRequest, 100, "invalid after cursor", "", "")
			return
		}
		start = n
	}
	end := min(start+templatePageSize, len(ts))
	data := []map[string]any{}
	for i := start; i < end; i++ {
		t := ts[i]
		var comps []map[string]string
		if t.Header != "" {
			comps = append(comps, map[string]string{"type": "HEADER", "format": "TEXT", "text": t.Header})
		}
		comps = append(comps, map[string]string{"type": "BODY", "text": t.Body})
		data = append(data, map[string]any{
			"name":             t.Name,
			"parameter_format": "POSITIONAL",
			"components":       comps,
			"language":         t.Language,
			"status":           t.Status,
			"category":         t.Category,
			"id":               strconv.Itoa(900000000000000 + i),
		})
	}
	paging := map[string]any{"cursors": map[string]string{"before": encodeCursor(start), "after": encodeCursor(end)}}
	if end < len(ts) {
		q := url.Values{"limit": {strconv.Itoa(templatePageSize)}, "after": {encodeCursor(end)}}
		paging["next"] = s.URL() + r.URL.Path + "?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": paging})
}

// Cursors are opaque to clients, as Meta's are; here they carry an offset.
func encodeCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func decodeCursor(c string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, fmt.Errorf("bad cursor")
	}
	return strconv.Atoi(n)
}

// writeError answers in the Graph API error shape. message overrides the
// "(#code) title" text when set.
func writeError(w http.ResponseWriter, status, code int, details, typ, message string) {
	if typ == "" {
		typ = "OAuthException"
	}
	if message == "" {
		message = errorMessage(code)
	}
	e := map[string]any{
		"message":    message,
		"type":       typ,
		"code":       code,
		"fbtrace_id": "A" + strconv.FormatInt(time.Now().UnixNano()%1e12, 36),
	}
	if details != "" {
		e["error_data"] = map[string]string{"messaging_product": "whatsapp", "details": details}
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Package whatsapp delivers template messages, and free-form texts inside
// the customer-service window, through Meta's WhatsApp Cloud API with one
// tenant's credentials, classifies Meta's failures into channel's error
// classes, lists the tenant's approved templates so that a step's
// parameters can be checked, and verifies and parses the webhooks: the
// status receipts that settle a message after it was sent, and the
// customers' own messages.
//
// The package does no logging and never puts the access token or the app
// secret into an error or a String.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// Defaults for Options. The application maps QUOTEFLOW_WHATSAPP_API_BASE to
// Options.BaseURL; this package reads no environment.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v21.0"
	// DefaultTimeout bounds one HTTP exchange when Options.HTTPClient is nil.
	// A send that times out after its request left is Unknown, so the bound
	// is generous: a slow success is cheaper than an unknown outcome.
	DefaultTimeout = 30 * time.Second
)

// maxResponse bounds how much of a response is read; Meta's answers are a
// few hundred bytes, template pages a few tens of kilobytes.
const maxResponse = 4 << 20

// Options tunes a Sender. The zero value talks to Meta's production API.
type Options struct {
	// BaseURL is the Graph API origin, DefaultBaseURL when empty; tests and
	// QUOTEFLOW_WHATSAPP_API_BASE point it elsewhere.
	BaseURL string
	// APIVersion is the Graph API version path segment, DefaultAPIVersion
	// when empty.
	APIVersion string
	// HTTPClient makes the requests; a client with DefaultTimeout when nil.
	// Its redirect policy is replaced: a redirected POST must not turn into
	// a GET or be sent twice.
	HTTPClient *http.Client
	// Throttle paces sends per phone number id. It must be shared by every
	// Sender of the process (Senders are cheap and built per send, the limit
	// belongs to the number); nil does not pace, and Meta's 130429
	// (Transient) is then the only brake.
	Throttle *Throttle
}

// Sender sends WhatsApp template messages with one tenant's Cloud API
// settings. It implements channel.Sender and is safe for concurrent use.
type Sender struct {
	cfg     engine.WhatsAppChannel
	base    string
	version string
	client  *http.Client
	// traced is true when the client's transport reports httptrace events,
	// so that a missing WroteRequest really means nothing was written.
	traced   bool
	throttle *Throttle
	now      func() time.Time
}

var _ channel.Sender = (*Sender)(nil)

// New returns a Sender for the tenant settings cfg. It does not contact Meta;
// missing settings surface as Tenant errors on first use.
func New(cfg engine.WhatsAppChannel, opts Options) *Sender {
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	version := strings.Trim(opts.APIVersion, "/")
	if version == "" {
		version = DefaultAPIVersion
	}
	var client http.Client
	if opts.HTTPClient != nil {
		client = *opts.HTTPClient
	} else {
		client.Timeout = DefaultTimeout
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	_, std := client.Transport.(*http.Transport)
	return &Sender{cfg: cfg, base: base, version: version, client: &client,
		traced: client.Transport == nil || std, throttle: opts.Throttle, now: time.Now}
}

// String identifies the Sender by its phone number id; it never prints
// credentials, so a Sender may appear in logs.
func (s *Sender) String() string {
	return "whatsapp.Sender(phone_number_id=" + s.cfg.PhoneNumberID + ")"
}

// sendRequest is the body of POST /{phone_number_id}/messages for a
// template message (Type "template") or a free-form text (Type "text").
type sendRequest struct {
	MessagingProduct      string        `json:"messaging_product"`
	RecipientType         string        `json:"recipient_type"`
	To                    string        `json:"to"`
	Type                  string        `json:"type"`
	Template              *sendTemplate `json:"template,omitempty"`
	Text                  *sendText     `json:"text,omitempty"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
}

// sendText is the text object of a free-form message. Links are not
// previewed: a quote link's preview would show the customer's quote page
// fetched by Meta, which records nothing but is not the customer.
type sendText struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

// MaxTextLength is the longest body Meta accepts for a text message.
const MaxTextLength = 4096

type sendTemplate struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []sendComponent `json:"components,omitempty"`
}

type sendComponent struct {
	Type       string          `json:"type"`
	Parameters []sendParameter `json:"parameters"`
}

type sendParameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// sendResponse is the part of a successful send's answer that matters: the
// wamid by which receipts will refer to the message.
type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// maxCallbackData is Meta's limit on biz_opaque_callback_data.
const maxCallbackData = 512

// Send delivers m's WhatsApp template, or its free-form WhatsAppText, to
// m.To. On success the Result carries the wamid. Every failure is a
// *channel.Error; see ClassOfCode and transportError for how its class is
// chosen (a text outside the customer-service window is Window).
func (s *Sender) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	if m == nil || (m.WhatsApp == nil && m.WhatsAppText == "") {
		return channel.Result{}, &channel.Error{Class: channel.Request, Code: "no_template", Message: "message has no whatsapp template"}
	}
	if s.cfg.PhoneNumberID == "" || s.cfg.AccessToken == "" {
		return channel.Result{}, &channel.Error{Class: channel.Tenant, Code: "config", Message: "whatsapp channel needs a phone_number_id and an access_token"}
	}
	to, ok := recipientNumber(m.To)
	if !ok {
		return channel.Result{}, &channel.Error{Class: channel.Recipient, Code: "invalid_recipient", Message: "recipient is not an E.164 phone number"}
	}
	if len(m.AttemptID) > maxCallbackData {
		return channel.Result{}, &channel.Error{Class: channel.Request, Code: "callback_data", Message: "attempt id is longer than biz_opaque_callback_data allows"}
	}
	req := sendRequest{
		MessagingProduct:      "whatsapp",
		RecipientType:         "individual",
		To:                    to,
		BizOpaqueCallbackData: m.AttemptID,
	}
	if t := m.WhatsApp; t != nil {
		if t.Name == "" || t.Language == "" {
			return channel.Result{}, &channel.Error{Class: channel.Request, Code: "no_template", Message: "whatsapp template needs a name and a language"}
		}
		req.Type, req.Template = "template", &sendTemplate{Name: t.Name}
		req.Template.Language.Code = t.Language
		if len(t.Parameters) > 0 {
			c := sendComponent{Type: "body", Parameters: make([]sendParameter, len(t.Parameters))}
			for i, p := range t.Parameters {
				c.Parameters[i] = sendParameter{Type: "text", Text: p}
			}
			req.Template.Components = []sendComponent{c}
		}
	} else {
		if len(m.WhatsAppText) > MaxTextLength {
			return channel.Result{}, &channel.Error{Class: channel.Request, Code: "text_too_long", Message: "the rendered text is longer than WhatsApp's 4096 characters"}
		}
		req.Type, req.Text = "text", &sendText{Body: m.WhatsAppText}
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return channel.Result{}, &channel.Error{Class: channel.Request, Code: "encode", Message: "encoding the request: " + err.Error(), Err: err}
	}

	if err := s.throttle.Wait(ctx, s.cfg.PhoneNumberID); err != nil {
		// Nothing left yet, so a retry is safe whatever ended the wait.
		code := "canceled"
		if errors.Is(err, context.DeadlineExceeded) {
			code = "timeout"
		}
		return channel.Result{}, &channel.Error{Class: channel.Transient, Code: code, Message: "waiting for the phone number's send rate: " + err.Error(), Err: err}
	}

	ex, err := s.roundTrip(ctx, http.MethodPost, s.endpoint(s.cfg.PhoneNumberID, "messages", nil), payload)
	if err != nil {
		return channel.Result{}, transportError(err, ex.wrote, false, s.redact)
	}
	if ex.status < 200 || ex.status > 299 {
		return channel.Result{}, responseError(ex.status, ex.header, ex.body, s.now(), s.redact)
	}
	// A 2xx means Meta accepted the message; if its answer cannot be read we
	// do not know the wamid, and sending again would deliver it twice.
	var out sendResponse
	if ex.readErr != nil || json.Unmarshal(ex.body, &out) != nil || len(out.Messages) == 0 || out.Messages[0].ID == "" {
		msg := "meta answered http " + strconv.Itoa(ex.status) + " with a body that has no message id"
		if ex.readErr != nil {
			msg = "reading meta's answer: " + s.redact(ex.readErr.Error())
		}
		return channel.Result{}, &channel.Error{Class: channel.Unknown, Code: "bad_response", Message: msg, Err: ex.readErr}
	}
	return channel.Result{ProviderMessageID: out.Messages[0].ID}, nil
}

// recipientNumber turns an E.164 number into the digits-only form Meta's
// examples use. Anything else is refused here rather than by Meta, so an
// unusable number is a Recipient failure, not a wasted attempt.
func recipientNumber(to string) (string, bool) {
	d := strings.TrimPrefix(strings.TrimSpace(to), "+")
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return "", false
		}
	}
	return d, true
}

// endpoint builds {base}/{version}/{id}/{edge}?query.
func (s *Sender) endpoint(id, edge string, q url.Values) string {
	u := s.base + "/" + s.version + "/" + url.PathEscape(id) + "/" + edge
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// redact removes the tenant's secrets from text that came from outside.
func (s *Sender) redact(text string) string {
	for _, secret := range []string{s.cfg.AccessToken, s.cfg.AppSecret} {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	return text
}

// exchange is what came back from one HTTP request.
type exchange struct {
	wrote   bool // the whole request was handed to the connection
	status  int
	header  http.Header
	body    []byte
	readErr error
}

// roundTrip performs one request and reports whether the request was fully
// written, which is what separates a safe retry from an unknown outcome.
// WroteRequest fires once the whole request is in the connection's buffer, a
// moment before the flush; a failure in that moment reads as Unknown, which
// is the safe side to err on.
func (s *Sender) roundTrip(ctx context.Context, method, u string, payload []byte) (exchange, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, u, body)
	if err != nil {
		return exchange{}, err
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.AccessToken)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := ctx.Err(); err != nil {
		return exchange{}, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// A custom RoundTripper may not report trace events, and then we
		// cannot tell that the request did not leave, so assume it did: an
		// unknown outcome is recoverable, a duplicate is not.
		return exchange{wrote: wrote.Load() || !s.traced}, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return exchange{wrote: true, status: resp.StatusCode, header: resp.Header, body: b, readErr: rerr}, nil
}

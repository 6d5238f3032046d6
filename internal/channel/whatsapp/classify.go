package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
)

// codeClasses is the one table from Meta's numeric error codes to what
// delivery does next. Send, ListTemplates and failed receipts all read it
// through ClassOfCode; the tests walk every row.
//
// Codes beyond the ones SPEC §3 names are included where Meta's error-code
// reference makes the answer obvious; each is marked "also".
var codeClasses = map[int]channel.Class{
	// Transient: Meta is overloaded or asks us to slow down; the same request
	// will work later.
	1:      channel.Transient, // API Unknown
	2:      channel.Transient, // API Service (temporary downtime)
	4:      channel.Transient, // API Too Many Calls (app-level rate limit)
	80007:  channel.Transient, // rate limit issues (WhatsApp Business Account)
	130429: channel.Transient, // throughput reached for the phone number
	131000: channel.Transient, // something went wrong
	131016: channel.Transient, // also: service temporarily unavailable
	131056: channel.Transient, // pair rate limit: too many messages to one user
	133004: channel.Transient, // also: server temporarily unavailable

	// Recipient: this person cannot be reached on WhatsApp now; the step's
	// email fallback is the useful next move.
	131026: channel.Recipient, // message undeliverable (not on WhatsApp, old client, …)
	131050: channel.Recipient, // user stopped marketing messages
	131049: channel.Recipient, // also: per-user marketing limit ("healthy ecosystem")
	130472: channel.Recipient, // also: user's number is part of an experiment
	130497: channel.Recipient, // also: business may not message users in this country
	131021: channel.Recipient, // also: recipient is the sender's own number

	// Window: a free-form message outside the customer-service window,
	// more than 24 h since the user last wrote; a template may still go.
	131047: channel.Window, // re-engagement message

	// Request: the workflow or template must be fixed; retrying changes
	// nothing.
	100:    channel.Request, // invalid parameter
	131008: channel.Request, // required parameter missing
	131009: channel.Request, // parameter value not valid
	131051: channel.Request, // also: unsupported message type
	132000: channel.Request, // number of template parameters does not match
	132001: channel.Request, // template does not exist in that language
	132005: channel.Request, // also: translated text too long
	132007: channel.Request, // also: template format character policy violated
	132012: channel.Request, // parameter format does not match the template
	132015: channel.Request, // template paused for low quality
	132016: channel.Request, // template disabled

	// Tenant: credentials, payment, policy or quality blocks on the tenant's
	// account; every send for the tenant would fail the same way.
	0:      channel.Tenant, // AuthException
	3:      channel.Tenant, // also: capability or permissions issue
	10:     channel.Tenant, // permission denied
	190:    channel.Tenant, // access token expired or invalid
	368:    channel.Tenant, // temporarily blocked for policy violations
	131031: channel.Tenant, // business account locked
	131037: channel.Tenant, // also: display name not approved
	131042: channel.Tenant, // business eligibility / payment issue
	131045: channel.Tenant, // also: phone number not registered (certificate)
	131048: channel.Tenant, // spam rate limit hit (quality)
	133010: channel.Tenant, // also: phone number not registered
}

// ClassOfCode returns the class of one of Meta's numeric error codes, as
// found in an API error response or in a failed status receipt. Codes 200 to
// 299 are Graph API permission errors and count as Tenant. A code not in the
// table is Request: Meta documents that unknown codes mean the request itself
// was refused, and sending it again unchanged would not help.
func ClassOfCode(code int) channel.Class {
	if c, ok := codeClasses[code]; ok {
		return c
	}
	if code >= 200 && code <= 299 {
		return channel.Tenant
	}
	return channel.Request
}

// knownCode reports whether code has its own row (or range) in the table, so
// that the HTTP status may decide for codes that do not.
func knownCode(code int) bool {
	_, ok := codeClasses[code]
	return ok || (code >= 200 && code <= 299)
}

// classOfResponse decides the class of a non-2xx answer. A code in the table
// wins; otherwise the HTTP status decides: 429 and 5xx are Transient, 401 is
// Tenant (the credentials were refused even if Meta's code is new to us),
// and everything else, including 4xx codes we do not know, is Request.
func classOfResponse(status int, code int, hasCode bool) channel.Class {
	if hasCode && knownCode(code) {
		return ClassOfCode(code)
	}
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
		return channel.Transient
	case status == http.StatusUnauthorized:
		return channel.Tenant
	default:
		return channel.Request
	}
}

// APIError is a Graph API error response as Meta sends it. It travels as the
// Err of the *channel.Error that Send and ListTemplates return, for callers
// that want the subcode or the trace id to quote to Meta's support.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	Details    string
	FBTraceID  string
}

// Error describes the failure with Meta's code, message, details and trace
// id; it never contains credentials.
func (e *APIError) Error() string {
	msg := e.Message
	if e.Details != "" && !strings.Contains(msg, e.Details) {
		msg += ": " + e.Details
	}
	if e.FBTraceID != "" {
		msg += " (fbtrace_id " + e.FBTraceID + ")"
	}
	return fmt.Sprintf("whatsapp api error %d (http %d): %s", e.Code, e.HTTPStatus, msg)
}

// metaCode is a numeric code that Meta sends as a JSON number, but that some
// proxies and older payloads quote as a string; both decode. Anything else
// leaves it unset rather than failing the whole body, so that the HTTP status
// can still classify the response.
type metaCode struct {
	n   int
	set bool
}

// UnmarshalJSON accepts 131026 and "131026" alike.
func (c *metaCode) UnmarshalJSON(b []byte) error {
	if n, err := strconv.Atoi(strings.Trim(string(b), `"`)); err == nil {
		c.n, c.set = n, true
	}
	return nil
}

// errorEnvelope is the body of a Graph API error response.
type errorEnvelope struct {
	Error *struct {
		Message   string   `json:"message"`
		Type      string   `json:"type"`
		Code      metaCode `json:"code"`
		Subcode   metaCode `json:"error_subcode"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// responseError classifies a non-2xx response. redact removes the tenant's
// secrets from any text that came back, in case Meta ever echoes them.
func responseError(status int, header http.Header, body []byte, now time.Time, redact func(string) string) *channel.Error {
	e := &channel.Error{RetryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil && env.Error.Code.set {
		m := env.Error
		api := &APIError{
			HTTPStatus: status,
			Code:       m.Code.n,
			Subcode:    m.Subcode.n,
			Type:       m.Type,
			Message:    redact(m.Message),
			Details:    redact(m.ErrorData.Details),
			FBTraceID:  m.FBTraceID,
		}
		e.Class = classOfResponse(status, api.Code, true)
		e.Code = strconv.Itoa(api.Code)
		e.Message = api.Message
		if api.Details != "" && !strings.Contains(api.Message, api.Details) {
			e.Message += ": " + api.Details
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		e.Err = api
		return e
	}
	e.Class = classOfResponse(status, 0, false)
	e.Code = "http_" + strconv.Itoa(status)
	e.Message = fmt.Sprintf("http %d %s without a Graph API error body", status, http.StatusText(status))
	return e
}

// maxRetryAfter bounds a provider's requested delay so that a nonsense header
// cannot park a message for years or overflow a time.Duration.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header as delay-seconds or as an HTTP
// date (RFC 9110 §10.2.3). It returns zero for an absent, malformed or past
// value, and caps the delay at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// transportError classifies a failure of the HTTP exchange itself. What
// matters is whether the request left: before that, nothing can have been
// sent and a retry is safe; after it, Meta may have accepted the message and
// only a receipt can tell, so a send is Unknown. Reads (idempotent) are
// always safe to retry.
func transportError(err error, wrote, idempotent bool, redact func(string) string) *channel.Error {
	code := "network"
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = "timeout"
	case errors.Is(err, context.Canceled):
		code = "canceled"
	}
	e := &channel.Error{Class: channel.Transient, Code: code, Err: err}
	switch {
	case !wrote:
		e.Message = "the request did not reach Meta: " + redact(err.Error())
	case idempotent:
		e.Message = "no response from Meta: " + redact(err.Error())
	default:
		e.Class = channel.Unknown
		e.Message = "the request was sent but no response arrived; Meta may have accepted the message: " + redact(err.Error())
	}
	return e
}

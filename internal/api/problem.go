package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// problemTypePrefix starts every problem type. The types are stable names,
// part of the API contract (docs/api/errors.md lists them); they are URNs because
// they identify a kind of error rather than promise a page to read.
const problemTypePrefix = "urn:quoteflow:problem:"

// problemKinds is the one table from HTTP status to problem type.
var problemKinds = map[int]string{
	http.StatusBadRequest:            "malformed-request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "method-not-allowed",
	http.StatusNotAcceptable:         "not-acceptable",
	http.StatusRequestTimeout:        "request-timeout",
	http.StatusConflict:              "conflict",
	http.StatusPreconditionFailed:    "version-mismatch",
	http.StatusRequestEntityTooLarge: "request-too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusUnprocessableEntity:   "validation",
	http.StatusTooManyRequests:       "rate-limited",
	http.StatusInternalServerError:   "internal",
	http.StatusServiceUnavailable:    "unavailable",
}

// statusByCode is the one table from domain error code to HTTP status.
var statusByCode = map[engine.Code]int{
	engine.EMALFORMED:    http.StatusBadRequest,
	engine.EUNAUTHORIZED: http.StatusUnauthorized,
	engine.EFORBIDDEN:    http.StatusForbidden,
	engine.ENOTFOUND:     http.StatusNotFound,
	engine.ECONFLICT:     http.StatusConflict,
	engine.EPRECONDITION: http.StatusPreconditionFailed,
	engine.EINVALID:      http.StatusUnprocessableEntity,
	engine.EUNAVAILABLE:  http.StatusServiceUnavailable,
	engine.EINTERNAL:     http.StatusInternalServerError,
}

// outageRetryAfter is the Retry-After, in seconds, of a 503 for a
// database outage: long enough for a pool to reconnect or a restart to
// finish, short enough that a client does not give up.
const outageRetryAfter = "5"

// Problem is an RFC 9457 problem document. Errors name each field at fault
// by its location in the request ("body.steps[0].email.subject",
// "query.trigger"), with the line and column inside a template.
type Problem struct {
	Type     string         `json:"type" doc:"Stable identifier of the kind of problem; docs/api/errors.md says what each means and what to do"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one field at fault.
type ProblemField struct {
	Location string `json:"location" doc:"Where in the request: body.x.y, query.x, path.x, header.x"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
	Line     int    `json:"line,omitempty" doc:"Line in a template, 1-based"`
	Column   int    `json:"column,omitempty" doc:"Column in a template, 1-based"`
}

func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma answer application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

func newProblem(status int, detail string) *Problem {
	kind, ok := problemKinds[status]
	if !ok {
		// Not produced today (TestProblemTypesAreDocumented lists what
		// is); a number keeps the URN valid, unlike a status text.
		kind = "http-" + strconv.Itoa(status)
	}
	return &Problem{Type: problemTypePrefix + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

func init() {
	// huma builds its own errors (malformed JSON, schema validation,
	// oversized bodies) through NewError; routing them here gives every
	// error the same shape and a stable type.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		p := newProblem(status, msg)
		for _, err := range errs {
			if err == nil {
				continue
			}
			var d huma.ErrorDetailer
			if errors.As(err, &d) {
				ed := d.ErrorDetail()
				f := ProblemField{Location: ed.Location, Message: ed.Message}
				// A malformed body is echoed back whole by huma; that can
				// be large and may hold secrets, so it is left out.
				if status != http.StatusBadRequest {
					f.Value = ed.Value
				}
				p.Errors = append(p.Errors, f)
				continue
			}
			p.Errors = append(p.Errors, ProblemField{Message: err.Error()})
		}
		if status == http.StatusUnprocessableEntity && msg == "validation failed" && len(p.Errors) > 0 {
			p.Detail = "validation failed: " + p.Errors[0].Location + " " + p.Errors[0].Message
		}
		return p
	}
}

// toProblem turns any error from the layers below into a problem. Errors
// that are not domain errors are bugs or outages: they are logged with the
// request and answered with a 500 that reveals nothing.
func toProblem(ctx context.Context, log *slog.Logger, err error) error {
	var e *engine.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) {
			return newProblem(http.StatusServiceUnavailable, "the request was cancelled")
		}
		log.ErrorContext(ctx, "request failed", "err", err)
		return newProblem(http.StatusInternalServerError, "internal error; it has been logged")
	}
	status, ok := statusByCode[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := newProblem(status, e.Message)
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField{Location: f.Field, Message: f.Message, Value: f.Value, Line: f.Line, Column: f.Column})
	}
	if len(p.Errors) > 0 && e.Message == "validation failed" {
		p.Detail = "validation failed: " + p.Errors[0].Location + " " + p.Errors[0].Message
	}
	if e.Code == engine.EUNAVAILABLE {
		// Logged like a 500 (someone must look), answered as a wait.
		log.ErrorContext(ctx, "database unavailable", "err", err)
		return huma.ErrorWithHeaders(p, http.Header{"Retry-After": {outageRetryAfter}})
	}
	return p
}

package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// maxIdempotentBody bounds the body read for hashing; huma refuses larger
// bodies anyway.
const maxIdempotentBody = 1 << 20

// idempotent marks a create operation as honouring Idempotency-Key. The
// declaration in the document, and the operations marked, are
// operationSemantics' (semantics.go); this mark is kept so that a route
// says so where it is declared, and a test checks the two agree.
func idempotent(op huma.Operation) huma.Operation {
	op.Metadata["idempotent"] = true
	return op
}

// humaContext names huma.Context so that embedding it does not hide its
// Context method behind a field of the same name.
type humaContext = huma.Context

// recorder passes a response through while keeping a copy, and serves a
// request body that was already read.
type recorder struct {
	humaContext
	body    []byte
	status  int
	out     bytes.Buffer
	headers map[string]string
}

// replayedHeaders are the response headers a replay repeats: what the
// client of a create or an action reads besides the body.
var replayedHeaders = []string{"ETag", "Location", "Content-Type"}

func (r *recorder) SetHeader(name, value string) {
	for _, h := range replayedHeaders {
		if strings.EqualFold(name, h) {
			if r.headers == nil {
				r.headers = map[string]string{}
			}
			r.headers[h] = value
		}
	}
	r.humaContext.SetHeader(name, value)
}

func (r *recorder) BodyReader() io.Reader { return bytes.NewReader(r.body) }

func (r *recorder) SetStatus(code int) {
	r.status = code
	r.humaContext.SetStatus(code)
}

func (r *recorder) BodyWriter() io.Writer { return io.MultiWriter(r.humaContext.BodyWriter(), &r.out) }

// withIdempotency makes a create safe to repeat: the first request with an
// Idempotency-Key reserves it, its 2xx answer is stored, and a repeat of the
// same request is answered with that answer (Idempotent-Replayed: true)
// without creating anything again. The same key with another request is a
// 422; a repeat while the first is still running is a 409. A failed request
// releases the key so that the client can retry.
//
// The answer is stored by the use case, in the transaction that writes what
// it reports (app.IdempotentCall): the handler says how it answers from the
// use case's result (answerWith), and the use case renders and stores that
// before it commits. A process that dies after the commit and before the
// answer leaves the answer stored for the retry to replay; one that dies
// before the commit leaves only the reservation, which a retry takes over
// once its lease has run out, and creates the resource once. Quote actions
// keep their key with their trigger event instead.
func (s *Server) withIdempotency(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header("Idempotency-Key")
	if on, _ := ctx.Operation().Metadata["idempotent"].(bool); !on || key == "" {
		next(ctx)
		return
	}
	p := principal(ctx.Context())
	body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), maxIdempotentBody+1))
	if err != nil {
		_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, "could not read the request body")
		return
	}
	u := ctx.URL()
	sum := sha256.Sum256(append([]byte(ctx.Method()+" "+u.Path+"\n"), body...))
	req := engine.IdempotentRequest{Method: ctx.Method(), Path: u.Path, RequestHash: hex.EncodeToString(sum[:])}
	prev, call, err := s.app.ReserveIdempotencyKey(ctx.Context(), p.TenantID, key, req)
	switch {
	case err != nil:
		s.writeError(ctx, err)
		return
	case prev != nil && (prev.RequestHash != req.RequestHash || prev.Method != req.Method || prev.Path != req.Path):
		s.writeError(ctx, &engine.Error{Code: engine.EINVALID, Message: "this Idempotency-Key was used for another request",
			Fields: []engine.FieldError{{Field: "header.Idempotency-Key", Message: "already used for " + prev.Method + " " + prev.Path + " with another body"}}})
		return
	case prev != nil && prev.StatusCode == 0:
		s.writeError(ctx, &engine.Error{Code: engine.ECONFLICT, Message: "a request with this Idempotency-Key is still in progress",
			Fields: []engine.FieldError{{Field: "header.Idempotency-Key", Message: "in progress; retry later (a request that died holds its key for at most the idempotency lease)"}}})
		return
	case prev != nil:
		stored := openReplay(prev.Response)
		ctx.SetHeader("Content-Type", "application/json")
		for _, h := range replayedHeaders {
			if v, ok := stored.Headers[h]; ok {
				ctx.SetHeader(h, v)
			}
		}
		ctx.SetHeader("Idempotent-Replayed", "true")
		ctx.SetStatus(prev.StatusCode)
		if len(stored.Body) > 0 && string(stored.Body) != "null" {
			_, _ = ctx.BodyWriter().Write(stored.Body)
		}
		return
	}
	op := ctx.Operation()
	redact, _ := op.Metadata["redact"].([]string)
	slot := &answerSlot{call: call, render: func(out any) (int, []byte, error) { return s.renderAnswer(ctx, op, redact, out) }}
	inner := huma.WithContext(ctx, context.WithValue(app.WithIdempotentCall(ctx.Context(), call), answerKey{}, slot))
	rec := &recorder{humaContext: inner, body: body}
	next(rec)
	bg := context.WithoutCancel(ctx.Context())
	switch {
	case call.Recorded():
		// Stored with the write: nothing left to do, even if the handler
		// failed after the commit.
	case rec.status >= 200 && rec.status < 300:
		// An operation whose use case did not store its answer: stored now,
		// after its commit, so a crash in between lets a retry run it again.
		s.log.WarnContext(bg, "an idempotent answer was stored after its write", "operation", op.OperationID)
		if err := s.app.CompleteIdempotencyKey(bg, call, rec.status, sealReplay(rec.headers, rec.out.Bytes(), redact)); err != nil {
			s.log.ErrorContext(bg, "could not store an idempotent response", "err", err)
		}
	default:
		if err := s.app.ReleaseIdempotencyKey(bg, call); err != nil {
			s.log.ErrorContext(bg, "could not release an idempotency key", "err", err)
		}
	}
}

// answerSlot is how a handler tells the request's IdempotentCall how it
// answers (answerWith): render turns the handler's output into the stored
// answer.
type answerSlot struct {
	call   *app.IdempotentCall
	render func(out any) (int, []byte, error)
}

type answerKey struct{}

// answerWith tells the use case ctx reaches how the handler answers, from
// the result R the use case passes back, so that the use case stores that
// answer in its own transaction. out must be what the handler returns for
// that result. Without an Idempotency-Key it does nothing.
func answerWith[R, O any](ctx context.Context, out func(R) O) {
	slot, _ := ctx.Value(answerKey{}).(*answerSlot)
	if slot == nil {
		return
	}
	slot.call.Answer = func(res any) (int, []byte, error) {
		r, ok := res.(R)
		if !ok {
			var want R
			return 0, nil, fmt.Errorf("api: the answer is rendered from a %T, and the use case passed a %T", want, res)
		}
		return slot.render(out(r))
	}
}

// renderAnswer is what huma writes for out, a handler's output, in the
// stored form of a replay: the status (the operation's default, or the
// output's Status), the replayed headers and the body as JSON.
func (s *Server) renderAnswer(ctx huma.Context, op *huma.Operation, redact []string, out any) (int, []byte, error) {
	v := reflect.Indirect(reflect.ValueOf(out))
	if v.Kind() != reflect.Struct {
		return 0, nil, fmt.Errorf("api: %s: an output is a struct, not a %T", op.OperationID, out)
	}
	status := op.DefaultStatus
	headers := map[string]string{"Content-Type": "application/json"}
	var body any
	for i := range v.NumField() {
		f := v.Type().Field(i)
		switch name := f.Tag.Get("header"); {
		case f.Name == "Status" && f.Type.Kind() == reflect.Int:
			status = int(v.Field(i).Int())
		case f.Name == "Body":
			body = v.Field(i).Interface()
		case name != "" && f.Type.Kind() == reflect.String && v.Field(i).String() != "":
			for _, h := range replayedHeaders {
				if strings.EqualFold(name, h) {
					headers[h] = v.Field(i).String()
				}
			}
		}
	}
	tv, err := s.api.Transform(ctx, strconv.Itoa(status), body)
	if err != nil {
		return 0, nil, err
	}
	var buf bytes.Buffer
	if err := s.api.Marshal(&buf, "application/json", tv); err != nil {
		return 0, nil, err
	}
	return status, sealReplay(headers, buf.Bytes(), redact), nil
}

// writeError answers with the problem err is, from a middleware.
func (s *Server) writeError(ctx huma.Context, err error) {
	perr := toProblem(ctx.Context(), s.log, err)
	// An outage's problem comes wrapped with its Retry-After header.
	if h, ok := errors.AsType[huma.HeadersError](perr); ok {
		for name, values := range h.GetHeaders() {
			for _, v := range values {
				ctx.AppendHeader(name, v)
			}
		}
	}
	p, ok := errors.AsType[*Problem](perr)
	if !ok {
		p = newProblem(http.StatusInternalServerError, "internal error; it has been logged")
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_, _ = ctx.BodyWriter().Write(mustJSON(p))
}

// replay is what is stored of a first answer, so that a replay repeats
// its headers as well as its body. It is stored as JSON (the column is
// JSONB on PostgreSQL). The body is kept as a string of its bytes (Raw),
// because JSONB rewrites a JSON value's spacing and key order, and a replay
// on PostgreSQL would then differ from the first answer and from SQLite's.
// Envelopes of version 1 kept the body as JSON (Body), and an answer stored
// before headers were kept is its bare body: openReplay reads both.
type replay struct {
	Replay  int               `json:"quoteflow_replay"`
	Headers map[string]string `json:"headers,omitempty"`
	Raw     string            `json:"raw,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// replayVersion marks a stored replay envelope: 2 keeps the body's bytes.
const replayVersion = 2

// sealReplay returns the stored form of an answer, without the top-level
// fields redact names.
func sealReplay(headers map[string]string, body []byte, redact []string) []byte {
	if len(redact) > 0 && len(body) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			for _, f := range redact {
				delete(m, f)
			}
			body = mustJSON(m)
		}
	}
	if len(body) == 0 {
		body = []byte("null")
	}
	return mustJSON(replay{Replay: replayVersion, Headers: headers, Raw: string(body)})
}

// openReplay reads what sealReplay stored, an envelope of version 1, or a
// bare body stored before.
func openReplay(stored []byte) replay {
	var r replay
	if json.Unmarshal(stored, &r) == nil {
		switch r.Replay {
		case replayVersion:
			r.Body, r.Raw = json.RawMessage(r.Raw), ""
			return r
		case 1:
			return r
		}
	}
	return replay{Body: stored}
}

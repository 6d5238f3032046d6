package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// semantics is what an operation promises beyond its types: the
// cross-cutting behaviour every route shares (issue 9, "same semantics on
// every route"), kept here as one table keyed by operation id rather than
// spread over the route declarations. declareSemantics applies it when an
// operation is registered: the metadata the middlewares read, and the
// headers, parameters and responses the document declares.
type semantics struct {
	// idempotent: the operation creates or acts, and honours
	// Idempotency-Key through withIdempotency.
	idempotent bool
	// redact lists top-level response fields never stored for a replay:
	// a secret shown once must not sit in the idempotency table, so a
	// replay answers without it.
	redact []string
}

// operationSemantics holds every operation with semantics of its own. A
// POST that is not here is one of postsWithoutIdempotency, and a test
// keeps the two lists complete.
var operationSemantics = map[string]semantics{
	// Creates.
	"create-api-key":  {idempotent: true, redact: []string{"key"}},
	"create-lead":     {idempotent: true},
	"create-quote":    {idempotent: true},
	"create-workflow": {idempotent: true},
	"add-step":        {idempotent: true},
	"create-rule":     {idempotent: true},
	"create-override": {idempotent: true},
	// Actions. The reorders are naturally repeatable as to the order they
	// set, but reorder-steps saves a new version each time; a replay
	// answers with the first one instead of adding another.
	"reorder-steps":  {idempotent: true},
	"reorder-rules":  {idempotent: true},
	"cancel-run":     {idempotent: true},
	"retry-message":  {idempotent: true},
	"cancel-message": {idempotent: true},
	// The migration's apply: a replay by key answers as the first apply
	// did; applying the same preview again without a key is a 200 too.
	"apply-migration": {idempotent: true},
}

// postsWithoutIdempotency are the POSTs that do not take Idempotency-Key,
// each with the reason.
var postsWithoutIdempotency = map[string]string{
	// The quote actions keep the key inside their own transaction (app),
	// with the event it records; the header is declared on their input.
	"send-quote":          "key kept by app.QuoteAction",
	"view-quote":          "key kept by app.QuoteAction",
	"accept-quote":        "key kept by app.QuoteAction",
	"expire-quote":        "key kept by app.QuoteAction",
	"reject-quote":        "key kept by app.QuoteAction",
	"accept-public-quote": "key kept by app.QuoteAction",
	"reject-public-quote": "key kept by app.QuoteAction",
	// Writing nothing, they are safe to repeat as they are.
	"preview-step":       "writes nothing",
	"validate-step":      "writes nothing",
	"preview-resolution": "writes nothing",
	"simulate":           "writes nothing",
	// It stores the preview under the hash of the settings it read, so the
	// same settings always give the same row and id.
	"preview-migration": "the same settings give the same stored preview",
	// Only a sent quote is viewed, once: a repeat records nothing.
	"view-public-quote": "naturally idempotent",
	// Repeating it changes nothing: the address is unsubscribed once.
	"unsubscribe": "naturally idempotent",
	// Meta retries deliveries itself; the status updates are applied
	// idempotently by the receipt they carry.
	"whatsapp-webhook": "receipts are idempotent by provider message id",
	// Keys are stored per tenant, and this one has none yet: the
	// operator's retry of a lost answer lists tenants by name instead.
	"create-tenant": "no tenant to keep the key under",
	// A code works once; a retry after a lost answer gets 404 and signs in
	// with the key printed beside the link.
	"exchange-sign-in-code": "single use by design",
}

// Deprecation of the legacy settings routes: one pair of dates for both
// (docs/api/VERSIONING.md, "Deprecated today"). The Sunset is more than
// six months after the Deprecation, and after the release that brings the
// migration routes.
var (
	legacyDeprecated = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)
	legacySunset     = time.Date(2027, time.July, 1, 0, 0, 0, 0, time.UTC)
)

// deprecationLink is the page the legacy routes point to, served by
// quoteflow itself: the API reference, which shows each deprecated
// operation with its replacement.
const deprecationLink = `</v1/docs>; rel="deprecation"; type="text/html"`

// announceDeprecation sets the headers of every answer of a deprecated
// operation: Deprecation as an RFC 9745 structured-field date, Sunset as
// an RFC 8594 HTTP-date, and the Link to the page that says what replaces
// it.
func announceDeprecation(ctx huma.Context) {
	ctx.SetHeader("Deprecation", "@"+strconv.FormatInt(legacyDeprecated.Unix(), 10))
	ctx.SetHeader("Sunset", legacySunset.Format(http.TimeFormat))
	ctx.SetHeader("Link", deprecationLink)
}

// Names of the reusable header declarations in components.headers.
const (
	hdrReplayed        = "Idempotent-Replayed"
	hdrRateLimit       = "RateLimit"
	hdrRateLimitPolicy = "RateLimit-Policy"
	hdrRetryAfter      = "Retry-After"
	hdrDeprecation     = "Deprecation"
	hdrSunset          = "Sunset"
	hdrLink            = "Link"
)

// headerComponents are the headers declared once and referred to by the
// responses that carry them.
func headerComponents() map[string]*huma.Header {
	str := func(desc string) *huma.Header {
		return &huma.Header{Description: desc, Schema: &huma.Schema{Type: huma.TypeString}}
	}
	return map[string]*huma.Header{
		hdrReplayed: {Description: "true when this is the stored answer of an earlier request with the same Idempotency-Key, replayed with its status and headers (ETag, Location)",
			Schema: &huma.Schema{Type: huma.TypeString, Enum: []any{"true"}}},
		hdrRateLimitPolicy: str(`The caller's rate limit (draft-ietf-httpapi-ratelimit-headers-10): "per-key";q=<burst>;w=<seconds to refill it>`),
		hdrRateLimit:       str(`What is left of it: "per-key";r=<requests left now>;t=<seconds until the limit is whole again>`),
		hdrRetryAfter:      {Description: "Seconds to wait before trying again (RFC 9110 §10.2.3)", Schema: &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(1.0)}},
		hdrDeprecation:     str("RFC 9745: when the operation was deprecated, as a structured-field date (@<unix seconds>)"),
		hdrSunset:          str("RFC 8594: the HTTP-date after which the operation may stop working (the document's x-sunset)"),
		hdrLink:            str(`RFC 9745: rel="deprecation", the page (served here) that names the replacement`),
	}
}

func ptr[T any](v T) *T { return &v }

func headerRef(name string) *huma.Header {
	return &huma.Header{Ref: "#/components/headers/" + name}
}

// declareSemantics is the OpenAPI hook run as each operation is added:
// by then huma has built its parameters and responses from the Go types,
// and this adds what the table and the middlewares promise. The operation
// it receives is the one the handler serves, so the metadata set here is
// what the middlewares read.
func (s *Server) declareSemantics(_ *huma.OpenAPI, op *huma.Operation) {
	sem := operationSemantics[op.OperationID]
	if sem.idempotent {
		op.Metadata["idempotent"] = true
		op.Metadata["redact"] = sem.redact
		if !hasParam(op, "Idempotency-Key") {
			maxLen := maxIdempotencyKey
			op.Parameters = append(op.Parameters, &huma.Param{Name: "Idempotency-Key", In: "header",
				Description: "Repeat the request safely: the same key and body answer with the first response, its status and headers, and Idempotent-Replayed: true, for 24 hours. The same key with another body is a 422.",
				Schema:      &huma.Schema{Type: huma.TypeString, MaxLength: &maxLen}})
		}
		eachSuccess(op, func(r *huma.Response) { r.Headers[hdrReplayed] = headerRef(hdrReplayed) })
	}

	// If-None-Match on every read whose answer carries an ETag.
	if ok := op.Responses["200"]; op.Method == http.MethodGet && ok != nil && ok.Headers["ETag"] != nil {
		op.Parameters = append(op.Parameters, &huma.Param{Name: "If-None-Match", In: "header",
			Description: `The ETag of the copy the client holds ("3"), a list of them, or *: if the current version matches (weak comparison, RFC 9110 §13.1.2), the answer is 304 without a body.`,
			Schema:      &huma.Schema{Type: huma.TypeString}})
		op.Responses["304"] = &huma.Response{Description: "Not Modified: the client's copy is current",
			Headers: map[string]*huma.Header{"ETag": {Description: "The current version", Schema: &huma.Schema{Type: huma.TypeString}}}}
	}

	if need, _ := op.Metadata["access"].(access); need == accessApp || need == accessAdmin {
		eachSuccess(op, func(r *huma.Response) {
			r.Headers[hdrRateLimitPolicy] = headerRef(hdrRateLimitPolicy)
			r.Headers[hdrRateLimit] = headerRef(hdrRateLimit)
		})
		tooMany := op.Responses["429"]
		if tooMany == nil {
			tooMany = &huma.Response{Description: "Too Many Requests: this API key is over its rate limit; wait Retry-After seconds"}
			if def := op.Responses["default"]; def != nil {
				tooMany.Content = def.Content
			}
			op.Responses["429"] = tooMany
		}
		if tooMany.Headers == nil {
			tooMany.Headers = map[string]*huma.Header{}
		}
		for _, h := range []string{hdrRetryAfter, hdrRateLimitPolicy, hdrRateLimit} {
			tooMany.Headers[h] = headerRef(h)
		}
	}

	if op.Deprecated {
		if op.Extensions == nil {
			op.Extensions = map[string]any{}
		}
		op.Extensions["x-sunset"] = legacySunset.Format(time.DateOnly)
		for _, r := range op.Responses {
			if r.Ref != "" {
				continue
			}
			if r.Headers == nil {
				r.Headers = map[string]*huma.Header{}
			}
			for _, h := range []string{hdrDeprecation, hdrSunset, hdrLink} {
				r.Headers[h] = headerRef(h)
			}
		}
	}
}

func hasParam(op *huma.Operation, name string) bool {
	for _, p := range op.Parameters {
		if strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

// eachSuccess calls fn with every 2xx response of op, headers allocated.
func eachSuccess(op *huma.Operation, fn func(*huma.Response)) {
	for code, r := range op.Responses {
		if len(code) == 3 && code[0] == '2' && r.Ref == "" {
			if r.Headers == nil {
				r.Headers = map[string]*huma.Header{}
			}
			fn(r)
		}
	}
}

// Package api is quoteflow's HTTP interface: the /v1 JSON API described by
// the OpenAPI document huma generates from these types, the operational
// endpoints, and the mapping of domain errors to RFC 9457 problems.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/web"
)

// Version is the API's version as published in the OpenAPI document.
const Version = "1.0.0"

// access is who may call an operation.
type access string

const (
	accessPublic   access = "public"   // no credentials (customer routes, webhooks)
	accessOperator access = "operator" // the operator token
	accessApp      access = "app"      // any tenant key
	accessAdmin    access = "admin"    // a tenant admin key
)

// Server serves the API.
type Server struct {
	app      *app.App
	log      *slog.Logger
	api      huma.API
	mux      *http.ServeMux
	requests *prometheus.HistogramVec
	// httpRequests counts requests by route pattern (observe.go).
	httpRequests *prometheus.CounterVec
	limits       *rateLimits
	// handler is the mux behind the request id, access log and tracing.
	handler http.Handler
	// signInCodes are the one-time editor sign-in codes (Options.SignInCodes).
	signInCodes *app.SignInCodes
}

// Options configure a Server.
type Options struct {
	// Registry receives the server's metrics and is served at /metrics;
	// nil uses a fresh registry.
	Registry *prometheus.Registry
	// Ready reports whether the service can take traffic, for /readyz.
	Ready func(ctx context.Context) error
	// RateLimit is the requests per second each API key may make, and
	// RateBurst how many at once; 0 (the zero value) disables the limit.
	RateLimit float64
	RateBurst int
	// RiverUI, when set, is River's web UI (jobs.Queue.UI), served under
	// /ops/river/ to the operator token only.
	RiverUI http.Handler
	// TracerProvider makes the HTTP server spans; nil is OpenTelemetry's
	// global provider (a no-op unless the process installed one).
	TracerProvider trace.TracerProvider
	// SignInCodes, when set, are the one-time codes POST
	// /v1/sign-in/exchange trades for an admin key; only `quoteflow demo`
	// sets them. Nil: every code is unknown.
	SignInCodes *app.SignInCodes
}

// New returns the HTTP handler for the whole service.
func New(a *app.App, log *slog.Logger, opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{app: a, log: log, mux: http.NewServeMux(), signInCodes: opts.SignInCodes}
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "quoteflow_http_request_duration_seconds",
		Help:    "HTTP requests by operation and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation", "status"})
	s.httpRequests = newHTTPRequests()
	opts.Registry.MustRegister(s.requests, s.httpRequests)
	if opts.TracerProvider == nil {
		opts.TracerProvider = otel.GetTracerProvider()
	}

	cfg := huma.DefaultConfig("quoteflow", Version)
	cfg.Info.Description = "Workflows that decide and deliver what to say to a customer when their quote changes."
	cfg.OpenAPIPath = "/v1/openapi"
	cfg.DocsPath = "" // served from the binary instead (mountDocs)
	cfg.SchemasPath = "/v1/schemas"
	// The default hook adds "$schema" links to every response body; the
	// API's clients do not want them in their data.
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey":   {Type: "http", Scheme: "bearer", Description: "A tenant API key: Authorization: Bearer qf_..."},
		"operator": {Type: "http", Scheme: "bearer", Description: "The operator token from QUOTEFLOW_OPERATOR_TOKEN"},
	}
	documentAPI(&cfg)
	cfg.Components.Headers = headerComponents()
	s.limits = newRateLimits(opts.RateLimit, opts.RateBurst)
	s.api = humago.New(s.mux, cfg)
	s.api.OpenAPI().OnAddOperation = append(s.api.OpenAPI().OnAddOperation, s.declareSemantics)
	s.api.UseMiddleware(s.authenticate, s.withRateLimit, s.withConditionalRead, s.withIdempotency)
	s.routes()
	documentPlainRoutes(s.api.OpenAPI())

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if opts.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := opts.Ready(ctx); err != nil {
				log.WarnContext(r.Context(), "not ready", "err", err)
				writeProblem(w, newProblem(http.StatusServiceUnavailable, "not ready"))
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ready\n"))
	})
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{}))
	s.mountDocs()
	if opts.RiverUI != nil {
		s.mountRiverUI(opts.RiverUI)
	}
	// The editor (docs/WEB.md): its page at / and its hashed assets. It
	// routes by the URL's fragment, so no other path needs a fallback and
	// unknown paths stay 404 problems.
	editor := web.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path))
	}))
	s.mux.Handle("GET /{$}", editor)
	s.mux.Handle("GET /assets/", editor)
	s.mux.HandleFunc("/", s.notRouted)
	s.handler = s.observed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.checkBytes(w, r) {
			s.mux.ServeHTTP(w, r)
		}
	}), opts.TracerProvider)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(mustJSON(p))
}

type principalKey struct{}

// principal returns the caller. Only operations behind authenticate run, so
// a missing principal is a wiring bug; the zero value has no tenant and
// finds nothing.
func principal(ctx context.Context) app.Principal {
	p, _ := ctx.Value(principalKey{}).(app.Principal)
	return p
}

// authenticate checks the credentials an operation requires, as declared in
// its metadata, before huma parses the request.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	op := ctx.Operation()
	observeOperation(ctx)
	defer func() {
		s.requests.WithLabelValues(op.OperationID, strconv.Itoa(ctx.Status())).Observe(time.Since(start).Seconds())
	}()
	if op.Deprecated {
		// RFC 9745: tell clients in every answer, not only in the docs.
		announceDeprecation(ctx)
	}
	need, _ := op.Metadata["access"].(access)
	if need == accessPublic || need == "" {
		next(ctx)
		return
	}
	token, ok := bearer(ctx.Header("Authorization"))
	if need == accessOperator {
		if !ok || !s.app.IsOperator(token) {
			s.deny(ctx, http.StatusUnauthorized, "missing or invalid operator token")
			return
		}
		next(ctx)
		return
	}
	if !ok || token == "" {
		s.deny(ctx, http.StatusUnauthorized, "missing API key: send Authorization: Bearer <key>")
		return
	}
	p, err := s.app.Authenticate(ctx.Context(), token)
	if err != nil {
		if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
			s.deny(ctx, http.StatusUnauthorized, "invalid API key")
			return
		}
		s.log.ErrorContext(ctx.Context(), "authentication failed", "err", err)
		s.deny(ctx, http.StatusInternalServerError, "internal error; it has been logged")
		return
	}
	if need == accessAdmin && !p.Can(engine.RoleAdmin) {
		s.deny(ctx, http.StatusForbidden, "this operation needs an admin key")
		return
	}
	next(huma.WithValue(withTenant(ctx, p.TenantID), principalKey{}, p))
}

// bearer returns the token of an Authorization header of the Bearer
// scheme, whose name is case-insensitive (RFC 9110 §11.1): clients that
// send "bearer" are not refused.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (s *Server) deny(ctx huma.Context, status int, msg string) {
	if status == http.StatusUnauthorized {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="quoteflow"`)
	}
	_ = huma.WriteErr(s.api, ctx, status, msg)
}

// The limits of every request body: huma's defaults, stated once so that
// operations reading RawBody get them too.
const (
	maxRequestBody  = 1 << 20
	bodyReadTimeout = 5 * time.Second
)

// operation describes one route for register.
func operation(method, path, id, summary string, who access, tag string) huma.Operation {
	op := huma.Operation{
		OperationID: id,
		Method:      method,
		Path:        path,
		Summary:     summary,
		Tags:        []string{tag},
		Metadata:    map[string]any{"access": who},
		// huma applies its 1 MiB and 5 s defaults only to operations with
		// a decoded Body; the ones that read RawBody (the webhook, the
		// one-click unsubscribe, both public) would read without limit.
		MaxBodyBytes:    maxRequestBody,
		BodyReadTimeout: bodyReadTimeout,
	}
	switch who {
	case accessOperator:
		op.Security = []map[string][]string{{"operator": {}}}
	case accessApp, accessAdmin:
		op.Security = []map[string][]string{{"apiKey": {}}}
	}
	if method == http.MethodDelete {
		op.DefaultStatus = http.StatusNoContent
	}
	return op
}

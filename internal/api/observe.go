package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/telemetry"
)

// requestIDHeader carries a request's id in and out: a caller's own id is
// kept, so that its logs and ours can be joined; otherwise one is made.
const requestIDHeader = "X-Request-Id"

// exchange is what the operation middleware learns about a request for
// the access log and metrics written once the answer is out: huma knows
// the route pattern and the principal, the outer handler does not.
type exchange struct {
	route, tenantID string
}

type exchangeKey struct{}

// observed wraps h with the request id, the access log, the request
// counter by route pattern, and an OpenTelemetry server span (renamed to
// the route pattern once huma has matched it).
func (s *Server) observed(h http.Handler, tp trace.TracerProvider) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r.Header.Get(requestIDHeader))
		w.Header().Set(requestIDHeader, id)
		ex := &exchange{}
		ctx := telemetry.With(r.Context(), slog.String("request_id", id))
		ctx = context.WithValue(ctx, exchangeKey{}, ex)
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := ex.route
		if route == "" {
			route = "unmatched" // /healthz, /metrics and 404s: never the raw path
		}
		s.httpRequests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
		if route == "unmatched" {
			return // probes and scrapes would drown the log
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// The route pattern, not the path: a path holds ids and public
		// tokens; no query string, no body.
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", time.Since(start))}
		if ex.tenantID != "" {
			attrs = append(attrs, slog.String("tenant_id", ex.tenantID))
		}
		s.log.LogAttrs(ctx, level, "request", attrs...)
	})
	return otelhttp.NewHandler(inner, "http.request", otelhttp.WithTracerProvider(tp),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/metrics" && r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
		}))
}

// observeOperation tells the outer handler the operation's route pattern
// and names the server span after it.
func observeOperation(ctx huma.Context) {
	op := ctx.Operation()
	if ex, ok := ctx.Context().Value(exchangeKey{}).(*exchange); ok {
		ex.route = op.Path
	}
	span := trace.SpanFromContext(ctx.Context())
	span.SetName(op.Method + " " + op.Path)
	span.SetAttributes(attribute.String("http.route", op.Path), attribute.String("quoteflow.operation", op.OperationID))
}

// withTenant adds the caller's tenant to the context's log attributes,
// the access log and the span.
func withTenant(ctx huma.Context, tenantID string) huma.Context {
	if ex, ok := ctx.Context().Value(exchangeKey{}).(*exchange); ok {
		ex.tenantID = tenantID
	}
	trace.SpanFromContext(ctx.Context()).SetAttributes(attribute.String("quoteflow.tenant_id", tenantID))
	return huma.WithContext(ctx, telemetry.With(ctx.Context(), slog.String("tenant_id", tenantID)))
}

// requestID returns the caller's id when it is a short run of visible
// ASCII (it goes into logs and a header), else a new random one.
func requestID(given string) string {
	if n := len(given); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n; i++ {
			if c := given[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func newHTTPRequests() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quoteflow_http_requests_total",
		Help: "HTTP requests by method, route pattern (the operation's path template; \"unmatched\" for probes, /metrics and unknown paths) and status.",
	}, []string{"method", "route", "status"})
}

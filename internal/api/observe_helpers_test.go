package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/smtp"
	"github.com/quoteflow/quoteflow/internal/channel/smtp/smtptest"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
	"github.com/quoteflow/quoteflow/internal/telemetry"
)

// observedEnv is execEnv wired as serve wires it for observability: one
// Prometheus registry for the app, the queue and the server; JSON logs
// through the telemetry handler, captured; spans kept in memory.
type observedEnv struct {
	*execEnv
	registry *prometheus.Registry
	logs     *syncBuffer
	spans    *tracetest.InMemoryExporter
	tp       *sdktrace.TracerProvider
}

// syncBuffer is a bytes.Buffer that jobs and requests may log to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func setupObserved(t *testing.T, dialect string) *observedEnv {
	t.Helper()
	o := &observedEnv{registry: prometheus.NewRegistry(), logs: &syncBuffer{}, spans: tracetest.NewInMemoryExporter()}
	// Synchronous, so that a span is in the exporter once it has ended.
	o.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(o.spans))
	log := slog.New(telemetry.NewHandler(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	db := storetest.Open(t, dialect)
	q, err := jobs.New(db, jobs.Config{Workers: 8, PollInterval: 20 * time.Millisecond, RescueAfter: time.Minute,
		ExpireEvery: time.Hour, TracerProvider: o.tp}, log)
	if err != nil {
		t.Fatal(err)
	}
	o.registry.MustRegister(q.Collector())
	a := app.New(db, q, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test",
		Registry: o.registry, TracerProvider: o.tp}, log)
	x := &execEnv{smtp: smtptest.Start(t), wa: whatsapptest.Start(t), logs: logsender.New(log)}
	x.wa.AddTemplate(whatsapptest.Template{Name: "quote_sent", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
		Body: "Hi {{1}}, your quote {{2}} is ready."})
	a.Senders = senders.New(senders.Options{Log: x.logs, WhatsAppBaseURL: x.wa.URL(), WhatsAppThrottle: whatsapp.NewThrottle(0, 0),
		SMTP: smtp.Options{TLSConfig: x.smtp.ClientTLSConfig(), Timeout: 5 * time.Second}})
	a.Rand = func() float64 { return 0 }
	if err := q.Start(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	uiCtx, stopUI := context.WithCancel(context.Background())
	ui, err := q.UI(uiCtx, "/ops/river", log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(a, log, api.Options{Registry: o.registry, TracerProvider: o.tp, RiverUI: ui}))
	t.Cleanup(func() {
		srv.Close()
		stopUI()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("queue stop: %v", err)
		}
	})
	x.env = &env{t: t, srv: srv, app: a}
	o.execEnv = x
	return o
}

// forEachObservedDB runs fn on every database with an observed stack.
func forEachObservedDB(t *testing.T, fn func(t *testing.T, o *observedEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, setupObserved(t, d))
		})
	}
}

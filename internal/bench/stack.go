package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/secrets"
	"github.com/quoteflow/quoteflow/internal/store"
)

// queueMode is what a stack does with its job queue.
type queueMode int

const (
	// queueNone builds no queue: the app cannot enqueue (setup only).
	queueNone queueMode = iota
	// queueIdle builds the queue, so actions insert their jobs, but does
	// not start it: nothing is worked.
	queueIdle
	// queueRunning builds and starts it, as serve does.
	queueRunning
)

// stackOptions are the settings of serve that the bench exposes.
type stackOptions struct {
	Workers         int
	PollInterval    time.Duration
	WhatsAppAPIBase string
	WhatsAppRate    float64
	Queue           queueMode
	// HTTP serves the API on 127.0.0.1, on a port of its own.
	HTTP bool
	Log  *slog.Logger
	// Statements, when set, counts what the stack's PostgreSQL pool sends.
	Statements *store.StatementCounter
	// Caches are the app's cache bounds (zero: the defaults).
	Caches app.CacheSizes
}

// stack is quoteflow as `quoteflow serve` wires it (cmd/quoteflow/run.go):
// the store, the app with the log and WhatsApp senders, the River queue with
// its metrics, and the HTTP API, here on a listener on 127.0.0.1. The only
// addition is a count of provider answers, for pacing and progress.
type stack struct {
	DB    *store.DB
	App   *app.App
	Queue *jobs.Queue
	// URL is the server's base URL when HTTP is on.
	URL   string
	Sends *sendCounter

	srv          *http.Server
	queueStarted bool
	closeOnce    sync.Once
	closeErr     error
}

// benchKeys seals the bench tenants' channel secrets (the WhatsApp
// stand-in's token), as a configured server would. The key is fixed and
// public: the bench's tenants and their secrets are throwaway, and every
// stack of one run, or of a later run on the same database, must open what
// an earlier one sealed.
var benchKeys = func() *secrets.Keyring {
	r, err := secrets.NewKeyring([]byte("quoteflow-bench-fixed-secret-key"))
	if err != nil {
		panic(err)
	}
	return r
}()

func startStack(ctx context.Context, dsn string, o stackOptions) (*stack, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.OpenWith(ctx, dsn, log, store.OpenOptions{Statements: o.Statements, TenantCache: o.Caches.Tenants})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.UseSecretKeys(benchKeys)
	s := &stack{DB: db, Sends: &sendCounter{}}
	var ln net.Listener
	publicURL := "http://127.0.0.1"
	if o.HTTP {
		// Listening first, so that its address is known before the app is
		// built, as serve knows its listener's.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			db.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
		publicURL = "http://" + ln.Addr().String()
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var enqueuer app.Enqueuer
	if o.Queue != queueNone {
		s.Queue, err = jobs.New(db, jobs.Config{Workers: o.Workers, PollInterval: o.PollInterval,
			RescueAfter: 5 * time.Minute, ExpireEvery: time.Minute}, log)
		if err != nil {
			db.Close()
			if ln != nil {
				ln.Close()
			}
			return nil, fmt.Errorf("job queue: %w", err)
		}
		enqueuer = s.Queue
	}
	a := app.New(db, enqueuer, app.Config{PublicBaseURL: publicURL, Registry: registry, Caches: o.Caches}, log)
	a.Senders = &countingSenders{inner: senders.New(senders.Options{Log: logsender.New(log), WhatsAppBaseURL: o.WhatsAppAPIBase,
		WhatsAppThrottle: whatsapp.NewThrottle(o.WhatsAppRate, whatsapp.DefaultBurst)}), n: s.Sends}
	s.App = a
	if o.Queue == queueRunning {
		if err := s.Queue.Start(context.WithoutCancel(ctx), a); err != nil {
			db.Close()
			if ln != nil {
				ln.Close()
			}
			return nil, fmt.Errorf("start job queue: %w", err)
		}
		s.queueStarted = true
	}
	if ln != nil {
		s.srv = &http.Server{
			Handler:           api.New(a, log, api.Options{Registry: registry, Ready: func(ctx context.Context) error { return db.SQL().PingContext(ctx) }}),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		go func() {
			if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Error("bench HTTP server stopped", "err", err)
			}
		}()
		s.URL = publicURL
	}
	return s, nil
}

// Close stops the server (waiting for requests in flight), then the queue
// (waiting for running jobs), then closes the database, in serve's order.
func (s *stack) Close() error {
	s.closeOnce.Do(func() {
		if s.srv != nil {
			// As serve shuts down: requests in flight finish first.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
			cancel()
		}
		if s.queueStarted {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.Queue.Stop(ctx); err != nil {
				s.closeErr = fmt.Errorf("stop job queue: %w", err)
			}
			cancel()
		}
		if err := s.DB.Close(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// sendCounter counts provider answers: the moment the quoteflow_deliveries
// metric counts them, after the provider answered and before the outcome
// is committed.
type sendCounter struct {
	ok, failed atomic.Int64
}

func (c *sendCounter) answered() int64 { return c.ok.Load() + c.failed.Load() }

// countingSenders is the senders registry with each sender's answers
// counted.
type countingSenders struct {
	inner app.Senders
	n     *sendCounter
}

func (c *countingSenders) For(t *engine.Tenant, ch string) (channel.Sender, string, error) {
	s, name, err := c.inner.For(t, ch)
	if err != nil {
		return nil, name, err
	}
	return countingSender{s, c.n}, name, nil
}

type countingSender struct {
	inner channel.Sender
	n     *sendCounter
}

func (c countingSender) Send(ctx context.Context, m *channel.Message) (channel.Result, error) {
	res, err := c.inner.Send(ctx, m)
	if err != nil {
		c.n.failed.Add(1)
	} else {
		c.n.ok.Add(1)
	}
	return res, err
}

// ListTemplates keeps the WhatsApp sender's template listing visible to the
// app, which checks workflows against it.
func (c countingSender) ListTemplates(ctx context.Context) ([]whatsapp.Template, error) {
	if l, ok := c.inner.(interface {
		ListTemplates(context.Context) ([]whatsapp.Template, error)
	}); ok {
		return l.ListTemplates(ctx)
	}
	return nil, fmt.Errorf("the %T sender lists no templates", c.inner)
}

// logSink is the stack's logger: records go, fully formatted as serve
// formats them, to a JSON handler that discards them (so that the cost of
// logging is paid as in serve), and warnings and errors are kept to show
// after the run.
type logSink struct {
	mu       sync.Mutex
	warnings []string
	dropped  int
}

const maxWarnings = 20

func newLogger(sink *logSink, level slog.Level) *slog.Logger {
	return slog.New(&sinkHandler{Handler: slog.NewJSONHandler(discard{}, &slog.HandlerOptions{Level: level}), sink: sink})
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

type sinkHandler struct {
	slog.Handler
	sink  *logSink
	attrs []slog.Attr
}

func (h *sinkHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.Handler.Enabled(ctx, l)
}

func (h *sinkHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		msg := r.Level.String() + " " + r.Message
		add := func(a slog.Attr) bool {
			msg += " " + a.String()
			return true
		}
		for _, a := range h.attrs {
			add(a)
		}
		r.Attrs(add)
		h.sink.mu.Lock()
		if len(h.sink.warnings) < maxWarnings {
			h.sink.warnings = append(h.sink.warnings, msg)
		} else {
			h.sink.dropped++
		}
		h.sink.mu.Unlock()
	}
	if h.Handler.Enabled(ctx, r.Level) {
		return h.Handler.Handle(ctx, r)
	}
	return nil
}

func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sinkHandler{Handler: h.Handler.WithAttrs(as), sink: h.sink, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *sinkHandler) WithGroup(name string) slog.Handler {
	return &sinkHandler{Handler: h.Handler.WithGroup(name), sink: h.sink, attrs: h.attrs}
}

func (s *logSink) take() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.warnings...), s.dropped
}

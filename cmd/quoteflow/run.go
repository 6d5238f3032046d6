package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/bench"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/envvar"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/telemetry"
)

const usage = `quoteflow — workflows for lead and quote communications

Usage:
  quoteflow serve   [flags]   run the HTTP API (migrates the database first)
  quoteflow migrate [flags]   apply database migrations and exit
  quoteflow demo    [flags]   serve a seeded demo tenant on SQLite with the log provider
  quoteflow rotate-secrets [flags]
                              re-seal every tenant's channel secrets with the current key
  quoteflow bench   [flags]   measure throughput against this machine's own ceilings
  quoteflow migrate-legacy --tenant ID [--apply]
                              preview (and apply) a tenant's migration from legacy settings
  quoteflow seed-stats --db URL [--messages N] [--events N] [--measure N]
                              write a large synthetic history and time the statistics on it

Flags (each overrides its environment variable):
`

// config is the process configuration: flags over environment over
// defaults, as in the spec's Appendix A.
type config struct {
	Addr            string
	DatabaseURL     string
	OperatorToken   string
	WhatsAppAPIBase string
	PublicURL       string
	LogLevel        string
	Workers         int
	PollInterval    time.Duration
	RescueAfter     time.Duration
	ExpireEvery     time.Duration
	PurgeEvery      time.Duration
	AlertsEvery     time.Duration
	AlertLag        time.Duration
	// Circuits is when transient failures open a tenant's circuit for a
	// provider, and how long circuits stay open.
	Circuits     app.CircuitPolicy
	WhatsAppRate float64
	RateLimit    float64
	RateBurst    int
	// IdempotencyLease bounds how long a request that died holds its
	// Idempotency-Key (a retry answers 409 until then).
	IdempotencyLease time.Duration
	// Caches bounds the app's in-memory caches (--cache-*).
	Caches app.CacheSizes
	// TestHold is QUOTEFLOW_TEST_HOLD: for the crash tests only, the point
	// of an idempotent write (app.HoldBeforeCommit, app.HoldAfterCommit)
	// where a request stops, so that the test can kill the process there.
	TestHold string

	// The channel secrets' keys; see secretKeyEnv for why the environment
	// is read after the flags.
	SecretKey, SecretKeyFile, SecretKeyOld, SecretKeyOldFile string
}

func parseConfig(cmd string, args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	defaultDB := "./quoteflow.db"
	if cmd == "demo" {
		defaultDB = "./quoteflow-demo.db"
	}
	var c config
	fs := flag.NewFlagSet("quoteflow "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Addr, "addr", env("QUOTEFLOW_ADDR", ":8080"), "listen address (QUOTEFLOW_ADDR)")
	// These two may hold secrets (a token, a database password), so their
	// defaults shown by -h are the built-in ones; the environment is read
	// after parsing (fromEnvUnlessSet), where -h cannot print it.
	fs.StringVar(&c.DatabaseURL, "database-url", defaultDB, "SQLite file path or sqlite:PATH, or postgres://... (QUOTEFLOW_DATABASE_URL)")
	fs.StringVar(&c.OperatorToken, "operator-token", "", "token that may create tenants; empty disables it (QUOTEFLOW_OPERATOR_TOKEN)")
	fs.StringVar(&c.WhatsAppAPIBase, "whatsapp-api-base", env("QUOTEFLOW_WHATSAPP_API_BASE", "https://graph.facebook.com"), "WhatsApp Cloud API base URL (QUOTEFLOW_WHATSAPP_API_BASE)")
	fs.StringVar(&c.PublicURL, "public-url", env("QUOTEFLOW_PUBLIC_URL", ""), "base URL of customer quote links; default http://<addr> (QUOTEFLOW_PUBLIC_URL)")
	fs.StringVar(&c.LogLevel, "log-level", env("QUOTEFLOW_LOG_LEVEL", "info"), "debug, info, warn or error (QUOTEFLOW_LOG_LEVEL)")
	fs.IntVar(&c.Workers, "workers", envvar.Int(getenv, "QUOTEFLOW_WORKERS", 50), "jobs (steps, deliveries) worked at once by this process (QUOTEFLOW_WORKERS)")
	fs.DurationVar(&c.PollInterval, "poll-interval", envvar.Duration(getenv, "QUOTEFLOW_POLL_INTERVAL", 0), "how often to look for due jobs; 0 is 1s on PostgreSQL, 100ms on SQLite (QUOTEFLOW_POLL_INTERVAL)")
	fs.DurationVar(&c.RescueAfter, "rescue-after", envvar.Duration(getenv, "QUOTEFLOW_RESCUE_AFTER", 5*time.Minute), "take over jobs left running this long by a process that died (QUOTEFLOW_RESCUE_AFTER)")
	fs.DurationVar(&c.PurgeEvery, "purge-every", envvar.Duration(getenv, "QUOTEFLOW_PURGE_EVERY", time.Hour), "period of the purge of timeline entries past each tenant's retention_days (QUOTEFLOW_PURGE_EVERY)")
	fs.DurationVar(&c.AlertsEvery, "alerts-every", envvar.Duration(getenv, "QUOTEFLOW_ALERTS_EVERY", time.Minute), "period of the alert evaluation (QUOTEFLOW_ALERTS_EVERY)")
	fs.DurationVar(&c.AlertLag, "alert-lag", envvar.Duration(getenv, "QUOTEFLOW_ALERT_LAG", 5*time.Minute), "a message waiting longer than this for delivery opens a delivery_lag alert (QUOTEFLOW_ALERT_LAG)")
	fs.Int64Var(&c.Circuits.TransientFailures, "circuit-failures", int64(envvar.Int(getenv, "QUOTEFLOW_CIRCUIT_FAILURES", 10)), "transient failures of a provider for a tenant within --circuit-window that open its circuit (QUOTEFLOW_CIRCUIT_FAILURES)")
	fs.DurationVar(&c.Circuits.TransientWindow, "circuit-window", envvar.Duration(getenv, "QUOTEFLOW_CIRCUIT_WINDOW", 5*time.Minute), "the window in which --circuit-failures are counted (QUOTEFLOW_CIRCUIT_WINDOW)")
	fs.Float64Var(&c.Circuits.TransientShare, "circuit-share", envvar.Float(getenv, "QUOTEFLOW_CIRCUIT_SHARE", 0.5), "the share of the window's finished attempts that must have failed transiently as well, 0 to 1 (QUOTEFLOW_CIRCUIT_SHARE)")
	fs.DurationVar(&c.Circuits.TransientOpenFor, "circuit-open-for", envvar.Duration(getenv, "QUOTEFLOW_CIRCUIT_OPEN_FOR", time.Minute), "how long transient failures first open a circuit; each failed probe doubles it (QUOTEFLOW_CIRCUIT_OPEN_FOR)")
	fs.DurationVar(&c.Circuits.MaxOpenFor, "circuit-max-open-for", envvar.Duration(getenv, "QUOTEFLOW_CIRCUIT_MAX_OPEN_FOR", time.Hour), "the longest a circuit stays open before its next probe (QUOTEFLOW_CIRCUIT_MAX_OPEN_FOR)")
	fs.DurationVar(&c.ExpireEvery, "expire-every", envvar.Duration(getenv, "QUOTEFLOW_EXPIRE_EVERY", time.Minute), "period of the sweep that expires quotes past valid_until (QUOTEFLOW_EXPIRE_EVERY)")
	fs.Float64Var(&c.WhatsAppRate, "whatsapp-rate", envvar.Float(getenv, "QUOTEFLOW_WHATSAPP_RATE", whatsapp.DefaultPerSecond), "WhatsApp sends per second per phone number, in this process; 0 is unlimited (QUOTEFLOW_WHATSAPP_RATE)")
	fs.Float64Var(&c.RateLimit, "rate-limit", envvar.Float(getenv, "QUOTEFLOW_RATE_LIMIT", api.DefaultRateLimit), "API requests per second per API key, in this process; 0 disables the limit (QUOTEFLOW_RATE_LIMIT)")
	fs.IntVar(&c.RateBurst, "rate-burst", envvar.Int(getenv, "QUOTEFLOW_RATE_BURST", api.DefaultRateBurst), "API requests per API key allowed at once above the rate (QUOTEFLOW_RATE_BURST)")
	fs.DurationVar(&c.IdempotencyLease, "idempotency-lease", envvar.Duration(getenv, "QUOTEFLOW_IDEMPOTENCY_LEASE", store.IdempotencyLease), "how long a request that died holds its Idempotency-Key before a retry may run it (QUOTEFLOW_IDEMPOTENCY_LEASE)")
	c.Caches.RegisterFlags(fs, getenv)
	fs.StringVar(&c.SecretKey, "secret-key", "", "base64 of the 32-byte key that seals channel secrets; prefer the variable or a file (QUOTEFLOW_SECRET_KEY)")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "", "file holding the secret key, instead of --secret-key (QUOTEFLOW_SECRET_KEY_FILE)")
	fs.StringVar(&c.SecretKeyOld, "secret-key-old", "", "comma-separated old secret keys, which only open, during a rotation (QUOTEFLOW_SECRET_KEY_OLD)")
	fs.StringVar(&c.SecretKeyOldFile, "secret-key-old-file", "", "comma-separated files holding old secret keys (QUOTEFLOW_SECRET_KEY_OLD_FILE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fromEnvUnlessSet(fs, getenv, map[string]*string{
		"database-url":   &c.DatabaseURL,
		"operator-token": &c.OperatorToken,
	})
	// Checked here, before anything starts: a bad public URL would
	// otherwise be found by every quote link and every email.
	if c.PublicURL != "" {
		if err := app.CheckPublicURL(c.PublicURL); err != nil {
			return c, fmt.Errorf("--public-url (QUOTEFLOW_PUBLIC_URL): %w", err)
		}
	}
	switch c.TestHold = getenv("QUOTEFLOW_TEST_HOLD"); c.TestHold {
	case "", app.HoldBeforeCommit, app.HoldAfterCommit:
	default:
		return c, fmt.Errorf("QUOTEFLOW_TEST_HOLD=%q: want %s or %s", c.TestHold, app.HoldBeforeCommit, app.HoldAfterCommit)
	}
	if c.IdempotencyLease <= 0 {
		return c, fmt.Errorf("--idempotency-lease (QUOTEFLOW_IDEMPOTENCY_LEASE) must be positive")
	}
	secretKeyEnv(&c, getenv)
	return c, nil
}

// fromEnvUnlessSet gives each flag in dsts its QUOTEFLOW_* variable when the
// flag was not on the command line and the variable is not empty.
func fromEnvUnlessSet(fs *flag.FlagSet, getenv func(string) string, dsts map[string]*string) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, dst := range dsts {
		if set[name] {
			continue
		}
		k := "QUOTEFLOW_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(k); v != "" {
			*dst = v
		}
	}
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	// The telemetry handler adds the request, tenant, event, run and
	// message ids the context carries to every line.
	return slog.New(telemetry.NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))), nil
}

// run is the whole program, with its inputs made explicit so that tests can
// start it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage+"  run 'quoteflow serve -h' for the flags\n")
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd := args[0]
	switch cmd {
	case "serve", "migrate", "demo", "rotate-secrets":
	case "bench":
		return bench.Run(ctx, args[1:], getenv, stdout, stderr)
	case "migrate-legacy":
		return migrateLegacy(ctx, args[1:], getenv, stdout, stderr)
	case "seed-stats":
		return seedStats(ctx, args[1:], getenv, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q: want serve, migrate, demo, rotate-secrets, bench, migrate-legacy or seed-stats", cmd)
	}
	cfg, err := parseConfig(cmd, args[1:], getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, stderr)
	if err != nil {
		return err
	}
	db, err := store.OpenWith(ctx, cfg.DatabaseURL, log, store.OpenOptions{TenantCache: cfg.Caches.Tenants})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cmd == "migrate" {
		fmt.Fprintf(stdout, "database migrated (%s)\n", db.Dialect())
		return nil
	}
	keys, err := loadKeyring(cfg, log)
	if err != nil {
		return err
	}
	if keys == nil && cmd == "demo" {
		if keys, err = demoKeyring(demoKeyPath(cfg.DatabaseURL), log); err != nil {
			return err
		}
	}
	if keys != nil {
		db.UseSecretKeys(keys)
	}
	if cmd == "rotate-secrets" {
		return rotateSecrets(ctx, db, keys, stdout)
	}
	if err := checkSecrets(ctx, db, keys, log); err != nil {
		return err
	}
	// Spans are exported only when the standard OTEL_* variables ask for
	// it; otherwise the global provider stays a no-op.
	_, flushTraces, err := telemetry.SetupTracing(ctx, getenv)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := flushTraces(flushCtx); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	return serve(ctx, cfg, db, log, stdout, cmd == "demo")
}

func serve(ctx context.Context, cfg config, db *store.DB, log *slog.Logger, stdout io.Writer, demo bool) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	base := "http://" + displayAddr(ln.Addr())
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	queue, err := jobs.New(db, jobs.Config{Workers: cfg.Workers, PollInterval: cfg.PollInterval,
		RescueAfter: cfg.RescueAfter, ExpireEvery: cfg.ExpireEvery, PurgeEvery: cfg.PurgeEvery, AlertsEvery: cfg.AlertsEvery}, log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	registry.MustRegister(queue.Collector())
	a := app.New(db, queue, app.Config{OperatorToken: cfg.OperatorToken, PublicBaseURL: cfg.PublicURL, Registry: registry,
		Alerts: app.AlertPolicy{Lag: cfg.AlertLag}, Circuits: cfg.Circuits, IdempotencyLease: cfg.IdempotencyLease, Hold: testHold(cfg.TestHold, log), Caches: cfg.Caches}, log)
	a.Senders = senders.New(senders.Options{Log: logsender.New(log), WhatsAppBaseURL: cfg.WhatsAppAPIBase,
		WhatsAppThrottle: whatsapp.NewThrottle(cfg.WhatsAppRate, whatsapp.DefaultBurst)})
	// The queue gets its own context: it must keep working until the HTTP
	// server has drained, then stop after its running jobs finish.
	if err := queue.Start(context.WithoutCancel(ctx), a); err != nil {
		ln.Close()
		return fmt.Errorf("start job queue: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			log.Warn("job queue did not stop cleanly", "err", err)
		}
	}()
	// Only the demo made the key it holds, so only the demo may hand it to
	// a browser through a one-time sign-in code (app.SignInCodes).
	var signInCodes *app.SignInCodes
	if demo {
		tenantID, key, err := seedDemo(ctx, db, a)
		if err != nil {
			ln.Close()
			return fmt.Errorf("seed demo: %w", err)
		}
		signInCodes = app.NewSignInCodes()
		code := signInCodes.Issue(a.Now(), key, tenantID)
		fmt.Fprintf(stdout, "quoteflow demo\n  editor:     %s/#/sign-in?code=%s\n              (signs this browser in once, within %s; or paste the admin key)\n  URL:        %s\n  API docs:   %s/v1/docs\n  admin key:  %s\n  outbox:     curl -H 'Authorization: Bearer %s' %s/v1/messages\n  (messages go to the log provider: see the \"message recorded\" lines on stderr)\n",
			base, code, app.SignInCodeTTL, base, base, key, key, base)
	}
	// River's own UI, for the operator token only (api.Options.RiverUI).
	riverUI, err := queue.UI(ctx, "/ops/river", log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("river UI: %w", err)
	}
	srv := &http.Server{
		Handler: api.New(a, log, api.Options{Registry: registry, Ready: func(ctx context.Context) error { return db.SQL().PingContext(ctx) },
			RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, RiverUI: riverUI, SignInCodes: signInCodes}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "database", db.Dialect())
	fmt.Fprintf(stdout, "quoteflow listening on %s\n", base)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// displayAddr turns a listener address into one a browser can open: a
// wildcard host becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// testHold is the app's Hold for QUOTEFLOW_TEST_HOLD: at that point every
// request with an Idempotency-Key logs that it is held and waits there for
// its client to go away, which in the crash tests is never: they kill the
// process while it waits. Unset, it is nil, and nothing ever waits.
func testHold(point string, log *slog.Logger) func(ctx context.Context, at string) {
	if point == "" {
		return nil
	}
	return func(ctx context.Context, at string) {
		if at != point {
			return
		}
		log.WarnContext(ctx, "holding an idempotent write for QUOTEFLOW_TEST_HOLD", "point", at)
		<-ctx.Done()
	}
}

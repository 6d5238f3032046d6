// Package app holds quoteflow's use cases: what happens when a tenant is
// created, a key is checked, a lead or quote is written, a quote is acted
// on, a step runs, a message is delivered or a configuration is saved. It
// composes the pure engine with the storage it declares (Store), and it is
// the one door to that storage: the HTTP layer only translates requests to
// calls on App, the job queue only schedules them, and the engine never
// sees a database.
package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/telemetry"
)

// Config is what the application needs from its environment.
type Config struct {
	// OperatorToken may create tenants; empty disables tenant creation.
	OperatorToken string
	// PublicBaseURL prefixes the customer's quote links,
	// e.g. "https://quotes.example.com".
	PublicBaseURL string
	// Registry receives the application's metrics; nil registers none.
	Registry prometheus.Registerer
	// Caches bounds the in-memory caches.
	Caches CacheSizes
	// Alerts are the thresholds of the alert evaluator; zero fields take
	// the defaults (alerts.go).
	Alerts AlertPolicy
	// Circuits are when transient failures open a tenant's circuit for a
	// provider and how long circuits stay open; zero fields take the
	// defaults (circuits.go).
	Circuits CircuitPolicy
	// IdempotencyLease is how long a request holds its Idempotency-Key
	// before a retry may take it over (store.IdempotencyLease when 0): the
	// longest a retry after a crash answers 409 "in progress".
	IdempotencyLease time.Duration
	// Hold, when set, is called at the points of an idempotent write named
	// HoldBeforeCommit and HoldAfterCommit, and may block there. It exists
	// for the crash tests, which kill a serving process at those points
	// (serve sets it from QUOTEFLOW_TEST_HOLD); nil in production.
	Hold func(ctx context.Context, point string)
	// TracerProvider makes the spans of use cases' transactions; nil is
	// OpenTelemetry's global provider (a no-op unless one was installed).
	TracerProvider trace.TracerProvider
}

// App is the application: the one door to storage, the clock and the
// caches shared by every request and job.
type App struct {
	db Store
	// jobs enqueues step and delivery jobs inside the caller's transaction.
	jobs Enqueuer
	log  *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Senders builds a provider client for a tenant's channel.
	Senders Senders
	// Rand draws the jitter of retry backoff, in [0, 1); tests replace it.
	Rand func() float64

	operatorHash  []byte
	publicBaseURL string
	alerts        AlertPolicy
	circuits      CircuitPolicy
	// oneClick is whether publicBaseURL is https, which RFC 8058 one-click
	// unsubscribe requires.
	oneClick bool
	// metrics are the Prometheus series (metrics.go).
	metrics *metrics
	tracer  trace.Tracer
	retry   engine.RetryPolicies
	zones   *engine.TimeZones
	render  *tmpl.Renderer

	// ruleSets holds each tenant's compiled configuration; mu orders its
	// updates so that it never moves back to an older version.
	mu        sync.Mutex
	ruleSets  *weighedLRU[string, cachedRuleSet]
	templates *lru.Cache[string, templateEntry]
	versions  *weighedLRU[versionKey, *engine.Workflow]
	keys      *keyCache
	// sizes are the caches' bounds, after defaults.
	sizes CacheSizes

	// lease and holdAt are Config's IdempotencyLease and Hold.
	lease  time.Duration
	holdAt func(ctx context.Context, point string)

	// applyHook, when set by a test, runs inside ApplyMigration's
	// transaction once the tenant's row is locked.
	applyHook func()
}

type cachedRuleSet struct {
	configVersion int64
	rs            *resolver.RuleSet
	// legacy is shared by every resolution of this version: read it, never
	// change it.
	legacy engine.LegacySettings
	// hasOverrides is false when no lead of the tenant has an override, so
	// quote actions skip looking for the lead's (overrides move the
	// configuration version too).
	hasOverrides bool
}

// New returns an App over db that puts its jobs on jobs (nil for an App
// that only configures tenants and never acts on a quote).
func New(db Store, jobs Enqueuer, cfg Config, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sizes := cfg.Caches.withDefaults()
	zones := engine.NewTimeZones()
	a := &App{
		db:            db,
		jobs:          jobs,
		log:           log,
		Now:           time.Now,
		Rand:          mrand.Float64,
		publicBaseURL: strings.TrimRight(cfg.PublicBaseURL, "/"),
		alerts:        cfg.Alerts.withDefaults(),
		circuits:      cfg.Circuits.withDefaults(),
		ruleSets:      newWeighedLRU[string, cachedRuleSet](sizes.RuleSets, sizes.RuleSetBytes),
		templates:     newLRU[string, templateEntry](sizes.Templates),
		versions:      newWeighedLRU[versionKey, *engine.Workflow](sizes.Versions, sizes.VersionBytes),
		keys:          newKeyCache(sizes.Keys),
		sizes:         sizes,
		retry:         engine.DefaultRetryPolicies(),
		zones:         zones,
		render:        tmpl.NewRenderer(zones),
		lease:         cfg.IdempotencyLease,
		holdAt:        cfg.Hold,
	}
	a.metrics = newMetrics()
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	a.tracer = cfg.TracerProvider.Tracer(telemetry.TracerName)
	if cfg.Registry != nil {
		a.metrics.register(cfg.Registry, db, func() time.Time { return a.Now() })
	}
	if u, err := url.Parse(a.publicBaseURL); err == nil && u.Scheme == "https" && u.Host != "" {
		a.oneClick = true
	}
	if cfg.OperatorToken != "" {
		sum := sha256.Sum256([]byte(cfg.OperatorToken))
		a.operatorHash = sum[:]
	}
	return a
}

// RenderStep renders a step's content for channel, as delivery does.
func (a *App) RenderStep(step *engine.Step, channel string, rc *engine.Context) (tmpl.Rendered, error) {
	return a.render.RenderStep(step, channel, rc)
}

// QuoteURL is the customer's link to a quote.
func (a *App) QuoteURL(q *engine.Quote) string {
	if q == nil {
		return ""
	}
	return a.publicBaseURL + "/v1/public/quotes/" + q.PublicToken
}

// UnsubscribeURL is the one-click unsubscribe link of a quote's emails
// (RFC 8058). The quote's unguessable token identifies the lead.
func (a *App) UnsubscribeURL(q *engine.Quote) string {
	return a.publicBaseURL + "/v1/public/quotes/" + q.PublicToken + "/unsubscribe"
}

// ListUnsubscribe is the List-Unsubscribe target of a quote's emails from
// tenant t. RFC 8058 one-click needs an https URL, so over https it is
// UnsubscribeURL and the sender adds List-Unsubscribe-Post. Over http (the
// default public URL, http://<addr>) it is a mailto to the tenant's own
// From address with the subject "unsubscribe <quote token>": the mail still
// goes out, a mail client still offers to unsubscribe, and the tenant can
// tell which lead asked. "" (no header) only for a tenant without a valid
// From, which saving the tenant refuses.
func (a *App) ListUnsubscribe(t *engine.Tenant, q *engine.Quote) string {
	if a.oneClick {
		return a.UnsubscribeURL(q)
	}
	if t == nil || t.Channels.Email == nil {
		return ""
	}
	from, err := mail.ParseAddress(t.Channels.Email.From)
	if err != nil {
		return ""
	}
	u := url.URL{Scheme: "mailto", Opaque: url.PathEscape(from.Address),
		RawQuery: "subject=" + url.PathEscape("unsubscribe "+q.PublicToken)}
	return u.String()
}

// CheckPublicURL reports whether raw can be the public base URL of quote
// links: an absolute http or https URL with a host and nothing a link or a
// mail header cannot carry. The process checks it at start, so that a bad
// one is found there and not by each message that needs a link.
func CheckPublicURL(raw string) error {
	bad := fmt.Errorf("public URL %q: must be an absolute http or https URL such as https://quotes.example.com", raw)
	if strings.ContainsAny(raw, "<>\"\\ \t\r\n") {
		return bad
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return bad
	}
	return nil
}

// CreateTenant creates a tenant with its first admin key, returning the key
// secret, which is shown once and never stored.
func (a *App) CreateTenant(ctx context.Context, t *engine.Tenant) (*engine.APIKey, string, error) {
	if t.Mode == "" {
		// A new tenant migrating from the old system starts where it was.
		t.Mode = engine.ModeLegacy
	}
	if t.Timezone == "" {
		t.Timezone = "UTC"
	}
	if err := validateTenant(t); err != nil {
		return nil, "", err
	}
	key, secret, err := NewAPIKey("", engine.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	if err := a.db.CreateTenant(ctx, t, key); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// CreateAPIKey creates a key for the tenant and returns its secret.
func (a *App) CreateAPIKey(ctx context.Context, tenantID string, role engine.Role) (*engine.APIKey, string, error) {
	if !role.Valid() {
		return nil, "", engine.Invalid("body.role", "must be admin or app")
	}
	key, secret, err := NewAPIKey(tenantID, role)
	if err != nil {
		return nil, "", err
	}
	if _, err := write(a, ctx, func(tx *store.Tx) (*engine.APIKey, error) { return key, tx.CreateAPIKey(ctx, key) }); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// UpdateTenant validates and saves the tenant's settings; a change of mode
// is recorded with no API key (see UpdateTenantAs).
func (a *App) UpdateTenant(ctx context.Context, t *engine.Tenant, ifVersion int64) error {
	return a.UpdateTenantAs(ctx, "", t, ifVersion)
}

// DeleteAPIKey revokes a key, refusing to revoke the tenant's last admin
// key: without one, nobody could configure the tenant again. The store
// counts the admin keys and revokes in one transaction (store.DeleteAPIKey),
// so concurrent revocations cannot both take the last two.
func (a *App) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	err := a.db.DeleteAPIKey(ctx, tenantID, id)
	// Dropped after the revocation committed, or a concurrent request could
	// cache the row as it was; dropped on error too, because a failed commit
	// may still have applied and a needless drop costs one read.
	a.keys.drop(id)
	return err
}

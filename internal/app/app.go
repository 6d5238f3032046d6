// Package app holds quoteflow's use cases: what happens when a tenant is
// created, a key is checked, a lead is resolved or a configuration is saved.
// It composes the pure engine with the store, so that the HTTP layer only
// translates requests and the engine never sees a database.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Config is what the application needs from its environment.
type Config struct {
	// OperatorToken may create tenants; empty disables tenant creation.
	OperatorToken string
	// PublicBaseURL prefixes the customer's quote links,
	// e.g. "https://quotes.example.com".
	PublicBaseURL string
}

// App is the application: the store, the clock and the caches shared by
// every request.
type App struct {
	Store *store.DB
	Log   *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	// Jobs enqueues step and delivery jobs inside the caller's transaction.
	Jobs Enqueuer
	// Senders builds a provider client for a tenant's channel.
	Senders Senders
	// Rand draws the jitter of retry backoff, in [0, 1); tests replace it.
	Rand func() float64

	operatorHash  []byte
	publicBaseURL string
	retry         engine.RetryPolicies
	zones         *engine.TimeZones
	render        *tmpl.Renderer

	mu        sync.Mutex
	ruleSets  map[string]cachedRuleSet
	templates templateCache
	versions  versionCache
	keys      keyCache
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

// New returns an App over db.
func New(db *store.DB, cfg Config, log *slog.Logger) *App {
	zones := engine.NewTimeZones()
	a := &App{
		Store:         db,
		Log:           log,
		Now:           time.Now,
		Rand:          mrand.Float64,
		publicBaseURL: strings.TrimRight(cfg.PublicBaseURL, "/"),
		retry:         engine.DefaultRetryPolicies(),
		zones:         zones,
		render:        tmpl.NewRenderer(zones),
		ruleSets:      map[string]cachedRuleSet{},
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

// Unsubscribe opts the lead of a quote out of email.
func (a *App) Unsubscribe(ctx context.Context, token string) error {
	q, err := a.Store.GetQuoteByToken(ctx, token)
	if err != nil {
		return err
	}
	l, err := a.Store.GetLead(ctx, q.TenantID, q.LeadID)
	if err != nil {
		return err
	}
	if l.EmailOptOut {
		return nil
	}
	l.EmailOptOut = true
	return a.Store.UpdateLead(ctx, l, l.Version)
}

// NewPublicToken returns an unguessable token for a quote's public link.
func NewPublicToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
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
	if err := ValidateTenant(t); err != nil {
		return nil, "", err
	}
	key, secret, err := NewAPIKey("", engine.RoleAdmin)
	if err != nil {
		return nil, "", err
	}
	if err := a.Store.CreateTenant(ctx, t, key); err != nil {
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
	if err := a.Store.CreateAPIKey(ctx, key); err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// UpdateTenant validates and saves the tenant's settings.
func (a *App) UpdateTenant(ctx context.Context, t *engine.Tenant, ifVersion int64) error {
	if err := ValidateTenant(t); err != nil {
		return err
	}
	return a.Store.UpdateTenant(ctx, t, ifVersion)
}

// DeleteAPIKey revokes a key, refusing to revoke the tenant's last admin
// key: without one, nobody could configure the tenant again.
func (a *App) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	keys, err := a.Store.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	admins, target := 0, (*engine.APIKey)(nil)
	for i := range keys {
		if keys[i].Role == engine.RoleAdmin {
			admins++
		}
		if keys[i].ID == id {
			target = &keys[i]
		}
	}
	if target == nil {
		return engine.Errorf(engine.ENOTFOUND, "no such API key")
	}
	if target.Role == engine.RoleAdmin && admins == 1 {
		return engine.Errorf(engine.ECONFLICT, "this is the tenant's last admin key; create another admin key first")
	}
	err = a.Store.DeleteAPIKey(ctx, tenantID, id)
	// Dropped after the revocation committed, or a concurrent request could
	// cache the row as it was; dropped on error too, because a failed commit
	// may still have applied and a needless drop costs one read.
	a.keyCache().drop(id)
	return err
}

// CreateWorkflow validates and stores a new workflow at version 1.
func (a *App) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	if err := workflow.Validate(w, "body"); err != nil {
		return err
	}
	if err := a.checkTemplates(ctx, w.TenantID, w); err != nil {
		return err
	}
	return a.Store.CreateWorkflow(ctx, w)
}

// UpdateWorkflow validates w and stores it as the next version.
func (a *App) UpdateWorkflow(ctx context.Context, w *engine.Workflow, ifVersion int64) error {
	if err := workflow.Validate(w, "body"); err != nil {
		return err
	}
	if err := a.checkTemplates(ctx, w.TenantID, w); err != nil {
		return err
	}
	return a.Store.UpdateWorkflow(ctx, w, ifVersion)
}

// CreateRule validates and stores an assignment rule. Without a priority
// the rule goes after every existing rule, which is what someone adding a
// rule to the bottom of a list expects.
func (a *App) CreateRule(ctx context.Context, r *engine.Rule, priority *int) error {
	if err := workflow.ValidateRule(r, "body"); err != nil {
		return err
	}
	if priority != nil {
		r.Priority = *priority
	} else {
		rules, err := a.Store.ListRules(ctx, r.TenantID)
		if err != nil {
			return err
		}
		r.Priority = 10
		for _, x := range rules {
			r.Priority = max(r.Priority, x.Priority+10)
		}
	}
	return a.Store.CreateRule(ctx, r)
}

// UpdateRule validates and stores an edited rule.
func (a *App) UpdateRule(ctx context.Context, r *engine.Rule, ifVersion int64) error {
	if err := workflow.ValidateRule(r, "body"); err != nil {
		return err
	}
	return a.Store.UpdateRule(ctx, r, ifVersion)
}

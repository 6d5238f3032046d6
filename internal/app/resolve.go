package app

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// ruleSet returns the tenant's compiled rules and workflows, compiling them
// only when the tenant's configuration version has moved. The version lives
// in the database, so a change made through another process is seen by the
// next resolution here too.
func (a *App) ruleSet(ctx context.Context, tenantID string, configVersion int64) (*engine.RuleSet, error) {
	a.mu.Lock()
	c, ok := a.ruleSets[tenantID]
	a.mu.Unlock()
	if ok && c.configVersion == configVersion {
		return c.rs, nil
	}
	in, err := a.Store.ResolverInputs(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	rs, err := engine.NewRuleSet(in.Rules, in.Workflows)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	// Another request may have compiled a newer version meanwhile; keep the
	// newest so the cache never moves backwards.
	if cur, ok := a.ruleSets[tenantID]; !ok || cur.configVersion <= in.ConfigVersion {
		a.ruleSets[tenantID] = cachedRuleSet{configVersion: in.ConfigVersion, rs: rs}
	}
	a.mu.Unlock()
	return rs, nil
}

// ResolveRequest names what to resolve: a stored lead, or a lead and quote
// given in full for a what-if preview.
type ResolveRequest struct {
	Trigger engine.Trigger
	// LeadID resolves a stored lead with its overrides.
	LeadID string
	// QuoteID optionally adds a stored quote of that lead to the context.
	QuoteID string
	// Lead and Quote are a what-if context used when LeadID is empty; no
	// overrides apply to it.
	Lead  *engine.Lead
	Quote *engine.Quote
}

// Resolution is a decision with the context it was made on.
type Resolution struct {
	Trigger  engine.Trigger
	Lead     *engine.Lead
	Quote    *engine.Quote
	Decision engine.Decision
}

// Resolve decides, without side effects, what the tenant's configuration
// does for a lead and trigger. The same engine call serves quote actions.
func (a *App) Resolve(ctx context.Context, tenantID string, req ResolveRequest) (*Resolution, error) {
	if !req.Trigger.Valid() {
		return nil, engine.Invalid("trigger", "must be one of quote.sent, quote.viewed, quote.accepted, quote.rejected, quote.expired")
	}
	tenant, err := a.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	res := &Resolution{Trigger: req.Trigger, Lead: req.Lead, Quote: req.Quote}
	var overrides []engine.Override
	if req.LeadID != "" {
		if res.Lead, err = a.Store.GetLead(ctx, tenantID, req.LeadID); err != nil {
			return nil, err
		}
		if overrides, err = a.Store.ListOverrides(ctx, tenantID, req.LeadID); err != nil {
			return nil, err
		}
		if req.QuoteID != "" {
			q, err := a.Store.GetQuote(ctx, tenantID, req.QuoteID)
			if engine.IsNotFound(err) || (err == nil && q.LeadID != req.LeadID) {
				return nil, engine.Invalid("quote_id", "no such quote for this lead")
			}
			if err != nil {
				return nil, err
			}
			res.Quote = q
		}
	}
	if res.Lead == nil {
		return nil, engine.Invalid("lead", "is required")
	}
	rs, err := a.ruleSet(ctx, tenantID, tenant.ConfigVersion)
	if err != nil {
		return nil, err
	}
	legacy, err := a.Store.GetLegacySettings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	res.Decision = rs.Resolve(engine.ResolveInput{
		Mode:      tenant.Mode,
		Trigger:   req.Trigger,
		Context:   &engine.Context{Tenant: tenant, Lead: res.Lead, Quote: res.Quote, QuoteURL: a.QuoteURL(res.Quote)},
		Overrides: overrides,
		Legacy:    legacy,
		Now:       a.Now(),
	})
	return res, nil
}

// Coverage reports, per trigger, whether the tenant's configuration has an
// enabled path, with warnings about rules and overrides that cannot work.
func (a *App) Coverage(ctx context.Context, tenantID string) (engine.CoverageReport, error) {
	tenant, err := a.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return engine.CoverageReport{}, err
	}
	in, err := a.Store.ResolverInputs(ctx, tenantID)
	if err != nil {
		return engine.CoverageReport{}, err
	}
	overrides, err := a.Store.ListAllOverrides(ctx, tenantID)
	if err != nil {
		return engine.CoverageReport{}, err
	}
	return engine.CheckCoverage(tenant.Mode, in.Rules, in.Workflows, overrides, in.Legacy, a.Now()), nil
}

// RenderContext loads the context templates and conditions see for a lead
// and, optionally, one of its quotes. Unknown ids are EINVALID on the field
// that named them, since they come from a request body.
func (a *App) RenderContext(ctx context.Context, tenantID, leadID, quoteID string) (*engine.Context, error) {
	tenant, err := a.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	lead, err := a.Store.GetLead(ctx, tenantID, leadID)
	if engine.IsNotFound(err) {
		return nil, engine.Invalid("lead_id", "no such lead")
	}
	if err != nil {
		return nil, err
	}
	rc := &engine.Context{Tenant: tenant, Lead: lead}
	if quoteID != "" {
		q, err := a.Store.GetQuote(ctx, tenantID, quoteID)
		if engine.IsNotFound(err) || (err == nil && q.LeadID != leadID) {
			return nil, engine.Invalid("quote_id", "no such quote for this lead")
		}
		if err != nil {
			return nil, err
		}
		rc.Quote, rc.QuoteURL = q, a.QuoteURL(q)
	}
	return rc, nil
}

package app

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
)

// ruleSet returns the tenant's compiled rules and workflows with its legacy
// settings, compiling them only when the tenant's configuration version has
// moved (every write to any of them moves it). The version lives in the
// database, so a change made through another process is seen by the next
// resolution here too.
func (a *App) ruleSet(ctx context.Context, r reader, tenantID string, configVersion int64) (cachedRuleSet, error) {
	c, ok := a.ruleSets.Get(tenantID)
	if ok && c.configVersion == configVersion {
		return c, nil
	}
	in, err := r.ResolverInputs(ctx, tenantID)
	if err != nil {
		return cachedRuleSet{}, err
	}
	rs, err := resolver.NewRuleSet(in.Rules, in.Workflows)
	if err != nil {
		return cachedRuleSet{}, err
	}
	c = cachedRuleSet{configVersion: in.ConfigVersion, rs: rs, legacy: in.Legacy, hasOverrides: in.HasOverrides}
	a.mu.Lock()
	// Another request may have compiled a newer version meanwhile; keep the
	// newest so the cache never moves backwards.
	if cur, ok := a.ruleSets.Peek(tenantID); !ok || cur.configVersion <= in.ConfigVersion {
		a.ruleSets.Add(tenantID, c, ruleSetWeight(ruleSetInputs{rules: in.Rules, workflows: in.Workflows}))
	}
	a.mu.Unlock()
	return c, nil
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
	// overrides apply to it. Both are validated (field paths under "lead"
	// and "quote"); QuoteAmount, in major units, sets the quote's amount.
	Lead        *engine.Lead
	Quote       *engine.Quote
	QuoteAmount float64
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
	if req.LeadID == "" {
		if err := whatIf(req); err != nil {
			return nil, err
		}
	}
	if !req.Trigger.Valid() {
		return nil, engine.Invalid("trigger", "must be one of quote.sent, quote.viewed, quote.accepted, quote.rejected, quote.expired")
	}
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	res := &Resolution{Trigger: req.Trigger, Lead: req.Lead, Quote: req.Quote}
	var overrides []engine.Override
	if req.LeadID != "" {
		if res.Lead, err = a.db.GetLead(ctx, tenantID, req.LeadID); err != nil {
			return nil, err
		}
		if overrides, err = a.db.ListOverrides(ctx, tenantID, req.LeadID); err != nil {
			return nil, err
		}
		if req.QuoteID != "" {
			q, err := a.db.GetQuote(ctx, tenantID, req.QuoteID)
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
	c, err := a.ruleSet(ctx, a.db, tenant.ID, tenant.ConfigVersion)
	if err != nil {
		return nil, err
	}
	res.Decision = a.decide(c, tenant, req.Trigger, a.context(tenant, res.Lead, res.Quote), overrides)
	return res, nil
}

// whatIf checks the lead and quote of a what-if resolution and sets the
// quote's amount.
func whatIf(req ResolveRequest) error {
	if req.Lead != nil {
		if err := validateLead(req.Lead, "lead"); err != nil {
			return err
		}
	}
	if q := req.Quote; q != nil {
		minor, ok := engine.MajorToMinor(req.QuoteAmount, q.Currency)
		if !ok {
			return engine.Invalid("quote.amount", "has more decimals than %s allows", q.Currency)
		}
		q.AmountMinor = minor
	}
	return nil
}

// context is the lead context of conditions and templates.
func (a *App) context(tenant *engine.Tenant, lead *engine.Lead, quote *engine.Quote) *engine.Context {
	return &engine.Context{Tenant: tenant, Lead: lead, Quote: quote, QuoteURL: a.QuoteURL(quote)}
}

// decide runs the resolver of the tenant's rule set c for one context.
func (a *App) decide(c cachedRuleSet, tenant *engine.Tenant, trigger engine.Trigger, rc *engine.Context, overrides []engine.Override) engine.Decision {
	return c.rs.Resolve(resolver.ResolveInput{
		Mode: tenant.Mode, Trigger: trigger, Context: rc, Overrides: overrides, Legacy: c.legacy, Now: a.Now(),
	})
}

// Coverage reports, per trigger, whether the tenant's configuration has an
// enabled path, with warnings about rules and overrides that cannot work,
// and, per rule, the fields its condition reads and how often the last 30
// days' events of its trigger lacked each (coverage.go).
func (a *App) Coverage(ctx context.Context, tenantID string) (resolver.CoverageReport, error) {
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return resolver.CoverageReport{}, err
	}
	in, err := a.db.ResolverInputs(ctx, tenantID)
	if err != nil {
		return resolver.CoverageReport{}, err
	}
	overrides, err := a.db.ListAllOverrides(ctx, tenantID)
	if err != nil {
		return resolver.CoverageReport{}, err
	}
	now := a.Now()
	rep := resolver.CheckCoverage(tenant.Mode, in.Rules, in.Workflows, overrides, in.Legacy, now)
	if err := a.countRuleFields(ctx, tenantID, &rep, now); err != nil {
		return resolver.CoverageReport{}, err
	}
	return rep, nil
}

// RenderContext loads the context templates and conditions see for a lead
// and, optionally, one of its quotes. Unknown ids are EINVALID on the field
// that named them, since they come from a request body.
func (a *App) RenderContext(ctx context.Context, tenantID, leadID, quoteID string) (*engine.Context, error) {
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	lead, err := a.db.GetLead(ctx, tenantID, leadID)
	if engine.IsNotFound(err) {
		return nil, engine.Invalid("lead_id", "no such lead")
	}
	if err != nil {
		return nil, err
	}
	rc := &engine.Context{Tenant: tenant, Lead: lead}
	if quoteID != "" {
		q, err := a.db.GetQuote(ctx, tenantID, quoteID)
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

// Simulation is a dry run for one lead and trigger.
type Simulation struct {
	Decision    engine.Decision
	Steps       []workflow.PlannedStep
	CancelledBy []engine.QuoteStatus
}

// Simulate resolves a lead and trigger and, when a workflow would run, plans
// its steps from now: when each would run after waits, quiet hours and
// holidays, what it would render, and what would cancel it. It writes
// nothing.
func (a *App) Simulate(ctx context.Context, tenantID string, req ResolveRequest) (*Simulation, error) {
	res, err := a.Resolve(ctx, tenantID, req)
	if err != nil {
		return nil, err
	}
	sim := &Simulation{Decision: res.Decision, Steps: []workflow.PlannedStep{}}
	if res.Decision.Outcome != engine.OutcomeWorkflow {
		return sim, nil
	}
	tenant, err := a.db.GetTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	wf, err := a.db.GetWorkflowVersion(ctx, tenantID, res.Decision.WorkflowID, res.Decision.WorkflowVersion)
	if err != nil {
		return nil, err
	}
	rc := a.context(tenant, res.Lead, res.Quote)
	if res.Lead != nil {
		// Free-form WhatsApp texts go only inside the window of the lead's
		// number; the dry run judges it at each step's time.
		if rc.WhatsAppWindowEnd, err = a.db.WhatsAppWindowEnd(ctx, tenantID, res.Lead.Phone); err != nil {
			return nil, err
		}
	}
	if sim.Steps, err = workflow.Simulate(wf, rc, a.Now(), a.render, a.zones); err != nil {
		return nil, err
	}
	sim.CancelledBy = engine.CancelledBy(wf)
	return sim, nil
}

package app

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
	"github.com/quoteflow/quoteflow/internal/store"
)

// CreateWorkflow validates and stores a new workflow at version 1.
func (a *App) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	if err := workflow.Validate(w, "body"); err != nil {
		return err
	}
	if err := a.checkTemplates(ctx, w.TenantID, w); err != nil {
		return err
	}
	_, err := write(a, ctx, func(tx *store.Tx) (*engine.Workflow, error) { return w, tx.CreateWorkflow(ctx, w) })
	return err
}

// UpdateWorkflow validates w and stores it as the next version.
func (a *App) UpdateWorkflow(ctx context.Context, w *engine.Workflow, ifVersion int64) error {
	if err := workflow.Validate(w, "body"); err != nil {
		return err
	}
	if err := a.checkTemplates(ctx, w.TenantID, w); err != nil {
		return err
	}
	_, err := write(a, ctx, func(tx *store.Tx) (*engine.Workflow, error) { return w, tx.UpdateWorkflow(ctx, w, ifVersion) })
	return err
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
		rules, err := a.db.ListRules(ctx, r.TenantID)
		if err != nil {
			return err
		}
		r.Priority = 10
		for _, x := range rules {
			r.Priority = max(r.Priority, x.Priority+10)
		}
	}
	_, err := write(a, ctx, func(tx *store.Tx) (*engine.Rule, error) { return r, tx.CreateRule(ctx, r) })
	return err
}

// UpdateRule validates and stores an edited rule.
func (a *App) UpdateRule(ctx context.Context, r *engine.Rule, ifVersion int64) error {
	if err := workflow.ValidateRule(r, "body"); err != nil {
		return err
	}
	return a.db.UpdateRule(ctx, r, ifVersion)
}

// DeleteWorkflow deletes a workflow that no rule or override uses.
func (a *App) DeleteWorkflow(ctx context.Context, tenantID, id string) error {
	return a.db.DeleteWorkflow(ctx, tenantID, id)
}

// DeleteRule deletes an assignment rule.
func (a *App) DeleteRule(ctx context.Context, tenantID, id string) error {
	return a.db.DeleteRule(ctx, tenantID, id)
}

// ReorderRules sets the evaluation order of all of the tenant's rules.
func (a *App) ReorderRules(ctx context.Context, tenantID string, ids []string) ([]engine.Rule, error) {
	return write(a, ctx, func(tx *store.Tx) ([]engine.Rule, error) {
		if err := tx.ReorderRules(ctx, tenantID, ids); err != nil {
			return nil, err
		}
		return tx.ListRules(ctx, tenantID)
	})
}

// CreateOverride validates and stores a lead override.
func (a *App) CreateOverride(ctx context.Context, o *engine.Override) error {
	if err := workflow.ValidateOverride(o, "body"); err != nil {
		return err
	}
	_, err := write(a, ctx, func(tx *store.Tx) (*engine.Override, error) { return o, tx.CreateOverride(ctx, o) })
	return err
}

// DeleteOverride removes a lead override.
func (a *App) DeleteOverride(ctx context.Context, tenantID, leadID, id string) error {
	return a.db.DeleteOverride(ctx, tenantID, leadID, id)
}

// LeadOverrides lists a lead's overrides. The lead itself must be the
// tenant's, or the answer is ENOTFOUND rather than an empty list that would
// confirm nothing.
func (a *App) LeadOverrides(ctx context.Context, tenantID, leadID string) ([]engine.Override, error) {
	if _, err := a.db.GetLead(ctx, tenantID, leadID); err != nil {
		return nil, err
	}
	return a.db.ListOverrides(ctx, tenantID, leadID)
}

// PutLegacySettings validates and replaces the tenant's legacy settings.
func (a *App) PutLegacySettings(ctx context.Context, tenantID string, ls engine.LegacySettings) error {
	if err := workflow.ValidateLegacySettings(ls, "body"); err != nil {
		return err
	}
	return a.db.PutLegacySettings(ctx, tenantID, ls)
}

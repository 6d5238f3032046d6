package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// The plain reads of the API. They add no rule to the store's, which
// already scopes every row to its tenant (another tenant's id is
// ENOTFOUND); they are here so that the HTTP layer has one door to storage.

// GetTenant returns a tenant.
func (a *App) GetTenant(ctx context.Context, id string) (*engine.Tenant, error) {
	return a.db.GetTenant(ctx, id)
}

// ListAPIKeys lists the tenant's keys, never their secrets.
func (a *App) ListAPIKeys(ctx context.Context, tenantID string) ([]engine.APIKey, error) {
	return a.db.ListAPIKeys(ctx, tenantID)
}

// GetLead returns a lead of the tenant.
func (a *App) GetLead(ctx context.Context, tenantID, id string) (*engine.Lead, error) {
	return a.db.GetLead(ctx, tenantID, id)
}

// ListLeads returns a page of the tenant's leads and the next cursor.
func (a *App) ListLeads(ctx context.Context, tenantID string, p engine.Page) ([]engine.Lead, string, error) {
	return a.db.ListLeads(ctx, tenantID, p)
}

// GetQuote returns a quote of the tenant.
func (a *App) GetQuote(ctx context.Context, tenantID, id string) (*engine.Quote, error) {
	return a.db.GetQuote(ctx, tenantID, id)
}

// GetQuoteByToken returns the quote of a customer's public link.
func (a *App) GetQuoteByToken(ctx context.Context, token string) (*engine.Quote, error) {
	return a.db.GetQuoteByToken(ctx, token)
}

// ListQuotes returns a page of the tenant's quotes and the next cursor.
func (a *App) ListQuotes(ctx context.Context, tenantID string, f engine.QuoteFilter, p engine.Page) ([]engine.Quote, string, error) {
	return a.db.ListQuotes(ctx, tenantID, f, p)
}

// GetWorkflow returns the current version of a workflow.
func (a *App) GetWorkflow(ctx context.Context, tenantID, id string) (*engine.Workflow, error) {
	return a.db.GetWorkflow(ctx, tenantID, id)
}

// ListWorkflows returns a page of the tenant's workflows, each at its
// current version, and the next cursor.
func (a *App) ListWorkflows(ctx context.Context, tenantID string, p engine.Page) ([]engine.Workflow, string, error) {
	return a.db.ListWorkflows(ctx, tenantID, p)
}

// ListWorkflowVersions returns every version of a workflow, newest first.
func (a *App) ListWorkflowVersions(ctx context.Context, tenantID, id string) ([]engine.Workflow, error) {
	return a.db.ListWorkflowVersions(ctx, tenantID, id)
}

// GetRule returns an assignment rule.
func (a *App) GetRule(ctx context.Context, tenantID, id string) (*engine.Rule, error) {
	return a.db.GetRule(ctx, tenantID, id)
}

// ListRules returns every assignment rule of the tenant in evaluation
// order.
func (a *App) ListRules(ctx context.Context, tenantID string) ([]engine.Rule, error) {
	return a.db.ListRules(ctx, tenantID)
}

// GetLegacySettings returns the tenant's legacy per-trigger settings.
func (a *App) GetLegacySettings(ctx context.Context, tenantID string) (engine.LegacySettings, error) {
	return a.db.GetLegacySettings(ctx, tenantID)
}

// GetEvent returns a trigger event with its decision and context.
func (a *App) GetEvent(ctx context.Context, tenantID, id string) (*engine.Event, error) {
	return a.db.GetEvent(ctx, tenantID, id)
}

// ListEvents returns a page of the tenant's trigger events and the next
// cursor.
func (a *App) ListEvents(ctx context.Context, tenantID string, f engine.EventFilter, p engine.Page) ([]engine.Event, string, error) {
	return a.db.ListEvents(ctx, tenantID, f, p)
}

// GetRun returns a run.
func (a *App) GetRun(ctx context.Context, tenantID, id string) (*engine.Run, error) {
	return a.db.GetRun(ctx, tenantID, id)
}

// ListRuns returns a page of the tenant's runs and the next cursor.
func (a *App) ListRuns(ctx context.Context, tenantID string, f engine.RunFilter, p engine.Page) ([]engine.Run, string, error) {
	return a.db.ListRuns(ctx, tenantID, f, p)
}

// ListRunSteps returns what each step of a run did, in order.
func (a *App) ListRunSteps(ctx context.Context, tenantID, runID string) ([]engine.RunStep, error) {
	return a.db.ListRunSteps(ctx, tenantID, runID)
}

// GetMessage returns an outbox message.
func (a *App) GetMessage(ctx context.Context, tenantID, id string) (*engine.Message, error) {
	return a.db.GetMessage(ctx, tenantID, id)
}

// ListMessages returns a page of the tenant's outbox and the next cursor.
func (a *App) ListMessages(ctx context.Context, tenantID string, f engine.MessageFilter, p engine.Page) ([]engine.Message, string, error) {
	// A zero bound is no bound; any other is an instant like any stored.
	for i, t := range []time.Time{f.From, f.To} {
		if !t.IsZero() && !engine.InstantInRange(t) {
			return nil, "", engine.Invalid([]string{"query.from", "query.to"}[i], engine.InstantRangeMessage)
		}
	}
	return a.db.ListMessages(ctx, tenantID, f, p)
}

// ListAttempts returns a message's delivery attempts, in order.
func (a *App) ListAttempts(ctx context.Context, tenantID, messageID string) ([]engine.Attempt, error) {
	return a.db.ListAttempts(ctx, tenantID, messageID)
}

// ListReceipts returns the provider's receipts of a message, in order.
func (a *App) ListReceipts(ctx context.Context, tenantID, messageID string) ([]engine.Receipt, error) {
	return a.db.ListReceipts(ctx, tenantID, messageID)
}

// ListCircuits returns the tenant's open circuits.
func (a *App) ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error) {
	return a.db.ListCircuits(ctx, tenantID)
}

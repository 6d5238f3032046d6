package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// routes declares every /v1 operation in one place: who may call it, and
// the handler that serves it.
func (s *Server) routes() {
	api := s.api
	created := func(op huma.Operation) huma.Operation { op.DefaultStatus = http.StatusCreated; return op }
	ok := func(op huma.Operation) huma.Operation { op.DefaultStatus = http.StatusOK; return op }
	deprecated := func(op huma.Operation) huma.Operation { op.Deprecated = true; return op }

	// Tenants and keys.
	huma.Register(api, created(operation(http.MethodPost, "/v1/tenants", "create-tenant", "Create a tenant and its first admin key", accessOperator, "Tenants")), s.createTenant)
	huma.Register(api, operation(http.MethodGet, "/v1/tenant", "get-tenant", "The caller's tenant", accessApp, "Tenants"), s.getTenant)
	huma.Register(api, operation(http.MethodPatch, "/v1/tenant", "update-tenant", "Change the caller's tenant", accessAdmin, "Tenants"), s.patchTenant)
	huma.Register(api, created(operation(http.MethodPost, "/v1/api-keys", "create-api-key", "Create an API key; the key is shown once", accessAdmin, "Tenants")), s.createKey)
	huma.Register(api, operation(http.MethodGet, "/v1/api-keys", "list-api-keys", "List API keys", accessAdmin, "Tenants"), s.listKeys)
	huma.Register(api, operation(http.MethodDelete, "/v1/api-keys/{key_id}", "delete-api-key", "Revoke an API key", accessAdmin, "Tenants"), s.deleteKey)

	// Leads and quotes: what the CRM integration writes with an app key.
	huma.Register(api, created(operation(http.MethodPost, "/v1/leads", "create-lead", "Create a lead", accessApp, "Leads")), s.createLead)
	huma.Register(api, operation(http.MethodGet, "/v1/leads", "list-leads", "List leads", accessApp, "Leads"), s.listLeads)
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}", "get-lead", "Get a lead", accessApp, "Leads"), s.getLead)
	huma.Register(api, operation(http.MethodPatch, "/v1/leads/{lead_id}", "update-lead", "Change a lead", accessApp, "Leads"), s.patchLead)
	huma.Register(api, operation(http.MethodDelete, "/v1/leads/{lead_id}", "delete-lead", "Delete a lead and everything about it", accessApp, "Leads"), s.deleteLead)
	huma.Register(api, created(operation(http.MethodPost, "/v1/quotes", "create-quote", "Create a draft quote", accessApp, "Quotes")), s.createQuote)
	huma.Register(api, operation(http.MethodGet, "/v1/quotes", "list-quotes", "List quotes", accessApp, "Quotes"), s.listQuotes)
	huma.Register(api, operation(http.MethodGet, "/v1/quotes/{quote_id}", "get-quote", "Get a quote", accessApp, "Quotes"), s.getQuote)
	huma.Register(api, operation(http.MethodPatch, "/v1/quotes/{quote_id}", "update-quote", "Change a quote's content (a new revision)", accessApp, "Quotes"), s.patchQuote)

	// Workflows and their steps: every edit is a new version.
	huma.Register(api, created(operation(http.MethodPost, "/v1/workflows", "create-workflow", "Create a workflow", accessAdmin, "Workflows")), s.createWorkflow)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows", "list-workflows", "List workflows", accessApp, "Workflows"), s.listWorkflows)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows/{workflow_id}", "get-workflow", "Get a workflow's current version", accessApp, "Workflows"), s.getWorkflow)
	huma.Register(api, operation(http.MethodPatch, "/v1/workflows/{workflow_id}", "update-workflow", "Change a workflow (a new version)", accessAdmin, "Workflows"), s.patchWorkflow)
	huma.Register(api, operation(http.MethodDelete, "/v1/workflows/{workflow_id}", "delete-workflow", "Delete a workflow no rule or override uses", accessAdmin, "Workflows"), s.deleteWorkflow)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows/{workflow_id}/versions", "list-workflow-versions", "A workflow's immutable versions, newest first", accessApp, "Workflows"), s.listWorkflowVersions)
	huma.Register(api, created(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps", "add-step", "Add a step (a new version)", accessAdmin, "Workflows")), s.addStep)
	huma.Register(api, operation(http.MethodPatch, "/v1/workflows/{workflow_id}/steps/{step_id}", "update-step", "Change a step (a new version)", accessAdmin, "Workflows"), s.patchStep)
	huma.Register(api, ok(operation(http.MethodDelete, "/v1/workflows/{workflow_id}/steps/{step_id}", "delete-step", "Remove a step (a new version)", accessAdmin, "Workflows")), s.deleteStep)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps/reorder", "reorder-steps", "Reorder the steps (a new version)", accessAdmin, "Workflows")), s.reorderSteps)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps/{step_id}/preview", "preview-step", "Render a step for a lead and quote", accessApp, "Workflows")), s.previewStep)

	// Assignment rules and lead overrides.
	huma.Register(api, created(operation(http.MethodPost, "/v1/assignment-rules", "create-rule", "Create an assignment rule", accessAdmin, "Rules")), s.createRule)
	huma.Register(api, operation(http.MethodGet, "/v1/assignment-rules", "list-rules", "All assignment rules in evaluation order", accessApp, "Rules"), s.listRules)
	huma.Register(api, operation(http.MethodGet, "/v1/assignment-rules/{rule_id}", "get-rule", "Get an assignment rule", accessApp, "Rules"), s.getRule)
	huma.Register(api, operation(http.MethodPatch, "/v1/assignment-rules/{rule_id}", "update-rule", "Change an assignment rule", accessAdmin, "Rules"), s.patchRule)
	huma.Register(api, operation(http.MethodDelete, "/v1/assignment-rules/{rule_id}", "delete-rule", "Delete an assignment rule", accessAdmin, "Rules"), s.deleteRule)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/assignment-rules/reorder", "reorder-rules", "Set the evaluation order of all rules", accessAdmin, "Rules")), s.reorderRules)
	huma.Register(api, created(operation(http.MethodPost, "/v1/leads/{lead_id}/overrides", "create-override", "Pin a workflow for a lead, or suppress", accessAdmin, "Rules")), s.createOverride)
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}/overrides", "list-overrides", "A lead's overrides", accessApp, "Rules"), s.listOverrides)
	huma.Register(api, operation(http.MethodDelete, "/v1/leads/{lead_id}/overrides/{override_id}", "delete-override", "Remove a lead override", accessAdmin, "Rules"), s.deleteOverride)

	// The resolver, explained.
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}/resolution", "get-resolution", "What would happen for this lead and trigger, with the trace", accessApp, "Resolver"), s.getResolution)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/resolver/preview", "preview-resolution", "What would happen for a lead context given in full", accessApp, "Resolver")), s.previewResolution)
	huma.Register(api, operation(http.MethodGet, "/v1/coverage", "get-coverage", "Per trigger: is there an enabled path, and what cannot work", accessApp, "Resolver"), s.getCoverage)

	// Legacy settings, kept for the migration.
	huma.Register(api, deprecated(operation(http.MethodGet, "/v1/legacy/settings", "get-legacy-settings", "The legacy per-trigger settings", accessApp, "Legacy")), s.getLegacy)
	huma.Register(api, deprecated(operation(http.MethodPut, "/v1/legacy/settings", "put-legacy-settings", "Replace the legacy per-trigger settings", accessAdmin, "Legacy")), s.putLegacy)
}

package api

import (
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/api/quotepage"
	"github.com/quoteflow/quoteflow/internal/engine"
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
	// The editor's sign-in link (signin.go): public, the code is the credential.
	huma.Register(api, ok(operation(http.MethodPost, "/v1/sign-in/exchange", "exchange-sign-in-code", "Trade a one-time sign-in code for the admin key it stands for", accessPublic, "Tenants")), s.exchangeSignIn)

	// Leads and quotes: what the CRM integration writes with an app key.
	huma.Register(api, idempotent(created(operation(http.MethodPost, "/v1/leads", "create-lead", "Create a lead", accessApp, "Leads"))), s.createLead)
	huma.Register(api, operation(http.MethodGet, "/v1/leads", "list-leads", "List leads", accessApp, "Leads"), s.listLeads)
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}", "get-lead", "Get a lead", accessApp, "Leads"), s.getLead)
	huma.Register(api, operation(http.MethodPatch, "/v1/leads/{lead_id}", "update-lead", "Change a lead", accessApp, "Leads"), s.patchLead)
	huma.Register(api, operation(http.MethodDelete, "/v1/leads/{lead_id}", "delete-lead", "Delete a lead and everything about it", accessApp, "Leads"), s.deleteLead)
	huma.Register(api, idempotent(created(operation(http.MethodPost, "/v1/quotes", "create-quote", "Create a draft quote", accessApp, "Quotes"))), s.createQuote)
	huma.Register(api, operation(http.MethodGet, "/v1/quotes", "list-quotes", "List quotes", accessApp, "Quotes"), s.listQuotes)
	huma.Register(api, operation(http.MethodGet, "/v1/quotes/{quote_id}", "get-quote", "Get a quote", accessApp, "Quotes"), s.getQuote)
	huma.Register(api, operation(http.MethodPatch, "/v1/quotes/{quote_id}", "update-quote", "Change a quote's content (a new revision)", accessApp, "Quotes"), s.patchQuote)

	// Quote actions: one transaction each, answered with the event and its decision.
	for _, a := range []struct {
		action  engine.Action
		summary string
	}{{engine.ActionSend, "Send the quote to the customer (quote.sent)"}, {engine.ActionView, "Record that the customer viewed it (quote.viewed)"},
		{engine.ActionAccept, "Record the customer's acceptance (quote.accepted)"}, {engine.ActionExpire, "Expire the quote (quote.expired)"}} {
		huma.Register(api, ok(operation(http.MethodPost, "/v1/quotes/{quote_id}/"+string(a.action), string(a.action)+"-quote", a.summary, accessApp, "Quotes")), s.quoteAction(a.action))
	}
	huma.Register(api, ok(operation(http.MethodPost, "/v1/quotes/{quote_id}/reject", "reject-quote", "Record the customer's rejection (quote.rejected)", accessApp, "Quotes")), s.rejectQuote)
	huma.Register(api, s.quotePage(operation(http.MethodGet, "/v1/public/quotes/{token}", "get-public-quote", "The customer's quote: a page for a browser, JSON for Accept: application/json; records nothing", accessPublic, "Public")), s.getPublicQuote)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/public/quotes/{token}/view", "view-public-quote", "The customer's page reports that a person sees the quote (quote.viewed, once)", accessPublic, "Public")), s.viewPublicQuote)
	s.mux.HandleFunc("GET "+quotepage.AssetPath+"{file}", s.serveQuotePageAsset) // the page's script and style sheet
	huma.Register(api, ok(operation(http.MethodPost, "/v1/public/quotes/{token}/accept", "accept-public-quote", "The customer accepts the quote", accessPublic, "Public")), s.publicAction(engine.ActionAccept))
	huma.Register(api, ok(operation(http.MethodPost, "/v1/public/quotes/{token}/unsubscribe", "unsubscribe", "One-click unsubscribe from the quote's emails (RFC 8058)", accessPublic, "Public")), s.unsubscribe)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/public/quotes/{token}/reject", "reject-public-quote", "The customer rejects the quote", accessPublic, "Public")), s.publicAction(engine.ActionReject))

	// Workflows and their steps: every edit is a new version.
	huma.Register(api, idempotent(created(operation(http.MethodPost, "/v1/workflows", "create-workflow", "Create a workflow", accessAdmin, "Workflows"))), s.createWorkflow)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows", "list-workflows", "List workflows", accessApp, "Workflows"), s.listWorkflows)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows/{workflow_id}", "get-workflow", "Get a workflow's current version", accessApp, "Workflows"), s.getWorkflow)
	huma.Register(api, operation(http.MethodPatch, "/v1/workflows/{workflow_id}", "update-workflow", "Change a workflow (a new version)", accessAdmin, "Workflows"), s.patchWorkflow)
	huma.Register(api, operation(http.MethodDelete, "/v1/workflows/{workflow_id}", "delete-workflow", "Delete a workflow no rule or override uses", accessAdmin, "Workflows"), s.deleteWorkflow)
	huma.Register(api, operation(http.MethodGet, "/v1/workflows/{workflow_id}/versions", "list-workflow-versions", "A workflow's immutable versions, newest first", accessApp, "Workflows"), s.listWorkflowVersions)
	huma.Register(api, created(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps", "add-step", "Add a step (a new version)", accessAdmin, "Workflows")), s.addStep)
	huma.Register(api, operation(http.MethodPatch, "/v1/workflows/{workflow_id}/steps/{step_id}", "update-step", "Change a step (a new version)", accessAdmin, "Workflows"), s.patchStep)
	huma.Register(api, ok(operation(http.MethodDelete, "/v1/workflows/{workflow_id}/steps/{step_id}", "delete-step", "Remove a step (a new version)", accessAdmin, "Workflows")), s.deleteStep)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps/validate", "validate-step", "Check a step as saving it would, saving nothing", accessAdmin, "Workflows")), s.validateStep)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps/reorder", "reorder-steps", "Reorder the steps (a new version)", accessAdmin, "Workflows")), s.reorderSteps)
	huma.Register(api, operation(http.MethodGet, "/v1/whatsapp/templates", "list-whatsapp-templates", "The business account's WhatsApp templates, as steps are checked against them", accessApp, "Workflows"), s.listTemplates)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/workflows/{workflow_id}/steps/{step_id}/preview", "preview-step", "Render a step for a lead and quote", accessApp, "Workflows")), s.previewStep)

	// Assignment rules and lead overrides.
	huma.Register(api, idempotent(created(operation(http.MethodPost, "/v1/assignment-rules", "create-rule", "Create an assignment rule", accessAdmin, "Rules"))), s.createRule)
	huma.Register(api, operation(http.MethodGet, "/v1/assignment-rules", "list-rules", "All assignment rules in evaluation order", accessApp, "Rules"), s.listRules)
	huma.Register(api, operation(http.MethodGet, "/v1/assignment-rules/{rule_id}", "get-rule", "Get an assignment rule", accessApp, "Rules"), s.getRule)
	huma.Register(api, operation(http.MethodPatch, "/v1/assignment-rules/{rule_id}", "update-rule", "Change an assignment rule", accessAdmin, "Rules"), s.patchRule)
	huma.Register(api, operation(http.MethodDelete, "/v1/assignment-rules/{rule_id}", "delete-rule", "Delete an assignment rule", accessAdmin, "Rules"), s.deleteRule)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/assignment-rules/reorder", "reorder-rules", "Set the evaluation order of all rules", accessAdmin, "Rules")), s.reorderRules)
	huma.Register(api, idempotent(created(operation(http.MethodPost, "/v1/leads/{lead_id}/overrides", "create-override", "Pin a workflow for a lead, or suppress", accessAdmin, "Rules"))), s.createOverride)
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}/overrides", "list-overrides", "A lead's overrides", accessApp, "Rules"), s.listOverrides)
	huma.Register(api, operation(http.MethodDelete, "/v1/leads/{lead_id}/overrides/{override_id}", "delete-override", "Remove a lead override", accessAdmin, "Rules"), s.deleteOverride)

	// The resolver, explained.
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}/resolution", "get-resolution", "What would happen for this lead and trigger, with the trace", accessApp, "Resolver"), s.getResolution)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/resolver/preview", "preview-resolution", "What would happen for a lead context given in full", accessApp, "Resolver")), s.previewResolution)
	huma.Register(api, operation(http.MethodGet, "/v1/coverage", "get-coverage", "Per trigger: is there an enabled path, and what cannot work", accessApp, "Resolver"), s.getCoverage)

	// What happened: events, runs, the outbox, and a lead's whole story.
	huma.Register(api, operation(http.MethodGet, "/v1/alerts", "list-alerts", "Alerts: circuits, permanent failures, decision spikes, dead rules, delivery lag", accessApp, "History"), s.listAlerts)
	huma.Register(api, operation(http.MethodGet, "/v1/events", "list-events", "Trigger events with their decisions", accessApp, "History"), s.listEvents)
	huma.Register(api, operation(http.MethodGet, "/v1/events/{event_id}", "get-event", "A trigger event with its decision and context", accessApp, "History"), s.getEvent)
	huma.Register(api, operation(http.MethodGet, "/v1/runs", "list-runs", "Workflow runs", accessApp, "History"), s.listRuns)
	huma.Register(api, operation(http.MethodGet, "/v1/runs/{run_id}", "get-run", "A run with its steps", accessApp, "History"), s.getRun)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/runs/{run_id}/cancel", "cancel-run", "Cancel an active run", accessAdmin, "History")), s.cancelRun)
	huma.Register(api, operation(http.MethodGet, "/v1/messages", "list-messages", "Outbox messages", accessApp, "Outbox"), s.listMessages)
	huma.Register(api, operation(http.MethodGet, "/v1/messages/{message_id}", "get-message", "A message with its attempts and receipts", accessApp, "Outbox"), s.getMessage)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/messages/{message_id}/retry", "retry-message", "Send a failed, unknown or cancelled message again", accessAdmin, "Outbox")), s.retryMessage)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/messages/{message_id}/cancel", "cancel-message", "Cancel a message not yet handed to its provider", accessAdmin, "Outbox")), s.cancelMessage)
	huma.Register(api, operation(http.MethodGet, "/v1/stats/outbox", "get-outbox-stats", "Outbox statistics: messages, attempts, retries, decisions and latencies in time buckets", accessApp, "Outbox"), s.outboxStats)
	huma.Register(api, operation(http.MethodGet, "/v1/circuits", "list-circuits", "Open circuits: providers whose sends are stopped for this tenant", accessApp, "Outbox"), s.listCircuits)
	huma.Register(api, operation(http.MethodDelete, "/v1/circuits/{provider}", "close-circuit", "Close a circuit after fixing the provider's settings", accessAdmin, "Outbox"), s.closeCircuit)
	huma.Register(api, operation(http.MethodGet, "/v1/leads/{lead_id}/timeline", "get-timeline", "Everything that happened to a lead", accessApp, "History"), s.getTimeline)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/leads/{lead_id}/simulate", "simulate", "Dry run: the decision and the planned steps, writing nothing", accessApp, "Resolver")), s.simulate)

	// Customers' WhatsApp messages (inbox.go): matched to leads, or the inbox.
	huma.Register(api, operation(http.MethodGet, "/v1/inbox", "list-inbox", "Inbound WhatsApp messages from unknown numbers, or numbers several leads share", accessApp, "Replies"), s.listInbox)
	huma.Register(api, operation(http.MethodGet, "/v1/inbound", "list-inbound", "Inbound WhatsApp messages: replies, buttons, media, opt-outs", accessApp, "Replies"), s.listInbound)
	huma.Register(api, operation(http.MethodGet, "/v1/inbound/{inbound_id}", "get-inbound", "An inbound WhatsApp message with what was made of it", accessApp, "Replies"), s.getInbound)

	// WhatsApp status webhooks, verified with the tenant's app secret.
	huma.Register(api, operation(http.MethodGet, "/v1/webhooks/whatsapp/{tenant_id}", "verify-whatsapp-webhook", "Meta's subscription handshake", accessPublic, "Webhooks"), s.verifyWebhook)
	huma.Register(api, ok(operation(http.MethodPost, "/v1/webhooks/whatsapp/{tenant_id}", "whatsapp-webhook", "Message status updates and customers' messages from the WhatsApp Cloud API", accessPublic, "Webhooks")), s.receiveWebhook)

	// Legacy settings, kept for the migration.
	huma.Register(api, deprecated(operation(http.MethodGet, "/v1/legacy/settings", "get-legacy-settings", "The legacy per-trigger settings", accessApp, "Legacy")), s.getLegacy)
	huma.Register(api, deprecated(operation(http.MethodPut, "/v1/legacy/settings", "put-legacy-settings", "Replace the legacy per-trigger settings", accessAdmin, "Legacy")), s.putLegacy)

	// The migration from legacy settings (migration.go): preview, apply,
	// the mode history and the shadow report.
	huma.Register(api, ok(operation(http.MethodPost, "/v1/migration/preview", "preview-migration", "The workflows and catch-all rules that reproduce the legacy settings, compared per trigger", accessAdmin, "Migration")), s.previewMigration)
	// An apply answers 201 when it creates and 200 when the preview had
	// been applied before; huma declares only the default status (the
	// error statuses come from descriptions.go, as for every operation).
	replayedApply := func(op huma.Operation) huma.Operation {
		schema := huma.SchemaFromType(api.OpenAPI().Components.Schemas, reflect.TypeFor[MigrationResultOut]())
		op.Responses = map[string]*huma.Response{"200": {Description: "The preview had been applied before: what that apply created; nothing was created now",
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}}
		return op
	}
	huma.Register(api, replayedApply(idempotent(created(operation(http.MethodPost, "/v1/migration/apply", "apply-migration", "Create a preview's workflows and rules in one transaction (the mode is not changed)", accessAdmin, "Migration")))), s.applyMigration)
	huma.Register(api, operation(http.MethodGet, "/v1/tenant/mode-changes", "list-mode-changes", "Every change of the tenant's mode: by which key, when, from, to", accessApp, "Migration"), s.listModeChanges)
	huma.Register(api, operation(http.MethodGet, "/v1/shadow/report", "get-shadow-report", "Legacy against engine decisions of real events in shadow mode, per trigger, with every disagreement", accessApp, "Migration"), s.shadowReport)
}

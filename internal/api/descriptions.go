package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// opDoc is what the document says about an operation beyond its summary:
// a description, and the error statuses its handler can answer with beyond
// those errorStatuses derives from its declaration (contract.go).
type opDoc struct {
	text   string
	errors []int
}

// c409 is the extra status of the operations that refuse what the state of
// a resource does not allow.
const c409 = http.StatusConflict

// Phrases shared by many descriptions.
const (
	dApp       = "Any API key of the tenant may call it. "
	dAdmin     = "Needs an admin key. "
	dPublic    = "Public: no credentials; the token in the path is the quote's secret link. "
	dIdem      = "Send Idempotency-Key to repeat it safely: the same key and body answer with the first response (Idempotent-Replayed: true). "
	dIfMatch   = "Send If-Match with the ETag last read to refuse a lost update (412 version-mismatch). "
	dPaged     = "Paginated: pass next_cursor back as cursor until it is absent. "
	dNotPaged  = "Not paginated: every item is in one answer. "
	dQuoteActs = "One transaction: the quote's status changes, a trigger event is recorded with the resolver's decision, and the runs and messages it starts are written; delivery is asynchronous. Send Idempotency-Key to repeat it safely. Answers 409 conflict when the quote's status does not allow the action. "
	dNewVer    = "Every edit is a new immutable version of the workflow; runs in flight keep the version they started with. "
)

// descriptions holds every operation's description, by operation id; a test
// fails for an operation without one.
var descriptions = map[string]opDoc{
	"create-tenant":  {text: "Needs the operator token (QUOTEFLOW_OPERATOR_TOKEN). Creates a tenant with its settings and its first admin key; the key's secret is in this answer only."},
	"get-tenant":     {text: dApp + "The caller's tenant: its mode, timezone, quiet hours, holidays and channels (secrets are never shown, only whether they are set). The ETag is its version."},
	"update-tenant":  {text: dAdmin + dIfMatch + "Fields left out are unchanged; quiet_hours null removes them; a secret left out keeps the stored one. Changing mode moves the tenant between legacy, shadow and engine."},
	"create-api-key": {text: dAdmin + "Creates an admin or app key. The secret is shown in this answer only; store it."},
	"list-api-keys":  {text: dAdmin + dNotPaged + "The tenant's keys, without their secrets, with when each was last used."},
	"delete-api-key": {text: dAdmin + "Revokes a key at once. Refused with 409 conflict for the tenant's last admin key.", errors: []int{c409}},
	"exchange-sign-in-code": {text: "Public: no credentials; the code is the credential. The editor's sign-in link carries a one-time code instead of a key: only quoteflow demo issues them, for its own admin key, held in that process's memory for 10 minutes. A code works once; an unknown, used or expired code is 404 not-found.",
		errors: []int{http.StatusNotFound}},

	"create-lead": {text: dApp + dIdem + "Creates a lead, the customer quotes are sent to."},
	"list-leads":  {text: dApp + dPaged + "Leads, oldest first (ids are time-ordered)."},
	"get-lead":    {text: dApp + "A lead; the ETag is its version."},
	"update-lead": {text: dApp + dIfMatch + "Fields left out are unchanged."},
	"delete-lead": {text: dApp + "Deletes the lead with its quotes, events, runs and messages (a customer's request to be forgotten)."},

	"create-quote": {text: dApp + dIdem + "Creates a draft quote for a lead; nothing is sent until the quote is sent. A quote number is unique in the tenant: one already used is a 409 conflict naming body.number.", errors: []int{c409}},
	"list-quotes":  {text: dApp + dPaged + "Quotes, oldest first, optionally of one lead."},
	"get-quote":    {text: dApp + "A quote with its public link; the ETag is its version."},
	"update-quote": {text: dApp + dIfMatch + "Changes the quote's content as a new revision. Refused with 409 conflict once the quote's status no longer allows edits, or when the new number is another quote's (naming body.number).", errors: []int{c409}},
	"send-quote":   {text: dApp + dQuoteActs + "Emits quote.sent.", errors: []int{c409}},
	"view-quote":   {text: dApp + dQuoteActs + "Emits quote.viewed.", errors: []int{c409}},
	"accept-quote": {text: dApp + dQuoteActs + "Emits quote.accepted.", errors: []int{c409}},
	"expire-quote": {text: dApp + dQuoteActs + "Emits quote.expired.", errors: []int{c409}},
	"reject-quote": {text: dApp + dQuoteActs + "Emits quote.rejected, with the customer's reason if given.", errors: []int{c409}},

	"get-public-quote":    {text: dPublic + "What the customer sees. A request whose Accept ranks text/html above application/json (a browser's) gets the customer's page, in the lead's language; any other gets the quote as JSON. It records nothing, so that a mail scanner fetching the link is no view: the page reports the view itself (view-public-quote), and so must a JSON client that shows the quote to its customer."},
	"view-public-quote":   {text: dPublic + "Records that the customer is looking at the quote: quote.viewed, as the app's view, when the quote is sent; the customer's page sends it when it is visible. Safe to repeat: a quote already viewed (or accepted, rejected, expired, or still a draft) is answered as it is and nothing is recorded."},
	"accept-public-quote": {text: dPublic + "The customer accepts: quote.accepted, as the app's accept. 409 conflict when the quote can no longer be accepted.", errors: []int{c409}},
	"reject-public-quote": {text: dPublic + "The customer rejects: quote.rejected, as the app's reject. 409 conflict when the quote can no longer be rejected.", errors: []int{c409}},
	"unsubscribe":         {text: dPublic + "One-click unsubscribe (RFC 8058, the List-Unsubscribe-Post of every email): the lead opts out of email. Repeating it changes nothing."},

	"create-workflow":         {text: dAdmin + dIdem + "Creates a workflow for one trigger with its steps, validated in full (templates, conditions, WhatsApp templates); every problem names its field."},
	"list-workflows":          {text: dApp + dPaged + "Workflows at their current version."},
	"get-workflow":            {text: dApp + "A workflow at its current version; the ETag is that version."},
	"update-workflow":         {text: dAdmin + dIfMatch + dNewVer + "steps, when given, replace the list."},
	"delete-workflow":         {text: dAdmin + "Deletes a workflow. Refused with 409 conflict while an assignment rule or a lead override uses it.", errors: []int{c409}},
	"list-workflow-versions":  {text: dApp + dNotPaged + "Every version of a workflow, newest first; versions never change."},
	"validate-step":           {text: dAdmin + "Checks a step (the body of add-step, without position) exactly as adding or changing it would: its fields, its templates (problems at line and column) and the WhatsApp template it names. Stores nothing and makes no version; a valid step answers {\"valid\": true}, an invalid one the same 422 problem saving it would give, naming body.email.text and the like. Editors call it while a step is typed and save only when asked."},
	"add-step":                {text: dAdmin + dIfMatch + dNewVer + "Inserts a step at position (default: at the end); a new step always gets a new id."},
	"update-step":             {text: dAdmin + dIfMatch + dNewVer + "Fields left out are unchanged; when null removes the condition; content that no longer fits a changed type is dropped."},
	"delete-step":             {text: dAdmin + dIfMatch + dNewVer + "Removes a step; answers with the new version."},
	"reorder-steps":           {text: dAdmin + dIfMatch + dNewVer + "step_ids lists every step exactly once, in the new order."},
	"list-whatsapp-templates": {text: dApp + dNotPaged + "The WhatsApp business account's message templates, as send_whatsapp steps are checked against them. 409 conflict when the tenant has no WhatsApp Cloud API account or Meta cannot be reached.", errors: []int{c409}},
	"preview-step":            {text: dApp + "Renders one step of the workflow's current version for a lead (and optionally a quote), writing nothing: the rendered content, whether its when condition holds, and the fields it misses."},

	"create-rule":     {text: dAdmin + dIdem + "Creates an assignment rule: for a trigger (or * for every trigger), a condition on the lead and the workflow it assigns. Rules are evaluated in priority order; the first that matches wins."},
	"list-rules":      {text: dApp + dNotPaged + "Every assignment rule, in evaluation order."},
	"get-rule":        {text: dApp + "An assignment rule; the ETag is its version."},
	"update-rule":     {text: dAdmin + dIfMatch + "Fields left out are unchanged."},
	"delete-rule":     {text: dAdmin + "Deletes an assignment rule."},
	"reorder-rules":   {text: dAdmin + "rule_ids lists every rule exactly once, in the new evaluation order; answers with the rules in that order."},
	"create-override": {text: dAdmin + dIdem + "Pins a workflow for one lead and trigger, or suppresses every message, optionally until expires_at; an override wins over every rule."},
	"list-overrides":  {text: dApp + dNotPaged + "A lead's overrides, active and expired."},
	"delete-override": {text: dAdmin + "Removes a lead override."},

	"get-resolution":     {text: dApp + "What the resolver would decide for this lead and trigger now, with the trace: each override and rule considered and why it matched or not. Writes nothing."},
	"preview-resolution": {text: dApp + "The same as a resolution for a lead and quote given in full in the body, which need not exist. Writes nothing."},
	"get-coverage":       {text: dApp + "Per trigger: whether something is sent in the tenant's mode, the rules that can assign a workflow, the catch-all rule, and warnings about what cannot work."},
	"simulate":           {text: dApp + "Dry run for a lead and trigger: the decision and every step it would run, when, to whom and rendered; writes nothing and sends nothing."},

	"list-alerts": {text: dApp + dPaged + "The tenant's alerts, oldest first, filtered by state, kind or lead. The evaluator opens an alert when it first finds " +
		"a condition (a provider circuit open, a message failed permanently, a trigger's share of none or suppressed decisions jumping " +
		"against its previous 7 days, an enabled rule matching nothing for 30 days while its trigger had events, a message waiting " +
		"for delivery past the lag threshold), refreshes last_seen while it holds and resolves it when it stops; each says what " +
		"happened (summary) and what to do (action)."},
	"list-events":  {text: dApp + dPaged + "Trigger events with their decisions, oldest first, filtered by lead, quote, trigger or outcome."},
	"get-event":    {text: dApp + "A trigger event with its decision and the lead context it was decided on."},
	"list-runs":    {text: dApp + dPaged + "Workflow runs, oldest first, filtered by lead, quote or status."},
	"get-run":      {text: dApp + "A run with what each of its steps did."},
	"cancel-run":   {text: dAdmin + "Cancels an active run: none of its remaining steps runs. 409 conflict when the run is no longer active.", errors: []int{c409}},
	"get-timeline": {text: dApp + "Everything that happened to a lead, oldest first: events with decisions, runs with steps, messages with attempts and receipts, the lead's own WhatsApp messages and every change of its consent; truncated says a part was cut at 500 entries."},
	"list-inbox":   {text: dApp + dPaged + "The tenant's inbox: customers' WhatsApp messages that no single lead has the number of, oldest first. An unknown number's message is kept here, never dropped; one from a number several leads share names them as candidates (an opt-out from it applies to all of them). Filtered by match or a time window of received_at."},
	"list-inbound": {text: dApp + dPaged + "Every customer's WhatsApp message the tenant received, oldest first, filtered by lead, match or a time window of received_at. Media are references at Meta (id, type, hash); a type quoteflow does not know is stored as Meta sent it (raw)."},
	"get-inbound":  {text: dApp + "One customer's WhatsApp message: how it was matched to a lead, the message it answers, and the consent it asked for."},

	"list-messages":  {text: dApp + dPaged + "Outbox messages, oldest first, filtered by lead, quote, run, channel, trigger, status or a time window."},
	"get-message":    {text: dApp + "A message with its delivery attempts and the provider's receipts."},
	"retry-message":  {text: dAdmin + "Queues a failed, unknown or cancelled message again. 409 conflict for a message in another status.", errors: []int{c409}},
	"cancel-message": {text: dAdmin + "Cancels a message not yet handed to its provider. 409 conflict once it was.", errors: []int{c409}},
	"list-circuits":  {text: dApp + dNotPaged + "Open circuits: providers whose sends are stopped for this tenant after an error only its settings can fix (credentials, TLS), with the error and when a message will probe again."},
	"close-circuit":  {text: dAdmin + "Closes a provider's circuit after its settings were fixed, so that sends through it resume."},

	"verify-whatsapp-webhook": {text: "Public: Meta's subscription handshake. Answers hub.challenge as text/plain when hub.verify_token is the tenant's verify token; 403 otherwise, an unknown tenant included (the route does not say which tenants exist).", errors: []int{http.StatusForbidden}},
	"whatsapp-webhook":        {text: "Public, signed: message status updates and customers' messages from the WhatsApp Cloud API, verified with X-Hub-Signature-256 and the tenant's app secret (401 when the signature is wrong, or the tenant unknown: the route does not say which tenants exist). A replayed status (same message, status and timestamp) is not recorded twice, nor a customer's message (same wamid). A customer's message is matched to the lead with its number, or kept in the inbox; a consent keyword (STOP, START, the tenant's own words) or Meta's opt-out button or preference changes whatsapp_opt_in; it cancels the lead's runs of workflows whose exit_on lists replied, and opens the 24-hour window for free-form texts; all in one transaction with the answer. Answers how many statuses moved a message and how many messages were stored.", errors: []int{http.StatusUnauthorized}},

	"get-legacy-settings": {text: dApp + "Deprecated: the legacy per-trigger settings. Replaced by workflows and assignment rules (docs/api/VERSIONING.md)."},
	"put-legacy-settings": {text: dAdmin + "Deprecated: replaces the legacy per-trigger settings. Replaced by workflows and assignment rules (docs/api/VERSIONING.md)."},
	// The migration from legacy settings (docs/guides/migrating-from-legacy.md).
	"preview-migration": {text: dAdmin + "Turns the tenant's legacy settings into one workflow and one catch-all rule per trigger they send on, and compares, for each of the five triggers, the outcome and rendered messages before (legacy) and after (engine) for a sample lead: the lead and quote of the request, or a built-in sample. Every disagreement is listed; blocking ones (a template that does not compile) keep apply from running. The id names the legacy settings read: the same settings give the same id, and it goes stale when they change. Writes only that id."},
	"apply-migration":   {text: dAdmin + dIdem + "Creates the workflows and catch-all rules of a preview in one transaction, after every existing rule; existing configuration is left as it is. 201 with what was created; 200 with the same when the preview was applied before (nothing is created twice). 409 naming body.preview_id when the legacy settings changed since the preview, 404 for an unknown or another tenant's id, 422 for a malformed id or settings that cannot be migrated. The mode is not changed: move it with PATCH /v1/tenant.", errors: []int{c409, http.StatusNotFound}},
	"list-mode-changes": {text: dApp + dPaged + "Every change of the tenant's mode made by PATCH /v1/tenant, oldest first, with the API key that made it."},
	"get-outbox-stats":  {text: dApp + dNotPaged + "Counts over [from, to) (default: the 7 days before now; at most 400 days) in buckets of 5m, 1h or 1d aligned to the tenant's timezone (a day on which the clocks change is one 23- or 25-hour bucket and has 23 or 25 hourly buckets; at most 10000 buckets). Messages are placed by when they were written to the outbox and grouped by any of trigger, channel, status, reason, error_class and workflow (group_by, comma-separated or repeated); attempts by when they started, with retries (attempts after a message's first) per group and per provider; trigger events by trigger, outcome and reason, so none and suppressed decisions show per trigger; decisions' missing lead-context fields per trigger and field. Latencies are exact nearest-rank p50 and p95 in seconds: event_to_sent is a message's sent_at less its trigger event's created_at, sent_to_delivered its delivered_at less its sent_at, over the window's messages that have both. Every series has one count per bucket, in the order of buckets. A bad from, to, bucket or group_by is 422 naming the parameter (docs/ops/observability.md)."},
	"get-shadow-report": {text: dApp + dPaged + "Over the trigger events created in [from, to) (at most 400 days) that were decided in shadow mode: per trigger, how many the legacy and the engine side agree on (the same messages: channel, recipient and rendered content, or the same suppression), and each disagreement with both decisions, both message sets and the lead, oldest first, a page at a time."},

	"get-healthz": {text: "Public: liveness. Answers ok while the process serves HTTP; it checks nothing else."},
	"get-readyz":  {text: "Public: readiness. Answers ready when the service can take traffic (its database answers), 503 unavailable otherwise.", errors: []int{http.StatusServiceUnavailable}},
	"get-metrics": {text: "Public: Prometheus metrics in the text exposition format, among them quoteflow_http_request_duration_seconds by operation and status."},
}

// tags are the groups of operations, declared in the document.
var tags = []*huma.Tag{
	{Name: "Tenants", Description: "The caller's tenant, its settings and its API keys; tenant creation with the operator token"},
	{Name: "Leads", Description: "The customers quotes are sent to"},
	{Name: "Quotes", Description: "Quotes and the actions that emit trigger events"},
	{Name: "Public", Description: "What the customer does through the quote's secret link"},
	{Name: "Workflows", Description: "Versioned workflows and their steps"},
	{Name: "Rules", Description: "Assignment rules and per-lead overrides: which workflow runs"},
	{Name: "Resolver", Description: "The decision explained: resolutions, previews, coverage, dry runs"},
	{Name: "History", Description: "What happened: trigger events, runs, a lead's timeline"},
	{Name: "Outbox", Description: "Messages, their attempts and receipts, and provider circuits"},
	{Name: "Replies", Description: "Customers' WhatsApp messages: on their lead's timeline, or in the inbox when no single lead has the number"},
	{Name: "Webhooks", Description: "Provider callbacks"},
	{Name: "Legacy", Description: "The deprecated per-trigger settings, kept for the migration"},
	{Name: "Migration", Description: "From legacy settings to the engine: preview, apply, the mode history and the shadow report (docs/guides/migrating-from-legacy.md)"},
	{Name: "Operations", Description: "Health, readiness and metrics for the people running the service"},
}

// documentAPI completes the config with what the document declares at its
// root, and hooks the per-operation and per-schema documentation in.
func documentAPI(cfg *huma.Config) {
	cfg.Tags = tags
	// Relative, so that the document is the same on every deployment.
	cfg.Servers = []*huma.Server{{URL: "/", Description: "The quoteflow service serving this document"}}
	cfg.Info.Contact = &huma.Contact{Name: "quoteflow"}
	cfg.Components.Schemas = docRegistry{cfg.Components.Schemas}
	cfg.OnAddOperation = append(cfg.OnAddOperation, documentOperation)
}

// documentPlainRoutes adds /healthz, /readyz and /metrics, served by the
// mux directly (they must work when huma's middleware cannot), to the
// document.
func documentPlainRoutes(oapi *huma.OpenAPI) {
	text := func(desc string) map[string]*huma.Response {
		return map[string]*huma.Response{"200": {Description: desc, Content: map[string]*huma.MediaType{
			"text/plain": {Schema: &huma.Schema{Type: huma.TypeString}}}}}
	}
	for _, op := range []*huma.Operation{
		{OperationID: "get-healthz", Method: http.MethodGet, Path: "/healthz", Summary: "Liveness", Responses: text("ok")},
		{OperationID: "get-readyz", Method: http.MethodGet, Path: "/readyz", Summary: "Readiness", Responses: text("ready")},
		{OperationID: "get-metrics", Method: http.MethodGet, Path: "/metrics", Summary: "Prometheus metrics", Responses: text("Metrics in the Prometheus text format")},
	} {
		op.Tags = []string{"Operations"}
		op.Metadata = map[string]any{"access": accessPublic}
		oapi.AddOperation(op)
	}
}

package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Store is the storage the use cases run on: every read and write they make
// outside a transaction, and the transactions themselves. *store.DB is the
// implementation; nothing outside app reaches it for a request.
//
// Inside a transaction the use cases work on the concrete *store.Tx: the
// job queue inserts its jobs through the driver transaction it holds, and
// an interface of its forty methods would have one implementation and be
// asserted back to it by the queue.
type Store interface {
	// Transactions. GroupTx shares one commit with concurrent callers and
	// may run fn twice, the first time rolled back; Tx runs fn alone.
	GroupTx(ctx context.Context, fn func(*store.Tx) error) error
	Tx(ctx context.Context, fn func(*store.Tx) error) error
	ReadTx(ctx context.Context, fn func(*store.Tx) error) error
	// ReadParallel runs read-only jobs on one snapshot, at once where the
	// database can.
	ReadParallel(ctx context.Context, jobs ...func(*store.Tx) error) error

	// What /metrics reads from the tables (metrics.go).
	metricsStore

	// Tenants and their keys.
	CreateTenant(ctx context.Context, t *engine.Tenant, key *engine.APIKey) error
	GetTenant(ctx context.Context, id string) (*engine.Tenant, error)
	UpdateTenant(ctx context.Context, t *engine.Tenant, ifVersion int64) error
	CreateAPIKey(ctx context.Context, k *engine.APIKey) error
	GetAPIKey(ctx context.Context, id string) (*engine.APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]engine.APIKey, error)
	DeleteAPIKey(ctx context.Context, tenantID, id string) error

	// Leads and quotes.
	CreateLead(ctx context.Context, l *engine.Lead) error
	GetLead(ctx context.Context, tenantID, id string) (*engine.Lead, error)
	ListLeads(ctx context.Context, tenantID string, p engine.Page) ([]engine.Lead, string, error)
	UpdateLead(ctx context.Context, l *engine.Lead, ifVersion int64) error
	DeleteLead(ctx context.Context, tenantID, id string) error
	CreateQuote(ctx context.Context, q *engine.Quote) error
	GetQuote(ctx context.Context, tenantID, id string) (*engine.Quote, error)
	GetQuoteByToken(ctx context.Context, token string) (*engine.Quote, error)
	ListQuotes(ctx context.Context, tenantID string, f engine.QuoteFilter, p engine.Page) ([]engine.Quote, string, error)
	UpdateQuote(ctx context.Context, q *engine.Quote, ifVersion int64) error

	// Configuration: workflows, rules, overrides, legacy settings.
	CreateWorkflow(ctx context.Context, w *engine.Workflow) error
	GetWorkflow(ctx context.Context, tenantID, id string) (*engine.Workflow, error)
	GetWorkflowVersion(ctx context.Context, tenantID, id string, version int64) (*engine.Workflow, error)
	ListWorkflows(ctx context.Context, tenantID string, p engine.Page) ([]engine.Workflow, string, error)
	ListWorkflowVersions(ctx context.Context, tenantID, id string) ([]engine.Workflow, error)
	UpdateWorkflow(ctx context.Context, w *engine.Workflow, ifVersion int64) error
	DeleteWorkflow(ctx context.Context, tenantID, id string) error
	CreateRule(ctx context.Context, r *engine.Rule) error
	GetRule(ctx context.Context, tenantID, id string) (*engine.Rule, error)
	ListRules(ctx context.Context, tenantID string) ([]engine.Rule, error)
	UpdateRule(ctx context.Context, r *engine.Rule, ifVersion int64) error
	DeleteRule(ctx context.Context, tenantID, id string) error
	ReorderRules(ctx context.Context, tenantID string, ids []string) error
	CreateOverride(ctx context.Context, o *engine.Override) error
	ListOverrides(ctx context.Context, tenantID, leadID string) ([]engine.Override, error)
	ListAllOverrides(ctx context.Context, tenantID string) ([]engine.Override, error)
	DeleteOverride(ctx context.Context, tenantID, leadID, id string) error
	GetLegacySettings(ctx context.Context, tenantID string) (engine.LegacySettings, error)
	PutLegacySettings(ctx context.Context, tenantID string, s engine.LegacySettings) error
	ResolverInputs(ctx context.Context, tenantID string) (store.ResolverInputs, error)

	// What happened: events, runs, the outbox, circuits.
	GetEvent(ctx context.Context, tenantID, id string) (*engine.Event, error)
	ListEvents(ctx context.Context, tenantID string, f engine.EventFilter, p engine.Page) ([]engine.Event, string, error)
	GetRun(ctx context.Context, tenantID, id string) (*engine.Run, error)
	ListRuns(ctx context.Context, tenantID string, f engine.RunFilter, p engine.Page) ([]engine.Run, string, error)
	ListRunSteps(ctx context.Context, tenantID, runID string) ([]engine.RunStep, error)
	GetMessage(ctx context.Context, tenantID, id string) (*engine.Message, error)
	ListMessages(ctx context.Context, tenantID string, f engine.MessageFilter, p engine.Page) ([]engine.Message, string, error)
	ListAttempts(ctx context.Context, tenantID, messageID string) ([]engine.Attempt, error)
	ListReceipts(ctx context.Context, tenantID, messageID string) ([]engine.Receipt, error)
	ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error)
	CloseCircuit(ctx context.Context, tenantID, provider string) error

	// Idempotency-Key of creates; an answer is stored in the create's own
	// transaction (store.Tx.CompleteIdempotencyKey).
	ReserveIdempotencyKey(ctx context.Context, tenantID, key string, req engine.IdempotentRequest, lease time.Duration) (*engine.IdempotentRequest, int64, error)
	CompleteIdempotencyKey(ctx context.Context, tenantID, key string, held int64, status int, response []byte) error
	ReleaseIdempotencyKey(ctx context.Context, tenantID, key string, held int64) error
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)

	// Retention (retention.go).
	TenantRetentions(ctx context.Context) ([]store.TenantRetention, error)
	PurgeBatch(ctx context.Context, tenantID string, cutoff time.Time, limit int) (store.PurgeResult, error)
	// Alerts (alerts.go).
	TenantIDs(ctx context.Context) ([]string, error)
	AlertTenants(ctx context.Context) (withOpen, withPending map[string]bool, err error)
	OpenAlerts(ctx context.Context, tenantID string) ([]engine.Alert, error)
	AlertSignals(ctx context.Context, tenantID string, w store.AlertWindows) (*store.AlertSignals, error)
	SyncAlerts(ctx context.Context, tenantID string, findings []engine.Alert) ([]engine.Alert, int, error)
	ListAlerts(ctx context.Context, tenantID string, f engine.AlertFilter, p engine.Page) ([]engine.Alert, string, error)
	// Inbound WhatsApp messages and consent changes (inbound.go).
	GetInbound(ctx context.Context, tenantID, id string) (*engine.InboundMessage, error)
	ListInbound(ctx context.Context, tenantID string, f engine.InboundFilter, p engine.Page) ([]engine.InboundMessage, string, error)
	ListConsentChanges(ctx context.Context, tenantID, leadID string, p engine.Page) ([]engine.ConsentChange, string, error)
	PurgeInbound(ctx context.Context, tenantID string, cutoff time.Time, limit int) (int64, error)
	WhatsAppWindowEnd(ctx context.Context, tenantID, phone string) (time.Time, error)
	// Lead-context quality: the fields events lacked, for coverage and
	// the rule_field_missing alert (coverage.go, alerts_fields.go).
	MissingFieldCounts(ctx context.Context, tenantID string, w store.Window, probes []store.FieldProbe) ([]store.FieldCounts, error)
	// Alert emails (alert_email.go).
	PendingAlertEmails(ctx context.Context, tenantID string) (bool, error)
	ClaimAlertEmails(ctx context.Context, tenantID string, staleBefore time.Time, limit int) ([]store.AlertEmail, error)
	RecordAlertEmail(ctx context.Context, e *store.AlertEmail) error
}

var _ Store = (*store.DB)(nil)

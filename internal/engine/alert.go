package engine

import "time"

// AlertKind names what an alert is about.
type AlertKind string

// The alerts the evaluator raises (docs/ops/observability.md says what
// each means and what to do).
const (
	// AlertCircuitOpen: a provider's circuit for the tenant is open after
	// the provider refused the tenant's account, so nothing is sent
	// through it.
	AlertCircuitOpen AlertKind = "circuit_open"
	// AlertProviderFailing: a provider's circuit for the tenant is open
	// (or half-open) because the provider failed transiently too often;
	// the tenant's sends through it back off together until a probe gets
	// through.
	AlertProviderFailing AlertKind = "provider_failing"
	// AlertMessageFailed: a message failed permanently.
	AlertMessageFailed AlertKind = "message_failed"
	// AlertDecisionSpike: a trigger's share of none or suppressed
	// decisions jumped against its previous 7 days.
	AlertDecisionSpike AlertKind = "decision_spike"
	// AlertDeadRule: an enabled rule matched nothing for 30 days while its
	// trigger had events.
	AlertDeadRule AlertKind = "dead_rule"
	// AlertDeliveryLag: a message due for delivery has waited longer than
	// the lag threshold.
	AlertDeliveryLag AlertKind = "delivery_lag"
	// AlertRuleFieldMissing: a rule's share of its trigger's events fell
	// while the share of events lacking a field it reads rose: leads are
	// arriving without that field.
	AlertRuleFieldMissing AlertKind = "rule_field_missing"
)

// AlertState is open while the condition holds, resolved once it stopped.
type AlertState string

// Alert states.
const (
	AlertOpen     AlertState = "open"
	AlertResolved AlertState = "resolved"
)

// Alert is one occurrence of a condition an admin should see: opened when
// the evaluator first finds it, seen again at each evaluation that still
// finds it, resolved at the first that does not. A condition that comes
// back after being resolved is a new alert.
type Alert struct {
	ID       string
	TenantID string
	Kind     AlertKind
	// Subject identifies what the alert is about within its kind: the
	// provider, the message id, "trigger/outcome", the rule id,
	// "rule id/field"; empty for tenant-wide alerts. At most one alert per kind and subject is open.
	Subject string
	State   AlertState
	// LeadID, MessageID, RuleID, Provider and Trigger are set when the
	// alert concerns one; an alert with a LeadID is on that lead's timeline.
	LeadID, MessageID, RuleID, Provider, Trigger string
	// Summary says what happened and Action what to do, in words.
	Summary, Action string
	// Figures are the numbers behind the alert (counts, shares, seconds).
	Figures    map[string]float64
	FirstSeen  time.Time
	LastSeen   time.Time
	ResolvedAt *time.Time
	// EmailedAt is when an email naming the alert was queued to the
	// tenant's alert address, and EmailStatus that email's status (queued,
	// sending, sent, failed, unknown); nil and empty when none was: no
	// address, or the same kind and subject was emailed within the hour.
	EmailedAt   *time.Time
	EmailStatus string
}

// AlertSettings are a tenant's alert settings.
type AlertSettings struct {
	// Email is the address new alerts are emailed to, through the
	// tenant's email channel, at most once per alert kind and subject per
	// AlertEmailEvery.
	Email string `json:"email"`
}

// AlertEmailEvery is how often at most an alert of one kind and subject
// is emailed: a condition that flaps opens a new alert each time, and one
// email an hour says it.
const AlertEmailEvery = time.Hour

// AlertFilter selects alerts.
type AlertFilter struct {
	State  AlertState
	Kind   AlertKind
	LeadID string
}

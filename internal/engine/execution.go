package engine

import (
	"encoding/json"
	"time"
)

// Action is what a quote action does; each that changes a quote's status
// emits one trigger.
type Action string

// Quote actions.
const (
	ActionSend   Action = "send"
	ActionView   Action = "view"
	ActionAccept Action = "accept"
	ActionReject Action = "reject"
	ActionExpire Action = "expire"
)

// Trigger is the trigger an action emits.
func (a Action) Trigger() Trigger {
	switch a {
	case ActionSend:
		return TriggerSent
	case ActionView:
		return TriggerViewed
	case ActionAccept:
		return TriggerAccepted
	case ActionReject:
		return TriggerRejected
	case ActionExpire:
		return TriggerExpired
	}
	return ""
}

// Status is the quote status an action leads to.
func (a Action) Status() QuoteStatus {
	switch a {
	case ActionSend:
		return QuoteSent
	case ActionView:
		return QuoteViewed
	case ActionAccept:
		return QuoteAccepted
	case ActionReject:
		return QuoteRejected
	case ActionExpire:
		return QuoteExpired
	}
	return ""
}

// Event is the record of one trigger: what happened, on what context, and
// what was decided.
type Event struct {
	ID             string
	TenantID       string
	LeadID         string
	QuoteID        string
	Trigger        Trigger
	Action         Action
	IdempotencyKey string
	// DedupeKey names the business event: quote, action and quote revision.
	DedupeKey string
	// Duplicate events repeat an earlier business event and run nothing;
	// DuplicateOf is the first one.
	Duplicate   bool
	DuplicateOf string
	// Context is the lead context the decision was made on, as JSON.
	Context  json.RawMessage
	Decision Decision
	// Response is the body of the first response, replayed to a client that
	// repeats the request with the same Idempotency-Key.
	Response  json.RawMessage
	CreatedAt time.Time
}

// RunStatus is where a run is.
type RunStatus string

// Run statuses.
const (
	RunActive    RunStatus = "active"
	RunCompleted RunStatus = "completed"
	RunCancelled RunStatus = "cancelled"
	RunFailed    RunStatus = "failed"
)

// Run is one execution of one workflow version for one event.
type Run struct {
	ID              string
	TenantID        string
	EventID         string
	LeadID          string
	QuoteID         string
	WorkflowID      string
	WorkflowVersion int64
	Trigger         Trigger
	Status          RunStatus
	// Shadow runs record what the engine would have sent, in shadow mode;
	// their messages are never delivered.
	Shadow     bool
	Reason     string // why it was cancelled or failed
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// RunStepStatus is the outcome of one step of a run.
type RunStepStatus string

// Run step statuses.
const (
	StepScheduled RunStepStatus = "scheduled" // a wait in progress, or a step due later
	StepCompleted RunStepStatus = "completed"
	StepSkipped   RunStepStatus = "skipped" // its when condition was not true
	StepCancelled RunStepStatus = "cancelled"
	StepFailed    RunStepStatus = "failed"
)

// RunStep is the record of one step of a run.
type RunStep struct {
	ID          string
	TenantID    string
	RunID       string
	StepID      string
	Position    int
	Type        StepType
	Status      RunStepStatus
	Outcome     string // a stable code: sent_to_outbox, suppressed, condition_false, waited, ...
	Detail      string // for people
	ScheduledAt *time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MessageStatus is where a message is in the outbox.
type MessageStatus string

// Message statuses, as in the spec's appendix.
const (
	MsgScheduled  MessageStatus = "scheduled" // waiting for quiet hours or a retry
	MsgQueued     MessageStatus = "queued"
	MsgSending    MessageStatus = "sending"
	MsgSent       MessageStatus = "sent"
	MsgDelivered  MessageStatus = "delivered"
	MsgRead       MessageStatus = "read"
	MsgFailed     MessageStatus = "failed"
	MsgUnknown    MessageStatus = "unknown"
	MsgSuppressed MessageStatus = "suppressed"
	MsgCancelled  MessageStatus = "cancelled"
	MsgShadow     MessageStatus = "shadow"
)

// MessageStatuses is every message status, in the order above.
var MessageStatuses = []MessageStatus{MsgScheduled, MsgQueued, MsgSending, MsgSent, MsgDelivered, MsgRead,
	MsgFailed, MsgUnknown, MsgSuppressed, MsgCancelled, MsgShadow}

// Final reports whether no delivery work remains for a message in status s.
// delivered and read may still move forward by receipt, but are never sent
// again.
func (s MessageStatus) Final() bool {
	switch s {
	case MsgScheduled, MsgQueued, MsgSending:
		return false
	}
	return true
}

// Channel names.
const (
	ChannelEmail    = "email"
	ChannelWhatsApp = "whatsapp"
)

// Message is one outbox row.
type Message struct {
	ID              string
	TenantID        string
	EventID         string
	RunID           string // empty for legacy sends
	RunStepID       string
	LeadID          string
	QuoteID         string
	WorkflowID      string
	WorkflowVersion int64
	StepID          string
	Trigger         Trigger
	Channel         string // email or whatsapp
	Provider        string // log, smtp or cloud_api, as configured when queued
	To              string
	Subject         string
	Body            string
	HTML            string
	// Template is the WhatsApp template with its rendered parameters.
	Template          *WhatsAppContent
	Status            MessageStatus
	Attempts          int
	LastError         string
	ErrorClass        string
	Reason            string // why suppressed, cancelled or failed; a stable code
	ProviderMessageID string
	// FallbackOf is the message this one replaces on its fallback channel.
	FallbackOf string
	// ScheduledAt is when the next delivery attempt is due.
	ScheduledAt *time.Time
	SentAt      *time.Time
	DeliveredAt *time.Time
	ReadAt      *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Attempt is one try at delivering a message.
type Attempt struct {
	ID                string
	TenantID          string
	MessageID         string
	Number            int
	Provider          string
	StartedAt         time.Time
	FinishedAt        *time.Time
	Outcome           string // sent, retry, failed, unknown
	Error             string
	ErrorClass        string
	ProviderMessageID string
	RetryAt           *time.Time // when the next attempt is due, after a transient error
}

// Receipt is a provider's asynchronous report on a message.
type Receipt struct {
	ID                string
	TenantID          string
	MessageID         string // empty when no message matched
	ProviderMessageID string
	Status            string // sent, delivered, read, failed
	ProviderTimestamp time.Time
	ErrorCode         string
	ErrorClass        string
	Payload           json.RawMessage
	ReceivedAt        time.Time
}

// Circuit is an open (or half-open) circuit: the tenant's sends through one
// provider are stopped after a tenant-class error or a run of transient
// failures (Cause), until an admin closes it or Until passes and one probe
// succeeds (circuit.go).
type Circuit struct {
	TenantID  string
	Provider  string
	Reason    string
	ErrorCode string
	OpenedAt  time.Time
	Until     time.Time
	// Cause is CircuitCauseTenant or CircuitCauseTransient.
	Cause string
	// Opens counts the consecutive openings: 1 at first, one more for each
	// probe that failed; the backoff doubles with it (CircuitBackoff).
	Opens int
	// ProbeMessageID is the message let through as the probe once Until
	// passed, and ProbeUntil when its lease ends (a probe whose process
	// died stops holding the circuit then); empty and nil when none is in
	// flight.
	ProbeMessageID string
	ProbeUntil     *time.Time
}

// Package engine holds quoteflow's domain: the things a tenant configures
// (workflows, steps, assignment rules, lead overrides, legacy settings), the
// lead context, quotes' lifecycle, decisions and their traces, execution
// records, send planning, schedules, retry policies, durations and money.
// It does no I/O and imports nothing of the project, so it can be read,
// tested and fuzzed without a database.
//
// Its subsystems are packages of their own beneath it, each importing this
// one: condition (rule and step conditions, and the compiled sets the
// resolver evaluates), tmpl (Liquid templates and the rendering of a
// step's content), resolver (which workflow answers a quote event, with
// its trace, and coverage) and workflow (save-time validation and the dry
// run of a workflow), which imports the other three.
package engine

import (
	"encoding/json"
	"time"
)

// Trigger names a quote event that can start a workflow.
type Trigger string

// The five triggers. Each quote action that changes a quote's status emits
// exactly one of them.
const (
	TriggerSent     Trigger = "quote.sent"
	TriggerViewed   Trigger = "quote.viewed"
	TriggerAccepted Trigger = "quote.accepted"
	TriggerRejected Trigger = "quote.rejected"
	TriggerExpired  Trigger = "quote.expired"
)

// AnyTrigger is the trigger value of a rule or override that applies to every
// trigger.
const AnyTrigger = "*"

// Triggers lists every trigger in lifecycle order; coverage and reports
// iterate it so their output is stable.
var Triggers = []Trigger{TriggerSent, TriggerViewed, TriggerAccepted, TriggerRejected, TriggerExpired}

// Valid reports whether t is one of the five triggers.
func (t Trigger) Valid() bool {
	for _, x := range Triggers {
		if x == t {
			return true
		}
	}
	return false
}

// Mode is a tenant's engine mode, the switch of the legacy migration.
type Mode string

// The three modes: legacy settings alone decide; legacy decides while the
// engine's decision is recorded beside it; the engine decides.
const (
	ModeLegacy Mode = "legacy"
	ModeShadow Mode = "shadow"
	ModeEngine Mode = "engine"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeLegacy || m == ModeShadow || m == ModeEngine }

// QuoteStatus is where a quote is in its lifecycle.
type QuoteStatus string

// Quote statuses.
const (
	QuoteDraft    QuoteStatus = "draft"
	QuoteSent     QuoteStatus = "sent"
	QuoteViewed   QuoteStatus = "viewed"
	QuoteAccepted QuoteStatus = "accepted"
	QuoteRejected QuoteStatus = "rejected"
	QuoteExpired  QuoteStatus = "expired"
)

// QuoteStatuses lists every quote status.
var QuoteStatuses = []QuoteStatus{QuoteDraft, QuoteSent, QuoteViewed, QuoteAccepted, QuoteRejected, QuoteExpired}

// Valid reports whether s is a known quote status.
func (s QuoteStatus) Valid() bool {
	for _, x := range QuoteStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Tenant is one customer company. Every other row belongs to exactly one.
type Tenant struct {
	ID         string
	Name       string
	Timezone   string // IANA name, e.g. "Europe/Lisbon"
	Mode       Mode
	QuietHours *QuietHours
	Holidays   []string // dates as YYYY-MM-DD in the tenant's timezone
	Channels   Channels
	// RetentionDays is how long the tenant's timeline (events, runs,
	// steps, messages, attempts, receipts) is kept; zero means
	// DefaultRetentionDays.
	RetentionDays int
	// ConsentKeywords are the tenant's own WhatsApp opt-out and opt-in
	// words; nil (or a nil list) means the defaults.
	ConsentKeywords *ConsentKeywords
	// Alerts are where the tenant's new alerts are emailed; nil when
	// nowhere.
	Alerts *AlertSettings
	// ConfigVersion increases with every change to the tenant's rules,
	// overrides or workflows; compiled rule sets are cached under it so that
	// every process sharing the database sees a change at once.
	ConfigVersion int64
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DefaultRetentionDays is how long a tenant keeps its timeline unless it
// says otherwise; MinRetentionDays and MaxRetentionDays bound what it may
// say.
const (
	DefaultRetentionDays = 400
	MinRetentionDays     = 1
	MaxRetentionDays     = 3650
)

// QuietHours is a daily window, in local time, in which nothing is sent.
// Start after End means the window crosses midnight.
type QuietHours struct {
	Start string `json:"start"` // "21:00"
	End   string `json:"end"`   // "08:00"
}

// Channels holds a tenant's provider settings per channel. Secrets in it are
// write-only at the API.
type Channels struct {
	Email    *EmailChannel    `json:"email,omitempty"`
	WhatsApp *WhatsAppChannel `json:"whatsapp,omitempty"`
}

// EmailChannel configures how a tenant's email is sent.
type EmailChannel struct {
	Provider string `json:"provider"` // "smtp" or "log"
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	TLS      string `json:"tls,omitempty"` // "starttls", "tls" or "none"
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	From     string `json:"from,omitempty"`
}

// WhatsAppChannel configures a tenant's WhatsApp Cloud API account.
type WhatsAppChannel struct {
	Provider          string `json:"provider"` // "cloud_api" or "log"
	PhoneNumberID     string `json:"phone_number_id,omitempty"`
	BusinessAccountID string `json:"business_account_id,omitempty"`
	AccessToken       string `json:"access_token,omitempty"`
	AppSecret         string `json:"app_secret,omitempty"`
	VerifyToken       string `json:"verify_token,omitempty"`
}

// Role is what an API key may do.
type Role string

// Roles: admin configures everything; app is what the CRM integration uses
// (leads, quotes, quote actions, reads).
const (
	RoleAdmin Role = "admin"
	RoleApp   Role = "app"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleApp }

// APIKey is a tenant's credential. Only the SHA-256 of its secret is kept.
type APIKey struct {
	ID         string
	TenantID   string
	Role       Role
	SecretHash []byte
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Lead is a prospective customer.
type Lead struct {
	ID            string
	TenantID      string
	FirstName     string
	LastName      string
	Email         string
	Phone         string // E.164
	Language      string
	Country       string // ISO 3166-1 alpha-2
	Timezone      string // IANA name; empty means the tenant's
	Source        string
	Stage         string
	Tags          []string
	Owner         string
	Custom        map[string]any
	EmailOptOut   bool
	WhatsAppOptIn bool
	// WhatsAppOptedOutAt is when the customer last opted out of WhatsApp
	// (a keyword, Meta's button or preference), nil when they have not or
	// opted in since: a lead that opted out is suppressed with the reason
	// opted_out rather than whatsapp_not_opted_in.
	WhatsAppOptedOutAt *time.Time
	Version            int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Quote belongs to a lead. Amounts are kept in minor units of the currency so
// that no arithmetic on money is done in floating point.
type Quote struct {
	ID              string
	TenantID        string
	LeadID          string
	Number          string
	AmountMinor     int64
	Currency        string // ISO 4217
	Status          QuoteStatus
	ValidUntil      *time.Time
	Revision        int64 // increments with every edit of the quote's content
	PublicToken     string
	RejectionReason string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Amount is the quote's amount in major units, for display and conditions.
func (q *Quote) Amount() float64 { return MinorToMajor(q.AmountMinor, q.Currency) }

// ExitOnReplied in a workflow's exit_on cancels its runs for a lead when
// that lead sends an inbound message (issue 13). It is not a quote status;
// it shares exit_on with them.
const ExitOnReplied QuoteStatus = "replied"

// StepType is what a workflow step does.
type StepType string

// Step types.
const (
	StepSendEmail    StepType = "send_email"
	StepSendWhatsApp StepType = "send_whatsapp"
	StepWait         StepType = "wait"
)

// Workflow is a named, ordered list of steps for one trigger. Every edit
// creates a new immutable version; runs execute the version they started
// with.
type Workflow struct {
	ID       string
	TenantID string
	Name     string
	Trigger  Trigger
	Enabled  bool
	// ExitOn lists the quote statuses, and ExitOnReplied, that cancel a
	// run in flight.
	ExitOn    []QuoteStatus
	Steps     []Step
	Version   int64
	CreatedAt time.Time // of the workflow
	UpdatedAt time.Time // of this version
}

// Step is one thing a workflow does. Exactly one of Email, WhatsApp and Wait
// is the step's own content, chosen by Type; a send_whatsapp step with
// FallbackChannel "email" also carries Email.
type Step struct {
	ID              string           `json:"id"`
	Type            StepType         `json:"type"`
	When            json.RawMessage  `json:"when,omitempty"`
	Email           *EmailContent    `json:"email,omitempty"`
	WhatsApp        *WhatsAppContent `json:"whatsapp,omitempty"`
	Wait            *WaitSpec        `json:"wait,omitempty"`
	FallbackChannel string           `json:"fallback_channel,omitempty"`
}

// EmailContent is an email's Liquid templates.
type EmailContent struct {
	Subject string  `json:"subject"`
	Text    string  `json:"text"`
	HTML    *string `json:"html,omitempty" nullable:"true"`
}

// WhatsAppContent names an approved WhatsApp template and its body
// parameters, each a Liquid template, or carries free-form Text (a Liquid
// template too), or both. Text is sent only inside the customer-service
// window a reply opens (WhatsAppWindow); outside it the template is sent
// instead, when there is one, else the step's fallback.
type WhatsAppContent struct {
	Template   string   `json:"template" doc:"The approved template's name; empty for a free-form step without a template"`
	Language   string   `json:"language" doc:"The template's language, e.g. en_US; empty without a template"`
	Parameters []string `json:"parameters,omitempty"`
	Text       string   `json:"text,omitempty" doc:"Free-form text (Liquid), sent instead of the template inside the 24-hour window a reply opens"`
}

// WaitSpec is a pause between steps, as an ISO 8601 duration ("P2D").
type WaitSpec struct {
	Duration string `json:"duration"`
}

// Rule assigns a workflow to the leads whose context matches its condition.
type Rule struct {
	ID         string
	TenantID   string
	Name       string
	Trigger    string // a Trigger or AnyTrigger
	Priority   int
	Enabled    bool
	Condition  json.RawMessage
	WorkflowID string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// OverrideAction is what a lead override does.
type OverrideAction string

// Override actions.
const (
	OverrideWorkflow OverrideAction = "workflow"
	OverrideSuppress OverrideAction = "suppress"
)

// Override pins a workflow for one lead, or suppresses its communication,
// for one trigger or all of them.
type Override struct {
	ID         string
	TenantID   string
	LeadID     string
	Trigger    string // a Trigger or AnyTrigger
	Action     OverrideAction
	WorkflowID string
	ExpiresAt  *time.Time
	Reason     string
	CreatedAt  time.Time
}

// Active reports whether the override still applies at now.
func (o *Override) Active(now time.Time) bool {
	return o.ExpiresAt == nil || now.Before(*o.ExpiresAt)
}

// LegacyTriggers are the triggers the old settings system knew; it never
// sent anything on quote.viewed or quote.rejected.
var LegacyTriggers = []Trigger{TriggerSent, TriggerAccepted, TriggerExpired}

// LegacySetting is the old system's configuration for one trigger.
type LegacySetting struct {
	Enabled  bool             `json:"enabled"`
	Channels []string         `json:"channels"`
	Email    *EmailContent    `json:"email,omitempty"`
	WhatsApp *WhatsAppContent `json:"whatsapp,omitempty"`
}

// LegacySettings is a tenant's legacy configuration by trigger.
type LegacySettings map[Trigger]LegacySetting

// Sends reports whether the legacy system would send anything on t.
func (l LegacySettings) Sends(t Trigger) bool {
	s, ok := l[t]
	return ok && s.Enabled && len(s.Channels) > 0
}

// Limits on what a tenant may configure. They keep a single resolution and
// a single run bounded, whatever is saved.
const (
	MaxStepsPerWorkflow = 50
	MaxNameLength       = 200
)

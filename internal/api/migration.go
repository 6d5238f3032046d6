package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// The migration from legacy settings: preview, apply, the mode history and
// the shadow report (SPEC §7; docs/guides/migrating-from-legacy.md).

// MigrationPolicy is the policy every preview states.
const MigrationPolicy = "Existing workflows, rules and overrides are left as they are. Each catch-all rule goes after every existing rule, " +
	"so an existing rule that matches a lead still wins, and a lead override still decides for its lead: each is listed as a disagreement. " +
	"Apply creates the workflows and rules in one transaction and does not change the mode: move legacy → shadow → engine with PATCH /v1/tenant."

// PreviewMigrationIn is POST /v1/migration/preview. Without lead_id the
// comparison uses a built-in sample lead and quote.
type PreviewMigrationIn struct {
	LeadID  string `json:"lead_id,omitempty" doc:"Compare for this lead instead of the built-in sample"`
	QuoteID string `json:"quote_id,omitempty" doc:"With lead_id: add this quote of the lead to the context"`
}

// MigrationSampleOut says which lead the comparison used.
type MigrationSampleOut struct {
	Builtin     bool   `json:"builtin" doc:"True for the built-in sample lead and quote"`
	LeadID      string `json:"lead_id,omitempty"`
	QuoteID     string `json:"quote_id,omitempty"`
	Description string `json:"description"`
}

// PlannedRuleOut is a catch-all rule the migration creates.
type PlannedRuleOut struct {
	Name      string          `json:"name"`
	Trigger   string          `json:"trigger" enum:"quote.sent,quote.accepted,quote.expired"`
	Priority  int             `json:"priority"`
	Enabled   bool            `json:"enabled"`
	Condition json.RawMessage `json:"condition"`
}

// PlannedWorkflowOut is a workflow the migration creates.
type PlannedWorkflowOut struct {
	Name    string        `json:"name"`
	Trigger string        `json:"trigger" enum:"quote.sent,quote.accepted,quote.expired"`
	Enabled bool          `json:"enabled"`
	ExitOn  []string      `json:"exit_on"`
	Steps   []engine.Step `json:"steps"`
}

// PlannedMigrationOut is the workflow and rule of one trigger.
type PlannedMigrationOut struct {
	Trigger  string             `json:"trigger" enum:"quote.sent,quote.accepted,quote.expired"`
	Workflow PlannedWorkflowOut `json:"workflow"`
	Rule     PlannedRuleOut     `json:"rule"`
}

// PlannedMessageOut is a message one side would write, rendered.
type PlannedMessageOut struct {
	Channel     string                  `json:"channel"`
	To          string                  `json:"to,omitempty"`
	Subject     string                  `json:"subject,omitempty"`
	Body        string                  `json:"body,omitempty"`
	HTML        string                  `json:"html,omitempty"`
	Template    *engine.WhatsAppContent `json:"template,omitempty"`
	Suppressed  bool                    `json:"suppressed"`
	Reason      string                  `json:"reason,omitempty"`
	RenderError string                  `json:"render_error,omitempty"`
}

// MigrationSideOut is one side of a trigger's comparison.
type MigrationSideOut struct {
	Decision engine.Decision     `json:"decision"`
	Messages []PlannedMessageOut `json:"messages"`
}

// TriggerComparisonOut compares one trigger before (legacy) and after
// (engine) for the sample.
type TriggerComparisonOut struct {
	Trigger string           `json:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Agree   bool             `json:"agree"`
	Before  MigrationSideOut `json:"before"`
	After   MigrationSideOut `json:"after"`
}

// DisagreementOut is one thing that does not carry over as it was.
type DisagreementOut struct {
	Kind       string `json:"kind" enum:"messages_differ,template_invalid,workflow_invalid,channel_unsupported,existing_rule_first,lead_override,trigger_ignored"`
	Trigger    string `json:"trigger,omitempty"`
	Field      string `json:"field,omitempty" doc:"The legacy setting at fault, e.g. legacy_settings.quote.sent.email.subject"`
	Line       int    `json:"line,omitempty"`
	Column     int    `json:"column,omitempty"`
	Detail     string `json:"detail"`
	Blocking   bool   `json:"blocking" doc:"Apply refuses while a blocking disagreement exists"`
	RuleID     string `json:"rule_id,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
	OverrideID string `json:"override_id,omitempty"`
	LeadID     string `json:"lead_id,omitempty"`
}

// MigrationCreatedOut is the workflow and rule an apply made for a trigger.
type MigrationCreatedOut struct {
	Trigger    string `json:"trigger"`
	WorkflowID string `json:"workflow_id"`
	RuleID     string `json:"rule_id"`
	Priority   int    `json:"priority"`
}

// MigrationResultOut is what an apply created.
type MigrationResultOut struct {
	PreviewID string                `json:"preview_id"`
	AppliedAt time.Time             `json:"applied_at"`
	AppliedBy string                `json:"applied_by,omitempty" doc:"The API key id that applied it"`
	Created   []MigrationCreatedOut `json:"created"`
	Replayed  bool                  `json:"replayed" doc:"True when the preview had been applied before and nothing was created now"`
}

// MigrationPreviewOut is a preview of the migration.
type MigrationPreviewOut struct {
	ID            string                 `json:"id" doc:"Names the legacy settings read; give it to POST /v1/migration/apply"`
	SettingsHash  string                 `json:"settings_hash" doc:"SHA-256 of the legacy settings' canonical JSON"`
	Applied       bool                   `json:"applied"`
	Result        *MigrationResultOut    `json:"result,omitempty"`
	Applicable    bool                   `json:"applicable" doc:"False while a blocking disagreement exists"`
	Policy        string                 `json:"policy"`
	Sample        MigrationSampleOut     `json:"sample"`
	Plan          []PlannedMigrationOut  `json:"plan"`
	Triggers      []TriggerComparisonOut `json:"triggers"`
	Disagreements []DisagreementOut      `json:"disagreements"`
}

func migrationResultOut(r *app.MigrationResult) *MigrationResultOut {
	out := &MigrationResultOut{PreviewID: r.PreviewID, AppliedAt: r.AppliedAt.UTC(), AppliedBy: r.AppliedBy, Replayed: r.Replayed,
		Created: make([]MigrationCreatedOut, len(r.Created))}
	for i, c := range r.Created {
		out.Created[i] = MigrationCreatedOut{Trigger: string(c.Trigger), WorkflowID: c.WorkflowID, RuleID: c.RuleID, Priority: c.Priority}
	}
	return out
}

func plannedMessagesOut(ms []app.PlannedMessage) []PlannedMessageOut {
	out := make([]PlannedMessageOut, len(ms))
	for i, m := range ms {
		out[i] = PlannedMessageOut{Channel: m.Channel, To: m.To, Subject: m.Subject, Body: m.Text, HTML: m.HTML, Template: m.Template,
			Suppressed: m.Suppressed, Reason: m.Reason, RenderError: m.RenderError}
	}
	return out
}

// MigrationPreviewOutOf is the API form of a preview, shared with the
// operator command (quoteflow migrate-legacy --json).
func MigrationPreviewOutOf(p *app.MigrationPreview) MigrationPreviewOut {
	out := MigrationPreviewOut{ID: p.ID, SettingsHash: p.SettingsHash, Applied: p.Applied, Applicable: p.Applicable, Policy: MigrationPolicy,
		Plan: []PlannedMigrationOut{}, Triggers: []TriggerComparisonOut{}, Disagreements: []DisagreementOut{}}
	if p.Result != nil {
		out.Result = migrationResultOut(p.Result)
	}
	out.Sample = MigrationSampleOut{Builtin: p.Sample.Builtin, LeadID: p.Sample.LeadID, QuoteID: p.Sample.QuoteID}
	switch {
	case p.Sample.Builtin:
		out.Sample.Description = "the built-in sample: lead Ana Silva (ana@example.com, +351912345678, opted in to WhatsApp), quote Q-1001 of EUR 1,250.00, sent"
	case p.Sample.QuoteID != "":
		out.Sample.Description = "lead " + p.Sample.LeadID + " with quote " + p.Sample.QuoteID
	default:
		out.Sample.Description = "lead " + p.Sample.LeadID + " without a quote"
	}
	for _, pm := range p.Plan {
		w := pm.Workflow
		exit := make([]string, len(w.ExitOn))
		for i, s := range w.ExitOn {
			exit[i] = string(s)
		}
		out.Plan = append(out.Plan, PlannedMigrationOut{Trigger: string(pm.Trigger),
			Workflow: PlannedWorkflowOut{Name: w.Name, Trigger: string(w.Trigger), Enabled: w.Enabled, ExitOn: exit, Steps: nonNil(w.Steps)},
			Rule:     PlannedRuleOut{Name: pm.Rule.Name, Trigger: pm.Rule.Trigger, Priority: pm.Rule.Priority, Enabled: pm.Rule.Enabled, Condition: pm.Rule.Condition}})
	}
	for _, tc := range p.Triggers {
		out.Triggers = append(out.Triggers, TriggerComparisonOut{Trigger: string(tc.Trigger), Agree: tc.Agree,
			Before: MigrationSideOut{Decision: tc.Before.Decision, Messages: plannedMessagesOut(tc.Before.Messages)},
			After:  MigrationSideOut{Decision: tc.After.Decision, Messages: plannedMessagesOut(tc.After.Messages)}})
	}
	for _, d := range p.Disagreements {
		out.Disagreements = append(out.Disagreements, DisagreementOut{Kind: d.Kind, Trigger: string(d.Trigger), Field: d.Field, Line: d.Line,
			Column: d.Column, Detail: d.Detail, Blocking: d.Blocking, RuleID: d.RuleID, WorkflowID: d.WorkflowID, OverrideID: d.OverrideID, LeadID: d.LeadID})
	}
	return out
}

func (s *Server) previewMigration(ctx context.Context, in *body[PreviewMigrationIn]) (*body[MigrationPreviewOut], error) {
	p, err := s.app.PreviewMigration(ctx, principal(ctx).TenantID, app.PreviewRequest{LeadID: in.Body.LeadID, QuoteID: in.Body.QuoteID})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[MigrationPreviewOut]{Body: MigrationPreviewOutOf(p)}, nil
}

// ApplyMigrationIn is POST /v1/migration/apply.
type ApplyMigrationIn struct {
	PreviewID string `json:"preview_id" minLength:"1" doc:"The id of a preview of the tenant's current legacy settings"`
}

// appliedOut is an apply's answer: 201 when it created, 200 when the
// preview had been applied before.
type appliedOut struct {
	Status int
	Body   MigrationResultOut
}

func (s *Server) applyMigration(ctx context.Context, in *body[ApplyMigrationIn]) (*appliedOut, error) {
	p := principal(ctx)
	out := func(res *app.MigrationResult) *appliedOut {
		status := http.StatusCreated
		if res.Replayed {
			status = http.StatusOK
		}
		return &appliedOut{Status: status, Body: *migrationResultOut(res)}
	}
	answerWith(ctx, out)
	res, err := s.app.ApplyMigration(ctx, p.TenantID, p.KeyID, in.Body.PreviewID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(res), nil
}

// ModeChangeOut is one change of the tenant's mode.
type ModeChangeOut struct {
	ID        string    `json:"id"`
	From      string    `json:"from" enum:"legacy,shadow,engine"`
	To        string    `json:"to" enum:"legacy,shadow,engine"`
	APIKeyID  string    `json:"api_key_id,omitempty" doc:"The key that made the change; empty for an operator tool"`
	ChangedAt time.Time `json:"changed_at"`
}

func (s *Server) listModeChanges(ctx context.Context, in *PageParams) (*body[List[ModeChangeOut]], error) {
	cs, next, err := s.app.ListModeChanges(ctx, principal(ctx).TenantID, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[ModeChangeOut]]{Body: listOf(cs, next, func(c *engine.ModeChange) ModeChangeOut {
		return ModeChangeOut{ID: c.ID, From: string(c.From), To: string(c.To), APIKeyID: c.APIKeyID, ChangedAt: c.ChangedAt}
	})}, nil
}

type shadowReportInput struct {
	PageParams
	From time.Time `query:"from" required:"true" doc:"Events created at or after (RFC 3339)"`
	To   time.Time `query:"to" required:"true" doc:"Events created before (RFC 3339); at most 400 days after from"`
}

// ShadowMessageOut is a message of one side of a shadow comparison.
type ShadowMessageOut struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	To      string `json:"to,omitempty"`
	Subject string `json:"subject,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// ShadowSideOut is one side of a disagreeing event.
type ShadowSideOut struct {
	Decision engine.Decision    `json:"decision"`
	Messages []ShadowMessageOut `json:"messages"`
}

// ShadowDisagreementOut is an event whose two sides differ.
type ShadowDisagreementOut struct {
	EventID   string        `json:"event_id"`
	LeadID    string        `json:"lead_id"`
	QuoteID   string        `json:"quote_id,omitempty"`
	Trigger   string        `json:"trigger"`
	CreatedAt time.Time     `json:"created_at"`
	Legacy    ShadowSideOut `json:"legacy"`
	Engine    ShadowSideOut `json:"engine"`
}

// ShadowTriggerOut is one trigger's counts.
type ShadowTriggerOut struct {
	Trigger  string `json:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Events   int    `json:"events"`
	Agree    int    `json:"agree"`
	Disagree int    `json:"disagree"`
}

// ShadowReportOut is GET /v1/shadow/report.
type ShadowReportOut struct {
	From          time.Time               `json:"from"`
	To            time.Time               `json:"to"`
	Triggers      []ShadowTriggerOut      `json:"triggers"`
	Skipped       int                     `json:"skipped" doc:"Events in the window without an engine decision to compare (not made in shadow mode, or duplicates)"`
	Items         []ShadowDisagreementOut `json:"items" doc:"The disagreements, oldest first, one page"`
	NextCursor    string                  `json:"next_cursor,omitempty"`
	Disagreements int                     `json:"disagreements" doc:"All disagreements in the window"`
}

func shadowSideOut(sd app.ShadowSide) ShadowSideOut {
	out := ShadowSideOut{Decision: sd.Decision, Messages: make([]ShadowMessageOut, len(sd.Messages))}
	for i, m := range sd.Messages {
		out.Messages[i] = ShadowMessageOut{ID: m.ID, Channel: m.Channel, To: m.To, Subject: m.Subject, Status: string(m.Status), Reason: m.Reason}
	}
	return out
}

func (s *Server) shadowReport(ctx context.Context, in *shadowReportInput) (*body[ShadowReportOut], error) {
	rep, err := s.app.ShadowReport(ctx, principal(ctx).TenantID, in.From, in.To, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := ShadowReportOut{From: rep.From.UTC(), To: rep.To.UTC(), Skipped: rep.Skipped, NextCursor: encodeCursor(rep.NextCursor),
		Triggers: make([]ShadowTriggerOut, len(rep.Triggers)), Items: make([]ShadowDisagreementOut, len(rep.Disagreements))}
	for i, c := range rep.Triggers {
		out.Triggers[i] = ShadowTriggerOut{Trigger: string(c.Trigger), Events: c.Events, Agree: c.Agree, Disagree: c.Disagree}
		out.Disagreements += c.Disagree
	}
	for i, d := range rep.Disagreements {
		out.Items[i] = ShadowDisagreementOut{EventID: d.EventID, LeadID: d.LeadID, QuoteID: d.QuoteID, Trigger: string(d.Trigger),
			CreatedAt: d.CreatedAt, Legacy: shadowSideOut(d.Legacy), Engine: shadowSideOut(d.Engine)}
	}
	return &body[ShadowReportOut]{Body: out}, nil
}

package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
	"github.com/quoteflow/quoteflow/internal/store"
)

// The migration from legacy settings (SPEC §7): a preview turns the legacy
// settings into one workflow and one catch-all rule per trigger they send
// on, and shows per trigger what the legacy settings and the engine would
// send for a sample lead; apply creates them in one transaction; the mode
// then moves legacy → shadow → engine by PATCH /v1/tenant, each change
// recorded; the shadow report compares the two decisions of real events.
//
// Policy, as docs/guides/migrating-from-legacy.md states it:
//   - Existing engine configuration is left as it is: nothing is edited,
//     reordered or deleted. The catch-all rules go after every existing rule
//     (priority above the highest), so an existing rule that matches a lead
//     still wins; the preview lists each such rule, and each lead override,
//     as a disagreement.
//   - Apply never changes the mode: moving to shadow, then to engine, is
//     the admin's deliberate step after reading the preview and the report.
//   - A preview id names one version of the legacy settings (the hash of
//     their canonical JSON); the same settings always give the same id, and
//     once applied it stays applied, so applying it again creates nothing.

// MigrationPreview is what the migration would create and what it would
// change for a sample lead.
type MigrationPreview struct {
	// ID names the legacy settings read; apply takes it.
	ID string
	// SettingsHash is the SHA-256 of the settings' canonical JSON.
	SettingsHash string
	// Applied is set once the preview was applied; Result is what it made.
	Applied   bool
	AppliedAt *time.Time
	Result    *MigrationResult
	// Sample is the lead context of the per-trigger comparison.
	Sample MigrationSample
	// Plan is one workflow and catch-all rule per trigger the legacy
	// settings send on.
	Plan []PlannedMigration
	// Triggers compares, for each of the five triggers, the legacy and the
	// engine outcome and messages for the sample.
	Triggers []TriggerComparison
	// Disagreements lists everything that does not carry over as it was;
	// Blocking ones keep apply from running.
	Disagreements []Disagreement
	// Applicable is false when a blocking disagreement exists.
	Applicable bool
}

// MigrationSample says which lead context the comparison used.
type MigrationSample struct {
	// Builtin is true for the built-in sample lead and quote, used when the
	// request names no lead.
	Builtin bool
	LeadID  string
	QuoteID string
	Lead    *engine.Lead
	Quote   *engine.Quote
}

// PlannedMigration is the workflow and catch-all rule of one trigger.
type PlannedMigration struct {
	Trigger  engine.Trigger
	Workflow engine.Workflow
	Rule     engine.Rule
}

// TriggerComparison is one trigger's outcome before (legacy) and after
// (engine, with the plan applied) for the sample.
type TriggerComparison struct {
	Trigger engine.Trigger
	Before  Side
	After   Side
	Agree   bool
}

// Side is one side of a comparison: the decision and the messages it
// sends.
type Side struct {
	Decision engine.Decision
	Messages []PlannedMessage
}

// PlannedMessage is a message a decision would write, rendered.
type PlannedMessage struct {
	Channel     string
	To          string
	Subject     string
	Text        string
	HTML        string
	Template    *engine.WhatsAppContent
	Suppressed  bool
	Reason      string
	RenderError string
}

// Disagreement kinds: stable codes of what does not carry over.
const (
	DisagreeMessages           = "messages_differ"     // the sample lead gets other messages
	DisagreeTemplateInvalid    = "template_invalid"    // a legacy template does not compile (blocking)
	DisagreeWorkflowInvalid    = "workflow_invalid"    // the workflow made of a setting is refused (blocking)
	DisagreeChannelUnsupported = "channel_unsupported" // a legacy channel the engine cannot send on
	DisagreeExistingRule       = "existing_rule_first" // an existing rule is evaluated before the catch-all
	DisagreeLeadOverride       = "lead_override"       // a lead override decides for that lead in engine mode
	DisagreeIgnoredTrigger     = "trigger_ignored"     // settings stored for a trigger the old system never acted on
)

// Disagreement is one thing that would not be the same after the migration.
type Disagreement struct {
	Kind     string
	Trigger  engine.Trigger
	Field    string
	Line     int
	Column   int
	Detail   string
	Blocking bool
	// RuleID, WorkflowID, OverrideID and LeadID name the configuration the
	// disagreement is about, when it is about one.
	RuleID     string
	WorkflowID string
	OverrideID string
	LeadID     string
}

// MigrationResult is what an apply created.
type MigrationResult struct {
	PreviewID string              `json:"preview_id"`
	AppliedAt time.Time           `json:"applied_at"`
	AppliedBy string              `json:"applied_by,omitempty"`
	Created   []MigrationCreation `json:"created"`
	// Replayed is set when the preview had been applied before: nothing
	// was created this time.
	Replayed bool `json:"-"`
}

// MigrationCreation is the workflow and rule made for one trigger.
type MigrationCreation struct {
	Trigger    engine.Trigger `json:"trigger"`
	WorkflowID string         `json:"workflow_id"`
	RuleID     string         `json:"rule_id"`
	Priority   int            `json:"priority"`
}

// PreviewRequest names the sample lead of a preview: none for the built-in
// sample, or a lead and optionally one of its quotes.
type PreviewRequest struct {
	LeadID  string
	QuoteID string
}

// legacyField is the path of a legacy setting in problems and
// disagreements.
func legacyField(t engine.Trigger) string { return "legacy_settings." + string(t) }

// SettingsHash is the SHA-256 of the legacy settings' canonical JSON: map
// keys sorted, struct fields in declaration order.
func SettingsHash(s engine.LegacySettings) string {
	b, err := json.Marshal(s)
	if err != nil {
		// Plain strings, bools and slices only: marshalling cannot fail.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// noLegacySettings is the problem of a tenant with nothing to migrate.
func noLegacySettings() error {
	return engine.Invalid("legacy_settings", "the tenant has no legacy settings, so there is nothing to migrate; PUT /v1/legacy/settings first, or configure workflows directly")
}

// planMigration turns the legacy settings into workflows and catch-all
// rules, and lists what cannot carry over. firstPriority is the priority of
// the first catch-all rule; each next one is 10 more.
func planMigration(settings engine.LegacySettings, tenantID string, firstPriority int) ([]PlannedMigration, []Disagreement) {
	var plan []PlannedMigration
	var dis []Disagreement
	for t := range settings {
		if !slices.Contains(engine.LegacyTriggers, t) {
			dis = append(dis, Disagreement{Kind: DisagreeIgnoredTrigger, Trigger: t, Field: legacyField(t),
				Detail: fmt.Sprintf("settings are stored for %s, which the legacy system never acted on; nothing is migrated for it", t)})
		}
	}
	slices.SortFunc(dis, func(a, b Disagreement) int { return strings.Compare(string(a.Trigger), string(b.Trigger)) })
	priority := firstPriority
	for _, t := range engine.LegacyTriggers {
		set, ok := settings[t]
		if !ok || !settings.Sends(t) {
			continue
		}
		w := engine.Workflow{TenantID: tenantID, Name: "Legacy " + string(t), Trigger: t, Enabled: true, ExitOn: []engine.QuoteStatus{}}
		var fields []string // the legacy path of each step
		for i, ch := range set.Channels {
			switch ch {
			case engine.ChannelEmail:
				w.Steps = append(w.Steps, engine.Step{Type: engine.StepSendEmail, Email: set.Email})
			case engine.ChannelWhatsApp:
				w.Steps = append(w.Steps, engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: set.WhatsApp})
			default:
				dis = append(dis, Disagreement{Kind: DisagreeChannelUnsupported, Trigger: t, Field: fmt.Sprintf("%s.channels[%d]", legacyField(t), i),
					Detail: fmt.Sprintf("the legacy channel %q cannot be sent by a workflow; the workflow leaves it out (the legacy system could not deliver it either)", ch)})
				continue
			}
			fields = append(fields, legacyField(t))
		}
		dis = append(dis, templateProblems(t, set)...)
		if err := workflow.Validate(&w, "workflow"); err != nil {
			var e *engine.Error
			if errors.As(err, &e) {
				for _, f := range e.Fields {
					if strings.Contains(f.Field, ".email.") || strings.Contains(f.Field, ".parameters[") {
						continue // the template checks above name these at their legacy path
					}
					dis = append(dis, Disagreement{Kind: DisagreeWorkflowInvalid, Trigger: t, Field: legacyPath(f.Field, t, fields),
						Line: f.Line, Column: f.Column, Blocking: true,
						Detail: "the workflow made of this setting would be refused: " + f.Message})
				}
			}
		}
		if len(w.Steps) == 0 {
			continue
		}
		rule := engine.Rule{TenantID: tenantID, Name: "Legacy catch-all " + string(t), Trigger: string(t), Priority: priority,
			Enabled: true, Condition: json.RawMessage(`{"all":[]}`)}
		priority += 10
		plan = append(plan, PlannedMigration{Trigger: t, Workflow: w, Rule: rule})
	}
	return plan, dis
}

// legacyPath maps a field of a planned workflow ("workflow.steps[1].whatsapp.language")
// to the legacy setting it came from ("legacy_settings.quote.sent.whatsapp.language").
func legacyPath(field string, t engine.Trigger, stepFields []string) string {
	rest, ok := strings.CutPrefix(field, "workflow.steps[")
	if !ok {
		return legacyField(t)
	}
	idx, tail, _ := strings.Cut(rest, "]")
	var i int
	if _, err := fmt.Sscanf(idx, "%d", &i); err != nil || i < 0 || i >= len(stepFields) {
		return legacyField(t)
	}
	return stepFields[i] + tail
}

// templateProblems lists the templates of a setting that do not compile,
// each at its legacy path with line and column.
func templateProblems(t engine.Trigger, set engine.LegacySetting) []Disagreement {
	var out []Disagreement
	add := func(field string, err error) {
		if err == nil {
			return
		}
		var e *engine.Error
		if !errors.As(engine.PrefixFields(err, field), &e) || len(e.Fields) == 0 {
			out = append(out, Disagreement{Kind: DisagreeTemplateInvalid, Trigger: t, Field: field, Blocking: true, Detail: err.Error()})
			return
		}
		for _, f := range e.Fields {
			out = append(out, Disagreement{Kind: DisagreeTemplateInvalid, Trigger: t, Field: f.Field, Line: f.Line, Column: f.Column,
				Blocking: true, Detail: "the template does not compile: " + f.Message})
		}
	}
	p := legacyField(t)
	if e := set.Email; e != nil && slices.Contains(set.Channels, engine.ChannelEmail) {
		add(p+".email.subject", validateTemplate(e.Subject, false))
		add(p+".email.text", validateTemplate(e.Text, false))
		if e.HTML != nil {
			add(p+".email.html", validateTemplate(*e.HTML, true))
		}
	}
	if w := set.WhatsApp; w != nil && slices.Contains(set.Channels, engine.ChannelWhatsApp) {
		for i, prm := range w.Parameters {
			add(fmt.Sprintf("%s.whatsapp.parameters[%d]", p, i), validateTemplate(prm, false))
		}
	}
	return out
}

// existingDisagreements lists the tenant's configuration that would decide
// before the catch-all rules in engine mode: enabled rules whose enabled
// workflow is for the trigger, and active lead overrides. skip holds the
// ids of rules an earlier apply of this same preview created.
func existingDisagreements(rules []engine.Rule, workflows []engine.Workflow, overrides []engine.Override, skip map[string]bool, now time.Time) []Disagreement {
	wfs := map[string]*engine.Workflow{}
	for i := range workflows {
		wfs[workflows[i].ID] = &workflows[i]
	}
	var out []Disagreement
	for _, t := range engine.Triggers {
		for _, r := range rules {
			w := wfs[r.WorkflowID]
			if skip[r.ID] || !r.Enabled || (r.Trigger != string(t) && r.Trigger != engine.AnyTrigger) || w == nil || !w.Enabled || w.Trigger != t {
				continue
			}
			out = append(out, Disagreement{Kind: DisagreeExistingRule, Trigger: t, RuleID: r.ID, WorkflowID: w.ID,
				Detail: fmt.Sprintf("rule %q (priority %d) is evaluated before the catch-all: in engine mode the leads it matches get workflow %q instead of what the legacy settings send", r.Name, r.Priority, w.Name)})
		}
		for _, o := range overrides {
			if !o.Active(now) || (o.Trigger != string(t) && o.Trigger != engine.AnyTrigger) {
				continue
			}
			what := "suppresses everything"
			if o.Action == engine.OverrideWorkflow {
				what = "pins workflow " + o.WorkflowID
			}
			out = append(out, Disagreement{Kind: DisagreeLeadOverride, Trigger: t, OverrideID: o.ID, LeadID: o.LeadID, WorkflowID: o.WorkflowID,
				Detail: fmt.Sprintf("lead %s has an override that %s for %s: in engine mode it decides for that lead, the legacy settings did not", o.LeadID, what, t)})
		}
	}
	return out
}

// sampleContext is the built-in sample lead and quote: a lead with both
// addresses and consent to both channels, and a sent quote.
func (a *App) sampleContext(tenant *engine.Tenant) MigrationSample {
	valid := a.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)
	lead := &engine.Lead{TenantID: tenant.ID, FirstName: "Ana", LastName: "Silva", Email: "ana@example.com", Phone: "+351912345678",
		Language: "pt", Country: "PT", Source: "web", Stage: "new", Tags: []string{}, Custom: map[string]any{}, WhatsAppOptIn: true}
	q := &engine.Quote{TenantID: tenant.ID, Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: engine.QuoteSent,
		ValidUntil: &valid, Revision: 1, PublicToken: "sample"}
	return MigrationSample{Builtin: true, Lead: lead, Quote: q}
}

// migrationState is what a preview and an apply read.
type migrationState struct {
	tenant    *engine.Tenant
	settings  engine.LegacySettings
	inputs    store.ResolverInputs
	overrides []engine.Override
}

func (a *App) readMigrationState(ctx context.Context, tenantID string) (*migrationState, error) {
	st := &migrationState{}
	err := a.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if st.tenant, err = tx.GetTenant(ctx, tenantID); err != nil {
			return err
		}
		if st.inputs, err = tx.ResolverInputs(ctx, tenantID); err != nil {
			return err
		}
		st.settings = st.inputs.Legacy
		st.overrides, err = tx.ListAllOverrides(ctx, tenantID)
		return err
	})
	return st, err
}

// PreviewMigration computes the migration of the tenant's legacy settings
// and stores its id (the one write: a row naming the settings' version).
// A tenant without legacy settings is EINVALID on legacy_settings; settings
// that cannot be migrated as they are (a template that does not compile)
// are a preview with blocking disagreements, which apply refuses.
func (a *App) PreviewMigration(ctx context.Context, tenantID string, req PreviewRequest) (*MigrationPreview, error) {
	st, err := a.readMigrationState(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if len(st.settings) == 0 {
		return nil, noLegacySettings()
	}
	sample := a.sampleContext(st.tenant)
	if req.LeadID != "" {
		rc, err := a.RenderContext(ctx, tenantID, req.LeadID, req.QuoteID)
		if err != nil {
			return nil, engine.PrefixFields(err, "body")
		}
		sample = MigrationSample{LeadID: req.LeadID, QuoteID: req.QuoteID, Lead: rc.Lead, Quote: rc.Quote}
	} else if req.QuoteID != "" {
		return nil, engine.Invalid("body.quote_id", "needs lead_id: the quote must be one of that lead's")
	}
	hash := SettingsHash(st.settings)
	var stored *engine.MigrationPreview
	err = a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		stored, err = tx.SaveMigrationPreview(ctx, tenantID, hash)
		return err
	})
	if err != nil {
		return nil, err
	}
	p := &MigrationPreview{ID: stored.ID, SettingsHash: hash, Applied: stored.AppliedAt != nil, AppliedAt: stored.AppliedAt, Sample: sample}
	created := map[string]bool{}
	if p.Applied {
		var res MigrationResult
		if err := json.Unmarshal(stored.Result, &res); err != nil {
			return nil, fmt.Errorf("migration preview %s: result: %w", stored.ID, err)
		}
		p.Result = &res
		for _, c := range res.Created {
			created[c.RuleID] = true
		}
	}
	plan, dis := planMigration(st.settings, tenantID, nextPriority(st.inputs.Rules, created))
	if err := a.checkPlanTemplates(ctx, tenantID, plan, &dis); err != nil {
		return nil, err
	}
	p.Plan = plan
	var sampleOverrides []engine.Override
	if !sample.Builtin {
		for _, o := range st.overrides {
			if o.LeadID == sample.Lead.ID {
				sampleOverrides = append(sampleOverrides, o)
			}
		}
	}
	if p.Triggers, err = a.compare(ctx, st, plan, p.Applied, sample, sampleOverrides); err != nil {
		return nil, err
	}
	for _, tc := range p.Triggers {
		if !tc.Agree {
			dis = append(dis, Disagreement{Kind: DisagreeMessages, Trigger: tc.Trigger,
				Detail: fmt.Sprintf("for the sample lead, %s sends %s before and %s after", tc.Trigger, describe(tc.Before.Messages), describe(tc.After.Messages))})
		}
	}
	dis = append(dis, existingDisagreements(st.inputs.Rules, st.inputs.Workflows, st.overrides, created, a.Now())...)
	p.Disagreements = dis
	p.Applicable = true
	for _, d := range dis {
		p.Applicable = p.Applicable && !d.Blocking
	}
	return p, nil
}

// nextPriority is the priority of a catch-all rule that goes after every
// rule but those in skip (the catch-alls of an earlier apply of this same
// preview).
func nextPriority(rules []engine.Rule, skip map[string]bool) int {
	p := 10
	for _, r := range rules {
		if !skip[r.ID] {
			p = max(p, r.Priority+10)
		}
	}
	return p
}

// checkPlanTemplates checks the plan's WhatsApp steps against the tenant's
// approved templates, as saving the workflow would; a mismatch is a
// blocking disagreement.
func (a *App) checkPlanTemplates(ctx context.Context, tenantID string, plan []PlannedMigration, dis *[]Disagreement) error {
	for _, pm := range plan {
		err := a.checkTemplates(ctx, tenantID, &pm.Workflow)
		var e *engine.Error
		switch {
		case err == nil:
			continue
		case !errors.As(err, &e) || e.Code != engine.EINVALID:
			return err
		}
		for _, f := range e.Fields {
			_, tail, _ := strings.Cut(f.Field, "]")
			*dis = append(*dis, Disagreement{Kind: DisagreeWorkflowInvalid, Trigger: pm.Trigger, Field: legacyField(pm.Trigger) + tail,
				Blocking: true, Detail: "the business account's approved templates refuse it: " + f.Message})
		}
	}
	return nil
}

// describe summarises a message list for a sentence.
func describe(ms []PlannedMessage) string {
	if len(ms) == 0 {
		return "nothing"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		switch {
		case m.Suppressed:
			parts[i] = m.Channel + " (suppressed: " + m.Reason + ")"
		case m.Subject != "":
			parts[i] = fmt.Sprintf("%s %q", m.Channel, m.Subject)
		case m.Template != nil:
			parts[i] = m.Channel + " template " + m.Template.Template
		default:
			parts[i] = m.Channel
		}
	}
	return strings.Join(parts, ", ")
}

// compare resolves every trigger for the sample twice: in legacy mode, and
// in engine mode over the tenant's rules plus the plan (already part of them
// when applied), rendering what each would send.
func (a *App) compare(ctx context.Context, st *migrationState, plan []PlannedMigration, applied bool, sample MigrationSample, overrides []engine.Override) ([]TriggerComparison, error) {
	rules := slices.Clone(st.inputs.Rules)
	workflows := slices.Clone(st.inputs.Workflows)
	planned := map[string]*engine.Workflow{}
	if !applied {
		for i := range plan {
			pm := &plan[i]
			w := pm.Workflow
			w.ID, w.Version = "planned-workflow-"+string(pm.Trigger), 1
			r := pm.Rule
			r.ID, r.WorkflowID, r.CreatedAt = "planned-rule-"+string(pm.Trigger), w.ID, a.Now()
			rules, workflows = append(rules, r), append(workflows, w)
			planned[w.ID] = &w
		}
	}
	rs, err := resolver.NewRuleSet(rules, workflows)
	if err != nil {
		return nil, err
	}
	rc := a.context(st.tenant, sample.Lead, sample.Quote)
	out := make([]TriggerComparison, 0, len(engine.Triggers))
	for _, t := range engine.Triggers {
		in := resolver.ResolveInput{Trigger: t, Context: rc, Overrides: overrides, Legacy: st.settings, Now: a.Now()}
		in.Mode = engine.ModeLegacy
		before := rs.Resolve(in)
		in.Mode = engine.ModeEngine
		after := rs.Resolve(in)
		before.Render()
		after.Render()
		tc := TriggerComparison{Trigger: t, Before: Side{Decision: before, Messages: []PlannedMessage{}}, After: Side{Decision: after, Messages: []PlannedMessage{}}}
		if before.Outcome == engine.OutcomeLegacy {
			tc.Before.Messages = a.legacyPlanned(st.tenant, rc, st.settings[t])
		}
		switch after.Outcome {
		case engine.OutcomeLegacy:
			tc.After.Messages = a.legacyPlanned(st.tenant, rc, st.settings[t])
		case engine.OutcomeWorkflow:
			w := planned[after.WorkflowID]
			if w == nil {
				if w, err = a.db.GetWorkflowVersion(ctx, st.tenant.ID, after.WorkflowID, after.WorkflowVersion); err != nil {
					return nil, err
				}
			}
			steps, err := workflow.Simulate(w, rc, a.Now(), a.render, a.zones)
			if err != nil {
				return nil, err
			}
			for _, s := range steps {
				if s.Type == engine.StepWait || s.Skipped {
					continue
				}
				m := PlannedMessage{Channel: s.Channel, To: s.To, Suppressed: s.Suppressed, Reason: s.Reason, RenderError: s.RenderError}
				if r := s.Rendered; r != nil && !s.Suppressed {
					m.Subject, m.Text, m.HTML, m.Template = r.Subject, r.Text, r.HTML, r.Template
				}
				if s.Suppressed {
					m.To = ""
				}
				tc.After.Messages = append(tc.After.Messages, m)
			}
		}
		tc.Agree = sameMessages(tc.Before.Messages, tc.After.Messages)
		out = append(out, tc)
	}
	return out, nil
}

// legacyPlanned is what the legacy settings' message would be on each of
// its channels, built as a legacy send builds it.
func (a *App) legacyPlanned(tenant *engine.Tenant, rc *engine.Context, set engine.LegacySetting) []PlannedMessage {
	out := []PlannedMessage{}
	for _, ch := range set.Channels {
		m := a.legacyMessage(tenant, rc, set, ch)
		pm := PlannedMessage{Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Body, HTML: m.HTML, Template: m.Template,
			Suppressed: m.Status == engine.MsgSuppressed, Reason: m.Reason}
		if m.Reason == "render_failed" {
			pm.RenderError, pm.Reason = m.LastError, ""
		}
		out = append(out, pm)
	}
	return out
}

// legacyMessage builds the outbox message the legacy settings send on
// channel ch: suppressed when the lead's consent or the tenant's channels
// forbid it, failed when its template does not render. Legacy sends and
// the migration preview both use it, so the preview shows what a legacy
// send writes.
func (a *App) legacyMessage(tenant *engine.Tenant, rc *engine.Context, set engine.LegacySetting, ch string) *engine.Message {
	step := &engine.Step{Type: engine.StepSendEmail, Email: set.Email}
	if ch == engine.ChannelWhatsApp {
		step = &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: set.WhatsApp}
	}
	plan := engine.PlanSend(step, rc.Lead, tenant.Channels)
	m := &engine.Message{Channel: ch, To: plan.To}
	if plan.Suppressed {
		m.Status, m.Reason = engine.MsgSuppressed, plan.Reason
		return m
	}
	r, err := a.render.RenderLegacy(set, ch, rc)
	if err != nil {
		m.Status, m.Reason, m.LastError = engine.MsgFailed, "render_failed", err.Error()
	}
	m.Subject, m.Body, m.HTML, m.Template = r.Subject, r.Text, r.HTML, r.Template
	return m
}

// messageKey is what two messages must share to be the same message for
// the lead: the channel, and either the suppression reason or the
// recipient and rendered content.
func messageKey(m PlannedMessage) string {
	if m.Suppressed {
		return "suppressed\x00" + m.Channel + "\x00" + m.Reason
	}
	tpl, _ := json.Marshal(m.Template)
	return strings.Join([]string{"send", m.Channel, m.To, m.Subject, m.Text, m.HTML, string(tpl), m.RenderError}, "\x00")
}

// sameMessages reports whether two message lists are the same messages,
// in any order.
func sameMessages(a, b []PlannedMessage) bool {
	if len(a) != len(b) {
		return false
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = messageKey(a[i]), messageKey(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// previewIDField is where apply's preview id is in the request.
const previewIDField = "body.preview_id"

// ApplyMigration creates the workflows and catch-all rules of a preview in
// one transaction, after locking the tenant's row (which also orders it
// with mode changes). The preview must be the tenant's (else ENOTFOUND),
// its settings unchanged since (else ECONFLICT) and free of blocking
// disagreements (else EINVALID naming each legacy field at fault). A
// preview applied before answers with what that apply created and creates
// nothing. The mode is not changed. keyID is recorded as who applied it.
func (a *App) ApplyMigration(ctx context.Context, tenantID, keyID, previewID string) (*MigrationResult, error) {
	if _, err := uuid.Parse(previewID); err != nil {
		return nil, engine.Invalid(previewIDField, "is not a migration preview id; POST /v1/migration/preview gives one")
	}
	// Checked before the transaction: it may call the WhatsApp Cloud API,
	// which no transaction should wait on. The settings are read again
	// under the lock and must hash the same.
	st, err := a.readMigrationState(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var templateDis []Disagreement
	outside, _ := planMigration(st.settings, tenantID, 0)
	if err := a.checkPlanTemplates(ctx, tenantID, outside, &templateDis); err != nil {
		return nil, err
	}
	// A replay by Idempotency-Key is stored with the apply (write); an
	// apply of an applied preview without one answers from the preview.
	return write(a, ctx, func(tx *store.Tx) (*MigrationResult, error) {
		var res *MigrationResult
		if _, err := tx.LockTenantMode(ctx, tenantID); err != nil {
			return nil, err
		}
		if a.applyHook != nil {
			a.applyHook()
		}
		p, err := tx.GetMigrationPreview(ctx, tenantID, previewID)
		if engine.IsNotFound(err) {
			return nil, &engine.Error{Code: engine.ENOTFOUND, Message: "no such migration preview",
				Fields: []engine.FieldError{{Field: previewIDField, Message: "no preview of this tenant has this id"}}}
		}
		if err != nil {
			return nil, err
		}
		if p.AppliedAt != nil {
			res = &MigrationResult{}
			if err := json.Unmarshal(p.Result, res); err != nil {
				return nil, fmt.Errorf("migration preview %s: result: %w", p.ID, err)
			}
			res.Replayed = true
			return res, nil
		}
		settings, err := tx.GetLegacySettings(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		if len(settings) == 0 {
			return nil, noLegacySettings()
		}
		if SettingsHash(settings) != p.SettingsHash || SettingsHash(st.settings) != p.SettingsHash {
			return nil, &engine.Error{Code: engine.ECONFLICT, Message: "the legacy settings changed since this preview",
				Fields: []engine.FieldError{{Field: previewIDField, Message: "names legacy settings that are no longer the tenant's; preview again and apply the new id"}}}
		}
		rules, err := tx.ListRules(ctx, tenantID)
		if err != nil {
			return nil, err
		}
		plan, dis := planMigration(settings, tenantID, nextPriority(rules, nil))
		var fields []engine.FieldError
		for _, d := range append(dis, templateDis...) {
			if d.Blocking {
				fields = append(fields, engine.FieldError{Field: d.Field, Message: d.Detail, Line: d.Line, Column: d.Column})
			}
		}
		if len(fields) > 0 {
			return nil, &engine.Error{Code: engine.EINVALID, Message: "the legacy settings cannot be migrated as they are; fix them with PUT /v1/legacy/settings and preview again", Fields: fields}
		}
		res = &MigrationResult{PreviewID: p.ID, AppliedAt: tx.Now(), AppliedBy: keyID, Created: []MigrationCreation{}}
		for i := range plan {
			pm := &plan[i]
			if err := tx.CreateWorkflow(ctx, &pm.Workflow); err != nil {
				return nil, err
			}
			pm.Rule.WorkflowID = pm.Workflow.ID
			if err := tx.CreateRule(ctx, &pm.Rule); err != nil {
				return nil, err
			}
			res.Created = append(res.Created, MigrationCreation{Trigger: pm.Trigger, WorkflowID: pm.Workflow.ID, RuleID: pm.Rule.ID, Priority: pm.Rule.Priority})
		}
		b, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		return res, tx.MarkMigrationApplied(ctx, tenantID, p.ID, keyID, b)
	})
}

// UpdateTenantAs validates and saves the tenant's settings, as
// UpdateTenant, and records a change of mode, by the API key keyID, in the
// same transaction. The transaction first locks the tenant's row, so the
// mode it records as "from" is the one it replaces, and a mode change
// waits for a migration being applied to commit.
func (a *App) UpdateTenantAs(ctx context.Context, keyID string, t *engine.Tenant, ifVersion int64) error {
	if err := validateTenant(t); err != nil {
		return err
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		from, err := tx.LockTenantMode(ctx, t.ID)
		if err != nil {
			return err
		}
		if err := tx.UpdateTenant(ctx, t, ifVersion); err != nil {
			return err
		}
		if from == t.Mode {
			return nil
		}
		return tx.InsertModeChange(ctx, &engine.ModeChange{TenantID: t.ID, From: from, To: t.Mode, APIKeyID: keyID})
	})
}

// ListModeChanges lists the tenant's mode changes, oldest first.
func (a *App) ListModeChanges(ctx context.Context, tenantID string, p engine.Page) ([]engine.ModeChange, string, error) {
	if err := checkCursor(p.After); err != nil {
		return nil, "", err
	}
	var out []engine.ModeChange
	var next string
	err := a.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, next, err = tx.ListModeChanges(ctx, tenantID, p)
		return err
	})
	return out, next, err
}

// checkCursor refuses a cursor that no list gave: every cursor is an id.
func checkCursor(c string) error {
	if c == "" {
		return nil
	}
	if _, err := uuid.Parse(c); err != nil {
		return engine.Invalid("query.cursor", "is not a cursor this list gave")
	}
	return nil
}

// validateTemplate checks that a template compiles, in HTML mode for an
// email's HTML body.
func validateTemplate(src string, html bool) error {
	if html {
		return tmpl.ValidateHTML(src)
	}
	return tmpl.Validate(src)
}

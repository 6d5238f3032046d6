package resolver

import (
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// CoverageReport says, per trigger, whether anything can answer it and what
// in the configuration is broken or unreachable. GET /v1/coverage returns
// it as is.
type CoverageReport struct {
	Mode     engine.Mode       `json:"mode"`
	Triggers []TriggerCoverage `json:"triggers"`
	// Rules are the tenant's rules in evaluation order (those whose
	// condition does not parse last), each with the fields its condition
	// reads. CheckCoverage names the fields; how often events lacked them
	// is counted from the stored events by the caller (FieldsFrom to
	// FieldsTo).
	Rules []RuleCoverage `json:"rules"`
	// FieldsFrom and FieldsTo are the window of events the rules' missing
	// fields are counted over; nil until they are counted.
	FieldsFrom *time.Time `json:"fields_from,omitempty" doc:"Start of the window the rules' missing fields are counted over (30 days before fields_to)"`
	FieldsTo   *time.Time `json:"fields_to,omitempty" doc:"End of that window: when the report was made"`
}

// RuleCoverage is one rule and the lead context fields its condition
// reads.
type RuleCoverage struct {
	RuleID  string `json:"rule_id"`
	Name    string `json:"name"`
	Trigger string `json:"trigger"`
	Enabled bool   `json:"enabled"`
	// Events counts the non-duplicate events of the rule's trigger (every
	// trigger, for "*") in the window.
	Events int64 `json:"events" doc:"Events of the rule's trigger (every trigger for *) in the window, duplicates left out"`
	// Fields are the fields the condition reads, in the order it names
	// them.
	Fields []RuleFieldCoverage `json:"fields"`
}

// RuleFieldCoverage is one field a rule reads, and how many of the
// window's events of the rule's trigger lacked it: a rule cannot match a
// lead whose context lacks a field it compares (the comparison is
// unknown).
type RuleFieldCoverage struct {
	Field        string  `json:"field"`
	Missing      int64   `json:"missing" doc:"Events of the window that lacked the field"`
	MissingShare float64 `json:"missing_share" doc:"missing / events, 0 to 1; 0 when there were no events"`
}

// TriggerCoverage is the coverage of one trigger.
type TriggerCoverage struct {
	Trigger engine.Trigger `json:"trigger"`
	// EnabledPath is whether something can be sent on the trigger in the
	// tenant's current mode: in legacy and shadow mode the legacy settings
	// alone, in engine mode as EnginePath.
	EnabledPath bool `json:"enabled_path"`
	// EnginePath is whether something can be sent in engine mode: an
	// enabled rule whose workflow is enabled and for this trigger, or a
	// fallback that sends the legacy message. Shown in every mode so that a
	// tenant can check before switching to engine.
	EnginePath bool `json:"engine_path"`
	// Rules are the rules that can assign a workflow on this trigger, in
	// evaluation order.
	Rules []string `json:"rules"`
	// CatchAllRuleID is the first of Rules whose condition matches every
	// lead; the rules after it and the fallback are never reached.
	CatchAllRuleID string `json:"catch_all_rule_id,omitempty"`
	// Fallback is what engine mode does when no override or rule matches.
	Fallback CoverageOutcome `json:"fallback"`
	// Legacy is what the legacy settings decide, which is the decision in
	// legacy and shadow mode.
	Legacy   CoverageOutcome   `json:"legacy"`
	Warnings []CoverageWarning `json:"warnings"`
}

// CoverageOutcome is an outcome and the decision reason that explains it.
type CoverageOutcome struct {
	Outcome engine.Outcome `json:"outcome"`
	Reason  string         `json:"reason"`
}

// Coverage warning codes.
const (
	WarnRuleWorkflowDisabled         = "rule_workflow_disabled"
	WarnRuleWorkflowMissing          = "rule_workflow_missing"
	WarnRuleWorkflowWrongTrigger     = "rule_workflow_wrong_trigger"
	WarnRuleInvalidCondition         = "rule_invalid_condition"
	WarnRuleShadowed                 = "rule_shadowed"
	WarnOverrideWorkflowDisabled     = "override_workflow_disabled"
	WarnOverrideWorkflowMissing      = "override_workflow_missing"
	WarnOverrideWorkflowWrongTrigger = "override_workflow_wrong_trigger"
)

// CoverageWarning is one problem in the configuration of a trigger. A rule
// or override for every trigger ("*") is reported under each trigger it
// fails on, since each is a separate gap.
type CoverageWarning struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	RuleID     string `json:"rule_id,omitempty"`
	OverrideID string `json:"override_id,omitempty"`
	LeadID     string `json:"lead_id,omitempty"`
	WorkflowID string `json:"workflow_id,omitempty"`
}

// CheckCoverage builds the coverage report of a tenant's configuration.
// workflows are the current versions; overrides may be every lead's, and
// expired ones are ignored. Enabled rules are the only ones warned about: a
// disabled rule is switched off on purpose.
func CheckCoverage(mode engine.Mode, rules []engine.Rule, workflows []engine.Workflow, overrides []engine.Override, legacy engine.LegacySettings, now time.Time) CoverageReport {
	wfs := indexWorkflows(workflows)
	compiled, bad := compileRules(rules, wfs)
	rep := CoverageReport{Mode: mode, Triggers: make([]TriggerCoverage, 0, len(engine.Triggers))}
	for ti, t := range engine.Triggers {
		tc := TriggerCoverage{Trigger: t, Rules: []string{}, Warnings: []CoverageWarning{}}

		var fb engine.Decision
		fallback(t, legacy, &fb)
		tc.Fallback = CoverageOutcome{Outcome: fb.Outcome, Reason: fb.Reason}
		ld := legacyDecision(t, legacy)
		tc.Legacy = CoverageOutcome{Outcome: ld.Outcome, Reason: ld.Reason}

		for i := range compiled {
			r := &compiled[i]
			w := CoverageWarning{RuleID: r.id, WorkflowID: r.rule.WorkflowID}
			switch r.skip[ti] {
			case skipWrongTrigger, skipDisabled:
				continue
			case skipWorkflowMissing:
				w.Code = WarnRuleWorkflowMissing
				w.Message = fmt.Sprintf("rule %s assigns workflow %q, which does not exist; the rule is skipped", r.id, r.rule.WorkflowID)
			case skipWorkflowDisabled:
				w.Code = WarnRuleWorkflowDisabled
				w.Message = fmt.Sprintf("rule %s assigns workflow %q (%s), which is disabled; the rule is skipped", r.id, r.wf.id, r.wf.name)
			case skipWorkflowWrongTrigger:
				w.Code = WarnRuleWorkflowWrongTrigger
				w.Message = fmt.Sprintf("rule %s assigns workflow %q (%s), which is for %s; the rule is skipped on %s", r.id, r.wf.id, r.wf.name, r.wf.trigger, t)
			case skipNone:
				if tc.CatchAllRuleID == "" {
					tc.Rules = append(tc.Rules, r.id)
					if r.cond.AlwaysTrue() {
						tc.CatchAllRuleID = r.id
					}
					continue
				}
				w.Code = WarnRuleShadowed
				w.Message = fmt.Sprintf("rule %s is never reached on %s: rule %s before it matches every lead", r.id, t, tc.CatchAllRuleID)
			}
			tc.Warnings = append(tc.Warnings, w)
		}
		for _, e := range bad {
			if !e.rule.Enabled || (e.rule.Trigger != engine.AnyTrigger && e.rule.Trigger != string(t)) {
				continue
			}
			tc.Warnings = append(tc.Warnings, CoverageWarning{
				Code: WarnRuleInvalidCondition, RuleID: e.rule.ID, WorkflowID: e.rule.WorkflowID,
				Message: fmt.Sprintf("rule %s has a condition that does not parse and cannot be evaluated: %v", e.rule.ID, e.err),
			})
		}
		for i := range overrides {
			o := &overrides[i]
			if o.Action != engine.OverrideWorkflow || !o.Active(now) || (o.Trigger != engine.AnyTrigger && o.Trigger != string(t)) {
				continue
			}
			w := CoverageWarning{OverrideID: o.ID, LeadID: o.LeadID, WorkflowID: o.WorkflowID}
			wf := wfs[o.WorkflowID]
			switch {
			case wf == nil:
				w.Code = WarnOverrideWorkflowMissing
				w.Message = fmt.Sprintf("override %s of lead %s pins workflow %q, which does not exist; it is skipped", o.ID, o.LeadID, o.WorkflowID)
			case !wf.enabled:
				w.Code = WarnOverrideWorkflowDisabled
				w.Message = fmt.Sprintf("override %s of lead %s pins workflow %q (%s), which is disabled; it is skipped", o.ID, o.LeadID, wf.id, wf.name)
			case wf.trigger != t:
				w.Code = WarnOverrideWorkflowWrongTrigger
				w.Message = fmt.Sprintf("override %s of lead %s pins workflow %q (%s), which is for %s; it is skipped on %s", o.ID, o.LeadID, wf.id, wf.name, wf.trigger, t)
			default:
				continue
			}
			tc.Warnings = append(tc.Warnings, w)
		}

		tc.EnginePath = len(tc.Rules) > 0 || tc.Fallback.Outcome == engine.OutcomeLegacy
		if mode == engine.ModeLegacy || mode == engine.ModeShadow {
			tc.EnabledPath = tc.Legacy.Outcome == engine.OutcomeLegacy
		} else {
			tc.EnabledPath = tc.EnginePath
		}
		rep.Triggers = append(rep.Triggers, tc)
	}
	rep.Rules = make([]RuleCoverage, 0, len(compiled)+len(bad))
	for i := range compiled {
		r := &compiled[i]
		rc := RuleCoverage{RuleID: r.id, Name: r.rule.Name, Trigger: r.rule.Trigger, Enabled: r.rule.Enabled,
			Fields: []RuleFieldCoverage{}}
		for _, f := range r.cond.Fields() {
			rc.Fields = append(rc.Fields, RuleFieldCoverage{Field: f})
		}
		rep.Rules = append(rep.Rules, rc)
	}
	for _, e := range bad {
		rep.Rules = append(rep.Rules, RuleCoverage{RuleID: e.rule.ID, Name: e.rule.Name, Trigger: e.rule.Trigger,
			Enabled: e.rule.Enabled, Fields: []RuleFieldCoverage{}})
	}
	return rep
}

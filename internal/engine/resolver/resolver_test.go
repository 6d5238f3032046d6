package resolver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
)

var (
	t0      = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nowTest = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
)

const (
	condWeb     = `{"all":[{"field":"lead.source","op":"eq","value":"web"}]}`
	condPhone   = `{"all":[{"field":"lead.source","op":"eq","value":"phone"}]}`
	condTZ      = `{"all":[{"field":"lead.timezone","op":"eq","value":"Europe/Lisbon"}]}`
	condAmount  = `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"quote.amount","op":"gte","value":5000}]}`
	condAnyLead = `{"all":[]}`
)

func testWorkflow(id string, trig engine.Trigger, enabled bool) engine.Workflow {
	return engine.Workflow{ID: id, Name: "WF " + id, Trigger: trig, Enabled: enabled, Version: 3, CreatedAt: t0}
}

func testRule(id, trig string, prio int, enabled bool, cond, wfID string, ageHours int) engine.Rule {
	return engine.Rule{
		ID: id, Name: "rule " + id, Trigger: trig, Priority: prio, Enabled: enabled,
		Condition: json.RawMessage(cond), WorkflowID: wfID, CreatedAt: t0.Add(time.Duration(ageHours) * time.Hour),
	}
}

func testOverride(id, trig string, action engine.OverrideAction, wfID string, createdHours int, expires *time.Time) engine.Override {
	return engine.Override{
		ID: id, LeadID: "lead_1", Trigger: trig, Action: action, WorkflowID: wfID,
		CreatedAt: t0.Add(time.Duration(createdHours) * time.Hour), ExpiresAt: expires,
	}
}

// standardWorkflows has one enabled workflow per trigger (wf_sent, ...),
// a second one for quote.sent, and disabled ones for quote.sent and
// quote.expired.
func standardWorkflows() []engine.Workflow {
	return []engine.Workflow{
		testWorkflow("wf_sent", engine.TriggerSent, true),
		testWorkflow("wf_sent_b", engine.TriggerSent, true),
		testWorkflow("wf_sent_off", engine.TriggerSent, false),
		testWorkflow("wf_viewed", engine.TriggerViewed, true),
		testWorkflow("wf_accepted", engine.TriggerAccepted, true),
		testWorkflow("wf_rejected", engine.TriggerRejected, true),
		testWorkflow("wf_expired", engine.TriggerExpired, true),
		testWorkflow("wf_expired_off", engine.TriggerExpired, false),
	}
}

var legacyAllOn = engine.LegacySettings{
	engine.TriggerSent:     {Enabled: true, Channels: []string{"email"}},
	engine.TriggerAccepted: {Enabled: true, Channels: []string{"email"}},
	engine.TriggerExpired:  {Enabled: true, Channels: []string{"whatsapp"}},
}

// traceSummary renders a trace as kind:id:result:reason lines, the part of
// it that the order of resolution determines.
func traceSummary(tr []engine.TraceEntry) []string {
	out := make([]string, 0, len(tr))
	for _, e := range tr {
		out = append(out, strings.Join([]string{e.Kind, e.ID, e.Result, e.Reason}, ":"))
	}
	return out
}

func expired() *time.Time { t := nowTest.Add(-time.Minute); return &t }
func later() *time.Time   { t := nowTest.Add(time.Hour); return &t }

// resolveOrderCase is one case of TestResolveEngineOrder, which
// TestLazyTraceMatchesEager replays too.
type resolveOrderCase struct {
	name      string
	trigger   engine.Trigger
	rules     []engine.Rule
	overrides []engine.Override
	ctx       func(*engine.Context)
	legacy    engine.LegacySettings // legacyAllOn when nil

	outcome  engine.Outcome
	source   engine.Source
	reason   string
	workflow string
	rule     string
	override string
	missing  []string
	trace    []string
}

func resolveOrderCases() []resolveOrderCase {
	return []resolveOrderCase{
		{
			name:      "override suppress",
			trigger:   engine.TriggerSent,
			rules:     []engine.Rule{testRule("r1", "quote.sent", 1, true, condWeb, "wf_sent", 0)},
			overrides: []engine.Override{testOverride("o1", "quote.sent", engine.OverrideSuppress, "", 0, later())},
			outcome:   engine.OutcomeSuppressed, source: engine.SourceOverride, reason: "override_suppress", override: "o1",
			trace: []string{"override:o1:matched:override_suppress"},
		},
		{
			name:      "override pins a workflow",
			trigger:   engine.TriggerSent,
			rules:     []engine.Rule{testRule("r1", "quote.sent", 1, true, condWeb, "wf_sent", 0)},
			overrides: []engine.Override{testOverride("o1", "quote.sent", engine.OverrideWorkflow, "wf_sent_b", 0, nil)},
			outcome:   engine.OutcomeWorkflow, source: engine.SourceOverride, reason: "override_workflow", override: "o1", workflow: "wf_sent_b",
			trace: []string{"override:o1:matched:override_workflow"},
		},
		{
			name:      "pin to a disabled workflow is skipped with a warning",
			trigger:   engine.TriggerSent,
			rules:     []engine.Rule{testRule("r1", "quote.sent", 1, true, condWeb, "wf_sent", 0)},
			overrides: []engine.Override{testOverride("o1", "quote.sent", engine.OverrideWorkflow, "wf_sent_off", 0, nil)},
			outcome:   engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r1", workflow: "wf_sent",
			trace: []string{"override:o1:warning:workflow_disabled", "rule:r1:matched:rule_matched"},
		},
		{
			name:      "pin to a missing workflow is skipped with a warning",
			trigger:   engine.TriggerSent,
			overrides: []engine.Override{testOverride("o1", "*", engine.OverrideWorkflow, "wf_gone", 0, nil)},
			outcome:   engine.OutcomeLegacy, source: engine.SourceFallback, reason: "fallback_legacy",
			trace: []string{"override:o1:warning:workflow_missing", "fallback::matched:fallback_legacy"},
		},
		{
			name:      "pin to a workflow of another trigger is skipped with a warning",
			trigger:   engine.TriggerRejected,
			overrides: []engine.Override{testOverride("o1", "quote.rejected", engine.OverrideWorkflow, "wf_sent", 0, nil)},
			outcome:   engine.OutcomeNone, source: engine.SourceFallback, reason: "fallback_none_by_design",
			trace: []string{"override:o1:warning:wrong_trigger", "fallback::matched:fallback_none_by_design"},
		},
		{
			name:      "expired override is listed and skipped",
			trigger:   engine.TriggerSent,
			rules:     []engine.Rule{testRule("r1", "quote.sent", 1, true, condWeb, "wf_sent", 0)},
			overrides: []engine.Override{testOverride("o1", "quote.sent", engine.OverrideSuppress, "", 0, expired())},
			outcome:   engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r1", workflow: "wf_sent",
			trace: []string{"override:o1:skipped:expired", "rule:r1:matched:rule_matched"},
		},
		{
			name:    "exact override before the one for every trigger",
			trigger: engine.TriggerSent,
			overrides: []engine.Override{
				testOverride("o_all", "*", engine.OverrideSuppress, "", 5, nil),
				testOverride("o_sent", "quote.sent", engine.OverrideWorkflow, "wf_sent_b", 0, nil),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceOverride, reason: "override_workflow", override: "o_sent", workflow: "wf_sent_b",
			trace: []string{"override:o_sent:matched:override_workflow"},
		},
		{
			name:    "override for every trigger when the exact one is skipped",
			trigger: engine.TriggerSent,
			overrides: []engine.Override{
				testOverride("o_all", "*", engine.OverrideSuppress, "", 5, nil),
				testOverride("o_sent", "quote.sent", engine.OverrideWorkflow, "wf_sent_off", 0, nil),
			},
			outcome: engine.OutcomeSuppressed, source: engine.SourceOverride, reason: "override_suppress", override: "o_all",
			trace: []string{"override:o_sent:warning:workflow_disabled", "override:o_all:matched:override_suppress"},
		},
		{
			name:    "override for every trigger when the exact one expired",
			trigger: engine.TriggerAccepted,
			overrides: []engine.Override{
				testOverride("o_all", "*", engine.OverrideWorkflow, "wf_accepted", 5, nil),
				testOverride("o_acc", "quote.accepted", engine.OverrideSuppress, "", 0, expired()),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceOverride, reason: "override_workflow", override: "o_all", workflow: "wf_accepted",
			trace: []string{"override:o_acc:skipped:expired", "override:o_all:matched:override_workflow"},
		},
		{
			name:    "newest of two exact overrides first",
			trigger: engine.TriggerSent,
			overrides: []engine.Override{
				testOverride("o_old", "quote.sent", engine.OverrideWorkflow, "wf_sent", 0, nil),
				testOverride("o_new", "quote.sent", engine.OverrideSuppress, "", 3, nil),
			},
			outcome: engine.OutcomeSuppressed, source: engine.SourceOverride, reason: "override_suppress", override: "o_new",
			trace: []string{"override:o_new:matched:override_suppress"},
		},
		{
			name:      "override for another trigger is ignored",
			trigger:   engine.TriggerSent,
			overrides: []engine.Override{testOverride("o1", "quote.accepted", engine.OverrideSuppress, "", 0, nil)},
			outcome:   engine.OutcomeLegacy, source: engine.SourceFallback, reason: "fallback_legacy",
			trace: []string{"fallback::matched:fallback_legacy"},
		},
		{
			name:      "override with an unknown action is skipped with a warning",
			trigger:   engine.TriggerSent,
			overrides: []engine.Override{testOverride("o1", "quote.sent", engine.OverrideAction("mute"), "", 0, nil)},
			outcome:   engine.OutcomeLegacy, source: engine.SourceFallback, reason: "fallback_legacy",
			trace: []string{"override:o1:warning:invalid_action", "fallback::matched:fallback_legacy"},
		},
		{
			name:    "rules by ascending priority",
			trigger: engine.TriggerSent,
			rules: []engine.Rule{
				testRule("r_late", "quote.sent", 5, true, condWeb, "wf_sent", 0),
				testRule("r_early", "quote.sent", 1, true, condWeb, "wf_sent_b", 9),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r_early", workflow: "wf_sent_b",
			trace: []string{"rule:r_early:matched:rule_matched"},
		},
		{
			name:    "priority ties go to the oldest rule",
			trigger: engine.TriggerSent,
			rules: []engine.Rule{
				testRule("r_a", "quote.sent", 5, true, condWeb, "wf_sent", 2),
				testRule("r_b", "quote.sent", 5, true, condWeb, "wf_sent_b", 1),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r_b", workflow: "wf_sent_b",
			trace: []string{"rule:r_b:matched:rule_matched"},
		},
		{
			name:    "ties of priority and age go by id",
			trigger: engine.TriggerSent,
			rules: []engine.Rule{
				testRule("r_2", "quote.sent", 5, true, condWeb, "wf_sent", 1),
				testRule("r_1", "quote.sent", 5, true, condWeb, "wf_sent_b", 1),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r_1", workflow: "wf_sent_b",
			trace: []string{"rule:r_1:matched:rule_matched"},
		},
		{
			name:    "skipped and failed rules are listed in order; first match wins",
			trigger: engine.TriggerSent,
			rules: []engine.Rule{
				testRule("r_off", "quote.sent", 1, false, condWeb, "wf_sent", 0),
				testRule("r_other", "quote.accepted", 2, true, condWeb, "wf_accepted", 0),
				testRule("r_wf_off", "quote.sent", 3, true, condWeb, "wf_sent_off", 0),
				testRule("r_wf_gone", "quote.sent", 4, true, condWeb, "wf_gone", 0),
				testRule("r_wf_wrong", "*", 5, true, condWeb, "wf_viewed", 0),
				testRule("r_false", "quote.sent", 6, true, condPhone, "wf_sent", 0),
				testRule("r_win", "*", 7, true, condWeb, "wf_sent_b", 0),
				testRule("r_after", "quote.sent", 8, true, condWeb, "wf_sent", 0),
			},
			outcome: engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r_win", workflow: "wf_sent_b",
			trace: []string{
				"rule:r_off:skipped:disabled",
				"rule:r_other:skipped:wrong_trigger",
				"rule:r_wf_off:skipped:workflow_disabled",
				"rule:r_wf_gone:skipped:workflow_missing",
				"rule:r_wf_wrong:skipped:wrong_trigger",
				"rule:r_false:failed:condition_false",
				"rule:r_win:matched:rule_matched",
			},
		},
		{
			name:    "unknown fields fail the rule and are reported once",
			trigger: engine.TriggerSent,
			rules: []engine.Rule{
				testRule("r_tz", "quote.sent", 1, true, condTZ, "wf_sent", 0),
				testRule("r_tz2", "quote.sent", 2, true, condTZ, "wf_sent", 0),
				testRule("r_amount", "quote.sent", 3, true, condAmount, "wf_sent", 0),
			},
			ctx:     func(c *engine.Context) { c.Quote = nil },
			outcome: engine.OutcomeLegacy, source: engine.SourceFallback, reason: "fallback_legacy",
			missing: []string{"lead.timezone", "quote.amount"},
			trace: []string{
				"rule:r_tz:failed:condition_unknown",
				"rule:r_tz2:failed:condition_unknown",
				"rule:r_amount:failed:condition_unknown",
				"fallback::matched:fallback_legacy",
			},
		},
		{
			name:    "a catch-all rule matches every lead",
			trigger: engine.TriggerRejected,
			rules:   []engine.Rule{testRule("r_all", "*", 1, true, condAnyLead, "wf_rejected", 0)},
			ctx:     func(c *engine.Context) { *c = engine.Context{} },
			outcome: engine.OutcomeWorkflow, source: engine.SourceRule, reason: "rule_matched", rule: "r_all", workflow: "wf_rejected",
			trace: []string{"rule:r_all:matched:rule_matched"},
		},
		{
			name:    "rule to a disabled workflow never suppresses",
			trigger: engine.TriggerExpired,
			rules:   []engine.Rule{testRule("r1", "quote.expired", 1, true, condAnyLead, "wf_expired_off", 0)},
			legacy:  engine.LegacySettings{},
			outcome: engine.OutcomeNone, source: engine.SourceFallback, reason: "fallback_legacy_disabled",
			trace: []string{"rule:r1:skipped:workflow_disabled", "fallback::matched:fallback_legacy_disabled"},
		},
	}
}

func TestResolveEngineOrder(t *testing.T) {
	t.Parallel()
	for _, tt := range resolveOrderCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := NewRuleSet(tt.rules, standardWorkflows())
			if err != nil {
				t.Fatal(err)
			}
			ctx := fullCtx()
			if tt.ctx != nil {
				tt.ctx(ctx)
			}
			legacy := tt.legacy
			if legacy == nil {
				legacy = legacyAllOn
			}
			in := ResolveInput{Mode: engine.ModeEngine, Trigger: tt.trigger, Context: ctx, Overrides: tt.overrides, Legacy: legacy, Now: nowTest}
			d := rs.Resolve(in)
			d.Render()
			wantMissing := tt.missing
			if wantMissing == nil {
				wantMissing = []string{}
			}
			var version int64
			if tt.workflow != "" {
				version = 3
			}
			got := []any{d.Outcome, d.Source, d.Reason, d.WorkflowID, d.WorkflowVersion, d.RuleID, d.OverrideID, d.MissingFields, traceSummary(d.Trace)}
			want := []any{tt.outcome, tt.source, tt.reason, tt.workflow, version, tt.rule, tt.override, wantMissing, tt.trace}
			names := []string{"Outcome", "Source", "Reason", "WorkflowID", "WorkflowVersion", "RuleID", "OverrideID", "MissingFields", "Trace"}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("engine %s = %#v, want %#v", names[i], got[i], want[i])
				}
			}
			for _, e := range d.Trace {
				if e.Detail == "" {
					t.Errorf("trace entry %s:%s has no detail after Render", e.Kind, e.ID)
				}
			}

			// Legacy mode ignores all of it; shadow mode acts as legacy and
			// records the engine's decision beside it.
			in.Mode = engine.ModeLegacy
			ld := rs.Resolve(in)
			wantLegacy := legacyDecision(tt.trigger, legacy)
			if ld.Outcome != wantLegacy.Outcome || ld.Reason != wantLegacy.Reason || ld.Source != engine.SourceMode || len(ld.Trace) != 1 || ld.Shadow != nil {
				t.Errorf("legacy mode = %+v, want %s/%s from one mode entry", ld, wantLegacy.Outcome, wantLegacy.Reason)
			}
			in.Mode = engine.ModeShadow
			sd := rs.Resolve(in)
			if sd.Shadow == nil {
				t.Fatal("shadow mode has no engine decision")
			}
			shadow := sd.Shadow
			sd.Shadow = nil
			if mustMarshal(t, sd) != mustMarshal(t, ld) {
				t.Errorf("shadow mode acted on %s, want the legacy decision %s", mustMarshal(t, sd), mustMarshal(t, ld))
			}
			if mustMarshal(t, shadow) != mustMarshal(t, d) {
				t.Errorf("shadow decision %s, want the engine decision %s", mustMarshal(t, shadow), mustMarshal(t, d))
			}
		})
	}
}

func TestResolveFallbackTable(t *testing.T) {
	t.Parallel()
	on := engine.LegacySetting{Enabled: true, Channels: []string{"email"}}
	tests := []struct {
		trigger engine.Trigger
		legacy  engine.LegacySettings
		engine  string // outcome/reason when nothing matches
		mode    string // outcome/reason in legacy mode
	}{
		{engine.TriggerSent, engine.LegacySettings{engine.TriggerSent: on}, "legacy/fallback_legacy", "legacy/mode_legacy"},
		{engine.TriggerSent, engine.LegacySettings{engine.TriggerSent: {Enabled: false, Channels: []string{"email"}}}, "none/fallback_legacy_disabled", "none/mode_legacy_disabled"},
		{engine.TriggerSent, engine.LegacySettings{engine.TriggerSent: {Enabled: true}}, "none/fallback_legacy_disabled", "none/mode_legacy_disabled"},
		{engine.TriggerSent, nil, "none/fallback_legacy_disabled", "none/mode_legacy_disabled"},
		{engine.TriggerAccepted, engine.LegacySettings{engine.TriggerAccepted: on}, "legacy/fallback_legacy", "legacy/mode_legacy"},
		{engine.TriggerAccepted, engine.LegacySettings{engine.TriggerSent: on}, "none/fallback_legacy_disabled", "none/mode_legacy_disabled"},
		{engine.TriggerExpired, engine.LegacySettings{engine.TriggerExpired: on}, "legacy/fallback_legacy", "legacy/mode_legacy"},
		{engine.TriggerExpired, engine.LegacySettings{}, "none/fallback_legacy_disabled", "none/mode_legacy_disabled"},
		{engine.TriggerViewed, engine.LegacySettings{engine.TriggerViewed: on}, "none/fallback_internal_signal", "none/mode_legacy_unsupported_trigger"},
		{engine.TriggerViewed, nil, "none/fallback_internal_signal", "none/mode_legacy_unsupported_trigger"},
		{engine.TriggerRejected, engine.LegacySettings{engine.TriggerRejected: on}, "none/fallback_none_by_design", "none/mode_legacy_unsupported_trigger"},
		{engine.TriggerRejected, nil, "none/fallback_none_by_design", "none/mode_legacy_unsupported_trigger"},
	}
	rs, err := NewRuleSet(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		in := ResolveInput{Mode: engine.ModeEngine, Trigger: tt.trigger, Context: fullCtx(), Legacy: tt.legacy, Now: nowTest}
		d := rs.Resolve(in)
		if got := string(d.Outcome) + "/" + d.Reason; got != tt.engine || d.Source != engine.SourceFallback {
			t.Errorf("%s %v engine: %s from %s, want %s from fallback", tt.trigger, tt.legacy, got, d.Source, tt.engine)
		}
		if len(d.Trace) != 1 || d.Trace[0].Kind != engine.TraceKindFallback || d.Trace[0].Reason != d.Reason || d.Trace[0].Detail == "" {
			t.Errorf("%s engine trace = %+v, want one explained fallback entry", tt.trigger, d.Trace)
		}
		for _, mode := range []engine.Mode{engine.ModeLegacy, engine.ModeShadow} {
			in.Mode = mode
			d := rs.Resolve(in)
			if got := string(d.Outcome) + "/" + d.Reason; got != tt.mode || d.Source != engine.SourceMode {
				t.Errorf("%s %v %s mode: %s from %s, want %s from mode", tt.trigger, tt.legacy, mode, got, d.Source, tt.mode)
			}
			if len(d.Trace) != 1 || d.Trace[0].Kind != engine.TraceKindMode || d.Trace[0].Reason != d.Reason {
				t.Errorf("%s %s mode trace = %+v, want one mode entry", tt.trigger, mode, d.Trace)
			}
			if (mode == engine.ModeShadow) != (d.Shadow != nil) {
				t.Errorf("%s %s mode: Shadow = %v", tt.trigger, mode, d.Shadow)
			}
			if d.Shadow != nil && string(d.Shadow.Outcome)+"/"+d.Shadow.Reason != tt.engine {
				t.Errorf("%s shadow engine decision %s/%s, want %s", tt.trigger, d.Shadow.Outcome, d.Shadow.Reason, tt.engine)
			}
		}
	}
}

func TestResolveUnknownModeIsEngine(t *testing.T) {
	t.Parallel()
	rs, err := NewRuleSet([]engine.Rule{testRule("r1", "*", 1, true, condAnyLead, "wf_sent", 0)}, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []engine.Mode{"", "bogus", engine.ModeEngine} {
		d := rs.Resolve(ResolveInput{Mode: m, Trigger: engine.TriggerSent, Now: nowTest})
		if d.Reason != engine.ReasonRuleMatched {
			t.Errorf("mode %q: reason %s, want rule_matched", m, d.Reason)
		}
	}
}

func TestResolveUnknownTrigger(t *testing.T) {
	t.Parallel()
	var rs *RuleSet // a nil rule set resolves as one without rules
	for _, m := range []engine.Mode{engine.ModeEngine, engine.ModeLegacy, engine.ModeShadow} {
		d := rs.Resolve(ResolveInput{Mode: m, Trigger: "quote.lost", Legacy: legacyAllOn})
		if d.Outcome != engine.OutcomeNone || d.Reason != engine.ReasonUnknownTrigger || len(d.Trace) != 1 || d.MissingFields == nil {
			t.Errorf("mode %s: %+v, want none/unknown_trigger with one trace entry", m, d)
		}
	}
	d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Legacy: legacyAllOn})
	if d.Reason != engine.ReasonFallbackLegacy {
		t.Errorf("nil rule set: reason %s, want fallback_legacy", d.Reason)
	}
}

// TestDecisionJSON checks the stored shape of a decision: empty lists are
// [], failed conditions carry their explanation, and a decision read back
// from JSON marshals to the same bytes.
func TestDecisionJSON(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_false", "quote.sent", 1, true, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"any":[{"field":"lead.tags","op":"contains","value":"gold"},{"field":"quote.amount","op":"gt","value":5000}]}]}`, "wf_sent", 0),
		testRule("r_unknown", "quote.sent", 2, true, condTZ, "wf_sent", 0),
		testRule("r_custom", "quote.sent", 3, true, `{"field":"lead.custom.roof_type","op":"gte","value":3}`, "wf_sent", 0),
		testRule("r_off", "quote.sent", 4, false, condWeb, "wf_sent", 0),
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	ctx := fullCtx()
	d := rs.Resolve(ResolveInput{Mode: engine.ModeShadow, Trigger: engine.TriggerSent, Context: ctx, Legacy: engine.LegacySettings{}, Now: nowTest})

	// What the trace says must not depend on the context after resolution.
	ctx.Lead.Tags = []string{"changed"}
	ctx.Lead.Custom = map[string]any{"roof_type": "changed"}
	ctx.Lead = &engine.Lead{}
	first := mustMarshal(t, d)

	var generic map[string]any
	if err := json.Unmarshal([]byte(first), &generic); err != nil {
		t.Fatal(err)
	}
	if ms, ok := generic["missing_fields"].([]any); !ok || len(ms) != 0 {
		t.Errorf("missing_fields = %#v, want []", generic["missing_fields"])
	}
	shadow := generic["shadow"].(map[string]any)
	trace := shadow["trace"].([]any)
	want := []map[string]any{
		{"kind": "rule", "id": "r_false", "result": "failed", "reason": "condition_false", "path": "all[1].any[0]",
			"field": "lead.tags", "op": "contains", "expected": "gold", "actual": []any{"roofing", "vip"},
			"detail": `condition false at all[1].any[0]: lead.tags contains "gold", actual ["roofing","vip"]`},
		{"kind": "rule", "id": "r_unknown", "result": "failed", "reason": "condition_unknown", "path": "all[0]",
			"field": "lead.timezone", "op": "eq", "expected": "Europe/Lisbon",
			"detail": `condition unknown at all[0]: lead.timezone eq "Europe/Lisbon", but the field is missing`},
		{"kind": "rule", "id": "r_custom", "result": "failed", "reason": "condition_false",
			"field": "lead.custom.roof_type", "op": "gte", "expected": 3.0, "actual": "tile",
			"detail": `condition false: lead.custom.roof_type gte 3, but the lead holds "tile", a string that gte cannot compare with that value`},
		{"kind": "rule", "id": "r_off", "result": "skipped", "reason": "disabled", "detail": "rule is disabled"},
		{"kind": "fallback", "result": "matched", "reason": "fallback_legacy_disabled",
			"detail": "no override or rule matched; quote.sent falls back to the legacy settings, which send nothing for it"},
	}
	if len(trace) != len(want) {
		t.Fatalf("shadow trace has %d entries, want %d: %s", len(trace), len(want), first)
	}
	for i := range want {
		if !reflect.DeepEqual(trace[i], any(want[i])) {
			t.Errorf("trace[%d] = %#v\nwant %#v", i, trace[i], want[i])
		}
	}
	if got := shadow["missing_fields"]; !reflect.DeepEqual(got, []any{"lead.timezone"}) {
		t.Errorf("shadow missing_fields = %#v", got)
	}

	var back engine.Decision
	if err := json.Unmarshal([]byte(first), &back); err != nil {
		t.Fatal(err)
	}
	if again := mustMarshal(t, back); again != first {
		t.Errorf("round trip changed the decision:\n%s\n%s", first, again)
	}

	d.Render()
	e := d.Shadow.Trace[0]
	if e.Detail == "" || !reflect.DeepEqual(e.Actual, []string{"roofing", "vip"}) {
		t.Errorf("after Render: Detail %q, Actual %#v", e.Detail, e.Actual)
	}
}

func TestNewRuleSetRejectsCorruptCondition(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_ok", "quote.sent", 1, true, condWeb, "wf_sent", 0),
		testRule("r_bad", "quote.sent", 2, false, `{"field":"lead.nope","op":"eq","value":1}`, "wf_sent", 0),
	}
	_, err := NewRuleSet(rules, standardWorkflows())
	if engine.ErrorCode(err) != engine.EINTERNAL || !strings.Contains(err.Error(), "r_bad") {
		t.Fatalf("err = %v, want an EINTERNAL error naming r_bad", err)
	}
}

func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_tz", "quote.sent", 1, true, condTZ, "wf_sent", 0),
		testRule("r_web", "quote.sent", 2, true, condWeb, "wf_sent", 0),
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := fullCtx()
			if g%2 == 1 {
				ctx.Lead.Source = "phone"
			}
			for i := 0; i < 200; i++ {
				d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest})
				want := engine.ReasonRuleMatched
				if g%2 == 1 {
					want = engine.ReasonFallbackLegacy
				}
				if d.Reason != want {
					errs <- fmt.Sprintf("goroutine %d: reason %s, want %s", g, d.Reason, want)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestResolveReusesNothingBetweenLeads guards the per-resolution caches
// (shared leaf results, custom-field lookups): a resolution must see its
// own lead, never the previous one's.
func TestResolveReusesNothingBetweenLeads(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_tile", "quote.sent", 1, true, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.custom.roof_type","op":"eq","value":"tile"}]}`, "wf_sent", 0),
		testRule("r_web", "quote.sent", 2, true, `{"all":[{"field":"lead.source","op":"eq","value":"web"}]}`, "wf_sent_b", 0),
		testRule("r_any", "quote.sent", 3, true, `{"any":[{"field":"lead.custom.roof_type","op":"exists"}]}`, "wf_sent", 0),
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	leads := []struct {
		source string
		custom map[string]any
		want   string
	}{
		{"web", map[string]any{"roof_type": "tile"}, "r_tile"},
		{"web", map[string]any{"roof_type": "slate"}, "r_web"},
		{"phone", map[string]any{"roof_type": "slate"}, "r_any"},
		{"phone", nil, ""},
		{"web", map[string]any{"roof_type": "tile"}, "r_tile"},
	}
	for round := 0; round < 3; round++ {
		for i, l := range leads {
			ctx := fullCtx()
			ctx.Lead.Source, ctx.Lead.Custom = l.source, l.custom
			d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest})
			if d.RuleID != l.want {
				t.Errorf("round %d lead %d: rule %q, want %q", round, i, d.RuleID, l.want)
			}
		}
	}
}

// TestResolveTraceIsExact checks that a trace is written out at its exact
// size, by Resolve (a short one) or Render (a lazy one): an early match in
// a large rule set must not cost a trace the size of the rule set.
func TestResolveTraceIsExact(t *testing.T) {
	t.Parallel()
	var rules []engine.Rule
	for i := 0; i < 50; i++ {
		cond := condPhone
		if i == 2 {
			cond = condWeb
		}
		rules = append(rules, testRule(fmt.Sprintf("r%02d", i), "quote.sent", i, true, cond, "wf_sent", 0))
	}
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		source string
		len    int
	}{{"web", 3}, {"email", 51}} {
		ctx := fullCtx()
		ctx.Lead.Source = tt.source
		d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Legacy: legacyAllOn, Now: nowTest})
		d.Render()
		if len(d.Trace) != tt.len || cap(d.Trace) != tt.len {
			t.Errorf("source %s: trace len %d cap %d, want %d", tt.source, len(d.Trace), cap(d.Trace), tt.len)
		}
	}
}

// TestResolveManyCustomKeys covers rule sets with more custom keys than
// the per-resolution cache holds.
func TestResolveManyCustomKeys(t *testing.T) {
	t.Parallel()
	// More than condition's customSlots (16), the custom values an Env
	// holds in itself.
	const keys = 16 + 4
	var rules []engine.Rule
	custom := map[string]any{}
	for i := 0; i < keys; i++ {
		custom[fmt.Sprintf("k%d", i)] = float64(i)
		rules = append(rules, testRule(fmt.Sprintf("r%02d", i), "quote.sent", i, true,
			fmt.Sprintf(`{"field":"lead.custom.k%d","op":"eq","value":%d}`, i, i+100), "wf_sent", 0))
	}
	last := keys - 1
	rules = append(rules, testRule("r_last", "quote.sent", keys, true,
		fmt.Sprintf(`{"all":[{"field":"lead.custom.k%d","op":"eq","value":%d},{"field":"lead.custom.k0","op":"eq","value":0}]}`, last, last), "wf_sent", 0))
	rs, err := NewRuleSet(rules, standardWorkflows())
	if err != nil {
		t.Fatal(err)
	}
	ctx := fullCtx()
	ctx.Lead.Custom = custom
	d := rs.Resolve(ResolveInput{Mode: engine.ModeEngine, Trigger: engine.TriggerSent, Context: ctx, Now: nowTest})
	if d.RuleID != "r_last" {
		t.Fatalf("rule %q, want r_last", d.RuleID)
	}
	d.Render()
	if e := d.Trace[last]; e.Actual != float64(last) || e.Expected != float64(last+100) {
		t.Errorf("trace[%d] expected %v actual %v", last, e.Expected, e.Actual)
	}

	// The same beyond the cache in a single condition.
	var leaves []string
	for i := 0; i < keys; i++ {
		leaves = append(leaves, fmt.Sprintf(`{"field":"lead.custom.k%d","op":"lt","value":%d}`, i, i+1))
	}
	c := mustParse(t, `{"all":[`+strings.Join(leaves, ",")+`]}`)
	if !c.Eval(ctx).Matched() {
		t.Errorf("condition over %d custom keys does not match", keys)
	}
}

// fullCtx is a context in which every catalogue field but lead.timezone is
// present, with custom fields of every JSON type.
func fullCtx() *engine.Context { return enginetest.FullContext() }

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func mustParse(t testing.TB, src string) *condition.Condition {
	t.Helper()
	c, err := condition.Parse(json.RawMessage(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	return c
}

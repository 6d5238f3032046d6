package resolver

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func warningSummary(ws []CoverageWarning) []string {
	out := []string{}
	for _, w := range ws {
		id := w.RuleID
		if w.OverrideID != "" {
			id = w.OverrideID
		}
		out = append(out, w.Code+":"+id)
		if w.Message == "" {
			out = append(out, "(no message)")
		}
	}
	return out
}

func TestCheckCoverage(t *testing.T) {
	t.Parallel()
	rules := []engine.Rule{
		testRule("r_sent", "quote.sent", 1, true, condWeb, "wf_sent", 0),
		testRule("r_star", "*", 2, true, condWeb, "wf_viewed", 0),
		testRule("r_acc_off_wf", "quote.accepted", 3, true, condWeb, "wf_accepted_off", 0),
		testRule("r_rej_gone", "quote.rejected", 4, true, condWeb, "wf_gone", 0),
		testRule("r_disabled", "quote.rejected", 5, false, condWeb, "wf_gone", 0),
		testRule("r_exp_all", "quote.expired", 6, true, condAnyLead, "wf_expired", 0),
		testRule("r_exp_later", "quote.expired", 7, true, condWeb, "wf_expired", 0),
		testRule("r_bad", "quote.sent", 8, true, `{"all":[{"field":"lead.nope","op":"exists"}]}`, "wf_sent", 0),
	}
	workflows := append(standardWorkflows(), testWorkflow("wf_accepted_off", engine.TriggerAccepted, false))
	overrides := []engine.Override{
		testOverride("o_sent_wrong", "quote.sent", engine.OverrideWorkflow, "wf_viewed", 0, nil),
		testOverride("o_all_off", "*", engine.OverrideWorkflow, "wf_sent_off", 0, nil),
		testOverride("o_expired", "quote.sent", engine.OverrideWorkflow, "wf_gone", 0, expired()),
		testOverride("o_suppress", "*", engine.OverrideSuppress, "", 0, nil),
		testOverride("o_gone", "quote.accepted", engine.OverrideWorkflow, "wf_gone", 0, later()),
		testOverride("o_ok", "quote.accepted", engine.OverrideWorkflow, "wf_accepted", 0, nil),
	}
	legacy := engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"email"}}}

	type want struct {
		enabled, engine bool
		rules           []string
		catchAll        string
		fallback        string
		legacy          string
		warnings        []string
	}
	wants := map[engine.Trigger]want{
		engine.TriggerSent: {
			enabled: true, engine: true, rules: []string{"r_sent"},
			fallback: "legacy/fallback_legacy", legacy: "legacy/mode_legacy",
			warnings: []string{
				"rule_workflow_wrong_trigger:r_star",
				"rule_invalid_condition:r_bad",
				"override_workflow_wrong_trigger:o_sent_wrong",
				"override_workflow_disabled:o_all_off",
			},
		},
		engine.TriggerViewed: {
			enabled: true, engine: true, rules: []string{"r_star"},
			fallback: "none/fallback_internal_signal", legacy: "none/mode_legacy_unsupported_trigger",
			warnings: []string{"override_workflow_disabled:o_all_off"},
		},
		engine.TriggerAccepted: {
			enabled: false, engine: false, rules: []string{},
			fallback: "none/fallback_legacy_disabled", legacy: "none/mode_legacy_disabled",
			warnings: []string{
				"rule_workflow_wrong_trigger:r_star",
				"rule_workflow_disabled:r_acc_off_wf",
				"override_workflow_disabled:o_all_off",
				"override_workflow_missing:o_gone",
			},
		},
		engine.TriggerRejected: {
			enabled: false, engine: false, rules: []string{},
			fallback: "none/fallback_none_by_design", legacy: "none/mode_legacy_unsupported_trigger",
			warnings: []string{
				"rule_workflow_wrong_trigger:r_star",
				"rule_workflow_missing:r_rej_gone",
				"override_workflow_disabled:o_all_off",
			},
		},
		engine.TriggerExpired: {
			enabled: true, engine: true, rules: []string{"r_exp_all"}, catchAll: "r_exp_all",
			fallback: "none/fallback_legacy_disabled", legacy: "none/mode_legacy_disabled",
			warnings: []string{
				"rule_workflow_wrong_trigger:r_star",
				"rule_shadowed:r_exp_later",
				"override_workflow_disabled:o_all_off",
			},
		},
	}

	rep := CheckCoverage(engine.ModeEngine, rules, workflows, overrides, legacy, nowTest)
	if rep.Mode != engine.ModeEngine || len(rep.Triggers) != len(engine.Triggers) {
		t.Fatalf("report mode %s with %d triggers", rep.Mode, len(rep.Triggers))
	}
	for i, tc := range rep.Triggers {
		if tc.Trigger != engine.Triggers[i] {
			t.Errorf("triggers[%d] = %s, want %s", i, tc.Trigger, engine.Triggers[i])
			continue
		}
		w := wants[tc.Trigger]
		got := []any{tc.EnabledPath, tc.EnginePath, tc.Rules, tc.CatchAllRuleID,
			string(tc.Fallback.Outcome) + "/" + tc.Fallback.Reason, string(tc.Legacy.Outcome) + "/" + tc.Legacy.Reason,
			warningSummary(tc.Warnings)}
		exp := []any{w.enabled, w.engine, w.rules, w.catchAll, w.fallback, w.legacy, w.warnings}
		names := []string{"EnabledPath", "EnginePath", "Rules", "CatchAllRuleID", "Fallback", "Legacy", "Warnings"}
		for j := range got {
			if !reflect.DeepEqual(got[j], exp[j]) {
				t.Errorf("%s %s = %#v, want %#v", tc.Trigger, names[j], got[j], exp[j])
			}
		}
	}

	// In legacy and shadow mode the legacy settings alone decide whether
	// anything is sent; the engine's path is still reported.
	for _, mode := range []engine.Mode{engine.ModeLegacy, engine.ModeShadow} {
		rep := CheckCoverage(mode, rules, workflows, overrides, legacy, nowTest)
		for _, tc := range rep.Triggers {
			if tc.EnabledPath != (tc.Trigger == engine.TriggerSent) {
				t.Errorf("%s mode %s: enabled_path %v", mode, tc.Trigger, tc.EnabledPath)
			}
			if tc.EnginePath != wants[tc.Trigger].engine {
				t.Errorf("%s mode %s: engine_path %v", mode, tc.Trigger, tc.EnginePath)
			}
		}
	}
}

func TestCoverageJSONShape(t *testing.T) {
	t.Parallel()
	rep := CheckCoverage(engine.ModeEngine, nil, nil, nil, nil, nowTest)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, frag := range []string{
		`"mode":"engine"`,
		`{"trigger":"quote.sent","enabled_path":false,"engine_path":false,"rules":[],"fallback":{"outcome":"none","reason":"fallback_legacy_disabled"},"legacy":{"outcome":"none","reason":"mode_legacy_disabled"},"warnings":[]}`,
	} {
		if !strings.Contains(s, frag) {
			t.Errorf("coverage JSON %s lacks %s", s, frag)
		}
	}
	if strings.Contains(s, "null") {
		t.Errorf("coverage JSON has a null: %s", s)
	}
}

package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
)

// world is one tenant configured over HTTP: a lead, a quote and workflows
// for the triggers the policy cases need.
type world struct {
	e                                   *env
	key                                 string
	lead, quote                         string
	wfSent, wfRejected, wfAccOff, wfAcc string
}

func newWorld(t *testing.T, e *env, mode string) *world {
	t.Helper()
	w := &world{e: e}
	w.key = e.tenant("Acme Roofing", map[string]any{"mode": mode})
	e.must(200, "PUT", "/v1/legacy/settings", w.key, map[string]any{
		"quote.sent":     map[string]any{"enabled": true, "channels": []string{"email"}, "email": map[string]any{"subject": "Your quote {{ quote.number }}", "text": "{{ quote.url }}"}},
		"quote.accepted": map[string]any{"enabled": true, "channels": []string{"email"}, "email": map[string]any{"subject": "Thanks", "text": "Thanks {{ lead.first_name }}"}},
		"quote.expired":  map[string]any{"enabled": false, "channels": []string{}},
	})
	w.lead = str(e.must(201, "POST", "/v1/leads", w.key, map[string]any{
		"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com", "phone": "+351912345678",
		"country": "PT", "source": "web", "tags": []string{"roofing"}, "custom": map[string]any{"roof_type": "tile"},
	})["id"])
	w.quote = str(e.must(201, "POST", "/v1/quotes", w.key, map[string]any{
		"lead_id": w.lead, "number": "Q-1001", "amount": 1250.0, "currency": "EUR", "valid_until": "2026-12-31T23:59:59Z",
	})["id"])
	wf := func(name, trigger string, enabled bool) string {
		return str(e.must(201, "POST", "/v1/workflows", w.key, map[string]any{
			"name": name, "trigger": trigger, "enabled": enabled, "exit_on": []string{"accepted"},
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "About {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}}},
		})["id"])
	}
	w.wfSent = wf("Sent follow-up", "quote.sent", true)
	w.wfRejected = wf("Rejected follow-up", "quote.rejected", true)
	w.wfAccOff = wf("Accepted (off)", "quote.accepted", false)
	w.wfAcc = wf("Accepted thanks", "quote.accepted", true)
	return w
}

func (w *world) rule(name, trigger, workflow string, enabled bool, cond string) string {
	w.e.t.Helper()
	return str(w.e.must(201, "POST", "/v1/assignment-rules", w.key, fmt.Sprintf(
		`{"name":%q,"trigger":%q,"enabled":%t,"workflow_id":%q,"condition":%s}`, name, trigger, enabled, workflow, cond))["id"])
}

func (w *world) override(body map[string]any) string {
	w.e.t.Helper()
	return str(w.e.must(201, "POST", "/v1/leads/"+w.lead+"/overrides", w.key, body)["id"])
}

func (w *world) resolve(trigger string) map[string]any {
	w.e.t.Helper()
	q := url.Values{"trigger": {trigger}, "quote_id": {w.quote}}
	return w.e.must(200, "GET", "/v1/leads/"+w.lead+"/resolution?"+q.Encode(), w.key, nil)
}

// traceResults lists "kind:id:result:reason" for each trace entry, with
// ids replaced by the names given.
func traceResults(d map[string]any, names map[string]string) []string {
	var out []string
	tr, _ := d["trace"].([]any)
	for _, x := range tr {
		m := x.(map[string]any)
		id := str(m["id"])
		if n, ok := names[id]; ok {
			id = n
		}
		out = append(out, fmt.Sprintf("%s:%s:%s:%s", m["kind"], id, m["result"], m["reason"]))
	}
	return out
}

func TestResolutionFollowsThePolicy(t *testing.T) {
	const web = `{"all":[{"field":"lead.source","op":"eq","value":"web"}]}`
	type want struct {
		outcome, source, reason, workflow string
		trace                             []string
		missing                           []string
	}
	cases := []struct {
		name    string
		mode    string
		trigger string
		setup   func(w *world) map[string]string // returns names for ids in the trace
		want    want
	}{
		{"matching enabled rule", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{w.rule("web", "quote.sent", w.wfSent, true, web): "web"}
			},
			want{outcome: "workflow", source: "rule", reason: "rule_matched", workflow: "sent",
				trace: []string{"rule:web:matched:rule_matched"}}},
		{"no rule: quote.sent falls back to legacy", "engine", "quote.sent",
			func(w *world) map[string]string { return nil },
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy", trace: []string{"fallback::matched:fallback_legacy"}}},
		{"no rule: quote.viewed sends nothing", "engine", "quote.viewed",
			func(w *world) map[string]string { return nil },
			want{outcome: "none", source: "fallback", reason: "fallback_internal_signal"}},
		{"no rule: quote.accepted falls back to legacy", "engine", "quote.accepted",
			func(w *world) map[string]string { return nil },
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy"}},
		{"no rule: quote.rejected sends nothing by design", "engine", "quote.rejected",
			func(w *world) map[string]string { return nil },
			want{outcome: "none", source: "fallback", reason: "fallback_none_by_design"}},
		{"no rule: quote.expired with legacy disabled sends nothing", "engine", "quote.expired",
			func(w *world) map[string]string { return nil },
			want{outcome: "none", source: "fallback", reason: "fallback_legacy_disabled"}},
		{"rule for quote.rejected", "engine", "quote.rejected",
			func(w *world) map[string]string {
				return map[string]string{w.rule("web", "quote.rejected", w.wfRejected, true, web): "web"}
			},
			want{outcome: "workflow", source: "rule", reason: "rule_matched", workflow: "rejected"}},
		{"disabled rule is skipped, never suppresses", "engine", "quote.rejected",
			func(w *world) map[string]string {
				return map[string]string{w.rule("off", "quote.rejected", w.wfRejected, false, web): "off"}
			},
			want{outcome: "none", source: "fallback", reason: "fallback_none_by_design",
				trace: []string{"rule:off:skipped:disabled", "fallback::matched:fallback_none_by_design"}}},
		{"rule whose workflow is disabled is skipped", "engine", "quote.accepted",
			func(w *world) map[string]string {
				return map[string]string{
					w.rule("to-off", "quote.accepted", w.wfAccOff, true, web): "to-off",
					w.rule("to-on", "quote.accepted", w.wfAcc, true, web):     "to-on",
				}
			},
			want{outcome: "workflow", source: "rule", reason: "rule_matched", workflow: "accepted",
				trace: []string{"rule:to-off:skipped:workflow_disabled", "rule:to-on:matched:rule_matched"}}},
		{"rule for another trigger is skipped", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{w.rule("rej", "quote.rejected", w.wfRejected, true, web): "rej"}
			},
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy"}},
		{"failed condition names the value; later rule matches", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{
					w.rule("fr", "quote.sent", w.wfSent, true, `{"all":[{"field":"lead.country","op":"eq","value":"FR"}]}`): "fr",
					w.rule("any", "*", w.wfSent, true, `{"all":[]}`):                                                        "any",
				}
			},
			want{outcome: "workflow", source: "rule", reason: "rule_matched", workflow: "sent",
				trace: []string{"rule:fr:failed:condition_false", "rule:any:matched:rule_matched"}}},
		{"missing field makes the rule unknown and is reported", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{w.rule("m", "quote.sent", w.wfSent, true, `{"all":[{"field":"lead.custom.budget","op":"gte","value":5}]}`): "m"}
			},
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy", missing: []string{"lead.custom.budget"},
				trace: []string{"rule:m:failed:condition_unknown", "fallback::matched:fallback_legacy"}}},
		{"override suppress wins over a matching rule", "engine", "quote.sent",
			func(w *world) map[string]string {
				w.rule("web", "quote.sent", w.wfSent, true, web)
				return map[string]string{w.override(map[string]any{"trigger": "*", "action": "suppress", "reason": "asked"}): "ov"}
			},
			want{outcome: "suppressed", source: "override", reason: "override_suppress", trace: []string{"override:ov:matched:override_suppress"}}},
		{"override pins a workflow", "engine", "quote.accepted",
			func(w *world) map[string]string {
				return map[string]string{w.override(map[string]any{"trigger": "quote.accepted", "action": "workflow", "workflow_id": w.wfAcc}): "ov"}
			},
			want{outcome: "workflow", source: "override", reason: "override_workflow", workflow: "accepted"}},
		{"override to a disabled workflow is skipped with a warning", "engine", "quote.accepted",
			func(w *world) map[string]string {
				return map[string]string{w.override(map[string]any{"trigger": "quote.accepted", "action": "workflow", "workflow_id": w.wfAccOff}): "ov"}
			},
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy",
				trace: []string{"override:ov:warning:workflow_disabled", "fallback::matched:fallback_legacy"}}},
		{"override to another trigger's workflow is skipped with a warning", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{w.override(map[string]any{"trigger": "*", "action": "workflow", "workflow_id": w.wfRejected}): "ov"}
			},
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy",
				trace: []string{"override:ov:warning:wrong_trigger", "fallback::matched:fallback_legacy"}}},
		{"expired override is ignored", "engine", "quote.sent",
			func(w *world) map[string]string {
				return map[string]string{w.override(map[string]any{"trigger": "*", "action": "suppress", "expires_at": "2020-01-01T00:00:00Z"}): "ov"}
			},
			want{outcome: "legacy", source: "fallback", reason: "fallback_legacy",
				trace: []string{"override:ov:skipped:expired", "fallback::matched:fallback_legacy"}}},
		{"legacy mode: legacy settings alone decide", "legacy", "quote.sent",
			func(w *world) map[string]string {
				w.rule("web", "quote.sent", w.wfSent, true, web)
				return nil
			},
			want{outcome: "legacy", source: "mode", reason: "mode_legacy"}},
		{"legacy mode: disabled trigger sends nothing", "legacy", "quote.expired",
			func(w *world) map[string]string { return nil },
			want{outcome: "none", source: "mode", reason: "mode_legacy_disabled"}},
		{"legacy mode: the old system never sent on rejected", "legacy", "quote.rejected",
			func(w *world) map[string]string { return nil },
			want{outcome: "none", source: "mode", reason: "mode_legacy_unsupported_trigger"}},
		{"legacy mode ignores overrides", "legacy", "quote.sent",
			func(w *world) map[string]string {
				w.override(map[string]any{"trigger": "*", "action": "suppress"})
				return nil
			},
			want{outcome: "legacy", source: "mode", reason: "mode_legacy"}},
		{"shadow mode: legacy decides", "shadow", "quote.sent",
			func(w *world) map[string]string {
				w.rule("web", "quote.sent", w.wfSent, true, web)
				return nil
			},
			want{outcome: "legacy", source: "mode", reason: "mode_legacy"}},
	}
	forEachDB(t, func(t *testing.T, e *env) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := &env{t: t, srv: e.srv, app: e.app}
				w := newWorld(t, e, tc.mode)
				names := tc.setup(w)
				d := w.resolve(tc.trigger)
				if d["outcome"] != tc.want.outcome || d["source"] != tc.want.source || d["reason"] != tc.want.reason {
					t.Fatalf("decision %v/%v/%v, want %s/%s/%s\n%v", d["outcome"], d["source"], d["reason"],
						tc.want.outcome, tc.want.source, tc.want.reason, d)
				}
				wantWF := map[string]string{"": "", "sent": w.wfSent, "rejected": w.wfRejected, "accepted": w.wfAcc}[tc.want.workflow]
				if str(d["workflow_id"]) != wantWF {
					t.Fatalf("workflow_id %v, want %s", d["workflow_id"], wantWF)
				}
				if wantWF != "" && d["workflow_version"].(float64) != 1 {
					t.Fatalf("workflow_version %v, want 1", d["workflow_version"])
				}
				if tc.want.trace != nil {
					if got := traceResults(d, names); !slices.Equal(got, tc.want.trace) {
						t.Fatalf("trace %q, want %q", got, tc.want.trace)
					}
				}
				var missing []string
				for _, m := range d["missing_fields"].([]any) {
					missing = append(missing, m.(string))
				}
				if !slices.Equal(missing, tc.want.missing) {
					t.Fatalf("missing_fields %q, want %q", missing, tc.want.missing)
				}
				if tc.mode == "shadow" {
					sh, _ := d["shadow"].(map[string]any)
					if sh["outcome"] != "workflow" || sh["source"] != "rule" || str(sh["workflow_id"]) != w.wfSent {
						t.Fatalf("shadow decision %v, want the engine's workflow decision", sh)
					}
				}
			})
		}
	})
}

func TestResolverPreviewUsesTheGivenContext(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w := newWorld(t, e, "engine")
		big := w.rule("big", "quote.rejected", w.wfRejected, true, `{"all":[{"field":"quote.amount","op":"gte","value":5000},{"field":"lead.country","op":"in","value":["PT","ES"]}]}`)
		preview := func(amount float64, country string) map[string]any {
			return e.must(200, "POST", "/v1/resolver/preview", w.key, map[string]any{
				"trigger": "quote.rejected",
				"lead":    map[string]any{"first_name": "X", "country": country},
				"quote":   map[string]any{"amount": amount, "currency": "EUR"},
			})
		}
		if d := preview(6000, "ES"); d["outcome"] != "workflow" || d["rule_id"] != big {
			t.Fatalf("big Spanish quote: %v", d)
		}
		d := preview(100, "ES")
		if d["outcome"] != "none" || d["reason"] != "fallback_none_by_design" {
			t.Fatalf("small quote: %v", d)
		}
		tr := d["trace"].([]any)[0].(map[string]any)
		if tr["field"] != "quote.amount" || tr["actual"].(float64) != 100 {
			t.Fatalf("trace should name quote.amount and its actual value 100: %v", tr)
		}
		// The preview wrote nothing: the tenant still has one lead.
		if items := e.must(200, "GET", "/v1/leads", w.key, nil)["items"].([]any); len(items) != 1 {
			t.Fatalf("preview created leads: %d", len(items))
		}
	})
}

func TestCoverageWarnsAboutBrokenPaths(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w := newWorld(t, e, "engine")
		toOff := w.rule("to-off", "quote.accepted", w.wfAccOff, true, `{"all":[]}`)
		w.rule("rej", "quote.rejected", w.wfRejected, true, `{"all":[]}`)
		ov := w.override(map[string]any{"trigger": "quote.sent", "action": "workflow", "workflow_id": w.wfRejected})
		rep := e.must(200, "GET", "/v1/coverage", w.key, nil)
		byTrigger := map[string]map[string]any{}
		for _, tc := range rep["triggers"].([]any) {
			m := tc.(map[string]any)
			byTrigger[str(m["trigger"])] = m
		}
		if len(byTrigger) != 5 {
			t.Fatalf("coverage lists %d triggers, want 5: %v", len(byTrigger), rep)
		}
		for trigger, want := range map[string]bool{"quote.sent": true, "quote.viewed": false, "quote.accepted": true, "quote.rejected": true, "quote.expired": false} {
			if got := byTrigger[trigger]["enabled_path"]; got != want {
				t.Errorf("%s enabled_path %v, want %v", trigger, got, want)
			}
		}
		warned := func(trigger, code, field, id string) bool {
			for _, x := range byTrigger[trigger]["warnings"].([]any) {
				m := x.(map[string]any)
				if m["code"] == code && m[field] == id {
					return true
				}
			}
			return false
		}
		if !warned("quote.accepted", "rule_workflow_disabled", "rule_id", toOff) {
			t.Errorf("no warning for the rule pointing at a disabled workflow: %v", byTrigger["quote.accepted"]["warnings"])
		}
		if !warned("quote.sent", "override_workflow_wrong_trigger", "override_id", ov) {
			t.Errorf("no warning for the override pointing at another trigger's workflow: %v", byTrigger["quote.sent"]["warnings"])
		}
	})
}

func TestReorderAndEditsChangeTheNextResolution(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w := newWorld(t, e, "engine")
		wfB := str(e.must(201, "POST", "/v1/workflows", w.key, map[string]any{"name": "Second sent workflow", "trigger": "quote.sent"})["id"])
		a := w.rule("a", "quote.sent", w.wfSent, true, `{"all":[]}`)
		b := w.rule("b", "quote.sent", wfB, true, `{"all":[]}`)
		if d := w.resolve("quote.sent"); d["rule_id"] != a {
			t.Fatalf("first rule should win: %v", d["rule_id"])
		}
		// Reordering is seen by the very next resolution (the compiled rule
		// set is cached per tenant, keyed by its configuration version).
		out := e.must(200, "POST", "/v1/assignment-rules/reorder", w.key, map[string]any{"rule_ids": []string{b, a}})
		if items := out["items"].([]any); str(items[0].(map[string]any)["id"]) != b {
			t.Fatalf("order after reorder: %v", items)
		}
		if d := w.resolve("quote.sent"); d["rule_id"] != b {
			t.Fatalf("after reorder: %v", d["rule_id"])
		}
		// So is disabling a workflow.
		e.must(200, "PATCH", "/v1/workflows/"+wfB, w.key, map[string]any{"enabled": false})
		if d := w.resolve("quote.sent"); d["rule_id"] != a {
			t.Fatalf("after disabling b's workflow: %v", d["rule_id"])
		}
		// A reorder that leaves a rule out names the field.
		r := e.call("POST", "/v1/assignment-rules/reorder", w.key, map[string]any{"rule_ids": []string{a}})
		if loc := e.problem(r, 422, "validation"); loc != "body.rule_ids" {
			t.Fatalf("location %q", loc)
		}
		// Workflows in use cannot be deleted.
		e.problem(e.call("DELETE", "/v1/workflows/"+w.wfSent, w.key, nil), 409, "conflict")
		e.must(204, "DELETE", "/v1/assignment-rules/"+a, w.key, nil)
		e.must(204, "DELETE", "/v1/workflows/"+w.wfSent, w.key, nil)
		e.problem(e.call("GET", "/v1/workflows/"+w.wfSent, w.key, nil), 404, "not-found")
		if d := w.resolve("quote.sent"); d["outcome"] != "legacy" {
			t.Fatalf("after deleting the rule: %v", d["outcome"])
		}
	})
}

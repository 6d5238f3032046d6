package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestTriggerMatrix drives every trigger through every way a decision can
// go, over HTTP, and checks the decision, the messages and their statuses,
// and what reached the SMTP server.
func TestTriggerMatrix(t *testing.T) {
	triggers := []struct{ trigger, action string }{
		{"quote.sent", "send"}, {"quote.viewed", "view"}, {"quote.accepted", "accept"},
		{"quote.rejected", "reject"}, {"quote.expired", "expire"},
	}
	legacySends := map[string]bool{"quote.sent": true, "quote.accepted": true, "quote.expired": true}
	fallbackReason := map[string]string{"quote.sent": "fallback_legacy", "quote.viewed": "fallback_internal_signal",
		"quote.accepted": "fallback_legacy", "quote.rejected": "fallback_none_by_design", "quote.expired": "fallback_legacy"}
	type expect struct {
		outcome, source, reason string
		engineEmails            int // sent by the engine's workflow
		legacyEmails            int // sent from the legacy settings
		shadowMessages          int // recorded, never delivered
	}
	fallback := func(trigger string) expect {
		if legacySends[trigger] {
			return expect{outcome: "legacy", source: "fallback", reason: fallbackReason[trigger], legacyEmails: 1}
		}
		return expect{outcome: "none", source: "fallback", reason: fallbackReason[trigger]}
	}
	legacyMode := func(trigger string) expect {
		switch {
		case legacySends[trigger]:
			return expect{outcome: "legacy", source: "mode", reason: "mode_legacy", legacyEmails: 1}
		case trigger == "quote.viewed" || trigger == "quote.rejected":
			return expect{outcome: "none", source: "mode", reason: "mode_legacy_unsupported_trigger"}
		}
		return expect{}
	}
	scenarios := []struct {
		name string
		mode string
		// setup configures the tenant for trigger; wf is an enabled workflow
		// for it, off a disabled one.
		setup func(x *execEnv, key, lead, trigger, wf, off string)
		want  func(trigger string) expect
	}{
		{"matching enabled rule", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, wf, true)
		}, func(string) expect {
			return expect{outcome: "workflow", source: "rule", reason: "rule_matched", engineEmails: 1}
		}},
		{"rule disabled", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, wf, false)
		}, fallback},
		{"no rule", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {}, fallback},
		{"workflow disabled", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, off, true)
		}, fallback},
		{"override suppress", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, wf, true)
			x.must(201, "POST", "/v1/leads/"+lead+"/overrides", key, map[string]any{"trigger": trigger, "action": "suppress"})
		}, func(string) expect {
			return expect{outcome: "suppressed", source: "override", reason: "override_suppress"}
		}},
		{"override pinned", "engine", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.must(201, "POST", "/v1/leads/"+lead+"/overrides", key, map[string]any{"trigger": trigger, "action": "workflow", "workflow_id": wf})
		}, func(string) expect {
			return expect{outcome: "workflow", source: "override", reason: "override_workflow", engineEmails: 1}
		}},
		{"mode legacy", "legacy", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, wf, true)
		}, legacyMode},
		{"mode shadow", "shadow", func(x *execEnv, key, lead, trigger, wf, off string) {
			x.rule(key, trigger, wf, true)
		}, func(trigger string) expect {
			e := legacyMode(trigger)
			e.shadowMessages = 1
			return e
		}},
	}
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		n := 0
		for _, tr := range triggers {
			for _, sc := range scenarios {
				n++
				caseNo := n
				t.Run(tr.trigger+"/"+sc.name, func(t *testing.T) {
					t.Parallel()
					x := &execEnv{env: &env{t: t, srv: x.srv, app: x.app}, smtp: x.smtp, wa: x.wa, logs: x.logs}
					key := x.tenantWithChannels(sc.mode)
					x.must(200, "PUT", "/v1/legacy/settings", key, map[string]any{
						"quote.sent":     map[string]any{"enabled": true, "channels": []string{"email"}, "email": map[string]any{"subject": "Legacy sent {{ quote.number }}", "text": "{{ quote.url }}"}},
						"quote.accepted": map[string]any{"enabled": true, "channels": []string{"email"}, "email": map[string]any{"subject": "Legacy accepted {{ quote.number }}", "text": "Thanks"}},
						"quote.expired":  map[string]any{"enabled": true, "channels": []string{"email"}, "email": map[string]any{"subject": "Legacy expired {{ quote.number }}", "text": "Still interested?"}},
					})
					email := fmt.Sprintf("lead%d-%s@example.com", caseNo, strings.ReplaceAll(t.Name()[:4], "/", ""))
					lead := str(x.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "email": email, "source": "web"})["id"])
					quote := str(x.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": quoteNumber(), "amount": 1250.0, "currency": "EUR"})["id"])
					mk := func(name string, enabled bool) string {
						return str(x.must(201, "POST", "/v1/workflows", key, map[string]any{"name": name, "trigger": tr.trigger, "enabled": enabled,
							"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "Engine " + tr.trigger + " {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}}}})["id"])
					}
					wf, off := mk("Engine", true), mk("Off", false)
					sc.setup(x, key, lead, tr.trigger, wf, off)
					if tr.action != "send" {
						x.must(200, "POST", "/v1/quotes/"+quote+"/send", key, nil)
					}
					res := x.must(200, "POST", "/v1/quotes/"+quote+"/"+tr.action, key, nil)
					want := sc.want(tr.trigger)
					d := res["event"].(map[string]any)["decision"].(map[string]any)
					if d["outcome"] != want.outcome || d["source"] != want.source || d["reason"] != want.reason {
						t.Fatalf("decision %v/%v/%v, want %s/%s/%s", d["outcome"], d["source"], d["reason"], want.outcome, want.source, want.reason)
					}
					// The stored event says the same.
					evs := x.must(200, "GET", "/v1/events?quote_id="+quote+"&trigger="+tr.trigger, key, nil)["items"].([]any)
					if len(evs) != 1 || evs[0].(map[string]any)["decision"].(map[string]any)["outcome"] != want.outcome {
						t.Fatalf("stored events for %s: %v", tr.trigger, evs)
					}
					ms := x.settled(key, "quote_id="+quote+"&trigger="+url.QueryEscape(tr.trigger))
					var engine, legacy, shadow int
					for _, m := range ms {
						subject := str(m["subject"])
						switch {
						case m["status"] == "shadow":
							shadow++
							if m["run_id"] == nil || !strings.HasPrefix(subject, "Engine") {
								t.Errorf("shadow message %v", m)
							}
						case m["status"] != "sent":
							t.Errorf("message %s is %s (%v), want sent", m["id"], m["status"], m["last_error"])
						case strings.HasPrefix(subject, "Engine"):
							engine++
						case strings.HasPrefix(subject, "Legacy"):
							legacy++
						}
					}
					if engine != want.engineEmails || legacy != want.legacyEmails || shadow != want.shadowMessages {
						t.Fatalf("engine/legacy/shadow messages %d/%d/%d, want %d/%d/%d: %v", engine, legacy, shadow,
							want.engineEmails, want.legacyEmails, want.shadowMessages, statuses(ms))
					}
					// What was sent reached the SMTP server, and nothing else did.
					got := 0
					for _, m := range x.smtp.Messages() {
						if len(m.To) == 1 && m.To[0] == email && strings.Contains(m.DecodedHeader("Subject"), tr.trigger[6:]) || len(m.To) == 1 && m.To[0] == email && strings.Contains(m.DecodedHeader("Subject"), "Legacy "+tr.trigger[6:]) {
							got++
						}
					}
					if got != engine+legacy {
						t.Fatalf("the SMTP server got %d messages for %s, the outbox says %d were sent", got, tr.trigger, engine+legacy)
					}
				})
			}
		}
	})
}

func (x *execEnv) rule(key, trigger, wf string, enabled bool) string {
	x.t.Helper()
	return str(x.must(201, "POST", "/v1/assignment-rules", key, map[string]any{"name": "web", "trigger": trigger, "enabled": enabled,
		"workflow_id": wf, "condition": map[string]any{"all": []any{map[string]any{"field": "lead.source", "op": "eq", "value": "web"}}}})["id"])
}

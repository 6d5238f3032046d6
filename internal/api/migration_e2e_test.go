package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// e2eLegacy are legacy settings whose messages depend only on the lead and
// the quote's number, so that the same events give the same messages in
// every phase.
var e2eLegacy = map[string]any{
	"quote.sent": map[string]any{"enabled": true, "channels": []string{"email", "whatsapp"},
		"email":    map[string]any{"subject": "Your quote {{ quote.number }}", "text": "Hi {{ lead.first_name }}, your quote {{ quote.number }} is ready."},
		"whatsapp": map[string]any{"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}}},
	"quote.accepted": map[string]any{"enabled": false, "channels": []string{}},
	"quote.expired": map[string]any{"enabled": true, "channels": []string{"email"},
		"email": map[string]any{"subject": "Quote {{ quote.number }} expired", "text": "Ask us for a new one, {{ lead.first_name }}."}},
}

// TestMigrationKeepsTheMessages moves a tenant legacy → shadow → engine
// through the API and checks, with the real SMTP server and the WhatsApp
// fake, that the same events send the same messages in each mode, and
// that the shadow report shows it (and shows a disagreement made on
// purpose).
func TestMigrationKeepsTheMessages(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		start := time.Now().UTC().Add(-time.Minute)
		key := x.tenantWithChannels("legacy")
		x.must(200, "PUT", "/v1/legacy/settings", key, e2eLegacy)
		n := phoneSeq.Add(1)
		email, phone := fmt.Sprintf("mig%d@example.com", n), fmt.Sprintf("+35192%07d", n)
		lead := str(x.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Ana", "email": email, "phone": phone,
			"source": "phone", "whatsapp_opt_in": true})["id"])

		// One phase: the same five triggers on three quotes, and what the
		// lead was sent for them (shadow messages are never sent). A quote
		// number is unique in the tenant, so each phase numbers its quotes
		// apart, and what was sent is compared with the number masked.
		phase := func(n int) []string {
			var quotes, numbers []string
			for _, then := range []string{"expire", "accept", "reject"} {
				number := fmt.Sprintf("Q-7-%s-%d", then, n)
				numbers = append(numbers, number)
				q := str(x.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": lead, "number": number, "amount": 120, "currency": "EUR"})["id"])
				x.must(200, "POST", "/v1/quotes/"+q+"/send", key, nil)
				if then == "expire" {
					x.must(200, "POST", "/v1/quotes/"+q+"/view", key, nil)
				}
				x.must(200, "POST", "/v1/quotes/"+q+"/"+then, key, nil)
				quotes = append(quotes, q)
			}
			var got []string
			mask := func(s string) string {
				for _, number := range numbers {
					s = strings.ReplaceAll(s, number, number[:len(number)-2])
				}
				return s
			}
			for _, q := range quotes {
				for _, m := range x.settled(key, "quote_id="+q) {
					if m["status"] == "shadow" {
						continue
					}
					if m["status"] != "sent" {
						t.Fatalf("message %v is %v", m["id"], m["status"])
					}
					tpl, _ := m["template"].(map[string]any)
					got = append(got, mask(fmt.Sprintf("%s|%s|%s|%s|%v|%v", m["trigger"], m["channel"], m["to"], m["subject"], m["body"], tpl["parameters"])))
				}
			}
			slices.Sort(got)
			return got
		}

		legacy := phase(1)
		if len(legacy) != 7 { // three quote.sent emails and WhatsApps, one quote.expired email
			t.Fatalf("legacy phase sent %d messages: %v", len(legacy), legacy)
		}

		p := x.must(200, "POST", "/v1/migration/preview", key, map[string]any{"lead_id": lead})
		for _, tc := range p["triggers"].([]any) {
			if tc.(map[string]any)["agree"] != true {
				t.Fatalf("preview disagrees: %s", mustJSONT(t, tc))
			}
		}
		x.must(201, "POST", "/v1/migration/apply", key, map[string]any{"preview_id": p["id"]})
		x.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "shadow"})

		// A rule for web leads, put before the catch-all, to show a
		// disagreement in the report.
		wf := str(x.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "Web", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "Web {{ quote.number }}", "text": "t"}}}})["id"])
		rule := str(x.must(201, "POST", "/v1/assignment-rules", key, map[string]any{"name": "web", "trigger": "quote.sent", "priority": 1,
			"workflow_id": wf, "condition": map[string]any{"all": []any{map[string]any{"field": "lead.source", "op": "eq", "value": "web"}}}})["id"])
		web := str(x.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": "Rui", "email": "web-" + email, "source": "web"})["id"])
		var webQuotes []string
		for i := range 2 {
			wq := str(x.must(201, "POST", "/v1/quotes", key, map[string]any{"lead_id": web, "number": fmt.Sprint("Q-8-", i), "amount": 10, "currency": "EUR"})["id"])
			x.must(200, "POST", "/v1/quotes/"+wq+"/send", key, nil)
			webQuotes = append(webQuotes, wq)
		}

		shadow := phase(2)
		for _, wq := range webQuotes {
			x.settled(key, "quote_id="+wq)
		}
		if strings.Join(shadow, "\n") != strings.Join(legacy, "\n") {
			t.Fatalf("shadow mode sent\n%s\nlegacy mode sent\n%s", strings.Join(shadow, "\n"), strings.Join(legacy, "\n"))
		}
		end := time.Now().UTC().Add(time.Minute)
		window := url.Values{"from": {start.Format(time.RFC3339Nano)}, "to": {end.Format(time.RFC3339Nano)}, "limit": {"1"}}
		rep := x.must(200, "GET", "/v1/shadow/report?"+window.Encode(), key, nil)
		counts := map[string]string{}
		for _, c := range rep["triggers"].([]any) {
			m := c.(map[string]any)
			counts[str(m["trigger"])] = fmt.Sprintf("%v/%v/%v", m["events"], m["agree"], m["disagree"])
		}
		want := map[string]string{"quote.sent": "5/3/2", "quote.viewed": "1/1/0", "quote.accepted": "1/1/0", "quote.rejected": "1/1/0", "quote.expired": "1/1/0"}
		for k, v := range want {
			if counts[k] != v {
				t.Fatalf("report counts %v, want %v: %s", counts, want, mustJSONT(t, rep))
			}
		}
		if rep["skipped"].(float64) != 7 {
			t.Fatalf("the legacy phase's 7 events must be skipped: %v", rep["skipped"])
		}
		items := rep["items"].([]any)
		if len(items) != 1 || rep["disagreements"].(float64) != 2 || rep["next_cursor"] == nil {
			t.Fatalf("first page of disagreements: %s", mustJSONT(t, rep))
		}
		window.Set("cursor", str(rep["next_cursor"]))
		page2 := x.must(200, "GET", "/v1/shadow/report?"+window.Encode(), key, nil)
		if p2 := page2["items"].([]any); len(p2) != 1 || page2["next_cursor"] != nil || p2[0].(map[string]any)["event_id"] == items[0].(map[string]any)["event_id"] {
			t.Fatalf("second page of disagreements: %s", mustJSONT(t, page2))
		}
		d := items[0].(map[string]any)
		lm, em := d["legacy"].(map[string]any)["messages"].([]any), d["engine"].(map[string]any)["messages"].([]any)
		if d["lead_id"] != web || d["legacy"].(map[string]any)["decision"].(map[string]any)["outcome"] != "legacy" ||
			d["engine"].(map[string]any)["decision"].(map[string]any)["rule_id"] != rule || len(em) != 1 ||
			!strings.HasPrefix(str(em[0].(map[string]any)["subject"]), "Web Q-8-") || len(lm) != 2 || !strings.HasPrefix(str(lm[0].(map[string]any)["subject"]), "Your quote Q-8-") {
			t.Fatalf("disagreement: %s", mustJSONT(t, d))
		}

		x.must(204, "DELETE", "/v1/assignment-rules/"+rule, key, nil)
		x.must(200, "PATCH", "/v1/tenant", key, map[string]any{"mode": "engine"})
		engine := phase(3)
		if strings.Join(engine, "\n") != strings.Join(legacy, "\n") {
			t.Fatalf("engine mode sent\n%s\nlegacy mode sent\n%s", strings.Join(engine, "\n"), strings.Join(legacy, "\n"))
		}
		// In engine mode the messages came from the migrated workflows' runs;
		// before, from the legacy settings, without a run.
		byRun := 0
		for _, m := range x.messages(key, "lead_id="+lead) {
			if m["run_id"] != nil && m["status"] == "sent" {
				byRun++
			}
		}
		if byRun != 7 {
			t.Fatalf("%d messages sent by runs, want the engine phase's 7", byRun)
		}
		// What the providers got: only real sends, never a shadow one.
		mails := 0
		for _, m := range x.smtp.Messages() {
			if slices.Contains(m.To, email) {
				mails++
			}
		}
		if mails != 3*4 || x.wa.Count(phone) != 3*3 {
			t.Fatalf("providers got %d emails and %d WhatsApps, want 12 and 9", mails, x.wa.Count(phone))
		}
		var modes []string
		for _, c := range x.must(200, "GET", "/v1/tenant/mode-changes", key, nil)["items"].([]any) {
			modes = append(modes, str(c.(map[string]any)["to"]))
		}
		if strings.Join(modes, ",") != "shadow,engine" {
			t.Fatalf("mode changes %v", modes)
		}
	})
}

package api_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// logLines parses the captured JSON log, one record per line.
func (o *observedEnv) logLines() []map[string]any {
	o.t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(o.logs.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			o.t.Fatalf("a log line is not JSON: %q: %v", l, err)
		}
		out = append(out, rec)
	}
	return out
}

// TestLogsNameTheirIDsAndNoSecrets follows a quote action through a
// WhatsApp failure to its email fallback in the JSON log: the request's
// lines carry its request id (the caller's, echoed back) and tenant, the
// decision its event, each attempt its message, run and event; no line
// holds a message's subject or body, a provider credential or an API key.
func TestLogsNameTheirIDsAndNoSecrets(t *testing.T) {
	forEachObservedDB(t, func(t *testing.T, o *observedEnv) {
		c := newWACase(t, o.execEnv)
		c.wa.Script(c.phone, whatsapptest.Fail(131026)) // not on WhatsApp: the email goes instead
		q := str(c.must(201, "POST", "/v1/quotes", c.key, map[string]any{"lead_id": c.lead, "number": "Q-9", "amount": 10.0, "currency": "EUR"})["id"])
		r := c.call("POST", "/v1/quotes/"+q+"/send", c.key, nil, "X-Request-Id", "req-7f3a")
		if r.Status != 200 {
			t.Fatalf("send: %d %s", r.Status, r.Raw)
		}
		if got := r.Header.Get("X-Request-Id"); got != "req-7f3a" {
			t.Fatalf("X-Request-Id echoed %q, want the caller's", got)
		}
		eventID := str(r.JSON["event"].(map[string]any)["id"])
		if eventID == "" {
			eventID = str(r.JSON["id"])
		}
		ms := c.settled(c.key, "quote_id="+q)
		if len(ms) != 2 {
			t.Fatalf("messages %v", statuses(ms))
		}
		// A request without an id gets one made for it.
		if id := c.call("GET", "/v1/tenant", c.key, nil).Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
			t.Fatalf("generated X-Request-Id %q", id)
		}

		attemptOf := func(recs []map[string]any, messageID string) map[string]any {
			for _, rec := range recs {
				if rec["msg"] == "attempt" && rec["message_id"] == messageID {
					return rec
				}
			}
			return nil
		}
		var recs []map[string]any
		// The attempt line follows the commit that settled the message.
		eventually(t, "both attempts are logged", func() (bool, string) {
			recs = o.logLines()
			return attemptOf(recs, str(ms[0]["id"])) != nil && attemptOf(recs, str(ms[1]["id"])) != nil, fmt.Sprintf("%d lines", len(recs))
		})

		var request, decision map[string]any
		for _, rec := range recs {
			switch {
			case rec["msg"] == "request" && rec["route"] == "/v1/quotes/{quote_id}/send":
				request = rec
			case rec["msg"] == "decision" && rec["event_id"] == eventID:
				decision = rec
			}
		}
		if request == nil || request["request_id"] != "req-7f3a" || request["tenant_id"] != c.tenantID || request["status"] != float64(200) {
			t.Errorf("access log line %v", request)
		}
		if decision == nil || decision["request_id"] != "req-7f3a" || decision["tenant_id"] != c.tenantID || decision["outcome"] != "workflow" {
			t.Errorf("decision line %v", decision)
		}
		for _, m := range ms {
			a := attemptOf(recs, str(m["id"]))
			if a["tenant_id"] != c.tenantID || a["run_id"] != m["run_id"] || a["event_id"] != eventID || a["channel"] != m["channel"] {
				t.Errorf("attempt line %v for message %v", a, m)
			}
		}
		// Every line about a message, run or event says whose it is.
		for _, rec := range recs {
			if rec["message_id"] != nil || rec["run_id"] != nil || rec["event_id"] != nil {
				if rec["tenant_id"] != c.tenantID {
					t.Errorf("line without its tenant: %v", rec)
				}
			}
		}
		all := o.logs.String()
		em := c.smtp.Channel("x")
		for what, secret := range map[string]string{
			"the subject": "Your quote Q-9", "the email body": "Hi Ana", "the API key": c.key,
			"the SMTP password": em.Password, "the WhatsApp access token": whatsapptest.AccessToken,
			"the WhatsApp app secret": whatsapptest.AppSecret, "the operator token": operatorToken,
		} {
			if secret != "" && strings.Contains(all, secret) {
				t.Errorf("the log holds %s (%q)", what, secret)
			}
		}
	})
}

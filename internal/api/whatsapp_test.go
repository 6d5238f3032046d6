package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

var phoneSeq atomic.Int64

// waCase is a tenant whose quote.sent workflow sends one WhatsApp template
// with an email fallback, and a lead that can get both.
type waCase struct {
	*execEnv
	key, tenantID, lead, phone, email string
	// sends counts the quotes send made: the first is Q-9, and later ones
	// are numbered apart (a number is unique in the tenant).
	sends int
}

func newWACase(t *testing.T, x *execEnv) *waCase {
	t.Helper()
	x = &execEnv{env: &env{t: t, srv: x.srv, app: x.app}, smtp: x.smtp, wa: x.wa, logs: x.logs}
	c := &waCase{execEnv: x}
	n := phoneSeq.Add(1)
	c.phone = fmt.Sprintf("+3519123%05d", n)
	c.email = fmt.Sprintf("wa%d@example.com", n)
	c.key = x.tenantWithChannels("engine")
	c.tenantID = str(x.must(200, "GET", "/v1/tenant", c.key, nil)["id"])
	c.lead = str(x.must(201, "POST", "/v1/leads", c.key, map[string]any{"first_name": "Ana", "email": c.email, "phone": c.phone, "source": "web",
		"whatsapp_opt_in": true})["id"])
	wf := str(x.must(201, "POST", "/v1/workflows", c.key, map[string]any{"name": "WhatsApp first", "trigger": "quote.sent",
		"steps": []any{map[string]any{"type": "send_whatsapp",
			"whatsapp":         map[string]any{"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}},
			"fallback_channel": "email",
			"email":            map[string]any{"subject": "Your quote {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}}}})["id"])
	x.rule(c.key, "quote.sent", wf, true)
	return c
}

// send sends a new quote and returns the quote id once its run is done.
func (c *waCase) send() string {
	c.t.Helper()
	c.sends++
	number := "Q-9"
	if c.sends > 1 {
		number = fmt.Sprint("Q-9-", c.sends)
	}
	q := str(c.must(201, "POST", "/v1/quotes", c.key, map[string]any{"lead_id": c.lead, "number": number, "amount": 10.0, "currency": "EUR"})["id"])
	c.must(200, "POST", "/v1/quotes/"+q+"/send", c.key, nil)
	return q
}

func (c *waCase) detail(id string) map[string]any {
	c.t.Helper()
	return c.must(200, "GET", "/v1/messages/"+id, c.key, nil)
}

func byChannel(ms []map[string]any, ch string) []map[string]any {
	var out []map[string]any
	for _, m := range ms {
		if m["channel"] == ch {
			out = append(out, m)
		}
	}
	return out
}

func TestWhatsAppDelivery(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		t.Run("rate limited, then sent", func(t *testing.T) {
			t.Parallel()
			c := newWACase(t, x)
			c.wa.Script(c.phone, whatsapptest.Fail(130429, whatsapptest.WithRetryAfter(1)), whatsapptest.OK())
			q := c.send()
			ms := c.settled(c.key, "quote_id="+q)
			if len(ms) != 1 || ms[0]["status"] != "sent" || ms[0]["attempts"].(float64) != 2 {
				t.Fatalf("messages %v", ms)
			}
			atts := c.detail(str(ms[0]["id"]))["attempt_list"].([]any)
			first := atts[0].(map[string]any)
			if first["outcome"] != "retry" || first["error_class"] != "transient" || atts[1].(map[string]any)["outcome"] != "sent" {
				t.Fatalf("attempts %v", atts)
			}
			// Meta asked for one second; jitter is zero here, so the retry
			// was scheduled by Retry-After alone.
			finished, _ := time.Parse(time.RFC3339Nano, str(first["finished_at"]))
			retryAt, _ := time.Parse(time.RFC3339Nano, str(first["retry_at"]))
			if d := retryAt.Sub(finished); d < 999*time.Millisecond || d > 2*time.Second {
				t.Fatalf("retry scheduled %v after the 429, want Retry-After's 1s", d)
			}
			if n := c.wa.Count(c.phone); n != 1 {
				t.Fatalf("the provider accepted %d messages, want 1", n)
			}
			// The request carried the template, its rendered parameters and
			// our attempt id for receipts.
			var req *whatsapptest.Request
			for _, r := range c.wa.Requests() {
				if strings.HasSuffix(c.phone, r.Body.To) && r.HTTPStatus == 200 {
					req = &r
				}
			}
			if req == nil || req.Body.Template.Name != "quote_sent" || strings.Join(req.Body.BodyParameters(), ",") != "Ana,Q-9" || req.Body.BizOpaqueCallbackData == "" {
				t.Fatalf("request at the provider: %+v", req)
			}
		})
		t.Run("not on WhatsApp: the email fallback goes out", func(t *testing.T) {
			t.Parallel()
			c := newWACase(t, x)
			c.wa.Script(c.phone, whatsapptest.Fail(131026))
			q := c.send()
			ms := c.settled(c.key, "quote_id="+q)
			wa, em := byChannel(ms, "whatsapp"), byChannel(ms, "email")
			if len(wa) != 1 || wa[0]["status"] != "failed" || wa[0]["error_class"] != "recipient" {
				t.Fatalf("whatsapp message %v", wa)
			}
			if len(em) != 1 || em[0]["status"] != "sent" || em[0]["fallback_of"] != wa[0]["id"] || em[0]["to"] != c.email {
				t.Fatalf("fallback email %v", em)
			}
			if !c.smtpGot(c.email, "Your quote Q-9") {
				t.Fatal("the fallback email did not reach the SMTP server")
			}
		})
		t.Run("template error fails at once", func(t *testing.T) {
			t.Parallel()
			c := newWACase(t, x)
			c.wa.Script(c.phone, whatsapptest.Fail(132001))
			q := c.send()
			ms := c.settled(c.key, "quote_id="+q)
			if len(ms) != 1 || ms[0]["status"] != "failed" || ms[0]["error_class"] != "request" || ms[0]["attempts"].(float64) != 1 {
				t.Fatalf("messages %v", ms)
			}
		})
		t.Run("expired token opens the tenant's circuit", func(t *testing.T) {
			t.Parallel()
			c := newWACase(t, x)
			c.wa.Script(c.phone, whatsapptest.Fail(190))
			q := c.send()
			ms := c.settled(c.key, "quote_id="+q)
			if len(ms) != 1 || ms[0]["status"] != "failed" || ms[0]["error_class"] != "tenant" {
				t.Fatalf("messages %v", ms)
			}
			circuits := c.must(200, "GET", "/v1/circuits", c.key, nil)["items"].([]any)
			if len(circuits) != 1 || circuits[0].(map[string]any)["provider"] != "cloud_api" || circuits[0].(map[string]any)["error_code"] != "190" ||
				circuits[0].(map[string]any)["state"] != "open" || circuits[0].(map[string]any)["cause"] != "tenant" ||
				circuits[0].(map[string]any)["opens"] != 1.0 {
				t.Fatalf("circuits %v", circuits)
			}
			// The next message waits for the circuit instead of hitting the provider.
			before := c.wa.Attempts(c.phone)
			q2 := c.send()
			eventually(t, "second message held by the circuit", func() (bool, string) {
				ms := c.messages(c.key, "quote_id="+q2)
				return len(ms) == 1 && ms[0]["reason"] == "circuit_open", fmt.Sprint(ms)
			})
			if after := c.wa.Attempts(c.phone); after != before {
				t.Fatalf("the provider was called %d more times with the circuit open", after-before)
			}
			c.must(204, "DELETE", "/v1/circuits/cloud_api", c.key, nil)
			// Closing it releases the waiting message now, not at the end
			// the circuit had given it (15 minutes on).
			if ms := c.settled(c.key, "quote_id="+q2); len(ms) != 1 || ms[0]["status"] != "sent" {
				t.Fatalf("the released message %v, want it sent", ms)
			}
		})
	})
}

func (x *execEnv) smtpGot(to, subject string) bool {
	for _, m := range x.smtp.Messages() {
		if len(m.To) == 1 && m.To[0] == to && m.DecodedHeader("Subject") == subject {
			return true
		}
	}
	return false
}

func TestWhatsAppReceipts(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		c := newWACase(t, x)
		q := c.send()
		ms := c.settled(c.key, "quote_id="+q)
		if len(ms) != 1 || ms[0]["status"] != "sent" {
			t.Fatalf("messages %v", ms)
		}
		id := str(ms[0]["id"])
		var req whatsapptest.Request
		for _, r := range c.wa.Requests() {
			if strings.HasSuffix(c.phone, r.Body.To) {
				req = r
			}
		}
		hook := "/v1/webhooks/whatsapp/" + c.tenantID
		post := func(sig string, body []byte) response {
			return c.call("POST", hook, "", string(body), "X-Hub-Signature-256", sig)
		}

		// The handshake answers the challenge only with the tenant's token.
		r := c.call("GET", hook+"?"+url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {whatsapptest.VerifyToken}, "hub.challenge": {"1158201444"}}.Encode(), "", nil)
		if r.Status != 200 || string(r.Raw) != "1158201444" {
			t.Fatalf("handshake: %d %q", r.Status, r.Raw)
		}
		c.problem(c.call("GET", hook+"?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "", nil), 403, "forbidden")

		// A forgery is refused and changes nothing.
		read := req.Receipt("read")
		body, _ := whatsapptest.StatusWebhook("not-the-secret", read)
		_, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret, read)
		c.problem(post(sig+"00", body), 401, "unauthorized")
		body, sig = whatsapptest.StatusWebhook("not-the-secret", read)
		c.problem(post(sig, body), 401, "unauthorized")
		if got := c.detail(id); got["status"] != "sent" || len(got["receipts"].([]any)) != 0 {
			t.Fatalf("a forged webhook changed the message: %v", got["status"])
		}

		// read before delivered: the message is read, and stays read.
		delivered := req.Receipt("delivered")
		delivered.Timestamp = read.Timestamp.Add(-1)
		body, sig = whatsapptest.StatusWebhook(whatsapptest.AppSecret, read)
		c.must(200, "POST", hook, "", string(body), "X-Hub-Signature-256", sig)
		body, sig = whatsapptest.StatusWebhook(whatsapptest.AppSecret, delivered, read)
		c.must(200, "POST", hook, "", string(body), "X-Hub-Signature-256", sig)
		got := c.detail(id)
		if got["status"] != "read" || got["delivered_at"] == nil || got["read_at"] == nil {
			t.Fatalf("after read and delivered: %v", got)
		}
		// read came twice; it is one event, stored once.
		if n := len(got["receipts"].([]any)); n != 2 {
			t.Fatalf("%d receipts recorded, want 2", n)
		}
		// A failure reported after the message was read does not undo it.
		failed := req.Receipt("failed", whatsapp.StatusError{Code: 131026, Title: "Message undeliverable"})
		body, sig = whatsapptest.StatusWebhook(whatsapptest.AppSecret, failed)
		c.must(200, "POST", hook, "", string(body), "X-Hub-Signature-256", sig)
		if got := c.detail(id); got["status"] != "read" {
			t.Fatalf("failed after read moved the message to %v", got["status"])
		}

		// A failed receipt on a sent message triggers the email fallback.
		c2 := newWACase(t, x)
		q2 := c2.send()
		ms = c2.settled(c2.key, "quote_id="+q2)
		if len(ms) != 1 || ms[0]["channel"] != "whatsapp" || ms[0]["status"] != "sent" {
			t.Fatalf("before the failed receipt: %v, want the WhatsApp message sent", statuses(ms))
		}
		for _, r := range c2.wa.Requests() {
			if strings.HasSuffix(c2.phone, r.Body.To) {
				req = r
			}
		}
		failed = req.Receipt("failed", whatsapp.StatusError{Code: 131026, Title: "Message undeliverable"})
		// An attempt id that is not one of ours (the sender of the webhook
		// controls it) names no attempt; the provider's message id still
		// finds the message, in the same transaction.
		failed.AttemptID = "not-one-of-ours"
		body, sig = whatsapptest.StatusWebhook(whatsapptest.AppSecret, failed)
		c2.must(200, "POST", "/v1/webhooks/whatsapp/"+c2.tenantID, "", string(body), "X-Hub-Signature-256", sig)
		ms = c2.settled(c2.key, "quote_id="+q2)
		wa, em := byChannel(ms, "whatsapp"), byChannel(ms, "email")
		if len(wa) != 1 || wa[0]["status"] != "failed" || wa[0]["error_class"] != "recipient" || len(em) != 1 || em[0]["status"] != "sent" {
			t.Fatalf("after a failed receipt: %v", statuses(ms))
		}
		// The same webhook again changes nothing and adds no second fallback.
		c2.must(200, "POST", "/v1/webhooks/whatsapp/"+c2.tenantID, "", string(body), "X-Hub-Signature-256", sig)
		if ms := c2.settled(c2.key, "quote_id="+q2); len(ms) != 2 {
			t.Fatalf("a repeated webhook made %d messages, want 2", len(ms))
		}
	})
}

func TestWorkflowsAreCheckedAgainstApprovedTemplates(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		x.wa.AddTemplate(whatsapptest.Template{Name: "pending_one", Language: "en_US", Status: "PENDING", Body: "Hi {{1}}"})
		key := x.tenantWithChannels("engine")
		step := func(template, lang string, params ...string) map[string]any {
			return map[string]any{"name": "W", "trigger": "quote.sent", "steps": []any{map[string]any{"type": "send_whatsapp",
				"whatsapp": map[string]any{"template": template, "language": lang, "parameters": params}}}}
		}
		x.must(201, "POST", "/v1/workflows", key, step("quote_sent", "en_US", "{{ lead.first_name }}", "{{ quote.number }}"))
		for _, c := range []struct {
			body     map[string]any
			location string
		}{
			{step("no_such_template", "en_US"), "body.steps[0].whatsapp.template"},
			{step("quote_sent", "pt_PT", "a", "b"), "body.steps[0].whatsapp.template"},
			{step("pending_one", "en_US", "a"), "body.steps[0].whatsapp.template"},
			{step("quote_sent", "en_US", "{{ lead.first_name }}"), "body.steps[0].whatsapp.parameters"},
		} {
			r := x.call("POST", "/v1/workflows", key, c.body)
			if loc := x.problem(r, 422, "validation"); loc != c.location {
				t.Fatalf("%v: location %q, want %q: %s", c.body, loc, c.location, r.Raw)
			}
		}
		ts := x.must(200, "GET", "/v1/whatsapp/templates?fresh=true", key, nil)["items"].([]any)
		if len(ts) != 2 {
			t.Fatalf("templates %v", ts)
		}
	})
}

func TestRetriesStopAtTheChannelLimit(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		c := newWACase(t, x)
		busy := make([]whatsapptest.Response, 10)
		for i := range busy {
			busy[i] = whatsapptest.Fail(131000)
		}
		c.wa.Script(c.phone, busy...)
		q := c.send()
		ms := c.settled(c.key, "quote_id="+q+"&channel=whatsapp")
		if len(ms) != 1 || ms[0]["status"] != "failed" || ms[0]["reason"] != "attempts_exhausted" || ms[0]["error_class"] != "transient" {
			t.Fatalf("messages %v", ms)
		}
		// WhatsApp's policy allows 6 attempts, each recorded.
		if n := ms[0]["attempts"].(float64); n != 6 || c.wa.Attempts(c.phone) != 6 {
			t.Fatalf("%v attempts recorded, %d at the provider, want 6", n, c.wa.Attempts(c.phone))
		}
		if atts := c.detail(str(ms[0]["id"]))["attempt_list"].([]any); len(atts) != 6 {
			t.Fatalf("%d attempts listed", len(atts))
		}
	})
}

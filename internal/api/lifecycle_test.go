package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// flow is a tenant with a quote.sent workflow: an email, a wait, an email.
type flow struct {
	*execEnv
	key, lead, wf, email string
	// number is that of the quote made last (quote).
	number string
}

func newFlow(t *testing.T, x *execEnv, tenant map[string]any, lead map[string]any) *flow {
	t.Helper()
	x = &execEnv{env: &env{t: t, srv: x.srv, app: x.app}, smtp: x.smtp, wa: x.wa, logs: x.logs}
	f := &flow{execEnv: x, email: fmt.Sprintf("flow%d@example.com", phoneSeq.Add(1))}
	f.key = x.tenantWithChannels("engine")
	if tenant != nil {
		x.must(200, "PATCH", "/v1/tenant", f.key, tenant)
	}
	body := map[string]any{"first_name": "Ana", "email": f.email, "source": "web"}
	for k, v := range lead {
		body[k] = v
	}
	f.lead = str(x.must(201, "POST", "/v1/leads", f.key, body)["id"])
	f.wf = str(x.must(201, "POST", "/v1/workflows", f.key, map[string]any{"name": "Follow-up", "trigger": "quote.sent",
		"exit_on": []string{"accepted", "rejected"},
		"steps": []any{
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "First {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}},
			map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}},
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "Second {{ quote.number }}", "text": "Still there?"}},
		}})["id"])
	x.rule(f.key, "quote.sent", f.wf, true)
	return f
}

func (f *flow) quote() string {
	f.t.Helper()
	f.number = quoteNumber()
	return str(f.must(201, "POST", "/v1/quotes", f.key, map[string]any{"lead_id": f.lead, "number": f.number, "amount": 99.5, "currency": "EUR"})["id"])
}

// activeRun waits for the quote's run to have sent its first email and
// to be waiting, and returns it.
func (f *flow) activeRun(quote string) map[string]any {
	f.t.Helper()
	var run map[string]any
	eventually(f.t, "the run waits after its first email", func() (bool, string) {
		runs := f.must(200, "GET", "/v1/runs?status=active&quote_id="+quote, f.key, nil)["items"].([]any)
		if len(runs) != 1 {
			return false, fmt.Sprintf("%d active runs", len(runs))
		}
		run = f.must(200, "GET", "/v1/runs/"+str(runs[0].(map[string]any)["id"]), f.key, nil)
		steps, _ := run["steps"].([]any)
		return len(steps) == 2 && steps[1].(map[string]any)["outcome"] == "waited", fmt.Sprint(steps)
	})
	return run
}

func TestRunLifecycle(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		t.Run("exit_on cancels the run and its pending step", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			run := f.activeRun(q)
			f.must(200, "POST", "/v1/quotes/"+q+"/accept", f.key, nil)
			got := f.must(200, "GET", "/v1/runs/"+str(run["id"]), f.key, nil)
			if got["status"] != "cancelled" || !strings.Contains(str(got["reason"]), "accepted") {
				t.Fatalf("run after accept: %v", got)
			}
			ms := f.settled(f.key, "quote_id="+q+"&trigger=quote.sent")
			if len(ms) != 1 || ms[0]["subject"] != "First "+f.number {
				t.Fatalf("messages %v", statuses(ms))
			}
		})
		t.Run("a second send supersedes the run", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			first := f.activeRun(q)
			// Sending the same revision again is a duplicate and runs nothing.
			dup := f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			if dup["event"].(map[string]any)["duplicate"] != true {
				t.Fatalf("re-send of the same revision: %v", dup["event"])
			}
			// A new revision is a new business event: it supersedes the run.
			f.must(200, "PATCH", "/v1/quotes/"+q, f.key, map[string]any{"amount": 120.0})
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			got := f.must(200, "GET", "/v1/runs/"+str(first["id"]), f.key, nil)
			if got["status"] != "cancelled" || !strings.Contains(str(got["reason"]), "superseded") {
				t.Fatalf("first run: %v", got)
			}
			second := f.activeRun(q)
			if second["id"] == first["id"] {
				t.Fatal("no new run")
			}
		})
		t.Run("impossible transitions are 409 and change nothing", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			f.problem(f.call("POST", "/v1/quotes/"+q+"/accept", f.key, nil), 409, "conflict")
			f.problem(f.call("POST", "/v1/quotes/"+q+"/view", f.key, nil), 409, "conflict")
			if got := f.must(200, "GET", "/v1/quotes/"+q, f.key, nil); got["status"] != "draft" {
				t.Fatalf("status %v", got["status"])
			}
			f.problem(f.call("POST", "/v1/quotes/nope/send", f.key, nil), 404, "not-found")
			if evs := f.must(200, "GET", "/v1/events?quote_id="+q, f.key, nil)["items"].([]any); len(evs) != 0 {
				t.Fatalf("events after refused actions: %v", evs)
			}
		})
		t.Run("Idempotency-Key replays the first response", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			a := f.call("POST", "/v1/quotes/"+q+"/send", f.key, nil, "Idempotency-Key", "send-"+q)
			b := f.call("POST", "/v1/quotes/"+q+"/send", f.key, nil, "Idempotency-Key", "send-"+q)
			if a.Status != 200 || b.Status != 200 || b.Header.Get("Idempotent-Replayed") != "true" ||
				a.JSON["event"].(map[string]any)["id"] != b.JSON["event"].(map[string]any)["id"] {
				t.Fatalf("replay: %s / %s", a.Raw, b.Raw)
			}
			q2 := f.quote()
			f.problem(f.call("POST", "/v1/quotes/"+q2+"/send", f.key, nil, "Idempotency-Key", "send-"+q), 409, "conflict")
			if evs := f.must(200, "GET", "/v1/events?quote_id="+q, f.key, nil)["items"].([]any); len(evs) != 1 {
				t.Fatalf("%d events for one idempotent send", len(evs))
			}
		})
		t.Run("consent and addresses suppress with a reason", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, map[string]any{"email_opt_out": true})
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			f.activeRun(q)
			ms := f.messages(f.key, "quote_id="+q)
			if len(ms) != 1 || ms[0]["status"] != "suppressed" || ms[0]["reason"] != "email_opt_out" {
				t.Fatalf("messages %v", ms)
			}
		})
		t.Run("quiet hours defer the send", func(t *testing.T) {
			t.Parallel()
			// A quiet window that always contains now: from the current
			// minute to the minute before it, in UTC.
			now := time.Now().UTC()
			start, end := now.Add(-time.Minute).Format("15:04"), now.Add(-2*time.Minute).Format("15:04")
			f := newFlow(t, x, map[string]any{"timezone": "UTC", "quiet_hours": map[string]any{"start": start, "end": end}}, nil)
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			f.activeRun(q)
			ms := f.messages(f.key, "quote_id="+q)
			if len(ms) != 1 || ms[0]["status"] != "scheduled" || ms[0]["reason"] != "quiet_hours" {
				t.Fatalf("messages %v", ms)
			}
			at, err := time.Parse(time.RFC3339, str(ms[0]["scheduled_at"]))
			if err != nil || !at.After(now.Add(23*time.Hour)) {
				t.Fatalf("scheduled_at %v, want the end of quiet hours almost a day later", ms[0]["scheduled_at"])
			}
			// An admin can cancel it before it goes, and retry it.
			id := str(ms[0]["id"])
			if got := f.must(200, "POST", "/v1/messages/"+id+"/cancel", f.key, nil, "Idempotency-Key", "cancel-"+id); got["status"] != "cancelled" {
				t.Fatalf("cancel: %v", got)
			}
			// The same cancel with its key is answered as the first time.
			if r := f.call("POST", "/v1/messages/"+id+"/cancel", f.key, nil, "Idempotency-Key", "cancel-"+id); r.Status != 200 ||
				r.Header.Get("Idempotent-Replayed") != "true" || r.JSON["status"] != "cancelled" {
				t.Fatalf("replayed cancel: %d %s", r.Status, r.Raw)
			}
			f.problem(f.call("POST", "/v1/messages/"+id+"/cancel", f.key, nil), 409, "conflict")
			f.must(200, "PATCH", "/v1/tenant", f.key, map[string]any{"quiet_hours": nil})
			f.must(200, "POST", "/v1/messages/"+id+"/retry", f.key, nil)
			eventually(t, "retried message is sent", func() (bool, string) {
				m := f.must(200, "GET", "/v1/messages/"+id, f.key, nil)
				return m["status"] == "sent", str(m["status"])
			})
		})
		t.Run("the email carries Message-ID and one-click unsubscribe", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			f.activeRun(q)
			eventually(t, "the email reaches the SMTP server", func() (bool, string) {
				return f.smtpGot(f.email, "First "+f.number), "not there"
			})
			var got bool
			for _, m := range f.smtp.Messages() {
				if len(m.To) != 1 || m.To[0] != f.email {
					continue
				}
				got = true
				if m.Header.Get("Message-Id") == "" || !strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<https://quotes.test/v1/public/quotes/") ||
					m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !m.TLS {
					t.Fatalf("headers %v (TLS %v)", m.Header, m.TLS)
				}
				unsub := strings.TrimPrefix(strings.Trim(m.Header.Get("List-Unsubscribe"), "<>"), "https://quotes.test")
				f.must(200, "POST", unsub, "", "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded")
				if l := f.must(200, "GET", "/v1/leads/"+f.lead, f.key, nil); l["email_opt_out"] != true {
					t.Fatal("one-click unsubscribe did not opt the lead out")
				}
			}
			if !got {
				t.Fatal("no email reached the SMTP server")
			}
		})
		t.Run("public routes, timeline and simulate", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := f.quote()
			sim := f.must(200, "POST", "/v1/leads/"+f.lead+"/simulate", f.key, map[string]any{"trigger": "quote.sent", "quote_id": q})
			steps := sim["steps"].([]any)
			if sim["outcome"] != "workflow" || len(steps) != 3 || fmt.Sprint(sim["cancelled_by"]) != "[accepted rejected]" {
				t.Fatalf("simulate: %v", sim)
			}
			at0, _ := time.Parse(time.RFC3339Nano, str(steps[0].(map[string]any)["at"]))
			at2, _ := time.Parse(time.RFC3339Nano, str(steps[2].(map[string]any)["at"]))
			if d := at2.Sub(at0); d < 47*time.Hour || steps[0].(map[string]any)["email"].(map[string]any)["subject"] != "First "+f.number {
				t.Fatalf("planned steps %v (gap %v)", steps, d)
			}
			if n := len(f.must(200, "GET", "/v1/events?quote_id="+q, f.key, nil)["items"].([]any)); n != 0 {
				t.Fatalf("simulate wrote %d events", n)
			}
			quote := f.must(200, "GET", "/v1/quotes/"+q, f.key, nil)
			token := str(quote["public_token"])
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			f.activeRun(q)
			// Reading the link records nothing (a mail scanner reads it
			// too); the customer's page reports the view, once however
			// often it is shown.
			if pub := f.must(200, "GET", "/v1/public/quotes/"+token, "", nil); pub["status"] != "sent" || pub["company"] != "Acme Roofing" {
				t.Fatalf("public read: %v", pub)
			}
			if pub := f.must(200, "POST", "/v1/public/quotes/"+token+"/view", "", nil); pub["status"] != "viewed" {
				t.Fatalf("public view: %v", pub)
			}
			f.must(200, "POST", "/v1/public/quotes/"+token+"/view", "", nil)
			if pub := f.must(200, "POST", "/v1/public/quotes/"+token+"/reject", "", map[string]any{"reason": "too expensive"}); pub["status"] != "rejected" {
				t.Fatalf("public reject: %v", pub)
			}
			f.problem(f.call("POST", "/v1/public/quotes/"+token+"/accept", "", nil), 409, "conflict")
			f.problem(f.call("GET", "/v1/public/quotes/not-a-token", "", nil), 404, "not-found")
			tl := f.must(200, "GET", "/v1/leads/"+f.lead+"/timeline", f.key, nil)
			var triggers []string
			for _, e := range tl["events"].([]any) {
				triggers = append(triggers, str(e.(map[string]any)["trigger"]))
			}
			if strings.Join(triggers, ",") != "quote.sent,quote.viewed,quote.rejected" || len(tl["runs"].([]any)) != 1 ||
				len(tl["messages"].([]any)) < 1 || len(tl["messages"].([]any)[0].(map[string]any)["attempt_list"].([]any)) != 1 {
				t.Fatalf("timeline: events %v, %d runs, messages %v", triggers, len(tl["runs"].([]any)), tl["messages"])
			}
		})
		t.Run("quotes past valid_until expire by themselves", func(t *testing.T) {
			t.Parallel()
			f := newFlow(t, x, nil, nil)
			q := str(f.must(201, "POST", "/v1/quotes", f.key, map[string]any{"lead_id": f.lead, "number": quoteNumber(), "amount": 1.0,
				"currency": "EUR", "valid_until": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})["id"])
			f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
			// The server's own periodic sweep may expire it first; either
			// way, once this sweep returns the quote is expired, once.
			if _, err := f.app.ExpireDueQuotes(t.Context(), 100); err != nil {
				t.Fatalf("expire due quotes: %v", err)
			}
			if got := f.must(200, "GET", "/v1/quotes/"+q, f.key, nil); got["status"] != "expired" {
				t.Fatalf("status %v", got["status"])
			}
			evs := f.must(200, "GET", "/v1/events?quote_id="+q+"&trigger=quote.expired", f.key, nil)["items"].([]any)
			if len(evs) != 1 {
				t.Fatalf("%d quote.expired events", len(evs))
			}
		})
	})
}

func TestStepConditionsAndRunCancel(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		f := newFlow(t, x, nil, nil)
		// A workflow whose first email only goes to big quotes.
		wf := str(f.must(201, "POST", "/v1/workflows", f.key, map[string]any{"name": "Big only", "trigger": "quote.accepted",
			"steps": []any{
				map[string]any{"type": "send_email", "when": map[string]any{"all": []any{map[string]any{"field": "quote.amount", "op": "gte", "value": 1000}}},
					"email": map[string]any{"subject": "Big thanks", "text": "Thanks"}},
				map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}},
				map[string]any{"type": "send_email", "email": map[string]any{"subject": "Later", "text": "Later"}},
			}})["id"])
		f.rule(f.key, "quote.accepted", wf, true)
		q := f.quote() // 99.5 EUR: not big
		f.must(200, "POST", "/v1/quotes/"+q+"/send", f.key, nil)
		f.must(200, "POST", "/v1/quotes/"+q+"/accept", f.key, nil)
		var run map[string]any
		eventually(t, "the accepted run waits", func() (bool, string) {
			runs := f.must(200, "GET", "/v1/runs?status=active&quote_id="+q, f.key, nil)["items"].([]any)
			if len(runs) != 1 {
				return false, fmt.Sprint(len(runs), " active runs")
			}
			run = f.must(200, "GET", "/v1/runs/"+str(runs[0].(map[string]any)["id"]), f.key, nil)
			steps, _ := run["steps"].([]any)
			return len(steps) == 2, fmt.Sprint(steps)
		})
		first := run["steps"].([]any)[0].(map[string]any)
		if first["status"] != "skipped" || first["outcome"] != "condition_false" {
			t.Fatalf("first step %v", first)
		}
		if ms := f.messages(f.key, "quote_id="+q+"&trigger=quote.accepted"); len(ms) != 0 {
			t.Fatalf("a skipped step wrote messages: %v", ms)
		}
		// An admin cancels the waiting run: the later step never runs.
		got := f.must(200, "POST", "/v1/runs/"+str(run["id"])+"/cancel", f.key, nil, "Idempotency-Key", "cancel-run")
		if got["status"] != "cancelled" {
			t.Fatalf("cancel: %v", got)
		}
		// The same cancel with its key is answered as the first time.
		if r := f.call("POST", "/v1/runs/"+str(run["id"])+"/cancel", f.key, nil, "Idempotency-Key", "cancel-run"); r.Status != 200 ||
			r.Header.Get("Idempotent-Replayed") != "true" || r.JSON["status"] != "cancelled" {
			t.Fatalf("replayed cancel: %d %s", r.Status, r.Raw)
		}
		f.problem(f.call("POST", "/v1/runs/"+str(run["id"])+"/cancel", f.key, nil), 409, "conflict")
		steps := got["steps"].([]any)
		if len(steps) != 2 || steps[1].(map[string]any)["status"] != "cancelled" {
			t.Fatalf("steps after cancel: %v", steps)
		}
	})
}

func TestHTMLEmailsEscapeLeadData(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		key := e.tenant("Acme", nil)
		lead := str(e.must(201, "POST", "/v1/leads", key, map[string]any{"first_name": `<a href="https://evil.example">click</a>`})["id"])
		wf := e.must(201, "POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "Hi {{ lead.first_name }}",
				"text": "Hi {{ lead.first_name }}", "html": "<p>Hi {{ lead.first_name }}</p>{{ '<hr>' | raw }}"}}}})
		step := str(wf["steps"].([]any)[0].(map[string]any)["id"])
		out := e.must(200, "POST", "/v1/workflows/"+str(wf["id"])+"/steps/"+step+"/preview", key, map[string]any{"lead_id": lead})
		em := out["email"].(map[string]any)
		if em["html"] != `<p>Hi &lt;a href=&#34;https://evil.example&#34;&gt;click&lt;/a&gt;</p><hr>` {
			t.Fatalf("html %q", em["html"])
		}
		if em["text"] != `Hi <a href="https://evil.example">click</a>` {
			t.Fatalf("text %q", em["text"])
		}
		// raw only belongs in HTML bodies.
		r := e.call("POST", "/v1/workflows", key, map[string]any{"name": "W", "trigger": "quote.sent",
			"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "{{ lead.first_name | raw }}", "text": "t"}}}})
		if loc := e.problem(r, 422, "validation"); loc != "body.steps[0].email.subject" {
			t.Fatalf("location %q", loc)
		}
	})
}

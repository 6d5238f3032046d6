package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// Issue 13's end-to-end tests: Meta-shaped webhooks (whatsapptest builds
// them as Meta's reference documents them; whatsapp's tests hold the
// builder to the reference payloads) posted to the API, and workflows run
// step by step.
//
// The job queue takes jobs but is never started: the tests run each step
// (App.RunStep) and deferred delivery (App.Deliver) themselves, so that a
// reply is known to arrive between two steps without waiting on a clock.

// replyEnv is one tenant with email on the log provider and WhatsApp on
// the fake Cloud API.
type replyEnv struct {
	*env
	wa       *whatsapptest.Server
	key      string
	tenantID string
}

// replyPhones numbers the leads' phones across tests.
var replyPhones atomic.Int64

func setupReplies(t *testing.T, dialect string, tenant map[string]any) *replyEnv {
	t.Helper()
	return setupRepliesAt(t, dialect, tenant, nil)
}

// setupRepliesAt is setupReplies with the database's and the app's clock
// (now when nil).
func setupRepliesAt(t *testing.T, dialect string, tenant map[string]any, clock func() time.Time) *replyEnv {
	t.Helper()
	db := storetest.Open(t, dialect)
	if clock != nil {
		db.Now = clock
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.New(db, jobs.Config{Workers: 1, RescueAfter: time.Minute, ExpireEvery: time.Hour}, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a := app.New(db, q, app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test", Registry: reg}, log)
	wa := whatsapptest.Start(t)
	wa.AddTemplate(whatsapptest.Template{Name: "quote_sent", Language: "en_US", Body: "Hi {{1}}, your quote {{2}} is ready."})
	a.Senders = senders.New(senders.Options{Log: logsender.New(nil), WhatsAppBaseURL: wa.URL(), WhatsAppThrottle: whatsapp.NewThrottle(0, 0)})
	a.Rand = func() float64 { return 0 }
	if clock != nil {
		a.Now = clock
	}
	srv := httptest.NewServer(api.New(a, log, api.Options{Registry: reg}))
	t.Cleanup(srv.Close)
	r := &replyEnv{env: &env{t: t, srv: srv, app: a}, wa: wa}
	ch := wa.Channel()
	body := map[string]any{"mode": "engine", "timezone": "UTC", "channels": map[string]any{
		"email": map[string]any{"provider": "log", "from": "Acme Roofing <quotes@acme.example>"},
		"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": ch.PhoneNumberID, "business_account_id": ch.BusinessAccountID,
			"access_token": ch.AccessToken, "app_secret": ch.AppSecret, "verify_token": ch.VerifyToken},
	}}
	for k, v := range tenant {
		body[k] = v
	}
	r.key = r.tenant("Acme Roofing", body)
	r.tenantID = str(r.must(200, "GET", "/v1/tenant", r.key, nil)["id"])
	return r
}

// forEachReplyDB runs fn on every database, with a tenant made of the
// default settings and extra.
func forEachReplyDB(t *testing.T, extra map[string]any, fn func(t *testing.T, r *replyEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, setupReplies(t, d, extra))
		})
	}
}

// phone returns a number no other lead of the tests has.
func (r *replyEnv) phone() string { return fmt.Sprintf("+3519180%05d", replyPhones.Add(1)) }

// lead creates a lead with phone, opted in to WhatsApp.
func (r *replyEnv) lead(phone, name string) string {
	r.t.Helper()
	return str(r.must(201, "POST", "/v1/leads", r.key, map[string]any{"first_name": name, "last_name": "Silva",
		"email": strings.ToLower(name) + "@example.com", "phone": phone, "whatsapp_opt_in": true, "source": "web"})["id"])
}

// workflow creates a workflow for quote.sent with steps and exit_on, and
// the catch-all rule that assigns it.
func (r *replyEnv) workflow(exitOn []string, steps ...map[string]any) string {
	r.t.Helper()
	wf := str(r.must(201, "POST", "/v1/workflows", r.key, map[string]any{"name": "Follow-up", "trigger": "quote.sent",
		"exit_on": exitOn, "steps": steps})["id"])
	r.must(201, "POST", "/v1/assignment-rules", r.key, map[string]any{"name": "All", "trigger": "quote.sent", "enabled": true,
		"workflow_id": wf, "condition": map[string]any{"all": []any{}}})
	return wf
}

// send sends a new quote of lead and returns the quote and its run.
func (r *replyEnv) send(lead string) (quote, run string) {
	r.t.Helper()
	quote = str(r.must(201, "POST", "/v1/quotes", r.key, map[string]any{"lead_id": lead, "number": quoteNumber(), "amount": 1250.0,
		"currency": "EUR"})["id"])
	r.must(200, "POST", "/v1/quotes/"+quote+"/send", r.key, nil)
	runs := r.must(200, "GET", "/v1/runs?quote_id="+quote, r.key, nil)["items"].([]any)
	if len(runs) != 1 {
		r.t.Fatalf("quote %s: %d runs, want 1", quote, len(runs))
	}
	return quote, str(runs[0].(map[string]any)["id"])
}

// step runs step position of a run, with its delivery when one is due.
func (r *replyEnv) step(run string, position int) {
	r.t.Helper()
	if err := r.app.RunStep(context.Background(), r.tenantID, run, position); err != nil {
		r.t.Fatalf("step %d of run %s: %v", position, run, err)
	}
}

// deliver runs the delivery job of a queued or scheduled message.
func (r *replyEnv) deliver(message string) {
	r.t.Helper()
	if err := r.app.Deliver(context.Background(), r.tenantID, message); err != nil {
		r.t.Fatalf("deliver %s: %v", message, err)
	}
}

// hook posts a webhook body with its signature and returns the answer.
func (r *replyEnv) hook(body []byte, sig string) map[string]any {
	r.t.Helper()
	return r.must(200, "POST", "/v1/webhooks/whatsapp/"+r.tenantID, "", string(body), "X-Hub-Signature-256", sig)
}

// userSends is customers writing through the fake Meta, which opens their
// window and posts the webhook; it returns the wamids.
func (r *replyEnv) userSends(msgs ...whatsapptest.Message) []string {
	r.t.Helper()
	body, sig, ids := r.wa.UserSends(msgs...)
	if got := r.hook(body, sig); got["inbound"] != float64(len(msgs)) {
		r.t.Fatalf("webhook stored %v messages, want %d", got["inbound"], len(msgs))
	}
	return ids
}

func (r *replyEnv) timeline(lead string) map[string]any {
	r.t.Helper()
	return r.must(200, "GET", "/v1/leads/"+lead+"/timeline", r.key, nil)
}

func (r *replyEnv) messagesOf(query string) []map[string]any {
	r.t.Helper()
	var out []map[string]any
	for _, m := range r.must(200, "GET", "/v1/messages?"+query, r.key, nil)["items"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func items(v any) []map[string]any {
	var out []map[string]any
	for _, x := range v.([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// lastRequest is the fake's last send to phone.
func (r *replyEnv) lastRequest(phone string) whatsapptest.Request {
	r.t.Helper()
	var last *whatsapptest.Request
	for _, q := range r.wa.Requests() {
		if "+"+q.Body.To == phone {
			last = &q
		}
	}
	if last == nil {
		r.t.Fatalf("nothing was sent to %s", phone)
	}
	return *last
}

var waTemplate = map[string]any{"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}}

// TestReplyOnTheTimeline: a customer's answer to the quote's WhatsApp
// message, in the shapes Meta documents (a text quoting the message, an
// image, a type Meta has not documented), is on the lead's timeline and
// in the inbound list, attributed to the message it answers; a second
// delivery of the same webhook stores nothing again.
func TestReplyOnTheTimeline(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		lead := r.lead(phone, "Ana")
		r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate})
		quote, run := r.send(lead)
		r.step(run, 0)
		sent := r.messagesOf("quote_id=" + quote)
		if len(sent) != 1 || sent[0]["status"] != "sent" {
			t.Fatalf("the quote's message: %v", sent)
		}
		text := whatsapptest.Text(phone, "Does it come in another colour?")
		text.Context = str(sent[0]["provider_message_id"])
		odd := whatsapptest.Message{From: phone, Type: "hologram", Content: map[string]any{"id": "a kind Meta may add"}}
		body, sig, ids := r.wa.UserSends(text, whatsapptest.Image(phone, "2754859441498128", "image/jpeg", "the roof"), odd)
		if got := r.hook(body, sig); got["inbound"] != 3.0 {
			t.Fatalf("first delivery: %v", got)
		}
		for range 2 {
			if got := r.hook(body, sig); got["inbound"] != 0.0 {
				t.Fatalf("a redelivery stored %v", got["inbound"])
			}
		}
		tl := r.timeline(lead)
		in := items(tl["inbound"])
		if len(in) != 3 {
			t.Fatalf("timeline inbound %v", in)
		}
		first := in[0]
		if first["text"] != "Does it come in another colour?" || first["match"] != "lead" || first["lead_id"] != lead ||
			first["provider_message_id"] != ids[0] || first["from"] != phone || first["type"] != "text" ||
			first["reply_to"] != sent[0]["id"] || first["trigger"] != "quote.sent" || first["context_id"] != text.Context {
			t.Fatalf("the reply on the timeline: %v", first)
		}
		media := in[1]["media"].(map[string]any)
		if in[1]["type"] != "image" || in[1]["text"] != "the roof" || media["id"] != "2754859441498128" || media["mime_type"] != "image/jpeg" {
			t.Fatalf("the image: %v", in[1])
		}
		if in[2]["type"] != "hologram" || in[2]["raw"].(map[string]any)["hologram"] == nil {
			t.Fatalf("a type Meta has not documented is not stored as sent: %v", in[2])
		}
		if got := items(r.must(200, "GET", "/v1/inbound?lead_id="+lead, r.key, nil)["items"]); len(got) != 3 {
			t.Fatalf("GET /v1/inbound?lead_id: %v", got)
		}
		one := r.must(200, "GET", "/v1/inbound/"+str(first["id"]), r.key, nil)
		if one["text"] != first["text"] {
			t.Fatalf("GET /v1/inbound/{id}: %v", one)
		}
		if inbox := items(r.must(200, "GET", "/v1/inbox", r.key, nil)["items"]); len(inbox) != 0 {
			t.Fatalf("a lead's replies are in the inbox: %v", inbox)
		}
	})
}

// TestInboxUnknownAndSharedNumbers: a message from a number no lead has is
// kept in the inbox; one from a number two leads share names both, unless
// it quotes our message to one of them.
func TestInboxUnknownAndSharedNumbers(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		stranger, shared := r.phone(), r.phone()
		ana, rui := r.lead(shared, "Ana"), r.lead(shared, "Rui")
		r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate})
		r.userSends(whatsapptest.Text(stranger, "Hi, who is this?"), whatsapptest.Text(shared, "Hello"))
		inbox := items(r.must(200, "GET", "/v1/inbox", r.key, nil)["items"])
		if len(inbox) != 2 {
			t.Fatalf("inbox %v", inbox)
		}
		if inbox[0]["match"] != "unknown_number" || inbox[0]["from"] != stranger || inbox[0]["lead_id"] != nil ||
			len(inbox[0]["candidates"].([]any)) != 0 {
			t.Fatalf("the unknown number's message: %v", inbox[0])
		}
		cands := items(inbox[1]["candidates"])
		if inbox[1]["match"] != "ambiguous" || len(cands) != 2 || cands[0]["lead_id"] != ana || cands[1]["lead_id"] != rui ||
			cands[0]["first_name"] != "Ana" || cands[1]["first_name"] != "Rui" {
			t.Fatalf("the shared number's message: %v", inbox[1])
		}
		if got := items(r.must(200, "GET", "/v1/inbox?match=ambiguous", r.key, nil)["items"]); len(got) != 1 || got[0]["id"] != inbox[1]["id"] {
			t.Fatalf("inbox?match=ambiguous: %v", got)
		}
		// A reply quoting the quote message sent to Rui is Rui's.
		quote, run := r.send(rui)
		r.step(run, 0)
		wamid := str(r.messagesOf("quote_id=" + quote)[0]["provider_message_id"])
		reply := whatsapptest.Text(shared, "Yes please")
		reply.Context = wamid
		r.userSends(reply)
		got := items(r.timeline(rui)["inbound"])
		if len(got) != 1 || got[0]["match"] != "lead" || got[0]["text"] != "Yes please" {
			t.Fatalf("Rui's timeline: %v", got)
		}
		if n := len(items(r.must(200, "GET", "/v1/inbox", r.key, nil)["items"])); n != 2 {
			t.Fatalf("the inbox grew to %d", n)
		}
	})
}

// TestInboundWebhookBadSignature: customers' messages are refused, and
// nothing of them stored, without the tenant's signature, exactly as status
// webhooks are.
func TestInboundWebhookBadSignature(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		r.lead(phone, "Ana")
		body, sig, _ := whatsapptest.InboundWebhook(whatsapptest.AppSecret, whatsapptest.Text(phone, "STOP"))
		forged, forgedSig, _ := whatsapptest.InboundWebhook("not-the-secret", whatsapptest.Text(phone, "STOP"))
		hook := "/v1/webhooks/whatsapp/" + r.tenantID
		want := r.call("POST", hook, "", string(forged), "X-Hub-Signature-256", forgedSig)
		r.problem(want, 401, "unauthorized")
		for name, res := range map[string]response{
			"unsigned":            r.call("POST", hook, "", string(body)),
			"signature of others": r.call("POST", hook, "", string(body), "X-Hub-Signature-256", forgedSig),
			"body changed":        r.call("POST", hook, "", strings.Replace(string(body), "STOP", "HALT", 1), "X-Hub-Signature-256", sig),
			"no sha256= prefix":   r.call("POST", hook, "", string(body), "X-Hub-Signature-256", strings.TrimPrefix(sig, "sha256=")),
		} {
			if res.Status != want.Status || string(res.Raw) != string(want.Raw) {
				t.Errorf("%s: %d %s, want %d %s", name, res.Status, res.Raw, want.Status, want.Raw)
			}
		}
		if got := items(r.must(200, "GET", "/v1/inbound", r.key, nil)["items"]); len(got) != 0 {
			t.Fatalf("a refused webhook stored %v", got)
		}
		leads := items(r.must(200, "GET", "/v1/leads", r.key, nil)["items"])
		if leads[0]["whatsapp_opt_in"] != true {
			t.Fatal("a refused STOP changed the lead's consent")
		}
	})
}

// TestStopSuppressesTheNextWhatsAppStep: a lead that answers STOP after
// the first WhatsApp message is opted out, the change is recorded with the
// message that made it, and the workflow's next WhatsApp step is
// suppressed with reason opted_out; START opts the lead back in.
func TestStopSuppressesTheNextWhatsAppStep(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		lead := r.lead(phone, "Ana")
		r.workflow(nil,
			map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate},
			map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}},
			map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate})
		quote, run := r.send(lead)
		r.step(run, 0)
		r.step(run, 1)
		ids := r.userSends(whatsapptest.Text(phone, "Stop!"))
		l := r.must(200, "GET", "/v1/leads/"+lead, r.key, nil)
		if l["whatsapp_opt_in"] != false || l["whatsapp_opted_out_at"] == nil {
			t.Fatalf("after STOP the lead is %v", l)
		}
		r.step(run, 2)
		ms := r.messagesOf("quote_id=" + quote)
		if len(ms) != 2 || ms[0]["status"] != "sent" || ms[1]["status"] != "suppressed" || ms[1]["reason"] != "opted_out" {
			t.Fatalf("messages %v", statuses(ms))
		}
		if n := r.wa.Count(phone); n != 1 {
			t.Fatalf("Meta got %d messages for the lead, want 1", n)
		}
		tl := r.timeline(lead)
		cs := items(tl["consent_changes"])
		in := items(tl["inbound"])
		if len(cs) != 1 || cs[0]["channel"] != "whatsapp" || cs[0]["opted_in"] != false || cs[0]["source"] != "keyword" ||
			cs[0]["detail"] != "STOP" || cs[0]["inbound_id"] != in[0]["id"] || cs[0]["trigger"] != "quote.sent" {
			t.Fatalf("consent changes %v (inbound %v)", cs, in)
		}
		if in[0]["consent"] != "opt_out" || in[0]["provider_message_id"] != ids[0] {
			t.Fatalf("the STOP message: %v", in[0])
		}
		// STOP again records nothing; START opts back in.
		r.userSends(whatsapptest.Text(phone, "STOP"), whatsapptest.Text(phone, "start"))
		cs = items(r.timeline(lead)["consent_changes"])
		if len(cs) != 2 || cs[1]["opted_in"] != true || cs[1]["detail"] != "START" {
			t.Fatalf("consent changes %v", cs)
		}
		if l := r.must(200, "GET", "/v1/leads/"+lead, r.key, nil); l["whatsapp_opt_in"] != true || l["whatsapp_opted_out_at"] != nil {
			t.Fatalf("after START the lead is %v", l)
		}
	})
}

// TestMetaOptOutButtonAndPreference: Meta's "Stop promotions" button (a
// button message) and its marketing preference webhook opt out; a
// step with an email fallback then goes by email.
func TestMetaOptOutButtonAndPreference(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		a, b := r.phone(), r.phone()
		ana, rui := r.lead(a, "Ana"), r.lead(b, "Rui")
		r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate, "fallback_channel": "email",
			"email": map[string]any{"subject": "Your quote {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}})
		r.userSends(whatsapptest.Button(a, "Stop promotions", "Stop promotions", ""))
		body, sig := whatsapptest.PreferenceWebhook(whatsapptest.AppSecret, b, "stop", time.Time{})
		r.hook(body, sig)
		r.hook(body, sig) // redelivered: nothing changes twice
		for lead, source := range map[string]string{ana: "button", rui: "preference"} {
			cs := items(r.timeline(lead)["consent_changes"])
			if len(cs) != 1 || cs[0]["source"] != source || cs[0]["opted_in"] != false {
				t.Fatalf("lead %s: consent changes %v", lead, cs)
			}
			quote, run := r.send(lead)
			r.step(run, 0)
			ms := r.messagesOf("quote_id=" + quote)
			if len(ms) != 1 || ms[0]["channel"] != "email" || ms[0]["status"] != "sent" || ms[0]["reason"] != nil && ms[0]["reason"] != "" {
				t.Fatalf("lead %s after opting out: %v", lead, ms)
			}
		}
		body, sig = whatsapptest.PreferenceWebhook(whatsapptest.AppSecret, b, "resume", time.Time{})
		r.hook(body, sig)
		if l := r.must(200, "GET", "/v1/leads/"+rui, r.key, nil); l["whatsapp_opt_in"] != true {
			t.Fatalf("after resume: %v", l)
		}
	})
}

// TestOptOutFromSharedNumberAppliesToEveryLead: an opt-out from a number
// two leads share opts both out (any message to that number reaches the
// person who asked); an opt-in from it opts nobody in, unless it quotes
// our message to one of them, who alone is opted in.
func TestOptOutFromSharedNumberAppliesToEveryLead(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		shared := r.phone()
		ana, rui := r.lead(shared, "Ana"), r.lead(shared, "Rui")
		r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate})
		quote, run := r.send(rui)
		r.step(run, 0)
		wamid := str(r.messagesOf("quote_id=" + quote)[0]["provider_message_id"])
		r.userSends(whatsapptest.Text(shared, "BAJA"))
		for _, l := range []string{ana, rui} {
			if got := r.must(200, "GET", "/v1/leads/"+l, r.key, nil); got["whatsapp_opt_in"] != false {
				t.Fatalf("lead %s: %v", l, got)
			}
		}
		r.userSends(whatsapptest.Text(shared, "START"))
		for _, l := range []string{ana, rui} {
			if got := r.must(200, "GET", "/v1/leads/"+l, r.key, nil); got["whatsapp_opt_in"] != false {
				t.Fatalf("lead %s opted in from a shared number: %v", l, got)
			}
		}
		start := whatsapptest.Text(shared, "START")
		start.Context = wamid
		r.userSends(start)
		for l, want := range map[string]bool{ana: false, rui: true} {
			if got := r.must(200, "GET", "/v1/leads/"+l, r.key, nil); got["whatsapp_opt_in"] != want {
				t.Fatalf("after START quoting Rui's message, lead %s: %v", l, got)
			}
		}
	})
}

// TestExitOnRepliedCancelsAWaitingRun: a reply cancels the lead's runs of
// workflows whose exit_on lists replied: the run waiting between steps
// ends, its pending message (held by quiet hours) is cancelled with reason
// replied, the next step never runs; the dry run names replied among what
// would cancel it; a workflow that does not list replied goes on.
func TestExitOnRepliedCancelsAWaitingRun(t *testing.T) {
	now := time.Now().UTC()
	quiet := map[string]any{"quiet_hours": map[string]any{"start": now.Add(-time.Minute).Format("15:04"), "end": now.Add(-2 * time.Minute).Format("15:04")}}
	forEachReplyDB(t, quiet, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		lead := r.lead(phone, "Ana")
		email := func(subject string) map[string]any {
			return map[string]any{"type": "send_email", "email": map[string]any{"subject": subject, "text": "Hi {{ lead.first_name }}"}}
		}
		r.workflow([]string{"accepted", "replied"}, email("Your quote"), map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}}, email("Still there?"))
		other := str(r.must(201, "POST", "/v1/workflows", r.key, map[string]any{"name": "Viewed", "trigger": "quote.viewed",
			"exit_on": []string{"accepted"}, "steps": []any{map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}}, email("Seen")}})["id"])
		r.must(201, "POST", "/v1/assignment-rules", r.key, map[string]any{"name": "Viewed", "trigger": "quote.viewed", "enabled": true,
			"workflow_id": other, "condition": map[string]any{"all": []any{}}})
		sim := r.must(200, "POST", "/v1/leads/"+lead+"/simulate", r.key, map[string]any{"trigger": "quote.sent"})
		if got := sim["cancelled_by"].([]any); len(got) != 2 || got[0] != "accepted" || got[1] != "replied" {
			t.Fatalf("dry run cancelled_by %v", got)
		}
		quote, run := r.send(lead)
		r.step(run, 0)
		r.step(run, 1)
		r.must(200, "POST", "/v1/quotes/"+quote+"/view", r.key, nil)
		var viewed string
		for _, x := range items(r.must(200, "GET", "/v1/runs?quote_id="+quote, r.key, nil)["items"]) {
			if x["id"] != run {
				viewed = str(x["id"])
			}
		}
		pending := r.messagesOf("quote_id=" + quote)
		if len(pending) != 1 || pending[0]["status"] != "scheduled" {
			t.Fatalf("before the reply: %v", statuses(pending))
		}
		r.userSends(whatsapptest.Text(phone, "Can you come on Tuesday?"))
		got := r.must(200, "GET", "/v1/runs/"+run, r.key, nil)
		if got["status"] != "cancelled" || got["reason"] != "exit_on: replied" {
			t.Fatalf("the run after the reply: %v", got)
		}
		for _, s := range items(got["steps"]) {
			if s["status"] == "scheduled" {
				t.Fatalf("a step is still scheduled: %v", s)
			}
		}
		ms := r.messagesOf("quote_id=" + quote)
		if len(ms) != 1 || ms[0]["status"] != "cancelled" || ms[0]["reason"] != "replied" {
			t.Fatalf("the pending message: %v", ms)
		}
		r.step(run, 2) // the wait's job, had it run
		if n := len(r.messagesOf("quote_id=" + quote)); n != 1 {
			t.Fatalf("the cancelled run sent %d messages", n)
		}
		if st := r.must(200, "GET", "/v1/runs/"+viewed, r.key, nil)["status"]; st != "active" {
			t.Fatalf("the run of a workflow without replied is %v", st)
		}
	})
}

// TestFreeFormTextInsideAndOutsideTheWindow: a send_whatsapp step's
// free-form text goes as a Cloud API text message while the lead's reply
// keeps the 24-hour window open; outside it the step's template goes
// instead, and a text-only step with an email fallback sends the email.
// When Meta refuses a text the window no longer allows (131047), the
// message fails with the window class and the template follows.
func TestFreeFormTextInsideAndOutsideTheWindow(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		inside, outside, stale, meta := r.phone(), r.phone(), r.phone(), r.phone()
		leads := map[string]string{}
		for _, p := range []string{inside, outside, stale, meta} {
			leads[p] = r.lead(p, "Ana")
		}
		r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{
			"text":     "Hi {{ lead.first_name }}, thanks for writing. Your quote {{ quote.number }} is ready.",
			"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}}})
		r.userSends(whatsapptest.Text(inside, "Hello"))
		old := whatsapptest.Text(stale, "Hello, a day ago")
		old.Timestamp = time.Now().Add(-25 * time.Hour)
		r.userSends(old)
		// Stored by quoteflow, but Meta's window for this number is shut.
		body, sig, _ := whatsapptest.InboundWebhook(whatsapptest.AppSecret, whatsapptest.Text(meta, "Hello"))
		r.hook(body, sig)

		run := func(phone string) map[string]any {
			quote, run := r.send(leads[phone])
			r.step(run, 0)
			ms := r.messagesOf("quote_id=" + quote)
			for _, m := range ms {
				if m["status"] == "queued" || m["status"] == "scheduled" {
					r.deliver(str(m["id"]))
				}
			}
			ms = r.messagesOf("quote_id=" + quote)
			return ms[len(ms)-1]
		}
		m := run(inside)
		req := r.lastRequest(inside)
		if m["status"] != "sent" || m["template"] != nil || req.Body.Type != "text" || req.Body.Text == nil ||
			req.Body.Text.Body != "Hi Ana, thanks for writing. Your quote "+str(r.must(200, "GET", "/v1/quotes/"+str(m["quote_id"]), r.key, nil)["number"])+" is ready." {
			t.Fatalf("inside the window: message %v, request %+v", m, req.Body)
		}
		for _, p := range []string{outside, stale} {
			m := run(p)
			if req := r.lastRequest(p); m["status"] != "sent" || req.Body.Type != "template" || req.Body.Template.Name != "quote_sent" {
				t.Fatalf("%s outside the window: message %v, request %+v", p, m, req.Body)
			}
		}
		// Meta refuses: the text fails with the window class, the
		// template goes after it.
		quote, runID := r.send(leads[meta])
		r.step(runID, 0)
		ms := r.messagesOf("quote_id=" + quote)
		if len(ms) != 2 || ms[0]["status"] != "failed" || ms[0]["error_class"] != "window" || ms[0]["reason"] != "outside_window" ||
			ms[1]["fallback_of"] != ms[0]["id"] || ms[1]["status"] != "queued" {
			t.Fatalf("after Meta's 131047: %v", ms)
		}
		atts := items(r.must(200, "GET", "/v1/messages/"+str(ms[0]["id"]), r.key, nil)["attempt_list"])
		if len(atts) != 1 || !strings.Contains(str(atts[0]["error"]), "131047") {
			t.Fatalf("the text's attempt: %v", atts)
		}
		r.deliver(str(ms[1]["id"]))
		if m := r.must(200, "GET", "/v1/messages/"+str(ms[1]["id"]), r.key, nil); m["status"] != "sent" || m["template"] == nil {
			t.Fatalf("the template after the text: %v", m)
		}
	})
}

// TestFreeFormTextOnlyFallsBackToEmail: a text-only step with an email
// fallback sends the email outside the window; one without a fallback is
// suppressed with reason outside_window; the dry run says which.
func TestFreeFormTextOnlyFallsBackToEmail(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		lead := r.lead(phone, "Ana")
		r.workflow(nil,
			map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{"text": "Hi {{ lead.first_name }}"},
				"fallback_channel": "email", "email": map[string]any{"subject": "Your quote", "text": "Hi {{ lead.first_name }}"}},
			map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{"text": "Any questions?"}})
		sim := items(r.must(200, "POST", "/v1/leads/"+lead+"/simulate", r.key, map[string]any{"trigger": "quote.sent"})["steps"])
		if sim[0]["channel"] != "email" || sim[0]["reason"] != "outside_window" || sim[1]["suppressed"] != true || sim[1]["reason"] != "outside_window" {
			t.Fatalf("dry run outside the window: %v", sim)
		}
		quote, run := r.send(lead)
		r.step(run, 0)
		r.step(run, 1)
		ms := r.messagesOf("quote_id=" + quote)
		if len(ms) != 2 || ms[0]["channel"] != "email" || ms[0]["status"] != "sent" || ms[1]["status"] != "suppressed" || ms[1]["reason"] != "outside_window" {
			t.Fatalf("outside the window: %v", ms)
		}
		r.userSends(whatsapptest.Text(phone, "Hi!"))
		sim = items(r.must(200, "POST", "/v1/leads/"+lead+"/simulate", r.key, map[string]any{"trigger": "quote.sent"})["steps"])
		if sim[0]["channel"] != "whatsapp" || sim[0]["whatsapp"].(map[string]any)["text"] != "Hi Ana" {
			t.Fatalf("dry run inside the window: %v", sim[0])
		}
	})
}

// TestWorkflowValidationOfRepliesFeatures: exit_on takes replied; a
// WhatsApp step takes text instead of a template, or both; neither, or a
// language without a template, is a 422 naming the field.
func TestWorkflowValidationOfRepliesFeatures(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		post := func(exitOn []string, wa map[string]any) response {
			return r.call("POST", "/v1/workflows", r.key, map[string]any{"name": "W", "trigger": "quote.sent", "exit_on": exitOn,
				"steps": []any{map[string]any{"type": "send_whatsapp", "whatsapp": wa}}})
		}
		ok := post([]string{"replied"}, map[string]any{"text": "Hi {{ lead.first_name }}"})
		if ok.Status != 201 || ok.JSON["exit_on"].([]any)[0] != "replied" {
			t.Fatalf("a text step with exit_on replied: %d %s", ok.Status, ok.Raw)
		}
		step := ok.JSON["steps"].([]any)[0].(map[string]any)["whatsapp"].(map[string]any)
		if step["text"] != "Hi {{ lead.first_name }}" || step["template"] != "" {
			t.Fatalf("the saved step: %v", step)
		}
		for _, c := range []struct {
			exitOn []string
			wa     map[string]any
			field  string
		}{
			{nil, map[string]any{}, "body.steps[0].whatsapp.template"},
			{nil, map[string]any{"text": "Hi", "language": "en_US"}, "body.steps[0].whatsapp.language"},
			{nil, map[string]any{"text": "Hi {{ lead.frist_name }}"}, "body.steps[0].whatsapp.text"},
			{[]string{"answered"}, map[string]any{"text": "Hi"}, "body.exit_on[0]"},
		} {
			if got := r.problem(post(c.exitOn, c.wa), 422, "validation"); got != c.field {
				t.Errorf("%v %v: 422 naming %q, want %q", c.exitOn, c.wa, got, c.field)
			}
		}
	})
}

// TestTenantConsentKeywords: a tenant's own words replace the defaults
// for their list, are shown with the defaults they keep, and a word in
// both lists is a 422 naming it.
func TestTenantConsentKeywords(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		kw := r.must(200, "GET", "/v1/tenant", r.key, nil)["consent_keywords"].(map[string]any)
		if kw["opt_out_default"] != true || !slices.Contains(kw["opt_out"].([]any), any("STOP")) || !slices.Contains(kw["opt_out"].([]any), any("ARRET")) {
			t.Fatalf("default keywords %v", kw)
		}
		got := r.must(200, "PATCH", "/v1/tenant", r.key, map[string]any{"consent_keywords": map[string]any{"opt_out": []string{"Chega", "Não quero"}}})
		kw = got["consent_keywords"].(map[string]any)
		if kw["opt_out_default"] != false || kw["opt_in_default"] != true || len(kw["opt_out"].([]any)) != 2 {
			t.Fatalf("after PATCH: %v", kw)
		}
		bad := r.call("PATCH", "/v1/tenant", r.key, map[string]any{"consent_keywords": map[string]any{"opt_in": []string{"Go", "chega!"}}})
		if field := r.problem(bad, 422, "validation"); field != "body.consent_keywords.opt_in[1]" {
			t.Fatalf("a word in both lists: 422 naming %q", field)
		}
		phone, other := r.phone(), r.phone()
		lead, kept := r.lead(phone, "Ana"), r.lead(other, "Rui")
		r.userSends(whatsapptest.Text(phone, "nao QUERO"), whatsapptest.Text(other, "STOP"))
		if l := r.must(200, "GET", "/v1/leads/"+lead, r.key, nil); l["whatsapp_opt_in"] != false {
			t.Fatalf("the tenant's word did not opt out: %v", l)
		}
		if l := r.must(200, "GET", "/v1/leads/"+kept, r.key, nil); l["whatsapp_opt_in"] != true {
			t.Fatalf("STOP, no longer the tenant's word, opted out: %v", l)
		}
		got = r.must(200, "PATCH", "/v1/tenant", r.key, map[string]any{"consent_keywords": map[string]any{"opt_out": nil}})
		if kw := got["consent_keywords"].(map[string]any); kw["opt_out_default"] != true {
			t.Fatalf("null did not restore the default: %v", kw)
		}
	})
}

// TestConsentChangesOfUnsubscribeAndAPI: the email's one-click unsubscribe
// and an edit of the lead's flags over the API record their consent
// changes the same way.
func TestConsentChangesOfUnsubscribeAndAPI(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		lead := r.lead(r.phone(), "Ana")
		quote := str(r.must(201, "POST", "/v1/quotes", r.key, map[string]any{"lead_id": lead, "number": quoteNumber(), "amount": 10.0, "currency": "EUR"})["id"])
		token := str(r.must(200, "GET", "/v1/quotes/"+quote, r.key, nil)["public_token"])
		for range 2 {
			r.must(200, "POST", "/v1/public/quotes/"+token+"/unsubscribe", "", "List-Unsubscribe=One-Click",
				"Content-Type", "application/x-www-form-urlencoded")
		}
		r.must(200, "PATCH", "/v1/leads/"+lead, r.key, map[string]any{"whatsapp_opt_in": false, "first_name": "Ana Maria"})
		cs := items(r.timeline(lead)["consent_changes"])
		if len(cs) != 2 || cs[0]["channel"] != "email" || cs[0]["source"] != "unsubscribe" || cs[0]["opted_in"] != false ||
			cs[1]["channel"] != "whatsapp" || cs[1]["source"] != "api" || cs[1]["opted_in"] != false {
			t.Fatalf("consent changes %v", cs)
		}
		// Opted out by the tenant, not the customer: not opted_out.
		if l := r.must(200, "GET", "/v1/leads/"+lead, r.key, nil); l["email_opt_out"] != true || l["whatsapp_opted_out_at"] != nil {
			t.Fatalf("the lead: %v", l)
		}
	})
}

// TestRepliesCounted: replies and opt-outs are in the outbox statistics by
// trigger and workflow, with the reply rate, and in /metrics without lead
// or tenant ids.
func TestRepliesCounted(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		a, b := r.phone(), r.phone()
		ana, rui := r.lead(a, "Ana"), r.lead(b, "Rui")
		wf := r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": waTemplate})
		for _, l := range []string{ana, rui} {
			_, run := r.send(l)
			r.step(run, 0)
		}
		r.userSends(whatsapptest.Text(a, "Thanks!"), whatsapptest.Text(a, "One more question"), whatsapptest.Text(b, "STOP"),
			whatsapptest.Text(r.phone(), "wrong number"))
		st := r.must(200, "GET", "/v1/stats/outbox?bucket=1d", r.key, nil)
		tot := st["totals"].(map[string]any)
		if tot["sent"] != 2.0 || tot["replied"] != 2.0 || tot["replies"] != 4.0 || tot["opt_outs"] != 1.0 || tot["reply_rate"] != 1.0 {
			t.Fatalf("totals %v", tot)
		}
		var ours, none map[string]any
		for _, s := range items(st["replies"]) {
			switch s["workflow"] {
			case wf:
				ours = s
			case "":
				none = s
			}
		}
		if ours == nil || ours["trigger"] != "quote.sent" || ours["sent"] != 2.0 || ours["replied"] != 2.0 || ours["replies"] != 3.0 ||
			ours["opt_outs"] != 1.0 || ours["reply_rate"] != 1.0 {
			t.Fatalf("the workflow's replies %v", ours)
		}
		if none == nil || none["replies"] != 1.0 || none["trigger"] != "" {
			t.Fatalf("the unattributed reply %v", none)
		}
		metrics := string(r.call("GET", "/metrics", "", nil).Raw)
		for _, want := range []string{`quoteflow_inbound_messages_total{match="lead",type="text"} 3`,
			`quoteflow_inbound_messages_total{match="unknown_number",type="text"} 1`,
			`quoteflow_consent_changes_total{change="opt_out",channel="whatsapp",source="keyword"} 1`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, id := range []string{ana, rui, r.tenantID} {
			if strings.Contains(metrics, id) {
				t.Errorf("/metrics names %s", id)
			}
		}
	})
}

// TestConcurrentDeliveriesStoreOnce: Meta may deliver one webhook again
// while the first delivery is still being processed; however many arrive
// at once, the message is stored once and acted on once.
func TestConcurrentDeliveriesStoreOnce(t *testing.T) {
	forEachReplyDB(t, nil, func(t *testing.T, r *replyEnv) {
		phone := r.phone()
		lead := r.lead(phone, "Ana")
		body, sig, _ := r.wa.UserSends(whatsapptest.Text(phone, "STOP"))
		const n = 8
		stored := make(chan float64, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				req, err := http.NewRequest("POST", r.srv.URL+"/v1/webhooks/whatsapp/"+r.tenantID, strings.NewReader(string(body)))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", sig)
				res, err := r.srv.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				defer res.Body.Close()
				var out map[string]any
				if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
					errs <- fmt.Errorf("status %d: %v %v", res.StatusCode, out, err)
					return
				}
				stored <- out["inbound"].(float64)
			}()
		}
		var total float64
		for range n {
			select {
			case v := <-stored:
				total += v
			case err := <-errs:
				t.Fatal(err)
			}
		}
		tl := r.timeline(lead)
		if total != 1 || len(items(tl["inbound"])) != 1 || len(items(tl["consent_changes"])) != 1 {
			t.Fatalf("%v stored by %d deliveries; timeline inbound %d, consent changes %d", total, n,
				len(items(tl["inbound"])), len(items(tl["consent_changes"])))
		}
	})
}

// TestDeferredTextWhoseWindowClosed: a free-form text held by quiet hours
// while the window was open is not sent once the window has closed when
// its time comes: it is suppressed with reason outside_window and the
// step's template goes instead.
func TestDeferredTextWhoseWindowClosed(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			now := time.Date(2026, 6, 3, 5, 0, 0, 0, time.UTC) // a Wednesday, in quiet hours
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			r := setupRepliesAt(t, d, map[string]any{"quiet_hours": map[string]any{"start": "00:00", "end": "06:00"}}, clock)
			phone := r.phone()
			lead := r.lead(phone, "Ana")
			r.workflow(nil, map[string]any{"type": "send_whatsapp", "whatsapp": map[string]any{"text": "Hi {{ lead.first_name }}",
				"template": "quote_sent", "language": "en_US", "parameters": []string{"{{ lead.first_name }}", "{{ quote.number }}"}}})
			reply := whatsapptest.Text(phone, "Hello")
			reply.Timestamp = now.Add(-time.Hour) // the window ends tomorrow at 04:00
			r.userSends(reply)
			quote, run := r.send(lead)
			r.step(run, 0)
			ms := r.messagesOf("quote_id=" + quote)
			if len(ms) != 1 || ms[0]["status"] != "scheduled" || ms[0]["template"] != nil || ms[0]["body"] != "Hi Ana" {
				t.Fatalf("held by quiet hours: %v", ms)
			}
			mu.Lock()
			now = now.Add(24 * time.Hour) // past the window's end
			mu.Unlock()
			r.deliver(str(ms[0]["id"]))
			ms = r.messagesOf("quote_id=" + quote)
			if len(ms) != 2 || ms[0]["status"] != "suppressed" || ms[0]["reason"] != "outside_window" ||
				ms[1]["fallback_of"] != ms[0]["id"] || ms[1]["template"] == nil {
				t.Fatalf("after the window closed: %v", ms)
			}
			if n := r.wa.Attempts(phone); n != 0 {
				t.Fatalf("%d sends reached Meta", n)
			}
		})
	}
}

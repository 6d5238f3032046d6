package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The use cases through App's public API, against a real store on every
// dialect the run has: the job queue is a recorder whose jobs the test
// runs by hand (RunStep, Deliver, Sweep), and the provider is a fake that
// answers as each test scripts it.

// job is a job the app enqueued.
type job struct {
	kind     string // "step" or "deliver"
	tenantID string
	id       string // run id or message id
	position int
	at       time.Time
}

// jobRecorder is an app.Enqueuer that keeps what was enqueued.
type jobRecorder struct {
	mu   sync.Mutex
	jobs []job
}

func (r *jobRecorder) EnqueueStepTx(_ context.Context, _ *store.Tx, tenantID, runID string, position int, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, job{kind: "step", tenantID: tenantID, id: runID, position: position, at: at})
	return nil
}

func (r *jobRecorder) EnqueueDeliveryTx(_ context.Context, _ *store.Tx, tenantID, messageID string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, job{kind: "deliver", tenantID: tenantID, id: messageID, at: at})
	return nil
}

// take returns the jobs enqueued since the last take.
func (r *jobRecorder) take() []job {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.jobs
	r.jobs = nil
	return out
}

// fakeProvider is every tenant's sender: it records each message and
// answers with the next scripted error (nil when the script is empty).
type fakeProvider struct {
	mu     sync.Mutex
	sent   []*channel.Message
	script []error
	// during, if set, runs inside Send before it answers: what happens
	// elsewhere while the provider has the message.
	during func(*channel.Message)
}

func (p *fakeProvider) For(*engine.Tenant, string) (channel.Sender, string, error) {
	return p, "fake", nil
}

func (p *fakeProvider) Send(_ context.Context, m *channel.Message) (channel.Result, error) {
	if p.during != nil {
		p.during(m)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
	if len(p.script) > 0 {
		err := p.script[0]
		p.script = p.script[1:]
		if err != nil {
			return channel.Result{}, err
		}
	}
	return channel.Result{ProviderMessageID: fmt.Sprintf("fake-%d", len(p.sent))}, nil
}

func (p *fakeProvider) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// clock is a time the test moves; the app and the store both read it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// useCase is an App over a fresh database with an engine-mode tenant whose
// one workflow emails once on quote.sent, and a lead with a draft quote.
type useCase struct {
	t        *testing.T
	ctx      context.Context
	a        *app.App
	db       *store.DB
	clock    *clock
	jobs     *jobRecorder
	provider *fakeProvider
	registry *prometheus.Registry
	tenant   string
	lead     string
	quote    *engine.Quote
	// quotes counts the quotes newQuote made: each gets its own number.
	quotes int
}

func forEachUseCase(t *testing.T, fn func(t *testing.T, u *useCase)) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newUseCase(t, d))
		})
	}
}

func newUseCase(t *testing.T, dialect string) *useCase {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dialect)
	u := &useCase{t: t, ctx: ctx, db: db, clock: &clock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)},
		jobs: &jobRecorder{}, provider: &fakeProvider{}, registry: prometheus.NewRegistry()}
	db.Now = u.clock.Now
	u.a = app.New(db, u.jobs, app.Config{PublicBaseURL: "https://quotes.test", Registry: u.registry}, nil)
	u.a.Now = u.clock.Now
	u.a.Senders = u.provider
	u.a.Rand = func() float64 { return 0.5 }
	tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine,
		Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "quotes@acme.test"}}}
	if _, _, err := u.a.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	u.tenant = tn.ID
	wf := &engine.Workflow{TenantID: tn.ID, Name: "Thanks", Trigger: engine.TriggerSent, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted},
		Steps:  []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Your quote {{ quote.number }}", Text: "Hi {{ lead.first_name }}"}}}}
	if err := u.a.CreateWorkflow(ctx, wf); err != nil {
		t.Fatal(err)
	}
	if err := u.a.CreateRule(ctx, &engine.Rule{TenantID: tn.ID, Name: "all", Trigger: engine.AnyTrigger, Enabled: true,
		Condition: json.RawMessage(`{"all":[]}`), WorkflowID: wf.ID}, nil); err != nil {
		t.Fatal(err)
	}
	lead := &engine.Lead{TenantID: tn.ID, FirstName: "Ana", Email: "ana@example.com"}
	if err := u.a.CreateLead(ctx, lead); err != nil {
		t.Fatal(err)
	}
	u.lead = lead.ID
	u.quote = u.newQuote(nil)
	return u
}

// newQuote creates a draft quote of the lead.
func (u *useCase) newQuote(validUntil *time.Time) *engine.Quote {
	u.t.Helper()
	u.quotes++
	q := &engine.Quote{TenantID: u.tenant, LeadID: u.lead, Number: fmt.Sprint("Q-", u.quotes), Currency: "EUR", ValidUntil: validUntil}
	if err := u.a.CreateQuote(u.ctx, q, 1250); err != nil {
		u.t.Fatal(err)
	}
	return q
}

func (u *useCase) action(quoteID string, a engine.Action, key string) *app.ActionResult {
	u.t.Helper()
	res, err := u.a.QuoteAction(u.ctx, app.ActionRequest{TenantID: u.tenant, QuoteID: quoteID, Action: a, IdempotencyKey: key})
	if err != nil {
		u.t.Fatalf("%s: %v", a, err)
	}
	return res
}

// sendAndStep sends the quote and runs its first step's job.
func (u *useCase) sendAndStep() engine.Message {
	u.t.Helper()
	u.action(u.quote.ID, engine.ActionSend, "")
	jobs := u.jobs.take()
	if len(jobs) != 1 || jobs[0].kind != "step" {
		u.t.Fatalf("jobs after the send: %+v, want one step job", jobs)
	}
	if err := u.a.RunStep(u.ctx, jobs[0].tenantID, jobs[0].id, jobs[0].position); err != nil {
		u.t.Fatal(err)
	}
	return u.message()
}

// message is the quote's one message.
func (u *useCase) message() engine.Message {
	u.t.Helper()
	ms, _, err := u.a.ListMessages(u.ctx, u.tenant, engine.MessageFilter{QuoteID: u.quote.ID}, engine.Page{})
	if err != nil {
		u.t.Fatal(err)
	}
	if len(ms) != 1 {
		u.t.Fatalf("%d messages, want 1", len(ms))
	}
	return ms[0]
}

func (u *useCase) attempts(messageID string) []engine.Attempt {
	u.t.Helper()
	atts, err := u.a.ListAttempts(u.ctx, u.tenant, messageID)
	if err != nil {
		u.t.Fatal(err)
	}
	return atts
}

// deliveries renders the quoteflow_deliveries_total series the registry
// holds, one "labels: value" per series.
func (u *useCase) deliveries() string {
	u.t.Helper()
	mfs, err := u.registry.Gather()
	if err != nil {
		u.t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if mf.GetName() != "quoteflow_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out = append(out, fmt.Sprintf("%s: %v", strings.Join(labels, " "), m.GetCounter().GetValue()))
		}
	}
	return strings.Join(out, "; ")
}

func TestQuoteActionRecordsTheEventAndStartsTheRun(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		res := u.action(u.quote.ID, engine.ActionSend, "key-1")
		if res.Quote.Status != engine.QuoteSent || res.Replayed {
			t.Fatalf("quote %s (replayed %v), want sent", res.Quote.Status, res.Replayed)
		}
		d := res.Event.Decision
		if res.Event.Trigger != engine.TriggerSent || d.Outcome != engine.OutcomeWorkflow || d.WorkflowVersion != 1 {
			t.Fatalf("event %s decided %+v, want quote.sent starting the workflow at version 1", res.Event.Trigger, d)
		}
		runs, _, err := u.a.ListRuns(u.ctx, u.tenant, engine.RunFilter{QuoteID: u.quote.ID}, engine.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || runs[0].Status != engine.RunActive || runs[0].EventID != res.Event.ID {
			t.Fatalf("runs %+v, want one active run of the event", runs)
		}
		// The run's first step is a job inserted with it, due now.
		jobs := u.jobs.take()
		if len(jobs) != 1 || jobs[0].kind != "step" || jobs[0].id != runs[0].ID || jobs[0].position != 0 || jobs[0].at.After(u.clock.Now()) {
			t.Fatalf("jobs %+v, want the run's step 0 due now", jobs)
		}

		// The same key again is the first answer, and nothing is done again.
		again := u.action(u.quote.ID, engine.ActionSend, "key-1")
		if !again.Replayed || again.Event.ID != res.Event.ID || again.Quote.Status != engine.QuoteSent {
			t.Fatalf("replay %+v, want the first event replayed", again)
		}
		// The same action on the same revision without a key is a duplicate
		// event that runs nothing.
		dup := u.action(u.quote.ID, engine.ActionSend, "")
		if !dup.Event.Duplicate || dup.Event.DuplicateOf != res.Event.ID || dup.Event.Decision.Source != app.SourceDuplicate {
			t.Fatalf("a second send %+v, want a duplicate of %s", dup.Event, res.Event.ID)
		}
		if jobs := u.jobs.take(); len(jobs) != 0 {
			t.Fatalf("a replay and a duplicate enqueued %+v", jobs)
		}
		// A transition the quote cannot make is refused and changes nothing.
		_, err = u.a.QuoteAction(u.ctx, app.ActionRequest{TenantID: u.tenant, QuoteID: u.newQuote(nil).ID, Action: engine.ActionAccept})
		if engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("accepting a draft: %v, want ECONFLICT", err)
		}

		// Accepting ends the run (the workflow's exit_on).
		u.action(u.quote.ID, engine.ActionAccept, "")
		r, err := u.a.GetRun(u.ctx, u.tenant, runs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != engine.RunCancelled || !strings.Contains(r.Reason, "exit_on") {
			t.Fatalf("run %s (%s) after the acceptance, want cancelled by exit_on", r.Status, r.Reason)
		}
	})
}

func TestRunStepClaimsSendsAndRecordsOnce(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		m := u.sendAndStep()
		if u.provider.calls() != 1 {
			t.Fatalf("the provider was called %d times, want 1", u.provider.calls())
		}
		got := u.provider.sent[0]
		if got.MessageID != m.ID || got.To != "ana@example.com" || got.Email == nil || got.Email.Subject != "Your quote Q-1" ||
			!strings.HasSuffix(got.Email.ListUnsubscribe, "/unsubscribe") {
			t.Fatalf("the provider got %+v", got)
		}
		if m.Status != engine.MsgSent || m.ProviderMessageID != "fake-1" || m.SentAt == nil || m.Attempts != 1 {
			t.Fatalf("message %s %q attempts %d, want sent with the provider's id", m.Status, m.ProviderMessageID, m.Attempts)
		}
		atts := u.attempts(m.ID)
		if len(atts) != 1 || atts[0].Outcome != "sent" || atts[0].FinishedAt == nil || atts[0].ID != got.AttemptID {
			t.Fatalf("attempts %+v, want the one sent attempt the provider was told of", atts)
		}
		r, err := u.a.GetRun(u.ctx, u.tenant, m.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != engine.RunCompleted {
			t.Fatalf("run %s after its last step, want completed", r.Status)
		}
		if jobs := u.jobs.take(); len(jobs) != 0 {
			t.Fatalf("a message sent at once enqueued %+v", jobs)
		}
		if got := u.deliveries(); got != `channel=email outcome=sent provider=log: 1` {
			t.Fatalf("quoteflow_deliveries_total %s, want one sent email through log", got)
		}

		// The job run again (River retried it) does nothing twice.
		if err := u.a.RunStep(u.ctx, u.tenant, m.RunID, 0); err != nil {
			t.Fatal(err)
		}
		if u.provider.calls() != 1 || u.message().Status != engine.MsgSent || len(u.attempts(m.ID)) != 1 {
			t.Fatalf("a step run again: %d provider calls, message %s", u.provider.calls(), u.message().Status)
		}
	})
}

// TestReceiptBeforeTheSendsAnswer: a receipt that reaches us while the
// provider call is still answering (WhatsApp's webhooks can) has moved the
// message to delivered; the send's answer then records the provider's id,
// the send time and the attempt, and leaves the message delivered rather
// than taking it back to sent.
func TestReceiptBeforeTheSendsAnswer(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		u.provider.during = func(cm *channel.Message) {
			err := u.db.Tx(u.ctx, func(tx *store.Tx) error {
				m, err := tx.GetMessageForUpdate(u.ctx, u.tenant, cm.MessageID)
				if err != nil {
					return err
				}
				now := u.clock.Now()
				m.Status, m.DeliveredAt = engine.MsgDelivered, &now
				return tx.QueueUpdateMessage(u.ctx, m)
			})
			if err != nil {
				t.Errorf("the receipt: %v", err)
			}
		}
		m := u.sendAndStep()
		if m.Status != engine.MsgDelivered || m.DeliveredAt == nil || m.ProviderMessageID != "fake-1" || m.SentAt == nil {
			t.Fatalf("message %s, provider id %q, sent at %v, delivered at %v: want delivered, with the send's id and time",
				m.Status, m.ProviderMessageID, m.SentAt, m.DeliveredAt)
		}
		atts := u.attempts(m.ID)
		if len(atts) != 1 || atts[0].Outcome != "sent" || atts[0].ProviderMessageID != "fake-1" || atts[0].FinishedAt == nil {
			t.Fatalf("attempts %+v, want the one, sent", atts)
		}
		if got := u.deliveries(); got != `channel=email outcome=sent provider=log: 1` {
			t.Fatalf("quoteflow_deliveries_total %s, want one sent email through log", got)
		}
	})
}

func TestTransientErrorSchedulesARetryThatDelivers(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		u.provider.script = []error{&channel.Error{Class: channel.Transient, Code: "421", Message: "try later"}}
		m := u.sendAndStep()
		// Rand 0.5 of the first ceiling, 30 s for email.
		wantAt := u.clock.Now().Add(15 * time.Second)
		if m.Status != engine.MsgScheduled || m.Reason != "retry" || m.ScheduledAt == nil || !m.ScheduledAt.Equal(wantAt) || m.ErrorClass != "transient" {
			t.Fatalf("message %s (%s) at %v class %q, want scheduled for retry at %v", m.Status, m.Reason, m.ScheduledAt, m.ErrorClass, wantAt)
		}
		atts := u.attempts(m.ID)
		if len(atts) != 1 || atts[0].Outcome != "retry" || atts[0].RetryAt == nil || !atts[0].RetryAt.Equal(wantAt) {
			t.Fatalf("attempts %+v, want one retried at %v", atts, wantAt)
		}
		jobs := u.jobs.take()
		if len(jobs) != 1 || jobs[0].kind != "deliver" || jobs[0].id != m.ID || !jobs[0].at.Equal(wantAt) {
			t.Fatalf("jobs %+v, want the message's delivery at %v", jobs, wantAt)
		}

		u.clock.Add(15 * time.Second)
		if err := u.a.Deliver(u.ctx, u.tenant, m.ID); err != nil {
			t.Fatal(err)
		}
		m = u.message()
		if m.Status != engine.MsgSent || m.Attempts != 2 || m.LastError != "" || u.provider.calls() != 2 {
			t.Fatalf("after the retry: message %s attempts %d error %q, %d provider calls", m.Status, m.Attempts, m.LastError, u.provider.calls())
		}
		if atts := u.attempts(m.ID); len(atts) != 2 || atts[1].Outcome != "sent" {
			t.Fatalf("attempts %+v, want the second one sent", atts)
		}
		// The delivery job run again finds the message sent and does nothing.
		if err := u.a.Deliver(u.ctx, u.tenant, m.ID); err != nil {
			t.Fatal(err)
		}
		if u.provider.calls() != 2 || len(u.attempts(m.ID)) != 2 {
			t.Fatalf("a delivery run again called the provider %d times", u.provider.calls())
		}
		if jobs := u.jobs.take(); len(jobs) != 0 {
			t.Fatalf("a delivered message enqueued %+v", jobs)
		}
	})
}

func TestTransientErrorsFailTheMessageAfterTheLastAttempt(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		limit := engine.DefaultRetryPolicies()[engine.ChannelEmail].MaxAttempts
		for range limit {
			u.provider.script = append(u.provider.script, &channel.Error{Class: channel.Transient, Message: "busy"})
		}
		m := u.sendAndStep()
		for i := 1; i < limit; i++ {
			jobs := u.jobs.take()
			if len(jobs) != 1 || jobs[0].kind != "deliver" {
				t.Fatalf("after attempt %d: jobs %+v, want one delivery", i, jobs)
			}
			u.clock.Add(jobs[0].at.Sub(u.clock.Now()))
			if err := u.a.Deliver(u.ctx, u.tenant, m.ID); err != nil {
				t.Fatal(err)
			}
		}
		m = u.message()
		if m.Status != engine.MsgFailed || m.Reason != "attempts_exhausted" || m.Attempts != limit || u.provider.calls() != limit {
			t.Fatalf("message %s (%s) after %d attempts and %d calls, want failed after %d", m.Status, m.Reason, m.Attempts, u.provider.calls(), limit)
		}
		if jobs := u.jobs.take(); len(jobs) != 0 {
			t.Fatalf("a failed message enqueued %+v", jobs)
		}
	})
}

func TestSweepExpiresDueQuotesAndForgetsOldKeys(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		soon := u.clock.Now().Add(time.Hour)
		due := u.newQuote(&soon)
		later := u.clock.Now().Add(48 * time.Hour)
		notDue := u.newQuote(&later)
		draft := u.newQuote(&soon) // never sent: nothing to expire
		u.action(due.ID, engine.ActionSend, "")
		u.action(notDue.ID, engine.ActionSend, "")
		req := engine.IdempotentRequest{Method: "POST", Path: "/v1/leads", RequestHash: "h"}
		if _, _, err := u.a.ReserveIdempotencyKey(u.ctx, u.tenant, "k", req); err != nil {
			t.Fatal(err)
		}

		u.clock.Add(25 * time.Hour)
		if err := u.a.Sweep(u.ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			q    *engine.Quote
			want engine.QuoteStatus
		}{{due, engine.QuoteExpired}, {notDue, engine.QuoteSent}, {draft, engine.QuoteDraft}} {
			q, err := u.a.GetQuote(u.ctx, u.tenant, c.q.ID)
			if err != nil {
				t.Fatal(err)
			}
			if q.Status != c.want {
				t.Errorf("quote valid until %v is %s after the sweep, want %s", c.q.ValidUntil, q.Status, c.want)
			}
		}
		evs, _, err := u.a.ListEvents(u.ctx, u.tenant, engine.EventFilter{QuoteID: due.ID, Trigger: engine.TriggerExpired}, engine.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Action != engine.ActionExpire {
			t.Fatalf("expiry events %+v, want one", evs)
		}
		// The key, a day old, was forgotten: reserving it finds nothing.
		if prev, _, err := u.a.ReserveIdempotencyKey(u.ctx, u.tenant, "k", req); err != nil || prev != nil {
			t.Fatalf("reserving the swept key: %+v, %v; want a fresh reservation", prev, err)
		}
		// A second sweep has nothing left to do.
		if err := u.a.Sweep(u.ctx); err != nil {
			t.Fatal(err)
		}
		if evs, _, _ := u.a.ListEvents(u.ctx, u.tenant, engine.EventFilter{Trigger: engine.TriggerExpired}, engine.Page{}); len(evs) != 1 {
			t.Fatalf("%d expiry events after a second sweep, want 1", len(evs))
		}
	})
}

func TestLeadAndQuoteWritesAreValidated(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		err := u.a.CreateLead(u.ctx, &engine.Lead{TenantID: u.tenant, Email: "not an address", Phone: "912345678"})
		fields := fieldsOf(err)
		if engine.ErrorCode(err) != engine.EINVALID || !fields["body.email"] || !fields["body.phone"] {
			t.Fatalf("an invalid lead: %v, want EINVALID on body.email and body.phone", err)
		}
		_, err = u.a.UpdateLead(u.ctx, u.tenant, u.lead, 0, func(l *engine.Lead) { l.Country = "Portugal" })
		if !fieldsOf(err)["body.country"] {
			t.Fatalf("an invalid edit of a lead: %v, want EINVALID on body.country", err)
		}
		l, err := u.a.GetLead(u.ctx, u.tenant, u.lead)
		if err != nil || l.Country != "" {
			t.Fatalf("the refused edit was stored: %+v, %v", l, err)
		}

		err = u.a.CreateQuote(u.ctx, &engine.Quote{TenantID: u.tenant, LeadID: u.lead, Number: "Q-2", Currency: "eur"}, 10)
		if !fieldsOf(err)["body.currency"] {
			t.Fatalf("a quote in eur: %v, want EINVALID on body.currency", err)
		}
		q, err := u.a.UpdateQuote(u.ctx, u.tenant, u.quote.ID, u.quote.Version, func(q *engine.Quote, amount *float64) {
			q.Number, *amount = "Q-1b", 99.5
		})
		if err != nil {
			t.Fatal(err)
		}
		if q.Number != "Q-1b" || q.AmountMinor != 9950 || q.Revision != 2 || q.Status != engine.QuoteDraft {
			t.Fatalf("edited quote %+v, want Q-1b for 99.50 at revision 2", q)
		}
		if _, err := u.a.UpdateQuote(u.ctx, u.tenant, u.quote.ID, 0, func(_ *engine.Quote, amount *float64) { *amount = 0.001 }); !fieldsOf(err)["body.amount"] {
			t.Fatalf("an amount finer than cents: %v, want EINVALID on body.amount", err)
		}
		u.action(u.quote.ID, engine.ActionSend, "")
		u.action(u.quote.ID, engine.ActionAccept, "")
		if _, err := u.a.UpdateQuote(u.ctx, u.tenant, u.quote.ID, 0, func(q *engine.Quote, _ *float64) { q.Number = "Q-1c" }); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("editing an accepted quote: %v, want ECONFLICT", err)
		}
	})
}

// fieldsOf is the set of fields an engine.Error names.
func fieldsOf(err error) map[string]bool {
	out := map[string]bool{}
	if e, ok := err.(*engine.Error); ok {
		for _, f := range e.Fields {
			out[f.Field] = true
		}
	}
	return out
}

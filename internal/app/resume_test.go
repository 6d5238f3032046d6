package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// recordingJobs is an Enqueuer that only remembers what was enqueued.
type recordingJobs struct {
	mu         sync.Mutex
	steps      []string // run ids
	deliveries []string // message ids
}

func (r *recordingJobs) EnqueueStepTx(_ context.Context, _ *store.Tx, _, runID string, _ int, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, runID)
	return nil
}

func (r *recordingJobs) EnqueueDeliveryTx(_ context.Context, _ *store.Tx, _, messageID string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, messageID)
	return nil
}

// stepEnv is a tenant whose one workflow emails once on quote.sent, and a
// quote sent to it: the run waits for its step's job, which the test runs
// by hand.
type stepEnv struct {
	ctx    context.Context
	a      *App
	db     *store.DB
	clock  *fakeClock
	jobs   *recordingJobs
	tenant string
	run    string
}

func newStepEnv(t *testing.T, dialect string) *stepEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dialect)
	clock := &fakeClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	db.Now = clock.Now
	jobs := &recordingJobs{}
	a := New(db, jobs, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.Now = clock.Now
	e := &stepEnv{ctx: ctx, a: a, db: db, clock: clock, jobs: jobs}
	tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine,
		Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "quotes@acme.test"}}}
	if _, _, err := a.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	e.tenant = tn.ID
	wf := &engine.Workflow{TenantID: tn.ID, Name: "Thanks", Trigger: engine.TriggerSent, Enabled: true,
		Steps: []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Your quote", Text: "Hi {{ lead.first_name }}"}}}}
	if err := a.CreateWorkflow(ctx, wf); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateRule(ctx, &engine.Rule{TenantID: tn.ID, Name: "all", Trigger: engine.AnyTrigger, Enabled: true,
		Condition: json.RawMessage(`{"all":[]}`), WorkflowID: wf.ID}, nil); err != nil {
		t.Fatal(err)
	}
	lead := &engine.Lead{TenantID: tn.ID, FirstName: "Ana", Email: "ana@example.com"}
	if err := db.CreateLead(ctx, lead); err != nil {
		t.Fatal(err)
	}
	q := &engine.Quote{TenantID: tn.ID, LeadID: lead.ID, Number: "Q-1", AmountMinor: 1000, Currency: "EUR",
		Status: engine.QuoteDraft, Revision: 1, PublicToken: "tok-" + dialect}
	if err := db.CreateQuote(ctx, q); err != nil {
		t.Fatal(err)
	}
	if _, err := a.QuoteAction(ctx, ActionRequest{TenantID: tn.ID, QuoteID: q.ID, Action: engine.ActionSend}); err != nil {
		t.Fatal(err)
	}
	if len(jobs.steps) != 1 {
		t.Fatalf("%d step jobs after the send, want 1", len(jobs.steps))
	}
	e.run = jobs.steps[0]
	return e
}

// step runs the first step's job body, as the step worker does.
func (e *stepEnv) step(t *testing.T) *delivery {
	t.Helper()
	var d *delivery
	try := func(fresh bool) error {
		return e.db.Tx(e.ctx, func(tx *store.Tx) error {
			var err error
			d, err = e.a.executeStep(e.ctx, tx, e.tenant, e.run, 0, fresh)
			return err
		})
	}
	err := try(true)
	if errors.Is(err, store.ErrRunStepExists) {
		err = try(false)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *stepEnv) message(t *testing.T) engine.Message {
	t.Helper()
	msgs, _, err := e.db.ListMessages(e.ctx, e.tenant, engine.MessageFilter{RunID: e.run}, engine.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	return msgs[0]
}

// TestStepRunAgainSettlesItsClaimAsUnknown: the step claimed its message
// and the process stopped before the provider's answer was recorded. When
// the step's job runs again, the message must become unknown (the provider
// may have it), never be claimed and sent a second time.
func TestStepRunAgainSettlesItsClaimAsUnknown(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newStepEnv(t, d)
			if first := e.step(t); first == nil || first.Message.Status != engine.MsgSending {
				t.Fatalf("the step claimed %+v, want its message sending", first)
			}
			e.clock.Add(5 * time.Minute) // the job is rescued later
			if again := e.step(t); again != nil {
				t.Fatalf("the step's job run again returned a delivery: the message would be sent twice")
			}
			m := e.message(t)
			if m.Status != engine.MsgUnknown || m.Reason != "interrupted" {
				t.Fatalf("message %s (%s), want unknown (interrupted)", m.Status, m.Reason)
			}
			atts, err := e.db.ListAttempts(e.ctx, e.tenant, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(atts) != 1 || atts[0].Outcome != "unknown" || atts[0].FinishedAt == nil {
				t.Fatalf("attempts %+v, want the one attempt finished as unknown", atts)
			}
		})
	}
}

// TestStepRunAgainLeavesADeliveryJobsClaimAlone: a message the step deferred
// (here by an open circuit) is claimed later by its delivery job, which may
// be sending it while the step's job runs again: that claim is not the
// step's to settle.
func TestStepRunAgainLeavesADeliveryJobsClaimAlone(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			e := newStepEnv(t, d)
			now := e.clock.Now()
			if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
				return tx.OpenCircuit(e.ctx, &engine.Circuit{TenantID: e.tenant, Provider: "log", Reason: "test",
					OpenedAt: now, Until: now.Add(time.Minute)})
			}); err != nil {
				t.Fatal(err)
			}
			if d := e.step(t); d != nil {
				t.Fatalf("the step claimed a message behind an open circuit")
			}
			m := e.message(t)
			if m.Status != engine.MsgScheduled || m.Reason != "circuit_open" || len(e.jobs.deliveries) != 1 {
				t.Fatalf("message %s (%s), %d delivery jobs: want scheduled behind the circuit, with its job", m.Status, m.Reason, len(e.jobs.deliveries))
			}
			e.clock.Add(2 * time.Minute) // the circuit's time is up
			var claimed *delivery
			if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
				var err error
				claimed, err = e.a.beginDelivery(e.ctx, tx, e.tenant, m.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if claimed == nil {
				t.Fatal("the delivery job did not claim the message")
			}
			if again := e.step(t); again != nil {
				t.Fatal("the step's job run again returned a delivery")
			}
			if m := e.message(t); m.Status != engine.MsgSending {
				t.Fatalf("message %s (%s) while its delivery job sends it, want sending", m.Status, m.Reason)
			}
		})
	}
}

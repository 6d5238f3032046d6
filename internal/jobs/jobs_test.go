package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The queue as a user sees it: a quote action's jobs run on River, over a
// real store and the real app, and the provider (a fake that counts) gets
// each message once. Nothing here sleeps to wait: tests poll the database
// for what they expect, with a deadline.

var (
	_ app.Enqueuer = (*Queue)(nil)
	_ Handler      = (*app.App)(nil)
)

// provider is every tenant's sender; it counts what it was given.
type provider struct {
	mu   sync.Mutex
	sent []string // message ids
}

func (p *provider) For(*engine.Tenant, string) (channel.Sender, string, error) {
	return p, "fake", nil
}

func (p *provider) Send(_ context.Context, m *channel.Message) (channel.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m.MessageID)
	return channel.Result{ProviderMessageID: "fake-" + m.AttemptID}, nil
}

func (p *provider) calls(messageID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, id := range p.sent {
		if id == messageID {
			n++
		}
	}
	return n
}

// queueEnv is a queue over a fresh database, not started yet, with the app
// that it works for and an engine-mode tenant whose one workflow emails
// once on quote.sent.
type queueEnv struct {
	t        *testing.T
	ctx      context.Context
	db       *store.DB
	q        *Queue
	a        *app.App
	provider *provider
	tenant   string
	lead     string
	quotes   int
}

func forEachQueue(t *testing.T, fn func(t *testing.T, e *queueEnv)) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newQueueEnv(t, d))
		})
	}
}

func newQueueEnv(t *testing.T, dialect string) *queueEnv {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dialect)
	q, err := New(db, Config{Workers: 4, PollInterval: 20 * time.Millisecond, RescueAfter: time.Minute, ExpireEvery: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &queueEnv{t: t, ctx: ctx, db: db, q: q, provider: &provider{}}
	e.a = app.New(db, q, app.Config{PublicBaseURL: "https://quotes.test"}, nil)
	e.a.Senders = e.provider
	tn := &engine.Tenant{Name: "Acme", Timezone: "UTC", Mode: engine.ModeEngine,
		Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "quotes@acme.test"}}}
	if _, _, err := e.a.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	e.tenant = tn.ID
	wf := &engine.Workflow{TenantID: tn.ID, Name: "Thanks", Trigger: engine.TriggerSent, Enabled: true,
		Steps: []engine.Step{{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Your quote", Text: "Hi {{ lead.first_name }}"}}}}
	if err := e.a.CreateWorkflow(ctx, wf); err != nil {
		t.Fatal(err)
	}
	if err := e.a.CreateRule(ctx, &engine.Rule{TenantID: tn.ID, Name: "all", Trigger: engine.AnyTrigger, Enabled: true,
		Condition: json.RawMessage(`{"all":[]}`), WorkflowID: wf.ID}, nil); err != nil {
		t.Fatal(err)
	}
	lead := &engine.Lead{TenantID: tn.ID, FirstName: "Ana", Email: "ana@example.com"}
	if err := e.a.CreateLead(ctx, lead); err != nil {
		t.Fatal(err)
	}
	e.lead = lead.ID
	return e
}

// start works the queue's jobs until the test ends.
func (e *queueEnv) start() {
	e.t.Helper()
	if err := e.q.Start(e.ctx, e.a); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.q.Stop(ctx); err != nil {
			e.t.Errorf("stop the queue: %v", err)
		}
	})
}

// sentQuote creates a quote valid until validUntil (nil: no end) and sends
// it.
func (e *queueEnv) sentQuote(validUntil *time.Time) string {
	e.t.Helper()
	e.quotes++
	q := &engine.Quote{TenantID: e.tenant, LeadID: e.lead, Number: fmt.Sprint("Q-", e.quotes), Currency: "EUR", ValidUntil: validUntil}
	if err := e.a.CreateQuote(e.ctx, q, 100); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.a.QuoteAction(e.ctx, app.ActionRequest{TenantID: e.tenant, QuoteID: q.ID, Action: engine.ActionSend}); err != nil {
		e.t.Fatal(err)
	}
	return q.ID
}

// eventually polls cond until it holds or 30 s pass (River's scheduler
// moves a job whose time has come every 5 s).
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// message waits for the quote's one message to reach status.
func (e *queueEnv) message(quoteID string, status engine.MessageStatus) engine.Message {
	e.t.Helper()
	var m engine.Message
	eventually(e.t, "the message is "+string(status), func() (bool, string) {
		ms, _, err := e.a.ListMessages(e.ctx, e.tenant, engine.MessageFilter{QuoteID: quoteID}, engine.Page{})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ms) != 1 {
			return false, fmt.Sprintf("%d messages", len(ms))
		}
		m = ms[0]
		return m.Status == status, string(m.Status)
	})
	return m
}

// job is the one job of kind, once it has completed at least attempts
// times.
func (e *queueEnv) job(kind string, attempts int) *rivertype.JobRow {
	e.t.Helper()
	var j *rivertype.JobRow
	eventually(e.t, fmt.Sprintf("the %s job completes (attempt %d)", kind, attempts), func() (bool, string) {
		var id int64
		err := e.db.SQL().QueryRowContext(e.ctx, `SELECT id FROM river_job WHERE kind = '`+kind+`'`).Scan(&id)
		if err != nil {
			return false, err.Error()
		}
		if j, err = e.q.jobGet(e.ctx, id); err != nil {
			e.t.Fatal(err)
		}
		return j.State == rivertype.JobStateCompleted && j.Attempt >= attempts, fmt.Sprintf("%s at attempt %d", j.State, j.Attempt)
	})
	return j
}

// retry makes a finished job available again, as an operator retrying it
// would, or River after a crash.
func (e *queueEnv) retry(id int64) {
	e.t.Helper()
	var err error
	if e.q.pg != nil {
		_, err = e.q.pg.JobRetry(e.ctx, id)
	} else {
		_, err = e.q.sqlite.JobRetry(e.ctx, id)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func (q *Queue) jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	if q.pg != nil {
		return q.pg.JobGet(ctx, id)
	}
	return q.sqlite.JobGet(ctx, id)
}

func TestStepJobSendsOnce(t *testing.T) {
	forEachQueue(t, func(t *testing.T, e *queueEnv) {
		e.start()
		quote := e.sentQuote(nil)
		m := e.message(quote, engine.MsgSent)
		step := e.job("run_step", 1)
		if n := e.provider.calls(m.ID); n != 1 {
			t.Fatalf("the provider got the message %d times, want 1", n)
		}
		r, err := e.a.GetRun(e.ctx, e.tenant, m.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != engine.RunCompleted {
			t.Fatalf("run %s, want completed", r.Status)
		}

		// The step's job run again finds its step done and sends nothing.
		e.retry(step.ID)
		e.job("run_step", 2)
		if n := e.provider.calls(m.ID); n != 1 {
			t.Fatalf("after the step's job ran again the provider got the message %d times, want 1", n)
		}
		if m := e.message(quote, engine.MsgSent); m.Attempts != 1 {
			t.Fatalf("%d attempts after the step's job ran again, want 1", m.Attempts)
		}
	})
}

func TestDeliveryJobDeliversADeferredMessage(t *testing.T) {
	forEachQueue(t, func(t *testing.T, e *queueEnv) {
		e.start()
		// An open circuit defers the step's message to its end, a moment
		// from now (long enough for the step to run before it), when the
		// message's delivery job sends it.
		now := time.Now()
		if err := e.db.Tx(e.ctx, func(tx *store.Tx) error {
			return tx.OpenCircuit(e.ctx, &engine.Circuit{TenantID: e.tenant, Provider: "log", Reason: "test",
				OpenedAt: now, Until: now.Add(2 * time.Second)})
		}); err != nil {
			t.Fatal(err)
		}
		quote := e.sentQuote(nil)
		m := e.message(quote, engine.MsgScheduled)
		if m.Reason != "circuit_open" || e.provider.calls(m.ID) != 0 {
			t.Fatalf("message scheduled for %q with %d sends, want deferred by the circuit and not sent", m.Reason, e.provider.calls(m.ID))
		}
		m = e.message(quote, engine.MsgSent)
		deliver := e.job("deliver", 1)
		if n := e.provider.calls(m.ID); n != 1 || m.Attempts != 1 {
			t.Fatalf("the provider got the deferred message %d times in %d attempts, want once", n, m.Attempts)
		}

		// The delivery job run again finds the message sent.
		e.retry(deliver.ID)
		e.job("deliver", 2)
		if n := e.provider.calls(m.ID); n != 1 {
			t.Fatalf("after the delivery job ran again the provider got the message %d times, want 1", n)
		}
	})
}

func TestSweepJobExpiresDueQuotes(t *testing.T) {
	forEachQueue(t, func(t *testing.T, e *queueEnv) {
		past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
		due, notDue := e.sentQuote(&past), e.sentQuote(&future)
		// The sweep runs when the queue starts, then every ExpireEvery.
		e.start()
		eventually(t, "the due quote expires", func() (bool, string) {
			q, err := e.a.GetQuote(e.ctx, e.tenant, due)
			if err != nil {
				t.Fatal(err)
			}
			return q.Status == engine.QuoteExpired, string(q.Status)
		})
		e.job("expire_quotes", 1)
		q, err := e.a.GetQuote(e.ctx, e.tenant, notDue)
		if err != nil {
			t.Fatal(err)
		}
		if q.Status != engine.QuoteSent {
			t.Fatalf("the quote valid for another hour is %s, want sent", q.Status)
		}
	})
}

// TestRiverIndexes: after the migrations, River's GIN indexes of job args
// and metadata are gone on both databases (migration 0017 on PostgreSQL;
// River's SQLite schema never had them), and every index River's daily
// reindexer is told to rebuild exists, as River itself checks, so it has
// nothing to warn about (with River's own list it warned daily on SQLite,
// whose job table has no primary-key index).
func TestRiverIndexes(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			ctx := context.Background()
			var exec riverdriver.Executor
			if d == store.DialectPostgres {
				exec = riverpgxv5.New(db.PgxPool()).GetExecutor()
			} else {
				exec = riversqlite.New(db.SQL()).GetExecutor()
			}
			names := append(reindexed(d), droppedRiverIndexes...)
			exist, err := exec.IndexesExist(ctx, &riverdriver.IndexesExistParams{IndexNames: names})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range reindexed(d) {
				if !exist[n] {
					t.Errorf("River's reindexer is told to rebuild %s, which does not exist", n)
				}
			}
			for _, n := range droppedRiverIndexes {
				if exist[n] {
					t.Errorf("%s still exists after the migrations", n)
				}
			}
			if !slices.Contains(reindexed(d), "river_job_prioritized_fetching_index") {
				t.Errorf("the reindexer's list %v lost River's fetching index", reindexed(d))
			}
		})
	}
}

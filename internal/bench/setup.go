package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// fixture is a tenant ready for quote actions: an engine-mode tenant whose
// one workflow for quote.sent sends one message, a catch-all rule, and a
// pool of draft quotes that are each sent once.
type fixture struct {
	TenantID string
	// Key is an admin API key of the tenant.
	Key string
	// Quotes are draft quote ids; index i is sent by the i-th action.
	Quotes []string
	// Leads[i] is the lead of Quotes[i].
	Leads []string
	// WorkflowID, StepID and RuleID are the tenant's workflow, its one
	// step and the rule that picks it.
	WorkflowID, StepID, RuleID string
	// index maps a quote id back to its position in Quotes.
	index map[string]int
}

// quotesPerLead is how many of the pool's quotes share a lead.
const quotesPerLead = 4

// fixtureOptions say what the tenant delivers through.
type fixtureOptions struct {
	// WhatsApp, when set, is the fake Cloud API the tenant's WhatsApp
	// channel points at, and the workflow's step is a WhatsApp template;
	// otherwise the step is an email through the log provider.
	WhatsApp *waFake
	Quotes   int
}

// prepare creates a tenant with its pool of quotes in the database at dsn,
// through the app and the store, without the HTTP API (setting up is not
// measured), and deletes any job an earlier scenario left in the queue.
func prepare(ctx context.Context, dsn string, o fixtureOptions) (*fixture, error) {
	st, err := startStack(ctx, dsn, stackOptions{Queue: queueNone, WhatsAppAPIBase: whatsAppBase(o.WhatsApp)})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	a, db := st.App, st.DB
	// Jobs an earlier phase left unfinished would be worked by this one;
	// finished ones stay, as River keeps them for a while (an hour for
	// completed ones, jobs.CompletedJobRetention).
	if _, err := db.SQL().ExecContext(ctx, `DELETE FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`); err != nil {
		return nil, fmt.Errorf("clear the job queue: %w", err)
	}
	t := &engine.Tenant{Name: "Bench " + randomHex(3), Timezone: "UTC", Mode: engine.ModeEngine,
		Channels: engine.Channels{Email: &engine.EmailChannel{Provider: "log", From: "Bench Roofing <quotes@bench.example>"}}}
	step := engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "Your quote {{ quote.number }}",
		Text: "Hello {{ lead.first_name }},\n\nyour quote for {{ quote.amount | money }} is ready: {{ quote.url }}\n\n{{ tenant.name }}"}}
	if o.WhatsApp != nil {
		ch := o.WhatsApp.Channel()
		t.Channels.WhatsApp = &ch
		step = engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Template: waTemplate.Name,
			Language: waTemplate.Language, Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}"}}}
	}
	_, key, err := a.CreateTenant(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	wf := &engine.Workflow{TenantID: t.ID, Name: "Quote sent", Trigger: engine.TriggerSent, Enabled: true,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted, engine.QuoteRejected}, Steps: []engine.Step{step}}
	if err := a.CreateWorkflow(ctx, wf); err != nil {
		return nil, fmt.Errorf("create workflow: %w", err)
	}
	rule := &engine.Rule{TenantID: t.ID, Name: "Every sent quote", Trigger: string(engine.TriggerSent), Enabled: true,
		WorkflowID: wf.ID, Condition: json.RawMessage(`{"all":[]}`)}
	if err := a.CreateRule(ctx, rule, nil); err != nil {
		return nil, fmt.Errorf("create rule: %w", err)
	}
	f := &fixture{TenantID: t.ID, Key: key, Quotes: make([]string, o.Quotes), Leads: make([]string, o.Quotes),
		index: make(map[string]int, o.Quotes), WorkflowID: wf.ID, StepID: wf.Steps[0].ID, RuleID: rule.ID}
	if err := f.createQuotes(ctx, db); err != nil {
		return nil, err
	}
	if db.Dialect() == store.DialectPostgres {
		// A live database has planner statistics for its tables; a freshly
		// filled one gets them now rather than from autovacuum mid-run.
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
	}
	return f, nil
}

// seedHistory gives the database the past of a tenant that has been in use:
// n quotes sent, each with its trigger event, completed run, run step, sent
// message and finished attempt, written straight through the store.
//
// Without it the tables the scenarios write start empty, and PostgreSQL
// plans the statements it prepares while they are tiny: a cached generic
// plan that scans a table of ten rows sequentially keeps scanning it when
// it holds thousands, a few seconds later, because nothing re-plans it
// until autovacuum analyses the table. A bench of a database in use must
// not measure that.
func seedHistory(ctx context.Context, dsn string, n int) error {
	f, err := prepare(ctx, dsn, fixtureOptions{Quotes: n})
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	err = inBatches(ctx, db, n, 250, func(tx *store.Tx, from, to int) error {
		now := tx.Now()
		for i := from; i < to; i++ {
			ev := &engine.Event{TenantID: f.TenantID, LeadID: f.Leads[i], QuoteID: f.Quotes[i], Trigger: engine.TriggerSent,
				Action: engine.ActionSend, DedupeKey: f.Quotes[i] + ":send:1", Context: json.RawMessage(`{}`), Response: json.RawMessage(`{}`),
				Decision: engine.Decision{Outcome: engine.OutcomeWorkflow, Source: engine.SourceRule, Reason: "rule_matched",
					WorkflowID: f.WorkflowID, WorkflowVersion: 1, RuleID: f.RuleID, MissingFields: []string{}}}
			if err := tx.InsertEvent(ctx, ev); err != nil {
				return fmt.Errorf("history event: %w", err)
			}
			run := &engine.Run{TenantID: f.TenantID, EventID: ev.ID, LeadID: ev.LeadID, QuoteID: ev.QuoteID, WorkflowID: f.WorkflowID,
				WorkflowVersion: 1, Trigger: engine.TriggerSent, Status: engine.RunCompleted, FinishedAt: &now}
			if err := tx.InsertRun(ctx, run); err != nil {
				return fmt.Errorf("history run: %w", err)
			}
			rs := &engine.RunStep{TenantID: f.TenantID, RunID: run.ID, StepID: f.StepID, Position: 0, Type: engine.StepSendEmail,
				Status: engine.StepCompleted, Outcome: "sent", StartedAt: &now, FinishedAt: &now}
			if _, err := tx.InsertRunStep(ctx, rs); err != nil {
				return fmt.Errorf("history run step: %w", err)
			}
			m := &engine.Message{TenantID: f.TenantID, EventID: ev.ID, RunID: run.ID, RunStepID: rs.ID, LeadID: ev.LeadID,
				QuoteID: ev.QuoteID, WorkflowID: f.WorkflowID, WorkflowVersion: 1, StepID: f.StepID, Trigger: engine.TriggerSent,
				Channel: engine.ChannelEmail, Provider: "log", To: fmt.Sprintf("lead%06d@customer.example", i/quotesPerLead),
				Subject: "Your quote", Body: "Hello Ana, your quote is ready.", Status: engine.MsgSent, Attempts: 1,
				ScheduledAt: &now, SentAt: &now, ProviderMessageID: "log-history-" + ev.ID}
			if _, err := tx.InsertMessage(ctx, m); err != nil {
				return fmt.Errorf("history message: %w", err)
			}
			att := &engine.Attempt{TenantID: f.TenantID, MessageID: m.ID, Number: 1, Provider: "log", StartedAt: now,
				FinishedAt: &now, Outcome: "sent", ProviderMessageID: m.ProviderMessageID}
			if err := tx.InsertAttempt(ctx, att); err != nil {
				return fmt.Errorf("history attempt: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if db.Dialect() == store.DialectPostgres {
		if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	return nil
}

func whatsAppBase(s *waFake) string {
	if s == nil {
		return ""
	}
	return s.URL()
}

// createQuotes fills f.Quotes with draft quotes, quotesPerLead per lead, in
// transactions of a few hundred rows, several at once on PostgreSQL.
func (f *fixture) createQuotes(ctx context.Context, db *store.DB) error {
	var mu sync.Mutex
	valid := time.Now().Add(30 * 24 * time.Hour)
	return inBatches(ctx, db, len(f.Quotes), 400, func(tx *store.Tx, from, to int) error {
		var lead *engine.Lead
		for i := from; i < to; i++ {
			if lead == nil || i%quotesPerLead == 0 {
				lead = benchLead(f.TenantID, i/quotesPerLead)
				if err := tx.CreateLead(ctx, lead); err != nil {
					return fmt.Errorf("create lead: %w", err)
				}
			}
			token, err := app.NewPublicToken()
			if err != nil {
				return err
			}
			q := &engine.Quote{TenantID: f.TenantID, LeadID: lead.ID, Number: fmt.Sprintf("Q-%06d", i+1),
				AmountMinor: int64(50000 + 25*i%400000), Currency: "EUR", Status: engine.QuoteDraft,
				ValidUntil: &valid, Revision: 1, PublicToken: token}
			if err := tx.CreateQuote(ctx, q); err != nil {
				return fmt.Errorf("create quote: %w", err)
			}
			mu.Lock()
			f.Quotes[i], f.Leads[i], f.index[q.ID] = q.ID, lead.ID, i
			mu.Unlock()
		}
		return nil
	})
}

// inBatches calls fn for [0, n) in ranges of batch, each in a transaction
// of its own, four at a time on PostgreSQL. Setting up is not measured;
// it only has to be quick.
func inBatches(ctx context.Context, db *store.DB, n, batch int, fn func(tx *store.Tx, from, to int) error) error {
	parallel := 1
	if db.Dialect() == store.DialectPostgres {
		parallel = 4
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	sem := make(chan struct{}, parallel)
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		sem <- struct{}{}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := db.Tx(ctx, func(tx *store.Tx) error { return fn(tx, from, to) }); err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// benchLead is the n-th lead of a tenant: reachable by email and WhatsApp.
func benchLead(tenantID string, n int) *engine.Lead {
	return &engine.Lead{TenantID: tenantID, FirstName: "Ana", LastName: fmt.Sprintf("Silva %d", n),
		Email: fmt.Sprintf("lead%06d@customer.example", n), Phone: fmt.Sprintf("+35191%07d", n%10000000),
		Language: "pt", Country: "PT", Source: "web", Stage: "quoted", Tags: []string{"roofing"}, Owner: "joao",
		Custom: map[string]any{"roof_type": "tile"}, WhatsAppOptIn: true}
}

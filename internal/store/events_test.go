package store_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// tx runs fn in a transaction of b's database and returns its error.
func (b *bundle) tx(fn func(tx *store.Tx) error) error {
	return b.db.Tx(b.ctx, fn)
}

// decision is a decision with everything a stored one can carry: a trace
// with typed values, missing fields and a shadow decision.
func decision(workflowID string) engine.Decision {
	return engine.Decision{
		Outcome: engine.OutcomeWorkflow, Source: engine.SourceRule, Reason: engine.ReasonRuleMatched,
		WorkflowID: workflowID, WorkflowVersion: 3, RuleID: "rule-1", MissingFields: []string{"lead.custom.roof_type"},
		Trace: []engine.TraceEntry{
			{Kind: engine.TraceKindRule, ID: "rule-0", Result: engine.TraceFailed, Detail: "condition false",
				Reason: engine.ReasonConditionFalse, Path: "all[0]", Field: "quote.amount", Op: "gte",
				Expected: 1000.0, Actual: []any{"a", 1.5, nil}},
			{Kind: engine.TraceKindRule, ID: "rule-1", Result: engine.TraceMatched, Detail: "matched", Reason: engine.ReasonRuleMatched},
		},
		Shadow: &engine.Decision{Outcome: engine.OutcomeLegacy, Source: engine.SourceMode, Reason: engine.ReasonModeLegacy},
	}
}

// viaJSON is d as it reads back: through its JSON form.
func viaJSON(t *testing.T, d engine.Decision) engine.Decision {
	t.Helper()
	raw, err := json.Marshal(d)
	must(t, err)
	var out engine.Decision
	must(t, json.Unmarshal(raw, &out))
	return out
}

// canonEvent is e with its raw JSON canonical and its decision as JSON
// leaves it, for comparing events across databases.
func canonEvent(t *testing.T, e *engine.Event) engine.Event {
	t.Helper()
	c := *e
	c.Context, c.Response, c.Decision = canon(t, e.Context), canon(t, e.Response), viaJSON(t, e.Decision)
	return c
}

// event records a trigger event for the quote in its own transaction.
func (b *bundle) event(t testing.TB, q *engine.Quote, mutate ...func(*engine.Event)) *engine.Event {
	t.Helper()
	e := &engine.Event{TenantID: q.TenantID, LeadID: q.LeadID, QuoteID: q.ID, Trigger: engine.TriggerSent,
		Action: engine.ActionSend, IdempotencyKey: "idem-" + randomToken(t),
		DedupeKey: fmt.Sprintf("%s:send:%d", q.ID, q.Revision), Context: json.RawMessage(`{"lead":{"first_name":"Ana"}}`),
		Decision: engine.Decision{Outcome: engine.OutcomeWorkflow, Source: engine.SourceRule, Reason: engine.ReasonRuleMatched}}
	for _, m := range mutate {
		m(e)
	}
	must(t, b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, e) }))
	return e
}

func TestEventRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		first := b.event(t, q)
		e := &engine.Event{TenantID: b.a.ID, LeadID: l.ID, QuoteID: q.ID, Trigger: engine.TriggerAccepted,
			Action: engine.ActionAccept, IdempotencyKey: "key-1", DedupeKey: q.ID + ":accept:1",
			Duplicate: true, DuplicateOf: first.ID,
			Context:  json.RawMessage(`{ "lead": {"tags": [], "custom": {"z": 1, "a": "ação"}}, "quote": {"amount": 1250.5} }`),
			Decision: decision("wf-1"), Response: json.RawMessage(`{"decision": {"outcome": "workflow"}}`)}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, e) }))
		now := b.clock.Now().Truncate(time.Microsecond)
		if e.ID == "" || e.CreatedAt != now {
			t.Fatalf("InsertEvent did not fill in the event: %+v", e)
		}

		got, err := b.db.GetEvent(b.ctx, b.a.ID, e.ID)
		must(t, err)
		equal(t, "event", canonEvent(t, got), canonEvent(t, e))
		equal(t, "decision", got.Decision, viaJSON(t, e.Decision))
		must(t, b.tx(func(tx *store.Tx) error {
			got, err := tx.GetEvent(b.ctx, b.a.ID, e.ID)
			if err != nil {
				return err
			}
			equal(t, "event in tx", canonEvent(t, got), canonEvent(t, e))
			got, err = tx.GetEventByIdempotencyKey(b.ctx, b.a.ID, "key-1")
			if err != nil {
				return err
			}
			equal(t, "event by idempotency key", canonEvent(t, got), canonEvent(t, e))

			// The response is set after the fact, and can be cleared.
			must(t, tx.SetEventResponse(b.ctx, b.a.ID, first.ID, json.RawMessage(`{"ok": true}`)))
			got, err = tx.GetEvent(b.ctx, b.a.ID, first.ID)
			must(t, err)
			equal(t, "response", got.Response, json.RawMessage(`{"ok":true}`))
			must(t, tx.SetEventResponse(b.ctx, b.a.ID, first.ID, nil))
			got, err = tx.GetEvent(b.ctx, b.a.ID, first.ID)
			must(t, err)
			equal(t, "cleared response", got.Response, json.RawMessage(nil))
			wantCode(t, tx.SetEventResponse(b.ctx, b.a.ID, first.ID, json.RawMessage(`{`)), engine.EINVALID, "response")
			wantCode(t, tx.SetEventResponse(b.ctx, b.a.ID, "no-such-event", nil), engine.ENOTFOUND, "")
			_, err = tx.GetEventByIdempotencyKey(b.ctx, b.a.ID, "no-such-key")
			wantCode(t, err, engine.ENOTFOUND, "")
			_, err = tx.GetEventByIdempotencyKey(b.ctx, b.a.ID, "")
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))

		// nil and empty survive: no context, no quote, no keys, a JSON null
		// response, empty missing fields and trace.
		bare := &engine.Event{TenantID: b.a.ID, LeadID: l.ID, Trigger: engine.TriggerViewed, Action: engine.ActionView,
			Response: json.RawMessage(`null`),
			Decision: engine.Decision{Outcome: engine.OutcomeNone, Source: engine.SourceFallback,
				Reason: engine.ReasonFallbackInternalSignal, MissingFields: []string{}, Trace: []engine.TraceEntry{}}}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, bare) }))
		got, err = b.db.GetEvent(b.ctx, b.a.ID, bare.ID)
		must(t, err)
		equal(t, "bare event", got, bare)
		if got.Decision.MissingFields == nil || got.Decision.Trace == nil || got.Context != nil {
			t.Fatalf("empty and nil were confused: %+v", got)
		}
		withNils := &engine.Event{TenantID: b.a.ID, LeadID: l.ID, Trigger: engine.TriggerViewed, Action: engine.ActionView,
			Context: json.RawMessage(`{}`), Decision: engine.Decision{Outcome: engine.OutcomeNone}}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, withNils) }))
		got, err = b.db.GetEvent(b.ctx, b.a.ID, withNils.ID)
		must(t, err)
		equal(t, "event with nil lists", got, withNils)

		wantCode(t, b.tx(func(tx *store.Tx) error {
			return tx.InsertEvent(b.ctx, &engine.Event{TenantID: b.a.ID, LeadID: l.ID, Context: json.RawMessage(`{"a":`)})
		}), engine.EINVALID, "context")
	})
}

func TestEventReferences(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		la, lb := b.lead(t, b.a.ID), b.lead(t, b.b.ID)
		qa, qb := b.quote(t, la), b.quote(t, lb)
		eb := b.event(t, qb)
		for name, e := range map[string]*engine.Event{
			"unknown lead":               {LeadID: "no-such-lead"},
			"other tenant's lead":        {LeadID: lb.ID},
			"other tenant's quote":       {LeadID: la.ID, QuoteID: qb.ID},
			"other tenant's first event": {LeadID: la.ID, QuoteID: qa.ID, Duplicate: true, DuplicateOf: eb.ID},
		} {
			e.TenantID, e.Trigger, e.Action = b.a.ID, engine.TriggerSent, engine.ActionSend
			err := b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, e) })
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "") })
		}
		if n := b.count(t, "trigger_events", b.a.ID); n != 0 {
			t.Fatalf("%d events written", n)
		}
	})
}

func TestEventIdempotencyKey(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		qa, qb := b.quote(t, b.lead(t, b.a.ID)), b.quote(t, b.lead(t, b.b.ID))
		first := b.event(t, qa, func(e *engine.Event) { e.IdempotencyKey = "same" })
		// Another tenant's key space is its own.
		b.event(t, qb, func(e *engine.Event) { e.IdempotencyKey = "same" })

		again := &engine.Event{TenantID: b.a.ID, LeadID: qa.LeadID, QuoteID: qa.ID, Trigger: engine.TriggerSent,
			Action: engine.ActionSend, IdempotencyKey: "same"}
		err := b.tx(func(tx *store.Tx) error { return tx.InsertEvent(b.ctx, again) })
		wantCode(t, err, engine.ECONFLICT, "header.Idempotency-Key")
		if again.ID != "" {
			t.Fatal("a failed insert filled in the id")
		}
		// The caller reads the first event in a new transaction.
		must(t, b.tx(func(tx *store.Tx) error {
			got, err := tx.GetEventByIdempotencyKey(b.ctx, b.a.ID, "same")
			if err != nil {
				return err
			}
			equal(t, "first event", got.ID, first.ID)
			return nil
		}))

		// Events without a key never conflict.
		for range 2 {
			b.event(t, qa, func(e *engine.Event) { e.IdempotencyKey = "" })
		}
		if n := b.count(t, "trigger_events", b.a.ID); n != 3 {
			t.Fatalf("%d events, want 3", n)
		}
	})
}

func TestFindEventByDedupeKey(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		other := b.event(t, q, func(e *engine.Event) { e.DedupeKey = "other" })
		// A duplicate that is older than the original (of something else)
		// must not be taken for it.
		b.event(t, q, func(e *engine.Event) { e.DedupeKey, e.Duplicate, e.DuplicateOf = "k", true, other.ID })
		original := b.event(t, q, func(e *engine.Event) { e.DedupeKey = "k" })
		dup := b.event(t, q, func(e *engine.Event) { e.DedupeKey, e.Duplicate, e.DuplicateOf = "k", true, original.ID })
		qb := b.quote(t, b.lead(t, b.b.ID))
		b.event(t, qb, func(e *engine.Event) { e.DedupeKey = "b-only" })
		// The same key on another quote of the tenant is another quote's
		// business event.
		q2 := b.quote(t, b.lead(t, b.a.ID))
		b.event(t, q2, func(e *engine.Event) { e.DedupeKey = "q2-only" })

		must(t, b.tx(func(tx *store.Tx) error {
			got, err := tx.FindEventByDedupeKey(b.ctx, b.a.ID, q.ID, "k")
			must(t, err)
			equal(t, "original", got.ID, original.ID)
			got, err = tx.GetEvent(b.ctx, b.a.ID, dup.ID)
			must(t, err)
			if !got.Duplicate || got.DuplicateOf != original.ID {
				t.Fatalf("duplicate read back as %+v", got)
			}
			for _, key := range []string{"no-such-key", "", "b-only", "q2-only"} {
				_, err = tx.FindEventByDedupeKey(b.ctx, b.a.ID, q.ID, key)
				wantCode(t, err, engine.ENOTFOUND, "")
			}
			_, err = tx.FindEventByDedupeKey(b.ctx, b.a.ID, q2.ID, "k")
			wantCode(t, err, engine.ENOTFOUND, "")
			// Tenant A naming B's quote finds nothing either.
			_, err = tx.FindEventByDedupeKey(b.ctx, b.a.ID, qb.ID, "b-only")
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))
	})
}

// TestDedupeLookupByQuote checks migration 16: no index holds the dedupe
// keys, and the first event of a business event is found through its
// quote's events, the index trigger_events_quote, not by a scan of the
// tenant's events.
func TestDedupeLookupByQuote(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		indexes := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`
		if b.db.Dialect() == store.DialectPostgres {
			indexes = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?`
		}
		for name, want := range map[string]int64{"trigger_events_dedupe": 0, "trigger_events_quote": 1} {
			n, err := b.db.RawInt(b.ctx, indexes, name)
			must(t, err)
			if n != want {
				t.Errorf("index %s: %d, want %d", name, n, want)
			}
		}
		q := b.quote(t, b.lead(t, b.a.ID))
		b.event(t, q, func(e *engine.Event) { e.DedupeKey = "k" })
		plan, err := b.db.RawPlan(b.ctx, store.FirstEventQuery, b.a.ID, q.ID, "k", false)
		must(t, err)
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "trigger_events_quote") || strings.Contains(text, "Seq Scan") || strings.Contains(text, "SCAN trigger_events") {
			t.Fatalf("plan of the dedupe lookup does not use trigger_events_quote:\n%s", text)
		}
	})
}

func TestListEvents(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l1, l2 := b.lead(t, b.a.ID), b.lead(t, b.a.ID)
		q1, q2 := b.quote(t, l1), b.quote(t, l2)
		start := b.clock.Now()
		var all, ofQ1, accepted, suppressed, secondHour []string
		for i := range 6 {
			q := q1
			if i%3 == 2 {
				q = q2
			}
			if i == 3 {
				b.clock.Advance(time.Hour)
			}
			e := b.event(t, q, func(e *engine.Event) {
				if i%2 == 1 {
					e.Trigger, e.Action = engine.TriggerAccepted, engine.ActionAccept
				}
				if i == 4 {
					e.Decision.Outcome = engine.OutcomeSuppressed
				}
			})
			all = append(all, e.ID)
			if q == q1 {
				ofQ1 = append(ofQ1, e.ID)
			}
			if i%2 == 1 {
				accepted = append(accepted, e.ID)
			}
			if i == 4 {
				suppressed = append(suppressed, e.ID)
			}
			if i >= 3 {
				secondHour = append(secondHour, e.ID)
			}
		}
		b.event(t, b.quote(t, b.lead(t, b.b.ID)))

		ids := func(f engine.EventFilter, limit int) []string {
			var out []string
			cursor := ""
			for {
				page, next, err := b.db.ListEvents(b.ctx, b.a.ID, f, engine.Page{Limit: limit, After: cursor})
				must(t, err)
				if next != "" && len(page) != limit {
					t.Fatalf("a page of %d with a next cursor, limit %d", len(page), limit)
				}
				for _, e := range page {
					out = append(out, e.ID)
				}
				if next == "" {
					return out
				}
				cursor = next
			}
		}
		equal(t, "all", ids(engine.EventFilter{}, 4), all)
		equal(t, "by lead", ids(engine.EventFilter{LeadID: l1.ID}, 1), ofQ1)
		equal(t, "by quote", ids(engine.EventFilter{QuoteID: q1.ID}, 2), ofQ1)
		equal(t, "by trigger", ids(engine.EventFilter{Trigger: engine.TriggerAccepted}, 2), accepted)
		equal(t, "by outcome", ids(engine.EventFilter{Outcome: engine.OutcomeSuppressed}, 0), suppressed)
		equal(t, "from", ids(engine.EventFilter{From: start.Add(time.Hour)}, 0), secondHour)
		equal(t, "to (exclusive)", ids(engine.EventFilter{To: start.Add(time.Hour)}, 0), all[:3])
		equal(t, "from and to", ids(engine.EventFilter{From: start, To: start.Add(time.Minute)}, 0), all[:3])
		equal(t, "everything at once", ids(engine.EventFilter{LeadID: l1.ID, QuoteID: q1.ID, Trigger: engine.TriggerAccepted,
			Outcome: engine.OutcomeWorkflow, From: start.Add(time.Hour), To: start.Add(2 * time.Hour)}, 0), []string{all[3]})
		equal(t, "another tenant's lead", ids(engine.EventFilter{LeadID: "nobody"}, 0), []string(nil))

		page, _, err := b.db.ListEvents(b.ctx, b.a.ID, engine.EventFilter{QuoteID: q2.ID}, engine.Page{})
		must(t, err)
		got, err := b.db.GetEvent(b.ctx, b.a.ID, page[0].ID)
		must(t, err)
		equal(t, "listed event", canonEvent(t, &page[0]), canonEvent(t, got))
	})
}

func TestEventIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		eb := b.event(t, b.quote(t, b.lead(t, b.b.ID)), func(e *engine.Event) { e.IdempotencyKey, e.DedupeKey = "kb", "db" })
		_, err := b.db.GetEvent(b.ctx, b.a.ID, eb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		must(t, b.tx(func(tx *store.Tx) error {
			_, err := tx.GetEventByIdempotencyKey(b.ctx, b.a.ID, "kb")
			wantCode(t, err, engine.ENOTFOUND, "")
			_, err = tx.FindEventByDedupeKey(b.ctx, b.a.ID, eb.QuoteID, "db")
			wantCode(t, err, engine.ENOTFOUND, "")
			wantCode(t, tx.SetEventResponse(b.ctx, b.a.ID, eb.ID, json.RawMessage(`{}`)), engine.ENOTFOUND, "")
			return nil
		}))
		list, _, err := b.db.ListEvents(b.ctx, b.a.ID, engine.EventFilter{LeadID: eb.LeadID}, engine.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's events")
		}
		got, err := b.db.GetEvent(b.ctx, b.b.ID, eb.ID)
		must(t, err)
		equal(t, "B's event, untouched", canonEvent(t, got), canonEvent(t, eb))
	})
}

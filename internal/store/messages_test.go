package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// message writes the run step's message on channel in its own
// transaction.
func (b *bundle) message(t *testing.T, r *engine.Run, s *engine.RunStep, channel string, mutate ...func(*engine.Message)) *engine.Message {
	t.Helper()
	m := &engine.Message{TenantID: r.TenantID, EventID: r.EventID, RunID: r.ID, RunStepID: s.ID, LeadID: r.LeadID,
		QuoteID: r.QuoteID, WorkflowID: r.WorkflowID, WorkflowVersion: r.WorkflowVersion, StepID: s.StepID,
		Trigger: r.Trigger, Channel: channel, Provider: "log", To: "ana@example.com", Subject: "Your quote",
		Body: "Hi Ana", Status: engine.MsgQueued}
	for _, f := range mutate {
		f(m)
	}
	must(t, b.tx(func(tx *store.Tx) error {
		created, err := tx.InsertMessage(b.ctx, m)
		if err == nil && !created {
			t.Errorf("message on %s was not created", channel)
		}
		return err
	}))
	return m
}

// flow is one tenant's quote with an event, a run and a step.
type flow struct {
	lead  *engine.Lead
	quote *engine.Quote
	event *engine.Event
	wf    *engine.Workflow
	run   *engine.Run
	step  *engine.RunStep
}

func (b *bundle) flow(t testing.TB, tenantID string, event ...func(*engine.Event)) *flow {
	t.Helper()
	f := &flow{lead: b.lead(t, tenantID)}
	f.quote = b.quote(t, f.lead)
	f.event = b.event(t, f.quote, event...)
	f.wf = b.workflow(t, tenantID, engine.TriggerSent)
	f.run = b.run(t, f.event, f.wf)
	f.step = b.runStep(t, f.run, f.wf.Steps[0].ID, 0)
	return f
}

func TestMessageRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		at := func(h int) *time.Time {
			v := time.Date(2026, 3, 2, h, 0, 0, 555, time.FixedZone("x", -3600))
			return &v
		}
		wa := b.message(t, f.run, f.step, engine.ChannelWhatsApp, func(m *engine.Message) {
			m.Provider, m.To, m.Subject, m.Body = "cloud_api", "+351912345678", "", ""
			m.Template = &engine.WhatsAppContent{Template: "quote_followup", Language: "pt_PT", Parameters: []string{"Ana", "ação"}}
			m.Status, m.Attempts, m.LastError, m.ErrorClass, m.Reason = engine.MsgFailed, 3, "(#131026) undeliverable", "recipient", "undeliverable"
			m.ProviderMessageID, m.ScheduledAt, m.SentAt, m.DeliveredAt, m.ReadAt = "wamid.1", at(1), at(2), at(3), at(4)
		})
		now := b.clock.Now().Truncate(time.Microsecond)
		if wa.ID == "" || wa.CreatedAt != now || wa.UpdatedAt != now || *wa.SentAt != at(2).UTC().Truncate(time.Microsecond) {
			t.Fatalf("InsertMessage did not fill in the message: %+v", wa)
		}
		got, err := b.db.GetMessage(b.ctx, b.a.ID, wa.ID)
		must(t, err)
		equal(t, "message", got, wa)

		email := b.message(t, f.run, f.step, engine.ChannelEmail, func(m *engine.Message) {
			m.HTML, m.FallbackOf = "<p>Hi Ana</p>", wa.ID
			m.Template = &engine.WhatsAppContent{} // empty is not nil
		})
		got, err = b.db.GetMessage(b.ctx, b.a.ID, email.ID)
		must(t, err)
		equal(t, "fallback message", got, email)

		// A legacy send: no run, step, workflow or event; nil template.
		legacy := &engine.Message{TenantID: b.a.ID, LeadID: f.lead.ID, Trigger: engine.TriggerAccepted,
			Channel: engine.ChannelEmail, To: "ana@example.com", Subject: "Thanks", Body: "We got it",
			Status: engine.MsgShadow}
		must(t, b.tx(func(tx *store.Tx) error {
			created, err := tx.InsertMessage(b.ctx, legacy)
			if !created {
				t.Error("legacy message not created")
			}
			return err
		}))
		got, err = b.db.GetMessage(b.ctx, b.a.ID, legacy.ID)
		must(t, err)
		equal(t, "legacy message", got, legacy)

		// Update every mutable field, and clear the optional ones.
		b.clock.Advance(time.Minute)
		must(t, b.tx(func(tx *store.Tx) error {
			m, err := tx.GetMessageForUpdate(b.ctx, b.a.ID, wa.ID)
			must(t, err)
			equal(t, "message for update", m, wa)
			m.Provider, m.To, m.Subject, m.Body, m.HTML = "log", "+351900000000", "s", "b", "<b>h</b>"
			m.Template = nil
			m.Status, m.Attempts, m.LastError, m.ErrorClass, m.Reason = engine.MsgSent, 4, "", "", ""
			m.ProviderMessageID, m.ScheduledAt, m.SentAt, m.DeliveredAt, m.ReadAt = "wamid.2", nil, at(5), nil, nil
			// Provenance does not change.
			m.Channel, m.FallbackOf, m.StepID = "sms", email.ID, "x"
			if err := tx.UpdateMessage(b.ctx, m); err != nil {
				return err
			}
			if m.UpdatedAt != b.clock.Now().Truncate(time.Microsecond) || m.CreatedAt != wa.CreatedAt {
				t.Errorf("times after update: %v %v", m.CreatedAt, m.UpdatedAt)
			}
			got, err := tx.GetMessage(b.ctx, b.a.ID, wa.ID)
			must(t, err)
			m.Channel, m.FallbackOf, m.StepID = wa.Channel, "", wa.StepID
			equal(t, "updated message", got, m)
			byProvider, err := tx.FindMessageByProviderID(b.ctx, b.a.ID, "wamid.2")
			must(t, err)
			equal(t, "by provider id", byProvider, got)
			for _, id := range []string{"wamid.1", "", "no-such"} {
				_, err = tx.FindMessageByProviderID(b.ctx, b.a.ID, id)
				wantCode(t, err, engine.ENOTFOUND, "")
			}
			wantCode(t, tx.UpdateMessage(b.ctx, &engine.Message{TenantID: b.a.ID, ID: "no-such"}), engine.ENOTFOUND, "")
			return nil
		}))

		// References must be the tenant's.
		g := b.flow(t, b.b.ID)
		for name, mutate := range map[string]func(*engine.Message){
			"other tenant's run":   func(m *engine.Message) { m.RunID = g.run.ID },
			"other tenant's lead":  func(m *engine.Message) { m.LeadID = g.lead.ID },
			"other tenant's event": func(m *engine.Message) { m.EventID = g.event.ID },
			"unknown fallback":     func(m *engine.Message) { m.FallbackOf = "no-such-message" },
		} {
			bad := *legacy
			bad.ID = ""
			mutate(&bad)
			err := b.tx(func(tx *store.Tx) error { _, err := tx.InsertMessage(b.ctx, &bad); return err })
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "") })
		}
	})
}

func TestInsertMessageOnce(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		first := b.message(t, f.run, f.step, engine.ChannelEmail)
		b.clock.Advance(time.Second)
		must(t, b.tx(func(tx *store.Tx) error {
			retry := &engine.Message{TenantID: b.a.ID, RunID: f.run.ID, RunStepID: f.step.ID, LeadID: f.lead.ID,
				Trigger: engine.TriggerSent, Channel: engine.ChannelEmail, To: "other@example.com", Status: engine.MsgScheduled}
			created, err := tx.InsertMessage(b.ctx, retry)
			must(t, err)
			if created {
				t.Fatal("a second message for one step and channel")
			}
			equal(t, "existing message", retry, first)
			return nil
		}))
		// Another channel of the same step is another message; legacy
		// messages (no step) never conflict.
		b.message(t, f.run, f.step, engine.ChannelWhatsApp)
		for range 2 {
			must(t, b.tx(func(tx *store.Tx) error {
				_, err := tx.InsertMessage(b.ctx, &engine.Message{TenantID: b.a.ID, LeadID: f.lead.ID,
					Trigger: engine.TriggerSent, Channel: engine.ChannelEmail, Status: engine.MsgQueued})
				return err
			}))
		}
		if n := b.count(t, "messages", b.a.ID); n != 4 {
			t.Fatalf("%d messages, want 4", n)
		}
	})
}

func TestCancelRunMessages(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		var want []string
		msgs := map[engine.MessageStatus]*engine.Message{}
		for i, st := range []engine.MessageStatus{engine.MsgScheduled, engine.MsgQueued, engine.MsgSending, engine.MsgSent,
			engine.MsgDelivered, engine.MsgFailed, engine.MsgUnknown, engine.MsgSuppressed, engine.MsgShadow} {
			s := b.runStep(t, f.run, string(st), i+1)
			msgs[st] = b.message(t, f.run, s, engine.ChannelEmail, func(m *engine.Message) { m.Status = st })
			if st == engine.MsgScheduled || st == engine.MsgQueued {
				want = append(want, msgs[st].ID)
			}
		}
		// Another run of the same quote keeps its queued message.
		other := b.run(t, f.event, f.wf)
		otherMsg := b.message(t, other, b.runStep(t, other, "x", 0), engine.ChannelEmail)

		b.clock.Advance(time.Minute)
		var ids []string
		must(t, b.tx(func(tx *store.Tx) error {
			var err error
			ids, err = tx.CancelRunMessages(b.ctx, b.a.ID, f.run.ID, "quote_accepted")
			return err
		}))
		equal(t, "cancelled ids", ids, want)
		for st, m := range msgs {
			got, err := b.db.GetMessage(b.ctx, b.a.ID, m.ID)
			must(t, err)
			if st == engine.MsgScheduled || st == engine.MsgQueued {
				m.Status, m.Reason, m.UpdatedAt = engine.MsgCancelled, "quote_accepted", b.clock.Now().Truncate(time.Microsecond)
			}
			equal(t, "message that was "+string(st), got, m)
		}
		got, err := b.db.GetMessage(b.ctx, b.a.ID, otherMsg.ID)
		must(t, err)
		equal(t, "other run's message", got, otherMsg)

		must(t, b.tx(func(tx *store.Tx) error {
			ids, err := tx.CancelRunMessages(b.ctx, b.a.ID, f.run.ID, "again")
			must(t, err)
			equal(t, "nothing left to cancel", ids, []string(nil))
			ids, err = tx.CancelRunMessages(b.ctx, b.b.ID, other.ID, "other tenant")
			must(t, err)
			equal(t, "another tenant's cancel", ids, []string(nil))
			return nil
		}))
	})
}

func TestListMessages(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f1, f2 := b.flow(t, b.a.ID), b.flow(t, b.a.ID)
		start := b.clock.Now()
		var all, ofF1, whatsapp, failed, late []string
		for i := range 6 {
			f := f1
			if i%3 == 2 {
				f = f2
			}
			if i == 4 {
				b.clock.Advance(time.Hour)
			}
			channel := engine.ChannelEmail
			if i%2 == 1 {
				channel = engine.ChannelWhatsApp
			}
			s := b.runStep(t, f.run, "s"+string(rune('0'+i)), i+1)
			m := b.message(t, f.run, s, channel, func(m *engine.Message) {
				if i == 3 {
					m.Status = engine.MsgFailed
				}
			})
			all = append(all, m.ID)
			if f == f1 {
				ofF1 = append(ofF1, m.ID)
			}
			if channel == engine.ChannelWhatsApp {
				whatsapp = append(whatsapp, m.ID)
			}
			if i == 3 {
				failed = append(failed, m.ID)
			}
			if i >= 4 {
				late = append(late, m.ID)
			}
		}
		legacy := &engine.Message{TenantID: b.a.ID, LeadID: f1.lead.ID, Trigger: engine.TriggerExpired,
			Channel: engine.ChannelEmail, Status: engine.MsgQueued}
		must(t, b.tx(func(tx *store.Tx) error { _, err := tx.InsertMessage(b.ctx, legacy); return err }))
		b.flow(t, b.b.ID)
		g := b.flow(t, b.b.ID)
		b.message(t, g.run, g.step, engine.ChannelEmail)

		ids := func(f engine.MessageFilter, limit int) []string {
			var out []string
			cursor := ""
			for {
				page, next, err := b.db.ListMessages(b.ctx, b.a.ID, f, engine.Page{Limit: limit, After: cursor})
				must(t, err)
				for _, m := range page {
					out = append(out, m.ID)
				}
				if next == "" {
					return out
				}
				cursor = next
			}
		}
		equal(t, "all", ids(engine.MessageFilter{}, 3), append(append([]string{}, all...), legacy.ID))
		equal(t, "by run", ids(engine.MessageFilter{RunID: f1.run.ID}, 2), ofF1)
		equal(t, "by event", ids(engine.MessageFilter{EventID: f1.event.ID}, 0), ofF1)
		equal(t, "by quote", ids(engine.MessageFilter{QuoteID: f1.quote.ID}, 0), ofF1)
		equal(t, "by lead", ids(engine.MessageFilter{LeadID: f1.lead.ID}, 1), append(append([]string{}, ofF1...), legacy.ID))
		equal(t, "by channel", ids(engine.MessageFilter{Channel: engine.ChannelWhatsApp}, 1), whatsapp)
		equal(t, "by status", ids(engine.MessageFilter{Status: engine.MsgFailed}, 0), failed)
		equal(t, "by trigger", ids(engine.MessageFilter{Trigger: engine.TriggerExpired}, 0), []string{legacy.ID})
		equal(t, "from", ids(engine.MessageFilter{From: start.Add(time.Hour)}, 0), append(append([]string{}, late...), legacy.ID))
		equal(t, "to", ids(engine.MessageFilter{To: start.Add(time.Hour)}, 0), all[:4])
		equal(t, "everything at once", ids(engine.MessageFilter{Status: engine.MsgQueued, Channel: engine.ChannelEmail,
			Trigger: engine.TriggerSent, LeadID: f1.lead.ID, QuoteID: f1.quote.ID, RunID: f1.run.ID, EventID: f1.event.ID,
			From: start, To: start.Add(time.Minute)}, 0), []string{all[0]})

		list, _, err := b.db.ListMessages(b.ctx, b.a.ID, engine.MessageFilter{RunID: g.run.ID}, engine.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's messages")
		}
	})
}

// The list is in creation order, not id order: a message written by a
// process whose clock is behind (or an import of history) sorts by when
// it was created, both ways, and pages neither repeat nor skip across that.
func TestListMessagesCreationOrder(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		var want []string // created order
		late := b.message(t, f.run, b.runStep(t, f.run, "late", 1), engine.ChannelEmail)
		b.clock.Advance(-time.Hour)
		early := b.message(t, f.run, b.runStep(t, f.run, "early", 2), engine.ChannelEmail)
		b.clock.Advance(30 * time.Minute)
		mid1 := b.message(t, f.run, b.runStep(t, f.run, "mid1", 3), engine.ChannelWhatsApp)
		mid2 := b.message(t, f.run, b.runStep(t, f.run, "mid2", 4), engine.ChannelEmail)
		want = []string{early.ID, mid1.ID, mid2.ID, late.ID}
		if !(late.ID < early.ID) {
			t.Fatal("fixture: ids should be in write order, against creation order")
		}
		walk := func(newest bool, limit int) []string {
			var out []string
			cursor := ""
			for range 10 {
				page, next, err := b.db.ListMessages(b.ctx, b.a.ID, engine.MessageFilter{NewestFirst: newest}, engine.Page{Limit: limit, After: cursor})
				must(t, err)
				for _, m := range page {
					out = append(out, m.ID)
				}
				if next == "" {
					return out
				}
				cursor = next
			}
			t.Fatal("pages never ended")
			return nil
		}
		equal(t, "oldest first", walk(false, 1), want)
		reversed := []string{late.ID, mid2.ID, mid1.ID, early.ID}
		equal(t, "newest first", walk(true, 1), reversed)
		equal(t, "newest first, pages of 3", walk(true, 3), reversed)

		// A cursor from before this order was a bare message id.
		page, _, err := b.db.ListMessages(b.ctx, b.a.ID, engine.MessageFilter{}, engine.Page{After: mid1.ID})
		must(t, err)
		var got []string
		for _, m := range page {
			got = append(got, m.ID)
		}
		equal(t, "after a bare id", got, []string{mid2.ID, late.ID})
		_, _, err = b.db.ListMessages(b.ctx, b.a.ID, engine.MessageFilter{}, engine.Page{After: "01900000-0000-7000-8000-000000000000"})
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Fatalf("a bare id of no message: %v, want invalid", err)
		}
	})
}

func TestMessageIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		g := b.flow(t, b.b.ID)
		mb := b.message(t, g.run, g.step, engine.ChannelWhatsApp, func(m *engine.Message) { m.ProviderMessageID = "wamid.b" })
		_, err := b.db.GetMessage(b.ctx, b.a.ID, mb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		must(t, b.tx(func(tx *store.Tx) error {
			_, err := tx.GetMessageForUpdate(b.ctx, b.a.ID, mb.ID)
			wantCode(t, err, engine.ENOTFOUND, "")
			_, err = tx.FindMessageByProviderID(b.ctx, b.a.ID, "wamid.b")
			wantCode(t, err, engine.ENOTFOUND, "")
			hijack := *mb
			hijack.TenantID, hijack.Status = b.a.ID, engine.MsgCancelled
			wantCode(t, tx.UpdateMessage(b.ctx, &hijack), engine.ENOTFOUND, "")
			// A's copy of B's step's message: B's row is not A's to see.
			_, err = tx.InsertMessage(b.ctx, &engine.Message{TenantID: b.a.ID, RunStepID: g.step.ID,
				Channel: engine.ChannelWhatsApp, LeadID: g.lead.ID})
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))
		got, err := b.db.GetMessage(b.ctx, b.b.ID, mb.ID)
		must(t, err)
		equal(t, "B's message, untouched", got, mb)
	})
}

func TestAttempts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m := b.message(t, f.run, f.step, engine.ChannelWhatsApp)
		started := time.Date(2026, 3, 1, 10, 0, 0, 1999, time.FixedZone("y", 3600))
		retry := started.Add(time.Minute)
		second := &engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: 2, Provider: "cloud_api", StartedAt: started}
		first := &engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: 1, Provider: "cloud_api", Outcome: "retry",
			Error: "429 rate limited", ErrorClass: "transient", ProviderMessageID: "wamid.x", FinishedAt: &started, RetryAt: &retry}
		must(t, b.tx(func(tx *store.Tx) error {
			if err := tx.InsertAttempt(b.ctx, second); err != nil {
				return err
			}
			return tx.InsertAttempt(b.ctx, first)
		}))
		if second.ID == "" || second.StartedAt != started.UTC().Truncate(time.Microsecond) ||
			first.StartedAt != b.clock.Now().Truncate(time.Microsecond) || *first.RetryAt != retry.UTC().Truncate(time.Microsecond) {
			t.Fatalf("InsertAttempt did not fill in the attempts: %+v %+v", first, second)
		}
		list, err := b.db.ListAttempts(b.ctx, b.a.ID, m.ID)
		must(t, err)
		equal(t, "attempts by number", list, []engine.Attempt{*first, *second})

		must(t, b.tx(func(tx *store.Tx) error {
			got, err := tx.GetAttempt(b.ctx, b.a.ID, second.ID)
			must(t, err)
			equal(t, "attempt", got, second)
			done := started.Add(time.Second)
			got.FinishedAt, got.Outcome, got.Error, got.ErrorClass, got.ProviderMessageID = &done, "sent", "", "", "wamid.y"
			got.StartedAt = time.Time{} // not written
			must(t, tx.UpdateAttempt(b.ctx, got))
			equal(t, "StartedAt after update", got.StartedAt, second.StartedAt)
			again, err := tx.GetAttempt(b.ctx, b.a.ID, second.ID)
			must(t, err)
			equal(t, "updated attempt", again, got)
			first.FinishedAt, first.RetryAt, first.ProviderMessageID = nil, nil, ""
			must(t, tx.UpdateAttempt(b.ctx, first))
			again, err = tx.GetAttempt(b.ctx, b.a.ID, first.ID)
			must(t, err)
			equal(t, "cleared attempt", again, first)

			_, err = tx.GetAttempt(b.ctx, b.a.ID, "no-such")
			wantCode(t, err, engine.ENOTFOUND, "")
			wantCode(t, tx.UpdateAttempt(b.ctx, &engine.Attempt{TenantID: b.a.ID, ID: "no-such"}), engine.ENOTFOUND, "")
			return nil
		}))
		dup := &engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: 2}
		wantCode(t, b.tx(func(tx *store.Tx) error { return tx.InsertAttempt(b.ctx, dup) }), engine.ECONFLICT, "")

		// Isolation.
		g := b.flow(t, b.b.ID)
		mb := b.message(t, g.run, g.step, engine.ChannelEmail)
		ab := &engine.Attempt{TenantID: b.b.ID, MessageID: mb.ID, Number: 1}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertAttempt(b.ctx, ab) }))
		wantCode(t, b.tx(func(tx *store.Tx) error {
			return tx.InsertAttempt(b.ctx, &engine.Attempt{TenantID: b.a.ID, MessageID: mb.ID, Number: 5})
		}), engine.ENOTFOUND, "")
		must(t, b.tx(func(tx *store.Tx) error {
			_, err := tx.GetAttempt(b.ctx, b.a.ID, ab.ID)
			wantCode(t, err, engine.ENOTFOUND, "")
			hijack := *ab
			hijack.TenantID, hijack.Outcome = b.a.ID, "failed"
			wantCode(t, tx.UpdateAttempt(b.ctx, &hijack), engine.ENOTFOUND, "")
			return nil
		}))
		list, err = b.db.ListAttempts(b.ctx, b.a.ID, mb.ID)
		must(t, err)
		equal(t, "B's attempts seen by A", list, []engine.Attempt(nil))
		list, err = b.db.ListAttempts(b.ctx, b.b.ID, mb.ID)
		must(t, err)
		equal(t, "B's attempts, untouched", list, []engine.Attempt{*ab})
	})
}

func TestReceipts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m := b.message(t, f.run, f.step, engine.ChannelWhatsApp)
		ts := func(s int) time.Time { return time.Date(2026, 3, 1, 8, 0, s, 1001, time.UTC) } // before the clock
		mk := func(status string, providerTS time.Time) *engine.Receipt {
			return &engine.Receipt{TenantID: b.a.ID, MessageID: m.ID, ProviderMessageID: "wamid.1", Status: status,
				ProviderTimestamp: providerTS, Payload: json.RawMessage(`{"status": "` + status + `"}`)}
		}
		// Received out of order: read, then sent, then delivered.
		read, sent, delivered := mk("read", ts(30)), mk("sent", ts(10)), mk("delivered", ts(20))
		failed := mk("failed", ts(20)) // same provider time as delivered, received later
		failed.ErrorCode, failed.ErrorClass = "131026", "recipient"
		for _, r := range []*engine.Receipt{read, sent, delivered, failed} {
			must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, r) }))
			b.clock.Advance(time.Second)
		}
		// No provider time: it happened when it arrived, after the others.
		noTS := mk("delivered", time.Time{})
		noTS.Payload = nil
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, noTS) }))
		if read.ID == "" || read.ReceivedAt.IsZero() || !noTS.ProviderTimestamp.IsZero() || read.ProviderTimestamp != ts(30).Truncate(time.Microsecond) {
			t.Fatalf("InsertReceipt did not fill in the receipts: %+v %+v", read, noTS)
		}
		canonReceipts := func(rs []engine.Receipt) []engine.Receipt {
			for i := range rs {
				rs[i].Payload = canon(t, rs[i].Payload)
			}
			return rs
		}
		list, err := b.db.ListReceipts(b.ctx, b.a.ID, m.ID)
		must(t, err)
		equal(t, "receipts by provider time, then arrival", canonReceipts(list),
			canonReceipts([]engine.Receipt{*sent, *delivered, *failed, *read, *noTS}))

		// A receipt for a message we do not know; one with its own
		// received time.
		orphan := &engine.Receipt{TenantID: b.a.ID, ProviderMessageID: "wamid.unknown", Status: "sent",
			ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 7, time.UTC)}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, orphan) }))
		equal(t, "orphan received at", orphan.ReceivedAt, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if n := b.count(t, "receipts", b.a.ID); n != 6 {
			t.Fatalf("%d receipts, want 6", n)
		}

		// Isolation.
		g := b.flow(t, b.b.ID)
		mb := b.message(t, g.run, g.step, engine.ChannelWhatsApp)
		wantCode(t, b.tx(func(tx *store.Tx) error {
			return tx.InsertReceipt(b.ctx, &engine.Receipt{TenantID: b.a.ID, MessageID: mb.ID, ProviderMessageID: "x", Status: "sent"})
		}), engine.ENOTFOUND, "")
		rb := &engine.Receipt{TenantID: b.b.ID, MessageID: mb.ID, ProviderMessageID: "x", Status: "sent"}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, rb) }))
		list, err = b.db.ListReceipts(b.ctx, b.a.ID, mb.ID)
		must(t, err)
		equal(t, "B's receipts seen by A", list, []engine.Receipt(nil))
		list, err = b.db.ListReceipts(b.ctx, b.b.ID, mb.ID)
		must(t, err)
		equal(t, "B's receipts", list, []engine.Receipt{*rb})
	})
}

func TestCircuits(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		until := time.Date(2026, 3, 1, 12, 0, 0, 999, time.FixedZone("z", 3600))
		c := &engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Reason: "auth_failed", ErrorCode: "535", Until: until}
		must(t, b.tx(func(tx *store.Tx) error { return tx.OpenCircuit(b.ctx, c) }))
		if c.OpenedAt != b.clock.Now().Truncate(time.Microsecond) || c.Until != until.UTC().Truncate(time.Microsecond) {
			t.Fatalf("OpenCircuit did not fill in the circuit: %+v", c)
		}
		got, err := b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		must(t, err)
		equal(t, "circuit", got, c)

		// Open again: the circuit is replaced, not duplicated.
		opened := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		again := &engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Reason: "policy", ErrorCode: "550",
			OpenedAt: opened, Until: until.Add(time.Hour)}
		wa := &engine.Circuit{TenantID: b.a.ID, Provider: "cloud_api", Reason: "quality", ErrorCode: "131048", Until: until}
		cb := &engine.Circuit{TenantID: b.b.ID, Provider: "smtp", Reason: "b", Until: until}
		must(t, b.tx(func(tx *store.Tx) error {
			for _, c := range []*engine.Circuit{again, wa, cb} {
				if err := tx.OpenCircuit(b.ctx, c); err != nil {
					return err
				}
			}
			got, err := tx.GetCircuit(b.ctx, b.a.ID, "smtp")
			must(t, err)
			equal(t, "reopened circuit", got, again)
			return nil
		}))
		list, err := b.db.ListCircuits(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "circuits by provider", list, []engine.Circuit{*wa, *again})

		must(t, b.db.CloseCircuit(b.ctx, b.a.ID, "smtp"))
		must(t, b.db.CloseCircuit(b.ctx, b.a.ID, "smtp")) // idempotent
		_, err = b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		wantCode(t, err, engine.ENOTFOUND, "")
		list, err = b.db.ListCircuits(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "after close", list, []engine.Circuit{*wa})

		// Isolation: A closing "cloud_api" and "smtp" leaves B's alone.
		_, err = b.db.GetCircuit(b.ctx, b.a.ID, "nothing")
		wantCode(t, err, engine.ENOTFOUND, "")
		must(t, b.tx(func(tx *store.Tx) error { return tx.CloseCircuit(b.ctx, b.a.ID, "cloud_api") }))
		list, err = b.db.ListCircuits(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "A's circuits", list, []engine.Circuit(nil))
		got, err = b.db.GetCircuit(b.ctx, b.b.ID, "smtp")
		must(t, err)
		equal(t, "B's circuit", got, cb)
		wantCode(t, b.tx(func(tx *store.Tx) error {
			return tx.OpenCircuit(b.ctx, &engine.Circuit{TenantID: "no-such-tenant", Provider: "smtp"})
		}), engine.ENOTFOUND, "")
	})
}

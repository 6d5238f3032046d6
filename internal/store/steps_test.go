package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestLoadRunReadsWhatAStepNeeds: the run, its tenant, lead and quote and
// the tenant's open circuits in one call; another tenant's run is not
// found.
func TestLoadRunReadsWhatAStepNeeds(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		must(t, b.tx(func(tx *store.Tx) error {
			return tx.OpenCircuit(b.ctx, &engine.Circuit{TenantID: b.a.ID, Provider: "cloud_api", Reason: "account locked",
				Until: b.clock.Now().Add(time.Hour)})
		}))
		var st *store.RunState
		must(t, b.tx(func(tx *store.Tx) (err error) {
			st, err = tx.LoadRun(b.ctx, b.a.ID, f.run.ID)
			return err
		}))
		if st.Run.ID != f.run.ID || st.Tenant.ID != b.a.ID || st.Lead.ID != f.lead.ID || st.Quote == nil || st.Quote.ID != f.quote.ID {
			t.Errorf("state %+v, want run %s of lead %s and quote %s", st, f.run.ID, f.lead.ID, f.quote.ID)
		}
		if c := st.Circuit("cloud_api"); c == nil || c.Reason != "account locked" {
			t.Errorf("circuit of cloud_api %+v, want the open one", c)
		}
		if c := st.Circuit("smtp"); c != nil {
			t.Errorf("circuit of smtp %+v, want none", c)
		}
		err := b.tx(func(tx *store.Tx) error {
			_, err := tx.LoadRun(b.ctx, b.b.ID, f.run.ID)
			return err
		})
		wantCode(t, err, engine.ENOTFOUND, "")
	})
}

// TestQueuedStepWrites: a step's queued message, attempt and run finish,
// then an outcome's queued updates, read back as InsertMessage and
// UpdateMessage would have left them; the locked message carries its
// event's time.
func TestQueuedStepWrites(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m := &engine.Message{TenantID: f.run.TenantID, EventID: f.run.EventID, RunID: f.run.ID, RunStepID: f.step.ID,
			LeadID: f.run.LeadID, QuoteID: f.run.QuoteID, WorkflowID: f.run.WorkflowID, WorkflowVersion: f.run.WorkflowVersion,
			StepID: f.step.StepID, Trigger: f.run.Trigger, Channel: engine.ChannelEmail, Provider: "log", To: "ana@example.com",
			Subject: "Your quote", Body: "Hi Ana", Status: engine.MsgSending, Attempts: 1}
		att := &engine.Attempt{TenantID: b.a.ID, Number: 1, Provider: "log"}
		must(t, b.tx(func(tx *store.Tx) error {
			if err := tx.QueueNewMessage(b.ctx, m); err != nil {
				return err
			}
			att.MessageID = m.ID
			if err := tx.QueueAttempt(b.ctx, att); err != nil {
				return err
			}
			return tx.QueueFinishRun(b.ctx, b.a.ID, f.run.ID, engine.RunCompleted, "")
		}))
		got, err := b.db.GetMessage(b.ctx, b.a.ID, m.ID)
		must(t, err)
		equal(t, "queued message", got, m)
		run, err := b.db.GetRun(b.ctx, b.a.ID, f.run.ID)
		must(t, err)
		if run.Status != engine.RunCompleted || run.FinishedAt == nil {
			t.Errorf("run %s finished %v, want completed", run.Status, run.FinishedAt)
		}

		b.clock.Advance(time.Second)
		must(t, b.tx(func(tx *store.Tx) error {
			locked, eventAt, err := tx.LockMessageForOutcome(b.ctx, b.a.ID, m.ID)
			if err != nil {
				return err
			}
			if !eventAt.Equal(f.event.CreatedAt) {
				t.Errorf("event at %v, want the event's %v", eventAt, f.event.CreatedAt)
			}
			now := tx.Now()
			att.FinishedAt, att.Outcome, att.ProviderMessageID = &now, "sent", "p-1"
			locked.Status, locked.SentAt, locked.ProviderMessageID = engine.MsgSent, &now, "p-1"
			if err := tx.QueueUpdateAttempt(b.ctx, att); err != nil {
				return err
			}
			if err := tx.QueueUpdateMessage(b.ctx, locked); err != nil {
				return err
			}
			m = locked
			return nil
		}))
		got, err = b.db.GetMessage(b.ctx, b.a.ID, m.ID)
		must(t, err)
		equal(t, "updated message", got, m)
		atts, err := b.db.ListAttempts(b.ctx, b.a.ID, m.ID)
		must(t, err)
		if len(atts) != 1 || atts[0].Outcome != "sent" || atts[0].ProviderMessageID != "p-1" || atts[0].FinishedAt == nil {
			t.Errorf("attempts %+v, want the one, sent", atts)
		}

		// An update of another tenant's message finds nothing and fails.
		err = b.tx(func(tx *store.Tx) error {
			other := *m
			other.TenantID = b.b.ID
			return tx.QueueUpdateMessage(b.ctx, &other)
		})
		wantCode(t, err, engine.ENOTFOUND, "")
	})
}

// TestQueueMessageSent: a claimed message's accepted send recorded without
// a read: the message sent with the provider's id and its errors cleared,
// the attempt finished, the event's time given back, all read back as the
// long way (LockMessageForOutcome, QueueUpdateMessage) would have left
// them. A message that a receipt moved, or that another attempt claimed,
// fails the transaction with ErrMessageMoved and keeps all it had.
func TestQueueMessageSent(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		claim := func(f *flow, number int) (*engine.Message, *engine.Attempt) {
			m := b.message(t, f.run, f.step, engine.ChannelEmail, func(m *engine.Message) {
				m.Status, m.Attempts, m.LastError, m.ErrorClass, m.Reason = engine.MsgSending, number, "earlier timeout", "transient", "retry"
			})
			att := &engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: number, Provider: "log", StartedAt: b.clock.Now()}
			must(t, b.tx(func(tx *store.Tx) error { return tx.InsertAttempt(b.ctx, att) }))
			return m, att
		}
		f := b.flow(t, b.a.ID)
		m, att := claim(f, 1)
		b.clock.Advance(time.Second)
		var eventAt time.Time
		must(t, b.tx(func(tx *store.Tx) error { return tx.QueueMessageSent(b.ctx, m, att, "p-1", &eventAt) }))
		if !eventAt.Equal(f.event.CreatedAt) {
			t.Errorf("event at %v, want the event's %v", eventAt, f.event.CreatedAt)
		}
		got, err := b.db.GetMessage(b.ctx, b.a.ID, m.ID)
		must(t, err)
		if got.Status != engine.MsgSent || got.ProviderMessageID != "p-1" || got.SentAt == nil || !got.SentAt.After(got.CreatedAt) ||
			got.LastError != "" || got.ErrorClass != "" || got.Reason != "" {
			t.Errorf("message %+v, want sent as p-1 now, its errors cleared", got)
		}
		equal(t, "message as QueueMessageSent left it in memory", got, m)
		atts, err := b.db.ListAttempts(b.ctx, b.a.ID, m.ID)
		must(t, err)
		if len(atts) != 1 || atts[0].Outcome != "sent" || atts[0].ProviderMessageID != "p-1" || atts[0].FinishedAt == nil {
			t.Errorf("attempts %+v, want the one, sent", atts)
		}

		for name, move := range map[string]string{
			"delivered by a receipt": `UPDATE messages SET status = 'delivered' WHERE id = ?`,
			"claimed again":          `UPDATE messages SET attempts = 2 WHERE id = ?`,
		} {
			mv, att := claim(b.flow(t, b.a.ID), 1)
			must(t, b.db.RawExec(b.ctx, move, mv.ID))
			before, err := b.db.GetMessage(b.ctx, b.a.ID, mv.ID)
			must(t, err)
			err = b.tx(func(tx *store.Tx) error { return tx.QueueMessageSent(b.ctx, mv, att, "p-2", &eventAt) })
			if !errors.Is(err, store.ErrMessageMoved) {
				t.Fatalf("%s: error %v, want ErrMessageMoved", name, err)
			}
			after, err := b.db.GetMessage(b.ctx, b.a.ID, mv.ID)
			must(t, err)
			equal(t, name+": message after the failed outcome", after, before)
			atts, err := b.db.ListAttempts(b.ctx, b.a.ID, mv.ID)
			must(t, err)
			if len(atts) != 1 || atts[0].Outcome != "" || atts[0].FinishedAt != nil {
				t.Errorf("%s: attempts %+v, want the one, unfinished", name, atts)
			}
		}
	})
}

// TestQueueNewRunStepOnAWrittenStep: a step's record queued a second time
// fails its transaction with ErrRunStepExists and writes nothing of it,
// so that the job's retry can read what its first try did.
func TestQueueNewRunStepOnAWrittenStep(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		again := &engine.RunStep{TenantID: b.a.ID, RunID: f.run.ID, StepID: f.step.StepID, Position: 0,
			Type: engine.StepSendEmail, Status: engine.StepCompleted}
		err := b.tx(func(tx *store.Tx) error {
			if err := tx.QueueNewRunStep(b.ctx, again); err != nil {
				return err
			}
			return tx.QueueFinishRun(b.ctx, b.a.ID, f.run.ID, engine.RunCompleted, "")
		})
		if !errors.Is(err, store.ErrRunStepExists) {
			t.Fatalf("got %v, want ErrRunStepExists", err)
		}
		run, err := b.db.GetRun(b.ctx, b.a.ID, f.run.ID)
		must(t, err)
		if run.Status != engine.RunActive {
			t.Errorf("run %s after the failed transaction, want still active", run.Status)
		}
		fresh := &engine.RunStep{TenantID: b.a.ID, RunID: f.run.ID, StepID: "next", Position: 1,
			Type: engine.StepSendEmail, Status: engine.StepCompleted}
		must(t, b.tx(func(tx *store.Tx) error { return tx.QueueNewRunStep(b.ctx, fresh) }))
		steps, err := b.db.ListRunSteps(b.ctx, b.a.ID, f.run.ID)
		must(t, err)
		if len(steps) != 2 || steps[1].ID != fresh.ID {
			t.Errorf("steps %+v, want the first and the queued one", steps)
		}
	})
}

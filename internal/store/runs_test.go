package store_test

import (
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// run starts a run of w for the event in its own transaction.
func (b *bundle) run(t testing.TB, e *engine.Event, w *engine.Workflow, mutate ...func(*engine.Run)) *engine.Run {
	t.Helper()
	r := &engine.Run{TenantID: e.TenantID, EventID: e.ID, LeadID: e.LeadID, QuoteID: e.QuoteID, WorkflowID: w.ID,
		WorkflowVersion: w.Version, Trigger: e.Trigger, Status: engine.RunActive}
	for _, m := range mutate {
		m(r)
	}
	must(t, b.tx(func(tx *store.Tx) error { return tx.InsertRun(b.ctx, r) }))
	return r
}

// runStep records a step of the run in its own transaction.
func (b *bundle) runStep(t testing.TB, r *engine.Run, stepID string, position int, mutate ...func(*engine.RunStep)) *engine.RunStep {
	t.Helper()
	s := &engine.RunStep{TenantID: r.TenantID, RunID: r.ID, StepID: stepID, Position: position,
		Type: engine.StepSendEmail, Status: engine.StepScheduled}
	for _, m := range mutate {
		m(s)
	}
	must(t, b.tx(func(tx *store.Tx) error {
		created, err := tx.InsertRunStep(b.ctx, s)
		if err == nil && !created {
			t.Errorf("run step %s was not created", stepID)
		}
		return err
	}))
	return s
}

func TestRunRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		e := b.event(t, q)
		finished := time.Date(2026, 3, 2, 10, 0, 0, 999, time.FixedZone("x", 7200))
		r := &engine.Run{TenantID: b.a.ID, EventID: e.ID, LeadID: l.ID, QuoteID: q.ID, WorkflowID: w.ID,
			WorkflowVersion: w.Version, Trigger: engine.TriggerSent, Status: engine.RunCompleted, Shadow: true,
			Reason: "done", FinishedAt: &finished}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertRun(b.ctx, r) }))
		now := b.clock.Now().Truncate(time.Microsecond)
		if r.ID == "" || r.CreatedAt != now || r.UpdatedAt != now || *r.FinishedAt != finished.UTC().Truncate(time.Microsecond) {
			t.Fatalf("InsertRun did not fill in the run: %+v", r)
		}
		got, err := b.db.GetRun(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "run", got, r)

		// No quote, not shadow, not finished.
		bare := &engine.Run{TenantID: b.a.ID, EventID: e.ID, LeadID: l.ID, WorkflowID: w.ID, WorkflowVersion: w.Version,
			Trigger: engine.TriggerViewed, Status: engine.RunActive}
		must(t, b.tx(func(tx *store.Tx) error {
			if err := tx.InsertRun(b.ctx, bare); err != nil {
				return err
			}
			got, err := tx.GetRun(b.ctx, b.a.ID, bare.ID)
			must(t, err)
			equal(t, "bare run", got, bare)
			return nil
		}))

		// References must be the tenant's.
		eb := b.event(t, b.quote(t, b.lead(t, b.b.ID)))
		for name, mutate := range map[string]func(*engine.Run){
			"other tenant's event": func(r *engine.Run) { r.EventID = eb.ID },
			"unknown workflow":     func(r *engine.Run) { r.WorkflowID = "no-such-workflow" },
			"unknown version":      func(r *engine.Run) { r.WorkflowVersion = 99 },
			"other tenant's lead":  func(r *engine.Run) { r.LeadID = eb.LeadID },
			"other tenant's quote": func(r *engine.Run) { r.QuoteID = eb.QuoteID },
		} {
			bad := *bare
			bad.ID = ""
			mutate(&bad)
			err := b.tx(func(tx *store.Tx) error { return tx.InsertRun(b.ctx, &bad) })
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "") })
		}
	})
}

func TestFinishRun(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		r := b.run(t, b.event(t, q), w)
		b.clock.Advance(time.Minute)
		must(t, b.tx(func(tx *store.Tx) error {
			ok, err := tx.FinishRun(b.ctx, b.a.ID, r.ID, engine.RunCancelled, "superseded")
			must(t, err)
			if !ok {
				t.Fatal("an active run did not finish")
			}
			// Only from active: a completion that comes second changes nothing.
			ok, err = tx.FinishRun(b.ctx, b.a.ID, r.ID, engine.RunCompleted, "")
			must(t, err)
			if ok {
				t.Fatal("a cancelled run finished again")
			}
			_, err = tx.FinishRun(b.ctx, b.a.ID, "no-such-run", engine.RunCompleted, "")
			wantCode(t, err, engine.ENOTFOUND, "")
			_, err = tx.FinishRun(b.ctx, b.b.ID, r.ID, engine.RunCompleted, "")
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))
		got, err := b.db.GetRun(b.ctx, b.a.ID, r.ID)
		must(t, err)
		now := b.clock.Now().Truncate(time.Microsecond)
		want := *r
		want.Status, want.Reason, want.FinishedAt, want.UpdatedAt = engine.RunCancelled, "superseded", &now, now
		equal(t, "finished run", got, &want)
	})
}

func TestListRuns(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l1, l2 := b.lead(t, b.a.ID), b.lead(t, b.a.ID)
		q1, q1b, q2 := b.quote(t, l1), b.quote(t, l1), b.quote(t, l2)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		e1, e2 := b.event(t, q1), b.event(t, q2)
		r1 := b.run(t, e1, w)
		r2 := b.run(t, e1, w, func(r *engine.Run) { r.Status = engine.RunCompleted })
		r3 := b.run(t, e2, w)
		r4 := b.run(t, b.event(t, q1b), w)
		r5 := b.run(t, e1, w)
		b.run(t, b.event(t, b.quote(t, b.lead(t, b.b.ID))), b.workflow(t, b.b.ID, engine.TriggerSent))

		ids := func(f engine.RunFilter, limit int) []string {
			var out []string
			cursor := ""
			for {
				page, next, err := b.db.ListRuns(b.ctx, b.a.ID, f, engine.Page{Limit: limit, After: cursor})
				must(t, err)
				for _, r := range page {
					out = append(out, r.ID)
				}
				if next == "" {
					return out
				}
				cursor = next
			}
		}
		equal(t, "all", ids(engine.RunFilter{}, 2), []string{r1.ID, r2.ID, r3.ID, r4.ID, r5.ID})
		equal(t, "by lead", ids(engine.RunFilter{LeadID: l1.ID}, 1), []string{r1.ID, r2.ID, r4.ID, r5.ID})
		equal(t, "by quote", ids(engine.RunFilter{QuoteID: q1.ID}, 0), []string{r1.ID, r2.ID, r5.ID})
		equal(t, "by status", ids(engine.RunFilter{Status: engine.RunCompleted}, 0), []string{r2.ID})
		equal(t, "by event", ids(engine.RunFilter{EventID: e2.ID}, 0), []string{r3.ID})
		equal(t, "active of event 1", ids(engine.RunFilter{EventID: e1.ID, Status: engine.RunActive}, 0), []string{r1.ID, r5.ID})

		must(t, b.tx(func(tx *store.Tx) error {
			active, err := tx.ListActiveRuns(b.ctx, b.a.ID, q1.ID)
			must(t, err)
			equal(t, "active runs of quote 1", active, []engine.Run{*r1, *r5})
			active, err = tx.ListActiveRuns(b.ctx, b.b.ID, q1.ID)
			must(t, err)
			equal(t, "another tenant's view of them", active, []engine.Run(nil))
			return nil
		}))
	})
}

func TestRunSteps(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		r := b.run(t, b.event(t, q), w)
		at := time.Date(2026, 3, 3, 9, 0, 0, 1, time.UTC)

		// Recorded out of order; listed by position.
		wait := b.runStep(t, r, w.Steps[1].ID, 1, func(s *engine.RunStep) {
			s.Type, s.Outcome, s.Detail, s.ScheduledAt, s.StartedAt = engine.StepWait, "waiting", "until Tuesday", &at, &at
		})
		if wait.ID == "" || *wait.ScheduledAt != at.Truncate(time.Microsecond) || wait.CreatedAt != b.clock.Now().Truncate(time.Microsecond) {
			t.Fatalf("InsertRunStep did not fill in the step: %+v", wait)
		}
		send := b.runStep(t, r, w.Steps[0].ID, 0, func(s *engine.RunStep) { s.Status = engine.StepCompleted })
		skipped := b.runStep(t, r, "later", 2, func(s *engine.RunStep) { s.Status = engine.StepSkipped })
		steps, err := b.db.ListRunSteps(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "steps", steps, []engine.RunStep{*send, *wait, *skipped})

		// A retried step job sees the first try's record, and writes none.
		b.clock.Advance(time.Second)
		must(t, b.tx(func(tx *store.Tx) error {
			retry := &engine.RunStep{TenantID: b.a.ID, RunID: r.ID, StepID: w.Steps[1].ID, Position: 1,
				Type: engine.StepWait, Status: engine.StepCompleted, Outcome: "other"}
			created, err := tx.InsertRunStep(b.ctx, retry)
			must(t, err)
			if created {
				t.Fatal("a second record for one step")
			}
			equal(t, "existing step", retry, wait)
			return nil
		}))
		if n := b.count(t, "run_steps", b.a.ID); n != 3 {
			t.Fatalf("%d run steps, want 3", n)
		}

		// Update.
		b.clock.Advance(time.Minute)
		done := at.Add(time.Hour)
		wait.Status, wait.Outcome, wait.Detail, wait.FinishedAt, wait.StartedAt = engine.StepCompleted, "waited", "", &done, nil
		must(t, b.tx(func(tx *store.Tx) error { return tx.UpdateRunStep(b.ctx, wait) }))
		if wait.UpdatedAt != b.clock.Now().Truncate(time.Microsecond) {
			t.Fatalf("UpdatedAt %v", wait.UpdatedAt)
		}
		steps, err = b.db.ListRunSteps(b.ctx, b.a.ID, r.ID)
		must(t, err)
		equal(t, "updated step", steps[1], *wait)

		// Cancel: only scheduled steps.
		later := b.runStep(t, r, "much-later", 3)
		b.runStep(t, b.run(t, b.event(t, q), w), "other-run", 0) // another run's scheduled step
		b.clock.Advance(time.Minute)
		var n int
		must(t, b.tx(func(tx *store.Tx) error {
			var err error
			n, err = tx.CancelRunSteps(b.ctx, b.a.ID, r.ID)
			return err
		}))
		equal(t, "cancelled", n, 1)
		steps, err = b.db.ListRunSteps(b.ctx, b.a.ID, r.ID)
		must(t, err)
		now := b.clock.Now().Truncate(time.Microsecond)
		want := *later
		want.Status, want.FinishedAt, want.UpdatedAt = engine.StepCancelled, &now, now
		equal(t, "steps after cancel", steps, []engine.RunStep{*send, *wait, *skipped, want})
		if n := b.count(t, "run_steps", b.a.ID); n != 5 {
			t.Fatalf("%d run steps, want 5", n)
		}
	})
}

func TestRunIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		wb := b.workflow(t, b.b.ID, engine.TriggerSent)
		rb := b.run(t, b.event(t, b.quote(t, b.lead(t, b.b.ID))), wb)
		sb := b.runStep(t, rb, wb.Steps[0].ID, 0)
		_, err := b.db.GetRun(b.ctx, b.a.ID, rb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		steps, err := b.db.ListRunSteps(b.ctx, b.a.ID, rb.ID)
		must(t, err)
		if len(steps) != 0 {
			t.Fatal("A lists B's run steps")
		}
		list, _, err := b.db.ListRuns(b.ctx, b.a.ID, engine.RunFilter{}, engine.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's runs")
		}
		// A step for B's run, as A: the step exists, or it does not. (A
		// failed statement aborts a PostgreSQL transaction: one each.)
		for _, stepID := range []string{wb.Steps[0].ID, "new-step"} {
			wantCode(t, b.tx(func(tx *store.Tx) error {
				_, err := tx.InsertRunStep(b.ctx, &engine.RunStep{TenantID: b.a.ID, RunID: rb.ID, StepID: stepID,
					Type: engine.StepWait, Status: engine.StepScheduled})
				return err
			}), engine.ENOTFOUND, "")
		}
		must(t, b.tx(func(tx *store.Tx) error {
			hijack := *sb
			hijack.TenantID, hijack.Status = b.a.ID, engine.StepFailed
			wantCode(t, tx.UpdateRunStep(b.ctx, &hijack), engine.ENOTFOUND, "")
			n, err := tx.CancelRunSteps(b.ctx, b.a.ID, rb.ID)
			must(t, err)
			equal(t, "B's steps cancelled by A", n, 0)
			active, err := tx.ListActiveRuns(b.ctx, b.a.ID, rb.QuoteID)
			must(t, err)
			equal(t, "B's active runs seen by A", len(active), 0)
			return nil
		}))
		got, err := b.db.GetRun(b.ctx, b.b.ID, rb.ID)
		must(t, err)
		equal(t, "B's run, untouched", got, rb)
		steps, err = b.db.ListRunSteps(b.ctx, b.b.ID, rb.ID)
		must(t, err)
		equal(t, "B's steps, untouched", steps, []engine.RunStep{*sb})
	})
}

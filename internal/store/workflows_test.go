package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// canonSteps rewrites the raw conditions of steps canonically.
func canonSteps(t *testing.T, w *engine.Workflow) *engine.Workflow {
	t.Helper()
	c := *w
	c.Steps = make([]engine.Step, len(w.Steps))
	for i, s := range w.Steps {
		s.When = canon(t, s.When)
		c.Steps[i] = s
	}
	return &c
}

func TestWorkflowRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		html := "<p>Hi</p>"
		w := &engine.Workflow{TenantID: b.a.ID, Name: "Rejected follow-up", Trigger: engine.TriggerRejected, Enabled: true,
			ExitOn: []engine.QuoteStatus{engine.QuoteAccepted, engine.QuoteExpired},
			Steps: []engine.Step{
				{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "About {{ quote.number }}", Text: "Hi", HTML: &html}},
				{ID: "my-wait", Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P2D"}},
				{Type: engine.StepSendWhatsApp,
					When:            json.RawMessage(`{ "all": [ {"value": 1000, "op": "gte", "field": "quote.amount"} ] }`),
					WhatsApp:        &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US", Parameters: []string{"{{ lead.first_name }}"}},
					FallbackChannel: "email",
					Email:           &engine.EmailContent{Subject: "s", Text: "t"}},
			}}
		must(t, b.db.CreateWorkflow(b.ctx, w))
		now := b.clock.Now().Truncate(time.Microsecond)
		if w.ID == "" || w.Version != 1 || !w.CreatedAt.Equal(now) || !w.UpdatedAt.Equal(now) {
			t.Fatalf("CreateWorkflow did not fill in the workflow: %+v", w)
		}
		if w.Steps[0].ID == "" || w.Steps[1].ID != "my-wait" || w.Steps[2].ID == "" || w.Steps[0].ID == w.Steps[2].ID {
			t.Fatalf("step ids: %q %q %q", w.Steps[0].ID, w.Steps[1].ID, w.Steps[2].ID)
		}
		got, err := b.db.GetWorkflow(b.ctx, b.a.ID, w.ID)
		must(t, err)
		equal(t, "workflow", canonSteps(t, got), canonSteps(t, w))

		// No steps and no exit_on: an empty list of steps, nil exit_on.
		empty := &engine.Workflow{TenantID: b.a.ID, Name: "Empty", Trigger: engine.TriggerViewed}
		must(t, b.db.CreateWorkflow(b.ctx, empty))
		got, err = b.db.GetWorkflow(b.ctx, b.a.ID, empty.ID)
		must(t, err)
		if got.Steps == nil || len(got.Steps) != 0 || got.ExitOn != nil || got.Enabled {
			t.Fatalf("empty workflow read back as %+v", got)
		}
	})
}

func TestWorkflowVersionsAreImmutable(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		v1 := canonSteps(t, w)
		cv := b.configVersion(t, b.a.ID)

		b.clock.Advance(time.Hour)
		next := *w
		next.Name, next.Enabled = "Renamed", false
		next.Steps = []engine.Step{
			w.Steps[1], // reordered: the wait first, keeping its id
			{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "new", Text: "new"}},
		}
		must(t, b.db.UpdateWorkflow(b.ctx, &next, 1))
		if next.Version != 2 || !next.CreatedAt.Equal(w.CreatedAt) || !next.UpdatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("after update: %+v", next)
		}
		if next.Steps[0].ID != w.Steps[1].ID || next.Steps[1].ID == "" {
			t.Fatalf("step ids after update: %+v", next.Steps)
		}
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after an update, want %d", got, cv+1)
		}

		cur, err := b.db.GetWorkflow(b.ctx, b.a.ID, w.ID)
		must(t, err)
		equal(t, "current version", canonSteps(t, cur), canonSteps(t, &next))
		old, err := b.db.GetWorkflowVersion(b.ctx, b.a.ID, w.ID, 1)
		must(t, err)
		equal(t, "version 1 after the update", canonSteps(t, old), v1)
		v2, err := b.db.GetWorkflowVersion(b.ctx, b.a.ID, w.ID, 2)
		must(t, err)
		equal(t, "version 2", canonSteps(t, v2), canonSteps(t, &next))
		_, err = b.db.GetWorkflowVersion(b.ctx, b.a.ID, w.ID, 3)
		wantCode(t, err, engine.ENOTFOUND, "")

		versions, err := b.db.ListWorkflowVersions(b.ctx, b.a.ID, w.ID)
		must(t, err)
		if len(versions) != 2 {
			t.Fatalf("%d versions", len(versions))
		}
		equal(t, "versions, newest first", []*engine.Workflow{canonSteps(t, &versions[0]), canonSteps(t, &versions[1])},
			[]*engine.Workflow{canonSteps(t, &next), v1})

		stale := next
		wantCode(t, b.db.UpdateWorkflow(b.ctx, &stale, 1), engine.EPRECONDITION, "")
		dup := next
		dup.Steps = []engine.Step{{ID: "same", Type: engine.StepWait}, {ID: "same", Type: engine.StepWait}}
		wantCode(t, b.db.UpdateWorkflow(b.ctx, &dup, 0), engine.EINVALID, "body.steps[1].id")
		cur, err = b.db.GetWorkflow(b.ctx, b.a.ID, w.ID)
		must(t, err)
		equal(t, "version after failed updates", cur.Version, int64(2))
	})
}

func TestCreateWorkflowIsAtomic(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		cv := b.configVersion(t, b.a.ID)
		// The workflow, its version and a first step are written before
		// the second step's condition turns out not to be JSON.
		w := &engine.Workflow{TenantID: b.a.ID, Name: "Broken", Trigger: engine.TriggerSent, Steps: []engine.Step{
			{Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P1D"}},
			{Type: engine.StepWait, When: json.RawMessage(`{"all": [`)},
		}}
		wantCode(t, b.db.CreateWorkflow(b.ctx, w), engine.EINVALID, "body.steps[1].when")
		for _, table := range []string{"workflows", "workflow_versions", "workflow_steps"} {
			if n := b.count(t, table, b.a.ID); n != 0 {
				t.Errorf("%s: %d rows left by a failed create", table, n)
			}
		}
		if got := b.configVersion(t, b.a.ID); got != cv {
			t.Errorf("a failed create moved the config version from %d to %d", cv, got)
		}
		if w.ID != "" || w.Steps[0].ID != "" {
			t.Errorf("a failed create filled in ids: %+v", w)
		}
	})
}

func TestListWorkflows(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		var want []*engine.Workflow
		for i := range 5 {
			w := b.workflow(t, b.a.ID, engine.TriggerSent)
			if i == 1 {
				// Listed at its current version.
				w.Name = "second, v2"
				w.Steps = w.Steps[:1]
				must(t, b.db.UpdateWorkflow(b.ctx, w, 0))
			}
			want = append(want, canonSteps(t, w))
		}
		deleted := b.workflow(t, b.a.ID, engine.TriggerSent)
		must(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, deleted.ID))
		b.workflow(t, b.b.ID, engine.TriggerSent)

		var got []*engine.Workflow
		cursor, pages := "", 0
		for {
			page, next, err := b.db.ListWorkflows(b.ctx, b.a.ID, engine.Page{Limit: 2, After: cursor})
			must(t, err)
			pages++
			for i := range page {
				got = append(got, canonSteps(t, &page[i]))
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if pages != 3 {
			t.Fatalf("%d pages, want 3", pages)
		}
		equal(t, "workflows", got, want)
	})
}

func TestDeleteWorkflow(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		r := b.rule(t, b.a.ID, w.ID, 10)
		l := b.lead(t, b.a.ID)
		o := &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: string(engine.TriggerSent),
			Action: engine.OverrideWorkflow, WorkflowID: w.ID}
		must(t, b.db.CreateOverride(b.ctx, o))

		wantCode(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, w.ID), engine.ECONFLICT, "")
		must(t, b.db.DeleteRule(b.ctx, b.a.ID, r.ID))
		wantCode(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, w.ID), engine.ECONFLICT, "")
		must(t, b.db.DeleteOverride(b.ctx, b.a.ID, l.ID, o.ID))

		cv := b.configVersion(t, b.a.ID)
		must(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, w.ID))
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Fatalf("config version %d after delete, want %d", got, cv+1)
		}
		_, err := b.db.GetWorkflow(b.ctx, b.a.ID, w.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.ListWorkflowVersions(b.ctx, b.a.ID, w.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateWorkflow(b.ctx, w, 0), engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, w.ID), engine.ENOTFOUND, "")
		list, _, err := b.db.ListWorkflows(b.ctx, b.a.ID, engine.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("deleted workflow listed: %+v", list)
		}
		// Runs still execute the version they started with.
		v1, err := b.db.GetWorkflowVersion(b.ctx, b.a.ID, w.ID, 1)
		must(t, err)
		equal(t, "deleted workflow's version", canonSteps(t, v1), canonSteps(t, w))

		// Nothing new may point at it.
		wantCode(t, b.db.CreateRule(b.ctx, &engine.Rule{TenantID: b.a.ID, Trigger: "*", WorkflowID: w.ID}),
			engine.EINVALID, "body.workflow_id")
		wantCode(t, b.db.CreateOverride(b.ctx, &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: "*",
			Action: engine.OverrideWorkflow, WorkflowID: w.ID}), engine.EINVALID, "body.workflow_id")
	})
}

func TestWorkflowIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		wb := b.workflow(t, b.b.ID, engine.TriggerSent)
		_, err := b.db.GetWorkflow(b.ctx, b.a.ID, wb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.GetWorkflowVersion(b.ctx, b.a.ID, wb.ID, 1)
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.ListWorkflowVersions(b.ctx, b.a.ID, wb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		hijack := *wb
		hijack.TenantID = b.a.ID
		wantCode(t, b.db.UpdateWorkflow(b.ctx, &hijack, 0), engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateWorkflow(b.ctx, &hijack, 1), engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteWorkflow(b.ctx, b.a.ID, wb.ID), engine.ENOTFOUND, "")
		got, err := b.db.GetWorkflow(b.ctx, b.b.ID, wb.ID)
		must(t, err)
		equal(t, "B's workflow, untouched", canonSteps(t, got), canonSteps(t, wb))
		wantCode(t, b.db.CreateWorkflow(b.ctx, &engine.Workflow{TenantID: "no-such-tenant"}), engine.ENOTFOUND, "")
	})
}

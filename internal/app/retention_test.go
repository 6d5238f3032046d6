package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// A tenant's timeline older than its retention_days goes at the purge;
// what is younger stays, and the retention is checked when saved.
func TestPurgeHonoursEachTenantsRetention(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		tn, err := u.a.GetTenant(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		if tn.RetentionDays != engine.DefaultRetentionDays {
			t.Fatalf("default retention %d, want %d", tn.RetentionDays, engine.DefaultRetentionDays)
		}
		for _, bad := range []int{-1, engine.MaxRetentionDays + 1} {
			tn.RetentionDays = bad
			err := u.a.UpdateTenant(u.ctx, tn, 0)
			wantField(t, err, "body.retention_days")
		}
		tn.RetentionDays = 30
		if err := u.a.UpdateTenant(u.ctx, tn, 0); err != nil {
			t.Fatal(err)
		}

		old := u.sendAndStep()
		u.clock.Add(20 * 24 * time.Hour)
		second := u.newQuote(nil)
		u.action(second.ID, engine.ActionSend, "")
		for _, j := range u.jobs.take() { // settled too: only its age keeps it
			if err := u.a.RunStep(u.ctx, j.tenantID, j.id, j.position); err != nil {
				t.Fatal(err)
			}
		}

		// Day 20: both within 30 days.
		if err := u.a.Purge(u.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(u.events()); n != 2 {
			t.Fatalf("%d events after a purge on day 20, want 2", n)
		}
		// Day 31: the first send is past 30 days, the second is not.
		u.clock.Add(11 * 24 * time.Hour)
		if err := u.a.Purge(u.ctx); err != nil {
			t.Fatal(err)
		}
		events := u.events()
		if len(events) != 1 || events[0].QuoteID != second.ID {
			t.Fatalf("events after a purge on day 31: %+v, want only the second quote's", events)
		}
		if _, err := u.a.GetMessage(u.ctx, u.tenant, old.ID); err == nil {
			t.Fatalf("message %s of the purged event is still there", old.ID)
		}
	})
}

func (u *useCase) events() []engine.Event {
	u.t.Helper()
	es, _, err := u.a.ListEvents(u.ctx, u.tenant, engine.EventFilter{}, engine.Page{})
	if err != nil {
		u.t.Fatal(err)
	}
	return es
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var e *engine.Error
	if engine.ErrorCode(err) != engine.EINVALID || !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Fatalf("got %v, want a validation error naming %s", err, field)
	}
}

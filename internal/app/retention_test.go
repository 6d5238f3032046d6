package app_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
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

// The statistics of a purged period are what they were before the purge:
// every count, by every dimension and bucket (latencies are not kept).
func TestPurgedPeriodsKeepTheirStatistics(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		tn, err := u.a.GetTenant(u.ctx, u.tenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.RetentionDays = 30
		if err := u.a.UpdateTenant(u.ctx, tn, 0); err != nil {
			t.Fatal(err)
		}
		t0 := u.clock.Now()
		u.sendAndStep() // sent at once
		u.clock.Add(7 * time.Minute)
		u.provider.script = []error{&channel.Error{Class: channel.Transient, Message: "busy"},
			&channel.Error{Class: channel.Request, Code: "132001", Message: "no such template"}}
		q := u.newQuote(nil)
		u.action(q.ID, engine.ActionSend, "")
		for range 2 { // the step's attempt, then the retry's
			for _, j := range u.jobs.take() {
				u.clock.Add(max(0, j.at.Sub(u.clock.Now())))
				var err error
				if j.kind == "step" {
					err = u.a.RunStep(u.ctx, j.tenantID, j.id, j.position)
				} else {
					err = u.a.Deliver(u.ctx, j.tenantID, j.id)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		u.action(q.ID, engine.ActionSend, "") // a duplicate of the second send: counted, runs nothing

		params := app.StatsParams{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Bucket: "5m",
			GroupBy: []string{"trigger", "channel", "status", "reason", "error_class", "workflow"}}
		stats := func() *app.OutboxStats {
			s, err := u.a.OutboxStats(u.ctx, u.tenant, params)
			if err != nil {
				t.Fatal(err)
			}
			s.EventToSent, s.SentToDelivered = app.StatsLatency{}, app.StatsLatency{}
			for i := range s.Messages {
				s.Messages[i].EventToSent, s.Messages[i].SentToDelivered = app.StatsLatency{}, app.StatsLatency{}
			}
			return s
		}
		before := stats()
		if before.TotalMessages != 2 || before.TotalAttempts != 3 || before.TotalRetries != 1 || before.TotalDecisions != 3 {
			t.Fatalf("before the purge: %d messages, %d attempts, %d retries, %d decisions; want 2, 3, 1, 3",
				before.TotalMessages, before.TotalAttempts, before.TotalRetries, before.TotalDecisions)
		}
		u.clock.Add(31 * 24 * time.Hour)
		if err := u.a.Purge(u.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(u.events()); n != 0 {
			t.Fatalf("%d events left after the purge, want none", n)
		}
		after := stats()
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("statistics changed with the purge:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}

// Sweeps that run at once (two processes, a periodic run beside a manual
// one) expire a due quote once: one quote.expired event, not a duplicate.
func TestConcurrentSweepsExpireAQuoteOnce(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		for round := range 10 {
			soon := u.clock.Now().Add(time.Minute)
			q := u.newQuote(&soon)
			u.action(q.ID, engine.ActionSend, "")
			u.clock.Add(2 * time.Minute)
			start := make(chan struct{})
			errs := make(chan error, 3)
			for range 3 {
				go func() {
					<-start
					_, err := u.a.ExpireDueQuotes(u.ctx, 10)
					errs <- err
				}()
			}
			close(start)
			for range 3 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			evs, _, err := u.a.ListEvents(u.ctx, u.tenant, engine.EventFilter{QuoteID: q.ID, Trigger: engine.TriggerExpired}, engine.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("round %d: %d quote.expired events, want 1", round, len(evs))
			}
		}
	})
}

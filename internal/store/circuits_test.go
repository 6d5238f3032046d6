package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// legacyMessage writes a message of the tenant that belongs to no run (as a
// legacy send does), so that a test can write as many as it needs for one
// quote.
func (b *bundle) legacyMessage(t *testing.T, f *flow, provider string, mutate ...func(*engine.Message)) *engine.Message {
	t.Helper()
	m := &engine.Message{TenantID: f.quote.TenantID, EventID: f.event.ID, LeadID: f.lead.ID, QuoteID: f.quote.ID,
		Trigger: engine.TriggerSent, Channel: engine.ChannelEmail, Provider: provider, To: "ana@example.com",
		Subject: "Your quote", Body: "Hi", Status: engine.MsgQueued}
	for _, fn := range mutate {
		fn(m)
	}
	must(t, b.tx(func(tx *store.Tx) error {
		_, err := tx.InsertMessage(b.ctx, m)
		return err
	}))
	return m
}

// attempt records a finished attempt of m that started now, with outcome
// and error class.
func (b *bundle) attempt(t *testing.T, m *engine.Message, number int, outcome, class string) {
	t.Helper()
	now := b.clock.Now()
	must(t, b.tx(func(tx *store.Tx) error {
		return tx.InsertAttempt(b.ctx, &engine.Attempt{TenantID: m.TenantID, MessageID: m.ID, Number: number,
			Provider: m.Provider, FinishedAt: &now, Outcome: outcome, ErrorClass: class})
	}))
}

// A half-open circuit lets exactly one probe through, however many
// transactions ask at once; the probe's answer closes or re-opens it, and
// nothing else's does.
func TestCircuitProbe(t *testing.T) {
	const (
		probe1 = "0190d000-0000-7000-8000-0000000000a1"
		probe2 = "0190d000-0000-7000-8000-0000000000a2"
		probe3 = "0190d000-0000-7000-8000-0000000000a3"
	)
	each(t, func(t *testing.T, b *bundle) {
		t0 := b.clock.Now().Truncate(time.Microsecond)
		c := &engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Reason: "busy", Cause: engine.CircuitCauseTransient,
			Until: t0.Add(time.Minute)}
		must(t, b.tx(func(tx *store.Tx) error { return tx.OpenCircuit(b.ctx, c) }))
		claim := func(id string) bool {
			t.Helper()
			var ok bool
			must(t, b.tx(func(tx *store.Tx) error {
				var err error
				ok, err = tx.ClaimProbe(b.ctx, b.a.ID, "smtp", id, tx.Now().Add(90*time.Second))
				return err
			}))
			return ok
		}
		// Open: nobody probes.
		if claim(probe1) {
			t.Fatal("a probe was let through an open circuit")
		}
		got, err := b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		must(t, err)
		if got.StateAt(b.clock.Now()) != engine.CircuitOpen || got.Opens != 1 || got.Cause != engine.CircuitCauseTransient {
			t.Fatalf("circuit %+v, want open, one opening, transient", got)
		}

		// Half-open: two transactions at once, the first holding its claim
		// uncommitted while the second asks. Whichever order the database
		// serialises them in, one gets the probe.
		b.clock.Advance(time.Minute)
		claimed := make(chan struct{})
		release := make(chan struct{})
		results := make(chan bool, 2)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := b.tx(func(tx *store.Tx) error {
				ok, err := tx.ClaimProbe(b.ctx, b.a.ID, "smtp", probe1, tx.Now().Add(90*time.Second))
				results <- ok
				close(claimed)
				<-release
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			<-claimed
			go close(release) // the first commits while the second asks
			err := b.tx(func(tx *store.Tx) error {
				ok, err := tx.ClaimProbe(b.ctx, b.a.ID, "smtp", probe2, tx.Now().Add(90*time.Second))
				results <- ok
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if first, second := <-results, <-results; !first || second {
			t.Fatalf("claims %v and %v, want the first only", first, second)
		}
		got, err = b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		must(t, err)
		if got.ProbeMessageID != probe1 || got.ProbeUntil == nil || !got.ProbeInFlight(b.clock.Now()) ||
			got.StateAt(b.clock.Now()) != engine.CircuitHalfOpen {
			t.Fatalf("circuit %+v, want half-open with m1's probe in flight", got)
		}
		if !claim(probe1) {
			t.Fatal("the probe's own message could not claim again (a retried job)")
		}

		// Only the probe's answer counts.
		must(t, b.tx(func(tx *store.Tx) error {
			closed, err := tx.CloseProbedCircuit(b.ctx, b.a.ID, "smtp", probe2)
			if closed {
				t.Error("a message that is not the probe closed the circuit")
			}
			return err
		}))
		reopened := &engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Reason: "still busy", ErrorCode: "421", Opens: 2,
			Until: b.clock.Now().Add(2 * time.Minute)}
		must(t, b.tx(func(tx *store.Tx) error {
			ok, err := tx.ReopenProbedCircuit(b.ctx, reopened, probe1)
			if !ok {
				t.Error("the probe's failure did not re-open the circuit")
			}
			return err
		}))
		got, err = b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		must(t, err)
		want := engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Reason: "still busy", ErrorCode: "421",
			OpenedAt: b.clock.Now().Truncate(time.Microsecond), Until: reopened.Until.Truncate(time.Microsecond),
			Cause: engine.CircuitCauseTransient, Opens: 2}
		equal(t, "re-opened circuit", *got, want)

		// Its lease runs out (the probe's process died): the next message probes.
		b.clock.Advance(2 * time.Minute)
		if !claim(probe2) {
			t.Fatal("no probe after the re-opened circuit's time")
		}
		b.clock.Advance(89 * time.Second)
		if claim(probe3) {
			t.Fatal("a second probe within the first one's lease")
		}
		b.clock.Advance(time.Second)
		if !claim(probe3) {
			t.Fatal("no probe after the first one's lease ran out")
		}
		must(t, b.tx(func(tx *store.Tx) error {
			closed, err := tx.CloseProbedCircuit(b.ctx, b.a.ID, "smtp", probe3)
			if !closed {
				t.Error("the probe's success did not close the circuit")
			}
			return err
		}))
		_, err = b.db.GetCircuit(b.ctx, b.a.ID, "smtp")
		wantCode(t, err, engine.ENOTFOUND, "")
		if claim("m4") {
			t.Fatal("a closed circuit took a probe")
		}
	})
}

// The transient threshold counts a provider's finished attempts since the
// window's start or the circuit's last close, whichever is later, for one
// tenant and provider.
func TestProviderFailures(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m := b.legacyMessage(t, f, "smtp")
		other := b.legacyMessage(t, f, "cloud_api")
		fb := b.flow(t, b.b.ID)
		mb := b.legacyMessage(t, fb, "smtp")
		count := func(since time.Time) [2]int64 {
			t.Helper()
			var out [2]int64
			must(t, b.tx(func(tx *store.Tx) error {
				var err error
				out[0], out[1], err = tx.ProviderFailures(b.ctx, b.a.ID, "smtp", since)
				return err
			}))
			return out
		}
		start := b.clock.Now()
		b.attempt(t, m, 1, "retry", "transient")
		b.attempt(t, m, 2, "sent", "")
		b.attempt(t, other, 1, "retry", "transient") // another provider
		b.attempt(t, mb, 1, "retry", "transient")    // another tenant
		must(t, b.tx(func(tx *store.Tx) error {      // in flight: not finished
			return tx.InsertAttempt(b.ctx, &engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: 3, Provider: "smtp"})
		}))
		if got := count(start); got != [2]int64{1, 2} {
			t.Fatalf("failures and finished %v, want 1 of 2", got)
		}
		b.clock.Advance(time.Minute)
		b.attempt(t, m, 4, "failed", "transient")
		if got := count(start.Add(time.Second)); got != [2]int64{1, 1} {
			t.Fatalf("a later window: %v, want 1 of 1", got)
		}
		// A circuit that opened and closed: what came before its close no
		// longer counts.
		must(t, b.tx(func(tx *store.Tx) error {
			return tx.OpenCircuit(b.ctx, &engine.Circuit{TenantID: b.a.ID, Provider: "smtp", Until: b.clock.Now()})
		}))
		b.clock.Advance(time.Second)
		must(t, b.db.CloseCircuit(b.ctx, b.a.ID, "smtp"))
		if got := count(start); got != [2]int64{0, 0} {
			t.Fatalf("after the close: %v, want nothing", got)
		}
		b.attempt(t, m, 5, "retry", "transient")
		if got := count(start); got != [2]int64{1, 1} {
			t.Fatalf("after the close and one more failure: %v, want 1 of 1", got)
		}
	})
}

// A closing circuit makes the tenant's messages that wait on it due now,
// and only those.
func TestReleaseCircuitWaiters(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		later := b.clock.Now().Add(time.Hour)
		waiting := func(provider string) func(*engine.Message) {
			return func(m *engine.Message) {
				m.Provider, m.Status, m.Reason, m.ScheduledAt = provider, engine.MsgScheduled, "circuit_open", &later
			}
		}
		w1 := b.legacyMessage(t, f, "smtp", waiting("smtp"))
		w2 := b.legacyMessage(t, f, "smtp", waiting("smtp"))
		w3 := b.legacyMessage(t, f, "smtp", waiting("smtp"))
		quiet := b.legacyMessage(t, f, "smtp", func(m *engine.Message) {
			m.Status, m.Reason, m.ScheduledAt = engine.MsgScheduled, "quiet_hours", &later
		})
		wa := b.legacyMessage(t, f, "cloud_api", waiting("cloud_api"))
		fb := b.flow(t, b.b.ID)
		theirs := b.legacyMessage(t, fb, "smtp", waiting("smtp"))

		b.clock.Advance(time.Minute)
		var ids []string
		must(t, b.tx(func(tx *store.Tx) error {
			var err error
			ids, err = tx.ReleaseCircuitWaiters(b.ctx, b.a.ID, "smtp", 2)
			return err
		}))
		if len(ids) != 2 {
			t.Fatalf("released %v, want 2 (the limit)", ids)
		}
		must(t, b.tx(func(tx *store.Tx) error {
			more, err := tx.ReleaseCircuitWaiters(b.ctx, b.a.ID, "smtp", 10)
			ids = append(ids, more...)
			return err
		}))
		now := b.clock.Now().Truncate(time.Microsecond)
		for _, m := range []*engine.Message{w1, w2, w3} {
			got, err := b.db.GetMessage(b.ctx, b.a.ID, m.ID)
			must(t, err)
			if got.Status != engine.MsgScheduled || got.ScheduledAt == nil || !got.ScheduledAt.Equal(now) {
				t.Fatalf("waiting message %+v after the release, want scheduled now", got)
			}
		}
		if len(ids) < 3 {
			t.Fatalf("released %v, want all three waiting messages", ids)
		}
		for _, m := range []*engine.Message{quiet, wa} {
			got, err := b.db.GetMessage(b.ctx, b.a.ID, m.ID)
			must(t, err)
			if !got.ScheduledAt.Equal(later.Truncate(time.Microsecond)) {
				t.Fatalf("message %s (%s, %s) was moved by another circuit's release", got.ID, got.Provider, got.Reason)
			}
		}
		got, err := b.db.GetMessage(b.ctx, b.b.ID, theirs.ID)
		must(t, err)
		if !got.ScheduledAt.Equal(later.Truncate(time.Microsecond)) {
			t.Fatal("another tenant's waiting message was released")
		}
	})
}

// The metrics read circuits per provider and state, across tenants;
// closed circuits are not counted.
func TestCircuitStateCounts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		now := b.clock.Now()
		must(t, b.tx(func(tx *store.Tx) error {
			for _, c := range []*engine.Circuit{
				{TenantID: b.a.ID, Provider: "smtp", Until: now.Add(time.Minute)},
				{TenantID: b.b.ID, Provider: "smtp", Until: now.Add(-time.Minute)},
				{TenantID: b.a.ID, Provider: "cloud_api", Until: now.Add(-time.Minute)},
				{TenantID: b.b.ID, Provider: "cloud_api", Until: now.Add(time.Hour)},
			} {
				if err := tx.OpenCircuit(b.ctx, c); err != nil {
					return err
				}
			}
			return nil
		}))
		must(t, b.db.CloseCircuit(b.ctx, b.b.ID, "cloud_api"))
		got, err := b.db.CircuitStateCounts(b.ctx, now)
		must(t, err)
		equal(t, "circuit states", got, map[string]map[engine.CircuitState]int64{
			"smtp":      {engine.CircuitOpen: 1, engine.CircuitHalfOpen: 1},
			"cloud_api": {engine.CircuitHalfOpen: 1},
		})
	})
}

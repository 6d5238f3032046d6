package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// holdingSender is every tenant's sender for the circuit tests: it answers
// with its script like fakeProvider, and can hold one call until the test
// lets it go, so that a probe is in flight while other deliveries run.
type holdingSender struct {
	mu     sync.Mutex
	sent   []string // message ids, in call order
	script []error
	// hold, when set, holds the next call (only that one) until it is
	// closed; entered is told when that call has arrived.
	hold    chan struct{}
	entered chan struct{}
}

func (s *holdingSender) For(*engine.Tenant, string) (channel.Sender, string, error) {
	return s, "log", nil
}

func (s *holdingSender) Send(_ context.Context, m *channel.Message) (channel.Result, error) {
	s.mu.Lock()
	s.sent = append(s.sent, m.MessageID)
	n := len(s.sent)
	var err error
	if len(s.script) > 0 {
		err, s.script = s.script[0], s.script[1:]
	}
	hold := s.hold
	s.hold = nil
	s.mu.Unlock()
	if hold != nil {
		s.entered <- struct{}{}
		<-hold
	}
	if err != nil {
		return channel.Result{}, err
	}
	return channel.Result{ProviderMessageID: fmt.Sprint("held-", n)}, nil
}

func (s *holdingSender) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

func (s *holdingSender) fail(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.script = append(s.script, &channel.Error{Class: channel.Transient, Code: "421", Message: "try again later"})
	}
}

// circuitCase is a use case whose App opens a circuit after 3 transient
// failures in 5 minutes that are at least half the attempts, for 1 minute
// at first, doubling up to 3.
type circuitCase struct {
	*useCase
	sender *holdingSender
}

func newCircuitCase(u *useCase) *circuitCase {
	u.registry = prometheus.NewRegistry()
	u.a = app.New(u.db, u.jobs, app.Config{PublicBaseURL: "https://quotes.test", Registry: u.registry,
		Circuits: app.CircuitPolicy{TransientFailures: 3, TransientWindow: 5 * time.Minute, TransientShare: 0.5,
			TransientOpenFor: time.Minute, MaxOpenFor: 3 * time.Minute}}, nil)
	u.a.Now = u.clock.Now
	u.a.Rand = func() float64 { return 0.5 }
	s := &holdingSender{entered: make(chan struct{}, 1)}
	u.a.Senders = s
	return &circuitCase{useCase: u, sender: s}
}

// sendNew sends a new quote and runs its step, and returns its message.
// Delivery jobs stay enqueued.
func (c *circuitCase) sendNew() engine.Message {
	c.t.Helper()
	q := c.newQuote(nil)
	c.action(q.ID, engine.ActionSend, "")
	var keep []job
	for _, j := range c.jobs.take() {
		if j.kind != "step" {
			keep = append(keep, j)
			continue
		}
		if err := c.a.RunStep(c.ctx, j.tenantID, j.id, j.position); err != nil {
			c.t.Fatal(err)
		}
	}
	c.putBack(keep)
	return c.get(c.messageOf(q.ID))
}

func (c *circuitCase) putBack(js []job) {
	c.jobs.mu.Lock()
	defer c.jobs.mu.Unlock()
	c.jobs.jobs = append(c.jobs.jobs, js...)
}

func (c *circuitCase) messageOf(quoteID string) string {
	c.t.Helper()
	ms, _, err := c.a.ListMessages(c.ctx, c.tenant, engine.MessageFilter{QuoteID: quoteID}, engine.Page{})
	if err != nil || len(ms) != 1 {
		c.t.Fatalf("quote's messages %v %v, want one", ms, err)
	}
	return ms[0].ID
}

func (c *circuitCase) get(id string) engine.Message {
	c.t.Helper()
	m, err := c.a.GetMessage(c.ctx, c.tenant, id)
	if err != nil {
		c.t.Fatal(err)
	}
	return *m
}

// circuit is the tenant's log circuit, nil when closed.
func (c *circuitCase) circuit() *engine.Circuit {
	c.t.Helper()
	cs, err := c.a.ListCircuits(c.ctx, c.tenant)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := range cs {
		if cs[i].Provider == "log" {
			return &cs[i]
		}
	}
	return nil
}

// due takes the delivery jobs due now and returns their messages' ids;
// the others stay enqueued.
func (c *circuitCase) due() []string {
	c.t.Helper()
	var ids []string
	var later []job
	for _, j := range c.jobs.take() {
		if j.kind == "deliver" && !j.at.After(c.clock.Now()) {
			ids = append(ids, j.id)
		} else {
			later = append(later, j)
		}
	}
	c.putBack(later)
	return ids
}

func (c *circuitCase) deliver(ids ...string) {
	c.t.Helper()
	for _, id := range ids {
		if err := c.a.Deliver(c.ctx, c.tenant, id); err != nil {
			c.t.Fatal(err)
		}
	}
}

// waitingOnCircuit checks that each message waits on the circuit until at,
// with attempts attempts (none spent by waiting).
func (c *circuitCase) waitingOnCircuit(at time.Time, attempts int, ids ...string) {
	c.t.Helper()
	for _, id := range ids {
		m := c.get(id)
		if m.Status != engine.MsgScheduled || m.Reason != "circuit_open" || m.ScheduledAt == nil || !m.ScheduledAt.Equal(at) ||
			m.Attempts != attempts || len(c.attempts(id)) != attempts {
			c.t.Fatalf("message %s: %s (%s) at %v with %d attempts (%d rows), want waiting on the circuit until %v with %d",
				id, m.Status, m.Reason, m.ScheduledAt, m.Attempts, len(c.attempts(id)), at, attempts)
		}
	}
}

// gauge sums the series of a gauge or counter that have the labels (as
// "name=value" pairs).
func (c *circuitCase) gauge(name string, labels ...string) float64 {
	c.t.Helper()
	mfs, err := c.registry.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for _, l := range labels {
				k, v, _ := strings.Cut(l, "=")
				if have[k] != v {
					continue series
				}
			}
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	return sum
}

// openByTransientFailures sends three messages that each fail once
// transiently: the third failure opens the circuit. It returns the
// messages, each waiting for its retry.
func (c *circuitCase) openByTransientFailures() []engine.Message {
	c.t.Helper()
	c.sender.fail(3)
	var ms []engine.Message
	for i := range 3 {
		m := c.sendNew()
		if m.Status != engine.MsgScheduled || m.Reason != "retry" || m.Attempts != 1 {
			c.t.Fatalf("message %d: %s (%s) after %d attempts, want scheduled for its retry", i, m.Status, m.Reason, m.Attempts)
		}
		if cb := c.circuit(); (cb != nil) != (i == 2) {
			c.t.Fatalf("after %d transient failures the circuit is %+v, want it open after the third only", i+1, cb)
		}
		ms = append(ms, m)
	}
	return ms
}

// Transient failures past the threshold open the circuit; every due
// message then waits on it without an attempt; after its time one probe
// goes, however many deliveries run at once; its success closes the
// circuit, resolves its alert and releases the others, which deliver.
func TestTransientFailuresOpenACircuitThatHalfOpens(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		c := newCircuitCase(u)
		failed := c.openByTransientFailures()
		opened := c.clock.Now()
		cb := c.circuit()
		until := opened.Add(time.Minute)
		if cb.Cause != engine.CircuitCauseTransient || cb.Opens != 1 || !cb.Until.Equal(until) ||
			cb.StateAt(c.clock.Now()) != engine.CircuitOpen || cb.ErrorCode != "421" ||
			!strings.Contains(cb.Reason, "3 of the last 3 attempts") {
			t.Fatalf("circuit %+v, want open for a minute after 3 of 3 transient failures", cb)
		}
		if got := c.gauge("quoteflow_circuits", "provider=log", "state=open"); got != 1 {
			t.Fatalf("quoteflow_circuits{state=open} %v, want 1", got)
		}
		open := c.evaluate()
		alert, ok := open["provider_failing log"]
		if !ok || !strings.Contains(alert.Action, "DELETE /v1/circuits/log") || alert.Figures["opens"] != 1 {
			t.Fatalf("open alerts %v, want provider_failing for log with what to do", open)
		}
		if _, ok := open["circuit_open log"]; ok {
			t.Fatal("transient failures raised the tenant-error circuit_open alert too")
		}

		// A new message, and the three retries when due: each waits on the
		// circuit, and the provider hears nothing.
		later := c.sendNew()
		c.waitingOnCircuit(until, 0, later.ID)
		c.clock.Add(15 * time.Second) // the retries' time (half of email's first 30 s)
		retries := c.due()
		if len(retries) != 3 {
			t.Fatalf("%d retries due, want 3", len(retries))
		}
		c.deliver(retries...)
		c.waitingOnCircuit(until, 1, failed[0].ID, failed[1].ID, failed[2].ID)
		if c.sender.calls() != 3 {
			t.Fatalf("the provider was called %d times behind the open circuit, want only the 3 failures", c.sender.calls())
		}
		if got := c.gauge("quoteflow_attempts_total", "outcome=retry", "provider=log"); got != 3 {
			t.Fatalf("retries of log counted %v, want the 3 real attempts only", got)
		}

		// Its time is up: every waiting message is due at once. The first to
		// reach the provider is the probe, held there while the others run.
		c.clock.Add(until.Sub(c.clock.Now()))
		waiting := c.due()
		if len(waiting) != 4 {
			t.Fatalf("%d deliveries due at the circuit's end, want 4", len(waiting))
		}
		hold := make(chan struct{})
		c.sender.mu.Lock()
		c.sender.hold = hold
		c.sender.mu.Unlock()
		done := make(chan string, len(waiting))
		for _, id := range waiting {
			go func() {
				if err := c.a.Deliver(c.ctx, c.tenant, id); err != nil {
					t.Error(err)
				}
				done <- id
			}()
		}
		<-c.sender.entered
		for range len(waiting) - 1 {
			<-done
		}
		probe := c.sender.sent[3]
		if c.sender.calls() != 4 {
			t.Fatalf("%d provider calls once the circuit half-opened, want one probe", c.sender.calls()-3)
		}
		cb = c.circuit()
		lease := c.clock.Now().Add(app.ProbeLease)
		if cb == nil || cb.StateAt(c.clock.Now()) != engine.CircuitHalfOpen || cb.ProbeMessageID != probe ||
			cb.ProbeUntil == nil || !cb.ProbeUntil.Equal(lease) {
			t.Fatalf("circuit %+v while the probe %s is in flight, want half-open with its lease", cb, probe)
		}
		if got := c.gauge("quoteflow_circuits", "provider=log", "state=half_open"); got != 1 {
			t.Fatalf("quoteflow_circuits{state=half_open} %v, want 1", got)
		}
		var others []string
		for _, id := range waiting {
			if id != probe {
				others = append(others, id)
			}
		}
		for _, id := range others {
			m := c.get(id)
			if m.Status != engine.MsgScheduled || m.Reason != "circuit_open" || !m.ScheduledAt.Equal(lease) {
				t.Fatalf("message %s: %s (%s) at %v while the probe is in flight, want waiting for its lease %v",
					id, m.Status, m.Reason, m.ScheduledAt, lease)
			}
		}

		// The probe succeeds: the circuit closes and the others are due now.
		close(hold)
		<-done
		if m := c.get(probe); m.Status != engine.MsgSent {
			t.Fatalf("the probe is %s, want sent", m.Status)
		}
		if cb := c.circuit(); cb != nil {
			t.Fatalf("circuit %+v after the probe's success, want closed", cb)
		}
		released := c.due()
		if len(released) != len(others) {
			t.Fatalf("%d deliveries due after the close, want the %d waiting messages", len(released), len(others))
		}
		c.deliver(released...)
		for _, id := range waiting {
			if m := c.get(id); m.Status != engine.MsgSent {
				t.Fatalf("message %s is %s after the circuit closed, want sent", id, m.Status)
			}
		}
		if c.sender.calls() != 7 {
			t.Fatalf("%d provider calls in all, want 3 failures, 1 probe and 3 sends", c.sender.calls())
		}
		if _, ok := c.evaluate()["provider_failing log"]; ok {
			t.Fatal("the provider_failing alert is still open after the circuit closed")
		}
		resolved, _, err := c.a.ListAlerts(c.ctx, c.tenant, engine.AlertFilter{Kind: engine.AlertProviderFailing}, engine.Page{})
		if err != nil || len(resolved) != 1 || resolved[0].ID != alert.ID || resolved[0].State != engine.AlertResolved {
			t.Fatalf("provider_failing alerts %+v %v, want the one resolved", resolved, err)
		}
		if got := c.gauge("quoteflow_circuits", "provider=log", "state=open") + c.gauge("quoteflow_circuits", "provider=log", "state=half_open"); got != 0 {
			t.Fatalf("quoteflow_circuits %v after the close, want 0", got)
		}
	})
}

// A probe that fails re-opens the circuit for twice as long, up to the
// cap; meanwhile nothing else goes. A tenant error on a probe makes it a
// tenant circuit, with its own alert.
func TestAFailedProbeReopensTheCircuitForLonger(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		c := newCircuitCase(u)
		failed := c.openByTransientFailures()
		ids := []string{failed[0].ID, failed[1].ID, failed[2].ID}
		c.clock.Add(time.Minute)
		c.due()
		for i, want := range []time.Duration{2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
			calls := c.sender.calls()
			c.sender.fail(1)
			c.deliver(ids...)
			if c.sender.calls() != calls+1 {
				t.Fatalf("probe %d: %d provider calls, want one", i+1, c.sender.calls()-calls)
			}
			cb := c.circuit()
			if cb == nil || cb.Opens != i+2 || !cb.Until.Equal(c.clock.Now().Add(want)) || cb.ProbeMessageID != "" ||
				cb.StateAt(c.clock.Now()) != engine.CircuitOpen {
				t.Fatalf("after failed probe %d the circuit is %+v, want re-opened (opening %d) for %s", i+1, cb, i+2, want)
			}
			if a := c.evaluate()["provider_failing log"]; a.Figures["opens"] != float64(i+2) {
				t.Fatalf("provider_failing alert %+v, want it to show opening %d", a, i+2)
			}
			// The others wait for the new end; none spent an attempt.
			c.deliver(ids...)
			if c.sender.calls() != calls+1 {
				t.Fatal("a message went through the re-opened circuit")
			}
			c.clock.Add(want)
			c.due()
		}

		// The next probe hits a tenant error: the circuit stays open with
		// that cause, and the alert is the tenant one.
		c.sender.mu.Lock()
		c.sender.script = []error{&channel.Error{Class: channel.Tenant, Code: "535", Message: "authentication failed"}}
		c.sender.mu.Unlock()
		c.deliver(ids...)
		cb := c.circuit()
		if cb == nil || cb.Cause != engine.CircuitCauseTenant || cb.Opens != 5 || !cb.Until.Equal(c.clock.Now().Add(3*time.Minute)) {
			t.Fatalf("after a tenant error on the probe the circuit is %+v, want a tenant circuit, opening 5, capped at 3 minutes", cb)
		}
		open := c.evaluate()
		if _, ok := open["circuit_open log"]; !ok {
			t.Fatalf("open alerts %v, want circuit_open", open)
		}
		if _, ok := open["provider_failing log"]; ok {
			t.Fatal("provider_failing still open for a tenant circuit")
		}
	})
}

// The share keeps a busy tenant's occasional failures from opening the
// circuit; failures older than the window do not count.
func TestTransientFailuresAmongSuccessesKeepTheCircuitClosed(t *testing.T) {
	forEachUseCase(t, func(t *testing.T, u *useCase) {
		c := newCircuitCase(u)
		// Three failures long ago do not count once the window has moved on.
		c.sender.fail(2)
		c.sendNew()
		c.sendNew()
		c.clock.Add(6 * time.Minute)
		c.jobs.take()
		c.sender.fail(1)
		c.sendNew()
		if cb := c.circuit(); cb != nil {
			t.Fatalf("circuit %+v after failures spread over more than the window", cb)
		}
		for range 4 {
			if m := c.sendNew(); m.Status != engine.MsgSent {
				t.Fatalf("message %s, want sent", m.Status)
			}
		}
		// 3 of 7 attempts in the window: under half.
		c.sender.fail(2)
		c.sendNew()
		c.sendNew()
		if cb := c.circuit(); cb != nil {
			t.Fatalf("circuit %+v after 3 failures among 7 attempts, want closed", cb)
		}
		// 4 of 8: half.
		c.sender.fail(1)
		c.sendNew()
		if cb := c.circuit(); cb == nil || !strings.Contains(cb.Reason, "4 of the last 8 attempts") {
			t.Fatalf("circuit %+v after 4 failures among 8 attempts, want open", cb)
		}
	})
}

package app

import (
	"context"
	"fmt"
	"time"

	"github.com/quoteflow/quoteflow/internal/channel"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// A tenant's circuit for a provider (one row of circuits, store/circuits.go)
// opens on a tenant-class error, or when transient failures of the
// provider for the tenant pass CircuitPolicy's threshold. While it is open
// every message of the tenant through that provider is rescheduled to its
// end (reason circuit_open) without an attempt. Once its time is up it is
// half-open: the first message to reach the provider takes the probe (a
// conditional update of the row, so only one at a time on any number of
// processes) and the others wait for the probe's lease. The probe's answer
// decides: the provider answered (sent, or refused the message or its
// recipient) closes the circuit and releases the waiting messages at once;
// a transient, unknown or tenant failure re-opens it for twice as long as
// before, up to MaxOpenFor.

// CircuitPolicy is when transient failures open a tenant's circuit for a
// provider, and how long circuits stay open.
type CircuitPolicy struct {
	// TransientFailures, TransientWindow and TransientShare are the
	// threshold: at least TransientFailures transient failures among the
	// tenant's attempts through the provider that started in the last
	// TransientWindow, and at least TransientShare of those that finished
	// (defaults 10, 5 minutes, 0.5). Failures before the circuit last
	// closed do not count again.
	TransientFailures int64
	TransientWindow   time.Duration
	TransientShare    float64
	// TransientOpenFor is how long the circuit first stays open after
	// transient failures (default 1 minute), and TenantOpenFor after a
	// tenant-class error (default CircuitOpenFor, 15 minutes). Each failed
	// probe doubles it, up to MaxOpenFor (default 1 hour).
	TransientOpenFor time.Duration
	TenantOpenFor    time.Duration
	MaxOpenFor       time.Duration
}

func (p CircuitPolicy) withDefaults() CircuitPolicy {
	if p.TransientFailures <= 0 {
		p.TransientFailures = 10
	}
	if p.TransientWindow <= 0 {
		p.TransientWindow = 5 * time.Minute
	}
	if p.TransientShare <= 0 || p.TransientShare > 1 {
		p.TransientShare = 0.5
	}
	if p.TransientOpenFor <= 0 {
		p.TransientOpenFor = time.Minute
	}
	if p.TenantOpenFor <= 0 {
		p.TenantOpenFor = CircuitOpenFor
	}
	if p.MaxOpenFor <= 0 {
		p.MaxOpenFor = time.Hour
	}
	return p
}

func (p CircuitPolicy) threshold() engine.CircuitThreshold {
	return engine.CircuitThreshold{Failures: p.TransientFailures, Window: p.TransientWindow, Share: p.TransientShare}
}

// openFor is how long a circuit of cause stays open at its opens-th
// consecutive opening.
func (p CircuitPolicy) openFor(cause string, opens int) time.Duration {
	base := p.TransientOpenFor
	if cause == engine.CircuitCauseTenant {
		base = p.TenantOpenFor
	}
	return engine.CircuitBackoff(base, p.MaxOpenFor, opens)
}

// ProbeLease is how long a probe holds a half-open circuit. The probe's
// provider call is bounded by SendTimeout and its outcome is recorded right
// after; a lease that runs out means its process died, and the next message
// probes instead.
const ProbeLease = SendTimeout + 30*time.Second

// circuitReleaseBatch is how many waiting messages a closing circuit makes
// due at once; any beyond it go at the time they were given.
const circuitReleaseBatch = 500

// gate is what the circuit says about sending one message now.
type gate struct {
	// blocked: reschedule the message at wait, without an attempt.
	blocked bool
	wait    time.Time
	// probe: the message goes as the half-open circuit's probe.
	probe bool
}

// circuitGate decides, in tx, whether stored message m may go to its
// provider now: through a closed circuit, as the probe of a half-open one
// (taking the probe in tx), or not before gate.wait.
func (a *App) circuitGate(ctx context.Context, tx *store.Tx, m *engine.Message) (gate, error) {
	c, err := tx.GetCircuit(ctx, m.TenantID, m.Provider)
	if engine.IsNotFound(err) {
		return gate{}, nil
	}
	if err != nil {
		return gate{}, err
	}
	now := tx.Now()
	if g, decided := waitOn(c, m.ID, now); decided {
		return g, nil
	}
	lease := now.Add(ProbeLease)
	ok, err := tx.ClaimProbe(ctx, m.TenantID, m.Provider, m.ID, lease)
	if err != nil {
		return gate{}, err
	}
	if ok {
		return gate{probe: true}, nil
	}
	// Something changed the row since it was read: another transaction
	// took the probe, closed the circuit or opened it again. Read what it
	// committed.
	c, err = tx.GetCircuit(ctx, m.TenantID, m.Provider)
	if engine.IsNotFound(err) {
		return gate{}, nil
	}
	if err != nil {
		return gate{}, err
	}
	if g, decided := waitOn(c, m.ID, now); decided {
		return g, nil
	}
	return gate{blocked: true, wait: lease}, nil
}

// waitOn is the wait an open circuit, or a half-open one whose probe is
// another message's, imposes on message id at now; decided is false when
// the circuit is half-open and free for a probe.
func waitOn(c *engine.Circuit, id string, now time.Time) (gate, bool) {
	if c.StateAt(now) == engine.CircuitOpen {
		return gate{blocked: true, wait: c.Until}, true
	}
	if c.ProbeInFlight(now) && c.ProbeMessageID != id {
		return gate{blocked: true, wait: *c.ProbeUntil}, true
	}
	return gate{}, false
}

// stepGate is circuitGate for a step's message, which has no id yet: it
// says whether the step may claim it (sending), must leave it to a delivery
// job due now (queued: the circuit is half-open and that job takes the
// probe), or must schedule it for later (scheduled, at); c is the open
// circuit of the message's provider, nil when it is closed.
func stepGate(c *engine.Circuit, now time.Time) (engine.MessageStatus, time.Time) {
	if c == nil {
		return engine.MsgSending, time.Time{}
	}
	if g, decided := waitOn(c, "", now); decided {
		return engine.MsgScheduled, g.wait
	}
	return engine.MsgQueued, now
}

// circuitNote is what an outcome did to a circuit, logged after the
// commit (the transaction may run twice).
type circuitNote struct {
	event, cause, code string
	opens              int
	until              time.Time
	released           int
}

// circuitOutcome updates the tenant's circuit for m's provider after an
// attempt that ended in class (empty when sent), in tx and after the
// attempt was saved, so that a threshold count includes it.
func (a *App) circuitOutcome(ctx context.Context, tx *store.Tx, d *delivery, m *engine.Message, class channel.Class, code, detail string) error {
	switch class {
	case channel.Tenant:
		return a.openCircuit(ctx, tx, d, m, engine.CircuitCauseTenant, code, detail)
	case channel.Transient, channel.Unknown:
		if d.Probe {
			return a.openCircuit(ctx, tx, d, m, "", code, detail)
		}
		if class == channel.Transient {
			return a.checkTransient(ctx, tx, d, m, code)
		}
		return nil
	default: // sent, or the provider refused the message or its recipient: it answered
		if !d.Probe {
			return nil
		}
		closed, err := tx.CloseProbedCircuit(ctx, m.TenantID, m.Provider, m.ID)
		if err != nil || !closed {
			return err
		}
		n, err := a.releaseWaiters(ctx, tx, m.TenantID, m.Provider)
		d.circuit = &circuitNote{event: "circuit closed", released: n}
		return err
	}
}

// openCircuit opens the circuit for m's provider with cause (empty: the
// cause it has) after m's attempt failed with code and detail: afresh (one
// opening) when none is open; again for twice as long when m was its
// probe; and, when another message's tenant error finds it open already,
// with the same count of openings and the later end.
func (a *App) openCircuit(ctx context.Context, tx *store.Tx, d *delivery, m *engine.Message, cause, code, detail string) error {
	cur, err := tx.GetCircuit(ctx, m.TenantID, m.Provider)
	if err != nil && !engine.IsNotFound(err) {
		return err
	}
	now := tx.Now()
	c := &engine.Circuit{TenantID: m.TenantID, Provider: m.Provider, Reason: detail, ErrorCode: code, Cause: cause, Opens: 1}
	base := cause
	if cur != nil && base == "" {
		base = cur.Cause
	}
	if d.Probe && cur != nil && cur.ProbeMessageID == m.ID {
		c.Opens = cur.Opens + 1
		c.Until = now.Add(a.circuits.openFor(base, c.Opens))
		reopened, err := tx.ReopenProbedCircuit(ctx, c, m.ID)
		if err != nil || !reopened {
			return err
		}
		d.circuit = &circuitNote{event: "circuit reopened", cause: base, code: code, opens: c.Opens, until: c.Until}
		return nil
	}
	if cause == "" {
		return nil // a probe that no longer holds the circuit: its new state stands
	}
	if cur != nil {
		c.Opens = cur.Opens
	}
	c.Until = now.Add(a.circuits.openFor(cause, c.Opens))
	if cur != nil && cur.Until.After(c.Until) {
		c.Until = cur.Until
	}
	if err := tx.OpenCircuit(ctx, c); err != nil {
		return err
	}
	d.circuit = &circuitNote{event: "circuit opened", cause: cause, code: code, opens: c.Opens, until: c.Until}
	return nil
}

// checkTransient opens the circuit for m's provider when the tenant's
// transient failures through it have passed the threshold, unless a
// circuit is open already (its probe decides then).
func (a *App) checkTransient(ctx context.Context, tx *store.Tx, d *delivery, m *engine.Message, code string) error {
	if _, err := tx.GetCircuit(ctx, m.TenantID, m.Provider); err == nil || !engine.IsNotFound(err) {
		return err
	}
	p := a.circuits
	failures, finished, err := tx.ProviderFailures(ctx, m.TenantID, m.Provider, tx.Now().Add(-p.TransientWindow))
	if err != nil || !p.threshold().Trips(failures, finished) {
		return err
	}
	detail := fmt.Sprintf("%d of the last %d attempts through %s within %s failed transiently", failures, finished, m.Provider, p.TransientWindow)
	return a.openCircuit(ctx, tx, d, m, engine.CircuitCauseTransient, code, detail)
}

// releaseWaiters makes the messages that wait on the tenant's circuit for
// provider due now, with a delivery job each, and returns how many.
func (a *App) releaseWaiters(ctx context.Context, tx *store.Tx, tenantID, provider string) (int, error) {
	ids, err := tx.ReleaseCircuitWaiters(ctx, tenantID, provider, circuitReleaseBatch)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		// The job each was given for later stays, and finds it sent.
		if err := a.jobs.EnqueueDeliveryTx(ctx, tx, tenantID, id, tx.Now()); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// logCircuit logs what an outcome did to a circuit, once it committed.
func (a *App) logCircuit(ctx context.Context, m *engine.Message, n *circuitNote) {
	if n == nil {
		return
	}
	if n.event == "circuit closed" {
		a.log.InfoContext(ctx, n.event, "tenant_id", m.TenantID, "provider", m.Provider, "released", n.released)
		return
	}
	a.log.WarnContext(ctx, n.event, "tenant_id", m.TenantID, "provider", m.Provider, "cause", n.cause, "code", n.code,
		"opens", n.opens, "until", n.until)
}

package engine

import "time"

// Why a circuit opened (Circuit.Cause).
const (
	// CircuitCauseTenant: the provider refused the tenant's account
	// (credentials, a policy or quality block). Retrying cannot help until
	// someone fixes it.
	CircuitCauseTenant = "tenant"
	// CircuitCauseTransient: the provider failed transiently for this
	// tenant often enough (CircuitThreshold) that retrying each message on
	// its own would only add to the load; the tenant's sends back off
	// together instead.
	CircuitCauseTransient = "transient"
)

// CircuitState is what a circuit lets through at an instant.
type CircuitState string

// Circuit states. A closed circuit has no row: it is not a state a stored
// circuit reports.
const (
	// CircuitOpen: nothing goes through until Until.
	CircuitOpen CircuitState = "open"
	// CircuitHalfOpen: Until has passed; one message at a time is let
	// through as the probe, whose outcome closes or re-opens the circuit.
	CircuitHalfOpen CircuitState = "half_open"
)

// StateAt is the circuit's state at now: open before Until, half-open from
// then until a probe's outcome closes or re-opens it.
func (c *Circuit) StateAt(now time.Time) CircuitState {
	if now.Before(c.Until) {
		return CircuitOpen
	}
	return CircuitHalfOpen
}

// ProbeInFlight reports whether a probe holds the half-open circuit at now:
// one was let through and its lease (ProbeUntil) has not run out.
func (c *Circuit) ProbeInFlight(now time.Time) bool {
	return c.ProbeMessageID != "" && c.ProbeUntil != nil && now.Before(*c.ProbeUntil)
}

// CircuitBackoff is how long a circuit stays open at its opens-th
// consecutive opening: base the first time, doubled by each failed probe,
// never more than limit (which wins over base, too: it is the longest any
// circuit waits for its next probe).
func CircuitBackoff(base, limit time.Duration, opens int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < opens && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// CircuitThreshold says when transient failures of one provider for one
// tenant open its circuit: at least Failures transient failures among the
// attempts started in the last Window, and at least Share of those
// attempts that have finished. The count is what makes it noise rather
// than bad luck; the share keeps a busy tenant whose provider fails one
// message in a hundred from ever stopping.
type CircuitThreshold struct {
	Failures int64
	Window   time.Duration
	Share    float64
}

// Trips reports whether failures transient failures among finished
// finished attempts reach the threshold.
func (t CircuitThreshold) Trips(failures, finished int64) bool {
	if failures < t.Failures || finished <= 0 {
		return false
	}
	return float64(failures) >= t.Share*float64(finished)
}

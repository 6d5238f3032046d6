package engine

import (
	"testing"
	"time"
)

func TestCircuitBackoffDoublesUpToItsLimit(t *testing.T) {
	for _, c := range []struct {
		base, limit time.Duration
		opens       int
		want        time.Duration
	}{
		{time.Minute, time.Hour, 0, time.Minute},
		{time.Minute, time.Hour, 1, time.Minute},
		{time.Minute, time.Hour, 2, 2 * time.Minute},
		{time.Minute, time.Hour, 6, 32 * time.Minute},
		{time.Minute, time.Hour, 7, time.Hour},
		{time.Minute, time.Hour, 1 << 30, time.Hour}, // no overflow, however many
		{15 * time.Minute, 3 * time.Minute, 1, 3 * time.Minute},
	} {
		if got := CircuitBackoff(c.base, c.limit, c.opens); got != c.want {
			t.Errorf("CircuitBackoff(%s, %s, %d) = %s, want %s", c.base, c.limit, c.opens, got, c.want)
		}
	}
}

func TestCircuitThresholdNeedsCountAndShare(t *testing.T) {
	th := CircuitThreshold{Failures: 10, Window: 5 * time.Minute, Share: 0.5}
	for _, c := range []struct {
		failures, finished int64
		want               bool
	}{
		{9, 9, false},    // too few, however large the share
		{10, 10, true},   // all failed
		{10, 20, true},   // exactly half
		{10, 21, false},  // under half: a busy tenant's bad luck
		{500, 999, true}, // over half
		{10, 0, false},   // nothing finished (cannot happen; never divide by it)
	} {
		if got := th.Trips(c.failures, c.finished); got != c.want {
			t.Errorf("Trips(%d, %d) = %v, want %v", c.failures, c.finished, got, c.want)
		}
	}
}

func TestCircuitStates(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	lease := t0.Add(2 * time.Minute)
	c := &Circuit{Until: t0.Add(time.Minute)}
	if c.StateAt(t0) != CircuitOpen || c.StateAt(t0.Add(time.Minute)) != CircuitHalfOpen {
		t.Fatal("a circuit is open before its until and half-open from it")
	}
	if c.ProbeInFlight(t0) {
		t.Fatal("no probe, yet one is in flight")
	}
	c.ProbeMessageID, c.ProbeUntil = "m1", &lease
	if !c.ProbeInFlight(lease.Add(-time.Nanosecond)) || c.ProbeInFlight(lease) {
		t.Fatal("a probe is in flight until its lease ends, not after")
	}
}

package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// circuitStatesDesc counts tenants per provider and circuit state. A
// per-tenant state gauge (0 closed, 1 open, 2 half-open) would need the
// tenant as a label, which no series has; counting the tenants in each
// state says the same across tenants, and 0 in both states is "closed for
// everyone".
var circuitStatesDesc = prometheus.NewDesc("quoteflow_circuits",
	"Tenants whose circuit for the provider is in the state now: open (nothing is sent until its time is up) or half_open "+
		"(one probe at a time), read from the database at scrape.",
	[]string{"provider", "state"}, nil)

// collectCircuitStates reports quoteflow_circuits, with a series for every
// known provider and both states even at zero.
func (c *tableCollector) collectCircuitStates(ctx context.Context, ch chan<- prometheus.Metric) {
	counts, err := c.db.CircuitStateCounts(ctx, c.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(circuitStatesDesc, err)
		return
	}
	states := []engine.CircuitState{engine.CircuitOpen, engine.CircuitHalfOpen}
	seen := map[string]bool{}
	emit := func(p string) {
		seen[p] = true
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(circuitStatesDesc, prometheus.GaugeValue, float64(counts[p][s]), p, string(s))
		}
	}
	for _, p := range providers {
		emit(p)
	}
	for p := range counts {
		if !seen[p] {
			emit(p)
		}
	}
}

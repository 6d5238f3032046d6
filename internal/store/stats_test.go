package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// seededMessage is what the stats test wrote, to compute the expected
// figures from without SQL.
type seededMessage struct {
	m        engine.Message
	created  time.Time
	event    time.Time
	attempts []engine.Attempt
}

type seededEvent struct {
	trigger, outcome, reason string
	missing                  []string
	duplicate                bool
	created                  time.Time
}

// statsHistory writes a known, varied history for tenant A (and some noise
// for tenant B, which must not count) over the three days around Lisbon's
// autumn clock change, 2026-10-25, with a clock it sets for every row.
func statsHistory(t *testing.T, b *bundle, base time.Time) ([]seededMessage, []seededEvent) {
	t.Helper()
	rng := rand.New(rand.NewPCG(10, 25))
	lead := b.lead(t, b.a.ID)
	quote := b.quote(t, lead)
	wf := b.workflow(t, b.a.ID, engine.TriggerSent)
	leadB := b.lead(t, b.b.ID)
	triggers := []engine.Trigger{engine.TriggerSent, engine.TriggerViewed, engine.TriggerRejected}
	outcomes := []struct{ o, r string }{{"workflow", "rule_matched"}, {"none", "no_rule_matched"}, {"suppressed", "override_suppress"}, {"legacy", "fallback_legacy"}}
	fields := []string{"lead.country", "lead.custom.roof_type", "quote.amount"}
	statuses := []engine.MessageStatus{engine.MsgSent, engine.MsgDelivered, engine.MsgFailed, engine.MsgSuppressed, engine.MsgQueued}
	var msgs []seededMessage
	var evs []seededEvent
	at := base
	for i := 0; i < 120; i++ {
		at = at.Add(time.Duration(10+rng.IntN(50)) * time.Minute)
		b.clock.set(at)
		tr := triggers[rng.IntN(len(triggers))]
		oc := outcomes[rng.IntN(len(outcomes))]
		var missing []string
		for _, f := range fields {
			if rng.IntN(3) == 0 {
				missing = append(missing, f)
			}
		}
		dup := rng.IntN(10) == 0
		e := b.event(t, quote, func(e *engine.Event) {
			e.Trigger, e.Decision.Outcome, e.Decision.Reason, e.Decision.MissingFields = tr, engine.Outcome(oc.o), oc.r, missing
			e.Duplicate = dup
		})
		evs = append(evs, seededEvent{trigger: string(tr), outcome: oc.o, reason: oc.r, missing: missing, duplicate: dup, created: at})
		// Most events write a message a little later; some none.
		for k := 0; k < rng.IntN(3); k++ {
			created := at.Add(time.Duration(rng.IntN(40)) * time.Minute)
			b.clock.set(created)
			st := statuses[rng.IntN(len(statuses))]
			ch := []string{"email", "whatsapp"}[rng.IntN(2)]
			m := &engine.Message{TenantID: b.a.ID, EventID: e.ID, LeadID: lead.ID, QuoteID: quote.ID, Trigger: tr,
				Channel: ch, Provider: map[string]string{"email": "smtp", "whatsapp": "cloud_api"}[ch], To: "ana@example.com",
				Status: st}
			if rng.IntN(2) == 0 {
				m.WorkflowID, m.WorkflowVersion = wf.ID, 1
			}
			if st == engine.MsgFailed {
				m.ErrorClass, m.Reason = []string{"transient", "recipient"}[rng.IntN(2)], "provider_error"
			}
			if st == engine.MsgSuppressed {
				m.Reason = "no_address"
			}
			if st == engine.MsgSent || st == engine.MsgDelivered {
				sent := created.Add(time.Duration(1+rng.IntN(600)) * time.Second)
				m.SentAt = &sent
				if st == engine.MsgDelivered {
					d := sent.Add(time.Duration(1+rng.IntN(120)) * time.Second)
					m.DeliveredAt = &d
				}
			}
			sm := seededMessage{m: *m, created: created, event: at}
			must(t, b.tx(func(tx *store.Tx) error {
				if _, err := tx.InsertMessage(b.ctx, m); err != nil {
					return err
				}
				if st == engine.MsgSuppressed || st == engine.MsgQueued {
					return nil
				}
				for n := 1; n <= 1+rng.IntN(3); n++ {
					a := engine.Attempt{TenantID: b.a.ID, MessageID: m.ID, Number: n, Provider: m.Provider,
						StartedAt: created.Add(time.Duration(n) * time.Minute), Outcome: "retry", ErrorClass: "transient"}
					if rng.IntN(2) == 0 {
						a.Outcome, a.ErrorClass = "sent", ""
					}
					if err := tx.InsertAttempt(b.ctx, &a); err != nil {
						return err
					}
					sm.attempts = append(sm.attempts, a)
				}
				return nil
			}))
			sm.m.ID = m.ID
			msgs = append(msgs, sm)
		}
		// Tenant B's rows in the same hours must never be counted for A.
		if i%7 == 0 {
			qb := b.quote(t, leadB)
			eb := b.event(t, qb)
			must(t, b.tx(func(tx *store.Tx) error {
				m := &engine.Message{TenantID: b.b.ID, EventID: eb.ID, LeadID: leadB.ID, Trigger: engine.TriggerSent, Channel: "email",
					Provider: "smtp", To: "x@example.com", Status: engine.MsgSent, SentAt: &at}
				if _, err := tx.InsertMessage(b.ctx, m); err != nil {
					return err
				}
				return tx.InsertAttempt(b.ctx, &engine.Attempt{TenantID: b.b.ID, MessageID: m.ID, Number: 1, Provider: "smtp", StartedAt: at})
			}))
		}
	}
	return msgs, evs
}

type countKey struct {
	slot int64
	keys string
}

func countsOf[T any](rows []T, f func(T) (time.Time, []string, int64)) map[countKey]int64 {
	out := map[countKey]int64{}
	for _, r := range rows {
		s, k, n := f(r)
		out[countKey{s.UnixMicro(), strings.Join(k, "|")}] += n
	}
	return out
}

func slotOf(t time.Time, slot time.Duration) time.Time { return t.Truncate(slot) }

func nearestRank(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[(p*len(ds)+99)/100-1]
}

// TestStatsQueriesEqualTheSeededHistory compares every count and percentile
// the stats queries return with the history the test wrote.
func TestStatsQueriesEqualTheSeededHistory(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		base := time.Date(2026, 10, 23, 22, 0, 0, 0, time.UTC)
		msgs, evs := statsHistory(t, b, base)
		from, to := base.Add(3*time.Hour), base.Add(70*time.Hour) // cuts the history at both ends
		in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
		dimOf := func(m engine.Message, d string) string {
			return map[string]string{"trigger": string(m.Trigger), "channel": m.Channel, "status": string(m.Status),
				"reason": m.Reason, "error_class": m.ErrorClass, "workflow": m.WorkflowID}[d]
		}
		for _, tc := range []struct {
			slot    time.Duration
			groupBy []string
		}{
			{time.Hour, nil},
			{time.Hour, []string{"trigger", "channel"}},
			{15 * time.Minute, []string{"status", "reason", "error_class", "workflow"}},
			{5 * time.Minute, []string{"error_class"}},
		} {
			q := store.StatsQuery{TenantID: b.a.ID, From: from, To: to, Slot: tc.slot, GroupBy: tc.groupBy}
			keys := func(m engine.Message, override map[string]string) []string {
				var ks []string
				for _, d := range tc.groupBy {
					v, ok := override[d]
					if !ok {
						v = dimOf(m, d)
					}
					ks = append(ks, v)
				}
				return ks
			}
			name := fmt.Sprintf("slot %v by %v", tc.slot, tc.groupBy)
			must(t, b.db.ReadTx(b.ctx, func(tx *store.Tx) error {
				// Messages.
				want := map[countKey]int64{}
				var total int64
				for _, m := range msgs {
					if in(m.created) {
						want[countKey{slotOf(m.created, tc.slot).UnixMicro(), strings.Join(keys(m.m, nil), "|")}]++
						total++
					}
				}
				mc, err := tx.MessageCounts(b.ctx, q)
				if err != nil {
					return err
				}
				got := countsOf(mc, func(c store.StatsCount) (time.Time, []string, int64) { return c.Slot, c.Keys, c.Count })
				if total == 0 || !mapsEqual(got, want) {
					t.Errorf("%s: message counts %v, want %v (of %d)", name, got, want, total)
				}
				// Attempts and retries by group and provider.
				wantA, wantR := map[countKey]int64{}, map[string]int64{}
				for _, m := range msgs {
					for _, a := range m.attempts {
						if !in(a.StartedAt) {
							continue
						}
						k := keys(m.m, map[string]string{"error_class": a.ErrorClass})
						k = append(k, a.Provider, fmt.Sprint(a.Number > 1))
						wantA[countKey{slotOf(a.StartedAt, tc.slot).UnixMicro(), strings.Join(k, "|")}]++
						if a.Number > 1 {
							wantR[a.Provider]++
						}
					}
				}
				ac, err := tx.AttemptCounts(b.ctx, q)
				if err != nil {
					return err
				}
				gotR := map[string]int64{}
				gotA := countsOf(ac, func(c store.AttemptCount) (time.Time, []string, int64) {
					if c.Retry {
						gotR[c.Provider] += c.Count
					}
					return c.Slot, append(slices.Clone(c.Keys), c.Provider, fmt.Sprint(c.Retry)), c.Count
				})
				if len(wantR) == 0 || !mapsEqual(gotA, wantA) || !mapsEqual(gotR, wantR) {
					t.Errorf("%s: attempt counts %v, want %v; retries by provider %v, want %v", name, gotA, wantA, gotR, wantR)
				}
				// Decisions and missing fields.
				wantD, wantF := map[countKey]int64{}, map[countKey]int64{}
				for _, e := range evs {
					if !in(e.created) {
						continue
					}
					s := slotOf(e.created, tc.slot).UnixMicro()
					wantD[countKey{s, e.trigger + "|" + e.outcome + "|" + e.reason}]++
					if !e.duplicate {
						for _, f := range e.missing {
							wantF[countKey{s, e.trigger + "|" + f}]++
						}
					}
				}
				dc, err := tx.DecisionCounts(b.ctx, q)
				if err != nil {
					return err
				}
				if got := countsOf(dc, func(c store.StatsCount) (time.Time, []string, int64) { return c.Slot, c.Keys, c.Count }); !mapsEqual(got, wantD) {
					t.Errorf("%s: decision counts %v, want %v", name, got, wantD)
				}
				fc, err := tx.MissingFieldCounts(b.ctx, q)
				if err != nil {
					return err
				}
				if got := countsOf(fc, func(c store.StatsCount) (time.Time, []string, int64) { return c.Slot, c.Keys, c.Count }); len(wantF) == 0 || !mapsEqual(got, wantF) {
					t.Errorf("%s: missing field counts %v, want %v", name, got, wantF)
				}
				// Latencies per group.
				for _, kind := range []string{store.LatencyEventToSent, store.LatencySentToDelivered} {
					ds := map[string][]time.Duration{}
					for _, m := range msgs {
						if !in(m.created) || m.m.SentAt == nil {
							continue
						}
						k := strings.Join(keys(m.m, nil), "|")
						if kind == store.LatencyEventToSent {
							ds[k] = append(ds[k], m.m.SentAt.Sub(m.event))
						} else if m.m.DeliveredAt != nil {
							ds[k] = append(ds[k], m.m.DeliveredAt.Sub(*m.m.SentAt))
						}
					}
					ps, all, err := tx.Latencies(b.ctx, q, kind)
					if err != nil {
						return err
					}
					got := map[string]string{"*": fmt.Sprintf("n=%d p50=%v p95=%v", all.Count, all.P50, all.P95)}
					for _, p := range ps {
						got[strings.Join(p.Keys, "|")] = fmt.Sprintf("n=%d p50=%v p95=%v", p.Count, p.P50, p.P95)
					}
					want := map[string]string{}
					var every []time.Duration
					for k, d := range ds {
						want[k] = fmt.Sprintf("n=%d p50=%v p95=%v", len(d), nearestRank(d, 50), nearestRank(d, 95))
						every = append(every, d...)
					}
					want["*"] = fmt.Sprintf("n=%d p50=%v p95=%v", len(every), nearestRank(every, 50), nearestRank(every, 95))
					if len(want) == 0 || !mapsEqual(got, want) {
						t.Errorf("%s: %s %v, want %v", name, kind, got, want)
					}
				}
				return nil
			}))
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestInFlightCounts: the /metrics gauge's counts hold, summed over
// tenants, exactly the messages that still have delivery work (the
// statuses engine.MessageStatus.Final calls not final), and a message that
// settles leaves them.
func TestInFlightCounts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		want := map[string]int64{}
		var queued *engine.Message
		for _, tenant := range []string{b.a.ID, b.b.ID} {
			f := b.flow(t, tenant)
			for i, st := range engine.MessageStatuses {
				step := b.runStep(t, f.run, fmt.Sprintf("s%d", i), i+1)
				m := b.message(t, f.run, step, engine.ChannelEmail, func(m *engine.Message) { m.Status = st })
				if !st.Final() {
					want[fmt.Sprintf("%s/%s/%s", f.run.Trigger, engine.ChannelEmail, st)]++
				}
				if st == engine.MsgQueued && tenant == b.a.ID {
					queued = m
				}
			}
		}
		equal(t, "in flight", inFlight(t, b), want)

		// The queued message is sent: it is no longer in flight.
		queued.Status = engine.MsgSent
		must(t, b.tx(func(tx *store.Tx) error { return tx.UpdateMessage(b.ctx, queued) }))
		want[fmt.Sprintf("%s/%s/%s", queued.Trigger, engine.ChannelEmail, engine.MsgQueued)]--
		equal(t, "in flight after a send", inFlight(t, b), want)
	})
}

func inFlight(t *testing.T, b *bundle) map[string]int64 {
	t.Helper()
	counts, err := b.db.InFlightCounts(b.ctx)
	must(t, err)
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Trigger+"/"+c.Channel+"/"+c.Status] = c.Count
	}
	return got
}

// TestInFlightCountsUseTheirIndex: the gauge's query is answered from the
// partial index messages_in_flight, whose size is the backlog, not by a
// scan of every message (the reason for migration 14). On PostgreSQL, with
// a table this small the planner would rather scan it, so the test forbids
// sequential scans to ask whether the index can answer at all: a query
// whose predicate stopped matching the index's could not use it.
func TestInFlightCountsUseTheirIndex(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		plan, err := b.db.RawPlan(b.ctx, store.InFlightCountsQuery)
		must(t, err)
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "messages_in_flight") || strings.Contains(text, "Seq Scan") {
			t.Fatalf("plan of the in-flight counts does not use messages_in_flight:\n%s", text)
		}
	})
}

package store_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// Missing-field counts read the events' stored contexts: absent, null and
// blank values are missing, anything else is present; keys are taken as
// data (spaces, quotes, dots); many probes are counted in several queries
// over one snapshot; the window, duplicates, triggers and tenants are kept
// apart.
func TestMissingFieldCounts(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		ctxs := []string{
			`{"lead": {"Name": "Ana", "Custom": {"roof type": "tile", "it's": 0, "a.b": false}}, "quote": {"Amount": 1}}`,
			`{"lead": {"Name": "", "Custom": {"roof type": null}}, "quote": null}`,
			`{"lead": {"Custom": null}}`,
			`{"lead": {"Name": "0001-01-01T00:00:00Z", "Custom": {"roof type": "", "it's": "x"}}, "quote": {}}`,
		}
		from := b.clock.Now()
		for i, c := range ctxs {
			q := b.quote(t, l)
			b.event(t, q, func(e *engine.Event) { e.Context = json.RawMessage(c) })
			if i == 0 { // the same context on another trigger, and as a duplicate
				b.event(t, q, func(e *engine.Event) {
					e.Context, e.Trigger, e.Action, e.DedupeKey = json.RawMessage(c), engine.TriggerViewed, engine.ActionView, q.ID+":view:1"
				})
				b.event(t, q, func(e *engine.Event) { e.Context, e.Duplicate = json.RawMessage(c), true })
			}
			b.clock.Advance(time.Minute)
		}
		later := b.quote(t, l) // after the window
		b.event(t, later, func(e *engine.Event) { e.Context = json.RawMessage(`{"lead": {}}`) })
		other := b.quote(t, b.lead(t, b.b.ID)) // another tenant's
		b.event(t, other, func(e *engine.Event) { e.Context = json.RawMessage(`{"lead": {}}`) })

		probes := []store.FieldProbe{
			{Field: "name", Paths: [][]string{{"lead", "Name"}}, Blank: []string{"", "0001-01-01T00:00:00Z"}},
			{Field: "roof", Paths: [][]string{{"lead", "Custom", "roof type"}}},
			{Field: "apostrophe", Paths: [][]string{{"lead", "Custom", "it's"}}},
			{Field: "dotted", Paths: [][]string{{"lead", "Custom", "a.b"}}},
			{Field: "quote", Paths: [][]string{{"quote"}}},
			{Field: "name or amount", Paths: [][]string{{"lead", "Name"}, {"quote", "Amount"}}, Blank: []string{""}},
		}
		for i := len(probes); i < 40; i++ { // beyond one query's width
			probes = append(probes, store.FieldProbe{Field: fmt.Sprint("absent ", i), Paths: [][]string{{"lead", fmt.Sprint("k", i)}}})
		}
		got, err := b.db.MissingFieldCounts(b.ctx, b.a.ID, store.Window{From: from, To: b.clock.Now()}, probes)
		must(t, err)
		// roof: null and absent (an empty string is a value without Blank);
		// name or amount: both blank in two contexts (the zero time is not
		// blank for that probe).
		sent := map[string]int64{"name": 3, "roof": 2, "apostrophe": 2, "dotted": 3, "quote": 2, "name or amount": 2}
		viewed := map[string]int64{"name": 0, "roof": 0, "apostrophe": 0, "dotted": 0, "quote": 0, "name or amount": 0}
		for i := 6; i < 40; i++ {
			sent[fmt.Sprint("absent ", i)], viewed[fmt.Sprint("absent ", i)] = 4, 1
		}
		equal(t, "missing field counts", got, []store.FieldCounts{
			{Trigger: "quote.sent", Events: 4, Missing: sent},
			{Trigger: "quote.viewed", Events: 1, Missing: viewed},
		})

		// No probes: the events per trigger alone.
		got, err = b.db.MissingFieldCounts(b.ctx, b.a.ID, store.Window{From: from, To: b.clock.Now()}, nil)
		must(t, err)
		equal(t, "events per trigger", got, []store.FieldCounts{
			{Trigger: "quote.sent", Events: 4, Missing: map[string]int64{}},
			{Trigger: "quote.viewed", Events: 1, Missing: map[string]int64{}},
		})
	})
}

package store_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestLeadRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := &engine.Lead{
			TenantID: b.a.ID, FirstName: "Ana", LastName: "Silva", Email: "ana@example.com", Phone: "+351912345678",
			Language: "pt", Country: "PT", Timezone: "Europe/Lisbon", Source: "web", Stage: "new",
			Tags: []string{"roofing", "ação"}, Owner: "joao",
			Custom: map[string]any{
				"roof_type": "tile",
				"area":      120.5,
				"big":       1e21,
				"nested":    map[string]any{"list": []any{1.0, "x", true, nil}, "empty": map[string]any{}},
				"flag":      false,
			},
			EmailOptOut: true, WhatsAppOptIn: true,
		}
		must(t, b.db.CreateLead(b.ctx, l))
		now := b.clock.Now().Truncate(time.Microsecond)
		if l.ID == "" || l.Version != 1 || !l.CreatedAt.Equal(now) || !l.UpdatedAt.Equal(now) {
			t.Fatalf("CreateLead did not fill in the lead: %+v", l)
		}
		got, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		equal(t, "lead", got, l)

		// nil tags and custom are not empty ones, and the other way round.
		for _, c := range []struct {
			tags   []string
			custom map[string]any
		}{{nil, nil}, {[]string{}, map[string]any{}}} {
			l.Tags, l.Custom, l.EmailOptOut, l.WhatsAppOptIn = c.tags, c.custom, false, false
			must(t, b.db.UpdateLead(b.ctx, l, 0))
			got, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
			must(t, err)
			equal(t, "lead", got, l)
		}
	})
}

func TestUpdateLeadVersions(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		created := l.CreatedAt
		b.clock.Advance(time.Minute)
		l.Stage = "contacted"
		must(t, b.db.UpdateLead(b.ctx, l, 1))
		if l.Version != 2 || !l.CreatedAt.Equal(created) || !l.UpdatedAt.Equal(b.clock.Now().Truncate(time.Microsecond)) {
			t.Fatalf("after update: %+v", l)
		}
		stale := *l
		stale.Stage = "lost"
		wantCode(t, b.db.UpdateLead(b.ctx, &stale, 1), engine.EPRECONDITION, "")
		got, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		equal(t, "lead after a stale update", got, l)
		// 0 does not check.
		must(t, b.db.UpdateLead(b.ctx, &stale, 0))
		equal(t, "version", stale.Version, int64(3))
	})
}

func TestListLeadsPaginates(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		var want []string
		for range 7 {
			want = append(want, b.lead(t, b.a.ID).ID)
			b.lead(t, b.b.ID) // interleaved rows of another tenant
		}
		var got []string
		cursor, pages := "", 0
		for {
			page, next, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{Limit: 3, After: cursor})
			must(t, err)
			pages++
			for _, l := range page {
				got = append(got, l.ID)
			}
			if next == "" {
				break
			}
			if len(page) != 3 {
				t.Fatalf("page %d has %d leads and a next cursor", pages, len(page))
			}
			cursor = next
		}
		if pages != 3 {
			t.Fatalf("%d pages, want 3", pages)
		}
		equal(t, "leads over all pages, in creation order", got, want)

		all, next, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{Limit: 1000})
		must(t, err)
		if len(all) != 7 || next != "" {
			t.Fatalf("a limit above the maximum: %d leads, next %q", len(all), next)
		}
		// A page that ends exactly at the last lead has no next cursor.
		exact, next, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{Limit: 7})
		must(t, err)
		if len(exact) != 7 || next != "" {
			t.Fatalf("exact page: %d leads, next %q", len(exact), next)
		}
		none, next, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{After: want[6]})
		must(t, err)
		if len(none) != 0 || next != "" {
			t.Fatalf("after the last: %d leads, next %q", len(none), next)
		}
	})
}

func TestDeleteLeadCascades(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		keep := b.lead(t, b.a.ID)
		q := b.quote(t, l)
		keptQuote := b.quote(t, keep)
		w := b.workflow(t, b.a.ID, engine.TriggerSent)
		must(t, b.db.CreateOverride(b.ctx, &engine.Override{TenantID: b.a.ID, LeadID: l.ID, Trigger: engine.AnyTrigger,
			Action: engine.OverrideWorkflow, WorkflowID: w.ID}))

		// The execution rows a lead accumulates.
		for _, q := range []*engine.Quote{q, keptQuote} {
			e := b.event(t, q)
			b.event(t, q, func(d *engine.Event) { d.Duplicate, d.DuplicateOf = true, e.ID })
			r := b.run(t, e, w)
			s := b.runStep(t, r, w.Steps[0].ID, 0)
			m := b.message(t, r, s, engine.ChannelWhatsApp)
			fallback := b.message(t, r, s, engine.ChannelEmail, func(f *engine.Message) { f.FallbackOf = m.ID })
			must(t, b.tx(func(tx *store.Tx) error {
				if err := tx.InsertAttempt(b.ctx, &engine.Attempt{TenantID: b.a.ID, MessageID: fallback.ID, Number: 1}); err != nil {
					return err
				}
				return tx.InsertReceipt(b.ctx, &engine.Receipt{TenantID: b.a.ID, MessageID: m.ID, ProviderMessageID: "wamid-" + m.ID,
					Status: "delivered", Payload: json.RawMessage(`{"x":1}`)})
			}))
		}
		cv := b.configVersion(t, b.a.ID)

		wantCode(t, b.db.DeleteLead(b.ctx, b.b.ID, l.ID), engine.ENOTFOUND, "")
		must(t, b.db.DeleteLead(b.ctx, b.a.ID, l.ID))
		wantCode(t, b.db.DeleteLead(b.ctx, b.a.ID, l.ID), engine.ENOTFOUND, "")
		_, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.GetQuote(b.ctx, b.a.ID, q.ID)
		wantCode(t, err, engine.ENOTFOUND, "")

		for table, want := range map[string]int64{
			"leads": 1, "quotes": 1, "lead_overrides": 0, "trigger_events": 2, "runs": 1, "run_steps": 1,
			"messages": 2, "message_attempts": 1, "receipts": 1, "workflows": 1,
		} {
			if n := b.count(t, table, b.a.ID); n != want {
				t.Errorf("%s: %d rows after deleting the lead, want %d", table, n, want)
			}
		}
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Errorf("deleting a lead with an override: config version %d, want %d", got, cv+1)
		}
		// A lead without overrides is not configuration.
		must(t, b.db.DeleteLead(b.ctx, b.a.ID, keep.ID))
		if got := b.configVersion(t, b.a.ID); got != cv+1 {
			t.Errorf("deleting a lead without overrides moved the config version to %d", got)
		}
		if n := b.count(t, "messages", b.a.ID); n != 0 {
			t.Errorf("%d messages left", n)
		}
	})
}

func TestLeadIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		lb := b.lead(t, b.b.ID)
		_, err := b.db.GetLead(b.ctx, b.a.ID, lb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		hijack := *lb
		hijack.TenantID = b.a.ID
		hijack.FirstName = "Mallory"
		wantCode(t, b.db.UpdateLead(b.ctx, &hijack, 0), engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateLead(b.ctx, &hijack, 1), engine.ENOTFOUND, "")
		wantCode(t, b.db.DeleteLead(b.ctx, b.a.ID, lb.ID), engine.ENOTFOUND, "")
		list, _, err := b.db.ListLeads(b.ctx, b.a.ID, engine.Page{})
		must(t, err)
		if slices.ContainsFunc(list, func(l engine.Lead) bool { return l.ID == lb.ID }) {
			t.Fatal("A lists B's lead")
		}
		got, err := b.db.GetLead(b.ctx, b.b.ID, lb.ID)
		must(t, err)
		equal(t, "B's lead, untouched", got, lb)
		wantCode(t, b.db.CreateLead(b.ctx, &engine.Lead{TenantID: "no-such-tenant"}), engine.ENOTFOUND, "")
	})
}

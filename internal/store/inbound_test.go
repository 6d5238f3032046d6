package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func (b *bundle) inbound(t *testing.T, m engine.InboundMessage) (*engine.InboundMessage, bool) {
	t.Helper()
	if m.Type == "" {
		m.Type = "text"
	}
	if m.Match == "" {
		m.Match = engine.MatchUnknownNumber
	}
	var created bool
	must(t, b.tx(func(tx *store.Tx) error {
		var err error
		created, err = tx.InsertInbound(b.ctx, &m)
		return err
	}))
	return &m, created
}

// TestInboundStoredOncePerWamid: Meta redelivers a webhook until it is
// acknowledged; a tenant stores one wamid once, another tenant's message
// with the same id is its own.
func TestInboundStoredOncePerWamid(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		in := engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "wamid.1", PhoneNumberID: "106540352242922",
			From: "+351912345678", WaID: "351912345678", ProfileName: "Ana", Type: "image", Text: "the roof",
			Media: &engine.InboundMedia{ID: "2754859441498128", MimeType: "image/jpeg"}, ContextID: "wamid.ours",
			Raw: json.RawMessage(`{"id":"wamid.1","type":"image"}`), LeadID: l.ID, Match: engine.MatchLead,
			Consent: engine.ConsentOptOut, ConsentWord: "STOP", Trigger: engine.TriggerSent, WorkflowID: "wf", SentAt: sent}
		first, created := b.inbound(t, in)
		if !created || first.ID == "" {
			t.Fatalf("first delivery not stored: %+v", first)
		}
		got, err := b.db.GetInbound(b.ctx, b.a.ID, first.ID)
		must(t, err)
		equal(t, "inbound", got, first)
		for range 2 {
			if again, created := b.inbound(t, in); created || again.ID != "" {
				t.Fatalf("a redelivery was stored: %+v", again)
			}
		}
		theirs := in
		theirs.TenantID, theirs.LeadID, theirs.Match = b.b.ID, "", engine.MatchUnknownNumber
		if _, created := b.inbound(t, theirs); !created {
			t.Fatal("another tenant's message with the same wamid was not stored")
		}
		if n := b.count(t, "inbound_messages", b.a.ID); n != 1 {
			t.Fatalf("tenant A has %d inbound messages", n)
		}
		if _, err := b.db.GetInbound(b.ctx, b.b.ID, first.ID); err == nil {
			t.Fatal("tenant B reads tenant A's message")
		}
		// Another tenant's lead cannot be named.
		bad := in
		bad.ProviderMessageID, bad.LeadID = "wamid.2", b.lead(t, b.b.ID).ID
		err = b.tx(func(tx *store.Tx) error { _, err := tx.InsertInbound(b.ctx, &bad); return err })
		wantCode(t, err, engine.EINVALID, "")
	})
}

// TestInboundOddTextIsStored: NUL bytes and invalid UTF-8, which
// PostgreSQL's text refuses, do not cost the message.
func TestInboundOddTextIsStored(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		m, created := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "wamid.nul", From: "+351912345678",
			Type: "hologram\x00", Text: "a\x00b\xffc", Raw: json.RawMessage(`{"text":{"body":"a\u0000b"}}`), ProfileName: "\xfe"})
		if !created {
			t.Fatal("not stored")
		}
		got, err := b.db.GetInbound(b.ctx, b.a.ID, m.ID)
		must(t, err)
		if got.Text != "a\uFFFDb\uFFFDc" || got.Type != "hologram\uFFFD" || string(got.Raw) != `{"text":{"body":"a\u0000b"}}` {
			t.Fatalf("stored %q %q %s", got.Text, got.Type, got.Raw)
		}
	})
}

func TestInboundListsAndInbox(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		matched, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "w1", From: "+351912345678",
			LeadID: l.ID, Match: engine.MatchLead})
		b.clock.Advance(time.Minute)
		unknown, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "w2", From: "+351900000000"})
		b.clock.Advance(time.Minute)
		two, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "w3", From: "+351911111111",
			Match: engine.MatchAmbiguous, Candidates: []engine.LeadRef{{ID: "l1", FirstName: "Ana"}, {ID: "l2", FirstName: "Rui"}}})
		b.inbound(t, engine.InboundMessage{TenantID: b.b.ID, ProviderMessageID: "w4", From: "+351900000000"})
		ids := func(f engine.InboundFilter) []string {
			ms, _, err := b.db.ListInbound(b.ctx, b.a.ID, f, engine.Page{})
			must(t, err)
			var out []string
			for _, m := range ms {
				out = append(out, m.ProviderMessageID)
			}
			return out
		}
		equal(t, "all", ids(engine.InboundFilter{}), []string{"w1", "w2", "w3"})
		equal(t, "inbox", ids(engine.InboundFilter{Inbox: true}), []string{"w2", "w3"})
		equal(t, "lead", ids(engine.InboundFilter{LeadID: l.ID}), []string{"w1"})
		equal(t, "ambiguous", ids(engine.InboundFilter{Match: engine.MatchAmbiguous}), []string{"w3"})
		equal(t, "received from", ids(engine.InboundFilter{From: unknown.ReceivedAt}), []string{"w2", "w3"})
		got, err := b.db.GetInbound(b.ctx, b.a.ID, two.ID)
		must(t, err)
		equal(t, "candidates", got.Candidates, two.Candidates)
		// Deleting the lead deletes what it sent.
		must(t, b.db.DeleteLead(b.ctx, b.a.ID, l.ID))
		if _, err := b.db.GetInbound(b.ctx, b.a.ID, matched.ID); err == nil {
			t.Fatal("the deleted lead's message is still there")
		}
	})
}

// TestWhatsAppWindowEnd: the window of a number runs 24 hours from its
// latest message that opens one; system notices, other numbers and other
// tenants do not count; a sent_at after the receipt counts as received.
func TestWhatsAppWindowEnd(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		const phone = "+351912345678"
		end := func() time.Time {
			var got time.Time
			must(t, b.tx(func(tx *store.Tx) error {
				var err error
				got, err = tx.WhatsAppWindowEnd(b.ctx, b.a.ID, phone)
				return err
			}))
			return got
		}
		if got := end(); !got.IsZero() {
			t.Fatalf("no messages: %v", got)
		}
		t1 := b.clock.Now().Add(-2 * time.Hour).Truncate(time.Microsecond)
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "a", From: phone, SentAt: t1})
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "b", From: phone, SentAt: t1.Add(-time.Hour)})
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "c", From: phone, Type: engine.InboundSystem})
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "d", From: "+351900000000"})
		b.inbound(t, engine.InboundMessage{TenantID: b.b.ID, ProviderMessageID: "e", From: phone})
		if got := end(); !got.Equal(t1.Add(24 * time.Hour)) {
			t.Fatalf("window ends %v, want %v", got, t1.Add(24*time.Hour))
		}
		future, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "f", From: phone, SentAt: b.clock.Now().Add(time.Hour)})
		if !future.SentAt.Equal(future.ReceivedAt) {
			t.Fatalf("a sent_at after the receipt was kept: %v > %v", future.SentAt, future.ReceivedAt)
		}
		if got := end(); !got.Equal(future.ReceivedAt.Add(24 * time.Hour)) {
			t.Fatalf("window ends %v", got)
		}
	})
}

func TestConsentChangesAndLeadFlags(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		l.WhatsAppOptIn = true
		must(t, b.db.UpdateLead(b.ctx, l, 0))
		set := func(optedIn bool) bool {
			var changed bool
			must(t, b.tx(func(tx *store.Tx) error {
				var err error
				changed, err = tx.SetWhatsAppConsent(b.ctx, b.a.ID, l.ID, optedIn)
				return err
			}))
			return changed
		}
		if !set(false) || set(false) {
			t.Fatal("opting out twice: want one change")
		}
		got, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		now := b.clock.Now().Truncate(time.Microsecond)
		if got.WhatsAppOptIn || got.WhatsAppOptedOutAt == nil || !got.WhatsAppOptedOutAt.Equal(now) || got.Version != l.Version+1 {
			t.Fatalf("after opting out: %+v", got)
		}
		// An edit of other fields keeps the flag and its time.
		got.FirstName = "Ana Maria"
		must(t, b.db.UpdateLead(b.ctx, got, got.Version))
		again, err := b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		if again.WhatsAppOptedOutAt == nil || !again.WhatsAppOptedOutAt.Equal(now) {
			t.Fatalf("an edit lost the opt-out time: %+v", again)
		}
		if !set(true) {
			t.Fatal("opting back in changed nothing")
		}
		again, err = b.db.GetLead(b.ctx, b.a.ID, l.ID)
		must(t, err)
		if !again.WhatsAppOptIn || again.WhatsAppOptedOutAt != nil {
			t.Fatalf("after opting in: %+v", again)
		}
		must(t, b.tx(func(tx *store.Tx) error {
			if changed, err := tx.SetEmailOptOut(b.ctx, b.a.ID, l.ID, true); err != nil || !changed {
				t.Errorf("email opt-out: %v %v", changed, err)
			}
			_, err := tx.SetWhatsAppConsent(b.ctx, b.b.ID, l.ID, false)
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))

		in, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "stop", From: l.Phone, LeadID: l.ID, Match: engine.MatchLead})
		c := &engine.ConsentChange{TenantID: b.a.ID, LeadID: l.ID, Channel: engine.ChannelWhatsApp, OptedIn: false,
			Source: engine.ConsentByKeyword, Detail: "STOP", InboundID: in.ID, Trigger: engine.TriggerSent, WorkflowID: "wf"}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertConsentChange(b.ctx, c) }))
		b.clock.Advance(time.Second)
		e := &engine.ConsentChange{TenantID: b.a.ID, LeadID: l.ID, Channel: engine.ChannelEmail, OptedIn: false, Source: engine.ConsentByUnsubscribe}
		must(t, b.tx(func(tx *store.Tx) error { return tx.InsertConsentChange(b.ctx, e) }))
		list, _, err := b.db.ListConsentChanges(b.ctx, b.a.ID, l.ID, engine.Page{})
		must(t, err)
		equal(t, "consent changes", list, []engine.ConsentChange{*c, *e})
		if list, _, _ := b.db.ListConsentChanges(b.ctx, b.b.ID, l.ID, engine.Page{}); len(list) != 0 {
			t.Fatalf("tenant B sees %d of A's changes", len(list))
		}
	})
}

func TestTenantConsentKeywordsRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		tn, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		if tn.ConsentKeywords != nil {
			t.Fatalf("a new tenant has keywords %+v", tn.ConsentKeywords)
		}
		tn.ConsentKeywords = &engine.ConsentKeywords{OptOut: []string{"Chega"}, OptIn: []string{}}
		must(t, b.db.UpdateTenant(b.ctx, tn, 0))
		got, err := b.db.GetTenant(b.ctx, b.a.ID)
		must(t, err)
		equal(t, "keywords", got.ConsentKeywords, &engine.ConsentKeywords{OptOut: []string{"Chega"}})
	})
}

// TestPurgeInboundKeepsReplyStatistics: the purge deletes inbound
// messages and consent changes older than the cutoff, and only those, and
// the reply statistics of the purged period read the same from the rollups
// as they did from the rows.
func TestPurgeInboundKeepsReplyStatistics(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		start := b.clock.Now()
		written := start.Add(-time.Hour).Truncate(time.Microsecond)
		first, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "r1", From: "+351912345678", LeadID: l.ID,
			Match: engine.MatchLead, ReplyTo: "m1", Trigger: engine.TriggerSent, WorkflowID: "wf", ReplyToAt: written, FirstReply: true})
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "r2", From: "+351912345678", LeadID: l.ID,
			Match: engine.MatchLead, ReplyTo: "m1", Trigger: engine.TriggerSent, WorkflowID: "wf", ReplyToAt: written})
		b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "sys", From: "+351912345678", Type: engine.InboundSystem})
		for _, c := range []*engine.ConsentChange{
			{TenantID: b.a.ID, LeadID: l.ID, Channel: engine.ChannelWhatsApp, Source: engine.ConsentByKeyword, InboundID: first.ID,
				Trigger: engine.TriggerSent, WorkflowID: "wf"},
			{TenantID: b.a.ID, LeadID: l.ID, Channel: engine.ChannelEmail, Source: engine.ConsentByUnsubscribe},
			{TenantID: b.a.ID, LeadID: l.ID, Channel: engine.ChannelWhatsApp, OptedIn: true, Source: engine.ConsentByAPI},
		} {
			must(t, b.tx(func(tx *store.Tx) error { return tx.InsertConsentChange(b.ctx, c) }))
		}
		b.clock.Advance(48 * time.Hour)
		later, _ := b.inbound(t, engine.InboundMessage{TenantID: b.a.ID, ProviderMessageID: "new", From: "+351912345678"})
		b.inbound(t, engine.InboundMessage{TenantID: b.b.ID, ProviderMessageID: "theirs", From: "+351912345678"})
		q := store.StatsQuery{TenantID: b.a.ID, From: start.Add(-2 * time.Hour), To: b.clock.Now().Add(time.Hour), Slot: time.Hour}
		counts := func() map[string]int64 {
			var got []store.ReplyCount
			must(t, b.db.ReadTx(b.ctx, func(tx *store.Tx) error {
				var err error
				got, err = tx.ReplyCounts(b.ctx, q)
				return err
			}))
			out := map[string]int64{}
			for _, c := range got {
				out[c.Kind+" "+string(c.Trigger)+" "+c.WorkflowID+" "+c.Slot.Format(time.RFC3339)] += c.Count
			}
			return out
		}
		before := counts()
		slot := func(t time.Time) string { return t.Truncate(time.Hour).Format(time.RFC3339) }
		want := map[string]int64{
			"reply quote.sent wf " + slot(first.ReceivedAt): 2, "reply   " + slot(later.ReceivedAt): 1,
			"replied quote.sent wf " + slot(written): 1, "opt_out quote.sent wf " + slot(start): 1, "unsubscribe   " + slot(start): 1,
		}
		equal(t, "reply counts", before, want)
		cutoff := start.Add(time.Hour)
		for {
			n, err := b.db.PurgeInbound(b.ctx, b.a.ID, cutoff, 2)
			must(t, err)
			if n == 0 {
				break
			}
		}
		if n := b.count(t, "inbound_messages", b.a.ID); n != 1 {
			t.Fatalf("%d inbound messages left, want the one after the cutoff", n)
		}
		if n := b.count(t, "consent_changes", b.a.ID); n != 0 {
			t.Fatalf("%d consent changes left", n)
		}
		if n := b.count(t, "inbound_messages", b.b.ID); n != 1 {
			t.Fatal("the purge reached tenant B")
		}
		equal(t, "reply counts after the purge", counts(), before)
	})
}

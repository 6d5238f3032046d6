package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// TestReceiptReplayStoredOnce: the same status of the same provider message
// at the same provider time (a replayed webhook) is stored once, with or
// without a provider timestamp and whether or not the message is known;
// a different status or time, or another tenant's receipt, is its own row
// (issue 12, defect 7).
func TestReceiptReplayStoredOnce(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		f := b.flow(t, b.a.ID)
		m := b.message(t, f.run, f.step, engine.ChannelWhatsApp)
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		// insert reports whether r was stored: a replay leaves its ID empty.
		insert := func(r engine.Receipt) bool {
			t.Helper()
			r.ID = ""
			must(t, b.tx(func(tx *store.Tx) error { return tx.InsertReceipt(b.ctx, &r) }))
			b.clock.Advance(time.Second)
			return r.ID != ""
		}
		delivered := engine.Receipt{TenantID: b.a.ID, MessageID: m.ID, ProviderMessageID: "wamid.r", Status: "delivered",
			ProviderTimestamp: at, Payload: json.RawMessage(`{"status":"delivered"}`)}
		noTS := engine.Receipt{TenantID: b.a.ID, ProviderMessageID: "wamid.orphan", Status: "sent"}
		for i, want := range []bool{true, false, false} {
			if got := insert(delivered); got != want {
				t.Fatalf("delivery %d of the receipt: created %v, want %v", i+1, got, want)
			}
			if got := insert(noTS); got != want {
				t.Fatalf("delivery %d of the receipt without a time or message: created %v, want %v", i+1, got, want)
			}
		}
		later := delivered
		later.ProviderTimestamp = at.Add(time.Second)
		read := delivered
		read.Status = "read"
		theirs := b.flow(t, b.b.ID)
		mb := b.message(t, theirs.run, theirs.step, engine.ChannelWhatsApp)
		bs := delivered
		bs.TenantID, bs.MessageID = b.b.ID, mb.ID
		for name, r := range map[string]engine.Receipt{"a later time": later, "another status": read, "another tenant": bs} {
			if !insert(r) {
				t.Errorf("%s: not stored", name)
			}
		}
		if n := b.count(t, "receipts", b.a.ID); n != 4 {
			t.Errorf("tenant A has %d receipts, want 4", n)
		}
		list, err := b.db.ListReceipts(b.ctx, b.a.ID, m.ID)
		must(t, err)
		if len(list) != 3 || list[0].Status != "delivered" || !list[0].ProviderTimestamp.Equal(at) {
			t.Fatalf("the message's receipts: %+v", list)
		}
	})
}

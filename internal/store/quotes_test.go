package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

func TestQuoteRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l := b.lead(t, b.a.ID)
		valid := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("Lisbon+1", 3600))
		q := &engine.Quote{TenantID: b.a.ID, LeadID: l.ID, Number: "Q-1001", AmountMinor: math.MaxInt64,
			Currency: "EUR", Status: engine.QuoteSent, ValidUntil: &valid, Revision: 3,
			PublicToken: randomToken(t), RejectionReason: "too expensive"}
		must(t, b.db.CreateQuote(b.ctx, q))
		// The struct reads as it was stored: UTC, microseconds.
		wantValid := valid.UTC().Truncate(time.Microsecond)
		if q.ValidUntil == nil || *q.ValidUntil != wantValid || q.ID == "" || q.Version != 1 {
			t.Fatalf("CreateQuote did not fill in the quote: %+v", q)
		}
		if valid.Nanosecond() != 999999999 {
			t.Fatal("CreateQuote changed the caller's time value")
		}
		got, err := b.db.GetQuote(b.ctx, b.a.ID, q.ID)
		must(t, err)
		equal(t, "quote", got, q)
		got, err = b.db.GetQuoteByToken(b.ctx, q.PublicToken)
		must(t, err)
		equal(t, "quote by token", got, q)

		q.ValidUntil, q.AmountMinor, q.Currency = nil, -5, "JPY"
		must(t, b.db.UpdateQuote(b.ctx, q, 1))
		got, err = b.db.GetQuote(b.ctx, b.a.ID, q.ID)
		must(t, err)
		equal(t, "quote without valid_until", got, q)

		_, err = b.db.GetQuoteByToken(b.ctx, "no-such-token")
		wantCode(t, err, engine.ENOTFOUND, "")
		_, err = b.db.GetQuoteByToken(b.ctx, "")
		wantCode(t, err, engine.ENOTFOUND, "")
	})
}

func TestQuoteConstraints(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		la, lb := b.lead(t, b.a.ID), b.lead(t, b.b.ID)
		q := b.quote(t, la)

		for name, leadID := range map[string]string{"unknown lead": "no-such-lead", "other tenant's lead": lb.ID} {
			bad := &engine.Quote{TenantID: b.a.ID, LeadID: leadID, Number: "Q-2", Currency: "EUR",
				Status: engine.QuoteDraft, PublicToken: randomToken(t)}
			err := b.db.CreateQuote(b.ctx, bad)
			t.Run(name, func(t *testing.T) { wantCode(t, err, engine.EINVALID, "body.lead_id") })
			if bad.ID != "" {
				t.Fatal("a failed create filled in the id")
			}
		}

		dup := &engine.Quote{TenantID: b.b.ID, LeadID: lb.ID, Number: "Q-3", Currency: "EUR",
			Status: engine.QuoteDraft, PublicToken: q.PublicToken}
		wantCode(t, b.db.CreateQuote(b.ctx, dup), engine.ECONFLICT, "public_token")

		moved := *q
		moved.LeadID = lb.ID
		wantCode(t, b.db.UpdateQuote(b.ctx, &moved, 0), engine.EINVALID, "body.lead_id")

		stale := *q
		must(t, b.db.UpdateQuote(b.ctx, q, q.Version))
		equal(t, "version", q.Version, int64(2))
		wantCode(t, b.db.UpdateQuote(b.ctx, &stale, stale.Version), engine.EPRECONDITION, "")
	})
}

func TestListQuotes(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		l1, l2 := b.lead(t, b.a.ID), b.lead(t, b.a.ID)
		var ofL1, sent []string
		for i := range 5 {
			q := b.quote(t, l1)
			ofL1 = append(ofL1, q.ID)
			if i%2 == 0 {
				q.Status = engine.QuoteSent
				must(t, b.db.UpdateQuote(b.ctx, q, 0))
				sent = append(sent, q.ID)
			}
		}
		other := b.quote(t, l2)
		b.quote(t, b.lead(t, b.b.ID))

		ids := func(f store.QuoteFilter, limit int) []string {
			var out []string
			cursor := ""
			for {
				page, next, err := b.db.ListQuotes(b.ctx, b.a.ID, f, store.Page{Limit: limit, After: cursor})
				must(t, err)
				for _, q := range page {
					out = append(out, q.ID)
				}
				if next == "" {
					return out
				}
				cursor = next
			}
		}
		equal(t, "quotes of lead 1", ids(store.QuoteFilter{LeadID: l1.ID}, 2), ofL1)
		equal(t, "sent quotes", ids(store.QuoteFilter{Status: engine.QuoteSent}, 1), sent)
		equal(t, "sent quotes of lead 2", ids(store.QuoteFilter{LeadID: l2.ID, Status: engine.QuoteSent}, 0), []string(nil))
		equal(t, "all of A's quotes", ids(store.QuoteFilter{}, 4), append(append([]string{}, ofL1...), other.ID))
	})
}

func TestQuoteIsolation(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		qb := b.quote(t, b.lead(t, b.b.ID))
		_, err := b.db.GetQuote(b.ctx, b.a.ID, qb.ID)
		wantCode(t, err, engine.ENOTFOUND, "")
		hijack := *qb
		hijack.TenantID = b.a.ID
		wantCode(t, b.db.UpdateQuote(b.ctx, &hijack, 0), engine.ENOTFOUND, "")
		wantCode(t, b.db.UpdateQuote(b.ctx, &hijack, 1), engine.ENOTFOUND, "")
		list, _, err := b.db.ListQuotes(b.ctx, b.a.ID, store.QuoteFilter{LeadID: qb.LeadID}, store.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's quotes")
		}
		got, err := b.db.GetQuote(b.ctx, b.b.ID, qb.ID)
		must(t, err)
		equal(t, "B's quote, untouched", got, qb)
	})
}

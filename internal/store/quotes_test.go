package store_test

import (
	"math"
	"sync"
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

		ids := func(f engine.QuoteFilter, limit int) []string {
			var out []string
			cursor := ""
			for {
				page, next, err := b.db.ListQuotes(b.ctx, b.a.ID, f, engine.Page{Limit: limit, After: cursor})
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
		equal(t, "quotes of lead 1", ids(engine.QuoteFilter{LeadID: l1.ID}, 2), ofL1)
		equal(t, "sent quotes", ids(engine.QuoteFilter{Status: engine.QuoteSent}, 1), sent)
		equal(t, "sent quotes of lead 2", ids(engine.QuoteFilter{LeadID: l2.ID, Status: engine.QuoteSent}, 0), []string(nil))
		equal(t, "all of A's quotes", ids(engine.QuoteFilter{}, 4), append(append([]string{}, ofL1...), other.ID))
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
		list, _, err := b.db.ListQuotes(b.ctx, b.a.ID, engine.QuoteFilter{LeadID: qb.LeadID}, engine.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatal("A lists B's quotes")
		}
		got, err := b.db.GetQuote(b.ctx, b.b.ID, qb.ID)
		must(t, err)
		equal(t, "B's quote, untouched", got, qb)
	})
}

func TestListQuotesToExpire(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		now := b.clock.Now()
		mk := func(tenantID string, status engine.QuoteStatus, validUntil *time.Time) *engine.Quote {
			q := b.quote(t, b.lead(t, tenantID))
			q.Status, q.ValidUntil = status, validUntil
			must(t, b.db.UpdateQuote(b.ctx, q, 0))
			return q
		}
		ago := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
		oldestB := mk(b.b.ID, engine.QuoteViewed, ago(72*time.Hour))
		a1 := mk(b.a.ID, engine.QuoteSent, ago(48*time.Hour))
		a2 := mk(b.a.ID, engine.QuoteSent, ago(time.Microsecond))
		b1 := mk(b.b.ID, engine.QuoteSent, ago(24*time.Hour))
		// Not due: other statuses, no valid_until, valid until now or later.
		mk(b.a.ID, engine.QuoteAccepted, ago(96*time.Hour))
		mk(b.a.ID, engine.QuoteExpired, ago(96*time.Hour))
		mk(b.a.ID, engine.QuoteDraft, ago(96*time.Hour))
		mk(b.a.ID, engine.QuoteSent, nil)
		mk(b.a.ID, engine.QuoteSent, &now)
		mk(b.b.ID, engine.QuoteViewed, ago(-time.Hour))

		must(t, b.tx(func(tx *store.Tx) error {
			due, err := tx.ListQuotesToExpire(b.ctx, now, 0)
			must(t, err)
			equal(t, "due quotes, oldest first, all tenants", due, []engine.Quote{*oldestB, *a1, *b1, *a2})
			due, err = tx.ListQuotesToExpire(b.ctx, now, 2)
			must(t, err)
			equal(t, "limited", due, []engine.Quote{*oldestB, *a1})
			due, err = tx.ListQuotesToExpire(b.ctx, now.Add(-100*time.Hour), 10)
			must(t, err)
			equal(t, "nothing due yet", due, []engine.Quote(nil))
			return nil
		}))
	})
}

// TestQuoteRowLock checks that GetQuoteForUpdate and
// GetQuoteByTokenForUpdate hold a second transaction that locks the same
// quote until the first commits, and that the second then reads what the
// first wrote. On SQLite, whose writers are serial anyway, it checks only
// that they read the quote.
func TestQuoteRowLock(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		q := b.quote(t, b.lead(t, b.a.ID))
		lockers := map[string]func(tx *store.Tx) (*engine.Quote, error){
			"by id":    func(tx *store.Tx) (*engine.Quote, error) { return tx.GetQuoteForUpdate(b.ctx, b.a.ID, q.ID) },
			"by token": func(tx *store.Tx) (*engine.Quote, error) { return tx.GetQuoteByTokenForUpdate(b.ctx, q.PublicToken) },
		}
		must(t, b.tx(func(tx *store.Tx) error {
			for name, lock := range lockers {
				got, err := lock(tx)
				must(t, err)
				equal(t, name, got, q)
			}
			_, err := tx.GetQuoteForUpdate(b.ctx, b.b.ID, q.ID)
			wantCode(t, err, engine.ENOTFOUND, "")
			_, err = tx.GetQuoteByTokenForUpdate(b.ctx, "")
			wantCode(t, err, engine.ENOTFOUND, "")
			return nil
		}))
		if b.db.Dialect() != store.DialectPostgres {
			return
		}
		for _, first := range []string{"by id", "by token"} {
			for _, second := range []string{"by id", "by token"} {
				blocksUntilCommit(t, b, q, lockers[first], lockers[second])
			}
		}
	})
}

// blocksUntilCommit locks q with first in one transaction, waits until a
// second transaction trying second is blocked by it, updates q and
// commits, and checks that the second then reads the update.
func blocksUntilCommit(t *testing.T, b *bundle, q *engine.Quote, first, second func(*store.Tx) (*engine.Quote, error)) {
	t.Helper()
	locked := make(chan int32)     // the first transaction's backend pid, once it holds the lock
	release := make(chan struct{}) // the second is waiting: update and commit
	firstDone := make(chan error, 1)
	// On any failure below, let the first transaction end, or it would hold
	// its connection and lock and the test's cleanup would wait forever.
	var once sync.Once
	releaseFirst := func() { once.Do(func() { close(release) }) }
	defer releaseFirst()
	go func() {
		firstDone <- b.tx(func(tx *store.Tx) error {
			cur, err := first(tx)
			if err != nil {
				close(locked)
				return err
			}
			var pid int32
			ptx, err := tx.BegunPgxTx(b.ctx)
			if err == nil {
				err = ptx.QueryRow(b.ctx, `SELECT pg_backend_pid()`).Scan(&pid)
			}
			if err != nil {
				close(locked)
				return err
			}
			locked <- pid
			<-release
			cur.RejectionReason = "changed by the first"
			return tx.UpdateQuote(b.ctx, cur, 0)
		})
	}()
	pid, ok := <-locked
	if !ok {
		t.Fatalf("first transaction: %v", <-firstDone)
	}

	type result struct {
		q   *engine.Quote
		err error
	}
	secondDone := make(chan result, 1)
	go func() {
		var r result
		r.err = b.tx(func(tx *store.Tx) error {
			r.q, r.err = second(tx)
			return r.err
		})
		secondDone <- r
	}()

	// Wait, without sleeping, until PostgreSQL reports the second
	// transaction blocked by the first one's backend.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := b.db.RawInt(b.ctx, `SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))`, pid)
		must(t, err)
		if n > 0 {
			break
		}
		select {
		case r := <-secondDone:
			t.Fatalf("the second transaction did not wait for the first: %+v, %v", r.q, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never blocked")
		}
	}
	select {
	case r := <-secondDone:
		t.Fatalf("the second transaction returned while the first held the lock: %+v, %v", r.q, r.err)
	default:
	}
	releaseFirst()
	must(t, <-firstDone)
	r := <-secondDone
	must(t, r.err)
	if r.q.RejectionReason != "changed by the first" {
		t.Fatalf("the second transaction read %+v, not the first one's update", r.q)
	}
	*q = *r.q
}

package store_test

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/store"
)

// Alert emails are claimed once each, however many callers claim at once;
// one left sending past the stale time is settled as unknown, never
// claimed again; a recorded retry is claimed again once due.
func TestAlertEmailOutbox(t *testing.T) {
	each(t, func(t *testing.T, b *bundle) {
		queue := func(tenant string, n int) {
			t.Helper()
			must(t, b.tx(func(tx *store.Tx) error {
				for range n {
					e := &store.AlertEmail{TenantID: tenant, To: "ops@acme.test", Subject: "s", Body: "b", Alerts: 1}
					if err := tx.QueueAlertEmail(b.ctx, e, nil); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		queue(b.a.ID, 6)
		queue(b.b.ID, 1)
		stale := func() time.Time { return b.clock.Now().Add(-5 * time.Minute) }

		var mu sync.Mutex
		var ids []string
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := b.db.ClaimAlertEmails(b.ctx, b.a.ID, stale(), 2)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, e := range got {
					if e.Status != store.AlertEmailSending || e.Attempts != 1 {
						t.Errorf("claimed %+v, want sending at its first attempt", e)
					}
					ids = append(ids, e.ID)
				}
			}()
		}
		wg.Wait()
		sort.Strings(ids)
		for i := 1; i < len(ids); i++ {
			if ids[i] == ids[i-1] {
				t.Fatalf("email %s claimed twice", ids[i])
			}
		}
		if len(ids) != 6 {
			t.Fatalf("claimed %d of A's 6 emails, want all once", len(ids))
		}
		if more, err := b.db.ClaimAlertEmails(b.ctx, b.a.ID, stale(), 10); err != nil || len(more) != 0 {
			t.Fatalf("a second round claimed %v %v, want nothing", more, err)
		}

		// One is sent, one waits for a retry; the others' process died.
		all, err := b.db.ListAlertEmails(b.ctx, b.a.ID)
		must(t, err)
		now := b.clock.Now()
		sent, retry := all[0], all[1]
		sent.Status, sent.SentAt, sent.Provider, sent.NextAt = store.AlertEmailSent, &now, "smtp", now
		must(t, b.db.RecordAlertEmail(b.ctx, &sent))
		retry.Status, retry.ErrorClass, retry.NextAt = store.AlertEmailQueued, "transient", now.Add(time.Minute)
		must(t, b.db.RecordAlertEmail(b.ctx, &retry))
		b.clock.Advance(6 * time.Minute)
		again, err := b.db.ClaimAlertEmails(b.ctx, b.a.ID, stale(), 10)
		must(t, err)
		if len(again) != 1 || again[0].ID != retry.ID || again[0].Attempts != 2 {
			t.Fatalf("claimed %+v, want the retry alone, at its second attempt", again)
		}
		all, err = b.db.ListAlertEmails(b.ctx, b.a.ID)
		must(t, err)
		count := map[string]int{}
		for _, e := range all {
			count[e.Status]++
		}
		equal(t, "statuses", count, map[string]int{store.AlertEmailSent: 1, store.AlertEmailSending: 1, store.AlertEmailUnknown: 4})
		theirs, err := b.db.ListAlertEmails(b.ctx, b.b.ID)
		must(t, err)
		if len(theirs) != 1 || theirs[0].Status != store.AlertEmailQueued {
			t.Fatalf("B's emails %+v, want its one untouched", theirs)
		}
	})
}

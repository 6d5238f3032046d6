package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

func TestIdempotencyKeys(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			ctx := t.Context()
			var tenants [2]string
			for i := range tenants {
				tn := &engine.Tenant{Name: "T", Timezone: "UTC", Mode: engine.ModeEngine}
				if err := db.CreateTenant(ctx, tn, nil); err != nil {
					t.Fatal(err)
				}
				tenants[i] = tn.ID
			}
			req := engine.IdempotentRequest{Method: "POST", Path: "/v1/leads", RequestHash: "h1"}
			prev, held0, err := db.ReserveIdempotencyKey(ctx, tenants[0], "k", req, 0)
			if err != nil || prev != nil {
				t.Fatalf("first reserve: %v %v", prev, err)
			}
			// While in progress, the key answers with the reservation.
			prev, _, err = db.ReserveIdempotencyKey(ctx, tenants[0], "k", req, 0)
			if err != nil || prev == nil || prev.StatusCode != 0 {
				t.Fatalf("second reserve: %+v %v", prev, err)
			}
			// The same key in another tenant is another key.
			prev, held1, err := db.ReserveIdempotencyKey(ctx, tenants[1], "k", req, 0)
			if err != nil || prev != nil {
				t.Fatalf("other tenant: %v %v", prev, err)
			}
			if err := db.CompleteIdempotencyKey(ctx, tenants[0], "k", held0, 201, []byte(`{"id":"x"}`)); err != nil {
				t.Fatal(err)
			}
			// An answered key is answered once.
			if err := db.CompleteIdempotencyKey(ctx, tenants[0], "k", held0, 200, []byte(`{"id":"y"}`)); engine.ErrorCode(err) != engine.ECONFLICT {
				t.Fatalf("completing an answered key: %v, want a conflict", err)
			}
			prev, _, err = db.ReserveIdempotencyKey(ctx, tenants[0], "k", req, 0)
			if err != nil || prev.StatusCode != 201 || prev.RequestHash != "h1" || !bytes.Contains(prev.Response, []byte(`"x"`)) {
				t.Fatalf("after complete: %+v %v", prev, err)
			}
			// A released reservation can be taken again; a completed one stays.
			if err := db.ReleaseIdempotencyKey(ctx, tenants[1], "k", held1); err != nil {
				t.Fatal(err)
			}
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tenants[1], "k", req, 0); err != nil || prev != nil {
				t.Fatalf("after release: %v %v", prev, err)
			}
			if err := db.ReleaseIdempotencyKey(ctx, tenants[0], "k", held0); err != nil {
				t.Fatal(err)
			}
			if prev, _, _ := db.ReserveIdempotencyKey(ctx, tenants[0], "k", req, 0); prev == nil || prev.StatusCode != 201 {
				t.Fatalf("release removed a completed key: %+v", prev)
			}
			if n, err := db.PurgeIdempotencyKeys(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
				t.Fatalf("purge: %d %v", n, err)
			}
		})
	}
}

// TestIdempotencyKeyLease: a request that reserved a key and died never
// completes nor releases it; once its lease has run out, a retry with the key
// takes the reservation over instead of answering 409 until the purge. The
// old holder, should it still be alive, can then neither answer nor release:
// its transaction rolls back, so the resource is written once.
func TestIdempotencyKeyLease(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			db.Now = func() time.Time { return now }
			ctx := t.Context()
			tn := &engine.Tenant{Name: "T", Timezone: "UTC", Mode: engine.ModeEngine}
			if err := db.CreateTenant(ctx, tn, nil); err != nil {
				t.Fatal(err)
			}
			const lease = 5 * time.Second
			req := engine.IdempotentRequest{Method: "POST", Path: "/v1/quotes", RequestHash: "h1"}
			// The holder reserves and dies: no complete, no release.
			prev, first, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease)
			if err != nil || prev != nil {
				t.Fatalf("first reserve: %v %v", prev, err)
			}
			now = now.Add(lease - time.Second)
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease); err != nil || prev == nil || prev.StatusCode != 0 {
				t.Fatalf("within the lease the key is in progress: %+v %v", prev, err)
			}
			// Another body with the key is still refused after the lease.
			now = now.Add(2 * time.Second)
			other := req
			other.RequestHash = "h2"
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", other, lease); err != nil || prev == nil || prev.RequestHash != "h1" {
				t.Fatalf("another body took the key over: %+v %v", prev, err)
			}
			// The retry takes the key over, and holds it for a new lease.
			prev, second, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease)
			if err != nil || prev != nil {
				t.Fatalf("retry after the lease: %+v %v", prev, err)
			}
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease); err != nil || prev == nil || prev.StatusCode != 0 {
				t.Fatalf("the taken-over key is in progress again: %+v %v", prev, err)
			}
			// The first holder, alive after all, lost the key: its answer,
			// written in its create's transaction, fails that transaction,
			// and its release leaves the new holder's reservation alone.
			err = db.Tx(ctx, func(tx *store.Tx) error {
				q := &engine.Lead{TenantID: tn.ID, FirstName: "Lapsed", Email: "a@example.com"}
				if err := tx.CreateLead(ctx, q); err != nil {
					return err
				}
				return tx.CompleteIdempotencyKey(ctx, tn.ID, "k", first, 201, []byte(`{"id":"old"}`))
			})
			if engine.ErrorCode(err) != engine.ECONFLICT {
				t.Fatalf("the lapsed holder's answer: %v, want a conflict", err)
			}
			if leads, _, err := db.ListLeads(ctx, tn.ID, engine.Page{}); err != nil || len(leads) != 0 {
				t.Fatalf("the lapsed holder's create was kept: %d leads, %v", len(leads), err)
			}
			if err := db.ReleaseIdempotencyKey(ctx, tn.ID, "k", first); err != nil {
				t.Fatal(err)
			}
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease); err != nil || prev == nil || prev.StatusCode != 0 {
				t.Fatalf("the lapsed holder's release freed the key: %+v %v", prev, err)
			}
			if err := db.CompleteIdempotencyKey(ctx, tn.ID, "k", second, 201, []byte(`{"id":"x"}`)); err != nil {
				t.Fatal(err)
			}
			// A completed key is never taken over: it replays.
			now = now.Add(time.Hour)
			if prev, _, err := db.ReserveIdempotencyKey(ctx, tn.ID, "k", req, lease); err != nil || prev == nil || prev.StatusCode != 201 || !bytes.Contains(prev.Response, []byte(`"x"`)) {
				t.Fatalf("completed key after an hour: %+v %v", prev, err)
			}
		})
	}
}

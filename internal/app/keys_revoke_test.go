package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// Two admin keys of a tenant revoking each other at the same moment must
// leave the tenant one of them: the count of admin keys and the revocation
// are one transaction. Issue 12, defect 2: 5 of 10 tenants were left with
// none.
func TestConcurrentCrossRevocationKeepsAnAdminKey(t *testing.T) {
	const tenants = 20
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			a := New(db, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			type pair struct{ tenant, k1, k2 string }
			pairs := make([]pair, tenants)
			for i := range pairs {
				k1, _, err := a.CreateTenant(ctx, &engine.Tenant{Name: "Acme"})
				if err != nil {
					t.Fatal(err)
				}
				k2, _, err := a.CreateAPIKey(ctx, k1.TenantID, engine.RoleAdmin)
				if err != nil {
					t.Fatal(err)
				}
				pairs[i] = pair{k1.TenantID, k1.ID, k2.ID}
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make([][2]error, tenants)
			for i, p := range pairs {
				// Key 1 revokes key 2 while key 2 revokes key 1.
				for j, target := range []string{p.k2, p.k1} {
					wg.Go(func() {
						<-start
						errs[i][j] = a.DeleteAPIKey(ctx, p.tenant, target)
					})
				}
			}
			close(start)
			wg.Wait()
			for i, p := range pairs {
				keys, err := db.ListAPIKeys(ctx, p.tenant)
				if err != nil {
					t.Fatal(err)
				}
				admins := 0
				for _, k := range keys {
					if k.Role == engine.RoleAdmin {
						admins++
					}
				}
				if admins != 1 {
					t.Errorf("tenant %d: %d admin keys after a cross-revocation, want 1 (errors %v)", i, admins, errs[i])
					continue
				}
				refused := 0
				for j, target := range []string{p.k2, p.k1} {
					err := errs[i][j]
					if err == nil {
						continue
					}
					refused++
					var e *engine.Error
					if engine.ErrorCode(err) != engine.ECONFLICT || !errors.As(err, &e) ||
						len(e.Fields) != 1 || e.Fields[0].Field != "path.key_id" || e.Fields[0].Value != target {
						t.Errorf("tenant %d: refused revocation of %s: %#v, want ECONFLICT naming path.key_id %s", i, target, err, target)
					}
				}
				if refused != 1 {
					t.Errorf("tenant %d: %d revocations refused, want 1", i, refused)
				}
			}
		})
	}
}

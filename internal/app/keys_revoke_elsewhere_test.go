package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// revocationBound is what the service promises: a key revoked through any
// process is refused by every process within a second (issue 12, defect 3).
const revocationBound = time.Second

// Two Apps on one database stand for two processes: a key revoked through
// one is refused by the other within revocationBound, however busy the key
// was in the other's cache.
func TestRevokedKeyIsRefusedByAnotherAppWithinASecond(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			one, other := New(db, nil, Config{}, log), New(db, nil, Config{}, log)
			one.Now, other.Now = clock.Now, clock.Now
			admin, _, err := one.CreateTenant(ctx, &engine.Tenant{Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			key, secret, err := one.CreateAPIKey(ctx, admin.TenantID, engine.RoleApp)
			if err != nil {
				t.Fatal(err)
			}
			// The other App verified the key a moment ago and uses it on
			// every request since.
			if _, err := other.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			clock.Add(revocationBound / 2)
			if _, err := other.Authenticate(ctx, secret); err != nil {
				t.Fatal(err)
			}
			if err := one.DeleteAPIKey(ctx, admin.TenantID, key.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := one.Authenticate(ctx, secret); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
				t.Fatalf("the revoking App: %v, want EUNAUTHORIZED at once", err)
			}
			// Within the bound of the revocation, wherever the other's
			// cache entry came from.
			clock.Add(revocationBound)
			if p, err := other.Authenticate(ctx, secret); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
				t.Fatalf("the other App %v after the revocation: %+v, %v; want EUNAUTHORIZED", revocationBound, p, err)
			}
		})
	}
}

package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// fakeClock is a clock that tests move by hand. Handlers read it from other
// goroutines, hence the lock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// keyEnv is an App over a fresh database, on a fake clock, with one tenant
// whose admin key is admin.
type keyEnv struct {
	t      *testing.T
	ctx    context.Context
	app    *App
	db     *store.DB
	clock  *fakeClock
	tenant string
	admin  string
}

func forEachKeyEnv(t *testing.T, fn func(t *testing.T, e *keyEnv)) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, d)
			a := New(db, nil, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			clock := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
			a.Now = clock.Now
			key, secret, err := a.CreateTenant(ctx, &engine.Tenant{Name: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			fn(t, &keyEnv{t: t, ctx: ctx, app: a, db: db, clock: clock, tenant: key.TenantID, admin: secret})
		})
	}
}

// newKey creates an app key for the tenant and returns its id and secret.
func (e *keyEnv) newKey() (string, string) {
	e.t.Helper()
	k, secret, err := e.app.CreateAPIKey(e.ctx, e.tenant, engine.RoleApp)
	if err != nil {
		e.t.Fatal(err)
	}
	return k.ID, secret
}

func (e *keyEnv) allowed(token string) Principal {
	e.t.Helper()
	p, err := e.app.Authenticate(e.ctx, token)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return p
}

func (e *keyEnv) denied(token, why string) {
	e.t.Helper()
	p, err := e.app.Authenticate(e.ctx, token)
	if engine.ErrorCode(err) != engine.EUNAUTHORIZED {
		e.t.Fatalf("%s: got %+v, %v; want EUNAUTHORIZED", why, p, err)
	}
}

func (e *keyEnv) cached() int { return e.app.keys.entries.Len() }

// wrongSecret keeps token's id and replaces its secret.
func wrongSecret(token string) string {
	i := strings.LastIndex(token, "_")
	return token[:i+1] + "not-the-secret"
}

func TestAuthenticateCachesVerifiedKeys(t *testing.T) {
	forEachKeyEnv(t, func(t *testing.T, e *keyEnv) {
		id, secret := e.newKey()
		p := e.allowed(secret)
		if p.TenantID != e.tenant || p.KeyID != id || p.Role != engine.RoleApp {
			t.Fatalf("principal %+v, want tenant %s key %s role app", p, e.tenant, id)
		}
		if n := e.cached(); n != 1 {
			t.Fatalf("%d cached keys, want 1", n)
		}
		if p2 := e.allowed(secret); p2 != p {
			t.Fatalf("from the cache %+v, from the store %+v", p2, p)
		}
		e.denied(wrongSecret(secret), "wrong secret of a cached key")
		e.denied(secret+"x", "secret with a suffix")
		if n := e.cached(); n != 1 {
			t.Fatalf("%d cached keys after wrong secrets, want 1", n)
		}
	})
}

func TestAuthenticateDeniesAtOnceAfterDeleteAPIKey(t *testing.T) {
	forEachKeyEnv(t, func(t *testing.T, e *keyEnv) {
		id, secret := e.newKey()
		e.allowed(secret)
		if err := e.app.DeleteAPIKey(e.ctx, e.tenant, id); err != nil {
			t.Fatal(err)
		}
		e.denied(secret, "key revoked in this process")
		// A refused revocation leaves the key working.
		admins, err := e.db.ListAPIKeys(e.ctx, e.tenant)
		if err != nil {
			t.Fatal(err)
		}
		e.allowed(e.admin)
		if err := e.app.DeleteAPIKey(e.ctx, e.tenant, admins[0].ID); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("revoking the last admin key: %v, want ECONFLICT", err)
		}
		e.allowed(e.admin)
	})
}

func TestAuthenticateTrustsCacheForTTLAfterRevokeElsewhere(t *testing.T) {
	forEachKeyEnv(t, func(t *testing.T, e *keyEnv) {
		id, secret := e.newKey()
		e.allowed(secret)
		// Another process revokes the key: only the database knows.
		if err := e.db.DeleteAPIKey(e.ctx, e.tenant, id); err != nil {
			t.Fatal(err)
		}
		e.allowed(secret)
		e.denied(wrongSecret(secret), "wrong secret of a key revoked elsewhere")
		e.clock.Add(keyTTL - time.Nanosecond)
		e.allowed(secret)
		e.clock.Add(time.Nanosecond)
		e.denied(secret, "key revoked elsewhere, keyTTL later")

		// A clock that goes back does not stretch an entry's life.
		id, secret = e.newKey()
		e.allowed(secret)
		if err := e.db.DeleteAPIKey(e.ctx, e.tenant, id); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(-time.Nanosecond)
		e.denied(secret, "key revoked elsewhere, clock moved back")
	})
}

func TestAuthenticateDoesNotCacheUnknownKeys(t *testing.T) {
	forEachKeyEnv(t, func(t *testing.T, e *keyEnv) {
		for range 20 {
			e.denied(keyPrefix+strings.ReplaceAll(uuid.NewString(), "-", "")+"_secret", "unknown id")
		}
		if n := e.cached(); n != 0 {
			t.Fatalf("%d cached keys after unknown ids, want 0", n)
		}
		// A key denied because it did not exist yet works once it does.
		key, secret, err := NewAPIKey(e.tenant, engine.RoleApp)
		if err != nil {
			t.Fatal(err)
		}
		e.denied(secret, "key not stored yet")
		if err := e.db.CreateAPIKey(e.ctx, key); err != nil {
			t.Fatal(err)
		}
		e.allowed(secret)
	})
}

func TestAuthenticateConcurrently(t *testing.T) {
	forEachKeyEnv(t, func(t *testing.T, e *keyEnv) {
		ids, secrets := make([]string, 4), make([]string, 4)
		for i := range ids {
			ids[i], secrets[i] = e.newKey()
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 16 {
			wg.Go(func() {
				for i := range 20 {
					s := secrets[(g+i)%len(secrets)]
					if _, err := e.app.Authenticate(e.ctx, s); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() { e.clock.Add(time.Second) })
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// Revocations racing with lookups still leave the revoked keys
		// denied.
		for i := range ids[:2] {
			wg.Go(func() {
				if err := e.app.DeleteAPIKey(e.ctx, e.tenant, ids[i]); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() { _, _ = e.app.Authenticate(e.ctx, secrets[i]) })
		}
		wg.Wait()
		e.denied(secrets[0], "revoked concurrently")
		e.denied(secrets[1], "revoked concurrently")
		e.allowed(secrets[2])
	})
}

func TestKeyCacheIsBounded(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	entry := func(at time.Time) keyEntry { return keyEntry{id: "k", loaded: at} }
	fill := func(c *keyCache, n int, at time.Time) []uuid.UUID {
		ids := make([]uuid.UUID, n)
		for i := range ids {
			ids[i] = uuid.New()
			c.put(ids[i], entry(at), c.generation())
		}
		return ids
	}

	t.Run("live entries", func(t *testing.T) {
		c := newKeyCache(defaultKeyCacheSize)
		ids := fill(c, defaultKeyCacheSize+100, t0)
		if n := c.entries.Len(); n != defaultKeyCacheSize {
			t.Fatalf("%d entries, want the bound %d", n, defaultKeyCacheSize)
		}
		// The newest entry is never the one evicted to make room for it.
		if _, ok := c.get(ids[len(ids)-1], t0); !ok {
			t.Fatal("the entry just put is missing")
		}
	})

	t.Run("expired entries go first", func(t *testing.T) {
		c := newKeyCache(defaultKeyCacheSize)
		fill(c, defaultKeyCacheSize, t0)
		later := t0.Add(keyTTL)
		fill(c, 1, later)
		if n := c.entries.Len(); n != 1 {
			t.Fatalf("%d entries, want 1: the expired ones cleared", n)
		}
	})

	t.Run("refreshing a cached key evicts nothing", func(t *testing.T) {
		c := newKeyCache(defaultKeyCacheSize)
		ids := fill(c, defaultKeyCacheSize, t0)
		// Within keyTTL of the fill, so that every entry is still live.
		c.put(ids[0], entry(t0.Add(keyTTL/2)), c.generation())
		for _, id := range ids {
			if _, ok := c.get(id, t0.Add(keyTTL/2)); !ok {
				t.Fatalf("entry %s evicted by a refresh", id)
			}
		}
	})
}

func TestKeyCacheIgnoresReadsThatRacedADrop(t *testing.T) {
	c := newKeyCache(defaultKeyCacheSize)
	id := uuid.New()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	// A lookup starts, a revocation drops the key, the lookup finishes with
	// the row as it was before the revocation.
	gen := c.generation()
	c.drop(id.String())
	c.put(id, keyEntry{id: id.String(), loaded: now}, gen)
	if _, ok := c.get(id, now); ok {
		t.Fatal("a read that began before a drop was cached")
	}
	c.put(id, keyEntry{id: id.String(), loaded: now}, c.generation())
	if _, ok := c.get(id, now); !ok {
		t.Fatal("a read after the drop was not cached")
	}
}

func TestKeyCachesArePerApp(t *testing.T) {
	a, b := New(nil, nil, Config{}, nil), New(nil, nil, Config{}, nil)
	id, now := uuid.New(), time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a.keys.put(id, keyEntry{id: id.String(), loaded: now}, a.keys.generation())
	if _, ok := a.keys.get(id, now); !ok {
		t.Fatal("one App does not find the key it cached")
	}
	if _, ok := b.keys.get(id, now); ok {
		t.Fatal("two Apps share a cache: one finds the key the other cached")
	}
	// A revocation in one App does not stop the other caching its reads.
	gen := b.keys.generation()
	a.keys.drop(id.String())
	b.keys.put(id, keyEntry{id: id.String(), loaded: now}, gen)
	if _, ok := b.keys.get(id, now); !ok {
		t.Fatal("a drop in one App discarded a read of the other")
	}
}

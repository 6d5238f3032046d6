package store

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// DefaultTenantCache is how many tenants' rows (channel secrets opened) a
// DB keeps for the reads of a quote action and a step, when OpenOptions
// does not say: some 2 KB each.
const DefaultTenantCache = 10_000

// tenantCache holds the tenant rows that quote actions and steps read, as
// of their config_version. It saves no statement: the read that would
// have fetched the row still goes, in the same batch, but asks only for a
// row whose config_version differs from the cached one, so a tenant that
// has not changed costs an index probe and no row to send, decode or
// decrypt. That makes it right across processes, with no invalidation to
// miss: every write of the columns in tenantColumns moves config_version
// (UpdateTenant, bumpConfig), except secret rotation, which reseals the
// same plaintexts the cache holds.
type tenantCache struct {
	lru *lru.Cache[string, *engine.Tenant]
	max int
}

func newTenantCache(size int) *tenantCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultTenantCache
	}
	c, err := lru.New[string, *engine.Tenant](size)
	if err != nil {
		panic(err) // only a size of 0 or less fails, which is handled above
	}
	return &tenantCache{lru: c, max: size}
}

// TenantCacheUse returns how many tenant rows db holds and the most it
// may hold (OpenOptions.TenantCache); 0 and 0 when it caches none.
func (db *DB) TenantCacheUse() (n, max int) {
	if db.tenants == nil {
		return 0, 0
	}
	return db.tenants.lru.Len(), db.tenants.max
}

// tenantRead is one batched read of a tenant through the cache: stmt goes
// in the batch, result turns its answer into the tenant.
type tenantRead struct {
	db      *DB
	id      string
	cached  *engine.Tenant
	fetched *engine.Tenant
}

// readTenant returns the read of tenant id for a batch.
func (tx *Tx) readTenant(id string) *tenantRead {
	r := &tenantRead{db: tx.db, id: id}
	if c := tx.db.tenants; c != nil {
		r.cached, _ = c.lru.Get(id)
	}
	return r
}

func (r *tenantRead) stmt() stmt {
	s := stmt{what: "get tenant", row: func(s scanner) (err error) { r.fetched, err = scanTenant(s); return err }}
	if r.cached == nil {
		s.query, s.args = `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, []any{r.id}
		return s
	}
	s.query = `SELECT ` + tenantColumns + ` FROM tenants WHERE id = ? AND config_version <> ?`
	s.args = []any{r.id, r.cached.ConfigVersion}
	return s
}

// result is the tenant the batch read, its secrets opened, or nil if
// there is none. A cached row the read did not replace stands for the
// row: the caller's other reads in the batch (a quote, a run, whose
// foreign keys name the tenant) tell whether it still exists. The
// returned Tenant is the caller's to change, but not the values its
// pointers and slices share with the cache.
func (r *tenantRead) result() (*engine.Tenant, error) {
	if r.fetched == nil {
		if r.cached == nil {
			return nil, nil
		}
		t := *r.cached
		return &t, nil
	}
	if err := r.db.openChannels(r.fetched.ID, &r.fetched.Channels); err != nil {
		return nil, err
	}
	if c := r.db.tenants; c != nil {
		// A transaction's snapshot may be older than what another one
		// cached: keep the newest. Two such additions may race; the loser
		// leaves an older row cached, which the next read replaces.
		if cur, ok := c.lru.Peek(r.id); !ok || r.fetched.ConfigVersion > cur.ConfigVersion {
			c.lru.Add(r.id, r.fetched)
		}
		t := *r.fetched
		return &t, nil
	}
	return r.fetched, nil
}

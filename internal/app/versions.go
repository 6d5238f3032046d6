package app

import (
	"context"
	"strconv"
	"sync"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// versionCacheSize bounds the workflow versions kept in memory. A version
// is a few kilobytes; running runs pin few distinct versions per tenant.
const versionCacheSize = 4096

// versionCache keeps workflow versions that runs have pinned. A version
// never changes once saved, so an entry is never stale; it saves every step
// and every exit_on check two queries. Only versions named by a committed
// run or decision are asked for, so a version read here cannot belong to a
// transaction that later rolls back.
type versionCache struct {
	mu sync.Mutex
	m  map[string]*engine.Workflow
}

// workflowVersion returns the tenant's workflow id at version, from the
// cache or from tx. The workflow returned is shared: callers must not
// change it.
func (a *App) workflowVersion(ctx context.Context, tx *store.Tx, tenantID, id string, version int64) (*engine.Workflow, error) {
	key := tenantID + "/" + id + "/" + strconv.FormatInt(version, 10)
	c := &a.versions
	c.mu.Lock()
	wf, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return wf, nil
	}
	wf, err := tx.GetWorkflowVersion(ctx, tenantID, id, version)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= versionCacheSize {
		// Dropping everything is crude but cheap, and refilling costs one
		// query per version in use.
		c.m = make(map[string]*engine.Workflow)
	}
	c.m[key] = wf
	c.mu.Unlock()
	return wf, nil
}

package app

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// versionKey names one version of a workflow in the version cache. A
// version never changes once saved, so an entry is never stale; the cache
// saves every step and every exit_on check two queries. Only versions named
// by a committed run or decision are asked for, so a version read here
// cannot belong to a transaction that later rolls back.
type versionKey struct {
	tenantID, workflowID string
	version              int64
}

// workflowVersion returns the tenant's workflow id at version, from the
// cache or from tx. The workflow returned is shared: callers must not
// change it.
func (a *App) workflowVersion(ctx context.Context, tx *store.Tx, tenantID, id string, version int64) (*engine.Workflow, error) {
	key := versionKey{tenantID, id, version}
	if wf, ok := a.versions.Get(key); ok {
		return wf, nil
	}
	wf, err := tx.GetWorkflowVersion(ctx, tenantID, id, version)
	if err != nil {
		return nil, err
	}
	a.versions.Add(key, wf, versionWeight(wf))
	return wf, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const overrideColumns = `id, tenant_id, lead_id, trigger, action, workflow_id, expires_at, reason, created_at`

func scanOverride(s scanner) (engine.Override, error) {
	var o engine.Override
	var workflowID sql.NullString
	var expires sql.NullInt64
	var created int64
	if err := s.Scan(&o.ID, &o.TenantID, &o.LeadID, &o.Trigger, &o.Action, &workflowID, &expires, &o.Reason, &created); err != nil {
		return o, err
	}
	o.WorkflowID, o.ExpiresAt, o.CreatedAt = workflowID.String, timePtr(expires), fromMicros(created)
	return o, nil
}

// CreateOverride stores o and fills in its ID and CreatedAt. The lead must
// exist (ENOTFOUND: it is in the URL); a WorkflowID, if set, must name a
// workflow of the tenant that is not deleted (EINVALID on body.workflow_id);
// a lead has one override per trigger (ECONFLICT on body.trigger).
func (db *DB) CreateOverride(ctx context.Context, o *engine.Override) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateOverride(ctx, o) })
}

// CreateOverride is DB.CreateOverride in tx.
func (tx *Tx) CreateOverride(ctx context.Context, o *engine.Override) error {
	if err := tx.bumpConfig(ctx, o.TenantID); err != nil {
		return err
	}
	if err := tx.checkLead(ctx, o.TenantID, o.LeadID); err != nil {
		return err
	}
	if o.WorkflowID != "" {
		if err := tx.checkWorkflow(ctx, o.TenantID, o.WorkflowID, engine.Invalid("body.workflow_id", "no such workflow")); err != nil {
			return err
		}
	}
	id, err := newID()
	if err != nil {
		return err
	}
	expires := normTime(o.ExpiresAt)
	_, err = tx.exec(ctx, `INSERT INTO lead_overrides (`+overrideColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, o.TenantID, o.LeadID, o.Trigger, string(o.Action), nullString(o.WorkflowID), nullMicros(expires), o.Reason, micros(tx.now))
	if err != nil {
		return translate(err, "create override", onViolation{
			unique:  conflict("body.trigger", "the lead already has an override for %s", o.Trigger),
			foreign: engine.Invalid("body.workflow_id", "no such workflow"),
		})
	}
	o.ID, o.ExpiresAt, o.CreatedAt = id, expires, tx.now
	return nil
}

// checkLead returns ENOTFOUND unless the tenant has the lead.
func (tx *Tx) checkLead(ctx context.Context, tenantID, leadID string) error {
	ok, err := tx.exists(ctx, `SELECT 1 FROM leads WHERE tenant_id = ? AND id = ?`, tenantID, leadID)
	if err != nil {
		return translate(err, "check lead", onViolation{})
	}
	if !ok {
		return notFound("lead")
	}
	return nil
}

// GetOverride returns the tenant's override with id.
func (db *DB) GetOverride(ctx context.Context, tenantID, id string) (*engine.Override, error) {
	return db.auto().GetOverride(ctx, tenantID, id)
}

// GetOverride is DB.GetOverride in tx.
func (tx *Tx) GetOverride(ctx context.Context, tenantID, id string) (*engine.Override, error) {
	o, err := scanOverride(tx.queryRow(ctx, `SELECT `+overrideColumns+` FROM lead_overrides WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("override")
	}
	if err != nil {
		return nil, translate(err, "get override", onViolation{})
	}
	return &o, nil
}

// ListOverrides returns the lead's overrides, expired ones included, oldest
// first. An unknown lead is ENOTFOUND, not an empty list.
func (db *DB) ListOverrides(ctx context.Context, tenantID, leadID string) ([]engine.Override, error) {
	var os []engine.Override
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		os, err = tx.ListOverrides(ctx, tenantID, leadID)
		return err
	})
	return os, err
}

// ListOverrides is DB.ListOverrides in tx.
func (tx *Tx) ListOverrides(ctx context.Context, tenantID, leadID string) ([]engine.Override, error) {
	if err := tx.checkLead(ctx, tenantID, leadID); err != nil {
		return nil, err
	}
	os, err := collect(ctx, tx, scanOverride, `SELECT `+overrideColumns+` FROM lead_overrides
		WHERE tenant_id = ? AND lead_id = ? ORDER BY created_at, id`, tenantID, leadID)
	return os, translate(err, "list overrides", onViolation{})
}

// ListAllOverrides returns every override of the tenant, by lead and then
// age, for the coverage check.
func (db *DB) ListAllOverrides(ctx context.Context, tenantID string) ([]engine.Override, error) {
	return db.auto().ListAllOverrides(ctx, tenantID)
}

// ListAllOverrides is DB.ListAllOverrides in tx.
func (tx *Tx) ListAllOverrides(ctx context.Context, tenantID string) ([]engine.Override, error) {
	os, err := collect(ctx, tx, scanOverride, `SELECT `+overrideColumns+` FROM lead_overrides
		WHERE tenant_id = ? ORDER BY lead_id, created_at, id`, tenantID)
	return os, translate(err, "list overrides", onViolation{})
}

// DeleteOverride deletes the lead's override with id.
func (db *DB) DeleteOverride(ctx context.Context, tenantID, leadID, id string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DeleteOverride(ctx, tenantID, leadID, id) })
}

// DeleteOverride is DB.DeleteOverride in tx.
func (tx *Tx) DeleteOverride(ctx context.Context, tenantID, leadID, id string) error {
	if err := tx.bumpConfig(ctx, tenantID); err != nil {
		return err
	}
	err := tx.execOne(ctx, notFound("override"),
		`DELETE FROM lead_overrides WHERE tenant_id = ? AND lead_id = ? AND id = ?`, tenantID, leadID, id)
	return translate(err, "delete override", onViolation{})
}

package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const circuitColumns = `tenant_id, provider, reason, error_code, opened_at, until`

func scanCircuit(s scanner) (engine.Circuit, error) {
	var c engine.Circuit
	var opened, until int64
	if err := s.Scan(&c.TenantID, &c.Provider, &c.Reason, &c.ErrorCode, &opened, &until); err != nil {
		return c, err
	}
	c.OpenedAt, c.Until = fromMicros(opened), fromMicros(until)
	return c, nil
}

// OpenCircuit opens the circuit of c's tenant and provider, or, when it is
// open already, replaces its reason, error code and times with c's. A zero
// OpenedAt is the transaction's clock. The store only records circuits:
// whether one whose Until has passed lets a probe through is the caller's
// policy.
func (tx *Tx) OpenCircuit(ctx context.Context, c *engine.Circuit) error {
	opened := normZero(c.OpenedAt)
	if opened.IsZero() {
		opened = tx.now
	}
	until := normZero(c.Until)
	_, err := tx.exec(ctx, `INSERT INTO circuits (`+circuitColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET reason = excluded.reason, error_code = excluded.error_code,
		opened_at = excluded.opened_at, until = excluded.until`,
		c.TenantID, c.Provider, c.Reason, c.ErrorCode, micros(opened), micros(until))
	if err != nil {
		return translate(err, "open circuit", onViolation{foreign: notFound("tenant")})
	}
	c.OpenedAt, c.Until = opened, until
	return nil
}

// GetCircuit returns the open circuit of the tenant's provider; ENOTFOUND
// when it is closed.
func (db *DB) GetCircuit(ctx context.Context, tenantID, provider string) (*engine.Circuit, error) {
	return db.auto().GetCircuit(ctx, tenantID, provider)
}

// GetCircuit is DB.GetCircuit in tx.
func (tx *Tx) GetCircuit(ctx context.Context, tenantID, provider string) (*engine.Circuit, error) {
	c, err := scanCircuit(tx.queryRow(ctx, `SELECT `+circuitColumns+` FROM circuits WHERE tenant_id = ? AND provider = ?`,
		tenantID, provider))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("circuit")
	}
	if err != nil {
		return nil, translate(err, "get circuit", onViolation{})
	}
	return &c, nil
}

// CloseCircuit closes the circuit of the tenant's provider. Closing a
// closed circuit does nothing.
func (db *DB) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CloseCircuit(ctx, tenantID, provider) })
}

// CloseCircuit is DB.CloseCircuit in tx.
func (tx *Tx) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	_, err := tx.exec(ctx, `DELETE FROM circuits WHERE tenant_id = ? AND provider = ?`, tenantID, provider)
	return translate(err, "close circuit", onViolation{})
}

// ListCircuits returns the tenant's open circuits by provider.
func (db *DB) ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error) {
	return db.auto().ListCircuits(ctx, tenantID)
}

// ListCircuits is DB.ListCircuits in tx.
func (tx *Tx) ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error) {
	cs, err := collect(ctx, tx, scanCircuit, `SELECT `+circuitColumns+` FROM circuits WHERE tenant_id = ? ORDER BY provider`, tenantID)
	return cs, translate(err, "list circuits", onViolation{})
}

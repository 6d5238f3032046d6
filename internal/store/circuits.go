package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// A circuit is a row of circuits per tenant and provider. It is open (or
// half-open, once its until has passed) while closed_at is NULL; closing it
// sets closed_at and keeps the row, so that the transient threshold can
// count failures since the last close (ProviderFailures). Every read of
// open circuits filters on closed_at IS NULL.

const circuitColumns = `tenant_id, provider, reason, error_code, opened_at, until, cause, opens, probe_message_id, probe_until`

// openCircuits is the condition of the circuits that are not closed.
const openCircuits = `closed_at IS NULL`

func scanCircuit(s scanner) (engine.Circuit, error) {
	var c engine.Circuit
	var opened, until int64
	var probe sql.NullString
	var probeUntil sql.NullInt64
	if err := s.Scan(&c.TenantID, &c.Provider, &c.Reason, &c.ErrorCode, &opened, &until, &c.Cause, &c.Opens,
		&probe, &probeUntil); err != nil {
		return c, err
	}
	c.OpenedAt, c.Until = fromMicros(opened), fromMicros(until)
	c.ProbeMessageID, c.ProbeUntil = probe.String, timePtr(probeUntil)
	return c, nil
}

// OpenCircuit opens the circuit of c's tenant and provider, or, when it is
// open already (or was closed), replaces its reason, error code, times,
// cause and opens with c's and forgets any probe. A zero OpenedAt is the
// transaction's clock, an empty Cause is engine.CircuitCauseTenant and a
// zero Opens is 1; c is filled in with what was stored. The store only
// records circuits: whether one whose Until has passed lets a probe through
// is the caller's policy.
func (tx *Tx) OpenCircuit(ctx context.Context, c *engine.Circuit) error {
	opened := normZero(c.OpenedAt)
	if opened.IsZero() {
		opened = tx.now
	}
	until := normZero(c.Until)
	if c.Cause == "" {
		c.Cause = engine.CircuitCauseTenant
	}
	if c.Opens <= 0 {
		c.Opens = 1
	}
	_, err := tx.exec(ctx, `INSERT INTO circuits (`+circuitColumns+`, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)
		ON CONFLICT (tenant_id, provider) DO UPDATE SET reason = excluded.reason, error_code = excluded.error_code,
		opened_at = excluded.opened_at, until = excluded.until, cause = excluded.cause, opens = excluded.opens,
		probe_message_id = NULL, probe_until = NULL, closed_at = NULL`,
		c.TenantID, c.Provider, c.Reason, c.ErrorCode, micros(opened), micros(until), c.Cause, c.Opens)
	if err != nil {
		return translate(err, "open circuit", onViolation{foreign: notFound("tenant")})
	}
	c.OpenedAt, c.Until, c.ProbeMessageID, c.ProbeUntil = opened, until, "", nil
	return nil
}

// GetCircuit returns the open circuit of the tenant's provider; ENOTFOUND
// when it is closed.
func (db *DB) GetCircuit(ctx context.Context, tenantID, provider string) (*engine.Circuit, error) {
	return db.auto().GetCircuit(ctx, tenantID, provider)
}

// GetCircuit is DB.GetCircuit in tx.
func (tx *Tx) GetCircuit(ctx context.Context, tenantID, provider string) (*engine.Circuit, error) {
	c, err := scanCircuit(tx.queryRow(ctx, `SELECT `+circuitColumns+` FROM circuits WHERE tenant_id = ? AND provider = ? AND `+openCircuits,
		tenantID, provider))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("circuit")
	}
	if err != nil {
		return nil, translate(err, "get circuit", onViolation{})
	}
	return &c, nil
}

// ClaimProbe makes messageID the probe of the tenant's half-open circuit
// for provider, leased until leaseUntil, and reports whether it did. It
// does only if the circuit is open, its until has passed, and no other
// probe holds a lease that has not run out: one conditional UPDATE, so
// that of two transactions trying at once (two processes, or two jobs of
// one) exactly one gets the probe. On PostgreSQL the second waits for the
// first's row lock and then finds the probe taken.
func (tx *Tx) ClaimProbe(ctx context.Context, tenantID, provider, messageID string, leaseUntil time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE circuits SET probe_message_id = ?, probe_until = ?
		WHERE tenant_id = ? AND provider = ? AND `+openCircuits+` AND until <= ?
		AND (probe_message_id IS NULL OR probe_message_id = ? OR probe_until IS NULL OR probe_until <= ?)`,
		messageID, micros(leaseUntil), tenantID, provider, micros(tx.now), messageID, micros(tx.now))
	if err != nil {
		return false, translate(err, "claim probe", onViolation{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(err, "claim probe", onViolation{})
	}
	return n == 1, nil
}

// CloseProbedCircuit closes the tenant's circuit for provider if messageID
// is its probe, and reports whether it did. A circuit an admin closed, or
// that was opened afresh since the probe was let through, is left as it is.
func (tx *Tx) CloseProbedCircuit(ctx context.Context, tenantID, provider, messageID string) (bool, error) {
	return tx.ifProbe(ctx, "close probed circuit", `closed_at = ?, probe_message_id = NULL, probe_until = NULL`,
		[]any{micros(tx.now)}, tenantID, provider, messageID)
}

// ReopenProbedCircuit opens the tenant's circuit for c.Provider again, with
// c's reason, error code, until and opens (OpenedAt is the transaction's
// clock), if messageID is its probe, and reports whether it did; the cause
// stays what it was unless c names one.
func (tx *Tx) ReopenProbedCircuit(ctx context.Context, c *engine.Circuit, messageID string) (bool, error) {
	set := `reason = ?, error_code = ?, opened_at = ?, until = ?, opens = ?, probe_message_id = NULL, probe_until = NULL`
	args := []any{c.Reason, c.ErrorCode, micros(tx.now), micros(normZero(c.Until)), c.Opens}
	if c.Cause != "" {
		set += `, cause = ?`
		args = append(args, c.Cause)
	}
	return tx.ifProbe(ctx, "reopen probed circuit", set, args, c.TenantID, c.Provider, messageID)
}

func (tx *Tx) ifProbe(ctx context.Context, op, set string, args []any, tenantID, provider, messageID string) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE circuits SET `+set+` WHERE tenant_id = ? AND provider = ? AND `+openCircuits+` AND probe_message_id = ?`,
		append(args, tenantID, provider, messageID)...)
	if err != nil {
		return false, translate(err, op, onViolation{})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(err, op, onViolation{})
	}
	return n == 1, nil
}

// CloseCircuit closes the circuit of the tenant's provider. Closing a
// closed circuit does nothing.
func (db *DB) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CloseCircuit(ctx, tenantID, provider) })
}

// CloseCircuit is DB.CloseCircuit in tx.
func (tx *Tx) CloseCircuit(ctx context.Context, tenantID, provider string) error {
	_, err := tx.exec(ctx, `UPDATE circuits SET closed_at = ?, probe_message_id = NULL, probe_until = NULL
		WHERE tenant_id = ? AND provider = ? AND `+openCircuits, micros(tx.now), tenantID, provider)
	return translate(err, "close circuit", onViolation{})
}

// ListCircuits returns the tenant's open circuits by provider.
func (db *DB) ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error) {
	return db.auto().ListCircuits(ctx, tenantID)
}

// ListCircuits is DB.ListCircuits in tx.
func (tx *Tx) ListCircuits(ctx context.Context, tenantID string) ([]engine.Circuit, error) {
	cs, err := collect(ctx, tx, scanCircuit, `SELECT `+circuitColumns+` FROM circuits WHERE tenant_id = ? AND `+openCircuits+` ORDER BY provider`, tenantID)
	return cs, translate(err, "list circuits", onViolation{})
}

// ProviderFailures counts the tenant's attempts through provider that
// started at or after since and have finished, and how many of them failed
// transiently: what the transient threshold of a circuit is checked
// against. since is moved up to when the provider's circuit last closed,
// so that failures a probe has already answered for are not counted twice.
func (tx *Tx) ProviderFailures(ctx context.Context, tenantID, provider string, since time.Time) (failures, finished int64, err error) {
	var closed sql.NullInt64
	err = tx.queryRow(ctx, `SELECT closed_at FROM circuits WHERE tenant_id = ? AND provider = ?`, tenantID, provider).Scan(&closed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, translate(err, "count provider failures", onViolation{})
	}
	from := micros(since)
	if closed.Valid && closed.Int64 > from {
		from = closed.Int64
	}
	var f sql.NullInt64
	err = tx.queryRow(ctx, `SELECT SUM(CASE WHEN error_class = 'transient' THEN 1 ELSE 0 END), COUNT(*) FROM message_attempts
		WHERE tenant_id = ? AND started_at >= ? AND provider = ? AND outcome <> ''`, tenantID, from, provider).Scan(&f, &finished)
	if err != nil {
		return 0, 0, translate(err, "count provider failures", onViolation{})
	}
	return f.Int64, finished, nil
}

// ReleaseCircuitWaiters makes up to limit of the tenant's messages that
// wait on provider's circuit (scheduled, reason circuit_open) due now, and
// returns their ids, for the caller to enqueue their deliveries: the
// circuit has just closed, and they need not wait for the time they were
// given while it was open.
func (tx *Tx) ReleaseCircuitWaiters(ctx context.Context, tenantID, provider string, limit int) ([]string, error) {
	ids, err := collect(ctx, tx, scanString, `UPDATE messages SET scheduled_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id IN (SELECT id FROM messages WHERE tenant_id = ? AND status = 'scheduled'
			AND reason = 'circuit_open' AND provider = ? ORDER BY scheduled_at, id LIMIT ?)
		RETURNING id`, micros(tx.now), micros(tx.now), tenantID, tenantID, provider, limit)
	return ids, translate(err, "release circuit waiters", onViolation{})
}

// CircuitStateCounts counts, per provider and state at now (open or
// half-open), the tenants whose circuit is not closed, for the metrics
// endpoint.
func (db *DB) CircuitStateCounts(ctx context.Context, now time.Time) (map[string]map[engine.CircuitState]int64, error) {
	type row struct {
		provider string
		open     bool
		n        int64
	}
	rows, err := collect(ctx, db.auto(), func(s scanner) (row, error) {
		var r row
		var open int64
		err := s.Scan(&r.provider, &open, &r.n)
		r.open = open == 1
		return r, err
	}, `SELECT provider, CASE WHEN until > ? THEN 1 ELSE 0 END, COUNT(*) FROM circuits WHERE `+openCircuits+` GROUP BY 1, 2`, micros(now))
	if err != nil {
		return nil, translate(err, "count circuit states", onViolation{})
	}
	out := map[string]map[engine.CircuitState]int64{}
	for _, r := range rows {
		if out[r.provider] == nil {
			out[r.provider] = map[engine.CircuitState]int64{}
		}
		state := engine.CircuitHalfOpen
		if r.open {
			state = engine.CircuitOpen
		}
		out[r.provider][state] += r.n
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// The migration from legacy settings: stored previews, the record of mode
// changes, and the reads the shadow report makes.

// LockTenantMode locks the tenant's row until the transaction ends and
// returns its mode. The migration's apply and every mode change take this
// lock first, so they are serialised per tenant: a mode change that arrives
// while a migration applies waits for it (on SQLite the single writer
// already orders them).
func (tx *Tx) LockTenantMode(ctx context.Context, tenantID string) (engine.Mode, error) {
	var m engine.Mode
	err := tx.queryRow(ctx, `SELECT mode FROM tenants WHERE id = ?`+tx.forUpdate(), tenantID).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("tenant")
	}
	if err != nil {
		return "", translate(err, "lock tenant", onViolation{})
	}
	return m, nil
}

// InsertModeChange records a change of the tenant's mode and fills in its
// ID and ChangedAt (the transaction's time).
func (tx *Tx) InsertModeChange(ctx context.Context, c *engine.ModeChange) error {
	id, err := newID()
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO tenant_mode_changes (id, tenant_id, from_mode, to_mode, api_key_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, c.TenantID, string(c.From), string(c.To), c.APIKeyID, micros(tx.now))
	if err != nil {
		return translate(err, "insert mode change", onViolation{foreign: notFound("tenant")})
	}
	c.ID, c.ChangedAt = id, tx.now
	return nil
}

func scanModeChange(s scanner) (engine.ModeChange, error) {
	var c engine.ModeChange
	var at int64
	if err := s.Scan(&c.ID, &c.TenantID, &c.From, &c.To, &c.APIKeyID, &at); err != nil {
		return c, err
	}
	c.ChangedAt = fromMicros(at)
	return c, nil
}

// ListModeChanges returns a page of the tenant's mode changes, oldest
// first, and the cursor of the next page.
func (tx *Tx) ListModeChanges(ctx context.Context, tenantID string, p engine.Page) ([]engine.ModeChange, string, error) {
	out, next, err := paginate(p, func(c *engine.ModeChange) string { return c.ID }, func(after string, limit int) ([]engine.ModeChange, error) {
		return collect(ctx, tx, scanModeChange, `SELECT id, tenant_id, from_mode, to_mode, api_key_id, changed_at
			FROM tenant_mode_changes WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`, tenantID, after, limit)
	})
	return out, next, translate(err, "list mode changes", onViolation{})
}

const previewColumns = `id, tenant_id, settings_hash, created_at, applied_at, applied_by, result`

func scanPreview(s scanner) (*engine.MigrationPreview, error) {
	var p engine.MigrationPreview
	var created int64
	var applied sql.NullInt64
	var result []byte
	if err := s.Scan(&p.ID, &p.TenantID, &p.SettingsHash, &created, &applied, &p.AppliedBy, &result); err != nil {
		return nil, err
	}
	var err error
	if p.Result, err = rawJSON(result); err != nil {
		return nil, err
	}
	p.CreatedAt, p.AppliedAt = fromMicros(created), timePtr(applied)
	return &p, nil
}

// SaveMigrationPreview returns the tenant's preview of the legacy settings
// whose hash is settingsHash, storing a new one if there is none yet: the
// same settings always have the same preview id, applied or not.
func (tx *Tx) SaveMigrationPreview(ctx context.Context, tenantID, settingsHash string) (*engine.MigrationPreview, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	// ON CONFLICT DO NOTHING is the same statement in both dialects: two
	// previews of the same settings at once both find one row.
	_, err = tx.exec(ctx, `INSERT INTO migration_previews (id, tenant_id, settings_hash, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, settings_hash) DO NOTHING`, id, tenantID, settingsHash, micros(tx.now))
	if err != nil {
		return nil, translate(err, "save migration preview", onViolation{foreign: notFound("tenant")})
	}
	p, err := scanPreview(tx.queryRow(ctx, `SELECT `+previewColumns+` FROM migration_previews
		WHERE tenant_id = ? AND settings_hash = ?`, tenantID, settingsHash))
	if err != nil {
		return nil, translate(err, "get migration preview", onViolation{})
	}
	return p, nil
}

// GetMigrationPreview returns the tenant's preview with id; another
// tenant's or an unknown id is ENOTFOUND. In a read-write transaction on
// PostgreSQL it locks the row, so that two applies of one preview run one
// after the other.
func (tx *Tx) GetMigrationPreview(ctx context.Context, tenantID, id string) (*engine.MigrationPreview, error) {
	p, err := scanPreview(tx.queryRow(ctx, `SELECT `+previewColumns+` FROM migration_previews
		WHERE tenant_id = ? AND id = ?`+tx.forUpdate(), tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("migration preview")
	}
	if err != nil {
		return nil, translate(err, "get migration preview", onViolation{})
	}
	return p, nil
}

// MarkMigrationApplied records that the preview was applied, by whom, and
// what it created. A preview already applied is ECONFLICT: the caller
// checks AppliedAt under the row lock first.
func (tx *Tx) MarkMigrationApplied(ctx context.Context, tenantID, id, appliedBy string, result []byte) error {
	v, err := rawJSONValue(result, "result")
	if err != nil {
		return err
	}
	err = tx.execOne(ctx, engine.Errorf(engine.ECONFLICT, "the migration preview was already applied"),
		`UPDATE migration_previews SET applied_at = ?, applied_by = ?, result = ?
		WHERE tenant_id = ? AND id = ? AND applied_at IS NULL`, micros(tx.now), appliedBy, v, tenantID, id)
	return translate(err, "mark migration applied", onViolation{})
}

// ListEventMessages returns the tenant's messages of the given events, in
// id order (creation order), for reports that compare what each event
// sent. Events of another tenant contribute nothing.
func (tx *Tx) ListEventMessages(ctx context.Context, tenantID string, eventIDs []string) ([]engine.Message, error) {
	if len(eventIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(eventIDs)+1)
	args = append(args, tenantID)
	for _, id := range eventIDs {
		args = append(args, id)
	}
	out, err := collect(ctx, tx, scanMessage, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = ? AND event_id IN (`+marks(len(eventIDs))+`) ORDER BY id`, args...)
	return out, translate(err, "list event messages", onViolation{})
}

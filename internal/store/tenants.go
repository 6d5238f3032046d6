package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const tenantColumns = `id, name, timezone, mode, quiet_hours, holidays, channels, retention_days, config_version, version, created_at, updated_at,
	consent_keywords, alerts`

func scanTenant(s scanner) (*engine.Tenant, error) {
	var t engine.Tenant
	var quiet, holidays, channels, keywords, alerts []byte
	var created, updated int64
	if err := s.Scan(&t.ID, &t.Name, &t.Timezone, &t.Mode, &quiet, &holidays, &channels, &t.RetentionDays,
		&t.ConfigVersion, &t.Version, &created, &updated, &keywords, &alerts); err != nil {
		return nil, err
	}
	var err error
	if t.ConsentKeywords, err = decodeOptional[engine.ConsentKeywords](keywords); err != nil {
		return nil, err
	}
	if t.Alerts, err = decodeOptional[engine.AlertSettings](alerts); err != nil {
		return nil, err
	}
	if quiet != nil {
		t.QuietHours = &engine.QuietHours{}
		if err := decodeJSON(quiet, t.QuietHours); err != nil {
			return nil, err
		}
	}
	if err := decodeJSON(holidays, &t.Holidays); err != nil {
		return nil, err
	}
	if err := decodeJSON(channels, &t.Channels); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &t, nil
}

// tenantValues encodes the JSON columns of t, whose id is id, with its
// channel secrets sealed.
func (db *DB) tenantValues(id string, t *engine.Tenant) (quiet, holidays, channels any, err error) {
	if quiet, err = jsonPtr(t.QuietHours); err != nil {
		return
	}
	if holidays, err = jsonSlice(t.Holidays); err != nil {
		return
	}
	sealed, err := db.sealChannels(id, t.Channels)
	if err != nil {
		return
	}
	channels, err = jsonValue(sealed, false)
	return
}

// CreateTenant stores t and, if key is not nil, its first API key, in one
// transaction: a tenant without its key is never left behind.
func (db *DB) CreateTenant(ctx context.Context, t *engine.Tenant, key *engine.APIKey) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateTenant(ctx, t, key) })
}

// CreateTenant stores t, and key if not nil. It fills in t's ID, versions
// and times, and key's ID (unless preset), TenantID and CreatedAt. The
// configuration version starts at 1.
func (tx *Tx) CreateTenant(ctx context.Context, t *engine.Tenant, key *engine.APIKey) error {
	id, err := newID()
	if err != nil {
		return err
	}
	quiet, holidays, channels, err := tx.db.tenantValues(id, t)
	if err != nil {
		return err
	}
	if t.RetentionDays == 0 {
		t.RetentionDays = engine.DefaultRetentionDays
	}
	keywords, err := jsonPtr(t.ConsentKeywords)
	if err != nil {
		return err
	}
	alerts, err := jsonPtr(t.Alerts)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?)`,
		id, t.Name, t.Timezone, string(t.Mode), quiet, holidays, channels, t.RetentionDays, micros(tx.now), micros(tx.now), keywords, alerts)
	if err != nil {
		return translate(err, "create tenant", onViolation{})
	}
	if key != nil {
		k := *key
		k.TenantID = id
		if err := tx.CreateAPIKey(ctx, &k); err != nil {
			return err
		}
		*key = k
	}
	t.ID, t.ConfigVersion, t.Version, t.CreatedAt, t.UpdatedAt = id, 1, 1, tx.now, tx.now
	return nil
}

// GetTenant returns the tenant with id.
func (db *DB) GetTenant(ctx context.Context, id string) (*engine.Tenant, error) {
	return db.auto().GetTenant(ctx, id)
}

// GetTenant returns the tenant with id.
func (tx *Tx) GetTenant(ctx context.Context, id string) (*engine.Tenant, error) {
	t, err := scanTenant(tx.queryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tenant")
	}
	if err != nil {
		return nil, translate(err, "get tenant", onViolation{})
	}
	if err := tx.db.openChannels(t.ID, &t.Channels); err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTenant stores t's name, timezone, mode, quiet hours, holidays,
// channels, retention, consent keywords and alert settings. It also moves config_version: the mode is one of the resolver's
// inputs, which are cached under it.
func (db *DB) UpdateTenant(ctx context.Context, t *engine.Tenant, ifVersion int64) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.UpdateTenant(ctx, t, ifVersion) })
}

// UpdateTenant is DB.UpdateTenant in tx.
func (tx *Tx) UpdateTenant(ctx context.Context, t *engine.Tenant, ifVersion int64) error {
	quiet, holidays, channels, err := tx.db.tenantValues(t.ID, t)
	if err != nil {
		return err
	}
	if t.RetentionDays == 0 {
		t.RetentionDays = engine.DefaultRetentionDays
	}
	keywords, err := jsonPtr(t.ConsentKeywords)
	if err != nil {
		return err
	}
	alerts, err := jsonPtr(t.Alerts)
	if err != nil {
		return err
	}
	q := `UPDATE tenants SET name = ?, timezone = ?, mode = ?, quiet_hours = ?, holidays = ?, channels = ?, retention_days = ?,
		consent_keywords = ?, alerts = ?, config_version = config_version + 1, version = version + 1, updated_at = ?
		WHERE id = ?`
	args := []any{t.Name, t.Timezone, string(t.Mode), quiet, holidays, channels, t.RetentionDays, keywords, alerts, micros(tx.now), t.ID}
	if ifVersion != 0 {
		q += ` AND version = ?`
		args = append(args, ifVersion)
	}
	var version, configVersion, created int64
	err = tx.queryRow(ctx, q+` RETURNING version, config_version, created_at`, args...).Scan(&version, &configVersion, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return tx.missOrStale(ctx, "tenant", ifVersion, `SELECT version FROM tenants WHERE id = ?`, t.ID)
	}
	if err != nil {
		return translate(err, "update tenant", onViolation{})
	}
	t.Version, t.ConfigVersion, t.CreatedAt, t.UpdatedAt = version, configVersion, fromMicros(created), tx.now
	return nil
}

// missOrStale explains why a guarded update touched no row: the row does
// not exist (for this tenant), or its version is not ifVersion.
func (tx *Tx) missOrStale(ctx context.Context, what string, ifVersion int64, versionQuery string, args ...any) error {
	var have int64
	err := tx.queryRow(ctx, versionQuery, args...).Scan(&have)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	if err != nil {
		return translate(err, "get "+what+" version", onViolation{})
	}
	return preconditionFailed(what, ifVersion, have)
}

// bumpConfig increments the tenant's config_version, which keys the
// resolver's cache. Configuration writes call it first: on PostgreSQL the
// row lock it takes serialises configuration writes per tenant, so checks
// such as "no rule points at this workflow" cannot race with a new rule.
func (tx *Tx) bumpConfig(ctx context.Context, tenantID string) error {
	err := tx.execOne(ctx, notFound("tenant"),
		`UPDATE tenants SET config_version = config_version + 1 WHERE id = ?`, tenantID)
	return translate(err, "bump config version", onViolation{})
}

const apiKeyColumns = `id, tenant_id, role, secret_hash, created_at, last_used_at`

func scanAPIKey(s scanner) (engine.APIKey, error) {
	var k engine.APIKey
	var created int64
	var lastUsed sql.NullInt64
	if err := s.Scan(&k.ID, &k.TenantID, &k.Role, &k.SecretHash, &created, &lastUsed); err != nil {
		return k, err
	}
	k.CreatedAt, k.LastUsedAt = fromMicros(created), timePtr(lastUsed)
	return k, nil
}

// CreateAPIKey stores k. Its ID may be preset, because the caller embeds it
// in the secret it hands out; otherwise one is generated. CreatedAt is set.
func (db *DB) CreateAPIKey(ctx context.Context, k *engine.APIKey) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateAPIKey(ctx, k) })
}

// CreateAPIKey is DB.CreateAPIKey in tx.
func (tx *Tx) CreateAPIKey(ctx context.Context, k *engine.APIKey) error {
	id := k.ID
	if id == "" {
		var err error
		if id, err = newID(); err != nil {
			return err
		}
	} else if _, ok := parseCanonicalID(id); !ok {
		// PostgreSQL stores ids as uuid (ids.go); one that is not would
		// name no row there.
		return &engine.Error{Code: engine.EINVALID, Message: "invalid api key",
			Fields: []engine.FieldError{{Field: "id", Message: "must be a UUID in canonical form"}}}
	}
	_, err := tx.exec(ctx, `INSERT INTO api_keys (id, tenant_id, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, k.TenantID, string(k.Role), k.SecretHash, micros(tx.now))
	if err != nil {
		return translate(err, "create api key", onViolation{
			unique:  conflict("id", "an API key with this id exists"),
			foreign: notFound("tenant"),
		})
	}
	k.ID, k.CreatedAt, k.LastUsedAt = id, tx.now, nil
	return nil
}

// GetAPIKey returns the unrevoked key with id, whatever its tenant: it is
// how a request is authenticated. A revoked key is ENOTFOUND.
func (db *DB) GetAPIKey(ctx context.Context, id string) (*engine.APIKey, error) {
	k, err := scanAPIKey(db.auto().queryRow(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ? AND revoked_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("api key")
	}
	if err != nil {
		return nil, translate(err, "get api key", onViolation{})
	}
	return &k, nil
}

// TouchAPIKey records that the key was used at at. It is one statement
// outside any transaction, because it runs on every request, and it never
// moves last_used_at backwards. An unknown or revoked key is ENOTFOUND.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	tx := db.auto()
	res, err := tx.exec(ctx, `UPDATE api_keys SET last_used_at = ?
		WHERE id = ? AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < ?)`,
		micros(at), id, micros(at))
	if err != nil {
		return translate(err, "touch api key", onViolation{})
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	ok, err := tx.exists(ctx, `SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL`, id)
	if err != nil {
		return translate(err, "touch api key", onViolation{})
	}
	if !ok {
		return notFound("api key")
	}
	return nil
}

// ListAPIKeys returns the tenant's unrevoked keys, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context, tenantID string) ([]engine.APIKey, error) {
	return db.auto().ListAPIKeys(ctx, tenantID)
}

// ListAPIKeys is DB.ListAPIKeys in tx.
func (tx *Tx) ListAPIKeys(ctx context.Context, tenantID string) ([]engine.APIKey, error) {
	keys, err := collect(ctx, tx, scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE tenant_id = ? AND revoked_at IS NULL ORDER BY id`, tenantID)
	return keys, translate(err, "list api keys", onViolation{})
}

// DeleteAPIKey revokes the key. The row stays, so that the id is never
// reused; a revoked key is ENOTFOUND everywhere. A tenant always keeps an
// admin key: revoking its last one is ECONFLICT naming path.key_id, and
// nothing changes.
func (db *DB) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DeleteAPIKey(ctx, tenantID, id) })
}

// DeleteAPIKey is DB.DeleteAPIKey in tx.
//
// The count of admin keys and the revocation must not race: two admin keys
// revoking each other at once would each see the other and both go. On
// PostgreSQL (READ COMMITTED) the tenant row is locked first, so concurrent
// revocations in one tenant run one after the other and each statement
// after the lock sees what the one before committed; on SQLite the single
// writer already serialises them. This is the only place the rule lives.
func (tx *Tx) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	ok, err := tx.exists(ctx, `SELECT 1 FROM tenants WHERE id = ?`+tx.forUpdate(), tenantID)
	if err != nil {
		return translate(err, "lock tenant", onViolation{})
	}
	if !ok {
		return notFound("api key")
	}
	var role string
	err = tx.queryRow(ctx, `SELECT role FROM api_keys WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`,
		tenantID, id).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("api key")
	}
	if err != nil {
		return translate(err, "get api key", onViolation{})
	}
	if engine.Role(role) == engine.RoleAdmin {
		others, err := tx.exists(ctx, `SELECT 1 FROM api_keys
			WHERE tenant_id = ? AND role = ? AND id <> ? AND revoked_at IS NULL LIMIT 1`,
			tenantID, string(engine.RoleAdmin), id)
		if err != nil {
			return translate(err, "count admin keys", onViolation{})
		}
		if !others {
			return lastAdminKey(id)
		}
	}
	err = tx.execOne(ctx, notFound("api key"),
		`UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL`,
		micros(tx.now), tenantID, id)
	return translate(err, "revoke api key", onViolation{})
}

// lastAdminKey is the refusal to revoke the tenant's last admin key id.
func lastAdminKey(id string) error {
	return &engine.Error{
		Code:    engine.ECONFLICT,
		Message: "API key " + id + " is the tenant's last admin key; create another admin key first",
		Fields: []engine.FieldError{{Field: "path.key_id", Value: id,
			Message: "is the tenant's last admin key; create another admin key first"}},
	}
}

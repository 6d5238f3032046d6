package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// paginate fetches up to limit+1 items with fetch (which must order by id
// and return items after p.After) and returns one page and the next cursor,
// "" when this is the last page.
func paginate[T any](p engine.Page, id func(*T) string, fetch func(after string, limit int) ([]T, error)) ([]T, string, error) {
	limit := p.Size()
	items, err := fetch(p.After, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(items) <= limit {
		return items, "", nil
	}
	items = items[:limit]
	return items, id(&items[limit-1]), nil
}

const leadColumns = `id, tenant_id, first_name, last_name, email, phone, language, country, timezone,
	source, stage, tags, owner, custom, email_opt_out, whatsapp_opt_in, version, created_at, updated_at,
	whatsapp_opted_out_at`

func scanLead(s scanner) (engine.Lead, error) {
	var l engine.Lead
	var tags, custom []byte
	var created, updated int64
	var optedOut sql.NullInt64
	if err := s.Scan(&l.ID, &l.TenantID, &l.FirstName, &l.LastName, &l.Email, &l.Phone, &l.Language,
		&l.Country, &l.Timezone, &l.Source, &l.Stage, &tags, &l.Owner, &custom, &l.EmailOptOut,
		&l.WhatsAppOptIn, &l.Version, &created, &updated, &optedOut); err != nil {
		return l, err
	}
	l.WhatsAppOptedOutAt = timePtr(optedOut)
	if err := decodeJSON(tags, &l.Tags); err != nil {
		return l, err
	}
	if err := decodeJSON(custom, &l.Custom); err != nil {
		return l, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return l, nil
}

// CreateLead stores l and fills in its ID, Version and times.
func (db *DB) CreateLead(ctx context.Context, l *engine.Lead) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateLead(ctx, l) })
}

// CreateLead is DB.CreateLead in tx.
func (tx *Tx) CreateLead(ctx context.Context, l *engine.Lead) error {
	id, err := newID()
	if err != nil {
		return err
	}
	tags, err := jsonSlice(l.Tags)
	if err != nil {
		return err
	}
	custom, err := jsonMap(l.Custom)
	if err != nil {
		return err
	}
	optedOut := normTime(l.WhatsAppOptedOutAt)
	_, err = tx.exec(ctx, `INSERT INTO leads (`+leadColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		id, l.TenantID, l.FirstName, l.LastName, l.Email, l.Phone, l.Language, l.Country, l.Timezone,
		l.Source, l.Stage, tags, l.Owner, custom, l.EmailOptOut, l.WhatsAppOptIn, micros(tx.now), micros(tx.now),
		nullMicros(optedOut))
	if err != nil {
		return translate(err, "create lead", onViolation{foreign: notFound("tenant")})
	}
	l.ID, l.Version, l.CreatedAt, l.UpdatedAt, l.WhatsAppOptedOutAt = id, 1, tx.now, tx.now, optedOut
	return nil
}

// GetLead returns the tenant's lead with id.
func (db *DB) GetLead(ctx context.Context, tenantID, id string) (*engine.Lead, error) {
	return db.auto().GetLead(ctx, tenantID, id)
}

// GetLead is DB.GetLead in tx.
func (tx *Tx) GetLead(ctx context.Context, tenantID, id string) (*engine.Lead, error) {
	l, err := scanLead(tx.queryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("lead")
	}
	if err != nil {
		return nil, translate(err, "get lead", onViolation{})
	}
	return &l, nil
}

// ListLeads returns a page of the tenant's leads, oldest first, and the
// cursor of the next page ("" after the last).
func (db *DB) ListLeads(ctx context.Context, tenantID string, p engine.Page) ([]engine.Lead, string, error) {
	return db.auto().ListLeads(ctx, tenantID, p)
}

// ListLeads is DB.ListLeads in tx.
func (tx *Tx) ListLeads(ctx context.Context, tenantID string, p engine.Page) ([]engine.Lead, string, error) {
	leads, next, err := paginate(p, func(l *engine.Lead) string { return l.ID }, func(after string, limit int) ([]engine.Lead, error) {
		return collect(ctx, tx, scanLead, `SELECT `+leadColumns+` FROM leads
			WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`, tenantID, after, limit)
	})
	return leads, next, translate(err, "list leads", onViolation{})
}

// UpdateLead stores every field of l. ifVersion, if not 0, must be the
// stored version (else EPRECONDITION); the version then increments.
func (db *DB) UpdateLead(ctx context.Context, l *engine.Lead, ifVersion int64) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.UpdateLead(ctx, l, ifVersion) })
}

// UpdateLead is DB.UpdateLead in tx.
func (tx *Tx) UpdateLead(ctx context.Context, l *engine.Lead, ifVersion int64) error {
	tags, err := jsonSlice(l.Tags)
	if err != nil {
		return err
	}
	custom, err := jsonMap(l.Custom)
	if err != nil {
		return err
	}
	optedOut := normTime(l.WhatsAppOptedOutAt)
	q := `UPDATE leads SET first_name = ?, last_name = ?, email = ?, phone = ?, language = ?, country = ?,
		timezone = ?, source = ?, stage = ?, tags = ?, owner = ?, custom = ?, email_opt_out = ?,
		whatsapp_opt_in = ?, whatsapp_opted_out_at = ?, version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND id = ?`
	args := []any{l.FirstName, l.LastName, l.Email, l.Phone, l.Language, l.Country, l.Timezone, l.Source,
		l.Stage, tags, l.Owner, custom, l.EmailOptOut, l.WhatsAppOptIn, nullMicros(optedOut), micros(tx.now), l.TenantID, l.ID}
	if ifVersion != 0 {
		q += ` AND version = ?`
		args = append(args, ifVersion)
	}
	var version, created int64
	err = tx.queryRow(ctx, q+` RETURNING version, created_at`, args...).Scan(&version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return tx.missOrStale(ctx, "lead", ifVersion, `SELECT version FROM leads WHERE tenant_id = ? AND id = ?`, l.TenantID, l.ID)
	}
	if err != nil {
		return translate(err, "update lead", onViolation{})
	}
	l.Version, l.CreatedAt, l.UpdatedAt, l.WhatsAppOptedOutAt = version, fromMicros(created), tx.now, optedOut
	return nil
}

// DeleteLead deletes the lead and, by cascade, everything that belongs to
// it: quotes, overrides, trigger events, runs, messages and their attempts
// and receipts.
func (db *DB) DeleteLead(ctx context.Context, tenantID, id string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DeleteLead(ctx, tenantID, id) })
}

// DeleteLead is DB.DeleteLead in tx.
func (tx *Tx) DeleteLead(ctx context.Context, tenantID, id string) error {
	// Overrides are configuration: if the lead had any, the resolver's
	// cache must move on with them.
	res, err := tx.exec(ctx, `DELETE FROM lead_overrides WHERE tenant_id = ? AND lead_id = ?`, tenantID, id)
	if err != nil {
		return translate(err, "delete lead overrides", onViolation{})
	}
	if n, err := res.RowsAffected(); err != nil {
		return translate(err, "delete lead overrides", onViolation{})
	} else if n > 0 {
		if err := tx.bumpConfig(ctx, tenantID); err != nil {
			return err
		}
	}
	err = tx.execOne(ctx, notFound("lead"), `DELETE FROM leads WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return translate(err, "delete lead", onViolation{})
}

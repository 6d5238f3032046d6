package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const eventColumns = `id, tenant_id, lead_id, quote_id, trigger, action, idempotency_key, dedupe_key, duplicate,
	duplicate_of, context, decision, outcome, reason, response, created_at`

func scanEvent(s scanner) (engine.Event, error) {
	var e engine.Event
	var quoteID, idemKey, dedupeKey, duplicateOf sql.NullString
	var ctxJSON, decision, response []byte
	var outcome, reason string
	var created int64
	if err := s.Scan(&e.ID, &e.TenantID, &e.LeadID, &quoteID, &e.Trigger, &e.Action, &idemKey, &dedupeKey,
		&e.Duplicate, &duplicateOf, &ctxJSON, &decision, &outcome, &reason, &response, &created); err != nil {
		return e, err
	}
	e.QuoteID, e.IdempotencyKey, e.DedupeKey, e.DuplicateOf = quoteID.String, idemKey.String, dedupeKey.String, duplicateOf.String
	var err error
	if ctxJSON, err = decodeEventContext(ctxJSON, e.TenantID, e.LeadID); err != nil {
		return e, err
	}
	if e.Context, err = rawJSON(ctxJSON); err != nil {
		return e, err
	}
	if err := decodeEventDecision(decision, outcome, reason, &e.Decision); err != nil {
		return e, err
	}
	if e.Response, err = rawJSON(response); err != nil {
		return e, err
	}
	e.CreatedAt = fromMicros(created)
	return e, nil
}

// errIdempotencyKey is the conflict of a repeated Idempotency-Key.
func errIdempotencyKey() error {
	return conflict("header.Idempotency-Key", "an event with this idempotency key exists")
}

// InsertEvent stores e and fills in its ID and CreatedAt. Its lead and
// quote (and DuplicateOf, if set) must be the tenant's (else EINVALID). An
// IdempotencyKey the tenant has used before is ECONFLICT on
// header.Idempotency-Key: on PostgreSQL the transaction is then aborted, so
// the caller reads the first event (GetEventByIdempotencyKey) in a new one.
// An empty IdempotencyKey or DedupeKey is stored as NULL and never
// conflicts. Decision.Outcome and Decision.Reason are also stored in
// columns of their own, for filters and counts.
//
// The store does not judge duplicates: the caller looks the dedupe key up
// (FindEventByDedupeKey) after locking the quote (GetQuoteForUpdate), which
// serialises the actions on one quote, and sets Duplicate and DuplicateOf.
func (tx *Tx) InsertEvent(ctx context.Context, e *engine.Event) error {
	s, err := tx.insertEvent(e)
	if err != nil {
		return err
	}
	if err := tx.batch(ctx, s); err != nil {
		e.ID, e.CreatedAt = "", time.Time{}
		return err
	}
	return nil
}

// insertEvent is InsertEvent's statement; it sets e's ID and CreatedAt.
func (tx *Tx) insertEvent(e *engine.Event) (stmt, error) {
	id, err := newID()
	if err != nil {
		return stmt{}, err
	}
	evCtx, err := rawJSONValue(e.Context, "context")
	if err != nil {
		return stmt{}, err
	}
	response, err := rawJSONValue(e.Response, "response")
	if err != nil {
		return stmt{}, err
	}
	if evCtx != nil {
		evCtx = encodeEventContext(evCtx.(string), e.TenantID, e.LeadID, tx.Dialect() == DialectPostgres)
	}
	decision, err := encodeEventDecision(e.Decision)
	if err != nil {
		return stmt{}, err
	}
	e.ID, e.CreatedAt = id, tx.now
	return stmt{
		query: `INSERT INTO trigger_events (` + eventColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{id, e.TenantID, e.LeadID, nullString(e.QuoteID), string(e.Trigger), string(e.Action), nullString(e.IdempotencyKey),
			nullString(e.DedupeKey), e.Duplicate, nullString(e.DuplicateOf), evCtx, decision, string(e.Decision.Outcome),
			e.Decision.Reason, response, micros(tx.now)},
		what: "insert event", on: onViolation{unique: errIdempotencyKey()},
	}, nil
}

// GetEvent returns the tenant's trigger event with id.
func (db *DB) GetEvent(ctx context.Context, tenantID, id string) (*engine.Event, error) {
	return db.auto().GetEvent(ctx, tenantID, id)
}

// GetEvent is DB.GetEvent in tx.
func (tx *Tx) GetEvent(ctx context.Context, tenantID, id string) (*engine.Event, error) {
	return tx.getEvent(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
}

// GetEventByIdempotencyKey returns the tenant's event recorded under key;
// ENOTFOUND if there is none.
func (tx *Tx) GetEventByIdempotencyKey(ctx context.Context, tenantID, key string) (*engine.Event, error) {
	if key == "" {
		return nil, notFound("event")
	}
	return tx.getEvent(ctx, `tenant_id = ? AND idempotency_key = ?`, tenantID, key)
}

// FindEventByDedupeKey returns the first event of the tenant's quote with
// dedupeKey that is not itself a duplicate: the original business event;
// ENOTFOUND if there is none. The key names a quote's business event
// (DedupeKey), so the quote's events are where to look, in id order
// through trigger_events_quote; no index holds the keys themselves
// (migration 0016).
func (tx *Tx) FindEventByDedupeKey(ctx context.Context, tenantID, quoteID, dedupeKey string) (*engine.Event, error) {
	if dedupeKey == "" {
		return nil, notFound("event")
	}
	return tx.getEvent(ctx, firstEventWhere, tenantID, quoteID, dedupeKey, false)
}

// firstEventWhere selects the original event of a quote's business event:
// tenant, quote, dedupe key and false (not a duplicate).
const firstEventWhere = `tenant_id = ? AND quote_id = ? AND dedupe_key = ? AND duplicate = ? ORDER BY id LIMIT 1`

func (tx *Tx) getEvent(ctx context.Context, where string, args ...any) (*engine.Event, error) {
	e, err := scanEvent(tx.queryRow(ctx, `SELECT `+eventColumns+` FROM trigger_events WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("event")
	}
	if err != nil {
		return nil, translate(err, "get event", onViolation{})
	}
	return &e, nil
}

// SetEventResponse stores the response to replay for the event's
// Idempotency-Key; nil clears it.
func (tx *Tx) SetEventResponse(ctx context.Context, tenantID, id string, response json.RawMessage) error {
	v, err := rawJSONValue(response, "response")
	if err != nil {
		return err
	}
	err = tx.execOne(ctx, notFound("event"), `UPDATE trigger_events SET response = ? WHERE tenant_id = ? AND id = ?`,
		v, tenantID, id)
	return translate(err, "set event response", onViolation{})
}

// ListEvents returns a page of the tenant's events that match f and the
// cursor of the next page. Like every list of the store it is in id order,
// which is creation order, oldest first; engine.Page.After is the last id seen.
func (db *DB) ListEvents(ctx context.Context, tenantID string, f engine.EventFilter, p engine.Page) ([]engine.Event, string, error) {
	return db.auto().ListEvents(ctx, tenantID, f, p)
}

// ListEvents is DB.ListEvents in tx.
func (tx *Tx) ListEvents(ctx context.Context, tenantID string, f engine.EventFilter, p engine.Page) ([]engine.Event, string, error) {
	w := newWhere(tenantID)
	w.eq("lead_id", f.LeadID)
	w.eq("quote_id", f.QuoteID)
	w.eq("trigger", string(f.Trigger))
	w.eq("outcome", string(f.Outcome))
	w.between("created_at", f.From, f.To)
	events, next, err := paginate(p, func(e *engine.Event) string { return e.ID }, func(after string, limit int) ([]engine.Event, error) {
		return collect(ctx, tx, scanEvent, `SELECT `+eventColumns+` FROM trigger_events WHERE `+w.sql+` AND id > ? ORDER BY id LIMIT ?`,
			append(w.args, after, limit)...)
	})
	return events, next, translate(err, "list events", onViolation{})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const quoteColumns = `id, tenant_id, lead_id, number, amount_minor, currency, status, valid_until, revision,
	public_token, rejection_reason, version, created_at, updated_at`

func scanQuote(s scanner) (engine.Quote, error) {
	var q engine.Quote
	var validUntil sql.NullInt64
	var created, updated int64
	if err := s.Scan(&q.ID, &q.TenantID, &q.LeadID, &q.Number, &q.AmountMinor, &q.Currency, &q.Status,
		&validUntil, &q.Revision, &q.PublicToken, &q.RejectionReason, &q.Version, &created, &updated); err != nil {
		return q, err
	}
	q.ValidUntil = timePtr(validUntil)
	q.CreatedAt, q.UpdatedAt = fromMicros(created), fromMicros(updated)
	return q, nil
}

// quoteViolations explains the constraints a quote write can break: of its
// two unique ones, err says which (quoteNumberTaken).
func quoteViolations(err error, number string) onViolation {
	o := onViolation{
		unique:  conflict("public_token", "a quote with this public token exists"),
		foreign: engine.Invalid("body.lead_id", "no such lead"),
	}
	if quoteNumberTaken(err) {
		o.unique = conflict("body.number", "the tenant has a quote numbered %q already", number)
	}
	return o
}

// quoteNumberIndex is the unique index on (tenant_id, number), made by the
// migration quote_number_unique.
const quoteNumberIndex = "quotes_tenant_number"

// quoteNumberTaken reports whether err is the violation of quoteNumberIndex.
// PostgreSQL names the index; SQLite names the columns.
func quoteNumberTaken(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName == quoteNumberIndex
	}
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && strings.Contains(sqErr.Error(), "quotes.number")
}

// CreateQuote stores q, whose lead must exist in the tenant (else EINVALID
// on body.lead_id) and whose number the tenant must not have used (else
// ECONFLICT on body.number), and fills in its ID, Version and times. The caller
// generates PublicToken and sets Status and Revision.
func (db *DB) CreateQuote(ctx context.Context, q *engine.Quote) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateQuote(ctx, q) })
}

// CreateQuote is DB.CreateQuote in tx.
func (tx *Tx) CreateQuote(ctx context.Context, q *engine.Quote) error {
	id, err := newID()
	if err != nil {
		return err
	}
	validUntil := normTime(q.ValidUntil)
	_, err = tx.exec(ctx, `INSERT INTO quotes (`+quoteColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, q.TenantID, q.LeadID, q.Number, q.AmountMinor, q.Currency, string(q.Status), nullMicros(validUntil),
		q.Revision, q.PublicToken, q.RejectionReason, micros(tx.now), micros(tx.now))
	if err != nil {
		// The composite foreign key (tenant_id, lead_id) also rejects
		// another tenant's lead.
		return translate(err, "create quote", quoteViolations(err, q.Number))
	}
	q.ID, q.ValidUntil, q.Version, q.CreatedAt, q.UpdatedAt = id, validUntil, 1, tx.now, tx.now
	return nil
}

// GetQuote returns the tenant's quote with id.
func (db *DB) GetQuote(ctx context.Context, tenantID, id string) (*engine.Quote, error) {
	return db.auto().GetQuote(ctx, tenantID, id)
}

// GetQuote is DB.GetQuote in tx.
func (tx *Tx) GetQuote(ctx context.Context, tenantID, id string) (*engine.Quote, error) {
	return tx.getQuote(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
}

// GetQuoteByToken returns the quote whose public token is token, whatever
// its tenant: it serves the customer's own routes.
func (db *DB) GetQuoteByToken(ctx context.Context, token string) (*engine.Quote, error) {
	return db.auto().GetQuoteByToken(ctx, token)
}

// GetQuoteByToken is DB.GetQuoteByToken in tx.
func (tx *Tx) GetQuoteByToken(ctx context.Context, token string) (*engine.Quote, error) {
	if token == "" {
		return nil, notFound("quote")
	}
	return tx.getQuote(ctx, `public_token = ?`, token)
}

func (tx *Tx) getQuote(ctx context.Context, where string, args ...any) (*engine.Quote, error) {
	q, err := scanQuote(tx.queryRow(ctx, `SELECT `+quoteColumns+` FROM quotes WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("quote")
	}
	if err != nil {
		return nil, translate(err, "get quote", onViolation{})
	}
	return &q, nil
}

// ListQuotes returns a page of the tenant's quotes that match f, oldest
// first, and the cursor of the next page.
func (db *DB) ListQuotes(ctx context.Context, tenantID string, f engine.QuoteFilter, p engine.Page) ([]engine.Quote, string, error) {
	return db.auto().ListQuotes(ctx, tenantID, f, p)
}

// ListQuotes is DB.ListQuotes in tx.
func (tx *Tx) ListQuotes(ctx context.Context, tenantID string, f engine.QuoteFilter, p engine.Page) ([]engine.Quote, string, error) {
	where, args := `tenant_id = ?`, []any{tenantID}
	if f.LeadID != "" {
		where += ` AND lead_id = ?`
		args = append(args, f.LeadID)
	}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	quotes, next, err := paginate(p, func(q *engine.Quote) string { return q.ID }, func(after string, limit int) ([]engine.Quote, error) {
		return collect(ctx, tx, scanQuote, `SELECT `+quoteColumns+` FROM quotes WHERE `+where+` AND id > ? ORDER BY id LIMIT ?`,
			append(args, after, limit)...)
	})
	return quotes, next, translate(err, "list quotes", onViolation{})
}

// UpdateQuote stores every field of q but its tenant, id and creation time.
// A new LeadID must name a lead of the tenant (else EINVALID on
// body.lead_id); a new Number must be unused in the tenant (else ECONFLICT
// on body.number). ifVersion, if not 0, must be the stored version.
func (db *DB) UpdateQuote(ctx context.Context, q *engine.Quote, ifVersion int64) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.UpdateQuote(ctx, q, ifVersion) })
}

// UpdateQuote is DB.UpdateQuote in tx.
func (tx *Tx) UpdateQuote(ctx context.Context, q *engine.Quote, ifVersion int64) error {
	validUntil := normTime(q.ValidUntil)
	query := `UPDATE quotes SET lead_id = ?, number = ?, amount_minor = ?, currency = ?, status = ?, valid_until = ?,
		revision = ?, public_token = ?, rejection_reason = ?, version = version + 1, updated_at = ?
		WHERE tenant_id = ? AND id = ?`
	args := []any{q.LeadID, q.Number, q.AmountMinor, q.Currency, string(q.Status), nullMicros(validUntil),
		q.Revision, q.PublicToken, q.RejectionReason, micros(tx.now), q.TenantID, q.ID}
	if ifVersion != 0 {
		query += ` AND version = ?`
		args = append(args, ifVersion)
	}
	var version, created int64
	err := tx.queryRow(ctx, query+` RETURNING version, created_at`, args...).Scan(&version, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return tx.missOrStale(ctx, "quote", ifVersion, `SELECT version FROM quotes WHERE tenant_id = ? AND id = ?`, q.TenantID, q.ID)
	}
	if err != nil {
		return translate(err, "update quote", quoteViolations(err, q.Number))
	}
	q.ValidUntil, q.Version, q.CreatedAt, q.UpdatedAt = validUntil, version, fromMicros(created), tx.now
	return nil
}

// GetQuoteForUpdate is GetQuote for a quote action: on PostgreSQL it locks
// the row (SELECT … FOR UPDATE) until the transaction ends, so that two
// actions on one quote run one after the other and the second sees what the
// first wrote. SQLite's single writer serialises them already. Use it in
// DB.Tx, not in DB.ReadTx.
func (tx *Tx) GetQuoteForUpdate(ctx context.Context, tenantID, id string) (*engine.Quote, error) {
	return tx.getQuote(ctx, `tenant_id = ? AND id = ?`+tx.forUpdate(), tenantID, id)
}

// GetQuoteByTokenForUpdate is GetQuoteByToken with the row lock of
// GetQuoteForUpdate, for the customer's own quote actions.
func (tx *Tx) GetQuoteByTokenForUpdate(ctx context.Context, token string) (*engine.Quote, error) {
	if token == "" {
		return nil, notFound("quote")
	}
	return tx.getQuote(ctx, `public_token = ?`+tx.forUpdate(), token)
}

// ListQuotesToExpire returns, across all tenants, up to limit quotes
// (engine.DefaultPageLimit when limit is 0 or less) that are sent or viewed and
// whose valid_until is before now, the longest overdue first (ties by id).
// The sweep that expires them runs each through a quote action, which
// locks and re-reads the quote, so a quote changed since this list was read
// is judged again there.
func (tx *Tx) ListQuotesToExpire(ctx context.Context, now time.Time, limit int) ([]engine.Quote, error) {
	if limit <= 0 {
		limit = engine.DefaultPageLimit
	}
	quotes, err := collect(ctx, tx, scanQuote, `SELECT `+quoteColumns+` FROM quotes
		WHERE status IN (?, ?) AND valid_until < ? ORDER BY valid_until, id LIMIT ?`,
		string(engine.QuoteSent), string(engine.QuoteViewed), micros(now), limit)
	return quotes, translate(err, "list quotes to expire", onViolation{})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// DedupeKey names the business event of action on a quote's revision: the
// same action on the same revision is the same business event, however it
// reaches us (an API retry, the public link clicked twice).
// dedupeKeySQL builds the same key in SQL from the quotes row; a store test
// holds the two together.
func DedupeKey(quoteID string, action engine.Action, revision int64) string {
	return quoteID + ":" + string(action) + ":" + strconv.FormatInt(revision, 10)
}

// dedupeKeySQL is DedupeKey over the quotes row, with the action as its
// one parameter.
const dedupeKeySQL = `id || ':' || ? || ':' || revision`

// ActionState is what a quote action reads before it decides: the locked
// quote, its tenant and lead, the events its idempotency key and dedupe
// key name, and the quote's active runs.
type ActionState struct {
	Quote  *engine.Quote
	Tenant *engine.Tenant
	Lead   *engine.Lead
	// Replay is the event already recorded under the request's
	// Idempotency-Key, if any.
	Replay *engine.Event
	// First is the original event of the same action on the quote's
	// current revision (DedupeKey), if any.
	First *engine.Event
	// ActiveRuns are the quote's active runs, oldest first.
	ActiveRuns []engine.Run
}

// LoadQuoteAction locks the tenant's quote (as GetQuoteForUpdate) and reads
// everything a quote action needs to decide, in one round trip on
// PostgreSQL: the statements after the lock wait for it, so they see what
// the previous action on the quote committed. An unknown quote is
// ENOTFOUND. idempotencyKey may be empty: then Replay is nil.
func (tx *Tx) LoadQuoteAction(ctx context.Context, tenantID, quoteID string, action engine.Action, idempotencyKey string) (*ActionState, error) {
	st := &ActionState{}
	var quote engine.Quote
	tenant := tx.readTenant(tenantID)
	var lead engine.Lead
	var replay, first engine.Event
	var haveQuote, haveLead, haveReplay, haveFirst bool
	stmts := []stmt{
		{query: `SELECT ` + quoteColumns + ` FROM quotes WHERE tenant_id = ? AND id = ?` + tx.forUpdate(),
			args: []any{tenantID, quoteID}, what: "get quote",
			row: flagged(&haveQuote, func(s scanner) (err error) { quote, err = scanQuote(s); return err })},
		tenant.stmt(),
		{query: `SELECT ` + leadColumns + ` FROM leads WHERE tenant_id = ? AND id = (SELECT lead_id FROM quotes WHERE tenant_id = ? AND id = ?)`,
			args: []any{tenantID, tenantID, quoteID}, what: "get lead",
			row: flagged(&haveLead, func(s scanner) (err error) { lead, err = scanLead(s); return err })},
		// Named by its quote, whose few events trigger_events_quote gives
		// in id order (migration 0016): the key is a filter on them.
		{query: `SELECT ` + eventColumns + ` FROM trigger_events WHERE tenant_id = ? AND quote_id = ? AND dedupe_key =
			(SELECT ` + dedupeKeySQL + ` FROM quotes WHERE tenant_id = ? AND id = ?) AND duplicate = ? ORDER BY id LIMIT 1`,
			args: []any{tenantID, quoteID, string(action), tenantID, quoteID, false}, what: "get event",
			row: flagged(&haveFirst, func(s scanner) (err error) { first, err = scanEvent(s); return err })},
		{query: listActiveRunsQuery, args: []any{tenantID, quoteID, string(engine.RunActive)}, what: "list active runs",
			row: func(s scanner) error {
				r, err := scanRun(s)
				st.ActiveRuns = append(st.ActiveRuns, r)
				return err
			}},
	}
	if idempotencyKey != "" {
		stmts = append(stmts, stmt{query: `SELECT ` + eventColumns + ` FROM trigger_events WHERE tenant_id = ? AND idempotency_key = ?`,
			args: []any{tenantID, idempotencyKey}, what: "get event",
			row: flagged(&haveReplay, func(s scanner) (err error) { replay, err = scanEvent(s); return err })})
	}
	if err := tx.batch(ctx, stmts...); err != nil {
		return nil, err
	}
	if !haveQuote {
		return nil, notFound("quote")
	}
	t, err := tenant.result()
	if err != nil {
		return nil, err
	}
	if t == nil || !haveLead {
		// The foreign keys forbid it; a quote without them is damage.
		return nil, errors.New("store: quote " + quoteID + " has no tenant or lead")
	}
	st.Quote, st.Tenant, st.Lead = &quote, t, &lead
	if haveReplay {
		st.Replay = &replay
	}
	if haveFirst {
		st.First = &first
	}
	return st, nil
}

// LockQuoteByToken locks the quote whose public token is token, whatever
// its tenant, and returns its tenant and id, for LoadQuoteAction to read
// the rest: the customer's own actions name a quote by its token alone.
func (tx *Tx) LockQuoteByToken(ctx context.Context, token string) (tenantID, quoteID string, err error) {
	if token == "" {
		return "", "", notFound("quote")
	}
	err = tx.queryRow(ctx, `SELECT tenant_id, id FROM quotes WHERE public_token = ?`+tx.forUpdate(), token).Scan(&tenantID, &quoteID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", notFound("quote")
	}
	if err != nil {
		return "", "", translate(err, "get quote", onViolation{})
	}
	return tenantID, quoteID, nil
}

// QueueQuoteUpdate is UpdateQuote for a quote this transaction has locked
// (LoadQuoteAction) at q.Version: it sets q's new Version and UpdatedAt at
// once and sends the update with the transaction's next statements, so it
// costs no round trip of its own. Only the fields a quote action changes
// are written: status and rejection reason.
func (tx *Tx) QueueQuoteUpdate(ctx context.Context, q *engine.Quote) error {
	locked := q.Version
	q.Version, q.UpdatedAt = locked+1, tx.now
	return tx.later(ctx, stmt{
		query: `UPDATE quotes SET status = ?, rejection_reason = ?, version = ?, updated_at = ?
			WHERE tenant_id = ? AND id = ? AND version = ?`,
		args: []any{string(q.Status), q.RejectionReason, q.Version, micros(tx.now), q.TenantID, q.ID, locked},
		what: "update quote",
		// The row lock makes this impossible; say so if it happens.
		touch: errors.New("store: quote " + q.ID + " changed under its lock"),
	})
}

// QueueEvent is InsertEvent whose statement goes with the transaction's
// next statements (or its commit): e's ID and CreatedAt are set at once,
// its errors (the Idempotency-Key's ECONFLICT among them) surface there.
func (tx *Tx) QueueEvent(ctx context.Context, e *engine.Event) error {
	s, err := tx.insertEvent(e)
	if err != nil {
		return err
	}
	return tx.later(ctx, s)
}

// QueueRun is InsertRun whose statement goes with the transaction's next
// statements, as QueueEvent.
func (tx *Tx) QueueRun(ctx context.Context, r *engine.Run) error {
	s, err := tx.insertRun(r)
	if err != nil {
		return err
	}
	return tx.later(ctx, s)
}

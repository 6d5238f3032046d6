package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// CreateLead validates and stores a new lead.
func (a *App) CreateLead(ctx context.Context, l *engine.Lead) error {
	if err := validateLead(l, "body"); err != nil {
		return err
	}
	_, err := write(a, ctx, func(tx *store.Tx) (*engine.Lead, error) { return l, tx.CreateLead(ctx, l) })
	return err
}

// UpdateLead changes the tenant's lead id as edit says, validates the
// result and stores it, if the lead is at ifVersion (0: any). The lead is
// read and written under its row lock, in one transaction with the record
// of any consent it changes (whatsapp_opt_in, email_opt_out), so that an
// edit never undoes a customer's opt-out made meanwhile.
func (a *App) UpdateLead(ctx context.Context, tenantID, id string, ifVersion int64, edit func(*engine.Lead)) (*engine.Lead, error) {
	var out *engine.Lead
	var counted pendingMetrics
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		counted = counted[:0]
		l, err := tx.GetLeadForUpdate(ctx, tenantID, id)
		if err != nil {
			return err
		}
		before := *l
		edit(l)
		if err := validateLead(l, "body"); err != nil {
			return err
		}
		changes := apiConsentChanges(&before, l)
		if err := tx.UpdateLead(ctx, l, ifVersion); err != nil {
			return err
		}
		for i := range changes {
			if err := a.recordConsent(ctx, tx, &changes[i], &counted); err != nil {
				return err
			}
		}
		out = l
		return nil
	})
	if err != nil {
		return nil, err
	}
	counted.flush()
	return out, nil
}

// DeleteLead deletes a lead and everything about it.
func (a *App) DeleteLead(ctx context.Context, tenantID, id string) error {
	return a.db.DeleteLead(ctx, tenantID, id)
}

// CreateQuote validates a new quote, whose amount is in major units as the
// client sent it, and stores it as a draft at revision 1 with a fresh
// public token.
func (a *App) CreateQuote(ctx context.Context, q *engine.Quote, amount float64) error {
	q.Status, q.Revision = engine.QuoteDraft, 1
	if err := validateQuote(q, amount); err != nil {
		return err
	}
	token, err := NewPublicToken()
	if err != nil {
		return err
	}
	q.PublicToken = token
	_, err = write(a, ctx, func(tx *store.Tx) (*engine.Quote, error) { return q, tx.CreateQuote(ctx, q) })
	return err
}

// UpdateQuote changes the content of the tenant's quote id as edit says
// (edit gets the quote and its amount in major units), validates it and
// stores it as the next revision, if the quote is at ifVersion (0: any). A
// quote that is accepted, rejected or expired can no longer be edited.
func (a *App) UpdateQuote(ctx context.Context, tenantID, id string, ifVersion int64, edit func(q *engine.Quote, amount *float64)) (*engine.Quote, error) {
	q, err := a.db.GetQuote(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	switch q.Status {
	case engine.QuoteAccepted, engine.QuoteRejected, engine.QuoteExpired:
		return nil, engine.Errorf(engine.ECONFLICT, "a quote that is %s can no longer be edited", q.Status)
	}
	// An edit changes content; the status moves only by quote actions.
	status, token, revision := q.Status, q.PublicToken, q.Revision
	amount := q.Amount()
	edit(q, &amount)
	q.Status, q.PublicToken = status, token
	if err := validateQuote(q, amount); err != nil {
		return nil, err
	}
	// Any edit of the content is a new revision: the same action on a new
	// revision is a new business event, not a duplicate.
	q.Revision = revision + 1
	if err := a.db.UpdateQuote(ctx, q, ifVersion); err != nil {
		return nil, err
	}
	return q, nil
}

// NewPublicToken returns an unguessable token for a quote's public link.
func NewPublicToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

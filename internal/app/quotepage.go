package app

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// QuotePage is what the customer's page of a quote shows, read through
// the quote's public token: the quote, the company that sent it, the lead
// whose language and country the page is written in, and the time zone
// its dates are shown in (the lead's, else the tenant's).
type QuotePage struct {
	Quote    engine.Quote
	Company  string
	Lead     engine.Lead
	Location *time.Location
}

// GetQuotePage reads the customer's page of the quote whose token is
// token. It records nothing: opening the link is not a view (RecordView
// is).
func (a *App) GetQuotePage(ctx context.Context, token string) (*QuotePage, error) {
	q, err := a.db.GetQuoteByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	t, err := a.db.GetTenant(ctx, q.TenantID)
	if err != nil {
		return nil, err
	}
	l, err := a.db.GetLead(ctx, q.TenantID, q.LeadID)
	if err != nil {
		return nil, err
	}
	return &QuotePage{Quote: *q, Company: t.Name, Lead: *l, Location: a.zones.Of(l, t)}, nil
}

// RecordView records that the customer is looking at the quote whose token
// is token: quote.viewed, once. Only a sent quote is viewed: a quote
// already viewed, accepted, rejected, expired or still a draft is answered
// as it is and nothing is written, so that a page that reports a view each
// time it is shown, or twice at once, records one event. A quote sent again
// without a new revision keeps the view it had (the same business event),
// and is not given a duplicate event by every visit either. It returns the
// quote, and whether this call recorded the view.
func (a *App) RecordView(ctx context.Context, token string) (_ *engine.Quote, recorded bool, err error) {
	ctx, end := a.begin(ctx, "app.RecordView")
	defer func() { end(err) }()
	var res *ActionResult
	var q *engine.Quote
	// The check and the action share the quote's row lock, so two views
	// at once find the second one a no-op rather than a duplicate event.
	err = a.db.GroupTx(ctx, func(tx *store.Tx) error {
		res, q = nil, nil
		cur, err := tx.GetQuoteByTokenForUpdate(ctx, token)
		if err != nil {
			return err
		}
		if cur.Status != engine.QuoteSent {
			q = cur
			return nil
		}
		switch _, err := tx.FindEventByDedupeKey(ctx, cur.TenantID, cur.ID, dedupeKey(cur, engine.ActionView)); {
		case err == nil:
			q = cur
			return nil
		case !engine.IsNotFound(err):
			return err
		}
		res, err = a.quoteAction(ctx, tx, ActionRequest{Token: token, Action: engine.ActionView})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if res == nil {
		return q, false, nil
	}
	a.announce(ctx, res)
	return &res.Quote, true, nil
}

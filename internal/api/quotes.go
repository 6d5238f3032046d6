package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// QuoteIn is POST /v1/quotes. amount is in major units.
type QuoteIn struct {
	LeadID     string     `json:"lead_id"`
	Number     string     `json:"number" minLength:"1" maxLength:"64" example:"Q-1001"`
	Amount     float64    `json:"amount" minimum:"0" example:"1250.0"`
	Currency   string     `json:"currency" example:"EUR" doc:"ISO 4217"`
	ValidUntil *time.Time `json:"valid_until,omitempty" nullable:"true"`
}

// QuotePatch is PATCH /v1/quotes/{quote_id}. Any change of content
// increments the quote's revision.
type QuotePatch struct {
	Number     *string      `json:"number,omitempty" minLength:"1" maxLength:"64"`
	Amount     *float64     `json:"amount,omitempty" minimum:"0"`
	Currency   *string      `json:"currency,omitempty"`
	ValidUntil NullableTime `json:"valid_until,omitempty"`
}

func (p *QuotePatch) apply(q *engine.Quote, amount *float64) {
	if p.Number != nil {
		q.Number = *p.Number
	}
	if p.Currency != nil {
		q.Currency = *p.Currency
	}
	if p.Amount != nil {
		*amount = *p.Amount
	}
	if p.ValidUntil.Set {
		q.ValidUntil = inTime(p.ValidUntil.Value)
	}
}

// QuoteOut is a quote as the API shows it.
type QuoteOut struct {
	ID              string     `json:"id"`
	LeadID          string     `json:"lead_id"`
	Number          string     `json:"number"`
	Amount          float64    `json:"amount"`
	Currency        string     `json:"currency"`
	Status          string     `json:"status" enum:"draft,sent,viewed,accepted,rejected,expired"`
	ValidUntil      *time.Time `json:"valid_until"`
	Revision        int64      `json:"revision"`
	PublicToken     string     `json:"public_token"`
	PublicURL       string     `json:"public_url"`
	RejectionReason string     `json:"rejection_reason,omitempty"`
	Version         int64      `json:"version"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

func (s *Server) quoteOut(q *engine.Quote) QuoteOut {
	return QuoteOut{ID: q.ID, LeadID: q.LeadID, Number: q.Number, Amount: q.Amount(), Currency: q.Currency,
		Status: string(q.Status), ValidUntil: timePtr(q.ValidUntil), Revision: q.Revision, PublicToken: q.PublicToken,
		PublicURL: s.app.QuoteURL(q), RejectionReason: q.RejectionReason, Version: q.Version,
		CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
}

// QuotePath names a quote in the URL.
type QuotePath struct {
	QuoteID string `path:"quote_id"`
}

func (s *Server) createQuote(ctx context.Context, in *body[QuoteIn]) (*versioned[QuoteOut], error) {
	b := in.Body
	q := &engine.Quote{TenantID: principal(ctx).TenantID, LeadID: b.LeadID, Number: b.Number, Currency: b.Currency,
		ValidUntil: inTime(b.ValidUntil)}
	out := func(q *engine.Quote) *versioned[QuoteOut] { return withETag(s.quoteOut(q), q.Version) }
	answerWith(ctx, out)
	if err := s.app.CreateQuote(ctx, q, b.Amount); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(q), nil
}

func (s *Server) getQuote(ctx context.Context, in *QuotePath) (*versioned[QuoteOut], error) {
	q, err := s.app.GetQuote(ctx, principal(ctx).TenantID, in.QuoteID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(s.quoteOut(q), q.Version), nil
}

type listQuotesInput struct {
	PageParams
	LeadID string `query:"lead_id"`
	Status string `query:"status" enum:"draft,sent,viewed,accepted,rejected,expired"`
}

func (s *Server) listQuotes(ctx context.Context, in *listQuotesInput) (*body[List[QuoteOut]], error) {
	quotes, next, err := s.app.ListQuotes(ctx, principal(ctx).TenantID,
		engine.QuoteFilter{LeadID: in.LeadID, Status: engine.QuoteStatus(in.Status)}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[QuoteOut]]{Body: listOf(quotes, next, s.quoteOut)}, nil
}

type patchQuoteInput struct {
	QuotePath
	IfMatch
	Body QuotePatch
}

func (s *Server) patchQuote(ctx context.Context, in *patchQuoteInput) (*versioned[QuoteOut], error) {
	want, err := in.version(func() (int64, error) {
		q, err := s.app.GetQuote(ctx, principal(ctx).TenantID, in.QuoteID)
		if err != nil {
			return 0, err
		}
		return q.Version, nil
	})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	q, err := s.app.UpdateQuote(ctx, principal(ctx).TenantID, in.QuoteID, want, in.Body.apply)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(s.quoteOut(q), q.Version), nil
}

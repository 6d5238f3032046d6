package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
)

// EventOut is a trigger event with its decision.
type EventOut struct {
	ID          string          `json:"id"`
	Trigger     string          `json:"trigger"`
	Action      string          `json:"action"`
	LeadID      string          `json:"lead_id"`
	QuoteID     string          `json:"quote_id"`
	Duplicate   bool            `json:"duplicate" doc:"The same action on the same quote revision was already recorded; nothing ran"`
	DuplicateOf string          `json:"duplicate_of,omitempty"`
	Decision    engine.Decision `json:"decision"`
	CreatedAt   time.Time       `json:"created_at"`
}

func eventOut(e *engine.Event) EventOut {
	d := decisionOut(e.Decision)
	return EventOut{ID: e.ID, Trigger: string(e.Trigger), Action: string(e.Action), LeadID: e.LeadID, QuoteID: e.QuoteID,
		Duplicate: e.Duplicate, DuplicateOf: e.DuplicateOf, Decision: d, CreatedAt: e.CreatedAt}
}

// decisionOut returns d, and its shadow decision, with [] for its empty
// lists: the document promises arrays, never null.
func decisionOut(d engine.Decision) engine.Decision {
	d.MissingFields, d.Trace = nonNil(d.MissingFields), nonNil(d.Trace)
	if d.Shadow != nil {
		sh := decisionOut(*d.Shadow)
		d.Shadow = &sh
	}
	return d
}

// ActionOut is the answer to a quote action: the quote after it, and the
// event it emitted with the decision. Delivery is asynchronous.
type ActionOut struct {
	Quote QuoteOut `json:"quote"`
	Event EventOut `json:"event"`
}

// RejectIn is the optional body of a rejection.
type RejectIn struct {
	Reason string `json:"reason,omitempty" maxLength:"1000"`
}

// ActionInput is a quote action's path and Idempotency-Key.
type ActionInput struct {
	QuotePath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Repeat a request safely: the same key returns the first response"`
}

type rejectInput struct {
	ActionInput
	Body *RejectIn `required:"false"`
}

type actionOutput struct {
	Replayed string `header:"Idempotent-Replayed"`
	Body     ActionOut
}

func (s *Server) quoteAction(action engine.Action) func(context.Context, *ActionInput) (*actionOutput, error) {
	return func(ctx context.Context, in *ActionInput) (*actionOutput, error) {
		return s.runAction(ctx, app.ActionRequest{TenantID: principal(ctx).TenantID, QuoteID: in.QuoteID,
			Action: action, IdempotencyKey: in.IdempotencyKey})
	}
}

func (s *Server) rejectQuote(ctx context.Context, in *rejectInput) (*actionOutput, error) {
	req := app.ActionRequest{TenantID: principal(ctx).TenantID, QuoteID: in.QuoteID, Action: engine.ActionReject,
		IdempotencyKey: in.IdempotencyKey}
	if in.Body != nil {
		req.RejectionReason = in.Body.Reason
	}
	return s.runAction(ctx, req)
}

func (s *Server) runAction(ctx context.Context, req app.ActionRequest) (*actionOutput, error) {
	res, err := s.app.QuoteAction(ctx, req)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := &actionOutput{Body: ActionOut{Quote: s.quoteOut(&res.Quote), Event: eventOut(&res.Event)}}
	if res.Replayed {
		out.Replayed = "true"
	}
	return out, nil
}

// PublicQuoteOut is what the customer's link shows.
type PublicQuoteOut struct {
	Number          string     `json:"number"`
	Amount          float64    `json:"amount"`
	Currency        string     `json:"currency"`
	Status          string     `json:"status"`
	ValidUntil      *time.Time `json:"valid_until"`
	Company         string     `json:"company"`
	CustomerName    string     `json:"customer_name"`
	RejectionReason string     `json:"rejection_reason,omitempty"`
}

// TokenPath names a quote by its public token.
type TokenPath struct {
	Token string `path:"token"`
}

// getPublicQuote shows the quote to its customer as JSON (a browser gets
// the page instead: serveQuotePage). It records nothing: a GET is what a
// mail scanner prefetching the link sends too, so the view is the page's
// own request (viewPublicQuote).
func (s *Server) getPublicQuote(ctx context.Context, in *TokenPath) (*body[PublicQuoteOut], error) {
	q, err := s.app.GetQuoteByToken(ctx, in.Token)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[PublicQuoteOut]{Body: s.publicQuote(ctx, q)}, nil
}

func (s *Server) publicQuote(ctx context.Context, q *engine.Quote) PublicQuoteOut {
	out := PublicQuoteOut{Number: q.Number, Amount: q.Amount(), Currency: q.Currency, Status: string(q.Status),
		ValidUntil: timePtr(q.ValidUntil), RejectionReason: q.RejectionReason}
	if t, err := s.app.GetTenant(ctx, q.TenantID); err == nil {
		out.Company = t.Name
	}
	if l, err := s.app.GetLead(ctx, q.TenantID, q.LeadID); err == nil {
		out.CustomerName = l.FirstName
	}
	return out
}

type publicActionInput struct {
	TokenPath
	IdempotencyKey string    `header:"Idempotency-Key" maxLength:"255"`
	Body           *RejectIn `required:"false"`
}

func (s *Server) publicAction(action engine.Action) func(context.Context, *publicActionInput) (*body[PublicQuoteOut], error) {
	return func(ctx context.Context, in *publicActionInput) (*body[PublicQuoteOut], error) {
		req := app.ActionRequest{Token: in.Token, Action: action, IdempotencyKey: in.IdempotencyKey}
		if in.Body != nil && action == engine.ActionReject {
			req.RejectionReason = in.Body.Reason
		}
		res, err := s.app.QuoteAction(ctx, req)
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		return &body[PublicQuoteOut]{Body: s.publicQuote(ctx, &res.Quote)}, nil
	}
}

type unsubscribeInput struct {
	TokenPath
	RawBody []byte
}

// UnsubscribeOut confirms an unsubscription.
type UnsubscribeOut struct {
	Unsubscribed bool `json:"unsubscribed"`
}

// unsubscribe is the target of List-Unsubscribe-Post: mail clients POST
// "List-Unsubscribe=One-Click" (RFC 8058); any POST opts the lead out.
func (s *Server) unsubscribe(ctx context.Context, in *unsubscribeInput) (*body[UnsubscribeOut], error) {
	if err := s.app.Unsubscribe(ctx, in.Token); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[UnsubscribeOut]{Body: UnsubscribeOut{Unsubscribed: true}}, nil
}

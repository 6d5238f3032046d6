package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
)

// ResolutionOut is a decision with what it was made for.
type ResolutionOut struct {
	Trigger string `json:"trigger"`
	LeadID  string `json:"lead_id,omitempty"`
	QuoteID string `json:"quote_id,omitempty"`
	engine.Decision
}

type resolutionInput struct {
	LeadPath
	Trigger string `query:"trigger" required:"true" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	QuoteID string `query:"quote_id" doc:"Add this quote of the lead to the context"`
}

func (s *Server) getResolution(ctx context.Context, in *resolutionInput) (*body[ResolutionOut], error) {
	res, err := s.app.Resolve(ctx, principal(ctx).TenantID, app.ResolveRequest{
		Trigger: engine.Trigger(in.Trigger), LeadID: in.LeadID, QuoteID: in.QuoteID})
	if err != nil {
		return nil, toProblem(ctx, s.log, engine.PrefixFields(err, "query"))
	}
	out := ResolutionOut{Trigger: in.Trigger, LeadID: in.LeadID, Decision: decisionOut(res.Decision)}
	if res.Quote != nil {
		out.QuoteID = res.Quote.ID
	}
	return &body[ResolutionOut]{Body: out}, nil
}

// PreviewQuoteIn is the what-if quote of a resolver preview.
type PreviewQuoteIn struct {
	Number          string     `json:"number,omitempty"`
	Amount          float64    `json:"amount,omitempty" minimum:"0"`
	Currency        string     `json:"currency,omitempty" doc:"default EUR"`
	Status          string     `json:"status,omitempty" enum:"draft,sent,viewed,accepted,rejected,expired"`
	ValidUntil      *time.Time `json:"valid_until,omitempty" nullable:"true"`
	Revision        int64      `json:"revision,omitempty"`
	RejectionReason string     `json:"rejection_reason,omitempty"`
}

// PreviewIn is POST /v1/resolver/preview: a lead context given in full.
type PreviewIn struct {
	Trigger string          `json:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Lead    LeadIn          `json:"lead"`
	Quote   *PreviewQuoteIn `json:"quote,omitempty"`
}

func (s *Server) previewResolution(ctx context.Context, in *body[PreviewIn]) (*body[ResolutionOut], error) {
	b := in.Body
	req := app.ResolveRequest{Trigger: engine.Trigger(b.Trigger), Lead: b.Lead.lead()}
	if q := b.Quote; q != nil {
		req.Quote = &engine.Quote{Number: q.Number, Currency: q.Currency, Status: engine.QuoteStatus(q.Status),
			ValidUntil: timePtr(q.ValidUntil), Revision: q.Revision, RejectionReason: q.RejectionReason}
		if req.Quote.Currency == "" {
			req.Quote.Currency = "EUR"
		}
		req.QuoteAmount = q.Amount
	}
	res, err := s.app.Resolve(ctx, principal(ctx).TenantID, req)
	if err != nil {
		return nil, toProblem(ctx, s.log, engine.PrefixFields(err, "body"))
	}
	return &body[ResolutionOut]{Body: ResolutionOut{Trigger: b.Trigger, Decision: decisionOut(res.Decision)}}, nil
}

func (s *Server) getCoverage(ctx context.Context, _ *struct{}) (*body[resolver.CoverageReport], error) {
	rep, err := s.app.Coverage(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[resolver.CoverageReport]{Body: rep}, nil
}

// LegacySettingsBody is the deprecated per-trigger configuration, keyed by
// trigger (quote.sent, quote.accepted, quote.expired).
type LegacySettingsBody map[string]engine.LegacySetting

func (s *Server) getLegacy(ctx context.Context, _ *struct{}) (*body[LegacySettingsBody], error) {
	ls, err := s.app.GetLegacySettings(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := LegacySettingsBody{}
	for t, v := range ls {
		v.Channels = nonNil(v.Channels)
		out[string(t)] = v
	}
	return &body[LegacySettingsBody]{Body: out}, nil
}

func (s *Server) putLegacy(ctx context.Context, in *body[LegacySettingsBody]) (*body[LegacySettingsBody], error) {
	ls := engine.LegacySettings{}
	for t, v := range in.Body {
		ls[engine.Trigger(t)] = v
	}
	if err := s.app.PutLegacySettings(ctx, principal(ctx).TenantID, ls); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return s.getLegacy(ctx, nil)
}

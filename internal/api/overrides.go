package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// OverrideIn is POST /v1/leads/{lead_id}/overrides.
type OverrideIn struct {
	Trigger    string     `json:"trigger" enum:"*,quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Action     string     `json:"action" enum:"workflow,suppress"`
	WorkflowID string     `json:"workflow_id,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty" nullable:"true"`
	Reason     string     `json:"reason,omitempty" maxLength:"1000"`
}

// OverrideOut is a lead override as the API shows it.
type OverrideOut struct {
	ID         string     `json:"id"`
	LeadID     string     `json:"lead_id"`
	Trigger    string     `json:"trigger"`
	Action     string     `json:"action"`
	WorkflowID string     `json:"workflow_id,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Reason     string     `json:"reason"`
	Active     bool       `json:"active" doc:"false once expires_at has passed"`
	CreatedAt  time.Time  `json:"created_at"`
}

func (s *Server) overrideOut(o *engine.Override) OverrideOut {
	return OverrideOut{ID: o.ID, LeadID: o.LeadID, Trigger: o.Trigger, Action: string(o.Action),
		WorkflowID: o.WorkflowID, ExpiresAt: timePtr(o.ExpiresAt), Reason: o.Reason,
		Active: o.Active(s.app.Now()), CreatedAt: o.CreatedAt}
}

type createOverrideInput struct {
	LeadPath
	Body OverrideIn
}

func (s *Server) createOverride(ctx context.Context, in *createOverrideInput) (*body[OverrideOut], error) {
	b := in.Body
	o := &engine.Override{TenantID: principal(ctx).TenantID, LeadID: in.LeadID, Trigger: b.Trigger,
		Action: engine.OverrideAction(b.Action), WorkflowID: b.WorkflowID, ExpiresAt: inTime(b.ExpiresAt), Reason: b.Reason}
	out := func(o *engine.Override) *body[OverrideOut] { return &body[OverrideOut]{Body: s.overrideOut(o)} }
	answerWith(ctx, out)
	if err := s.app.CreateOverride(ctx, o); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(o), nil
}

func (s *Server) listOverrides(ctx context.Context, in *LeadPath) (*body[Items[OverrideOut]], error) {
	os, err := s.app.LeadOverrides(ctx, principal(ctx).TenantID, in.LeadID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[Items[OverrideOut]]{Body: itemsOf(os, s.overrideOut)}, nil
}

// OverridePath names a lead override in the URL.
type OverridePath struct {
	LeadPath
	OverrideID string `path:"override_id"`
}

func (s *Server) deleteOverride(ctx context.Context, in *OverridePath) (*struct{}, error) {
	if err := s.app.DeleteOverride(ctx, principal(ctx).TenantID, in.LeadID, in.OverrideID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}

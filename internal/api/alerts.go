package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// AlertOut is an alert as the API shows it.
type AlertOut struct {
	ID         string             `json:"id"`
	Kind       string             `json:"kind" enum:"circuit_open,provider_failing,message_failed,decision_spike,dead_rule,delivery_lag,rule_field_missing"`
	Subject    string             `json:"subject" doc:"What the alert is about within its kind: the provider, the message id, trigger/outcome, the rule id, rule id/field; empty for delivery_lag"`
	State      string             `json:"state" enum:"open,resolved"`
	LeadID     string             `json:"lead_id,omitempty"`
	MessageID  string             `json:"message_id,omitempty"`
	RuleID     string             `json:"rule_id,omitempty"`
	Provider   string             `json:"provider,omitempty"`
	Trigger    string             `json:"trigger,omitempty"`
	Summary    string             `json:"summary" doc:"What happened, in words"`
	Action     string             `json:"action" doc:"What to do about it"`
	Figures    map[string]float64 `json:"figures" doc:"The numbers behind the alert: counts, shares, seconds"`
	FirstSeen  time.Time          `json:"first_seen"`
	LastSeen   time.Time          `json:"last_seen" doc:"The last evaluation that still found the condition"`
	ResolvedAt *time.Time         `json:"resolved_at,omitempty"`
	// EmailedAt and EmailStatus are the email that named the alert.
	EmailedAt   *time.Time `json:"emailed_at,omitempty" doc:"When an email naming this alert was queued to the tenant's alert address; absent when none was (no address, or the same kind and subject was emailed within the hour)"`
	EmailStatus string     `json:"email_status,omitempty" enum:"queued,sending,sent,failed,unknown" doc:"That email's status"`
}

func alertOut(a *engine.Alert) AlertOut {
	figures := a.Figures
	if figures == nil {
		figures = map[string]float64{}
	}
	return AlertOut{ID: a.ID, Kind: string(a.Kind), Subject: a.Subject, State: string(a.State), LeadID: a.LeadID,
		MessageID: a.MessageID, RuleID: a.RuleID, Provider: a.Provider, Trigger: a.Trigger, Summary: a.Summary,
		Action: a.Action, Figures: figures, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, ResolvedAt: a.ResolvedAt,
		EmailedAt: a.EmailedAt, EmailStatus: a.EmailStatus}
}

type listAlertsInput struct {
	PageParams
	State  string `query:"state" enum:"open,resolved"`
	Kind   string `query:"kind" enum:"circuit_open,provider_failing,message_failed,decision_spike,dead_rule,delivery_lag,rule_field_missing"`
	LeadID string `query:"lead_id"`
}

func (s *Server) listAlerts(ctx context.Context, in *listAlertsInput) (*body[List[AlertOut]], error) {
	as, next, err := s.app.ListAlerts(ctx, principal(ctx).TenantID,
		engine.AlertFilter{State: engine.AlertState(in.State), Kind: engine.AlertKind(in.Kind), LeadID: in.LeadID}, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[AlertOut]]{Body: listOf(as, next, alertOut)}, nil
}

package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// RuleIn is POST /v1/assignment-rules.
type RuleIn struct {
	Name       string          `json:"name" minLength:"1" maxLength:"200"`
	Trigger    string          `json:"trigger" enum:"*,quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Priority   *int            `json:"priority,omitempty" doc:"Lower runs first; default after every existing rule"`
	Enabled    *bool           `json:"enabled,omitempty" doc:"default true"`
	Condition  json.RawMessage `json:"condition" doc:"A condition tree; {\"all\": []} matches every lead"`
	WorkflowID string          `json:"workflow_id"`
}

// RulePatch is PATCH /v1/assignment-rules/{rule_id}.
type RulePatch struct {
	Name       *string         `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Trigger    *string         `json:"trigger,omitempty" enum:"*,quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Priority   *int            `json:"priority,omitempty"`
	Enabled    *bool           `json:"enabled,omitempty"`
	Condition  json.RawMessage `json:"condition,omitempty"`
	WorkflowID *string         `json:"workflow_id,omitempty"`
}

// RuleOut is an assignment rule as the API shows it.
type RuleOut struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Trigger    string          `json:"trigger"`
	Priority   int             `json:"priority"`
	Enabled    bool            `json:"enabled"`
	Condition  json.RawMessage `json:"condition"`
	WorkflowID string          `json:"workflow_id"`
	Version    int64           `json:"version"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

func ruleOut(r *engine.Rule) RuleOut {
	return RuleOut{ID: r.ID, Name: r.Name, Trigger: r.Trigger, Priority: r.Priority, Enabled: r.Enabled,
		Condition: r.Condition, WorkflowID: r.WorkflowID, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// RulePath names an assignment rule in the URL.
type RulePath struct {
	RuleID string `path:"rule_id"`
}

func (s *Server) createRule(ctx context.Context, in *body[RuleIn]) (*versioned[RuleOut], error) {
	b := in.Body
	r := &engine.Rule{TenantID: principal(ctx).TenantID, Name: b.Name, Trigger: b.Trigger,
		Enabled: b.Enabled == nil || *b.Enabled, Condition: b.Condition, WorkflowID: b.WorkflowID}
	out := func(r *engine.Rule) *versioned[RuleOut] { return withETag(ruleOut(r), r.Version) }
	answerWith(ctx, out)
	if err := s.app.CreateRule(ctx, r, b.Priority); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(r), nil
}

func (s *Server) getRule(ctx context.Context, in *RulePath) (*versioned[RuleOut], error) {
	r, err := s.app.GetRule(ctx, principal(ctx).TenantID, in.RuleID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(ruleOut(r), r.Version), nil
}

func (s *Server) listRules(ctx context.Context, _ *struct{}) (*body[Items[RuleOut]], error) {
	rules, err := s.app.ListRules(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[Items[RuleOut]]{Body: itemsOf(rules, ruleOut)}, nil
}

type patchRuleInput struct {
	RulePath
	IfMatch
	Body RulePatch
}

func (s *Server) patchRule(ctx context.Context, in *patchRuleInput) (*versioned[RuleOut], error) {
	want, err := in.version(func() (int64, error) {
		r, err := s.app.GetRule(ctx, principal(ctx).TenantID, in.RuleID)
		if err != nil {
			return 0, err
		}
		return r.Version, nil
	})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	r, err := s.app.GetRule(ctx, principal(ctx).TenantID, in.RuleID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	b := in.Body
	if b.Name != nil {
		r.Name = *b.Name
	}
	if b.Trigger != nil {
		r.Trigger = *b.Trigger
	}
	if b.Priority != nil {
		r.Priority = *b.Priority
	}
	if b.Enabled != nil {
		r.Enabled = *b.Enabled
	}
	if b.Condition != nil {
		r.Condition = b.Condition
	}
	if b.WorkflowID != nil {
		r.WorkflowID = *b.WorkflowID
	}
	if err := s.app.UpdateRule(ctx, r, want); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(ruleOut(r), r.Version), nil
}

func (s *Server) deleteRule(ctx context.Context, in *RulePath) (*struct{}, error) {
	if err := s.app.DeleteRule(ctx, principal(ctx).TenantID, in.RuleID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}

// ReorderRulesIn is POST /v1/assignment-rules/reorder: every rule id in the
// new order of evaluation.
type ReorderRulesIn struct {
	RuleIDs []string `json:"rule_ids"`
}

func (s *Server) reorderRules(ctx context.Context, in *body[ReorderRulesIn]) (*body[Items[RuleOut]], error) {
	tenant := principal(ctx).TenantID
	out := func(rules []engine.Rule) *body[Items[RuleOut]] {
		return &body[Items[RuleOut]]{Body: itemsOf(rules, ruleOut)}
	}
	answerWith(ctx, out)
	rules, err := s.app.ReorderRules(ctx, tenant, in.Body.RuleIDs)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(rules), nil
}

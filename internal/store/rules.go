package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const ruleColumns = `id, tenant_id, name, trigger, priority, enabled, condition, workflow_id, version, created_at, updated_at`

// ruleOrder is the order in which the resolver considers rules: ascending
// priority, ties broken by age.
const ruleOrder = ` ORDER BY priority, created_at, id`

func scanRule(s scanner) (engine.Rule, error) {
	var r engine.Rule
	var cond []byte
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.Name, &r.Trigger, &r.Priority, &r.Enabled, &cond, &r.WorkflowID,
		&r.Version, &created, &updated); err != nil {
		return r, err
	}
	var err error
	if r.Condition, err = rawJSON(cond); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

func errRuleWorkflow() error { return engine.Invalid("body.workflow_id", "no such workflow") }

// CreateRule stores r, whose workflow must exist in the tenant and not be
// deleted (else EINVALID on body.workflow_id), and fills in its ID, Version
// and times.
func (db *DB) CreateRule(ctx context.Context, r *engine.Rule) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateRule(ctx, r) })
}

// CreateRule is DB.CreateRule in tx.
func (tx *Tx) CreateRule(ctx context.Context, r *engine.Rule) error {
	if err := tx.bumpConfig(ctx, r.TenantID); err != nil {
		return err
	}
	if err := tx.checkWorkflow(ctx, r.TenantID, r.WorkflowID, errRuleWorkflow()); err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	cond, err := rawJSONValue(r.Condition, "body.condition")
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO assignment_rules (`+ruleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		id, r.TenantID, r.Name, r.Trigger, r.Priority, r.Enabled, cond, r.WorkflowID, micros(tx.now), micros(tx.now))
	if err != nil {
		return translate(err, "create rule", onViolation{foreign: errRuleWorkflow()})
	}
	r.ID, r.Version, r.CreatedAt, r.UpdatedAt = id, 1, tx.now, tx.now
	return nil
}

// GetRule returns the tenant's rule with id.
func (db *DB) GetRule(ctx context.Context, tenantID, id string) (*engine.Rule, error) {
	return db.auto().GetRule(ctx, tenantID, id)
}

// GetRule is DB.GetRule in tx.
func (tx *Tx) GetRule(ctx context.Context, tenantID, id string) (*engine.Rule, error) {
	r, err := scanRule(tx.queryRow(ctx, `SELECT `+ruleColumns+` FROM assignment_rules WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("assignment rule")
	}
	if err != nil {
		return nil, translate(err, "get rule", onViolation{})
	}
	return &r, nil
}

// ListRules returns all the tenant's rules in the resolver's order:
// priority, then creation time, then id. It is not paginated, because the
// order is the point.
func (db *DB) ListRules(ctx context.Context, tenantID string) ([]engine.Rule, error) {
	return db.auto().ListRules(ctx, tenantID)
}

// ListRules is DB.ListRules in tx.
func (tx *Tx) ListRules(ctx context.Context, tenantID string) ([]engine.Rule, error) {
	rules, err := collect(ctx, tx, scanRule, `SELECT `+ruleColumns+` FROM assignment_rules WHERE tenant_id = ?`+ruleOrder, tenantID)
	return rules, translate(err, "list rules", onViolation{})
}

// UpdateRule stores r's name, trigger, priority, enabled, condition and
// workflow. ifVersion, if not 0, must be the stored version.
func (db *DB) UpdateRule(ctx context.Context, r *engine.Rule, ifVersion int64) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.UpdateRule(ctx, r, ifVersion) })
}

// UpdateRule is DB.UpdateRule in tx.
func (tx *Tx) UpdateRule(ctx context.Context, r *engine.Rule, ifVersion int64) error {
	if err := tx.bumpConfig(ctx, r.TenantID); err != nil {
		return err
	}
	// Not found and stale come before a bad workflow: 404 and 412 say more
	// about the request than 422 does.
	var have, created int64
	err := tx.queryRow(ctx, `SELECT version, created_at FROM assignment_rules WHERE tenant_id = ? AND id = ?`,
		r.TenantID, r.ID).Scan(&have, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("assignment rule")
	}
	if err != nil {
		return translate(err, "get rule version", onViolation{})
	}
	if ifVersion != 0 && ifVersion != have {
		return preconditionFailed("assignment rule", ifVersion, have)
	}
	if err := tx.checkWorkflow(ctx, r.TenantID, r.WorkflowID, errRuleWorkflow()); err != nil {
		return err
	}
	cond, err := rawJSONValue(r.Condition, "body.condition")
	if err != nil {
		return err
	}
	err = tx.execOne(ctx, preconditionFailed("assignment rule", have, have+1),
		`UPDATE assignment_rules SET name = ?, trigger = ?, priority = ?, enabled = ?, condition = ?, workflow_id = ?,
		version = version + 1, updated_at = ? WHERE tenant_id = ? AND id = ? AND version = ?`,
		r.Name, r.Trigger, r.Priority, r.Enabled, cond, r.WorkflowID, micros(tx.now), r.TenantID, r.ID, have)
	if err != nil {
		return translate(err, "update rule", onViolation{foreign: errRuleWorkflow()})
	}
	r.Version, r.CreatedAt, r.UpdatedAt = have+1, fromMicros(created), tx.now
	return nil
}

// DeleteRule deletes the tenant's rule.
func (db *DB) DeleteRule(ctx context.Context, tenantID, id string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DeleteRule(ctx, tenantID, id) })
}

// DeleteRule is DB.DeleteRule in tx.
func (tx *Tx) DeleteRule(ctx context.Context, tenantID, id string) error {
	if err := tx.bumpConfig(ctx, tenantID); err != nil {
		return err
	}
	err := tx.execOne(ctx, notFound("assignment rule"), `DELETE FROM assignment_rules WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return translate(err, "delete rule", onViolation{})
}

// ReorderRules gives the tenant's rules the order of ids: priorities 10, 20,
// 30, ... and a new version each. ids must list every rule of the tenant
// exactly once; otherwise it is EINVALID on body.rule_ids, naming each
// unknown, repeated or missing id.
func (db *DB) ReorderRules(ctx context.Context, tenantID string, ids []string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.ReorderRules(ctx, tenantID, ids) })
}

// ReorderRules is DB.ReorderRules in tx.
func (tx *Tx) ReorderRules(ctx context.Context, tenantID string, ids []string) error {
	if err := tx.bumpConfig(ctx, tenantID); err != nil {
		return err
	}
	existing, err := collect(ctx, tx, scanString, `SELECT id FROM assignment_rules WHERE tenant_id = ?`+ruleOrder, tenantID)
	if err != nil {
		return translate(err, "list rule ids", onViolation{})
	}
	known := make(map[string]bool, len(existing))
	for _, id := range existing {
		known[id] = true
	}
	var problems []engine.FieldError
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		switch {
		case !known[id]:
			problems = append(problems, engine.FieldError{Field: "body.rule_ids", Value: id,
				Message: fmt.Sprintf("rule_ids[%d]: unknown rule %q", i, id)})
		case seen[id]:
			problems = append(problems, engine.FieldError{Field: "body.rule_ids", Value: id,
				Message: fmt.Sprintf("rule_ids[%d]: rule %q is listed twice", i, id)})
		}
		seen[id] = true
	}
	for _, id := range existing {
		if !seen[id] {
			problems = append(problems, engine.FieldError{Field: "body.rule_ids", Value: id,
				Message: fmt.Sprintf("rule %q is missing", id)})
		}
	}
	if len(problems) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "rule_ids must list every assignment rule exactly once", Fields: problems}
	}
	for i, id := range ids {
		_, err := tx.exec(ctx, `UPDATE assignment_rules SET priority = ?, version = version + 1, updated_at = ?
			WHERE tenant_id = ? AND id = ?`, (i+1)*10, micros(tx.now), tenantID, id)
		if err != nil {
			return translate(err, "reorder rules", onViolation{})
		}
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// workflowSelect reads a workflow's identity joined with one of its
// versions; the caller completes the join condition on v.version.
const workflowSelect = `SELECT w.id, w.tenant_id, v.name, v.trigger, v.enabled, v.exit_on, v.version,
	w.created_at, v.created_at
	FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.tenant_id = w.tenant_id AND v.version = `

func scanWorkflow(s scanner) (engine.Workflow, error) {
	var w engine.Workflow
	var exitOn []byte
	var created, updated int64
	if err := s.Scan(&w.ID, &w.TenantID, &w.Name, &w.Trigger, &w.Enabled, &exitOn, &w.Version, &created, &updated); err != nil {
		return w, err
	}
	if err := decodeJSON(exitOn, &w.ExitOn); err != nil {
		return w, err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return w, nil
}

// versionKey identifies one version of one workflow.
type versionKey struct {
	workflowID string
	version    int64
}

const stepColumns = `s.workflow_id, s.version, s.step_id, s.type, s.when_condition, s.email, s.whatsapp, s.wait, s.fallback_channel`

// steps reads workflow steps with query (which selects stepColumns ordered
// by workflow, version and position) and groups them by version.
func (tx *Tx) steps(ctx context.Context, query string, args ...any) (map[versionKey][]engine.Step, error) {
	out := map[versionKey][]engine.Step{}
	err := tx.each(ctx, func(rows scanner) error {
		var k versionKey
		var s engine.Step
		var when, email, whatsapp, wait []byte
		err := rows.Scan(&k.workflowID, &k.version, &s.ID, &s.Type, &when, &email, &whatsapp, &wait, &s.FallbackChannel)
		if err != nil {
			return err
		}
		if s.When, err = rawJSON(when); err != nil {
			return err
		}
		if s.Email, err = decodeOptional[engine.EmailContent](email); err != nil {
			return err
		}
		if s.WhatsApp, err = decodeOptional[engine.WhatsAppContent](whatsapp); err != nil {
			return err
		}
		if s.Wait, err = decodeOptional[engine.WaitSpec](wait); err != nil {
			return err
		}
		out[k] = append(out[k], s)
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attachSteps sets each workflow's steps from byVersion; a workflow
// without steps gets an empty list, not nil.
func attachSteps(ws []engine.Workflow, byVersion map[versionKey][]engine.Step) {
	for i := range ws {
		ws[i].Steps = byVersion[versionKey{ws[i].ID, ws[i].Version}]
		if ws[i].Steps == nil {
			ws[i].Steps = []engine.Step{}
		}
	}
}

// prepareSteps returns a copy of steps in which every step has an id: kept
// when given, a new UUIDv7 otherwise. Step ids are unique in a version.
func prepareSteps(steps []engine.Step) ([]engine.Step, error) {
	out := make([]engine.Step, len(steps))
	seen := make(map[string]int, len(steps))
	for i, s := range steps {
		if s.ID == "" {
			id, err := newID()
			if err != nil {
				return nil, err
			}
			s.ID = id
		}
		if j, dup := seen[s.ID]; dup {
			return nil, engine.Invalid(fmt.Sprintf("body.steps[%d].id", i), "step id %q is already used by step %d", s.ID, j)
		}
		seen[s.ID] = i
		out[i] = s
	}
	return out, nil
}

// insertVersion writes one immutable version of w, with steps, as version.
func (tx *Tx) insertVersion(ctx context.Context, w *engine.Workflow, version int64, steps []engine.Step) error {
	exitOn, err := jsonSlice(w.ExitOn)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO workflow_versions (tenant_id, workflow_id, version, name, trigger, enabled, exit_on, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.TenantID, w.ID, version, w.Name, string(w.Trigger), w.Enabled, exitOn, micros(tx.now))
	if err != nil {
		// Two updates of one workflow racing for the same version number.
		return translate(err, "insert workflow version", onViolation{
			unique: engine.Errorf(engine.EPRECONDITION, "workflow was changed concurrently"),
		})
	}
	for i, s := range steps {
		field := fmt.Sprintf("body.steps[%d]", i)
		when, err := rawJSONValue(s.When, field+".when")
		if err != nil {
			return err
		}
		email, err := jsonPtr(s.Email)
		if err != nil {
			return err
		}
		whatsapp, err := jsonPtr(s.WhatsApp)
		if err != nil {
			return err
		}
		wait, err := jsonPtr(s.Wait)
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `INSERT INTO workflow_steps (tenant_id, workflow_id, version, position, step_id, type,
			when_condition, email, whatsapp, wait, fallback_channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.TenantID, w.ID, version, i, s.ID, string(s.Type), when, email, whatsapp, wait, s.FallbackChannel)
		if err != nil {
			return translate(err, "insert workflow step", onViolation{
				unique: engine.Invalid(field+".id", "step id %q is used twice", s.ID),
			})
		}
	}
	return nil
}

// CreateWorkflow stores w as version 1 of a new workflow, giving an id to
// every step that has none, and fills in w's ID, Version, times and step
// ids.
func (db *DB) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.CreateWorkflow(ctx, w) })
}

// CreateWorkflow is DB.CreateWorkflow in tx.
func (tx *Tx) CreateWorkflow(ctx context.Context, w *engine.Workflow) error {
	if err := tx.bumpConfig(ctx, w.TenantID); err != nil {
		return err
	}
	id, err := newID()
	if err != nil {
		return err
	}
	steps, err := prepareSteps(w.Steps)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO workflows (id, tenant_id, current_version, created_at) VALUES (?, ?, 1, ?)`,
		id, w.TenantID, micros(tx.now))
	if err != nil {
		return translate(err, "create workflow", onViolation{})
	}
	created := *w
	created.ID = id
	if err := tx.insertVersion(ctx, &created, 1, steps); err != nil {
		return err
	}
	w.ID, w.Steps, w.Version, w.CreatedAt, w.UpdatedAt = id, steps, 1, tx.now, tx.now
	return nil
}

// GetWorkflow returns the current version of the tenant's workflow, with
// its steps in order. A deleted workflow is ENOTFOUND.
func (db *DB) GetWorkflow(ctx context.Context, tenantID, id string) (*engine.Workflow, error) {
	var w *engine.Workflow
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		w, err = tx.GetWorkflow(ctx, tenantID, id)
		return err
	})
	return w, err
}

// GetWorkflow is DB.GetWorkflow in tx.
func (tx *Tx) GetWorkflow(ctx context.Context, tenantID, id string) (*engine.Workflow, error) {
	return tx.getWorkflow(ctx, `w.current_version WHERE w.tenant_id = ? AND w.id = ? AND w.deleted_at IS NULL`, tenantID, id)
}

// GetWorkflowVersion returns one version of the tenant's workflow, with its
// steps. Versions of a deleted workflow stay readable, because runs that
// started before the deletion execute them.
func (db *DB) GetWorkflowVersion(ctx context.Context, tenantID, id string, version int64) (*engine.Workflow, error) {
	var w *engine.Workflow
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		w, err = tx.GetWorkflowVersion(ctx, tenantID, id, version)
		return err
	})
	return w, err
}

// GetWorkflowVersion is DB.GetWorkflowVersion in tx.
func (tx *Tx) GetWorkflowVersion(ctx context.Context, tenantID, id string, version int64) (*engine.Workflow, error) {
	return tx.getWorkflow(ctx, `? WHERE w.tenant_id = ? AND w.id = ?`, version, tenantID, id)
}

func (tx *Tx) getWorkflow(ctx context.Context, rest string, args ...any) (*engine.Workflow, error) {
	w, err := scanWorkflow(tx.queryRow(ctx, workflowSelect+rest, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("workflow")
	}
	if err != nil {
		return nil, translate(err, "get workflow", onViolation{})
	}
	steps, err := tx.steps(ctx, `SELECT `+stepColumns+` FROM workflow_steps s
		WHERE s.tenant_id = ? AND s.workflow_id = ? AND s.version = ? ORDER BY s.position`, w.TenantID, w.ID, w.Version)
	if err != nil {
		return nil, translate(err, "get workflow steps", onViolation{})
	}
	ws := []engine.Workflow{w}
	attachSteps(ws, steps)
	return &ws[0], nil
}

// ListWorkflows returns a page of the tenant's workflows that are not
// deleted, oldest first, each at its current version with its steps.
func (db *DB) ListWorkflows(ctx context.Context, tenantID string, p engine.Page) ([]engine.Workflow, string, error) {
	var ws []engine.Workflow
	var next string
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		ws, next, err = tx.ListWorkflows(ctx, tenantID, p)
		return err
	})
	return ws, next, err
}

// ListWorkflows is DB.ListWorkflows in tx.
func (tx *Tx) ListWorkflows(ctx context.Context, tenantID string, p engine.Page) ([]engine.Workflow, string, error) {
	ws, next, err := paginate(p, func(w *engine.Workflow) string { return w.ID }, func(after string, limit int) ([]engine.Workflow, error) {
		return collect(ctx, tx, scanWorkflow, workflowSelect+`w.current_version
			WHERE w.tenant_id = ? AND w.deleted_at IS NULL AND w.id > ? ORDER BY w.id LIMIT ?`, tenantID, after, limit)
	})
	if err != nil || len(ws) == 0 {
		return ws, next, translate(err, "list workflows", onViolation{})
	}
	// The page is the id range (After, last id]: one query fetches the
	// steps of all its workflows.
	steps, err := tx.steps(ctx, `SELECT `+stepColumns+` FROM workflow_steps s
		JOIN workflows w ON w.tenant_id = s.tenant_id AND w.id = s.workflow_id AND w.current_version = s.version
		WHERE w.tenant_id = ? AND w.deleted_at IS NULL AND w.id > ? AND w.id <= ?
		ORDER BY s.workflow_id, s.position`, tenantID, p.After, ws[len(ws)-1].ID)
	if err != nil {
		return nil, "", translate(err, "list workflow steps", onViolation{})
	}
	attachSteps(ws, steps)
	return ws, next, nil
}

// ListWorkflowVersions returns every version of the tenant's workflow,
// newest first, each with its steps. A deleted workflow is ENOTFOUND.
func (db *DB) ListWorkflowVersions(ctx context.Context, tenantID, id string) ([]engine.Workflow, error) {
	var ws []engine.Workflow
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		ws, err = tx.ListWorkflowVersions(ctx, tenantID, id)
		return err
	})
	return ws, err
}

// ListWorkflowVersions is DB.ListWorkflowVersions in tx.
func (tx *Tx) ListWorkflowVersions(ctx context.Context, tenantID, id string) ([]engine.Workflow, error) {
	ws, err := collect(ctx, tx, scanWorkflow, workflowSelect+`v.version
		WHERE w.tenant_id = ? AND w.id = ? AND w.deleted_at IS NULL ORDER BY v.version DESC`, tenantID, id)
	if err != nil {
		return nil, translate(err, "list workflow versions", onViolation{})
	}
	if len(ws) == 0 {
		return nil, notFound("workflow")
	}
	steps, err := tx.steps(ctx, `SELECT `+stepColumns+` FROM workflow_steps s
		WHERE s.tenant_id = ? AND s.workflow_id = ? ORDER BY s.version, s.position`, tenantID, id)
	if err != nil {
		return nil, translate(err, "list workflow steps", onViolation{})
	}
	attachSteps(ws, steps)
	return ws, nil
}

// UpdateWorkflow writes w's name, trigger, enabled, exit_on and steps as the
// workflow's next version and makes it current; earlier versions stay as
// they were. Steps without an id get one; given ids are kept, so a step
// keeps its id across versions. ifVersion, if not 0, must be the current
// version. w's Version, times and step ids are filled in.
func (db *DB) UpdateWorkflow(ctx context.Context, w *engine.Workflow, ifVersion int64) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.UpdateWorkflow(ctx, w, ifVersion) })
}

// UpdateWorkflow is DB.UpdateWorkflow in tx.
func (tx *Tx) UpdateWorkflow(ctx context.Context, w *engine.Workflow, ifVersion int64) error {
	if err := tx.bumpConfig(ctx, w.TenantID); err != nil {
		return err
	}
	var current, created int64
	err := tx.queryRow(ctx, `SELECT current_version, created_at FROM workflows
		WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, w.TenantID, w.ID).Scan(&current, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("workflow")
	}
	if err != nil {
		return translate(err, "get workflow version", onViolation{})
	}
	if ifVersion != 0 && ifVersion != current {
		return preconditionFailed("workflow", ifVersion, current)
	}
	steps, err := prepareSteps(w.Steps)
	if err != nil {
		return err
	}
	next := current + 1
	if err := tx.insertVersion(ctx, w, next, steps); err != nil {
		return err
	}
	err = tx.execOne(ctx, engine.Errorf(engine.EPRECONDITION, "workflow was changed concurrently"),
		`UPDATE workflows SET current_version = ? WHERE tenant_id = ? AND id = ? AND current_version = ?`,
		next, w.TenantID, w.ID, current)
	if err != nil {
		return translate(err, "update workflow", onViolation{})
	}
	w.Steps, w.Version, w.CreatedAt, w.UpdatedAt = steps, next, fromMicros(created), tx.now
	return nil
}

// DeleteWorkflow marks the workflow deleted: it disappears from reads and
// lists, but its versions stay for the runs that execute them. While an
// assignment rule or a lead override points at it, it is ECONFLICT.
func (db *DB) DeleteWorkflow(ctx context.Context, tenantID, id string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DeleteWorkflow(ctx, tenantID, id) })
}

// DeleteWorkflow is DB.DeleteWorkflow in tx.
func (tx *Tx) DeleteWorkflow(ctx context.Context, tenantID, id string) error {
	if err := tx.bumpConfig(ctx, tenantID); err != nil {
		return err
	}
	if err := tx.checkWorkflow(ctx, tenantID, id, notFound("workflow")); err != nil {
		return err
	}
	rules, err := collect(ctx, tx, scanString,
		`SELECT name FROM assignment_rules WHERE tenant_id = ? AND workflow_id = ? ORDER BY priority, created_at, id`, tenantID, id)
	if err != nil {
		return translate(err, "find rules of workflow", onViolation{})
	}
	overrides, err := collect(ctx, tx, scanString,
		`SELECT lead_id FROM lead_overrides WHERE tenant_id = ? AND workflow_id = ? ORDER BY lead_id, id`, tenantID, id)
	if err != nil {
		return translate(err, "find overrides of workflow", onViolation{})
	}
	if len(rules) > 0 || len(overrides) > 0 {
		var uses []string
		if len(rules) > 0 {
			uses = append(uses, fmt.Sprintf("assignment rules %q", rules))
		}
		if len(overrides) > 0 {
			uses = append(uses, fmt.Sprintf("overrides of leads %q", overrides))
		}
		return engine.Errorf(engine.ECONFLICT, "workflow is still used by %s", strings.Join(uses, " and "))
	}
	err = tx.execOne(ctx, notFound("workflow"),
		`UPDATE workflows SET deleted_at = ? WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, micros(tx.now), tenantID, id)
	return translate(err, "delete workflow", onViolation{})
}

// checkWorkflow returns missing unless the tenant has the workflow and it is
// not deleted. Rules and overrides may only point at such workflows; the
// foreign key alone would accept a deleted one.
func (tx *Tx) checkWorkflow(ctx context.Context, tenantID, id string, missing error) error {
	ok, err := tx.exists(ctx, `SELECT 1 FROM workflows WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL`, tenantID, id)
	if err != nil {
		return translate(err, "check workflow", onViolation{})
	}
	if !ok {
		return missing
	}
	return nil
}

func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

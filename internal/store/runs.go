package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

const runColumns = `id, tenant_id, event_id, lead_id, quote_id, workflow_id, workflow_version, trigger, status, shadow,
	reason, created_at, updated_at, finished_at`

func scanRun(s scanner) (engine.Run, error) {
	var r engine.Run
	var quoteID sql.NullString
	var created, updated int64
	var finished sql.NullInt64
	if err := s.Scan(&r.ID, &r.TenantID, &r.EventID, &r.LeadID, &quoteID, &r.WorkflowID, &r.WorkflowVersion,
		&r.Trigger, &r.Status, &r.Shadow, &r.Reason, &created, &updated, &finished); err != nil {
		return r, err
	}
	r.QuoteID = quoteID.String
	r.CreatedAt, r.UpdatedAt, r.FinishedAt = fromMicros(created), fromMicros(updated), timePtr(finished)
	return r, nil
}

// InsertRun stores r and fills in its ID and times. Its event, lead, quote
// and workflow version must be the tenant's (else EINVALID).
func (tx *Tx) InsertRun(ctx context.Context, r *engine.Run) error {
	s, err := tx.insertRun(r)
	if err != nil {
		return err
	}
	if err := tx.batch(ctx, s); err != nil {
		r.ID = ""
		return err
	}
	return nil
}

// insertRun is InsertRun's statement; it sets r's ID and times.
func (tx *Tx) insertRun(r *engine.Run) (stmt, error) {
	id, err := newID()
	if err != nil {
		return stmt{}, err
	}
	finished := normTime(r.FinishedAt)
	s := stmt{
		query: `INSERT INTO runs (` + runColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		args: []any{id, r.TenantID, r.EventID, r.LeadID, nullString(r.QuoteID), r.WorkflowID, r.WorkflowVersion, string(r.Trigger),
			string(r.Status), r.Shadow, r.Reason, micros(tx.now), micros(tx.now), nullMicros(finished)},
		what: "insert run",
	}
	r.ID, r.CreatedAt, r.UpdatedAt, r.FinishedAt = id, tx.now, tx.now, finished
	return s, nil
}

// GetRun returns the tenant's run with id.
func (db *DB) GetRun(ctx context.Context, tenantID, id string) (*engine.Run, error) {
	return db.auto().GetRun(ctx, tenantID, id)
}

// GetRun is DB.GetRun in tx.
func (tx *Tx) GetRun(ctx context.Context, tenantID, id string) (*engine.Run, error) {
	r, err := scanRun(tx.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("run")
	}
	if err != nil {
		return nil, translate(err, "get run", onViolation{})
	}
	return &r, nil
}

// ListRuns returns a page of the tenant's runs that match f, oldest first
// (id order), and the cursor of the next page.
func (db *DB) ListRuns(ctx context.Context, tenantID string, f engine.RunFilter, p engine.Page) ([]engine.Run, string, error) {
	return db.auto().ListRuns(ctx, tenantID, f, p)
}

// ListRuns is DB.ListRuns in tx.
func (tx *Tx) ListRuns(ctx context.Context, tenantID string, f engine.RunFilter, p engine.Page) ([]engine.Run, string, error) {
	w := newWhere(tenantID)
	w.eq("lead_id", f.LeadID)
	w.eq("quote_id", f.QuoteID)
	w.eq("status", string(f.Status))
	w.eq("event_id", f.EventID)
	runs, next, err := paginate(p, func(r *engine.Run) string { return r.ID }, func(after string, limit int) ([]engine.Run, error) {
		return collect(ctx, tx, scanRun, `SELECT `+runColumns+` FROM runs WHERE `+w.sql+` AND id > ? ORDER BY id LIMIT ?`,
			append(w.args, after, limit)...)
	})
	return runs, next, translate(err, "list runs", onViolation{})
}

// listActiveRunsQuery is ListActiveRuns' query, which the index
// runs_quote_status answers in order; a test checks the plan.
const listActiveRunsQuery = `SELECT ` + runColumns + ` FROM runs
	WHERE tenant_id = ? AND quote_id = ? AND status = ? ORDER BY id`

// ListActiveRuns returns the quote's active runs, oldest first: the runs a
// status in their workflow's exit_on cancels, and that a new send of the
// same workflow supersedes. Lock the quote first (GetQuoteForUpdate) so
// that no run starts meanwhile.
func (tx *Tx) ListActiveRuns(ctx context.Context, tenantID, quoteID string) ([]engine.Run, error) {
	runs, err := collect(ctx, tx, scanRun, listActiveRunsQuery, tenantID, quoteID, string(engine.RunActive))
	return runs, translate(err, "list active runs", onViolation{})
}

// FinishRun moves the run from active to status (completed, cancelled or
// failed) with reason, and sets its finished_at. It reports whether it did:
// a run that is no longer active is left alone (false, nil), so that a
// cancellation and a completion that race settle on the first. An unknown
// run is ENOTFOUND.
func (tx *Tx) FinishRun(ctx context.Context, tenantID, id string, status engine.RunStatus, reason string) (bool, error) {
	n, err := tx.batchCount(ctx, finishRunStmt(tenantID, id, status, reason, tx.now))
	if err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	ok, err := tx.exists(ctx, `SELECT 1 FROM runs WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return false, translate(err, "finish run", onViolation{})
	}
	if !ok {
		return false, notFound("run")
	}
	return false, nil
}

// finishRunStmt moves an active run to status; a run no longer active is
// left alone.
func finishRunStmt(tenantID, id string, status engine.RunStatus, reason string, now time.Time) stmt {
	return stmt{
		query: `UPDATE runs SET status = ?, reason = ?, finished_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ? AND status = ?`,
		args: []any{string(status), reason, micros(now), micros(now), tenantID, id, string(engine.RunActive)},
		what: "finish run",
	}
}

const runStepColumns = `id, tenant_id, run_id, step_id, position, type, status, outcome, detail, scheduled_at, started_at,
	finished_at, created_at, updated_at`

func scanRunStep(s scanner) (engine.RunStep, error) {
	var st engine.RunStep
	var scheduled, started, finished sql.NullInt64
	var created, updated int64
	if err := s.Scan(&st.ID, &st.TenantID, &st.RunID, &st.StepID, &st.Position, &st.Type, &st.Status, &st.Outcome,
		&st.Detail, &scheduled, &started, &finished, &created, &updated); err != nil {
		return st, err
	}
	st.ScheduledAt, st.StartedAt, st.FinishedAt = timePtr(scheduled), timePtr(started), timePtr(finished)
	st.CreatedAt, st.UpdatedAt = fromMicros(created), fromMicros(updated)
	return st, nil
}

// InsertRunStep stores s and fills in its ID and times, and reports true.
// A run has one record per step: if the run already has one for s.StepID
// (a retried step job), nothing is written, the existing record is loaded
// into *s and InsertRunStep reports false, so that the retry sees what the
// first try did. An unknown run, or another tenant's, is ENOTFOUND.
func (tx *Tx) InsertRunStep(ctx context.Context, s *engine.RunStep) (bool, error) {
	id, err := newID()
	if err != nil {
		return false, err
	}
	c := *s
	n, err := tx.batchCount(ctx, insertRunStepStmt(&c, id, tx.now))
	if err != nil {
		return false, err
	}
	if n == 1 {
		*s = c
		return true, nil
	}
	existing, err := scanRunStep(tx.queryRow(ctx, `SELECT `+runStepColumns+` FROM run_steps
		WHERE tenant_id = ? AND run_id = ? AND step_id = ?`, s.TenantID, s.RunID, s.StepID))
	if errors.Is(err, sql.ErrNoRows) {
		return false, notFound("run")
	}
	if err != nil {
		return false, translate(err, "get run step", onViolation{})
	}
	*s = existing
	return false, nil
}

// insertRunStepStmt is the insert of run step s under id, which does
// nothing when the run already has the step; it fills in s's ID and
// times as they will read back.
func insertRunStepStmt(s *engine.RunStep, id string, now time.Time) stmt {
	s.ID, s.ScheduledAt, s.StartedAt, s.FinishedAt = id, normTime(s.ScheduledAt), normTime(s.StartedAt), normTime(s.FinishedAt)
	s.CreatedAt, s.UpdatedAt = now, now
	return stmt{
		query: `INSERT INTO run_steps (` + runStepColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, step_id) DO NOTHING`,
		args: []any{id, s.TenantID, s.RunID, s.StepID, s.Position, string(s.Type), string(s.Status), s.Outcome, s.Detail,
			nullMicros(s.ScheduledAt), nullMicros(s.StartedAt), nullMicros(s.FinishedAt), micros(now), micros(now)},
		what: "insert run step",
		on:   onViolation{foreign: notFound("run")},
	}
}

// UpdateRunStep stores s's status, outcome, detail and times (scheduled,
// started, finished), and sets its UpdatedAt. Its run, step, position and
// type do not change.
func (tx *Tx) UpdateRunStep(ctx context.Context, s *engine.RunStep) error {
	scheduled, started, finished := normTime(s.ScheduledAt), normTime(s.StartedAt), normTime(s.FinishedAt)
	var created int64
	err := tx.queryRow(ctx, `UPDATE run_steps SET status = ?, outcome = ?, detail = ?, scheduled_at = ?, started_at = ?,
		finished_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING created_at`,
		string(s.Status), s.Outcome, s.Detail, nullMicros(scheduled), nullMicros(started), nullMicros(finished),
		micros(tx.now), s.TenantID, s.ID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("run step")
	}
	if err != nil {
		return translate(err, "update run step", onViolation{})
	}
	s.ScheduledAt, s.StartedAt, s.FinishedAt, s.CreatedAt, s.UpdatedAt = scheduled, started, finished, fromMicros(created), tx.now
	return nil
}

// ListRunSteps returns the records of the run's steps by position. An
// unknown run, or another tenant's, has none.
func (db *DB) ListRunSteps(ctx context.Context, tenantID, runID string) ([]engine.RunStep, error) {
	return db.auto().ListRunSteps(ctx, tenantID, runID)
}

// ListRunSteps is DB.ListRunSteps in tx.
func (tx *Tx) ListRunSteps(ctx context.Context, tenantID, runID string) ([]engine.RunStep, error) {
	steps, err := collect(ctx, tx, scanRunStep, `SELECT `+runStepColumns+` FROM run_steps
		WHERE tenant_id = ? AND run_id = ? ORDER BY position, id`, tenantID, runID)
	return steps, translate(err, "list run steps", onViolation{})
}

// CancelRunSteps moves the run's scheduled steps to cancelled, finished
// now, and returns how many it moved. Steps in any other status keep it.
func (tx *Tx) CancelRunSteps(ctx context.Context, tenantID, runID string) (int, error) {
	res, err := tx.exec(ctx, `UPDATE run_steps SET status = ?, finished_at = ?, updated_at = ?
		WHERE tenant_id = ? AND run_id = ? AND status = ?`,
		string(engine.StepCancelled), micros(tx.now), micros(tx.now), tenantID, runID, string(engine.StepScheduled))
	if err != nil {
		return 0, translate(err, "cancel run steps", onViolation{})
	}
	n, err := res.RowsAffected()
	return int(n), translate(err, "cancel run steps", onViolation{})
}

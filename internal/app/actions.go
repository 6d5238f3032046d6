package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// SourceDuplicate is the decision source of an event that repeats an
// earlier business event: it runs nothing.
const SourceDuplicate engine.Source = "duplicate"

// ActionRequest is one quote action: by the tenant's API (TenantID and
// QuoteID) or by the customer's public link (Token).
type ActionRequest struct {
	TenantID        string
	QuoteID         string
	Token           string
	Action          engine.Action
	IdempotencyKey  string
	RejectionReason string
}

// ActionResult is the quote after the action and the event it emitted.
// Replayed is true when the Idempotency-Key had been seen: the result is
// the first response, and nothing was done again.
type ActionResult struct {
	Quote    engine.Quote
	Event    engine.Event
	Replayed bool
}

// QuoteAction changes a quote's status and acts on it, all in one
// transaction: the status change, the trigger event with its decision, the
// cancellation of runs the new status ends, the run pinned to the
// workflow's current version and its first step's job. A crash leaves all
// of it or none of it.
func (a *App) QuoteAction(ctx context.Context, req ActionRequest) (_ *ActionResult, err error) {
	ctx, end := a.begin(ctx, "app.QuoteAction", slog.String("tenant_id", req.TenantID), slog.String("quote_id", req.QuoteID))
	defer func() { end(err) }()
	var res *ActionResult
	// Group-committed with concurrent actions and queue work: under load
	// many actions share one commit. The function may run twice, the first
	// time rolled back, and sets res afresh each time.
	err = a.db.GroupTx(ctx, func(tx *store.Tx) error {
		var err error
		res, err = a.quoteAction(ctx, tx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.announce(ctx, res)
	return res, nil
}

// announce counts and logs the decision of a committed quote action; a
// replay decided nothing now.
func (a *App) announce(ctx context.Context, res *ActionResult) {
	ev := &res.Event
	ctx = annotate(ctx, slog.String("tenant_id", ev.TenantID), slog.String("quote_id", ev.QuoteID), slog.String("event_id", ev.ID))
	if !res.Replayed {
		a.metrics.decided(ev)
		// The answer to "why did this lead get nothing?" without a query.
		a.log.InfoContext(ctx, "decision", "trigger", string(ev.Trigger), "outcome", string(ev.Decision.Outcome),
			"reason", ev.Decision.Reason, "lead_id", ev.LeadID, "duplicate", ev.Duplicate)
	}
}

// dedupeKey names the business event of action on q's current revision.
// The same action on the same revision is the same business event,
// however it reaches us (API retry, public link clicked twice).
func dedupeKey(q *engine.Quote, action engine.Action) string {
	return store.DedupeKey(q.ID, action, q.Revision)
}

func (a *App) quoteAction(ctx context.Context, tx *store.Tx, req ActionRequest) (*ActionResult, error) {
	if req.Action.Trigger() == "" {
		return nil, engine.Errorf(engine.EINVALID, "unknown action %q", req.Action)
	}
	tenantID, quoteID := req.TenantID, req.QuoteID
	if req.Token != "" {
		var err error
		if tenantID, quoteID, err = tx.LockQuoteByToken(ctx, req.Token); err != nil {
			return nil, err
		}
	}
	// One round trip on PostgreSQL: the lock, the tenant, the lead, the
	// events both keys name and the active runs.
	st, err := tx.LoadQuoteAction(ctx, tenantID, quoteID, req.Action, req.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	q, tenant, lead := st.Quote, st.Tenant, st.Lead
	if st.Replay != nil {
		return replay(st.Replay, q, req)
	}
	ev := &engine.Event{
		TenantID: q.TenantID, LeadID: q.LeadID, QuoteID: q.ID, Trigger: req.Action.Trigger(), Action: req.Action,
		IdempotencyKey: req.IdempotencyKey, DedupeKey: dedupeKey(q, req.Action),
	}
	if first := st.First; first != nil {
		ev.Duplicate, ev.DuplicateOf = true, first.ID
		ev.Decision = duplicateDecision(first)
	} else {
		if err := engine.CheckTransition(q.Status, req.Action); err != nil {
			return nil, err
		}
		q.Status = req.Action.Status()
		if req.Action == engine.ActionReject {
			q.RejectionReason = req.RejectionReason
		}
		// Written with the event and the run, in the transaction's next
		// round trip: nothing reads it back before the commit.
		if err := tx.QueueQuoteUpdate(ctx, q); err != nil {
			return nil, err
		}
	}
	rc := a.context(tenant, lead, q)
	var legacy engine.LegacySettings
	if !ev.Duplicate {
		c, err := a.ruleSet(ctx, tx, tenant.ID, tenant.ConfigVersion)
		if err != nil {
			return nil, err
		}
		var overrides []engine.Override
		if c.hasOverrides {
			if overrides, err = tx.ListOverrides(ctx, q.TenantID, q.LeadID); err != nil {
				return nil, err
			}
		}
		ev.Decision, legacy = a.decide(c, tenant, ev.Trigger, rc, overrides), c.legacy
	}
	if ev.Context, err = json.Marshal(snapshot{Lead: lead, Quote: q}); err != nil {
		return nil, err
	}
	if req.IdempotencyKey != "" {
		// Kept only to answer a replay of the key; without one nothing
		// reads it, and it would be a third JSON document in every event.
		if ev.Response, err = json.Marshal(q); err != nil {
			return nil, err
		}
	}
	if err := tx.QueueEvent(ctx, ev); err != nil {
		return nil, err
	}
	if !ev.Duplicate {
		if err := a.cancelEndedRuns(ctx, tx, q, ev, st.ActiveRuns); err != nil {
			return nil, err
		}
		if err := a.act(ctx, tx, tenant, rc, ev, legacy); err != nil {
			return nil, err
		}
	}
	return &ActionResult{Quote: *q, Event: *ev}, nil
}

// snapshot is the lead context stored on an event, as it was.
type snapshot struct {
	Lead  *engine.Lead  `json:"lead"`
	Quote *engine.Quote `json:"quote"`
}

// replay answers a repeated Idempotency-Key with the first response. The
// key names one request: used for another quote or action it is a client
// bug, and answering with the first response would hide it.
func replay(prev *engine.Event, q *engine.Quote, req ActionRequest) (*ActionResult, error) {
	if prev.QuoteID != q.ID || prev.Action != req.Action {
		return nil, &engine.Error{Code: engine.ECONFLICT, Message: "this Idempotency-Key was used for another request",
			Fields: []engine.FieldError{{Field: "header.Idempotency-Key", Message: fmt.Sprintf("already used to %s quote %s", prev.Action, prev.QuoteID)}}}
	}
	res := &ActionResult{Event: *prev, Replayed: true}
	if err := json.Unmarshal(prev.Response, &res.Quote); err != nil {
		return nil, fmt.Errorf("replay event %s: %w", prev.ID, err)
	}
	return res, nil
}

func duplicateDecision(first *engine.Event) engine.Decision {
	return engine.Decision{
		Outcome: engine.OutcomeNone, Source: SourceDuplicate, Reason: "duplicate_event",
		MissingFields: []string{},
		Trace: []engine.TraceEntry{{Kind: "event", ID: first.ID, Result: "skipped", Reason: "duplicate",
			Detail: fmt.Sprintf("the same action on the same quote revision was already recorded as event %s; nothing runs again", first.ID)}},
	}
}

// cancelEndedRuns cancels the quote's active runs that the new status ends
// (the status is in their workflow's exit_on) and, on a new send, the run of
// the same workflow it supersedes.
func (a *App) cancelEndedRuns(ctx context.Context, tx *store.Tx, q *engine.Quote, ev *engine.Event, runs []engine.Run) error {
	for _, r := range runs {
		reason := ""
		if ev.Action == engine.ActionSend && ev.Decision.Outcome == engine.OutcomeWorkflow && r.WorkflowID == ev.Decision.WorkflowID {
			reason = "superseded by event " + ev.ID
		} else {
			wf, err := a.workflowVersion(ctx, tx, q.TenantID, r.WorkflowID, r.WorkflowVersion)
			if err != nil {
				return err
			}
			if slices.Contains(wf.ExitOn, q.Status) {
				reason = "exit_on: quote " + string(q.Status)
			}
		}
		if reason != "" {
			if err := a.cancelRun(ctx, tx, &r, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelRun ends a run: its pending steps do not run and its undelivered
// messages become cancelled.
func (a *App) cancelRun(ctx context.Context, tx *store.Tx, r *engine.Run, reason string) error {
	return a.endRun(ctx, tx, r, reason, "run_cancelled")
}

// endRun is cancelRun with the reason its cancelled messages get.
func (a *App) endRun(ctx context.Context, tx *store.Tx, r *engine.Run, reason, messageReason string) error {
	changed, err := tx.FinishRun(ctx, r.TenantID, r.ID, engine.RunCancelled, reason)
	if err != nil || !changed {
		return err
	}
	if _, err := tx.CancelRunSteps(ctx, r.TenantID, r.ID); err != nil {
		return err
	}
	_, err = tx.CancelRunMessages(ctx, r.TenantID, r.ID, messageReason)
	return err
}

// act does what the decision says: start a run, or send the legacy
// message; in shadow mode it also records what the engine would have sent.
func (a *App) act(ctx context.Context, tx *store.Tx, tenant *engine.Tenant, rc *engine.Context, ev *engine.Event, legacy engine.LegacySettings) error {
	d := ev.Decision
	switch d.Outcome {
	case engine.OutcomeWorkflow:
		if tenant.Mode == engine.ModeEngine {
			if err := a.startRun(ctx, tx, ev, d.WorkflowID, d.WorkflowVersion); err != nil {
				return err
			}
		}
	case engine.OutcomeLegacy:
		if err := a.sendLegacy(ctx, tx, tenant, rc, ev, legacy[ev.Trigger]); err != nil {
			return err
		}
	}
	if tenant.Mode == engine.ModeShadow && d.Shadow != nil && d.Shadow.Outcome == engine.OutcomeWorkflow {
		return a.recordShadowRun(ctx, tx, tenant, rc, ev, d.Shadow)
	}
	return nil
}

func (a *App) startRun(ctx context.Context, tx *store.Tx, ev *engine.Event, workflowID string, version int64) error {
	r := &engine.Run{TenantID: ev.TenantID, EventID: ev.ID, LeadID: ev.LeadID, QuoteID: ev.QuoteID,
		WorkflowID: workflowID, WorkflowVersion: version, Trigger: ev.Trigger, Status: engine.RunActive}
	if err := tx.QueueRun(ctx, r); err != nil {
		return err
	}
	return a.jobs.EnqueueStepTx(ctx, tx, r.TenantID, r.ID, 0, tx.Now())
}

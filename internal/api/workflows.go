package api

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
)

// WhatsAppContentIn is a send_whatsapp step's content as a client writes
// it: an approved template with its language and parameters, free-form
// text, or both (the template then goes when the 24-hour window is
// closed). Which combinations are allowed is checked when the workflow is
// saved, naming the field at fault.
type WhatsAppContentIn struct {
	Template   string   `json:"template,omitempty" doc:"The approved template's name; required unless text is given"`
	Language   string   `json:"language,omitempty" doc:"The template's language, e.g. en_US; required with a template"`
	Parameters []string `json:"parameters,omitempty" doc:"The template's body parameters, each a Liquid template"`
	Text       string   `json:"text,omitempty" maxLength:"4096" doc:"Free-form text (Liquid), sent only inside the 24-hour window a customer's reply opens; outside it the template goes, else the step's email fallback"`
}

func (in *WhatsAppContentIn) content() *engine.WhatsAppContent {
	if in == nil {
		return nil
	}
	return &engine.WhatsAppContent{Template: in.Template, Language: in.Language, Parameters: in.Parameters, Text: in.Text}
}

// StepIn is a step as a client writes it. The server assigns step ids: id
// is left out on create and when adding a step, and when replacing a
// workflow's steps it names one of the workflow's existing steps to keep
// (runs and messages refer to steps by id).
type StepIn struct {
	ID              string               `json:"id,omitempty" doc:"Only when replacing steps: the id of an existing step of this workflow, to keep it"`
	Type            string               `json:"type" enum:"send_email,send_whatsapp,wait"`
	When            json.RawMessage      `json:"when,omitempty" doc:"A condition; the step is skipped when it is false"`
	Email           *engine.EmailContent `json:"email,omitempty"`
	WhatsApp        *WhatsAppContentIn   `json:"whatsapp,omitempty"`
	Wait            *engine.WaitSpec     `json:"wait,omitempty"`
	FallbackChannel string               `json:"fallback_channel,omitempty" doc:"email: send the step's email when WhatsApp cannot reach the lead"`
}

func (in *StepIn) step() engine.Step {
	st := engine.Step{ID: in.ID, Type: engine.StepType(in.Type), Email: in.Email, WhatsApp: in.WhatsApp.content(),
		Wait: in.Wait, FallbackChannel: in.FallbackChannel}
	if len(in.When) > 0 && string(in.When) != "null" {
		st.When = in.When
	}
	return st
}

func stepsFrom(in []StepIn) []engine.Step {
	out := make([]engine.Step, len(in))
	for i := range in {
		out[i] = in[i].step()
	}
	return out
}

// WorkflowIn is POST /v1/workflows.
type WorkflowIn struct {
	Name    string   `json:"name" minLength:"1" maxLength:"200"`
	Trigger string   `json:"trigger" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Enabled *bool    `json:"enabled,omitempty" doc:"default true"`
	ExitOn  []string `json:"exit_on,omitempty" doc:"Quote statuses that cancel a run in flight, and replied: the lead's WhatsApp message cancels it"`
	Steps   []StepIn `json:"steps,omitempty"`
}

// WorkflowPatch is PATCH /v1/workflows/{workflow_id}; every edit is a new
// version. steps, when given, replace the list.
type WorkflowPatch struct {
	Name    *string  `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Trigger *string  `json:"trigger,omitempty" enum:"quote.sent,quote.viewed,quote.accepted,quote.rejected,quote.expired"`
	Enabled *bool    `json:"enabled,omitempty"`
	ExitOn  []string `json:"exit_on,omitempty"`
	Steps   []StepIn `json:"steps,omitempty"`
}

// WorkflowOut is a version of a workflow.
type WorkflowOut struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Trigger   string        `json:"trigger"`
	Enabled   bool          `json:"enabled"`
	ExitOn    []string      `json:"exit_on"`
	Steps     []engine.Step `json:"steps"`
	Version   int64         `json:"version"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at" doc:"When this version was created"`
}

func workflowOut(w *engine.Workflow) WorkflowOut {
	exit := make([]string, len(w.ExitOn))
	for i, s := range w.ExitOn {
		exit[i] = string(s)
	}
	return WorkflowOut{ID: w.ID, Name: w.Name, Trigger: string(w.Trigger), Enabled: w.Enabled, ExitOn: exit,
		Steps: nonNil(w.Steps), Version: w.Version, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

func exitOn(in []string) []engine.QuoteStatus {
	out := make([]engine.QuoteStatus, len(in))
	for i, s := range in {
		out[i] = engine.QuoteStatus(s)
	}
	return out
}

// WorkflowPath names a workflow in the URL.
type WorkflowPath struct {
	WorkflowID string `path:"workflow_id"`
}

// checkStepIDs refuses a step id the client may not choose: any id when
// existing is nil (a new workflow), else one that is not among existing.
// Letting a client pick ids let it reuse another workflow's, or another
// tenant's, and have runs and messages refer to the wrong step.
func checkStepIDs(steps []StepIn, existing []engine.Step) error {
	var fields []engine.FieldError
	for i, st := range steps {
		if st.ID == "" {
			continue
		}
		at := "body.steps[" + itoa(i) + "].id"
		if existing == nil {
			fields = append(fields, engine.FieldError{Field: at, Message: "is assigned by the server; leave it out"})
		} else if !slices.ContainsFunc(existing, func(e engine.Step) bool { return e.ID == st.ID }) {
			fields = append(fields, engine.FieldError{Field: at, Message: "is not a step of this workflow; leave it out for a new step"})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return &engine.Error{Code: engine.EINVALID, Message: "validation failed", Fields: fields}
}

func (s *Server) createWorkflow(ctx context.Context, in *body[WorkflowIn]) (*versioned[WorkflowOut], error) {
	b := in.Body
	if err := checkStepIDs(b.Steps, nil); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	w := &engine.Workflow{TenantID: principal(ctx).TenantID, Name: b.Name, Trigger: engine.Trigger(b.Trigger),
		Enabled: b.Enabled == nil || *b.Enabled, ExitOn: exitOn(b.ExitOn), Steps: stepsFrom(b.Steps)}
	out := func(w *engine.Workflow) *versioned[WorkflowOut] { return withETag(workflowOut(w), w.Version) }
	answerWith(ctx, out)
	if err := s.app.CreateWorkflow(ctx, w); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(w), nil
}

func (s *Server) getWorkflow(ctx context.Context, in *WorkflowPath) (*versioned[WorkflowOut], error) {
	w, err := s.app.GetWorkflow(ctx, principal(ctx).TenantID, in.WorkflowID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return withETag(workflowOut(w), w.Version), nil
}

func (s *Server) listWorkflows(ctx context.Context, in *PageParams) (*body[List[WorkflowOut]], error) {
	ws, next, err := s.app.ListWorkflows(ctx, principal(ctx).TenantID, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[WorkflowOut]]{Body: listOf(ws, next, workflowOut)}, nil
}

type listVersionsInput struct {
	WorkflowPath
	PageParams
}

func (s *Server) listWorkflowVersions(ctx context.Context, in *listVersionsInput) (*body[List[WorkflowOut]], error) {
	ws, next, err := s.app.ListWorkflowVersionsPage(ctx, principal(ctx).TenantID, in.WorkflowID, in.page())
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[List[WorkflowOut]]{Body: listOf(ws, next, workflowOut)}, nil
}

func (s *Server) deleteWorkflow(ctx context.Context, in *WorkflowPath) (*struct{}, error) {
	if err := s.app.DeleteWorkflow(ctx, principal(ctx).TenantID, in.WorkflowID); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return nil, nil
}

// editWorkflow loads the current version, lets edit change it, and saves
// the result as the next version, all checked against If-Match.
func (s *Server) editWorkflow(ctx context.Context, id string, m IfMatch, edit func(w *engine.Workflow) error) (*versioned[WorkflowOut], error) {
	want, err := m.version(func() (int64, error) {
		w, err := s.app.GetWorkflow(ctx, principal(ctx).TenantID, id)
		if err != nil {
			return 0, err
		}
		return w.Version, nil
	})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	w, err := s.app.GetWorkflow(ctx, principal(ctx).TenantID, id)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	if want != 0 && want != w.Version {
		return nil, toProblem(ctx, s.log, engine.Errorf(engine.EPRECONDITION, "the workflow is at version %d, not %d", w.Version, want))
	}
	if err := edit(w); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	// add-step and reorder-steps take an Idempotency-Key.
	out := func(w *engine.Workflow) *versioned[WorkflowOut] { return withETag(workflowOut(w), w.Version) }
	answerWith(ctx, out)
	if err := s.app.UpdateWorkflow(ctx, w, w.Version); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return out(w), nil
}

type patchWorkflowInput struct {
	WorkflowPath
	IfMatch
	Body WorkflowPatch
}

func (s *Server) patchWorkflow(ctx context.Context, in *patchWorkflowInput) (*versioned[WorkflowOut], error) {
	return s.editWorkflow(ctx, in.WorkflowID, in.IfMatch, func(w *engine.Workflow) error {
		b := in.Body
		if b.Name != nil {
			w.Name = *b.Name
		}
		if b.Trigger != nil {
			w.Trigger = engine.Trigger(*b.Trigger)
		}
		if b.Enabled != nil {
			w.Enabled = *b.Enabled
		}
		if b.ExitOn != nil {
			w.ExitOn = exitOn(b.ExitOn)
		}
		if b.Steps != nil {
			if err := checkStepIDs(b.Steps, w.Steps); err != nil {
				return err
			}
			w.Steps = stepsFrom(b.Steps)
		}
		return nil
	})
}

// AddStepIn is POST /v1/workflows/{workflow_id}/steps.
type AddStepIn struct {
	StepIn
	Position *int `json:"position,omitempty" minimum:"0" doc:"Where to insert, 0-based; default at the end"`
}

type addStepInput struct {
	WorkflowPath
	IfMatch
	Body AddStepIn
}

func (s *Server) addStep(ctx context.Context, in *addStepInput) (*versioned[WorkflowOut], error) {
	return s.editWorkflow(ctx, in.WorkflowID, in.IfMatch, func(w *engine.Workflow) error {
		if in.Body.ID != "" {
			return engine.Invalid("body.id", "is assigned by the server; leave it out")
		}
		st := in.Body.step()
		pos := len(w.Steps)
		if p := in.Body.Position; p != nil {
			if *p > len(w.Steps) {
				return engine.Invalid("body.position", "must be at most %d, the number of steps", len(w.Steps))
			}
			pos = *p
		}
		// Checked alone first so that problems name the request's own fields.
		if err := workflow.ValidateStep(&st); err != nil {
			return engine.PrefixFields(err, "body")
		}
		w.Steps = slices.Insert(w.Steps, pos, st)
		return nil
	})
}

// StepPatch is PATCH .../steps/{step_id}; fields left out are unchanged,
// "when": null removes the condition.
type StepPatch struct {
	Type            *string              `json:"type,omitempty" enum:"send_email,send_whatsapp,wait"`
	When            json.RawMessage      `json:"when,omitempty"`
	Email           *engine.EmailContent `json:"email,omitempty"`
	WhatsApp        *WhatsAppContentIn   `json:"whatsapp,omitempty"`
	Wait            *engine.WaitSpec     `json:"wait,omitempty"`
	FallbackChannel *string              `json:"fallback_channel,omitempty"`
}

// StepPath names a step of a workflow in the URL.
type StepPath struct {
	WorkflowPath
	StepID string `path:"step_id"`
}

func findStep(w *engine.Workflow, id string) (int, error) {
	for i := range w.Steps {
		if w.Steps[i].ID == id {
			return i, nil
		}
	}
	return -1, engine.Errorf(engine.ENOTFOUND, "no step %s in this workflow", id)
}

type patchStepInput struct {
	StepPath
	IfMatch
	Body StepPatch
}

func (s *Server) patchStep(ctx context.Context, in *patchStepInput) (*versioned[WorkflowOut], error) {
	return s.editWorkflow(ctx, in.WorkflowID, in.IfMatch, func(w *engine.Workflow) error {
		i, err := findStep(w, in.StepID)
		if err != nil {
			return err
		}
		st, b := &w.Steps[i], in.Body
		if b.Type != nil {
			st.Type = engine.StepType(*b.Type)
		}
		if b.When != nil {
			st.When = b.When
			if string(b.When) == "null" {
				st.When = nil
			}
		}
		if b.Email != nil {
			st.Email = b.Email
		}
		if b.WhatsApp != nil {
			st.WhatsApp = b.WhatsApp.content()
		}
		if b.Wait != nil {
			st.Wait = b.Wait
		}
		if b.FallbackChannel != nil {
			st.FallbackChannel = *b.FallbackChannel
		}
		// Content that no longer fits the step's type is dropped rather
		// than rejected, so that changing a step's type is one request.
		switch st.Type {
		case engine.StepSendEmail:
			st.WhatsApp, st.Wait, st.FallbackChannel = nil, nil, ""
		case engine.StepWait:
			st.Email, st.WhatsApp, st.FallbackChannel = nil, nil, ""
		case engine.StepSendWhatsApp:
			st.Wait = nil
			if st.FallbackChannel == "" {
				st.Email = nil
			}
		}
		if err := workflow.ValidateStep(st); err != nil {
			return engine.PrefixFields(err, "body")
		}
		return nil
	})
}

type deleteStepInput struct {
	StepPath
	IfMatch
}

func (s *Server) deleteStep(ctx context.Context, in *deleteStepInput) (*versioned[WorkflowOut], error) {
	return s.editWorkflow(ctx, in.WorkflowID, in.IfMatch, func(w *engine.Workflow) error {
		i, err := findStep(w, in.StepID)
		if err != nil {
			return err
		}
		w.Steps = slices.Delete(w.Steps, i, i+1)
		return nil
	})
}

// ReorderStepsIn is POST .../steps/reorder: every step id, in the new order.
type ReorderStepsIn struct {
	StepIDs []string `json:"step_ids"`
}

type reorderStepsInput struct {
	WorkflowPath
	IfMatch
	Body ReorderStepsIn
}

func (s *Server) reorderSteps(ctx context.Context, in *reorderStepsInput) (*versioned[WorkflowOut], error) {
	return s.editWorkflow(ctx, in.WorkflowID, in.IfMatch, func(w *engine.Workflow) error {
		ids := in.Body.StepIDs
		if len(ids) != len(w.Steps) {
			return engine.Invalid("body.step_ids", "must list each of the workflow's %d steps exactly once", len(w.Steps))
		}
		next := make([]engine.Step, 0, len(ids))
		seen := map[string]bool{}
		for k, id := range ids {
			i, err := findStep(w, id)
			if err != nil || seen[id] {
				return engine.Invalid("body.step_ids["+itoa(k)+"]", "%q is not a step of this workflow or is listed twice", id)
			}
			seen[id] = true
			next = append(next, w.Steps[i])
		}
		w.Steps = next
		return nil
	})
}

// StepValidOut is the answer of a step that passed validation.
type StepValidOut struct {
	Valid bool `json:"valid" doc:"Always true: an invalid step is a 422 problem naming its fields"`
}

type validateStepInput struct {
	WorkflowPath
	Body StepIn
}

func (s *Server) validateStep(ctx context.Context, in *validateStepInput) (*body[StepValidOut], error) {
	if in.Body.ID != "" {
		return nil, toProblem(ctx, s.log, engine.Invalid("body.id", "names no step here: leave it out"))
	}
	if err := s.app.ValidateStep(ctx, principal(ctx).TenantID, in.WorkflowID, in.Body.step()); err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	return &body[StepValidOut]{Body: StepValidOut{Valid: true}}, nil
}

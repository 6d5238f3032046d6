package app

import (
	"context"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/workflow"
)

// ValidateStep checks a step of the tenant's workflow as adding or
// changing it would, and stores nothing: the step's own rules, its
// templates and the WhatsApp template it names (when the tenant's
// templates can be read). Problems name the step's own fields under
// "body" (body.email.text), as the step routes' problems do, so that an
// editor can check a draft while it is typed and save it only when its
// author asks: saving each pause would make a version of every
// half-written message, and a quote sent meanwhile would get one.
func (a *App) ValidateStep(ctx context.Context, tenantID, workflowID string, st engine.Step) error {
	if _, err := a.db.GetWorkflow(ctx, tenantID, workflowID); err != nil {
		return err
	}
	if err := workflow.ValidateStep(&st); err != nil {
		return engine.PrefixFields(err, "body")
	}
	err := a.checkTemplates(ctx, tenantID, &engine.Workflow{TenantID: tenantID, Steps: []engine.Step{st}})
	if e, ok := err.(*engine.Error); ok {
		// checkTemplates names a workflow's steps; this one is the body.
		out := &engine.Error{Code: e.Code, Message: e.Message, Fields: make([]engine.FieldError, len(e.Fields))}
		for i, f := range e.Fields {
			if rest, ok := strings.CutPrefix(f.Field, "body.steps[0]."); ok {
				f.Field = "body." + rest
			}
			out.Fields[i] = f
		}
		return out
	}
	return err
}

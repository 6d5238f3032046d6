package api

import (
	"context"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
)

// PreviewStepIn is POST .../steps/{step_id}/preview: the lead, and
// optionally the quote, to render the step for.
type PreviewStepIn struct {
	LeadID  string `json:"lead_id"`
	QuoteID string `json:"quote_id,omitempty"`
}

// RenderedEmail is an email step rendered for one lead.
type RenderedEmail struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// RenderedWhatsApp is a WhatsApp step rendered for one lead.
type RenderedWhatsApp struct {
	Template   string   `json:"template" doc:"Empty for a free-form text without a template"`
	Language   string   `json:"language"`
	Parameters []string `json:"parameters"`
	Text       string   `json:"text,omitempty" doc:"The step's free-form text, rendered; it goes instead of the template inside the 24-hour window"`
}

// renderedWhatsApp shows a rendered WhatsApp step: its template, its
// free-form text, or both.
func renderedWhatsApp(r tmpl.Rendered) *RenderedWhatsApp {
	out := &RenderedWhatsApp{Parameters: []string{}, Text: r.Text}
	if t := r.Template; t != nil {
		out.Template, out.Language, out.Parameters = t.Template, t.Language, nonNil(t.Parameters)
	}
	return out
}

// StepPreviewOut is what a step would say to one lead, and whether it
// would run at all.
type StepPreviewOut struct {
	StepID string `json:"step_id"`
	Type   string `json:"type"`
	// When is the step's condition for this lead: "true", "false" or
	// "unknown" ("true" when the step has none).
	When          string            `json:"when" enum:"true,false,unknown"`
	MissingFields []string          `json:"missing_fields"`
	Email         *RenderedEmail    `json:"email,omitempty"`
	WhatsApp      *RenderedWhatsApp `json:"whatsapp,omitempty"`
}

type previewStepInput struct {
	StepPath
	Body PreviewStepIn
}

func (s *Server) previewStep(ctx context.Context, in *previewStepInput) (*body[StepPreviewOut], error) {
	tenantID := principal(ctx).TenantID
	w, err := s.app.GetWorkflow(ctx, tenantID, in.WorkflowID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	i, err := findStep(w, in.StepID)
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	rc, err := s.app.RenderContext(ctx, tenantID, in.Body.LeadID, in.Body.QuoteID)
	if err != nil {
		return nil, toProblem(ctx, s.log, engine.PrefixFields(err, "body"))
	}
	st := &w.Steps[i]
	out := StepPreviewOut{StepID: st.ID, Type: string(st.Type), When: "true", MissingFields: []string{}}
	if len(st.When) > 0 {
		c, err := condition.Parse(st.When)
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		out.When = c.Eval(rc).Truth.String()
		out.MissingFields = nonNil(c.MissingFields(rc))
	}
	// The same rendering as delivery: HTML bodies escape lead data.
	if st.Email != nil {
		r, err := s.app.RenderStep(st, engine.ChannelEmail, rc)
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		out.Email = &RenderedEmail{Subject: r.Subject, Text: r.Text, HTML: r.HTML}
	}
	if st.WhatsApp != nil {
		r, err := s.app.RenderStep(st, engine.ChannelWhatsApp, rc)
		if err != nil {
			return nil, toProblem(ctx, s.log, err)
		}
		out.WhatsApp = renderedWhatsApp(r)
	}
	return &body[StepPreviewOut]{Body: out}, nil
}

// Package workflow is where the parts of what a tenant configures meet:
// the checks of workflows and their steps, rules, overrides and legacy
// settings when they are saved, which read templates (tmpl), conditions
// (condition) and durations (engine), and the dry run of a workflow for a
// lead (Simulate), which evaluates step conditions, plans and renders
// sends and schedules them. It imports the engine's other packages and is
// imported by none of them.
package workflow

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
)

// problemList collects every problem in a request so that one response can
// name them all.
type problemList []engine.FieldError

func (fe *problemList) add(field, format string, args ...any) {
	*fe = append(*fe, engine.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// addErr merges a validator's *Error, placing its paths under prefix.
func (fe *problemList) addErr(prefix string, err error) {
	if err == nil {
		return
	}
	var e *engine.Error
	if !errors.As(engine.PrefixFields(err, prefix), &e) {
		fe.add(prefix, "%v", err)
		return
	}
	if len(e.Fields) == 0 {
		fe.add(prefix, "%s", e.Message)
		return
	}
	*fe = append(*fe, e.Fields...)
}

func (fe problemList) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &engine.Error{Code: engine.EINVALID, Message: "validation failed", Fields: fe}
}

// Validate checks everything a workflow carries: its name, trigger
// and exit statuses, and every step's templates, condition and duration.
// Paths in the error are placed under prefix ("body").
func Validate(w *engine.Workflow, prefix string) error {
	var fe problemList
	if strings.TrimSpace(w.Name) == "" {
		fe.add(prefix+".name", "is required")
	} else if len(w.Name) > engine.MaxNameLength {
		fe.add(prefix+".name", "must be at most %d characters", engine.MaxNameLength)
	}
	if !w.Trigger.Valid() {
		fe.add(prefix+".trigger", "must be one of quote.sent, quote.viewed, quote.accepted, quote.rejected, quote.expired")
	}
	for i, s := range w.ExitOn {
		if (!s.Valid() || s == engine.QuoteDraft) && s != engine.ExitOnReplied {
			fe.add(fmt.Sprintf("%s.exit_on[%d]", prefix, i), "must be one of sent, viewed, accepted, rejected, expired, replied")
		}
	}
	if len(w.Steps) > engine.MaxStepsPerWorkflow {
		fe.add(prefix+".steps", "must have at most %d steps", engine.MaxStepsPerWorkflow)
	}
	seen := map[string]int{}
	for i := range w.Steps {
		p := fmt.Sprintf("%s.steps[%d]", prefix, i)
		if id := w.Steps[i].ID; id != "" {
			if j, dup := seen[id]; dup {
				fe.add(p+".id", "repeats the id of steps[%d]", j)
			}
			seen[id] = i
		}
		fe.addErr(p, ValidateStep(&w.Steps[i]))
	}
	return fe.err()
}

// Limits of a WhatsApp step's template parameters. Meta caps an approved
// template's body at 1,024 characters, placeholders ({{1}}, five
// characters at least, never two side by side) included, so no template
// takes anywhere near 100 body parameters, nor renders a longer one; the
// exact count is checked against the synced template when the tenant's
// account can be asked (app.checkTemplates).
const (
	MaxWhatsAppParameters      = 100
	MaxWhatsAppParameterLength = 1024
)

// ValidateStep checks one step. Paths are relative to the step.
func ValidateStep(s *engine.Step) error {
	var fe problemList
	switch s.Type {
	case engine.StepSendEmail:
		if s.Email == nil {
			fe.add("email", "is required for a send_email step")
		}
		if s.WhatsApp != nil {
			fe.add("whatsapp", "is only for send_whatsapp steps")
		}
		if s.FallbackChannel != "" {
			fe.add("fallback_channel", "is only for send_whatsapp steps")
		}
	case engine.StepSendWhatsApp:
		if s.WhatsApp == nil {
			fe.add("whatsapp", "is required for a send_whatsapp step")
		}
		switch s.FallbackChannel {
		case "":
			if s.Email != nil {
				fe.add("email", "is only used with fallback_channel email")
			}
		case "email":
			if s.Email == nil {
				fe.add("email", "is required when fallback_channel is email")
			}
		default:
			fe.add("fallback_channel", "must be email or absent")
		}
	case engine.StepWait:
		if s.Wait == nil {
			fe.add("wait", "is required for a wait step")
		} else if _, err := engine.ParseISODuration(s.Wait.Duration); err != nil {
			fe.addErr("wait.duration", err)
		}
		if s.Email != nil || s.WhatsApp != nil {
			fe.add("type", "a wait step sends nothing; remove email and whatsapp")
		}
		if s.FallbackChannel != "" {
			fe.add("fallback_channel", "is only for send_whatsapp steps")
		}
	default:
		fe.add("type", "must be send_email, send_whatsapp or wait")
	}
	if s.Type != engine.StepWait && s.Wait != nil {
		fe.add("wait", "is only for wait steps")
	}
	if s.Email != nil {
		if strings.TrimSpace(s.Email.Subject) == "" {
			fe.add("email.subject", "is required")
		} else {
			fe.addErr("email.subject", tmpl.Validate(s.Email.Subject))
		}
		if strings.TrimSpace(s.Email.Text) == "" {
			fe.add("email.text", "is required")
		} else {
			fe.addErr("email.text", tmpl.Validate(s.Email.Text))
		}
		if s.Email.HTML != nil {
			fe.addErr("email.html", tmpl.ValidateHTML(*s.Email.HTML))
		}
	}
	if s.WhatsApp != nil {
		fe.addErr("", validateWhatsAppForm(s.WhatsApp))
		if n := len(s.WhatsApp.Parameters); n > MaxWhatsAppParameters {
			// Not checked one by one: refusing 100,000 of them must be cheap.
			fe.add("whatsapp.parameters", "must have at most %d parameters, not %d", MaxWhatsAppParameters, n)
		} else {
			for i, p := range s.WhatsApp.Parameters {
				at := fmt.Sprintf("whatsapp.parameters[%d]", i)
				if len(p) > MaxWhatsAppParameterLength {
					fe.add(at, "must be at most %d characters", MaxWhatsAppParameterLength)
					continue
				}
				fe.addErr(at, tmpl.Validate(p))
			}
		}
	}
	if len(s.When) > 0 && string(s.When) != "null" {
		if _, err := condition.Parse(s.When); err != nil {
			fe.addErr("when", err)
		}
	}
	return fe.err()
}

// MaxWhatsAppTextLength is the longest free-form WhatsApp text, as Meta
// caps a text message's body.
const MaxWhatsAppTextLength = 4096

// validateWhatsAppForm checks what a send_whatsapp step sends: a template
// (with its language), free-form text, or both, the template then being
// what goes outside the customer-service window. Paths are relative to the
// step.
func validateWhatsAppForm(wa *engine.WhatsAppContent) error {
	var fe problemList
	hasText := strings.TrimSpace(wa.Text) != ""
	switch {
	case strings.TrimSpace(wa.Template) != "":
		if strings.TrimSpace(wa.Language) == "" {
			fe.add("whatsapp.language", "is required with a template, e.g. en_US")
		}
	case hasText:
		if wa.Language != "" {
			fe.add("whatsapp.language", "is only for a template; a free-form text has none")
		}
		if len(wa.Parameters) > 0 {
			fe.add("whatsapp.parameters", "are a template's; a free-form text takes its values from Liquid")
		}
	default:
		fe.add("whatsapp.template", "is required unless the step has free-form text (whatsapp.text)")
	}
	if wa.Text != "" && !hasText {
		fe.add("whatsapp.text", "must not be blank")
	} else if hasText {
		if len(wa.Text) > MaxWhatsAppTextLength {
			fe.add("whatsapp.text", "must be at most %d characters", MaxWhatsAppTextLength)
		} else {
			fe.addErr("whatsapp.text", tmpl.Validate(wa.Text))
		}
	}
	return fe.err()
}

// ValidateRule checks an assignment rule's own fields; that its workflow
// exists is the store's to check.
func ValidateRule(r *engine.Rule, prefix string) error {
	var fe problemList
	if strings.TrimSpace(r.Name) == "" {
		fe.add(prefix+".name", "is required")
	} else if len(r.Name) > engine.MaxNameLength {
		fe.add(prefix+".name", "must be at most %d characters", engine.MaxNameLength)
	}
	if r.Trigger != engine.AnyTrigger && !engine.Trigger(r.Trigger).Valid() {
		fe.add(prefix+".trigger", "must be a trigger such as quote.sent, or * for all")
	}
	if r.WorkflowID == "" {
		fe.add(prefix+".workflow_id", "is required")
	}
	if len(r.Condition) == 0 || string(r.Condition) == "null" {
		fe.add(prefix+".condition", `is required; {"all": []} matches every lead`)
	} else if _, err := condition.Parse(r.Condition); err != nil {
		fe.addErr(prefix+".condition", err)
	}
	return fe.err()
}

// ValidateOverride checks a lead override's own fields.
func ValidateOverride(o *engine.Override, prefix string) error {
	var fe problemList
	if o.Trigger != engine.AnyTrigger && !engine.Trigger(o.Trigger).Valid() {
		fe.add(prefix+".trigger", "must be a trigger such as quote.sent, or * for all")
	}
	switch o.Action {
	case engine.OverrideSuppress:
		if o.WorkflowID != "" {
			fe.add(prefix+".workflow_id", "must be empty when action is suppress")
		}
	case engine.OverrideWorkflow:
		if o.WorkflowID == "" {
			fe.add(prefix+".workflow_id", "is required when action is workflow")
		}
	default:
		fe.add(prefix+".action", "must be workflow or suppress")
	}
	if o.ExpiresAt != nil && !engine.InstantInRange(*o.ExpiresAt) {
		fe.add(prefix+".expires_at", engine.InstantRangeMessage)
	}
	if len(o.Reason) > 1000 {
		fe.add(prefix+".reason", "must be at most 1000 characters")
	}
	return fe.err()
}

// ValidateLegacySettings checks the deprecated per-trigger settings. Only
// the triggers the old system knew may be configured.
func ValidateLegacySettings(s engine.LegacySettings, prefix string) error {
	var fe problemList
	// Map order is random; sorted keys keep the problem list stable.
	keys := make([]string, 0, len(s))
	for t := range s {
		keys = append(keys, string(t))
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, set := engine.Trigger(k), s[engine.Trigger(k)]
		p := prefix + "." + k
		known := false
		for _, lt := range engine.LegacyTriggers {
			known = known || lt == t
		}
		if !known {
			fe.add(p, "the legacy settings only know quote.sent, quote.accepted and quote.expired")
			continue
		}
		for i, ch := range set.Channels {
			switch ch {
			case "email":
				if set.Email == nil {
					fe.add(p+".email", "is required when channels include email")
				}
			case "whatsapp":
				if set.WhatsApp == nil {
					fe.add(p+".whatsapp", "is required when channels include whatsapp")
				}
			default:
				fe.add(fmt.Sprintf("%s.channels[%d]", p, i), "must be email or whatsapp")
			}
		}
		if set.Email != nil {
			fe.addErr(p+".email.subject", tmpl.Validate(set.Email.Subject))
			fe.addErr(p+".email.text", tmpl.Validate(set.Email.Text))
			if set.Email.HTML != nil {
				fe.addErr(p+".email.html", tmpl.ValidateHTML(*set.Email.HTML))
			}
		}
		if set.WhatsApp != nil {
			if set.WhatsApp.Text != "" {
				fe.add(p+".whatsapp.text", "the legacy settings send templates only")
			}
			for i, prm := range set.WhatsApp.Parameters {
				fe.addErr(fmt.Sprintf("%s.whatsapp.parameters[%d]", p, i), tmpl.Validate(prm))
			}
		}
	}
	return fe.err()
}

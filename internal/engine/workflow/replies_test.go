package workflow

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/tmpl"
)

// fieldsOf returns the fields an EINVALID error names.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID {
		t.Fatalf("not an EINVALID error: %v", err)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestValidateExitOnReplied(t *testing.T) {
	t.Parallel()
	w := &engine.Workflow{Name: "Stop on reply", Trigger: engine.TriggerSent,
		ExitOn: []engine.QuoteStatus{engine.QuoteAccepted, engine.ExitOnReplied}}
	if err := Validate(w, "body"); err != nil {
		t.Fatalf("exit_on with replied: %v", err)
	}
	w.ExitOn = []engine.QuoteStatus{"answered"}
	if got := fieldsOf(t, Validate(w, "body")); len(got) != 1 || got[0] != "body.exit_on[0]" {
		t.Fatalf("an unknown exit_on value: %v", got)
	}
}

func TestValidateWhatsAppText(t *testing.T) {
	t.Parallel()
	email := &engine.EmailContent{Subject: "s", Text: "t"}
	for _, c := range []struct {
		name string
		wa   *engine.WhatsAppContent
		fb   bool
		want []string
	}{
		{"template", &engine.WhatsAppContent{Template: "x", Language: "en_US"}, false, nil},
		{"text", &engine.WhatsAppContent{Text: "Hi {{ lead.first_name }}"}, false, nil},
		{"text with an email fallback", &engine.WhatsAppContent{Text: "Hi"}, true, nil},
		{"text with a template for outside the window", &engine.WhatsAppContent{Text: "Hi", Template: "x", Language: "en_US"}, false, nil},
		{"neither", &engine.WhatsAppContent{}, false, []string{"whatsapp.template"}},
		{"blank text and no template", &engine.WhatsAppContent{Text: "  "}, false, []string{"whatsapp.template", "whatsapp.text"}},
		{"template without a language", &engine.WhatsAppContent{Template: "x", Text: "Hi"}, false, []string{"whatsapp.language"}},
		{"a language without a template", &engine.WhatsAppContent{Text: "Hi", Language: "en_US"}, false, []string{"whatsapp.language"}},
		{"parameters without a template", &engine.WhatsAppContent{Text: "Hi", Parameters: []string{"a"}}, false, []string{"whatsapp.parameters"}},
		{"text too long", &engine.WhatsAppContent{Text: strings.Repeat("a", MaxWhatsAppTextLength+1)}, false, []string{"whatsapp.text"}},
		{"text that does not parse", &engine.WhatsAppContent{Text: "Hi {{ lead.frist_name }}"}, false, []string{"whatsapp.text"}},
	} {
		s := &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: c.wa}
		if c.fb {
			s.FallbackChannel, s.Email = "email", email
		}
		got := fieldsOf(t, ValidateStep(s))
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.want)
		}
	}
	legacy := engine.LegacySettings{engine.TriggerSent: {Enabled: true, Channels: []string{"whatsapp"},
		WhatsApp: &engine.WhatsAppContent{Template: "x", Language: "en_US", Text: "Hi"}}}
	if got := fieldsOf(t, ValidateLegacySettings(legacy, "body")); len(got) != 1 || got[0] != "body.quote.sent.whatsapp.text" {
		t.Errorf("legacy text: %v", got)
	}
}

// TestSimulateWindow: the dry run sends a free-form text while the
// customer-service window is open when the message would go, and the
// step's template once it has closed (here, after a two-day wait).
func TestSimulateWindow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 5, 10, 0, 0, 0, time.UTC) // a Tuesday, no quiet hours at 10:00 in Lisbon
	w := &engine.Workflow{ID: "wf", Name: "Chat", Trigger: engine.TriggerSent, Steps: []engine.Step{
		{ID: "a", Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Text: "Hi {{ lead.first_name }}, any questions?",
			Template: "quote_followup", Language: "en_US", Parameters: []string{"{{ lead.first_name }}"}}},
		{ID: "b", Type: engine.StepWait, Wait: &engine.WaitSpec{Duration: "P2D"}},
		{ID: "c", Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Text: "Still there?"}},
	}}
	ctx := simContext(func(c *engine.Context) {
		c.Lead.WhatsAppOptIn = true
		c.WhatsAppWindowEnd = start.Add(20 * time.Hour)
	})
	plan, err := Simulate(w, ctx, start, tmpl.NewRenderer(engine.NewTimeZones()), engine.NewTimeZones())
	if err != nil {
		t.Fatal(err)
	}
	first, last := plan[0], plan[2]
	if !first.Text || first.Suppressed || first.Rendered == nil || first.Rendered.Text != "Hi Ana, any questions?" {
		t.Errorf("inside the window: %+v (rendered %+v)", first, first.Rendered)
	}
	if last.Text || !last.Suppressed || last.Reason != engine.ReasonOutsideWindow {
		t.Errorf("two days later: %+v", last)
	}
}

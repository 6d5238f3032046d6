package tmpl

import (
	"fmt"
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Rendered is a step's content rendered for one lead on one channel.
type Rendered struct {
	Subject string `json:"subject,omitempty"`
	// Text is an email's text body, or a WhatsApp step's free-form text.
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
	// Template is the WhatsApp template with its parameters rendered.
	Template *engine.WhatsAppContent `json:"template,omitempty"`
}

// Renderer renders the content of steps and legacy settings: it holds the
// compiled-template cache and the time zones templates show dates in. It
// is safe for concurrent use; the caller makes one with NewRenderer and
// keeps it for the life of the process. The zero Renderer caches nothing.
type Renderer struct {
	templates *Cache
	zones     *engine.TimeZones
}

// NewRenderer returns a Renderer with an empty template cache, showing
// dates in zones from zones.
func NewRenderer(zones *engine.TimeZones) *Renderer {
	return &Renderer{templates: NewCache(), zones: zones}
}

// RenderStep renders step for channel against ctx: for ChannelEmail the
// step's email content (a send_whatsapp step's fallback email included),
// for ChannelWhatsApp its template with every parameter rendered and its
// free-form text (Text), each when the step has it: which of the two is
// sent is the send plan's choice (engine.PlanSendAt).
//
// An email's HTML body is rendered in HTML mode (CompileHTML):
// every value a {{ }} prints is HTML-escaped unless the output ends in
// escape, escape_once or raw. The subject, the text body and WhatsApp
// parameters are plain text and printed as they are.
//
// Output is post-processed for what each channel accepts: an email subject
// is one line (line breaks become a space, surrounding space is trimmed);
// a WhatsApp parameter may contain no line break or tab and no run of more
// than four spaces (Meta refuses such a parameter), so every run of
// whitespace in it becomes one space, and it is trimmed. An empty parameter
// is kept as empty: whether to send it is the caller's choice.
//
// Errors are EINVALID *Errors with fields relative to the step
// ("email.subject", "whatsapp.parameters[1]"), with the line and column of
// the template at fault; a step without content for channel, or an unknown
// channel, is EINVALID too.
//
// Compiled templates are kept in the renderer's cache by source and mode,
// so rendering the same step for many leads parses each template once.
func (r *Renderer) RenderStep(step *engine.Step, channel string, ctx *engine.Context) (Rendered, error) {
	if step == nil {
		return Rendered{}, engine.Errorf(engine.EINVALID, "no step to render")
	}
	return r.renderContent(step.Email, step.WhatsApp, channel, ctx)
}

// RenderLegacy renders a legacy setting's content for channel, as
// RenderStep does for a step.
func (r *Renderer) RenderLegacy(s engine.LegacySetting, channel string, ctx *engine.Context) (Rendered, error) {
	return r.renderContent(s.Email, s.WhatsApp, channel, ctx)
}

func (r *Renderer) renderContent(email *engine.EmailContent, wa *engine.WhatsAppContent, channel string, ctx *engine.Context) (Rendered, error) {
	var out Rendered
	var err error
	// One set of bindings for every field (a subject and a body, a
	// template's parameters): they were a field's largest allocation.
	b := newBindings(ctx, r.zones)
	renderField := func(src, field string, html bool) (string, error) {
		return r.renderField(src, field, html, b)
	}
	switch channel {
	case engine.ChannelEmail:
		if email == nil {
			return out, engine.Invalid("email", "there is no email content to render")
		}
		if out.Subject, err = renderField(email.Subject, "email.subject", false); err != nil {
			return Rendered{}, err
		}
		out.Subject = oneLine(out.Subject)
		if out.Text, err = renderField(email.Text, "email.text", false); err != nil {
			return Rendered{}, err
		}
		if email.HTML != nil {
			if out.HTML, err = renderField(*email.HTML, "email.html", true); err != nil {
				return Rendered{}, err
			}
		}
	case engine.ChannelWhatsApp:
		if wa == nil {
			return out, engine.Invalid("whatsapp", "there is no WhatsApp content to render")
		}
		if wa.Text != "" {
			// Free-form text keeps its lines: unlike a template
			// parameter, it is the whole message.
			if out.Text, err = renderField(wa.Text, "whatsapp.text", false); err != nil {
				return Rendered{}, err
			}
			out.Text = strings.TrimSpace(out.Text)
		}
		if wa.Template == "" && wa.Text != "" {
			break
		}
		t := &engine.WhatsAppContent{Template: wa.Template, Language: wa.Language}
		if len(wa.Parameters) > 0 {
			t.Parameters = make([]string, len(wa.Parameters))
		}
		for i, p := range wa.Parameters {
			v, err := renderField(p, fmt.Sprintf("whatsapp.parameters[%d]", i), false)
			if err != nil {
				return Rendered{}, err
			}
			t.Parameters[i] = strings.Join(strings.Fields(v), " ")
		}
		out.Template = t
	default:
		return out, engine.Invalid("channel", "must be email or whatsapp, not %q", channel)
	}
	return out, nil
}

func (r *Renderer) renderField(src, field string, html bool, b bindings) (string, error) {
	if src == "" {
		return "", nil
	}
	t, err := r.templates.compile(src, html)
	if err != nil {
		return "", engine.PrefixFields(err, field)
	}
	out, err := t.render(b)
	if err != nil {
		return "", engine.PrefixFields(err, field)
	}
	return out, nil
}

// oneLine joins the lines of s with single spaces and trims it; spaces
// inside a line are kept.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return strings.TrimSpace(s)
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	kept := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, " ")
}

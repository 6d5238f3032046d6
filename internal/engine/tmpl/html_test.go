package tmpl

import (
	"errors"
	"html"
	"reflect"
	"strings"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// payload is markup a lead could type into a web form.
const payload = `<a href="https://evil.example">click</a> & 'it'`

// hostileContext is fullTemplateContext with the payload in every string
// of the lead context, so that any {{ }} of lead data prints markup unless
// it is escaped. Its custom map has one key so that loops over it iterate
// in one order.
func hostileContext() *engine.Context {
	ctx := fullTemplateContext()
	p := func(s string) string { return s + payload }
	l, q := ctx.Lead, ctx.Quote
	l.ID, l.FirstName, l.LastName, l.Email, l.Phone = p(l.ID), p(l.FirstName), p(l.LastName), p(l.Email), p(l.Phone)
	l.Language, l.Country, l.Timezone, l.Source, l.Stage, l.Owner = p(l.Language), p(l.Country), p(l.Timezone), p(l.Source), p(l.Stage), p(l.Owner)
	l.Tags = []string{"vip", payload}
	l.Custom = map[string]any{"roof_type": payload}
	q.ID, q.Number, q.Currency, q.Status, q.RejectionReason = p(q.ID), p(q.Number), p(q.Currency), engine.QuoteStatus(p(string(q.Status))), p(q.RejectionReason)
	ctx.Tenant.Name, ctx.Tenant.Timezone = p(ctx.Tenant.Name), p(ctx.Tenant.Timezone)
	ctx.QuoteURL = "https://quotes.example/q?t=1&u=2"
	return ctx
}

func TestHTMLEscapesEveryCatalogueField(t *testing.T) {
	ctx := hostileContext()
	for _, f := range engine.Fields {
		src := "<p>{{ " + f.Path + " }}</p>"
		text, err := renderTemplate(src, ctx)
		if err != nil {
			t.Fatalf("text %s: %v", src, err)
		}
		got, err := renderHTMLTemplate(src, ctx)
		if err != nil {
			t.Fatalf("HTML %s: %v", src, err)
		}
		value := strings.TrimSuffix(strings.TrimPrefix(text, "<p>"), "</p>")
		if want := "<p>" + html.EscapeString(value) + "</p>"; got != want {
			t.Errorf("HTML {{ %s }} = %q, want %q", f.Path, got, want)
		}
		// Every field that holds text carries something to escape, so the
		// test proves something for each of them.
		if (f.Kind == engine.FieldString || f.Kind == engine.FieldList) && (html.EscapeString(value) == value || strings.Contains(got, "<a ")) {
			t.Errorf("{{ %s }}: text %q, HTML %q: the payload is missing or unescaped", f.Path, value, got)
		}
	}
	// Custom fields and values a template builds are escaped too.
	for src, want := range map[string]string{
		"{{ lead.custom.roof_type }}":                         html.EscapeString(payload),
		"{{ lead.custom.roof_type | upcase }}":                html.EscapeString(strings.ToUpper(payload)),
		"{{ lead.custom }}":                                   html.EscapeString("map[roof_type:" + payload + "]"),
		`{{ "<b>" | append: lead.first_name }}`:               "&lt;b&gt;Ana" + html.EscapeString(payload),
		`{% assign x = lead.tags | join: "," %}{{ x }}`:       "vip," + html.EscapeString(payload),
		`{% for t in lead.tags %}[{{ t }}]{% endfor %}`:       "[vip][" + html.EscapeString(payload) + "]",
		`{{ quote.url }}`:                                     "https://quotes.example/q?t=1&amp;u=2",
		`{{ lead.name == "x" }} {{ 5 | plus: 1 }} {{ nil }}.`: "false 6 .",
		`{{ lead.custom.nothing }}|{{ "" }}|{{ "&amp;" }}`:    "||&amp;amp;",
	} {
		if got, err := renderHTMLTemplate(src, ctx); err != nil || got != want {
			t.Errorf("HTML %s = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestHTMLLiteralMarkupIsUntouched(t *testing.T) {
	ctx := hostileContext()
	for src, want := range map[string]string{
		`<p class="x">Hi & bye</p>`:                                                `<p class="x">Hi & bye</p>`,
		`<a href="{{ quote.url }}">'{{ quote.amount }}'</a>`:                       `<a href="https://quotes.example/q?t=1&amp;u=2">'1250'</a>`,
		`{% raw %}<b>{{ lead.first_name }}</b>{% endraw %}`:                        `<b>{{ lead.first_name }}</b>`,
		`{% for i in (1..2) %}{% cycle "<i>", "<b>" %}{% endfor %}`:                `<i><b>`,
		`{% tablerow t in lead.tags %}{{ t }}{% endtablerow %}`:                    `<tr class="row1"><td class="col1">vip</td><td class="col2">` + html.EscapeString(payload) + `</td></tr>`,
		"<ul>\n{%- for t in lead.tags %}\n  <li>{{- t -}}</li>{% endfor %}\n</ul>": "<ul>\n  <li>vip</li>\n  <li>" + html.EscapeString(payload) + "</li>\n</ul>",
	} {
		if got, err := renderHTMLTemplate(src, ctx); err != nil || got != want {
			t.Errorf("HTML %s = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestHTMLEscapeIsNotDoubled(t *testing.T) {
	ctx := hostileContext()
	esc := html.EscapeString(payload)
	for src, want := range map[string]string{
		"{{ lead.custom.roof_type | escape }}":                                 esc,
		"{{ lead.custom.roof_type | escape_once }}":                            esc,
		"{{- lead.custom.roof_type | escape -}}":                               esc,
		"{{ lead.custom.roof_type | upcase | escape }}":                        html.EscapeString(strings.ToUpper(payload)),
		`{{ "a &amp; b < c" | escape_once }}`:                                  "a &amp; b &lt; c",
		"{{ lead.custom.roof_type | escape }} and {{ lead.custom.roof_type }}": esc + " and " + esc,
		// Only the last filter counts: a filter after escape works on
		// escaped text, which is escaped again, and so is a parenthesised
		// escape.
		"{{ lead.custom.roof_type | escape | strip }}": html.EscapeString(esc),
		"{{ (lead.custom.roof_type | escape) }}":       html.EscapeString(esc),
	} {
		if got, err := renderHTMLTemplate(src, ctx); err != nil || got != want {
			t.Errorf("HTML %s = %q, %v; want %q", src, got, err, want)
		}
	}
	// An email body written for the old behaviour, with | escape on lead
	// data, renders exactly as it did.
	old := `<p>Hi {{ lead.first_name | escape }},</p><p><a href="{{ quote.url | escape }}">{{ quote.number | escape }}</a></p>`
	text, err1 := renderTemplate(old, ctx)
	got, err2 := renderHTMLTemplate(old, ctx)
	if err1 != nil || err2 != nil || got != text {
		t.Errorf("escaped template: HTML %q, %v; text %q, %v", got, err2, text, err1)
	}
}

func TestHTMLSafeMarker(t *testing.T) {
	ctx := hostileContext()
	esc := html.EscapeString(payload)
	for src, want := range map[string]string{
		"{{ lead.custom.roof_type | raw }}":                                              payload,
		"{{ lead.custom.roof_type | upcase | raw }}":                                     strings.ToUpper(payload),
		"[{{- lead.custom.roof_type | raw -}}]":                                          "[" + payload + "]",
		"{{ lead.custom.roof_type | raw }}{{ lead.custom.roof_type }}":                   payload + esc,
		"{{ lead.custom.roof_type | append: '<br>' | raw }}":                             payload + "<br>",
		"{{ lead.custom.roof_type | escape | newline_to_br | raw }}":                     esc,
		"{{ lead.tags | raw }}":                                                          "vip" + payload,
		"{{ 5 | raw }}{{ nil | raw }}":                                                   "5",
		`{% capture c %}<b>{{ lead.custom.roof_type }}</b>{% endcapture %}{{ c | raw }}`: "<b>" + esc + "</b>",
		// A capture holds HTML: printed without raw it is escaped again.
		`{% capture c %}<b>{{ lead.custom.roof_type }}</b>{% endcapture %}{{ c }}`: html.EscapeString("<b>" + esc + "</b>"),
	} {
		if got, err := renderHTMLTemplate(src, ctx); err != nil || got != want {
			t.Errorf("HTML %s = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestSafeMarkerRejected(t *testing.T) {
	type want struct {
		line, col int
		msg       string
	}
	const (
		plainMsg = "only allowed in an email's HTML body"
		lastMsg  = "raw must be the last filter of the output"
		tagMsg   = "raw is only allowed as the last filter of a {{ }} output"
	)
	tests := []struct {
		name string
		src  string
		html bool
		want []want
	}{
		{"plain text", "Hi\n  {{ lead.first_name | raw }}", false, []want{{2, 24, plainMsg}}},
		{"plain text, in a tag", "{% assign x = lead.first_name | raw %}", false, []want{{1, 33, plainMsg}}},
		{"middle of a chain", "x\n{{ lead.first_name | raw | upcase }}", true, []want{{2, 22, lastMsg}}},
		{"first of two", "{{ lead.first_name | raw | raw }}", true, []want{{1, 22, lastMsg}}},
		{"in parentheses", "{{ (lead.first_name | raw) }}", true, []want{{1, 23, lastMsg}}},
		{"in a filter argument", "{{ lead.first_name | append: (lead.last_name | raw) }}", true, []want{{1, 48, lastMsg}}},
		{"before and", "{{ lead.first_name | raw and lead.last_name }}", true, []want{{1, 22, lastMsg}}},
		{"with an argument", "{{ lead.first_name | raw: 1 }}", true, []want{{1, 22, "raw takes no arguments"}}},
		{"in assign", "{% assign x = lead.first_name | raw %}{{ x }}", true, []want{{1, 33, tagMsg}}},
		{"in if", "{% if lead.first_name | raw %}x{% endif %}", true, []want{{1, 25, tagMsg}}},
		{"in for", "{% for t in lead.tags | raw %}{{ t }}{% endfor %}", true, []want{{1, 25, tagMsg}}},
		{"in case", "{% case lead.country | raw %}{% when 'PT' %}pt{% endcase %}", true, []want{{1, 24, tagMsg}}},
		{"several", "{{ lead.name | raw | strip }}\nÁ {{ lead.email | raw }} {% assign y = 1 | raw %}", false,
			[]want{{1, 16, plainMsg}, {2, 19, plainMsg}, {2, 44, plainMsg}}},
		{"safe is not the marker", "{{ lead.first_name | safe }}", true, []want{{1, 22, "mark a value as safe HTML with raw"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			validate := Validate
			if tc.html {
				validate = ValidateHTML
			}
			err := validate(tc.src)
			if err == nil {
				t.Fatalf("%q is accepted", tc.src)
			}
			got := fieldErrors(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Line != w.line || g.Column != w.col || !strings.Contains(g.Message, w.msg) {
					t.Errorf("error %d = line %d column %d %q; want line %d column %d containing %q",
						i, g.Line, g.Column, g.Message, w.line, w.col, w.msg)
				}
			}
		})
	}
	// The same sources with raw moved to the end of a {{ }} are valid HTML
	// and, only there, valid.
	for _, src := range []string{"{{ lead.first_name | raw }}", "{{ lead.first_name | upcase | raw }}", "{{- lead.first_name | raw -}}", "{{ (lead.first_name) | raw }}"} {
		if err := ValidateHTML(src); err != nil {
			t.Errorf("ValidateHTML(%q) = %v", src, err)
		}
		if err := Validate(src); err == nil {
			t.Errorf("Validate(%q) accepts raw", src)
		}
	}
	// raw is a filter name only; the raw tag is unaffected in both modes.
	for _, validate := range []func(string) error{Validate, ValidateHTML} {
		if err := validate("{% raw %}{{ x | raw }}{% endraw %}"); err != nil {
			t.Errorf("raw tag: %v", err)
		}
	}
}

func TestHTMLModeKeepsLimitsAndLocations(t *testing.T) {
	ctx := fullTemplateContext()
	// A value that fits as text but not once escaped: 32768 quotes are
	// 160 KiB as &#34;.
	grow := "{% assign q = '\"' %}{% for i in (1..15) %}{% assign q = q | append: q %}{% endfor %}\n\n{{ q | size }}\n  {{ q }}"
	if out, err := renderTemplate(grow, ctx); err != nil || !strings.HasSuffix(out, strings.Repeat(`"`, 32768)) {
		t.Fatalf("text: %.40q…, %v", out, err)
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		msg       string
	}{
		{"escaped value too long", grow, 4, 3, "value is longer than 128 KiB"},
		{"filter failure", "\n  {{ lead.first_name | plus: 1 }}", 2, 3, "could not render"},
		{"nested loops", "{% for i in (1..10000) %}\n{% for j in (1..10000) %}{{ '' }}{% endfor %}{% endfor %}", 2, 1, "too much work"},
		{"huge range", "<p>\n{% for i in (1..100000000) %}{{ i }}{% endfor %}", 2, 1, "more than 10000 items"},
		// 20000 times "<&lt;&lt;&lt;>" is 273 KiB; as text it would be 98
		// KiB. Whether liquid locates a failed write depends on the node.
		{"output cap", "{% for i in (1..10000) %}{% for j in (1..2) %}<{{ '<<<' }}>{% endfor %}{% endfor %}", 1, 1, "output is longer than 128 KiB"},
		{"raw output cap", "{% for i in (1..10000) %}{% for j in (1..2) %}{{ '<<<<<<<<<<' | raw }}{% endfor %}{% endfor %}", 0, 0, "output is longer than 128 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := renderHTMLTemplate(tc.src, ctx)
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error", len(out))
			}
			fe := fieldErrors(t, err)
			if len(fe) != 1 || !strings.Contains(fe[0].Message, tc.msg) || fe[0].Line != tc.line || fe[0].Column != tc.col {
				t.Fatalf("got %+v, want line %d column %d and %q", fe, tc.line, tc.col, tc.msg)
			}
		})
	}
	// Validation errors are located as in plain text.
	src := "<p>{{ lead.first_name | raw }}\n  {{ quote.numbr }}</p>"
	fe := fieldErrors(t, ValidateHTML(src))
	if len(fe) != 1 || fe[0].Line != 2 || fe[0].Column != 6 || !strings.Contains(fe[0].Message, `"quote.numbr"`) {
		t.Fatalf("got %+v", fe)
	}
}

func TestHTMLTemplateCompiles(t *testing.T) {
	src := "<p>{{ lead.first_name }}</p>"
	h, err := CompileHTML(src)
	if err != nil || !h.html || h.src != src || !reflect.DeepEqual(templatePaths(src, true), []string{"lead.first_name"}) {
		t.Fatalf("CompileHTML: %+v, %v", h, err)
	}
	p, err := Compile(src)
	if err != nil || p.html {
		t.Fatalf("Compile: %+v, %v", p, err)
	}
}

func TestRenderStepHTMLMode(t *testing.T) {
	ctx := hostileContext()
	name := ctx.Lead.FirstName
	esc := html.EscapeString(name)
	email := &engine.EmailContent{
		Subject: "Quote for {{ lead.first_name }}",
		Text:    "Hi {{ lead.first_name }}",
		HTML:    htmlPtr(`<p>Hi {{ lead.first_name }}, <a href="{{ quote.url }}">{{ "see" | raw }}</a></p>{{ lead.first_name | escape }}`),
	}
	want := Rendered{
		Subject: "Quote for " + name,
		Text:    "Hi " + name,
		HTML:    `<p>Hi ` + esc + `, <a href="https://quotes.example/q?t=1&amp;u=2">see</a></p>` + esc,
	}
	wa := &engine.WhatsAppContent{Template: "t", Language: "en_US", Parameters: []string{"{{ lead.first_name }}"}}
	step := &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: wa, FallbackChannel: "email", Email: email}
	if got, err := testRenderer.RenderStep(step, engine.ChannelEmail, ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RenderStep email = %#v, %v\nwant %#v", got, err, want)
	}
	if got, err := testRenderer.RenderStep(step, engine.ChannelWhatsApp, ctx); err != nil || got.Template == nil || got.Template.Parameters[0] != strings.Join(strings.Fields(name), " ") {
		t.Errorf("RenderStep whatsapp = %#v, %v", got.Template, err)
	}
	legacy := engine.LegacySetting{Enabled: true, Channels: []string{"email"}, Email: email}
	if got, err := testRenderer.RenderLegacy(legacy, engine.ChannelEmail, ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("RenderLegacy email = %#v, %v\nwant %#v", got, err, want)
	}

	// raw belongs to the HTML body only.
	for _, tc := range []struct {
		step  *engine.Step
		field string
	}{
		{&engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "{{ lead.first_name | raw }}", Text: "t"}}, "email.subject"},
		{&engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "{{ lead.first_name | raw }}"}}, "email.text"},
		{&engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t", HTML: htmlPtr("\n{{ lead.first_name | raw | upcase }}")}}, "email.html"},
		{&engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Template: "t", Parameters: []string{"{{ lead.first_name | raw }}"}}}, "whatsapp.parameters[0]"},
	} {
		ch := engine.ChannelEmail
		if tc.step.WhatsApp != nil {
			ch = engine.ChannelWhatsApp
		}
		_, err := testRenderer.RenderStep(tc.step, ch, ctx)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || !strings.Contains(e.Fields[0].Message, "raw") {
			t.Errorf("%s: err = %v, want EINVALID at %s about raw", tc.field, err, tc.field)
		}
	}
}

func TestTemplateCacheSeparatesModes(t *testing.T) {
	c := NewCache()
	src := "<b>{{ lead.first_name }}</b>"
	text, err1 := c.compile(src, false)
	htm, err2 := c.compile(src, true)
	if err1 != nil || err2 != nil || text == htm || text.html || !htm.html {
		t.Fatalf("compile: %v %v %v %v", text, err1, htm, err2)
	}
	if again, _ := c.compile(src, true); again != htm {
		t.Error("the HTML template was compiled twice")
	}
	if again, _ := c.compile(src, false); again != text {
		t.Error("the text template was compiled twice")
	}
	if c.lru.Len() != 2 {
		t.Errorf("cache holds %d templates, want 2", c.lru.Len())
	}
	ctx := hostileContext()
	a, _ := text.Render(ctx, nil)
	b, _ := htm.Render(ctx, nil)
	if a != "<b>"+ctx.Lead.FirstName+"</b>" || b != "<b>"+html.EscapeString(ctx.Lead.FirstName)+"</b>" {
		t.Errorf("text %q, HTML %q", a, b)
	}
	// A source valid only as HTML is cached only as HTML.
	raw := "{{ lead.first_name | raw }}"
	if _, err := c.compile(raw, false); err == nil {
		t.Error("raw compiled as text")
	}
	if _, err := c.compile(raw, true); err != nil {
		t.Error(err)
	}
	if c.lru.Len() != 3 {
		t.Errorf("cache holds %d templates, want 3", c.lru.Len())
	}
}

func TestPrintValueMatchesLiquid(t *testing.T) {
	// printValue must print what liquid prints for a {{ }}; plain liquid's
	// output is the reference.
	ctx := fuzzContext()
	for _, src := range []string{
		"{{ lead.tags }}", "{{ lead.custom }}", "{{ quote.valid_until }}", "{{ quote.amount }}", "{{ quote.revision }}",
		"{{ lead.email_opt_out }}", "{{ nil }}", "{{ 1.5 }}", "{{ (1..3) }}", "{{ lead.custom.nothing }}",
		"{{ 'a,b' | split: ',' }}", "{{ lead.created_at | date: '%s' | times: 1 }}", "{{ lead.tags | sort | reverse }}",
		"{{ 10 | divided_by: 3.0 }}", "{{ lead.name == 'Ana Silva' }}", "{{ quote.valid_until | date: '%B' }}",
	} {
		want, ok := plainRender(src, ctx)
		got, err := renderHTMLTemplate(src, ctx)
		if !ok || err != nil || got != html.EscapeString(want) {
			t.Errorf("HTML %s = %q, %v; liquid prints %q (ok %v)", src, got, err, want, ok)
		}
	}
}

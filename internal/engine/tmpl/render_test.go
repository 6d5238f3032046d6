package tmpl

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func htmlPtr(s string) *string { return &s }

func TestRenderStep(t *testing.T) {
	ctx := fullTemplateContext()
	emailStep := &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{
		Subject: "Quote {{ quote.number }}\r\n for {{ lead.first_name }} ",
		Text:    "Hi {{ lead.first_name }},\n\nyour quote is {{ quote.amount | money }}: {{ quote.url }}",
		HTML:    htmlPtr("<p>Hi {{ lead.first_name }}</p>"),
	}}
	waStep := &engine.Step{Type: engine.StepSendWhatsApp,
		WhatsApp: &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US",
			Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}\n\t{{ quote.amount | money }}      !", "{{ lead.custom.missing }}"}},
		FallbackChannel: "email",
		Email:           &engine.EmailContent{Subject: "About {{ quote.number }}", Text: "Hello {{ lead.name }}"},
	}

	tests := []struct {
		name    string
		step    *engine.Step
		channel string
		want    Rendered
	}{
		{"email", emailStep, "email", Rendered{
			Subject: "Quote Q-1001 for Ana",
			Text:    "Hi Ana,\n\nyour quote is €1,250.00: https://quotes.example/q/tok123",
			HTML:    "<p>Hi Ana</p>",
		}},
		{"email without html", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "S", Text: "T"}}, "email", Rendered{Subject: "S", Text: "T"}},
		{"whatsapp", waStep, "whatsapp", Rendered{Template: &engine.WhatsAppContent{
			Template: "quote_followup", Language: "en_US",
			Parameters: []string{"Ana", "Q-1001 €1,250.00 !", ""},
		}}},
		{"whatsapp fallback email", waStep, "email", Rendered{Subject: "About Q-1001", Text: "Hello Ana Silva"}},
		// The fields share one set of bindings: what a field assigns
		// stays in that field.
		{"assign stays in its field", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{
			Subject: `{% assign greeting = "Dear" %}{{ greeting }} {{ lead.first_name }}`,
			Text:    `[{% if greeting %}{{ greeting }}{% endif %}]{% assign greeting = "Hi" %} {{ greeting }} {{ lead.first_name }}`,
		}}, "email", Rendered{Subject: "Dear Ana", Text: "[] Hi Ana"}},
		{"whatsapp without parameters", &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Template: "hello_world", Language: "en_US"}}, "whatsapp",
			Rendered{Template: &engine.WhatsAppContent{Template: "hello_world", Language: "en_US"}}},
	}
	for _, tc := range tests {
		got, err := testRenderer.RenderStep(tc.step, tc.channel, ctx)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: RenderStep = %#v, %v\nwant %#v", tc.name, got, err, tc.want)
			if got.Template != nil {
				t.Logf("params %q", got.Template.Parameters)
			}
		}
	}
	// The step's own content is not modified.
	if waStep.WhatsApp.Parameters[0] != "{{ lead.first_name }}" {
		t.Errorf("RenderStep modified the step: %q", waStep.WhatsApp.Parameters)
	}
}

func TestRenderStepErrors(t *testing.T) {
	ctx := fullTemplateContext()
	tests := []struct {
		name    string
		step    *engine.Step
		channel string
		field   string
		line    int
	}{
		{"unknown channel", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t"}}, "sms", "channel", 0},
		{"no email content", &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Template: "x"}}, "email", "email", 0},
		{"no whatsapp content", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t"}}, "whatsapp", "whatsapp", 0},
		{"bad variable", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "a\n{{ lead.nope }}"}}, "email", "email.text", 2},
		{"render failure", &engine.Step{Type: engine.StepSendEmail, Email: &engine.EmailContent{Subject: "s", Text: "t", HTML: htmlPtr("\n{{ lead.first_name | plus: 1 }}")}}, "email", "email.html", 2},
		{"bad parameter", &engine.Step{Type: engine.StepSendWhatsApp, WhatsApp: &engine.WhatsAppContent{Template: "x", Parameters: []string{"ok", "{{ quote.nope }}"}}}, "whatsapp", "whatsapp.parameters[1]", 1},
	}
	for _, tc := range tests {
		_, err := testRenderer.RenderStep(tc.step, tc.channel, ctx)
		var e *engine.Error
		if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) == 0 {
			t.Errorf("%s: err = %v, want EINVALID with fields", tc.name, err)
			continue
		}
		if f := e.Fields[0]; f.Field != tc.field || f.Line != tc.line {
			t.Errorf("%s: field %q line %d, want %q line %d (%v)", tc.name, f.Field, f.Line, tc.field, tc.line, err)
		}
	}
	if _, err := testRenderer.RenderStep(nil, "email", ctx); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("nil step: %v", err)
	}
}

func TestRenderLegacy(t *testing.T) {
	ctx := fullTemplateContext()
	s := engine.LegacySetting{Enabled: true, Channels: []string{"email", "whatsapp"},
		Email:    &engine.EmailContent{Subject: "Your quote {{ quote.number }}", Text: "{{ quote.url }}"},
		WhatsApp: &engine.WhatsAppContent{Template: "quote_sent", Language: "en_US", Parameters: []string{"{{ quote.url }}"}},
	}
	got, err := testRenderer.RenderLegacy(s, "email", ctx)
	if want := (Rendered{Subject: "Your quote Q-1001", Text: "https://quotes.example/q/tok123"}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("email: %#v, %v", got, err)
	}
	got, err = testRenderer.RenderLegacy(s, "whatsapp", ctx)
	if err != nil || got.Template == nil || !reflect.DeepEqual(got.Template.Parameters, []string{"https://quotes.example/q/tok123"}) {
		t.Errorf("whatsapp: %#v, %v", got, err)
	}
	if _, err := testRenderer.RenderLegacy(engine.LegacySetting{Channels: []string{"email"}}, "email", ctx); engine.ErrorCode(err) != engine.EINVALID {
		t.Errorf("no content: %v", err)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  "plain",
		"  padded  ":             "padded",
		"a\nb":                   "a b",
		"a \r\n\r\n  b\n":        "a b",
		"keeps  inner  spaces\n": "keeps  inner  spaces",
		"\n\n":                   "",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTemplateCache(t *testing.T) {
	c := NewCache()
	a1, err := c.compile("Hi {{ lead.first_name }}", false)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.compile("Hi {{ lead.first_name }}", false)
	if a1 != a2 {
		t.Error("the same source compiled twice")
	}
	if _, err := c.compile("{{ lead.nope }}", false); err == nil {
		t.Error("invalid template compiled")
	}
	if c.lru.Len() != 1 {
		t.Errorf("cache holds %d templates, want 1 (errors are not cached)", c.lru.Len())
	}

	// Fill well past the bound: it holds, and the most
	// recently used template survives because hits move it forward.
	for i := range 3 * CacheEntries / 2 {
		if _, err := c.compile(fmt.Sprintf("n%d {{ lead.first_name }}", i), false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.compile("Hi {{ lead.first_name }}", false); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.lru.Len(); n > CacheEntries {
		t.Errorf("cache holds %d templates, bound is %d", n, CacheEntries)
	}
	if a3, _ := c.compile("Hi {{ lead.first_name }}", false); a3 != a1 {
		t.Error("a hot template was evicted")
	}

	// The byte bound: large sources are evicted sooner.
	c = NewCache()
	big := make([]byte, CacheMaxSource-32)
	for i := range big {
		big[i] = 'x'
	}
	for i := range 200 {
		if _, err := c.compile(fmt.Sprintf("%d%s", i, big), false); err != nil {
			t.Fatal(err)
		}
	}
	bytes := 0
	for _, k := range c.lru.Keys() {
		bytes += len(k.src)
	}
	if bytes > CacheBytes || bytes != c.bytes {
		t.Errorf("cache holds %d bytes of source, bound is %d", bytes, CacheBytes)
	}

	// Sources over the size limit are compiled every time.
	huge := string(make([]byte, CacheMaxSource+1))
	h1, _ := c.compile(huge, false)
	h2, _ := c.compile(huge, false)
	if h1 == nil || h1 == h2 {
		t.Error("an oversized template was cached")
	}
}

func TestTemplateCacheConcurrent(t *testing.T) {
	c := NewCache()
	ctx := fullTemplateContext()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				src := fmt.Sprintf("%d {{ lead.first_name }}", (i*7+g)%(CacheEntries+50))
				tpl, err := c.compile(src, false)
				if err != nil {
					t.Error(err)
					return
				}
				out, err := tpl.Render(ctx, nil)
				if want := fmt.Sprintf("%d Ana", (i*7+g)%(CacheEntries+50)); err != nil || out != want {
					t.Errorf("render %q = %q, %v", src, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// benchStep is a realistic send_whatsapp step with an email fallback.
var benchStep = &engine.Step{Type: engine.StepSendWhatsApp,
	WhatsApp: &engine.WhatsAppContent{Template: "quote_followup", Language: "en_US",
		Parameters: []string{"{{ lead.first_name }}", "{{ quote.number }}", "{{ quote.amount | money }}"}},
	FallbackChannel: "email",
	Email: &engine.EmailContent{
		Subject: "About quote {{ quote.number }}",
		Text: "Hi {{ lead.first_name }},\n\n{% if quote.amount > 1000 %}Your quote {{ quote.number }} for {{ quote.amount | money }}" +
			" is ready{% else %}Here is your quote{% endif %}: {{ quote.url }}\n\nValid until {{ quote.valid_until | date: \"%d %B %Y\" }}.\n\n{{ tenant.name }}",
		HTML: htmlPtr("<p>Hi {{ lead.first_name | escape }},</p><p><a href=\"{{ quote.url }}\">Quote {{ quote.number }}</a></p>"),
	},
}

func BenchmarkRenderStep(b *testing.B) {
	ctx := fullTemplateContext()
	for _, ch := range []string{engine.ChannelEmail, engine.ChannelWhatsApp} {
		b.Run(ch+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := testRenderer.RenderStep(benchStep, ch, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(ch+"/uncached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (&Renderer{}).RenderStep(benchStep, ch, ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("email/cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := testRenderer.RenderStep(benchStep, engine.ChannelEmail, ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

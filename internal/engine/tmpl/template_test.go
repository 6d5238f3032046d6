package tmpl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// fullTemplateContext has a value for every catalogue field.
func fullTemplateContext() *engine.Context {
	created := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	valid := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	return &engine.Context{
		Tenant: &engine.Tenant{ID: "t1", Name: "Acme Roofing", Timezone: "Europe/Lisbon"},
		Lead: &engine.Lead{
			ID: "l1", FirstName: "Ana", LastName: "Silva", Email: "ana@example.com",
			Phone: "+351912345678", Language: "pt", Country: "PT", Timezone: "Europe/Lisbon",
			Source: "web", Stage: "new", Tags: []string{"roofing", "vip"}, Owner: "joao",
			Custom:      map[string]any{"roof_type": "tile", "area": 120.5, "rooms": []any{"kitchen", "attic"}, "roof type": "flat"},
			EmailOptOut: false, WhatsAppOptIn: true, CreatedAt: created,
		},
		Quote: &engine.Quote{
			ID: "q1", Number: "Q-1001", AmountMinor: 125000, Currency: "EUR", Status: engine.QuoteSent,
			ValidUntil: &valid, Revision: 3, RejectionReason: "too expensive", CreatedAt: created,
		},
		QuoteURL: "https://quotes.example/q/tok123",
	}
}

// fieldErrors returns the field errors of an EINVALID *Error, failing the
// test for anything else.
func fieldErrors(t *testing.T, err error) []engine.FieldError {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if e.Code != engine.EINVALID {
		t.Fatalf("want code %s, got %s", engine.EINVALID, e.Code)
	}
	for _, fe := range e.Fields {
		if fe.Field != "" {
			t.Errorf("field path %q: want empty, for the caller to prefix", fe.Field)
		}
	}
	return e.Fields
}

func TestValidateAccepts(t *testing.T) {
	valid := []string{
		"",
		"plain text, no markup",
		"Hi {{ lead.first_name }}, your quote {{ quote.number }} for {{ quote.amount | money }} is at {{ quote.url }}. — {{ tenant.name }}",
		`{% if lead.language == "pt" %}Olá{% elsif lead.language == "es" %}Hola{% else %}Hi{% endif %}`,
		`{% unless lead.email_opt_out %}ok{% endunless %}`,
		`{% for t in lead.tags %}{{ forloop.index }}:{{ t | upcase }}{% unless forloop.last %}, {% endunless %}{% endfor %}`,
		`{% for t in lead.tags limit: 2 offset: 1 reversed %}{{ t }}{% else %}no tags{% endfor %}`,
		`{% for kv in lead.custom %}{{ kv[0] }}={{ kv[1] }}{% endfor %}`,
		`{% tablerow t in lead.tags cols: 2 %}{{ t }}{% endtablerow %}`,
		`{% assign greeting = "Hello" | append: ", " | append: lead.first_name %}{{ greeting }}`,
		`{% capture who %}{{ lead.name }} ({{ lead.email }}){% endcapture %}{{ who | strip }}`,
		// A local may be read before the assign that sets it, as in a loop.
		`{% for t in lead.tags %}{{ prev }}{% assign prev = t %}{% endfor %}`,
		`{% case lead.country %}{% when "PT", "BR" %}pt{% when "ES" %}es{% else %}en{% endcase %}`,
		`{{ lead.custom.roof_type }} {{ lead.custom["roof type"] }} {{ lead.custom.address.city }} {{ lead.custom[lead.custom.key] }}`,
		`{{ lead.tags.size }} {{ lead.tags.first }} {{ lead.tags[0] }} {{ lead.tags.last.size }} {{ lead.first_name.size }}`,
		`{{ quote.valid_until | date: "%d/%m/%Y" }} {{ quote.amount | times: 1.23 | round: 2 }} {{ quote.amount | money: "USD" }}`,
		`{% if quote.amount >= 1000 and lead.tags contains "vip" or lead.custom.area > 100 %}big{% endif %}`,
		`{% for i in (1..3) %}{% cycle "a", "b" %}{% if i == 2 %}{% break %}{% endif %}{% endfor %}`,
		`{% raw %}{{ not.a.variable }} {% if %}{% endraw %}`,
		`{% comment %}{{ lead.frist_name }} {% nonsense %}{% endcomment %}`,
		"{{- lead.first_name -}}\n{%- if lead.phone -%} {{ lead.phone }} {%- endif -%}",
		`{{ "literal" }} {{ 42 }} {{ 1.5 }} {{ true }} {{ nil }} {{ lead.owner | default: "us" }}`,
		`{% if lead.custom.roof_type == nil %}none{% endif %}`,
		`{{ lead.name | truncate: 5000 }} {{ lead.name | truncatewords: 2, "…" }}`,
	}
	for _, src := range valid {
		if err := Validate(src); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", src, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	type want struct {
		line, col int
		msg       string // substring of the message
	}
	tests := []struct {
		name string
		src  string
		want []want
	}{
		{"syntax error in output", "Hello,\n{{ lead. }}", []want{{2, 1, "syntax error"}}},
		{"syntax error in tag", "a\n  {% if lead.first_name == %}x{% endif %}", []want{{2, 3, "syntax error"}}},
		{"unclosed block", "a\n {% if lead.phone %}\n b", []want{{2, 2, "{% if %} is not closed; add {% endif %}"}}},
		{"stray end tag", "x {% endif %}", []want{{1, 3, "endif not inside"}}},
		{"unknown tag", "one\ntwo {% frobnicate x %}", []want{{2, 8, `unknown tag "frobnicate"`}}},
		{"unknown tag suggestion", "{% fro x %}", []want{{1, 4, `did you mean "for"?`}}},
		{"unclosed output", "Hi {{ lead.first_name", []want{{1, 4, `"{{" is not closed`}}},
		{"unclosed comment", "a\n {% comment %} b {% endif %}", []want{{2, 2, "{% comment %} is not closed; add {% endcomment %}"}}},
		{"unclosed raw", "{{ lead.name }}{% raw %}{{", []want{{1, 16, "{% raw %} is not closed"}}},
		{"unclosed tag", "a\nb {% if x", []want{{2, 3, `"{%" is not closed`}}},
		{"number out of range", "x\n  {{ 99999999999999999999 }}", []want{{2, 6, "out of range"}}},
		{"internal selector", "{{ %assign x = 1 }}", []want{{1, 4, "unexpected"}}},
		{
			"unknown variables on several lines",
			"Dear {{ lead.first_name }},\n\nYour quote {{ quote.numbr }} for {{ quote.amount | money }}\n{% if lead.frist_name %}{% endif %}",
			[]want{
				{3, 15, `unknown variable "quote.numbr" (did you mean "quote.number"?)`},
				{4, 7, `unknown variable "lead.frist_name" (did you mean "lead.first_name"?)`},
			},
		},
		{"column counts code points", "Olá {{ lead.frist_name }}", []want{{1, 8, `"lead.frist_name"`}}},
		{"unknown root", "{{ customer.name }}", []want{{1, 4, `unknown variable "customer.name"`}}},
		{"variable in multi-line tag", "{% if lead.language == \"pt\"\n   and lead.frist_name %}x{% endif %}", []want{{2, 8, `"lead.frist_name"`}}},
		{"variable in filter argument", "{{ lead.first_name | append: lead.nickname }}", []want{{1, 30, `"lead.nickname"`}}},
		{"variable in loop modifier", "{% for t in lead.tags limit: quote.max %}{% endfor %}", []want{{1, 30, `"quote.max"`}}},
		{"variable in when", "{% case lead.country %}{% when lead.home %}{% endcase %}", []want{{1, 32, `"lead.home"`}}},
		{"variable in assign", "{% assign x = tenant.phone %}", []want{{1, 15, `"tenant.phone"`}}},
		{"variable in range", "{% for i in (1..quote.items) %}{% endfor %}", []want{{1, 17, `"quote.items"`}}},
		{"loop variable out of scope", "{% for t in lead.tags %}{% endfor %}{{ t }}", []want{{1, 40, `unknown variable "t"`}}},
		{"forloop outside a loop", "{{ forloop.index }}", []want{{1, 4, `unknown variable "forloop.index"`}}},
		{"whole context object", "{{ lead }}", []want{{1, 4, "lead is not a value"}}},
		{"whole context object outside a condition", "{% assign q = quote %}", []want{{1, 15, "quote is not a value"}}},
		{"computed key on context", "{% assign k = \"email\" %}{{ lead[k] }}", []want{{1, 28, "computed key"}}},
		{"property of a string", "{{ lead.first_name.upcase }}", []want{{1, 4, `has no property "upcase"`}}},
		{"index of a number", "{{ quote.amount[0] }}", []want{{1, 4, "cannot be indexed"}}},
		{"unknown filter", "{{ lead.first_name | upcas }}", []want{{1, 22, `unknown filter "upcas" (did you mean "upcase"?)`}}},
		{"too many filter arguments", `{{ lead.first_name | append: "a", "b" }}`, []want{{1, 22, `"append" takes at most 1`}}},
		{"money takes one argument", `{{ quote.amount | money: "EUR", 2 }}`, []want{{1, 19, `"money" takes at most 1`}}},
		{"assign to the context", "{% assign lead = 1 %}", []want{{1, 11, `"lead" is the lead context`}}},
		{"assign to forloop", "{% assign forloop = 1 %}", []want{{1, 11, "forloop is set by for loops"}}},
		{"reserved name", "{% capture _qf_state %}x{% endcapture %}{{ _qf_state }}", []want{{1, 12, "reserved"}, {1, 44, "reserved"}}},
		{"loop over the context", "{% for quote in lead.tags %}{% endfor %}", []want{{1, 8, `"quote" is the lead context`}}},
		{"capture needs a name", "{% capture a b %}{% endcapture %}", []want{{1, 12, "capture needs one variable name"}}},
		{"include", "{% include 'secrets.txt' %}", []want{{1, 1, "include tag is not supported"}}},
		{"empty is not supported", `{% if lead.tags == empty %}{% endif %}`, []want{{1, 20, `"empty" is not supported`}}},
		{"null hint", `{% if lead.owner == null %}{% endif %}`, []want{{1, 21, "write nil"}}},
		{"invalid custom key", `{{ lead.custom[""] }}`, []want{{1, 4, "not a valid custom field name"}}},
		{"too large", strings.Repeat("x", MaxSize+1), []want{{1, 1, "templates are limited to 64 KiB"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.src)
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want errors", tc.src)
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
			// HTML mode reports the same problems at the same places.
			if herr := ValidateHTML(tc.src); !reflect.DeepEqual(herr, err) {
				t.Errorf("ValidateHTML = %v\nValidate = %v", herr, err)
			}
		})
	}
}

func TestValidateNamesTheVariable(t *testing.T) {
	got := fieldErrors(t, Validate("x\n  {{ lead.frist_name | upcase }}"))
	if len(got) != 1 || got[0].Value != "lead.frist_name" || got[0].Line != 2 || got[0].Column != 6 {
		t.Fatalf("got %+v, want lead.frist_name at 2:6", got)
	}
	// The caller places the errors in the request.
	var e *engine.Error
	err := engine.PrefixFields(Validate("{{ lead.frist_name }}"), "body.steps[0].email.subject")
	if !errors.As(err, &e) || e.Fields[0].Field != "body.steps[0].email.subject" {
		t.Fatalf("prefixed error = %v", err)
	}
}

func TestValidateCapsErrorCount(t *testing.T) {
	src := strings.Repeat("{{ nope }}\n", 50)
	if got := fieldErrors(t, Validate(src)); len(got) != maxTemplateErrors {
		t.Fatalf("got %d errors, want %d", len(got), maxTemplateErrors)
	}
}

func TestRenderEveryCatalogueField(t *testing.T) {
	ctx := fullTemplateContext()
	want := map[string]string{
		"lead.id":                "l1",
		"lead.first_name":        "Ana",
		"lead.last_name":         "Silva",
		"lead.name":              "Ana Silva",
		"lead.email":             "ana@example.com",
		"lead.phone":             "+351912345678",
		"lead.language":          "pt",
		"lead.country":           "PT",
		"lead.timezone":          "Europe/Lisbon",
		"lead.source":            "web",
		"lead.stage":             "new",
		"lead.tags":              "roofingvip",
		"lead.owner":             "joao",
		"lead.email_opt_out":     "false",
		"lead.whatsapp_opt_in":   "true",
		"lead.created_at":        "2026-03-01 09:30:00 +0000",
		"quote.id":               "q1",
		"quote.number":           "Q-1001",
		"quote.amount":           "1250",
		"quote.currency":         "EUR",
		"quote.status":           "sent",
		"quote.valid_until":      "2026-12-31 23:59:59 +0000",
		"quote.revision":         "3",
		"quote.url":              "https://quotes.example/q/tok123",
		"quote.rejection_reason": "too expensive",
		"quote.created_at":       "2026-03-01 09:30:00 +0000",
		"tenant.name":            "Acme Roofing",
		"tenant.timezone":        "Europe/Lisbon",
	}
	for _, f := range engine.Fields {
		w, ok := want[f.Path]
		if !ok {
			t.Errorf("catalogue field %s has no expected rendering in this test", f.Path)
			continue
		}
		got, err := renderTemplate("{{ "+f.Path+" }}", ctx)
		if err != nil || got != w {
			t.Errorf("{{ %s }} = %q, %v; want %q", f.Path, got, err, w)
		}
	}
	if len(want) != len(engine.Fields) {
		t.Errorf("test expects %d fields, catalogue has %d", len(want), len(engine.Fields))
	}
}

func TestRenderTemplate(t *testing.T) {
	ctx := fullTemplateContext()
	noQuote := fullTemplateContext()
	noQuote.Quote = nil
	nyLead := fullTemplateContext()
	nyLead.Lead.Timezone = "America/New_York"
	sparse := &engine.Context{Lead: &engine.Lead{FirstName: "Bo"}}
	tests := []struct {
		name string
		src  string
		ctx  *engine.Context
		want string
	}{
		{"greeting", "Hi {{ lead.first_name }}, see {{ quote.url }} — {{ tenant.name }}", ctx,
			"Hi Ana, see https://quotes.example/q/tok123 — Acme Roofing"},
		{"money uses the quote's currency", "{{ quote.amount | money }}", ctx, "€1,250.00"},
		{"money with a currency argument", `{{ quote.amount | money: "USD" }} {{ quote.amount | money: "jpy" }}`, ctx, "$1,250.00 ¥1,250"},
		{"money on a custom number", "{{ lead.custom.area | money }}", ctx, "€120.50"},
		{"money on a numeric string", `{{ "1200" | money }}`, ctx, "€1,200.00"},
		{"money without a quote", "[{{ quote.amount | money }}] {{ 99.5 | money }}", noQuote, "[] 99.50"},
		{"nil quote renders empty", "Hi {{ lead.first_name }}{{ quote.number }}!{% if quote %}q{% endif %}", noQuote, "Hi Ana!"},
		{"missing values render empty", "[{{ lead.email }}][{{ lead.custom.nothing }}][{{ lead.created_at }}][{{ tenant.name }}]", sparse, "[][][][]"},
		{"nil context", "a{{ lead.first_name }}b", nil, "ab"},
		{"condition on language", `{% if lead.language == "pt" %}Olá{% else %}Hi{% endif %} {{ lead.first_name }}`, ctx, "Olá Ana"},
		{"loop over tags", `{% for t in lead.tags %}{{ forloop.index }}.{{ t | capitalize }}{% unless forloop.last %}, {% endunless %}{% endfor %}`, ctx, "1.Roofing, 2.Vip"},
		{"loop else", `{% for t in lead.tags %}x{% else %}none{% endfor %}`, sparse, "none"},
		{"custom fields", `{{ lead.custom.roof_type }}/{{ lead.custom["roof type"] }}/{{ lead.custom.rooms | join: "+" }}/{{ lead.custom.rooms.size }}`, ctx, "tile/flat/kitchen+attic/2"},
		{"assign and capture", `{% assign n = lead.tags.size | plus: 1 %}{% capture s %}{{ lead.name }}:{{ n }}{% endcapture %}{{ s | upcase }}`, ctx, "ANA SILVA:3"},
		{"case", `{% case lead.country %}{% when "BR", "PT" %}pt{% else %}en{% endcase %}`, ctx, "pt"},
		{"comparisons", `{% if quote.amount >= 1000 and lead.tags contains "vip" %}big vip{% endif %}`, ctx, "big vip"},
		{"date in the lead's timezone", `{{ quote.valid_until | date: "%Y-%m-%d %H:%M" }}`, nyLead, "2026-12-31 18:59"},
		{"whitespace control", "{%- for t in lead.tags -%}\n  {{ t }}\n{%- endfor -%}", ctx, "roofingvip"},
		{"raw", "{% raw %}{{ lead.first_name }}{% endraw %}", ctx, "{{ lead.first_name }}"},
		{"cycle and break", `{% for i in (1..5) %}{% cycle "a", "b" %}{% if i == 3 %}{% break %}{% endif %}{% endfor %}`, ctx, "aba"},
		{"tablerow", `{% tablerow t in lead.tags %}{{ t }}{% endtablerow %}`, ctx,
			`<tr class="row1"><td class="col1">roofing</td><td class="col2">vip</td></tr>`},
		{"truncate", `{{ "Hello world" | truncate: 8 }}|{{ "Hello world" | truncate: 5000 }}|{{ "one two three" | truncatewords: 2 }}`, ctx, "Hello...|Hello world|one two..."},
		{"uniq", `{{ "a,b,a,c,b" | split: "," | uniq | join: "" }}`, ctx, "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderTemplate(tc.src, tc.ctx)
			if err != nil {
				t.Fatalf("renderTemplate(%q) error: %v", tc.src, err)
			}
			if got != tc.want {
				t.Fatalf("renderTemplate(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestRenderRefusesInvalidTemplates(t *testing.T) {
	if _, err := renderTemplate("{{ lead.frist_name }}", fullTemplateContext()); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	if _, err := Compile("{% if %}"); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
}

func TestRenderLimits(t *testing.T) {
	ctx := fullTemplateContext()
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		// liquid reports a failed write without a location.
		{"output cap", "{% for i in (1..5000) %}" + long + "{% endfor %}", 0, "output is longer than 128 KiB"},
		// Bounds from a variable: literal ones are refused when saved.
		{"huge range", "{% assign n = 100000000 %}{% for i in (1..n) %}{% endfor %}", 1, "more than 10000 items"},
		{"huge range in a filter", "{{ (1..100000000) | join }}", 1, "more than 10000 items"},
		{"nested loops", "{% assign n = 10000 %}{% for i in (1..n) %}\n{% for j in (1..n) %}{% endfor %}{% endfor %}", 2, "too much work"},
		{"exponential assign", "{% assign s = 'xx' %}\n{% for i in (1..40) %}\n  {% assign s = s | append: s %}\n{% endfor %}", 3, "value is longer than 128 KiB"},
		{"exponential capture", "{% capture s %}ab{% endcapture %}{% for i in (1..40) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}", 1, "value is longer than 128 KiB"},
		{"replace blow-up", "{% assign s = '" + strings.Repeat("a", 1000) + "' %}{{ s | replace: 'a', s }}", 1, "value is longer than 128 KiB"},
		{"join blow-up", "{% assign a = '" + strings.Repeat("a,", 5000) + "' | split: ',' %}{{ a | join: '" + strings.Repeat("-", 100) + "' }}", 1, "value is longer than 128 KiB"},
		{"filter type error", "\n{{ lead.first_name | plus: 1 }}", 2, "could not render"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The limits count work, not time, so the result does not
			// depend on the machine; a limit that failed to stop a loop
			// would hang here and fail the run at go test's timeout.
			out, err := renderTemplate(tc.src, ctx)
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error", len(out))
			}
			fe := fieldErrors(t, err)
			if len(fe) != 1 || !strings.Contains(fe[0].Message, tc.msg) || fe[0].Line != tc.line || (tc.line > 0) != (fe[0].Column > 0) {
				t.Fatalf("got %+v, want line %d and %q", fe, tc.line, tc.msg)
			}
		})
	}
}

func TestRenderBelowLimits(t *testing.T) {
	// A realistic template with loops and filters stays far inside the
	// budget: the limits are for abuse, not for authors.
	ctx := fullTemplateContext()
	ctx.Lead.Tags = make([]string, 200)
	for i := range ctx.Lead.Tags {
		ctx.Lead.Tags[i] = fmt.Sprintf("tag-%d", i)
	}
	src := `{% for t in lead.tags %}{% if t contains "1" %}{{ t | upcase | append: "!" }}{% else %}{{ t | replace: "-", "_" }}{% endif %}{% for r in lead.custom.rooms %}{{ r | size }}{% endfor %}{% endfor %}`
	out, err := renderTemplate(src, ctx)
	if err != nil || !strings.Contains(out, "TAG-1!") || !strings.Contains(out, "tag_2") {
		t.Fatalf("out = %.80q…, err = %v", out, err)
	}
}

func TestTemplateVariables(t *testing.T) {
	got, err := templateVariables(`{% assign x = lead.first_name %}{{ x }} {{ quote.amount | money }} {{ lead.first_name }}
{% for t in lead.tags %}{{ t }}{% endfor %}{% for kv in lead.custom %}{% endfor %}{{ lead.custom.roof_type }} {{ lead.tags.size }}`)
	want := []string{"lead.custom", "lead.custom.roof_type", "lead.first_name", "lead.tags", "quote.amount"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("TemplateVariables = %v, %v; want %v", got, err, want)
	}
	// Names that do exist are still listed when others do not.
	got, err = templateVariables("{{ lead.email }} {{ lead.nope }}")
	if err == nil || !reflect.DeepEqual(got, []string{"lead.email"}) {
		t.Fatalf("TemplateVariables = %v, %v", got, err)
	}
	// A template that does not parse has none.
	if got, err = templateVariables("{{ lead.email }}{% if %}"); err == nil || got != nil {
		t.Fatalf("TemplateVariables = %v, %v", got, err)
	}
	tpl, err := Compile("{{ tenant.name }}")
	if err != nil || !reflect.DeepEqual(templatePaths(tpl.src, false), []string{"tenant.name"}) || tpl.src != "{{ tenant.name }}" {
		t.Fatalf("compiled template: %v, %v", tpl, err)
	}
}

func TestCompiledTemplateIsReusableConcurrently(t *testing.T) {
	tpl, err := Compile(`{% assign n = 0 %}{% for t in lead.tags %}{% assign n = n | plus: 1 %}{% endfor %}{{ lead.first_name }}:{{ n }}:{{ quote.amount | money }}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := fullTemplateContext()
			ctx.Lead.FirstName = fmt.Sprint("L", i)
			ctx.Quote.Currency = []string{"EUR", "USD"}[i%2]
			want := fmt.Sprintf("L%d:2:%s", i, engine.FormatMoney(1250, ctx.Quote.Currency))
			for range 50 {
				if got, err := tpl.Render(ctx, nil); err != nil || got != want {
					t.Errorf("Render = %q, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestRewritePreservesRendering(t *testing.T) {
	// The hooks inserted into a template must not change what it prints;
	// plain liquid on the author's source is the reference.
	ctx := fuzzContext()
	for _, src := range []string{
		"{{ lead.first_name | upcase | append: '!' }} {{ lead.tags | join: ', ' }}",
		"{%- if lead.tags contains 'vip' -%}  VIP  {%- endif -%}\n{{ quote.amount | times: 2 | plus: 0.5 }}",
		"{% for t in lead.tags reversed %}{{ forloop.rindex }}{{ t }}{% endfor %}{% for i in (2..4) %}{{ i | modulo: 2 }}{% endfor %}",
		"{% case lead.tags.size %}{% when 1 %}one{% when 2 %}two{% endcase %}{% capture c %}{{ lead.name }}{% endcapture %}{{ c | size }}",
		"{% if (lead.tags | size) > 1 and lead.name != '' %}y{% endif %}{{ lead.custom | json }}",
		"{{ lead.name | split: ' ' | reverse | join: '-' | prepend: '<' | append: '>' }}{{ quote.valid_until | date: '%b %e' }}",
	} {
		got, err := renderTemplate(src, ctx)
		if err != nil {
			t.Fatalf("renderTemplate(%q): %v", src, err)
		}
		want, ok := plainRender(src, ctx)
		if !ok || got != want {
			t.Errorf("renderTemplate(%q) = %q, liquid renders %q (ok %v)", src, got, want, ok)
		}
	}
}

func TestRewriteParityOnComposedTemplates(t *testing.T) {
	// Random compositions of valid fragments, rendered through the hooks and
	// by plain liquid, must print the same thing. This reaches combinations
	// of trim markers, nesting and filters that hand-written cases miss.
	// A fixed seed makes the composed templates the same on every run.
	rng := rand.New(rand.NewPCG(42, 7))
	ctx := fuzzContext()
	for range 2000 {
		src := composeTemplate(rng)
		got, err := renderTemplate(src, ctx)
		if err != nil {
			t.Fatalf("renderTemplate(%q): %v", src, err)
		}
		want, ok := plainRender(src, ctx)
		if !ok || got != want {
			t.Fatalf("renderTemplate(%q)\n = %q\nliquid renders\n   %q (ok %v)", src, got, want, ok)
		}
	}
}

// outputMarkup matches a {{ }} with its trim markers.
var outputMarkup = regexp.MustCompile(`\{\{(-?)(.*?)(-?)\}\}`)

func TestHTMLParityOnComposedTemplates(t *testing.T) {
	// In HTML mode a template prints what plain liquid prints for the same
	// source with every output piped through escape: the composed
	// templates, against a lead full of markup, must agree.
	rng := rand.New(rand.NewPCG(42, 8))
	ctx := hostileContext()
	for range 2000 {
		src := composeTemplate(rng)
		got, err := renderHTMLTemplate(src, ctx)
		if err != nil {
			t.Fatalf("renderHTMLTemplate(%q): %v", src, err)
		}
		ref := outputMarkup.ReplaceAllString(src, "{{$1 ($2) | escape $3}}")
		want, ok := plainRender(ref, ctx)
		if !ok || got != want {
			t.Fatalf("renderHTMLTemplate(%q)\n = %q\nliquid renders %q as\n   %q (ok %v)", src, got, ref, want, ok)
		}
	}
}

// composeTemplate returns a random composition of valid fragments.
func composeTemplate(rng *rand.Rand) string {
	open := []string{
		"{% if lead.tags contains 'vip' %}", "{%- unless lead.email_opt_out -%}", "{% for t in lead.tags reversed %}",
		"{%- for i in (1..3) limit: 2 -%}", "{% capture c %}", "{% case lead.country %}{% when 'PT', lead.country %}",
		"{% if quote.amount > 100 and (lead.name | size) >= 3 %}", "{% for kv in lead.custom %}",
	}
	closeFor := map[string]string{
		open[0]: "{% else %}no{% endif %}", open[1]: "{%- endunless -%}", open[2]: "{% else %}none{% endfor %}",
		open[3]: "{%- endfor -%}", open[4]: "{% endcapture %}[{{ c | strip }}]", open[5]: "{% else %}?{% endcase %}",
		open[6]: "{%- elsif lead.tags.size == 2 -%}two{% endif %}", open[7]: "{{ kv[0] }}{% endfor %}",
	}
	leaves := []string{
		"text ", "  \n ", "{{ lead.first_name }}", "{{- lead.last_name -}}", "{{ lead.name | upcase | prepend: '<' }}",
		"{{ quote.amount | times: 3 | minus: 1 }}", "{{ lead.tags | join: '/' }}", "{% assign x = lead.tags.first | append: '!' %}{{ x }}",
		"{{ lead.tags[1] }}", "{{ 'a-b' | split: '-' | reverse | join }}", "{{ lead.custom.roof_type | default: 'none' }}",
		"{% cycle 'x', 'y' %}", "{{ lead.name == 'Ana Silva' }}", "{{- 'q' -}}", "{{ lead.created_at | date: '%Y' }}",
	}
	var gen func(depth int) string
	gen = func(depth int) string {
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			if depth < 3 && rng.IntN(3) == 0 {
				o := open[rng.IntN(len(open))]
				if strings.Contains(o, "cycle") && !strings.Contains(o, "for") {
					continue
				}
				b.WriteString(o + gen(depth+1) + closeFor[o])
			} else {
				leaf := leaves[rng.IntN(len(leaves))]
				if strings.Contains(leaf, "cycle") {
					leaf = "{% for z in (1..2) %}" + leaf + "{% endfor %}"
				}
				b.WriteString(leaf)
			}
		}
		return b.String()
	}
	return gen(0)
}

func TestDeepNestingIsCheap(t *testing.T) {
	// Parsing must stay linear in nesting depth; a backtracking parser
	// doubles its work with every parenthesis.
	for _, src := range []string{
		"{{ " + strings.Repeat("(", 5000) + "lead.name" + strings.Repeat(")", 5000) + " }}",
		strings.Repeat("{% if lead.name %}", 2000) + "{{ lead.name }}" + strings.Repeat("{% endif %}", 2000),
		strings.Repeat("{% for t in lead.tags %}", 1000) + strings.Repeat("{% endfor %}", 1000),
	} {
		_, err := renderTemplate(src, fullTemplateContext())
		if err != nil && !strings.Contains(err.Error(), "too much work") {
			t.Errorf("%.40q…: %v", src, err)
		}
	}
}

// testRenderer renders steps as the application does, with a template
// cache and time zones.
var testRenderer = NewRenderer(engine.NewTimeZones())

// renderTemplate compiles src as plain text and renders it against ctx.
func renderTemplate(src string, ctx *engine.Context) (string, error) {
	t, err := Compile(src)
	if err != nil {
		return "", err
	}
	return t.Render(ctx, nil)
}

// renderHTMLTemplate compiles src in HTML mode and renders it against ctx.
func renderHTMLTemplate(src string, ctx *engine.Context) (string, error) {
	t, err := CompileHTML(src)
	if err != nil {
		return "", err
	}
	return t.Render(ctx, nil)
}

// templateVariables returns the distinct lead-context paths that the
// analysis records for src, checked as plain text, sorted: catalogue fields
// such as "lead.first_name", "lead.custom.<key>" for custom fields and
// "lead.custom" when the whole map is used. If src does not parse it
// returns nil and the error; if it parses but names unknown variables it
// returns the valid paths and the error.
func templateVariables(src string) ([]string, error) {
	a := analyzeTemplate(src, false)
	if a.syntaxFailed {
		return nil, a.err()
	}
	return a.sortedPaths(), a.err()
}

// templatePaths is the paths the analysis records for src in either mode.
func templatePaths(src string, html bool) []string {
	return analyzeTemplate(src, html).sortedPaths()
}

func (a *templateAnalysis) sortedPaths() []string {
	out := make([]string, 0, len(a.paths))
	for p := range a.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

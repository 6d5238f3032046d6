package tmpl

import (
	"errors"
	"strings"
	"testing"

	"github.com/osteele/liquid"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// fuzzContext is a full lead context. Its custom map has one key so that
// loops over it iterate in one order, which the parity check needs.
func fuzzContext() *engine.Context {
	ctx := fullTemplateContext()
	ctx.Lead.Custom = map[string]any{"roof_type": "tile"}
	return ctx
}

// plainEngine is liquid without any of this package's hooks, the reference
// the rewritten templates must agree with.
var plainEngine = liquid.NewEngine()

// FuzzTemplate validates arbitrary sources and renders the valid ones, as
// plain text and in HTML mode. It checks that nothing panics or runs long,
// that errors are located inside the source, and that a successful render
// prints exactly what plain liquid prints for the author's source, so the
// rewrite never changes meaning. In HTML mode it checks that every plain
// template is accepted, that the output is the plain one when nothing
// needed escaping, and that markup in the lead never reaches the output
// unless the source asks for it. The seed corpus is in
// testdata/fuzz/FuzzTemplate.
func FuzzTemplate(f *testing.F) {
	ctx, hostile := fuzzContext(), hostileContext()
	f.Fuzz(func(t *testing.T, src string) {
		out, valid, rendered := fuzzText(t, src, ctx)
		fuzzHTML(t, src, ctx, hostile, valid, rendered, out)
	})
}

// fuzzText is FuzzTemplate's plain-text half. It returns the output and
// whether src was valid and rendered.
func fuzzText(t *testing.T, src string, ctx *engine.Context) (string, bool, bool) {
	lines := strings.Count(src, "\n") + 1
	err := Validate(src)
	if err != nil {
		checkLocatedError(t, src, err, lines)
		return "", false, false
	}
	paths, err := templateVariables(src)
	if err != nil {
		t.Fatalf("TemplateVariables fails on a valid template: %v", err)
	}
	for _, p := range paths {
		if _, ok := engine.LookupField(p); !ok && p != "lead.custom" {
			t.Fatalf("TemplateVariables returned %q, not a context path", p)
		}
	}
	tpl, err := Compile(src)
	if err != nil {
		t.Fatalf("valid template does not compile: %v", err)
	}
	out, err := tpl.Render(ctx, nil)
	if err != nil {
		checkLocatedError(t, src, err, lines)
		return "", true, false
	}
	if len(out) > MaxOutput {
		t.Fatalf("output is %d bytes", len(out))
	}
	if want, ok := plainRender(src, ctx); ok && want != out {
		t.Fatalf("rewritten template renders %q, liquid renders %q", out, want)
	}
	return out, true, true
}

// fuzzHTML is FuzzTemplate's HTML half; valid, rendered and text are what
// fuzzText found.
func fuzzHTML(t *testing.T, src string, ctx, hostile *engine.Context, valid, rendered bool, text string) {
	lines := strings.Count(src, "\n") + 1
	tpl, err := CompileHTML(src)
	if err != nil {
		if valid {
			t.Fatalf("HTML mode refuses a valid template: %v", err)
		}
		checkLocatedError(t, src, err, lines)
		return
	}
	if !valid && !strings.Contains(src, safeFilter) {
		t.Fatalf("HTML mode accepts a template that is invalid as text and has no raw")
	}
	render := func(ctx *engine.Context) (string, bool) {
		out, err := tpl.Render(ctx, nil)
		if err != nil {
			checkLocatedError(t, src, err, lines)
			return "", false
		}
		if len(out) > MaxOutput {
			t.Fatalf("HTML output is %d bytes", len(out))
		}
		return out, true
	}
	out, ok := render(ctx)
	// Escaping changes nothing when nothing printed has a character to
	// escape, unless a capture stored escaped text that the template then
	// tested or measured.
	if ok && rendered && !strings.ContainsAny(text, htmlSpecial) && !strings.Contains(src, "capture") && out != text {
		t.Fatalf("HTML mode renders %q, text %q", out, text)
	}
	// The lead's markup is never printed: a "<" in the output comes from
	// the source, from tablerow or through raw.
	if out, ok := render(hostile); ok && strings.Contains(out, "<") &&
		!strings.Contains(src, "<") && !strings.Contains(src, safeFilter) && !strings.Contains(src, "tablerow") {
		t.Fatalf("HTML mode prints markup: %q", out)
	}
}

func checkLocatedError(t *testing.T, src string, err error, lines int) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID || len(e.Fields) == 0 {
		t.Fatalf("error is not an EINVALID *Error with fields: %#v", err)
	}
	for _, fe := range e.Fields {
		if fe.Field != "" || fe.Message == "" {
			t.Fatalf("bad field error %+v", fe)
		}
		if fe.Line != 0 && (fe.Line < 1 || fe.Line > lines || fe.Column < 1) {
			t.Fatalf("error %q at line %d column %d is outside the %d-line source", fe.Message, fe.Line, fe.Column, lines)
		}
	}
}

// plainRender renders src with plain liquid when that is a fair reference:
// not when it uses the filters this package implements itself (money,
// truncate, truncatewords, uniq), and not when liquid panics.
func plainRender(src string, ctx *engine.Context) (out string, ok bool) {
	for _, own := range []string{"money", "truncate", "uniq"} {
		if strings.Contains(src, own) {
			return "", false
		}
	}
	defer func() {
		if recover() != nil {
			out, ok = "", false
		}
	}()
	s, err := plainEngine.ParseAndRenderString(src, contextBindings(ctx, nil))
	return s, err == nil
}

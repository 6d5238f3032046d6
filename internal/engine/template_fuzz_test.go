package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osteele/liquid"
)

// fuzzContext is a full lead context. Its custom map has one key so that
// loops over it iterate in one order, which the parity check needs.
func fuzzContext() *Context {
	ctx := fullTemplateContext()
	ctx.Lead.Custom = map[string]any{"roof_type": "tile"}
	return ctx
}

// plainEngine is liquid without any of this package's hooks, the reference
// the rewritten templates must agree with.
var plainEngine = liquid.NewEngine()

// FuzzTemplate validates arbitrary sources and renders the valid ones. It
// checks that nothing panics or runs long, that errors are located inside
// the source, and that a successful render prints exactly what plain liquid
// prints for the author's source, so the rewrite never changes meaning.
// The seed corpus is in testdata/fuzz/FuzzTemplate.
func FuzzTemplate(f *testing.F) {
	ctx := fuzzContext()
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		err := ValidateTemplate(src)
		if err != nil {
			checkLocatedError(t, src, err, lines)
			return
		}
		paths, err := TemplateVariables(src)
		if err != nil {
			t.Fatalf("TemplateVariables fails on a valid template: %v", err)
		}
		for _, p := range paths {
			if _, ok := LookupField(p); !ok && p != "lead.custom" {
				t.Fatalf("TemplateVariables returned %q, not a context path", p)
			}
		}
		tpl, err := CompileTemplate(src)
		if err != nil {
			t.Fatalf("valid template does not compile: %v", err)
		}
		start := time.Now()
		out, err := tpl.Render(ctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("render took %v", d)
		}
		if err != nil {
			checkLocatedError(t, src, err, lines)
			return
		}
		if len(out) > MaxOutputSize {
			t.Fatalf("output is %d bytes", len(out))
		}
		if want, ok := plainRender(src, ctx); ok && want != out {
			t.Fatalf("rewritten template renders %q, liquid renders %q", out, want)
		}
	})
}

func checkLocatedError(t *testing.T, src string, err error, lines int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) == 0 {
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
func plainRender(src string, ctx *Context) (out string, ok bool) {
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
	s, err := plainEngine.ParseAndRenderString(src, contextBindings(ctx))
	return s, err == nil
}

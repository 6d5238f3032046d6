// Package tmpl is quoteflow's templates: Liquid (github.com/osteele/liquid)
// over the lead context, validated when saved, rendered under limits, and
// the rendering of a step's or a legacy setting's content for a channel.
// The package is in files by concern: template.go (compile, validate,
// render), filters.go (the shared liquid engine, its filters and limits),
// bindings.go (what a template sees), analysis.go and check.go (the
// analysis that checks a template and plans its rewrite), expr.go (the
// expression lexer and parser), render.go and cache.go (steps' content and
// the compiled-template cache).
//
// How a template goes from source to output:
//
//  1. The source is parsed by the one shared liquid engine. A syntax error
//     becomes an EINVALID FieldError at the line liquid reports; the column
//     is found by scanning the source with liquid's own scanner
//     (parser.Scan), whose tokens concatenate back to the source and so give
//     every {{ }} and {% %} an exact byte offset, and picking the token on
//     that line that the error names.
//  2. The parsed tree (render.Node: sequences, blocks, tags, objects) is
//     walked in source order. liquid v1.6.0 compiles expressions to closures
//     and exposes no variable list, so the argument text of every object and
//     tag is parsed again by a small lexer and recursive-descent parser
//     in expr.go that follows liquid's expression grammar (expressions/scanner.rl
//     and expressions.y). That yields every variable path, filter and local
//     with its offset, hence an exact line and column. An expression liquid
//     accepts but this parser does not is refused rather than let through
//     unchecked.
//  3. Names are checked against the Fields catalogue, the locals (assign
//     and capture anywhere in the template, the for variable and forloop
//     inside their loop) and the filter list (liquid's standard filters and
//     money).
//  4. The accepted source is rewritten, by insertions only, so that no line
//     moves, into what is actually compiled: every filter gets the per-render
//     state as its first argument; every {{ x }} becomes
//     {{ (x) | qf_out: state }}; every operand of a comparison, the value of
//     case and when, and the collection of a loop pass through qf_cost; and
//     every loop body starts with a tick (an assign through the qf_tick
//     filter). Those hooks enforce the limits below; the hidden names start
//     with "_qf", which templates may not use.
//
// HTML mode. An email's HTML body is compiled in HTML mode
// (CompileHTML): the same analysis, with one difference in the
// rewrite, so that every value a {{ }} prints is HTML-escaped as liquid's
// escape filter does (& < > " ' become &amp; &lt; &gt; &#34; &#39;). The
// output hook of each {{ x }} is qf_html instead of qf_out: it charges the
// value as qf_out does, prints it exactly as liquid would (printValue) and
// escapes that. Two kinds of output are printed as they are, with qf_out:
// one whose last filter is escape or escape_once, which is escaped already,
// and one whose last filter is raw, the author's mark that the value is
// HTML to be trusted, such as a captured block ({{ footer | raw }}). raw
// is an identity filter, valid only as the last filter of a {{ }} in an
// HTML template:
// anywhere else (inside a chain, in parentheses, in a tag, or in any
// plain-text template) it is a validation error. "Last" is syntactic: the
// filter that ends the output's top-level chain, so {{ x | escape | strip }}
// is escaped again and {{ (x | escape) }} too. Only {{ }} is escaped:
// literal text, {% raw %} blocks, cycle's literals and tablerow's own
// markup are template source and stay as written. A capture collects
// rendered HTML, its outputs already escaped, so printing it escapes it a
// second time unless it is marked: {{ block | raw }}. assign stores
// values, not HTML, and {{ }} of an assigned local is escaped once. Plain
// text (subjects, text bodies, WhatsApp parameters) is never escaped.
//
// Resource limits. A template is tenant input that runs in the worker, so
// rendering is bounded in space and time: the source is at most
// MaxSize, the output at most MaxOutput, any intermediate value
// (filter result, captured or printed string) at most maxValueSize, any
// collection a filter, comparison or loop touches at most maxCollection
// items (ranges included, and checked before liquid would materialise one),
// and the whole render at most maxWork units of work: each loop iteration
// costs its body's size, each filter call, comparison operand and printed
// value its bytes and items. So {% for i in (1..100000000) %} is refused as
// it starts, and loops nested to run longer than that stop with a "too much
// work" error within a few hundred milliseconds. Liquid has no other way to
// repeat work: {% include %}, the only recursion, is refused because it
// reads files. Render errors are EINVALID: the template, not the system, is
// at fault.
//
// Panics. liquid panics on a few inputs: integer literals that overflow
// ({{ 99999999999999999999 }}), its truncate filters with a long length,
// {{ %assign x = 1 }}, a spoofed forloop in {% cycle %}, comparing two maps.
// This package refuses the first four before liquid sees them (the lexer, own
// truncate filters, reserved local names), and parsing and rendering recover
// from anything else, so a panic surfaces as an EINVALID error, never as a
// crash.
package tmpl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/osteele/liquid"
	lqparser "github.com/osteele/liquid/parser"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// MaxSize is the longest template source accepted, in bytes.
const MaxSize = 64 << 10

// MaxOutput is the most a template may render, in bytes.
const MaxOutput = 128 << 10

const (
	maxValueSize      = MaxOutput // any one string a filter, capture or {{ }} produces
	maxCollection     = 10000     // items in a list or range a filter or comparison touches
	maxWork           = 16 << 20  // work units per render, roughly 10-15 ns each
	nodeWork          = 128       // work charged per node evaluated and per filter call
	itemWork          = 16        // work charged per item of a collection touched
	maxTemplateErrors = 20        // problems reported per template
	maxSizeDepth      = 64        // nesting below which values are not inspected
)

// Hidden names used by the rewritten source. Templates may not name
// anything that starts with reservedPrefix.
const (
	reservedPrefix = "_qf"
	stateVar       = "_qf_state"
	tickVar        = "_qf_tick"
	outFilter      = "qf_out"
	htmlOutFilter  = "qf_html" // qf_out that also escapes, in HTML mode
	costFilter     = "qf_cost"
	tickFilter     = "qf_tick"
)

// safeFilter is the filter that marks a {{ }} of an HTML template as HTML
// to print unescaped. It is only valid as the output's last filter.
const safeFilter = "raw"

// Template is a validated, compiled template. It is immutable and safe for
// concurrent use; compile once and render many times.
type Template struct {
	src       string
	rewritten string
	edits     []templateEdit
	tpl       *liquid.Template
	html      bool // compiled in HTML mode
}

// Compile validates src as Validate does and compiles it for
// rendering as plain text. Only valid templates compile, so every Template
// renders under the same limits and checks.
func Compile(src string) (*Template, error) {
	return compileTemplate(src, false)
}

// CompileHTML validates src as ValidateHTML does and
// compiles it in HTML mode: every value a {{ }} prints is HTML-escaped,
// except an output whose last filter is escape or escape_once (escaped
// already) or raw (marked safe by the author). Literal text in the source
// is printed as written.
func CompileHTML(src string) (*Template, error) {
	return compileTemplate(src, true)
}

func compileTemplate(src string, html bool) (*Template, error) {
	a := analyzeTemplate(src, html)
	if err := a.err(); err != nil {
		return nil, err
	}
	rewritten := applyEdits(src, a.edits)
	tpl, err := parseLiquid(rewritten, compiledPath)
	if err != nil {
		// The rewrite only adds hooks to a template liquid already accepted;
		// failing here is a bug in this package, reported without the hidden
		// names that would confuse the author.
		return nil, &engine.Error{Code: engine.EINVALID, Message: "invalid template", Fields: []engine.FieldError{{
			Message: "the template could not be prepared for rendering; simplify the expression near line " + strconv.Itoa(err.LineNumber()),
			Line:    max(err.LineNumber(), 1), Column: 1,
		}}}
	}
	return &Template{src: src, rewritten: rewritten, edits: a.edits, tpl: tpl, html: html}, nil
}

// Validate checks a template when it is saved. It returns nil or an
// *Error with code EINVALID whose FieldErrors have an empty Field, for the
// caller to prefix with the request path, and the 1-based Line and Column
// of each problem: a syntax error, an unclosed {{ or {%, a variable no lead
// context has (anything outside the Fields catalogue, lead.custom.<key> and
// the template's own locals), an unknown filter or tag, or a template over
// MaxSize. Columns count Unicode code points. The raw filter is
// refused: plain text is never escaped, so there is nothing to mark safe.
func Validate(src string) error {
	_, err := Compile(src)
	return err
}

// ValidateHTML checks a template that renders HTML, an email's HTML
// body, as Validate does, and also accepts raw as the last filter
// of a {{ }} output, and only there.
func ValidateHTML(src string) error {
	_, err := CompileHTML(src)
	return err
}

// Render renders the template against ctx, with dates in the lead's time
// zone, else the tenant's, looked up in zones (nil loads them each time).
// Missing values render as empty; a nil Quote, Lead or Tenant leaves that
// name unbound. Exceeding a resource
// limit, or a filter failing on the data (such as plus on a word), is an
// EINVALID error with the line (and, when it can be found, the column) of
// the template at fault.
func (t *Template) Render(ctx *engine.Context, zones *engine.TimeZones) (out string, err error) {
	return t.render(newBindings(ctx, zones))
}

// bindings are what a template sees of a context, built once for the
// fields of a step: liquid copies the top-level map before a render (an
// assign writes to its copy), and the lead's and quote's maps inside it
// are only read.
type bindings struct {
	vars     map[string]any
	currency string
}

func newBindings(ctx *engine.Context, zones *engine.TimeZones) bindings {
	b := bindings{vars: contextBindings(ctx, zones)}
	if ctx != nil && ctx.Quote != nil {
		b.currency = ctx.Quote.Currency
	}
	return b
}

// render renders the template against b, with a render state of its own.
func (t *Template) render(b bindings) (out string, err error) {
	st := &renderState{currency: b.currency}
	bindings := b.vars
	bindings[stateVar] = st
	w := &cappedWriter{st: st}
	defer func() {
		if r := recover(); r != nil {
			out, err = "", t.renderError(st, 0, fmt.Errorf("%v", r))
		}
	}()
	if rerr := t.tpl.FRender(w, bindings); rerr != nil {
		return "", t.renderError(st, rerr.LineNumber(), rerr)
	}
	return w.buf.String(), nil
}

// renderError reports a failed render at the line of the innermost node
// that failed. A limit that was hit takes precedence over whatever liquid
// made of it, because liquid wraps filter errors in messages that would
// show the hidden hooks.
func (t *Template) renderError(st *renderState, line int, cause error) error {
	msg := ""
	if st.err != nil {
		msg = st.err.Error()
	} else {
		msg = cleanLiquidMessage(cause.Error(), compiledPath)
		msg = strings.ReplaceAll(msg, stateVar+", ", "")
		msg = strings.ReplaceAll(msg, ": "+stateVar, "")
		msg = "could not render: " + msg
	}
	fe := engine.FieldError{Message: msg}
	if line > 0 {
		fe.Line, fe.Column = line, 1
		if off, ok := t.firstMarkupOn(line); ok {
			fe.Line, fe.Column = tplLineColumn(t.src, off)
		}
	}
	return &engine.Error{Code: engine.EINVALID, Message: "template could not be rendered", Fields: []engine.FieldError{fe}}
}

// firstMarkupOn returns the offset, in the author's source, of the first
// {{ }} or {% %} on a line: liquid's render errors carry a line but not the
// markup, so that is the best column there is.
func (t *Template) firstMarkupOn(line int) (int, bool) {
	off := 0
	for _, tok := range lqparser.Scan(t.rewritten, lqparser.SourceLoc{LineNo: 1}, nil) {
		if tok.Type != lqparser.TextTokenType && tok.SourceLoc.LineNo == line {
			return originalOffset(off, t.edits), true
		}
		off += len(tok.Source)
	}
	return 0, false
}

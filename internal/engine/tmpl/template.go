package engine

// Templates are Liquid (github.com/osteele/liquid) over the lead context.
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
//     below that follows liquid's expression grammar (expressions/scanner.rl
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
// (CompileHTMLTemplate): the same analysis, with one difference in the
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
// MaxTemplateSize, the output at most MaxOutputSize, any intermediate value
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
// This file refuses the first four before liquid sees them (the lexer, own
// truncate filters, reserved local names), and parsing and rendering recover
// from anything else, so a panic surfaces as an EINVALID error, never as a
// crash.

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"math"
	"math/bits"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid"
	lqfilters "github.com/osteele/liquid/filters"
	lqparser "github.com/osteele/liquid/parser"
	lqrender "github.com/osteele/liquid/render"
	lqvalues "github.com/osteele/liquid/values"
)

// MaxTemplateSize is the longest template source accepted, in bytes.
const MaxTemplateSize = 64 << 10

// MaxOutputSize is the most a template may render, in bytes.
const MaxOutputSize = 128 << 10

const (
	maxValueSize      = MaxOutputSize // any one string a filter, capture or {{ }} produces
	maxCollection     = 10000         // items in a list or range a filter or comparison touches
	maxWork           = 16 << 20      // work units per render, roughly 10-15 ns each
	nodeWork          = 128           // work charged per node evaluated and per filter call
	itemWork          = 16            // work charged per item of a collection touched
	maxTemplateErrors = 20            // problems reported per template
	maxSizeDepth      = 64            // nesting below which values are not inspected
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
	paths     []string
	html      bool
}

// CompileTemplate validates src as ValidateTemplate does and compiles it for
// rendering as plain text. Only valid templates compile, so every Template
// renders under the same limits and checks.
func CompileTemplate(src string) (*Template, error) {
	return compileTemplate(src, false)
}

// CompileHTMLTemplate validates src as ValidateHTMLTemplate does and
// compiles it in HTML mode: every value a {{ }} prints is HTML-escaped,
// except an output whose last filter is escape or escape_once (escaped
// already) or raw (marked safe by the author). Literal text in the source
// is printed as written.
func CompileHTMLTemplate(src string) (*Template, error) {
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
		// failing here is a bug in this file, reported without the hidden
		// names that would confuse the author.
		return nil, &Error{Code: EINVALID, Message: "invalid template", Fields: []FieldError{{
			Message: "the template could not be prepared for rendering; simplify the expression near line " + strconv.Itoa(err.LineNumber()),
			Line:    max(err.LineNumber(), 1), Column: 1,
		}}}
	}
	return &Template{src: src, rewritten: rewritten, edits: a.edits, tpl: tpl, paths: a.sortedPaths(), html: html}, nil
}

// ValidateTemplate checks a template when it is saved. It returns nil or an
// *Error with code EINVALID whose FieldErrors have an empty Field, for the
// caller to prefix with the request path, and the 1-based Line and Column
// of each problem: a syntax error, an unclosed {{ or {%, a variable no lead
// context has (anything outside the Fields catalogue, lead.custom.<key> and
// the template's own locals), an unknown filter or tag, or a template over
// MaxTemplateSize. Columns count Unicode code points. The raw filter is
// refused: plain text is never escaped, so there is nothing to mark safe.
func ValidateTemplate(src string) error {
	_, err := CompileTemplate(src)
	return err
}

// ValidateHTMLTemplate checks a template that renders HTML, an email's HTML
// body, as ValidateTemplate does, and also accepts raw as the last filter
// of a {{ }} output, and only there.
func ValidateHTMLTemplate(src string) error {
	_, err := CompileHTMLTemplate(src)
	return err
}

// TemplateVariables returns the distinct lead-context paths src uses,
// sorted: catalogue fields such as "lead.first_name" and "quote.amount",
// "lead.custom.<key>" for custom fields and "lead.custom" when the whole map
// is used. If src does not parse it returns nil and the error; if it parses
// but names unknown variables it returns the valid paths and the error.
// src is checked as plain text; Template.Variables serves either mode.
func TemplateVariables(src string) ([]string, error) {
	a := analyzeTemplate(src, false)
	if a.syntaxFailed {
		return nil, a.err()
	}
	return a.sortedPaths(), a.err()
}

// RenderTemplate compiles src and renders it against ctx. Callers that render
// one template many times should keep the result of CompileTemplate.
func RenderTemplate(src string, ctx *Context) (string, error) {
	t, err := CompileTemplate(src)
	if err != nil {
		return "", err
	}
	return t.Render(ctx)
}

// RenderHTMLTemplate compiles src in HTML mode, as CompileHTMLTemplate
// does, and renders it against ctx.
func RenderHTMLTemplate(src string, ctx *Context) (string, error) {
	t, err := CompileHTMLTemplate(src)
	if err != nil {
		return "", err
	}
	return t.Render(ctx)
}

// Source returns the template's source text.
func (t *Template) Source() string { return t.src }

// Variables returns the lead-context paths the template uses, as
// TemplateVariables does.
func (t *Template) Variables() []string { return append([]string(nil), t.paths...) }

// HTML reports whether the template was compiled in HTML mode.
func (t *Template) HTML() bool { return t.html }

// Render renders the template against ctx. Missing values render as empty;
// a nil Quote, Lead or Tenant leaves that name unbound. Exceeding a resource
// limit, or a filter failing on the data (such as plus on a word), is an
// EINVALID error with the line (and, when it can be found, the column) of
// the template at fault.
func (t *Template) Render(ctx *Context) (out string, err error) {
	st := &renderState{}
	if ctx != nil && ctx.Quote != nil {
		st.currency = ctx.Quote.Currency
	}
	bindings := contextBindings(ctx)
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
	fe := FieldError{Message: msg}
	if line > 0 {
		fe.Line, fe.Column = line, 1
		if off, ok := t.firstMarkupOn(line); ok {
			fe.Line, fe.Column = tplLineColumn(t.src, off)
		}
	}
	return &Error{Code: EINVALID, Message: "template could not be rendered", Fields: []FieldError{fe}}
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

// ---------------------------------------------------------------------------
// The shared engine, its filters and the per-render state.

// filterInfo describes a filter templates may use.
type filterInfo struct {
	maxArgs int // arguments after the input; -1 for any number
}

var (
	liquidEngine  *liquid.Engine
	allowedFilter map[string]filterInfo
)

// allowedTags are liquid's standard tags minus include; the parser itself
// knows comment and raw, and the clauses (else, elsif, when) and end tags
// are checked by liquid.
var allowedTags = []string{"assign", "break", "capture", "case", "comment", "continue", "cycle", "for", "if", "raw", "tablerow", "unless"}

type filterSet map[string]any

func (f filterSet) AddFilter(name string, fn any) { f[name] = fn }

func init() {
	e := liquid.NewEngine()
	std := filterSet{}
	lqfilters.AddStandardFilters(std)
	// liquid's truncate and truncatewords build a regexp from the length
	// argument and panic when it exceeds 1000, and its uniq compares
	// unhashable items pairwise; these do the same jobs without either.
	std["truncate"] = truncateFilter
	std["truncatewords"] = truncateWordsFilter
	std["uniq"] = uniqFilter
	allowed := make(map[string]filterInfo, len(std)+1)
	for name, fn := range std {
		rt := reflect.TypeOf(fn)
		info := filterInfo{maxArgs: rt.NumIn() - 1}
		if rt.IsVariadic() {
			info.maxArgs = -1
		}
		allowed[name] = info
		e.RegisterFilter(name, guardFilter(name, fn))
	}
	allowed["money"] = filterInfo{maxArgs: 1}
	e.RegisterFilter("money", moneyFilter)
	// raw only marks an output; where it may appear is checked in
	// checkRefsAndFilters.
	allowed[safeFilter] = filterInfo{maxArgs: 0}
	e.RegisterFilter(safeFilter, guardFilter(safeFilter, func(v any) any { return v }))
	e.RegisterFilter(outFilter, outputFilter)
	e.RegisterFilter(htmlOutFilter, htmlOutputFilter)
	e.RegisterFilter(costFilter, operandFilter)
	e.RegisterFilter(tickFilter, loopTickFilter)
	// Validation refuses include; this makes sure it can never read a file.
	e.RegisterTag("include", func(lqrender.Context) (string, error) {
		return "", errors.New("include is not supported")
	})
	liquidEngine, allowedFilter = e, allowed
}

// compiledPath names compiled templates to liquid. With a path, liquid
// keeps the location of the innermost node in a render error instead of
// re-wrapping it at every enclosing block; without one, as when validating,
// its errors quote the markup at fault, which locates the column.
const compiledPath = "template"

// parseLiquid parses src with the shared engine, numbering lines from 1 and
// turning a panic inside liquid into an error.
func parseLiquid(src, path string) (tpl *liquid.Template, err liquid.SourceError) {
	defer func() {
		if r := recover(); r != nil {
			tpl, err = nil, panicSourceError{fmt.Sprint(r)}
		}
	}()
	return liquidEngine.ParseTemplateLocation([]byte(src), path, 1)
}

type panicSourceError struct{ msg string }

func (e panicSourceError) Error() string   { return e.msg }
func (e panicSourceError) Cause() error    { return nil }
func (e panicSourceError) Path() string    { return "" }
func (e panicSourceError) LineNumber() int { return 0 }

// limitError is a resource limit that a render hit.
type limitError string

func (e limitError) Error() string { return string(e) }

var (
	errOutputTooLarge = limitError(fmt.Sprintf("the output is longer than %d KiB", MaxOutputSize>>10))
	errValueTooLarge  = limitError(fmt.Sprintf("a value is longer than %d KiB", maxValueSize>>10))
	errTooManyItems   = limitError(fmt.Sprintf("a list or range has more than %d items", maxCollection))
	errTooMuchWork    = limitError("the template does too much work (a loop that runs too long?)")
)

// renderState is the per-render state the rewritten template passes to
// every filter: the quote's currency and the work done so far.
type renderState struct {
	currency string
	work     int
	err      error // the first limit hit
}

func (st *renderState) fail(err error) error {
	if st.err == nil {
		st.err = err
	}
	return err
}

func (st *renderState) charge(n int) error {
	st.work += n
	if st.work > maxWork {
		return st.fail(errTooMuchWork)
	}
	return nil
}

// takeState splits the hidden state off a filter's arguments.
func takeState(args []any) (*renderState, []any, error) {
	if len(args) > 0 {
		if st, ok := args[0].(*renderState); ok {
			return st, args[1:], nil
		}
	}
	return nil, nil, errors.New("filter called outside a compiled template")
}

// cappedWriter collects the output up to MaxOutputSize.
type cappedWriter struct {
	buf bytes.Buffer
	st  *renderState
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxOutputSize {
		return 0, w.st.fail(errOutputTooLarge)
	}
	if err := w.st.charge(len(p)); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

// guardFilter wraps one of liquid's filters: it sizes the inputs before the
// filter can allocate (a range is never turned into a slice if it is too
// long; replace and join, which multiply, are sized first), then sizes and
// charges the result. Taking the arguments as they come, before liquid
// converts them to the filter's parameter types, is what lets it see a range
// before conversion materialises it.
func guardFilter(name string, fn any) func(any, ...any) (any, error) {
	fv := reflect.ValueOf(fn)
	return func(in any, rawArgs ...any) (out any, err error) {
		st, args, err := takeState(rawArgs)
		if err != nil {
			return nil, err
		}
		defer func() {
			if r := recover(); r != nil {
				out, err = nil, fmt.Errorf("%v", r)
			}
		}()
		work := nodeWork
		for i, v := range append([]any{in}, args...) {
			sz, ok := sizeOf(v)
			if !ok {
				return nil, st.fail(tooLarge(v))
			}
			work += sz.work()
			if i == 0 && (name == "sort" || name == "sort_natural") {
				work += sz.items * itemWork * bits.Len(uint(sz.items))
			}
		}
		if err := growthCheck(name, in, args); err != nil {
			return nil, st.fail(err)
		}
		// Charge before calling, so that a filter over a large input is
		// refused once the budget is spent rather than run first.
		if err := st.charge(work); err != nil {
			return nil, err
		}
		out, err = lqvalues.Call(fv, append([]any{in}, args...))
		if err != nil {
			return nil, err
		}
		sz, ok := sizeOf(out)
		if !ok {
			return nil, st.fail(tooLarge(out))
		}
		if err := st.charge(sz.work()); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func tooLarge(v any) error {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		return errTooManyItems
	}
	return errValueTooLarge
}

// growthCheck sizes the result of the filters whose output can be far larger
// than their inputs.
func growthCheck(name string, in any, args []any) error {
	arg := func(i int, def string) string {
		if i < len(args) && args[i] != nil {
			return liquidString(args[i])
		}
		return def
	}
	switch name {
	case "replace":
		s, old, repl := liquidString(in), arg(0, ""), arg(1, "")
		if len(repl) > len(old) && len(s)+strings.Count(s, old)*(len(repl)-len(old)) > maxValueSize {
			return errValueTooLarge
		}
	case "join":
		rv := reflect.ValueOf(in)
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			if n := rv.Len(); n > 1 && (n-1)*len(arg(0, " ")) > maxValueSize {
				return errValueTooLarge
			}
		}
	}
	return nil
}

// liquidString converts a filter argument to a string the way liquid does.
func liquidString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// outputFilter is applied to every {{ }}: it charges and caps what is about
// to be written, which also bounds what a capture can collect.
func outputFilter(v any, rawArgs ...any) (any, error) {
	return chargeValue(v, rawArgs)
}

// htmlOutputFilter is applied to every {{ }} of an HTML template that does
// not end in escape, escape_once or raw: it charges the value as
// outputFilter does, then returns the text liquid would print for it,
// HTML-escaped as liquid's escape filter escapes. The escaped text is
// sized and charged too: it can be several times longer.
func htmlOutputFilter(v any, rawArgs ...any) (any, error) {
	v, err := chargeValue(v, rawArgs)
	if err != nil {
		return nil, err
	}
	st, _, _ := takeState(rawArgs)
	s, ok := printValue(v, maxValueSize)
	if !ok {
		return nil, st.fail(errValueTooLarge)
	}
	if !strings.ContainsAny(s, htmlSpecial) {
		return s, nil
	}
	s = html.EscapeString(s)
	if len(s) > maxValueSize {
		return nil, st.fail(errValueTooLarge)
	}
	if err := st.charge(len(s)); err != nil {
		return nil, err
	}
	return s, nil
}

// htmlSpecial are the characters html.EscapeString, and so liquid's escape
// filter, replaces.
const htmlSpecial = `&'<>"`

// printValue returns the text liquid writes for v in a {{ }}, following
// render.writeObject in liquid v1.6.0: nil prints nothing, a time in
// liquid's default layout, a list its items one after another, a pointer
// what fmt prints for the value it points to, anything else what fmt
// prints. It gives up (ok false) once the text passes limit bytes.
func printValue(v any, limit int) (string, bool) {
	var b strings.Builder
	ok := writePrinted(&b, v, limit)
	return b.String(), ok
}

func writePrinted(b *strings.Builder, v any, limit int) bool {
	switch x := lqvalues.ToLiquid(v).(type) {
	case nil:
	case string:
		b.WriteString(x)
	case time.Time:
		b.WriteString(x.Format("2006-01-02 15:04:05 -0700"))
	case []byte:
		b.Write(x)
	default:
		rv := reflect.ValueOf(x)
		switch rv.Kind() {
		case reflect.Array, reflect.Slice:
			for i := range rv.Len() {
				if !writePrinted(b, rv.Index(i).Interface(), limit) {
					return false
				}
			}
		case reflect.Pointer:
			// liquid passes the reflect.Value of the element on, which
			// lands in fmt.Sprint.
			fmt.Fprint(b, rv.Elem())
		default:
			fmt.Fprint(b, x)
		}
	}
	return b.Len() <= limit
}

// operandFilter is applied to what liquid compares, and to the collection a
// loop starts on: comparing and iterating cost time in proportion to size.
func operandFilter(v any, rawArgs ...any) (any, error) {
	return chargeValue(v, rawArgs)
}

func chargeValue(v any, rawArgs []any) (any, error) {
	st, _, err := takeState(rawArgs)
	if err != nil {
		return nil, err
	}
	sz, ok := sizeOf(v)
	if !ok {
		return nil, st.fail(tooLarge(v))
	}
	if err := st.charge(nodeWork + sz.work()); err != nil {
		return nil, err
	}
	return v, nil
}

// loopTickFilter runs at the start of every loop iteration and charges the
// work the loop body is worth.
func loopTickFilter(weight any, rawArgs ...any) (any, error) {
	st, _, err := takeState(rawArgs)
	if err != nil {
		return nil, err
	}
	w, _ := weight.(int)
	return nil, st.charge(max(w, nodeWork))
}

// moneyFilter formats an amount with FormatMoney in the quote's currency,
// or in the currency its optional argument names. Nothing in, nothing out:
// a missing amount renders as empty.
func moneyFilter(in any, rawArgs ...any) (any, error) {
	st, args, err := takeState(rawArgs)
	if err != nil {
		return nil, err
	}
	currency := st.currency
	if len(args) > 0 && args[0] != nil {
		currency = liquidString(args[0])
	}
	var amount float64
	switch v := in.(type) {
	case nil:
		return "", nil
	case string:
		if strings.TrimSpace(v) == "" {
			return "", nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("money needs a number, not %q", v)
		}
		amount = f
	default:
		rv := reflect.ValueOf(in)
		switch {
		case rv.CanInt():
			amount = float64(rv.Int())
		case rv.CanUint():
			amount = float64(rv.Uint())
		case rv.CanFloat():
			amount = rv.Float()
		default:
			return nil, fmt.Errorf("money needs a number, not %v", in)
		}
	}
	if err := st.charge(nodeWork); err != nil {
		return nil, err
	}
	return FormatMoney(amount, currency), nil
}

// truncateFilter shortens s to length characters, ellipsis included.
func truncateFilter(s string, length func(int) int, ellipsis func(string) string) string {
	n, el := length(50), ellipsis("...")
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	keep := max(n-utf8.RuneCountInString(el), 0)
	return string(runes[:keep]) + el
}

// uniqFilter drops repeated items, keeping the first. Strings, numbers and
// booleans are compared as they are; other items by their printed form,
// which keeps it linear where liquid's compares every pair.
func uniqFilter(a []any) []any {
	seen := make(map[any]bool, len(a))
	out := make([]any, 0, len(a))
	for _, item := range a {
		var key any
		switch item.(type) {
		case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
			key = item
		default:
			key = fmt.Sprintf("\x00%T %v", item, item)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, item)
		}
	}
	return out
}

// truncateWordsFilter keeps the first length words of s, then ellipsis.
func truncateWordsFilter(s string, length func(int) int, ellipsis func(string) string) string {
	n, el := max(length(15), 1), ellipsis("...")
	words := strings.Fields(s)
	if len(words) <= n {
		return s
	}
	return strings.Join(words[:n], " ") + el
}

// valueSize is what a value costs: the bytes it takes once written and the
// collection items it holds.
type valueSize struct {
	bytes, items int
}

func (sz valueSize) work() int { return sz.bytes + itemWork*sz.items }

// sizeOf sizes v, giving up (ok false) as soon as it passes maxValueSize
// bytes or a collection in it has more than maxCollection items, so that
// sizing costs little on anything too large.
func sizeOf(v any) (sz valueSize, ok bool) {
	m := valueSizer{}
	m.add(v, 0)
	return m.valueSize, !m.over
}

type valueSizer struct {
	valueSize
	over bool
}

func (m *valueSizer) add(v any, depth int) {
	if m.over {
		return
	}
	switch x := v.(type) {
	case nil, *renderState:
	case string:
		m.bytes += len(x)
	case []byte:
		m.bytes += len(x)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		m.bytes += 8
	case time.Time:
		m.bytes += 25
	case lqvalues.Range:
		if x.Len() > maxCollection {
			m.over = true
			return
		}
		m.items += max(x.Len(), 0)
		m.bytes += 8 * max(x.Len(), 0)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			if rv.Len() > maxCollection {
				m.over = true
				return
			}
			m.items += rv.Len()
			for i := 0; i < rv.Len() && !m.over; i++ {
				m.child(rv.Index(i).Interface(), depth)
			}
		case reflect.Map:
			if rv.Len() > maxCollection {
				m.over = true
				return
			}
			m.items += rv.Len()
			iter := rv.MapRange()
			for iter.Next() && !m.over {
				m.child(iter.Key().Interface(), depth)
				m.child(iter.Value().Interface(), depth)
			}
		case reflect.Pointer:
			if !rv.IsNil() {
				m.child(rv.Elem().Interface(), depth)
			}
		default:
			m.bytes += 16
		}
	}
	if m.bytes > maxValueSize || m.items > maxCollection {
		m.over = true
	}
}

func (m *valueSizer) child(v any, depth int) {
	if depth >= maxSizeDepth {
		m.bytes += 16
		return
	}
	m.add(v, depth+1)
}

// ---------------------------------------------------------------------------
// Bindings.

var locationCache sync.Map // IANA name → *time.Location

func loadLocation(name string) *time.Location {
	if name == "" {
		return nil
	}
	if l, ok := locationCache.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	locationCache.Store(name, l)
	return l
}

// contextBindings builds the lead, quote and tenant maps a template sees.
// Times are shown in the lead's timezone, else the tenant's, so that
// {{ quote.valid_until | date: "%d %B" }} is the customer's date; a zero
// time is missing and renders as empty.
func contextBindings(ctx *Context) map[string]any {
	b := map[string]any{}
	if ctx == nil {
		return b
	}
	loc := time.UTC
	if ctx.Tenant != nil {
		if l := loadLocation(ctx.Tenant.Timezone); l != nil {
			loc = l
		}
	}
	if ctx.Lead != nil {
		if l := loadLocation(ctx.Lead.Timezone); l != nil {
			loc = l
		}
	}
	when := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.In(loc)
	}
	if l := ctx.Lead; l != nil {
		tags := l.Tags
		if tags == nil {
			tags = []string{}
		}
		custom := l.Custom
		if custom == nil {
			custom = map[string]any{}
		}
		b["lead"] = map[string]any{
			"id":              l.ID,
			"first_name":      l.FirstName,
			"last_name":       l.LastName,
			"name":            strings.TrimSpace(l.FirstName + " " + l.LastName),
			"email":           l.Email,
			"phone":           l.Phone,
			"language":        l.Language,
			"country":         l.Country,
			"timezone":        l.Timezone,
			"source":          l.Source,
			"stage":           l.Stage,
			"tags":            tags,
			"owner":           l.Owner,
			"email_opt_out":   l.EmailOptOut,
			"whatsapp_opt_in": l.WhatsAppOptIn,
			"created_at":      when(l.CreatedAt),
			"custom":          custom,
		}
	}
	if q := ctx.Quote; q != nil {
		var validUntil any
		if q.ValidUntil != nil {
			validUntil = when(*q.ValidUntil)
		}
		b["quote"] = map[string]any{
			"id":               q.ID,
			"number":           q.Number,
			"amount":           q.Amount(),
			"currency":         q.Currency,
			"status":           string(q.Status),
			"valid_until":      validUntil,
			"revision":         int(q.Revision),
			"url":              ctx.QuoteURL,
			"rejection_reason": q.RejectionReason,
			"created_at":       when(q.CreatedAt),
		}
	}
	if t := ctx.Tenant; t != nil {
		b["tenant"] = map[string]any{
			"name":     t.Name,
			"timezone": t.Timezone,
		}
	}
	return b
}

// ---------------------------------------------------------------------------
// Analysis: parse, walk, check, and plan the rewrite.

// scanTok is one token of liquid's scanner with its byte offset. skipped
// marks the tokens the parser ignores: those inside comment and raw.
type scanTok struct {
	lqparser.Token
	off     int
	skipped bool
}

// templateEdit inserts text at a byte offset of the source. Insertions at
// one offset are applied in prio order.
type templateEdit struct {
	off  int
	prio int
	text string
}

// Edit priorities, for insertions at one offset: a keyword filter's state
// argument goes before the parenthesis that may open its first argument,
// and a bare filter's before the closing hooks, innermost first.
const (
	prioFilterArg = iota
	prioOpen
	prioFilterBare
	prioOperandClose
	prioClose
	prioTick
)

type tplProblem struct {
	off int
	fe  FieldError
}

type templateAnalysis struct {
	src          string
	toks         []scanTok
	cursor       int
	problems     []tplProblem
	syntaxFailed bool
	paths        map[string]bool
	edits        []templateEdit
	globals      map[string]bool
	html         bool // HTML mode: outputs are escaped and raw is allowed
}

func analyzeTemplate(src string, html bool) *templateAnalysis {
	a := &templateAnalysis{src: src, paths: map[string]bool{}, globals: map[string]bool{}, html: html}
	if len(src) > MaxTemplateSize {
		a.syntaxFailed = true
		a.problems = append(a.problems, tplProblem{0, FieldError{
			Message: fmt.Sprintf("is %d bytes long; templates are limited to %d KiB", len(src), MaxTemplateSize>>10),
			Line:    1, Column: 1,
		}})
		return a
	}
	a.scan()
	a.checkUnclosedDelimiters()
	tpl, err := parseLiquid(src, "")
	if err != nil {
		a.syntaxFailed = true
		a.syntaxError(err)
		return a
	}
	root := tpl.GetRoot()
	a.collectGlobals(root)
	a.walk(root, &tplScope{})
	return a
}

// scan tokenizes the source and marks what liquid's parser skips. A comment
// or raw block that is never closed is reported: liquid silently treats the
// rest of the template as commented out or literal.
func (a *templateAnalysis) scan() {
	off, opened := 0, -1
	inComment, inRaw := false, false
	for _, tok := range lqparser.Scan(a.src, lqparser.SourceLoc{LineNo: 1}, nil) {
		st := scanTok{Token: tok, off: off}
		isTag := tok.Type == lqparser.TagTokenType
		// The same rules as liquid's parser: everything up to endcomment
		// or endraw is not parsed.
		switch {
		case inComment:
			st.skipped = true
			inComment = !(isTag && tok.Name == "endcomment")
		case inRaw:
			st.skipped = true
			inRaw = !(isTag && tok.Name == "endraw")
		case isTag && tok.Name == "comment":
			inComment, opened = true, len(a.toks)
		case isTag && tok.Name == "raw":
			inRaw, opened = true, len(a.toks)
		}
		a.toks = append(a.toks, st)
		off += len(tok.Source)
	}
	if inComment || inRaw {
		t := a.toks[opened]
		a.problemAt(t.off, "", "{%% %s %%} is not closed; add {%% end%s %%}", t.Name, t.Name)
	}
}

// checkUnclosedDelimiters reports "{{" and "{%" that liquid's scanner left
// in text because nothing closes them; liquid would print them verbatim.
func (a *templateAnalysis) checkUnclosedDelimiters() {
	for _, t := range a.toks {
		if t.Type != lqparser.TextTokenType || t.skipped {
			continue
		}
		for _, d := range []struct{ open, close string }{{"{{", "}}"}, {"{%", "%}"}} {
			if i := strings.Index(t.Source, d.open); i >= 0 {
				a.problemAt(t.off+i, "", "%q is not closed by %q (put literal braces inside {%% raw %%}…{%% endraw %%})", d.open, d.close)
			}
		}
	}
}

func (a *templateAnalysis) problemAt(off int, value, format string, args ...any) {
	line, col := tplLineColumn(a.src, off)
	fe := FieldError{Message: fmt.Sprintf(format, args...), Line: line, Column: col}
	if value != "" {
		fe.Value = value
	}
	a.problems = append(a.problems, tplProblem{off, fe})
}

func (a *templateAnalysis) err() error {
	if len(a.problems) == 0 {
		return nil
	}
	sort.SliceStable(a.problems, func(i, j int) bool { return a.problems[i].off < a.problems[j].off })
	e := &Error{Code: EINVALID, Message: "invalid template"}
	for i, p := range a.problems {
		if i == maxTemplateErrors {
			break
		}
		e.Fields = append(e.Fields, p.fe)
	}
	return e
}

func (a *templateAnalysis) sortedPaths() []string {
	out := make([]string, 0, len(a.paths))
	for p := range a.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

var liquidErrorPrefix = regexp.MustCompile(`^Liquid error(?: \(line \d+\))?: `)

// cleanLiquidMessage strips liquid's "Liquid error (line n): " prefix and its
// " in <markup>" suffix, which FieldError says better with Line and Column.
func cleanLiquidMessage(msg, context string) string {
	msg = liquidErrorPrefix.ReplaceAllString(msg, "")
	if context != "" {
		msg = strings.TrimSuffix(msg, " in "+context)
	}
	return msg
}

var unterminatedBlock = regexp.MustCompile(`^unterminated "(\w+)" block$`)
var undefinedTag = regexp.MustCompile(`^undefined tag "(\w+)"$`)

// syntaxError turns liquid's parse error into a problem. The line is
// liquid's; the column is that of the token whose markup the error quotes,
// the first such on that line, or of the tag name for an unknown tag.
func (a *templateAnalysis) syntaxError(err liquid.SourceError) {
	raw := err.Error()
	if _, ok := err.(panicSourceError); ok {
		// liquid panicked; this file's lexer finds the literal it choked on.
		before := len(a.problems)
		for i := range a.toks {
			t := &a.toks[i]
			if t.skipped || t.Type == lqparser.TextTokenType {
				continue
			}
			if _, lerr := lexExpr(t.Args); lerr != nil {
				a.problemAt(a.argsOffset(t)+lerr.pos, "", "%s", lerr.msg)
			}
		}
		if len(a.problems) == before {
			a.problems = append(a.problems, tplProblem{0, FieldError{Message: "could not be parsed: " + raw, Line: 1, Column: 1}})
		}
		return
	}
	line := max(err.LineNumber(), 1)
	off, context, found := -1, "", false
	for i := range a.toks {
		t := &a.toks[i]
		if t.skipped || t.Type == lqparser.TextTokenType || t.SourceLoc.LineNo != line {
			continue
		}
		if strings.HasSuffix(raw, " in "+t.Source) {
			off, context, found = t.off, t.Source, true
			msg := cleanLiquidMessage(raw, context)
			if m := undefinedTag.FindStringSubmatch(msg); m != nil {
				off = t.off + strings.Index(t.Source, m[1])
			}
			break
		}
	}
	msg := cleanLiquidMessage(raw, context)
	switch {
	case unterminatedBlock.MatchString(msg):
		name := unterminatedBlock.FindStringSubmatch(msg)[1]
		msg = fmt.Sprintf("{%% %s %%} is not closed; add {%% end%s %%}", name, name)
	case undefinedTag.MatchString(msg):
		name := undefinedTag.FindStringSubmatch(msg)[1]
		msg = fmt.Sprintf("unknown tag %q%s", name, didYouMean(name, allowedTags))
	}
	if !found {
		off = tplLineStart(a.src, line)
	}
	a.problemAt(off, "", "%s", msg)
}

// token finds the scanned token a tree node came from. The tree lists its
// tokens in source order, so one forward cursor suffices.
func (a *templateAnalysis) token(t lqparser.Token) *scanTok {
	for i := a.cursor; i < len(a.toks); i++ {
		s := &a.toks[i]
		if !s.skipped && s.Type == t.Type && s.Source == t.Source && s.SourceLoc.LineNo == t.SourceLoc.LineNo {
			a.cursor = i + 1
			return s
		}
	}
	return nil
}

// argsOffset is the byte offset in the source of the token's argument text,
// found by stepping over the delimiter, trim marker, whitespace and tag name
// as liquid's scanner pattern does, with a plain search as a fallback.
func (a *templateAnalysis) argsOffset(t *scanTok) int {
	src, args := t.Source, t.Args
	i := 2
	if i < len(src) && src[i] == '-' {
		i++
	}
	i = skipRegexpSpace(src, i)
	if t.Type == lqparser.TagTokenType {
		if strings.HasPrefix(src[i:], t.Name) {
			i = skipRegexpSpace(src, i+len(t.Name))
		}
	}
	if strings.HasPrefix(src[i:], args) {
		return t.off + i
	}
	if j := strings.Index(src, args); j >= 0 {
		return t.off + j
	}
	return t.off
}

// skipRegexpSpace skips what \s matches in Go's regexp: [\t\n\f\r ].
func skipRegexpSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte("\t\n\f\r ", s[i]) >= 0 {
		i++
	}
	return i
}

// tplLineColumn converts a byte offset to a 1-based line and a 1-based column
// counted in Unicode code points.
func tplLineColumn(src string, off int) (line, col int) {
	off = min(max(off, 0), len(src))
	before := src[:off]
	line = strings.Count(before, "\n") + 1
	start := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[start:]) + 1
}

// tplLineStart is the byte offset at which 1-based line begins.
func tplLineStart(src string, line int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return off
}

// applyEdits inserts the edits into src.
func applyEdits(src string, edits []templateEdit) string {
	sort.SliceStable(edits, func(i, j int) bool {
		if edits[i].off != edits[j].off {
			return edits[i].off < edits[j].off
		}
		return edits[i].prio < edits[j].prio
	})
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(src[last:e.off])
		b.WriteString(e.text)
		last = e.off
	}
	b.WriteString(src[last:])
	return b.String()
}

// originalOffset maps an offset in the rewritten source back to the
// author's: text inserted before it is subtracted, and an offset inside an
// insertion maps to where the insertion was made.
func originalOffset(off int, edits []templateEdit) int {
	shift := 0
	for _, e := range edits { // sorted by applyEdits
		pos := e.off + shift
		if off < pos {
			break
		}
		if off < pos+len(e.text) {
			return e.off
		}
		shift += len(e.text)
	}
	return off - shift
}

// tplScope holds the locals visible in part of a template.
type tplScope struct {
	parent *tplScope
	names  map[string]bool
}

func (s *tplScope) has(name string) bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return true
		}
	}
	return false
}

// collectGlobals records the names assign and capture define anywhere.
// Liquid's assign is not block-scoped, and a value assigned late in a loop
// body is read early in the next iteration, so these names are valid
// everywhere in the template.
func (a *templateAnalysis) collectGlobals(n lqrender.Node) {
	switch n := n.(type) {
	case *lqrender.SeqNode:
		for _, c := range n.Children {
			a.collectGlobals(c)
		}
	case *lqrender.TagNode:
		if n.Name == "assign" {
			if toks, err := lexExpr(n.Args); err == nil && len(toks) > 0 && toks[0].kind == tkIdent {
				a.globals[toks[0].text] = true
			}
		}
	case *lqrender.BlockNode:
		if n.Name == "capture" {
			a.globals[strings.TrimSpace(n.Args)] = true
		}
		for _, c := range n.Body {
			a.collectGlobals(c)
		}
		for _, c := range n.Clauses {
			a.collectGlobals(c)
		}
	}
}

func (a *templateAnalysis) walk(n lqrender.Node, sc *tplScope) {
	switch n := n.(type) {
	case *lqrender.SeqNode:
		for _, c := range n.Children {
			a.walk(c, sc)
		}
	case *lqrender.ObjectNode:
		t := a.token(n.Token)
		if t == nil {
			return
		}
		start := a.argsOffset(t)
		if res, ok := a.checkStatement(t, start, modeCond, sc, false); ok {
			hook := outFilter
			if a.html && !res.endsEscaped() {
				hook = htmlOutFilter
			}
			a.edits = append(a.edits,
				templateEdit{start, prioOpen, "("},
				templateEdit{start + len(t.Args), prioClose, ") | " + hook + ": " + stateVar})
		}
	case *lqrender.TagNode:
		t := a.token(n.Token)
		if t == nil {
			return
		}
		switch n.Name {
		case "assign":
			a.checkExpr(t, a.argsOffset(t), modeAssign, sc)
		case "include":
			a.problemAt(t.off, "", "the include tag is not supported")
		case "cycle", "break", "continue":
			// cycle takes only string literals; break and continue nothing.
		default:
			a.problemAt(t.off, "", "unknown tag %q", n.Name)
		}
	case *lqrender.BlockNode:
		a.walkBlock(n, sc)
	}
}

func (a *templateAnalysis) walkBlock(n *lqrender.BlockNode, sc *tplScope) {
	t := a.token(n.Token)
	if t == nil {
		return
	}
	walkAll := func(nodes []lqrender.Node, sc *tplScope) {
		for _, c := range nodes {
			a.walk(c, sc)
		}
	}
	switch n.Name {
	case "if", "unless", "case":
		start := a.argsOffset(t)
		if a.checkExprIn(t, start, modeCond, sc, n.Name != "case") && n.Name == "case" {
			a.edits = append(a.edits,
				templateEdit{start, prioOpen, "("},
				templateEdit{start + len(t.Args), prioClose, ") | " + costFilter + ": " + stateVar})
		}
		walkAll(n.Body, sc)
		for _, c := range n.Clauses {
			ct := a.token(c.Token)
			if ct != nil {
				switch c.Name {
				case "elsif":
					a.checkExprIn(ct, a.argsOffset(ct), modeCond, sc, true)
				case "when":
					a.checkExpr(ct, a.argsOffset(ct), modeWhen, sc)
				}
			}
			walkAll(c.Body, sc)
		}
	case "for", "tablerow":
		inner := &tplScope{parent: sc, names: map[string]bool{"forloop": true}}
		if name, ok := a.checkLoop(t, sc); ok {
			inner.names[name] = true
		}
		a.edits = append(a.edits, templateEdit{t.off + len(t.Source), prioTick,
			fmt.Sprintf("{%% assign %s = %d | %s: %s %%}", tickVar, nodeWork+bodyWork(n.Body), tickFilter, stateVar)})
		walkAll(n.Body, inner)
		for _, c := range n.Clauses {
			a.token(c.Token)
			walkAll(c.Body, sc)
		}
	case "capture":
		a.checkCapture(t)
		walkAll(n.Body, sc)
	default:
		a.problemAt(t.off, "", "unknown tag %q", n.Name)
		walkAll(n.Body, sc)
	}
}

// bodyWork is what one iteration of a loop body is charged: a fixed cost per
// node plus its markup or text, not counting the bodies of nested loops,
// which charge their own iterations.
func bodyWork(nodes []lqrender.Node) int {
	w := 0
	for _, n := range nodes {
		switch n := n.(type) {
		case *lqrender.SeqNode:
			w += bodyWork(n.Children)
		case *lqrender.TextNode:
			w += nodeWork + len(n.Source)
		case *lqrender.ObjectNode:
			w += nodeWork + len(n.Source)
		case *lqrender.TagNode:
			w += nodeWork + len(n.Source)
		case *lqrender.RawNode:
			w += nodeWork
		case *lqrender.BlockNode:
			w += nodeWork + len(n.Source)
			if n.Name != "for" && n.Name != "tablerow" {
				w += bodyWork(n.Body)
			}
			for _, c := range n.Clauses {
				w += nodeWork + len(c.Source) + bodyWork(c.Body)
			}
		}
		if w > maxWork {
			return maxWork
		}
	}
	return w
}

// Expression modes: what the argument text of a token must be.
const (
	modeCond   = iota // {{ x }}, if, unless, elsif, case
	modeAssign        // assign
	modeWhen          // when
	modeLoop          // for, tablerow
)

// checkExpr parses a token's argument text, checks its names and plans the
// rewrite of its filters. It reports whether the expression was accepted.
// Conditions of if, unless and elsif may test lead, quote or tenant as a
// whole, to ask whether the context has one.
func (a *templateAnalysis) checkExpr(t *scanTok, start, mode int, sc *tplScope) bool {
	return a.checkExprIn(t, start, mode, sc, false)
}

func (a *templateAnalysis) checkExprIn(t *scanTok, start, mode int, sc *tplScope, bareRoot bool) bool {
	_, ok := a.checkStatement(t, start, mode, sc, bareRoot)
	return ok
}

// checkStatement is checkExprIn that also returns the parsed expression.
func (a *templateAnalysis) checkStatement(t *scanTok, start, mode int, sc *tplScope, bareRoot bool) (*exprResult, bool) {
	res, perr := parseStatement(t.Args, mode)
	if perr != nil {
		a.problemAt(start+perr.pos, "", "%s", perr.msg)
		return nil, false
	}
	if mode == modeAssign {
		a.checkLocalName(res.target, start+res.targetPos)
	}
	return res, a.checkRefsAndFilters(res, start, sc, bareRoot, t.Type == lqparser.ObjTokenType)
}

// checkLoop checks a for or tablerow tag and returns its loop variable.
func (a *templateAnalysis) checkLoop(t *scanTok, sc *tplScope) (string, bool) {
	start := a.argsOffset(t)
	res, perr := parseStatement(t.Args, modeLoop)
	if perr != nil {
		a.problemAt(start+perr.pos, "", "%s", perr.msg)
		return "", false
	}
	a.checkLocalName(res.target, start+res.targetPos)
	a.checkRefsAndFilters(res, start, sc, false, false)
	return res.target, true
}

func (a *templateAnalysis) checkCapture(t *scanTok) {
	start := a.argsOffset(t)
	toks, err := lexExpr(t.Args)
	if err != nil || len(toks) != 2 || toks[0].kind != tkIdent || toks[0].text != strings.TrimSpace(t.Args) {
		a.problemAt(start, "", "capture needs one variable name, as in {%% capture greeting %%}")
		return
	}
	a.checkLocalName(toks[0].text, start+toks[0].pos)
}

// checkLocalName refuses locals that would hide the lead context or the
// hidden names, or that liquid itself sets.
func (a *templateAnalysis) checkLocalName(name string, off int) {
	switch {
	case name == "lead" || name == "quote" || name == "tenant":
		a.problemAt(off, name, "%q is the lead context and cannot be assigned; choose another name", name)
	case name == "forloop":
		a.problemAt(off, name, "forloop is set by for loops and cannot be assigned; choose another name")
	case strings.HasPrefix(name, reservedPrefix):
		a.problemAt(off, name, "names starting with %q are reserved; choose another name", reservedPrefix)
	}
}

// checkRefsAndFilters checks the names an expression uses and plans the
// rewrite of its filters. output is set for the expression of a {{ }}.
func (a *templateAnalysis) checkRefsAndFilters(res *exprResult, start int, sc *tplScope, bareRoot, output bool) bool {
	ok := true
	for _, r := range res.refs {
		if !a.checkRef(r, start, sc, bareRoot) {
			ok = false
		}
	}
	for i, f := range res.filters {
		info, known := allowedFilter[f.name]
		switch {
		case !known && a.html && (f.name == "safe" || f.name == "html_safe"):
			a.problemAt(start+f.pos, f.name, "unknown filter %q; mark a value as safe HTML with raw, as in {{ x | raw }}", f.name)
			ok = false
		case !known:
			a.problemAt(start+f.pos, f.name, "unknown filter %q%s", f.name, didYouMean(f.name, filterNames()))
			ok = false
		case f.name == safeFilter && a.safeMarkerProblem(res, i, output) != "":
			a.problemAt(start+f.pos, f.name, "%s", a.safeMarkerProblem(res, i, output))
			ok = false
		case info.maxArgs >= 0 && f.nargs > info.maxArgs:
			a.problemAt(start+f.pos, f.name, "filter %q takes at most %d argument(s), not %d", f.name, info.maxArgs, f.nargs)
			ok = false
		case f.keyword:
			a.edits = append(a.edits, templateEdit{start + f.end + 1, prioFilterArg, " " + stateVar + ","})
		default:
			a.edits = append(a.edits, templateEdit{start + f.end, prioFilterBare, ": " + stateVar})
		}
	}
	for _, sp := range res.operands {
		a.edits = append(a.edits,
			templateEdit{start + sp.start, prioOpen, "("},
			templateEdit{start + sp.end, prioOperandClose, " | " + costFilter + ": " + stateVar + ")"})
	}
	if res.collEnd > 0 {
		a.edits = append(a.edits, templateEdit{start + res.collEnd, prioOperandClose, " | " + costFilter + ": " + stateVar})
	}
	return ok
}

// safeMarkerProblem says why the raw filter at res.filters[i] is not
// allowed there, or returns "". raw marks what a {{ }} of an HTML template
// prints as safe, so it must end the output: a filter after it would work
// on trusted text, and raw in a tag or an argument marks nothing.
func (a *templateAnalysis) safeMarkerProblem(res *exprResult, i int, output bool) string {
	f := res.filters[i]
	switch {
	case !a.html:
		return "the raw filter marks HTML as safe and is only allowed in an email's HTML body; plain text is never escaped, so remove it"
	case f.keyword:
		return "raw takes no arguments"
	case !output:
		return "raw is only allowed as the last filter of a {{ }} output, as in {{ x | raw }}"
	case res.final != i:
		return "raw must be the last filter of the output, as in {{ x | raw }}"
	}
	return ""
}

// checkRef checks one variable reference and records the context path it
// reads.
func (a *templateAnalysis) checkRef(r varRef, start int, sc *tplScope, bareRoot bool) bool {
	off := start + r.pos
	if strings.HasPrefix(r.root, reservedPrefix) {
		a.problemAt(off, r.root, "names starting with %q are reserved", reservedPrefix)
		return false
	}
	if sc.has(r.root) || a.globals[r.root] {
		return true
	}
	switch r.root {
	case "lead", "quote", "tenant":
		if bareRoot && len(r.segs) == 0 && !r.dynamic {
			return true // {% if quote %}: is there a quote at all
		}
		return a.checkContextRef(r, off)
	case "empty", "blank":
		a.problemAt(off, r.root, "%q is not supported; compare with \"\" or test x.size == 0", r.root)
	case "null":
		a.problemAt(off, r.root, "unknown variable \"null\"; write nil")
	default:
		cands := fieldPathList()
		for g := range a.globals {
			cands = append(cands, g)
		}
		a.problemAt(off, r.path(), "unknown variable %q%s", r.path(), didYouMean(r.path(), cands))
	}
	return false
}

func (a *templateAnalysis) checkContextRef(r varRef, off int) bool {
	segs := r.segs
	if len(segs) == 0 {
		if r.dynamic {
			a.problemAt(off, r.root, "%s cannot be indexed with a computed key; name the field, e.g. %s", r.root, exampleField(r.root))
		} else {
			a.problemAt(off, r.root, "%s is not a value; name one of its fields, e.g. %s", r.root, exampleField(r.root))
		}
		return false
	}
	if r.root == "lead" && segs[0] == "custom" {
		if len(segs) == 1 {
			a.paths["lead.custom"] = true
			return true
		}
		path := CustomPrefix + segs[1]
		if _, ok := LookupField(path); !ok {
			a.problemAt(off, path, "%q is not a valid custom field name", segs[1])
			return false
		}
		// A custom value is whatever JSON the lead holds, so anything
		// below it may exist.
		a.paths[path] = true
		return true
	}
	path := r.root + "." + segs[0]
	f, ok := LookupField(path)
	if !ok {
		full := r.root + "." + strings.Join(segs, ".")
		a.problemAt(off, path, "unknown variable %q%s", path, didYouMean(full, fieldPathList()))
		return false
	}
	kind, at := f.Kind, path
	for _, s := range segs[1:] {
		next, ok := fieldProperty(kind, s)
		if !ok {
			a.problemAt(off, path, "%s is a %s and has no property %q", at, kind, s)
			return false
		}
		kind, at = next, at+"."+s
	}
	if r.dynamic && kind != FieldList {
		a.problemAt(off, path, "%s is a %s and cannot be indexed", at, kind)
		return false
	}
	a.paths[path] = true
	return true
}

// fieldProperty is what liquid offers on a value of a kind: size of a list
// or string, first and last of a list.
func fieldProperty(kind FieldKind, prop string) (FieldKind, bool) {
	switch {
	case prop == "size" && (kind == FieldList || kind == FieldString):
		return FieldNumber, true
	case (prop == "first" || prop == "last") && kind == FieldList:
		return FieldString, true
	}
	return 0, false
}

func exampleField(root string) string {
	switch root {
	case "quote":
		return "quote.number"
	case "tenant":
		return "tenant.name"
	}
	return "lead.first_name"
}

func fieldPathList() []string {
	out := make([]string, 0, len(Fields))
	for _, f := range Fields {
		out = append(out, f.Path)
	}
	return out
}

func filterNames() []string {
	out := make([]string, 0, len(allowedFilter))
	for name := range allowedFilter {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// didYouMean returns ` (did you mean "x"?)` for the candidate closest to name
// within a small edit distance, or "".
func didYouMean(name string, cands []string) string {
	best, bestD := "", 3
	if len(name) <= 4 {
		bestD = 2
	}
	for _, c := range cands {
		if c == name {
			continue
		}
		if d := tplEditDistance(name, c, bestD); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// tplEditDistance is the number of single-character insertions, deletions,
// substitutions and adjacent swaps that turn a into b (optimal string
// alignment), or limit when it is at least limit.
func tplEditDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 || len(a)-len(b) >= limit || len(b)-len(a) >= limit {
		return limit
	}
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return min(rows[len(a)][len(b)], limit)
}

// ---------------------------------------------------------------------------
// The expression lexer and parser. They follow liquid's grammar
// (expressions/scanner.rl, expressions/expressions.y) to find every
// variable path and filter with its offset; they do not evaluate anything.

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkIdent
	tkKeyword  // identifier immediately followed by ':'; text excludes it
	tkProperty // .name; text excludes the dot
	tkString
	tkNumber
	tkLiteral // true, false, nil
	tkEq
	tkNeq
	tkGe
	tkLe
	tkAnd
	tkOr
	tkContains
	tkIn
	tkDotDot
	tkSelector // liquid's internal statement prefixes, never valid here
	tkChar     // any other single byte
)

type exprTok struct {
	kind tokKind
	text string
	pos  int // byte offset in the argument text
	end  int
}

type exprError struct {
	pos int
	msg string
}

func (e *exprError) Error() string { return e.msg }

var fixedTokens = []struct {
	text string
	kind tokKind
}{
	// In the scanner's order, which breaks ties between equal lengths.
	{"%assign ", tkSelector}, {"{%cycle ", tkSelector}, {"%loop ", tkSelector}, {"{%when ", tkSelector},
}

var wordTokens = []struct {
	text string
	kind tokKind
}{
	{"true", tkLiteral}, {"false", tkLiteral}, {"nil", tkLiteral},
	{"==", tkEq}, {"!=", tkNeq}, {">=", tkGe}, {"<=", tkLe},
	{"and", tkAnd}, {"or", tkOr}, {"contains", tkContains},
	{"in", tkIn}, {"..", tkDotDot},
}

func lqIsAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func lqIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// lqIdentLen is the length of liquid's identifier at s[i:]:
// (alpha | '_') (alnum | '_' | '-')* '?'?
func lqIdentLen(s string, i int) int {
	if i >= len(s) || !(lqIsAlpha(s[i]) || s[i] == '_') {
		return 0
	}
	j := i + 1
	for j < len(s) && (lqIsAlpha(s[j]) || lqIsDigit(s[j]) || s[j] == '_' || s[j] == '-') {
		j++
	}
	if j < len(s) && s[j] == '?' {
		j++
	}
	return j - i
}

// lexExpr splits argument text into tokens by the longest match, the
// earlier pattern winning a tie, as liquid's ragel scanner does.
func lexExpr(s string) ([]exprTok, *exprError) {
	var toks []exprTok
	for p := 0; p < len(s); {
		c := s[p]
		if c == ' ' || c >= '\t' && c <= '\r' {
			p++
			continue
		}
		kind, n := tkChar, 1
		better := func(k tokKind, l int) {
			if l > n || (l == n && kind == tkChar && l > 0) {
				kind, n = k, l
			}
		}
		for _, f := range fixedTokens {
			if strings.HasPrefix(s[p:], f.text) {
				better(f.kind, len(f.text))
			}
		}
		// Numbers: '-'? digit+ ('.' digit+)?
		q := p
		if q < len(s) && s[q] == '-' {
			q++
		}
		if q < len(s) && lqIsDigit(s[q]) {
			for q < len(s) && lqIsDigit(s[q]) {
				q++
			}
			if q+1 < len(s) && s[q] == '.' && lqIsDigit(s[q+1]) {
				q++
				for q < len(s) && lqIsDigit(s[q]) {
					q++
				}
			}
			better(tkNumber, q-p)
		}
		if c == '"' || c == '\'' {
			if end := strings.IndexByte(s[p+1:], c); end >= 0 {
				better(tkString, end+2)
			}
		}
		for _, w := range wordTokens {
			if strings.HasPrefix(s[p:], w.text) {
				better(w.kind, len(w.text))
			}
		}
		if l := lqIdentLen(s, p); l > 0 {
			if p+l < len(s) && s[p+l] == ':' {
				better(tkKeyword, l+1)
			}
			better(tkIdent, l)
		}
		if c == '.' {
			if l := lqIdentLen(s, p+1); l > 0 {
				better(tkProperty, l+1)
			}
		}
		tok := exprTok{kind: kind, text: s[p : p+n], pos: p, end: p + n}
		switch kind {
		case tkKeyword:
			tok.text = s[p : p+n-1]
		case tkProperty:
			tok.text = s[p+1 : p+n]
		case tkNumber:
			if msg := lqCheckNumber(tok.text); msg != "" {
				return nil, &exprError{p, msg}
			}
		case tkSelector:
			return nil, &exprError{p, fmt.Sprintf("unexpected %q", tok.text)}
		}
		toks = append(toks, tok)
		p += n
	}
	return append(toks, exprTok{kind: tkEOF, pos: len(s), end: len(s)}), nil
}

// lqCheckNumber refuses numbers liquid cannot hold; liquid panics on them.
func lqCheckNumber(s string) string {
	if strings.Contains(s, ".") {
		if f, err := strconv.ParseFloat(s, 64); err != nil || math.IsInf(f, 0) {
			return fmt.Sprintf("number %s is out of range", s)
		}
		return ""
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Sprintf("number %s is out of range", s)
	}
	return ""
}

// varRef is a variable the expression reads: a root name, the property
// names after it (a string literal index counts as one) and whether a
// computed index follows them.
type varRef struct {
	root    string
	pos     int
	segs    []string
	dynamic bool
}

func (r varRef) path() string {
	if len(r.segs) == 0 {
		return r.root
	}
	return r.root + "." + strings.Join(r.segs, ".")
}

// filterUse is one application of a filter. end is the end of its name; a
// keyword filter ("append:") has its colon at end.
type filterUse struct {
	name    string
	pos     int
	end     int
	keyword bool
	nargs   int
}

// span is a byte range of the argument text.
type span struct{ start, end int }

type exprResult struct {
	refs      []varRef
	filters   []filterUse
	operands  []span // compared values and when values, each charged
	collEnd   int    // end of a loop's collection, where it is charged
	target    string // assign's or a loop's variable
	targetPos int
	final     int // index in filters of the filter that ends the expression, or -1
}

// endsEscaped reports whether the value of an output expression needs no
// escaping in HTML mode: its last filter escapes it or marks it safe.
func (r *exprResult) endsEscaped() bool {
	if r.final < 0 {
		return false
	}
	switch r.filters[r.final].name {
	case "escape", "escape_once", safeFilter:
		return true
	}
	return false
}

type exprParser struct {
	toks  []exprTok
	i     int
	res   exprResult
	depth int // parentheses open around the current token
}

// parseStatement parses argument text in a mode.
func parseStatement(text string, mode int) (res *exprResult, perr *exprError) {
	toks, lerr := lexExpr(text)
	if lerr != nil {
		return nil, lerr
	}
	p := &exprParser{toks: toks, res: exprResult{final: -1}}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*exprError)
			if !ok {
				panic(r)
			}
			res, perr = nil, e
		}
	}()
	switch mode {
	case modeCond:
		p.cond()
	case modeAssign:
		t := p.expect(tkIdent, "a variable name")
		p.res.target, p.res.targetPos = t.text, t.pos
		if c := p.peek(); c.kind != tkChar || c.text != "=" {
			p.fail(c, `"="`)
		}
		p.i++
		p.cond()
	case modeWhen:
		p.res.operands = append(p.res.operands, p.expr())
		for p.isChar(",") {
			p.i++
			p.res.operands = append(p.res.operands, p.expr())
		}
	case modeLoop:
		t := p.expect(tkIdent, "a loop variable name")
		p.res.target, p.res.targetPos = t.text, t.pos
		p.expect(tkIn, `"in"`)
		p.expr()
		p.filters()
		p.res.collEnd = p.toks[p.i-1].end
		p.loopModifiers()
	}
	if t := p.peek(); t.kind != tkEOF {
		p.fail(t, "the end of the expression")
	}
	return &p.res, nil
}

func (p *exprParser) peek() exprTok { return p.toks[p.i] }

func (p *exprParser) isChar(c string) bool {
	t := p.toks[p.i]
	return t.kind == tkChar && t.text == c
}

func (p *exprParser) fail(t exprTok, want string) {
	what := strconv.Quote(t.text)
	if t.kind == tkEOF {
		what = "the end"
	}
	panic(&exprError{t.pos, fmt.Sprintf("syntax error: expected %s, found %s", want, what)})
}

func (p *exprParser) expect(k tokKind, want string) exprTok {
	t := p.peek()
	if t.kind != k {
		p.fail(t, want)
	}
	p.i++
	return t
}

func (p *exprParser) expectChar(c string) {
	if !p.isChar(c) {
		p.fail(p.peek(), strconv.Quote(c))
	}
	p.i++
}

// cond: rel (("and" | "or") rel)*
func (p *exprParser) cond() { p.condFrom(p.expr()) }

// condFrom parses a condition whose first expression, left, is parsed.
func (p *exprParser) condFrom(left span) {
	p.relFrom(left)
	for k := p.peek().kind; k == tkAnd || k == tkOr; k = p.peek().kind {
		p.i++
		p.relFrom(p.expr())
	}
}

// rel: expr (relation expr | filters); relFrom parses it after its first
// expression, left.
func (p *exprParser) relFrom(left span) {
	t := p.peek()
	switch {
	case t.kind == tkEq || t.kind == tkNeq || t.kind == tkGe || t.kind == tkLe || t.kind == tkContains,
		t.kind == tkChar && (t.text == "<" || t.text == ">"):
		p.i++
		right := p.expr()
		p.res.operands = append(p.res.operands, left, right)
	default:
		p.filters()
	}
}

// filters: ("|" (name | name ":" expr ("," expr)*))*
// A chain outside any parentheses that runs to the end of the expression
// records its last filter as the expression's final one.
func (p *exprParser) filters() {
	last := -1
	for p.isChar("|") {
		p.i++
		t := p.peek()
		last = len(p.res.filters)
		switch t.kind {
		case tkIdent:
			p.i++
			p.res.filters = append(p.res.filters, filterUse{name: t.text, pos: t.pos, end: t.end})
		case tkKeyword:
			p.i++
			f := filterUse{name: t.text, pos: t.pos, end: t.end - 1, keyword: true, nargs: 1}
			idx := len(p.res.filters)
			p.res.filters = append(p.res.filters, f)
			p.expr()
			for p.isChar(",") {
				p.i++
				p.expr()
				p.res.filters[idx].nargs++
			}
		default:
			p.fail(t, "a filter name")
		}
	}
	if last >= 0 && p.depth == 0 && p.peek().kind == tkEOF {
		p.res.final = last
	}
}

// loopModifiers: ("reversed" | ("limit" | "offset" | "cols") ":" expr)*
func (p *exprParser) loopModifiers() {
	for {
		t := p.peek()
		switch {
		case t.kind == tkIdent && t.text == "reversed":
			p.i++
		case t.kind == tkKeyword && (t.text == "limit" || t.text == "offset" || t.text == "cols"):
			p.i++
			p.expr()
		case t.kind == tkEOF:
			return
		default:
			p.fail(t, "reversed, limit:, offset: or cols:")
		}
	}
}

// expr: primary ("." name | "[" expr "]")*
// primary: literal | name | "(" expr ".." expr ")" | "(" cond ")"
// It returns the span of text it consumed.
func (p *exprParser) expr() (sp span) {
	t := p.peek()
	sp.start = t.pos
	defer func() {
		if p.i > 0 { // not when failing on the first token
			sp.end = p.toks[p.i-1].end
		}
	}()
	ref := -1
	switch {
	case t.kind == tkString || t.kind == tkNumber || t.kind == tkLiteral:
		p.i++
	case t.kind == tkIdent:
		p.i++
		ref = len(p.res.refs)
		p.res.refs = append(p.res.refs, varRef{root: t.text, pos: t.pos})
	case t.kind == tkChar && t.text == "(":
		p.i++
		p.depth++
		// A range or a parenthesised condition; both start with an
		// expression, parsed once so that nesting costs linear time.
		first := p.expr()
		if p.peek().kind == tkDotDot {
			p.i++
			p.expr()
		} else {
			p.condFrom(first)
		}
		p.expectChar(")")
		p.depth--
	default:
		p.fail(t, "a value or variable")
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tkProperty:
			p.i++
			if ref >= 0 && !p.res.refs[ref].dynamic {
				p.res.refs[ref].segs = append(p.res.refs[ref].segs, t.text)
			}
		case t.kind == tkChar && t.text == "[":
			p.i++
			if k := p.peek(); k.kind == tkString && p.toks[p.i+1].kind == tkChar && p.toks[p.i+1].text == "]" {
				p.i++
				if ref >= 0 && !p.res.refs[ref].dynamic {
					p.res.refs[ref].segs = append(p.res.refs[ref].segs, k.text[1:len(k.text)-1])
				}
			} else {
				if ref >= 0 {
					p.res.refs[ref].dynamic = true
				}
				p.expr()
			}
			p.expectChar("]")
		default:
			return
		}
	}
}

package tmpl

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid"
	lqfilters "github.com/osteele/liquid/filters"
	lqrender "github.com/osteele/liquid/render"
	lqvalues "github.com/osteele/liquid/values"

	"github.com/quoteflow/quoteflow/internal/engine"
)

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
	errOutputTooLarge = limitError(fmt.Sprintf("the output is longer than %d KiB", MaxOutput>>10))
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

// cappedWriter collects the output up to MaxOutput.
type cappedWriter struct {
	buf bytes.Buffer
	st  *renderState
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxOutput {
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
	return engine.FormatMoney(amount, currency), nil
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

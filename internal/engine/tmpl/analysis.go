package tmpl

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/osteele/liquid"
	lqparser "github.com/osteele/liquid/parser"
	lqrender "github.com/osteele/liquid/render"

	"github.com/quoteflow/quoteflow/internal/engine"
)

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
	fe  engine.FieldError
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
	if len(src) > MaxSize {
		a.syntaxFailed = true
		a.problems = append(a.problems, tplProblem{0, engine.FieldError{
			Message: fmt.Sprintf("is %d bytes long; templates are limited to %d KiB", len(src), MaxSize>>10),
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
	fe := engine.FieldError{Message: fmt.Sprintf(format, args...), Line: line, Column: col}
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
	e := &engine.Error{Code: engine.EINVALID, Message: "invalid template"}
	for i, p := range a.problems {
		if i == maxTemplateErrors {
			break
		}
		e.Fields = append(e.Fields, p.fe)
	}
	return e
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
		// liquid panicked; the lexer (expr.go) finds the literal it choked on.
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
			a.problems = append(a.problems, tplProblem{0, engine.FieldError{Message: "could not be parsed: " + raw, Line: 1, Column: 1}})
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

// tplScope holds the locals visible in part of a template, and how many
// times literal loops around it run it (0 counts as 1).
type tplScope struct {
	parent *tplScope
	names  map[string]bool
	iters  int64
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
		inner := &tplScope{parent: sc, names: map[string]bool{"forloop": true}, iters: max(sc.iters, 1)}
		tick := nodeWork + bodyWork(n.Body)
		if name, ok := a.checkLoop(t, sc); ok {
			inner.names[name] = true
			inner.iters = a.checkLiteralLoop(t, inner.iters, tick)
		}
		a.edits = append(a.edits, templateEdit{t.off + len(t.Source), prioTick,
			fmt.Sprintf("{%% assign %s = %d | %s: %s %%}", tickVar, tick, tickFilter, stateVar)})
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

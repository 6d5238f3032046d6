package tmpl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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

package tmpl

import (
	"fmt"
	"sort"
	"strings"

	lqparser "github.com/osteele/liquid/parser"

	"github.com/quoteflow/quoteflow/internal/engine"
)

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
		path := engine.CustomPrefix + segs[1]
		if _, ok := engine.LookupField(path); !ok {
			a.problemAt(off, path, "%q is not a valid custom field name", segs[1])
			return false
		}
		// A custom value is whatever JSON the lead holds, so anything
		// below it may exist.
		a.paths[path] = true
		return true
	}
	path := r.root + "." + segs[0]
	f, ok := engine.LookupField(path)
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
	if r.dynamic && kind != engine.FieldList {
		a.problemAt(off, path, "%s is a %s and cannot be indexed", at, kind)
		return false
	}
	a.paths[path] = true
	return true
}

// fieldProperty is what liquid offers on a value of a kind: size of a list
// or string, first and last of a list.
func fieldProperty(kind engine.FieldKind, prop string) (engine.FieldKind, bool) {
	switch {
	case prop == "size" && (kind == engine.FieldList || kind == engine.FieldString):
		return engine.FieldNumber, true
	case (prop == "first" || prop == "last") && kind == engine.FieldList:
		return engine.FieldString, true
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
	out := make([]string, 0, len(engine.Fields))
	for _, f := range engine.Fields {
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

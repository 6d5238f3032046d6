package tmpl

import (
	"regexp"
	"strconv"
)

// Loops over literal ranges are checked when a template is saved, not only
// when it renders: {% for i in (1..100000000) %} can never render, so it is
// refused with the workflow instead of failing every message later. Only
// what the source alone decides is checked; a range bounded by data is
// left to the render-time limits.

var (
	literalRangeRe = regexp.MustCompile(`^\s*[A-Za-z_][\w-]*\s+in\s+\(\s*(-?\d{1,18})\s*\.\.\s*(-?\d{1,18})\s*\)`)
	literalLimitRe = regexp.MustCompile(`\blimit\s*:\s*(\d{1,18})\b`)
)

// literalRange returns the size of the range a for or tablerow tag whose
// arguments are args loops over, and how many times it runs (a literal
// limit: applied), when the range is made of integer literals; ok is false
// when that depends on data.
func literalRange(args string) (size, iterations int64, ok bool) {
	m := literalRangeRe.FindStringSubmatch(args)
	if m == nil {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(m[1], 10, 64)
	hi, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	size = max(hi-lo+1, 0)
	iterations = size
	if l := literalLimitRe.FindStringSubmatch(args[len(m[0]):]); l != nil {
		if limit, err := strconv.ParseInt(l[1], 10, 64); err == nil {
			iterations = min(size, limit)
		}
	}
	return size, iterations, true
}

// checkLiteralLoop reports a loop that cannot render because of its
// literal range: more items than any range may have (a limit: does not
// help, the range is made first), or, with the literal loops around it
// (outer iterations), more work than a render may do. Each iteration is
// charged work at render (its body's size, as the rewrite's tick says),
// so a loop refused here could only have failed at render. It returns the
// iterations the loop's body runs, for the loops inside it; a loop bounded
// by data counts as one.
func (a *templateAnalysis) checkLiteralLoop(t *scanTok, outer int64, work int) int64 {
	size, n, ok := literalRange(t.Args)
	if !ok {
		return outer
	}
	switch {
	case size > maxCollection:
		a.problemAt(t.off, "", "this range has %d items, more than %d items a loop may take", size, maxCollection)
	case outer*n*int64(work) > maxWork:
		a.problemAt(t.off, "", "with the loops around it this loop runs %d times: too much work for one render", outer*n)
	default:
		return outer * max(n, 1)
	}
	// Reported once: the loops inside are not charged again.
	return 1
}

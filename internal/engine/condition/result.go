package condition

import (
	"github.com/quoteflow/quoteflow/internal/engine"
)

// Eval evaluates the condition against ctx. A nil condition, such as a
// step without a when, is true. Eval does not allocate; the explanation
// methods of the Result do, and are meant for the path that reports.
func (c *Condition) Eval(ctx *engine.Context) Result {
	e := newEnv(ctx)
	r := c.eval(&e)
	r.ctx = ctx
	return r
}

// MissingFields returns the fields whose absence from ctx makes the
// condition unknown, each once, in the order the condition names them. It
// is empty when the condition is true or false.
func (c *Condition) MissingFields(ctx *engine.Context) []string {
	out := []string{}
	if c == nil || len(c.nodes) == 0 {
		return out
	}
	e := newEnv(ctx)
	if t, _, _ := c.evalNode(&e, c.root); t != TruthUnknown {
		return out
	}
	return c.appendMissing(&e, c.root, out)
}

// Result is the outcome of evaluating a condition: its truth value and, for
// a condition that is not true, the node that decided it. It is a small
// value so that evaluating allocates nothing; the explanation is derived
// from it on demand.
type Result struct {
	Truth Truth
	c     *Condition
	ctx   *engine.Context
	node  int32
	why   why
}

// Matched reports whether the condition is true.
func (r Result) Matched() bool { return r.Truth == TruthTrue }

func (r Result) leafIndex() int32 {
	if r.c == nil || r.node < 0 || r.c.nodes[r.node].kind != nodeLeaf {
		return -1
	}
	return r.c.nodes[r.node].leaf
}

// Path is the JSON path, inside the condition, of the deciding node: the
// first false or unknown leaf, or an empty any. It is "" for the root and
// for a true condition.
func (r Result) Path() string {
	if r.c == nil || r.node < 0 {
		return ""
	}
	return r.c.paths[r.node]
}

// Field is the deciding leaf's field, "" when no leaf decided.
func (r Result) Field() string {
	if i := r.leafIndex(); i >= 0 {
		return r.c.info[i].name
	}
	return ""
}

// Op is the deciding leaf's operator.
func (r Result) Op() string {
	if i := r.leafIndex(); i >= 0 {
		return opNames[r.c.leaves[i].op]
	}
	return ""
}

// Expected is the deciding leaf's value as the condition gives it: a
// string, float64, bool or []any; nil for exists and missing.
func (r Result) Expected() any {
	if i := r.leafIndex(); i >= 0 {
		return r.c.info[i].expected
	}
	return nil
}

// Missing reports whether the deciding leaf's field is absent from the
// context.
func (r Result) Missing() bool { return r.why == whyMissing && r.leafIndex() >= 0 }

// Mismatch reports whether the deciding leaf is false because a custom
// field holds a type its operator cannot compare.
func (r Result) Mismatch() bool { return r.why == whyMismatch }

// Actual is the value the deciding leaf's field has in the context: a
// string, float64, bool, []string, an RFC 3339 string for timestamps, or a
// custom field's JSON value; nil when it is missing or nothing decided.
func (r Result) Actual() any {
	i := r.leafIndex()
	if i < 0 || r.why == whyMissing {
		return nil
	}
	e := newEnv(r.ctx)
	return e.actual(&r.c.leaves[i], &boxedFields{})
}

// Detail explains the result in a sentence.
func (r Result) Detail() string {
	if r.Truth == TruthTrue {
		return "condition true"
	}
	return engine.ConditionDetail(r.Truth.String(), r.Path(), r.Field(), r.Op(), r.Expected(), r.Actual(), r.why)
}

package condition

import (
	"cmp"
	"slices"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// ruleIndex lets Set.First pass over conditions (rules', in the resolver)
// that cannot match without evaluating them.
//
// A rule whose condition is an all (or a single leaf) with a leaf
// "field eq string" among its direct children is keyed on that field and
// value; the index gives each such field a column and numbers the values
// rules compare it with. A lead that holds a string for the field, other
// than the rule's value, makes that leaf false and so the whole all false,
// whatever its other children are: three-valued all is false as soon as
// one child is false. The rule is then known not to match, and not to be
// unknown either (it adds no missing field), without reading anything but
// two numbers. Which leaf decided the failure, which the trace names, is
// worked out when it is asked for (see Set.Explain).
//
// Keys are built-in string fields other than lead.name, and custom fields
// compared with a string: a custom field holding a number, a boolean, a
// list or an object makes such a leaf false as well.
type ruleIndex struct {
	// cols[0] is no column: rules without a key point at it, and its
	// value is always 0, "evaluate".
	cols []indexCol
}

// indexCol is one keyed field.
type indexCol struct {
	field fieldID
	// leaf reads the field: for a custom key, its slot and key.
	leaf *leaf
	// values numbers, from 1, the strings rules compare the field with.
	values map[string]int32
}

// ruleKey is a rule's key: column col must hold value val. Column 0 never
// rejects.
type ruleKey struct {
	col int32
	val int32
}

// buildIndex keys the rules of hot on up to two columns each, those whose
// values are the most varied across the rule set, which are the likeliest
// to pass over the rule.
func buildIndex(c *Condition, hot []setHot) ruleIndex {
	idx := ruleIndex{cols: []indexCol{{}}}
	type colID struct {
		field fieldID
		slot  int16
	}
	colOf := map[colID]int32{}
	type cand struct {
		col int32
		val int32
	}
	cands := make([][]cand, len(hot))
	for i := range hot {
		root := &c.nodes[hot[i].root]
		var kids []int32
		switch root.kind {
		case nodeLeaf:
			kids = []int32{hot[i].root}
		case nodeAll:
			kids = c.children(root)
		}
		for _, k := range kids {
			n := &c.nodes[k]
			if n.kind != nodeLeaf {
				continue
			}
			l := &c.leaves[n.leaf]
			if !indexable(l) {
				continue
			}
			id := colID{field: l.field}
			if l.field == fCustom {
				id.slot = l.slot
			}
			col, ok := colOf[id]
			if !ok {
				col = int32(len(idx.cols))
				colOf[id] = col
				idx.cols = append(idx.cols, indexCol{field: l.field, leaf: l, values: map[string]int32{}})
			}
			vals := idx.cols[col].values
			val, ok := vals[l.s]
			if !ok {
				val = int32(len(vals) + 1)
				vals[l.s] = val
			}
			cands[i] = append(cands[i], cand{col, val})
		}
	}
	for i, cs := range cands {
		// The most varied columns first; a rule's written order breaks ties.
		slices.SortStableFunc(cs, func(a, b cand) int {
			return cmp.Compare(len(idx.cols[b.col].values), len(idx.cols[a.col].values))
		})
		k := 0
		for _, x := range cs {
			if k == len(hot[i].keys) {
				break
			}
			if k == 1 && hot[i].keys[0].col == x.col {
				continue
			}
			hot[i].keys[k] = ruleKey(x)
			k++
		}
	}
	return idx
}

// indexable reports whether a leaf can key a rule: eq with a string on a
// field whose value the index can read once per resolution.
func indexable(l *leaf) bool {
	if l.op != opEq || l.vt != vtString {
		return false
	}
	switch l.kind {
	case engine.FieldString:
		return l.field != fLeadName
	case engine.FieldAny:
		return l.slot >= 0
	}
	return false
}

// leadValues fills dst, one per column, with what the lead holds: the
// number of its value in the column, -1 when it holds a value no rule
// compares with (or, for a custom field, not a string), and 0 when it
// lacks the field, where the rules keyed on it must be evaluated.
func (idx *ruleIndex) leadValues(e *evalEnv, dst []int32) []int32 {
	dst = dst[:len(idx.cols)]
	for c := 1; c < len(idx.cols); c++ {
		col := &idx.cols[c]
		var s string
		if col.field == fCustom {
			v, ok := e.customValue(col.leaf)
			if !ok {
				dst[c] = 0
				continue
			}
			str, isString := v.(string)
			if !isString {
				dst[c] = -1
				continue
			}
			s = str
		} else if s = e.strs[col.field]; s == "" {
			dst[c] = 0
			continue
		}
		if val, ok := col.values[s]; ok {
			dst[c] = val
		} else {
			dst[c] = -1
		}
	}
	return dst
}

// flatLeaf is one leaf of a flattened condition: its memo slot and its
// index in Condition.leaves.
type flatLeaf struct {
	memo int32
	leaf int32
}

// flatten lists the leaves of every condition of hot that is a single leaf
// or an all of leaves, and points the rules at their lists; the others get
// nflat -1.
func flatten(c *Condition, hot []setHot) []flatLeaf {
	var flat []flatLeaf
	for i := range hot {
		h := &hot[i]
		h.nflat = -1
		root := &c.nodes[h.root]
		kids := []int32{h.root}
		if root.kind != nodeLeaf {
			if root.kind != nodeAll {
				continue
			}
			kids = c.children(root)
		}
		start := len(flat)
		for _, k := range kids {
			n := &c.nodes[k]
			if n.kind != nodeLeaf || n.first < 0 {
				flat = flat[:start]
				break
			}
			flat = append(flat, flatLeaf{memo: n.first, leaf: n.leaf})
		}
		if len(flat) == start && len(kids) > 0 {
			continue
		}
		h.flat, h.nflat = int32(start), int32(len(flat)-start)
	}
	return flat
}

// evalFlat is the truth of an all of the leaves fl, which evalNode would
// give, through the environment's memo: false if a leaf is false, else
// unknown if one is unknown, else true.
func (c *Condition) evalFlat(e *evalEnv, fl []flatLeaf) Truth {
	t := TruthTrue
	memo := e.memo
	for _, f := range fl {
		v := memo[f.memo]
		if v == 0 {
			lt, lw := c.leaves[f.leaf].eval(e)
			v = 1 | uint8(lt)<<1 | uint8(lw)<<3
			memo[f.memo] = v
		}
		switch Truth(v >> 1 & 3) {
		case TruthFalse:
			return TruthFalse
		case TruthUnknown:
			t = TruthUnknown
		}
	}
	return t
}

package condition

import (
	"encoding/json"
	"sync"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Set is conditions compiled together, as a rule set holds its rules'
// conditions: packed side by side in memory, identical leaves evaluated
// once per context, custom fields looked up once, and an index that passes
// over conditions a context cannot satisfy without evaluating them. It is
// what the resolver evaluates; its API is the small part of this package's
// machinery that a caller evaluating many conditions at once needs. A Set
// is immutable and safe for concurrent use.
//
// Conditions are numbered from 0 in the order given to NewSet; each belongs
// to groups (at most 8, numbered 0 to 7) and First evaluates only the
// conditions of one group: the resolver's groups are triggers, and a rule
// is in a trigger's group when its condition is evaluated on that trigger.
type Set struct {
	// hot is what First reads per condition, apart from the rest so that
	// it is a few bytes a condition.
	hot []setHot
	// all views every condition; condition i's root is hot[i].root.
	all Condition
	// memoSize is the number of distinct leaves across the conditions.
	memoSize int
	// customKeys are the custom keys the conditions read, by slot, and
	// keysUpTo[i] how many of them conditions[:i+1] read: slots are
	// numbered in order of first use, so that Detach can capture the
	// values conditions[:i+1] need.
	customKeys []string
	keysUpTo   []int32
	// readsTags says whether a condition reads lead.tags, which Detach
	// then copies.
	readsTags bool
	// unslotted is set when some custom key has no slot (more keys than a
	// slot can number): Detach cannot capture every value.
	unslotted bool
	index     ruleIndex
	// flat lists the leaves of the conditions that are one leaf or an all
	// of leaves, one condition after another; see setHot.flat.
	flat    []flatLeaf
	scratch sync.Pool // of *scratch
}

// setHot is what First reads per condition: its groups, its root and up
// to two keys of the index.
type setHot struct {
	groups uint8
	root   int32
	keys   [2]ruleKey
	// flat, when nflat >= 0, is where the condition's leaves are in
	// Set.flat: a condition that is one leaf or an all of leaves, the
	// commonest shape, is evaluated from that list (see evalFlat).
	flat, nflat int32
}

// NewSet compiles conds together; groups[i] has bit g set when condition
// i is in group g. The conditions become views of the set's memory: they
// evaluate as before, and must not be used with another Set.
func NewSet(conds []*Condition, groups []uint8) *Set {
	all, pi := pack(conds)
	hot := make([]setHot, len(conds))
	for i, c := range conds {
		hot[i] = setHot{groups: groups[i], root: c.root}
	}
	s := &Set{
		hot: hot, all: all, memoSize: pi.memoSize, customKeys: pi.customKeys, keysUpTo: pi.keysUpTo,
		readsTags: pi.readsTags, unslotted: pi.unslotted,
	}
	s.index = buildIndex(&s.all, hot)
	s.flat = flatten(&s.all, hot)
	return s
}

// Detachable reports whether Detach can serve every Env of the set; it
// cannot when the conditions read more custom keys than it numbers.
func (s *Set) Detachable() bool { return !s.unslotted }

// Env is one context prepared for evaluating a Set's conditions (see
// Set.Prepare). It is a value so that the caller can keep a detached one
// (see Set.Detach), which explains conditions later without the context.
type Env struct {
	env evalEnv
	sc  *scratch // nil once released or detached
	// tagBuf holds a detached copy of short lead tags.
	tagBuf [4]string
}

// scratch is the per-context working memory of a Set, pooled so that
// evaluating allocates nothing.
type scratch struct {
	memo []uint8 // see Condition.evalLeaf
	more []any   // custom values of slots from customSlots on
	keys []int32 // per index column, see ruleIndex.leadValues
}

// Prepare sets env up for evaluating the set's conditions in ctx; env
// must be zero. Call Release when done with it, or Detach to keep it.
func (s *Set) Prepare(env *Env, ctx *engine.Context) {
	env.env.fill(ctx)
	sc, ok := s.scratch.Get().(*scratch)
	if !ok {
		sc = &scratch{
			memo: make([]uint8, s.memoSize),
			more: make([]any, max(0, len(s.customKeys)-customSlots)),
			keys: make([]int32, len(s.index.cols)),
		}
	}
	env.sc = sc
	env.env.memo, env.env.more = sc.memo, sc.more
	s.index.leadValues(&env.env, sc.keys)
}

// Release gives env's working memory back to the set. env must not be
// used afterwards, unless it was detached.
func (s *Set) Release(env *Env) {
	sc := env.sc
	if sc == nil {
		return
	}
	env.sc = nil
	clear(sc.memo)
	clear(sc.more)
	s.scratch.Put(sc)
}

// First returns end, the position after the first condition of group g
// that is true in env, with won set; or the number of conditions and false
// when none is.
// missing gets, each once, the fields whose absence made a condition of
// the group before it unknown. A condition that the index shows false is
// passed over without being evaluated: false is neither a match nor
// unknown.
func (s *Set) First(env *Env, g int, missing []string) (end int, won bool, _ []string) {
	bit := uint8(1) << g
	e := &env.env
	keys := env.sc.keys
	all := &s.all
	for i := range s.hot {
		h := &s.hot[i]
		if h.groups&bit == 0 {
			continue
		}
		if v := keys[h.keys[0].col]; v != 0 && v != h.keys[0].val {
			continue
		}
		if v := keys[h.keys[1].col]; v != 0 && v != h.keys[1].val {
			continue
		}
		var t Truth
		if h.nflat >= 0 {
			t = all.evalFlat(e, s.flat[h.flat:h.flat+h.nflat])
		} else {
			t, _, _ = all.evalNode(e, h.root)
		}
		if t == TruthTrue {
			return i + 1, true, missing
		}
		if t == TruthUnknown {
			missing = all.appendMissing(e, h.root, missing)
		}
	}
	return len(s.hot), false, missing
}

// Detach makes env independent of its context and of the set's working
// memory, keeping what explaining conditions[:end] reads: it looks up
// every custom key they read, which the ones the index passed over may not
// have, and copies what the context shares but the lead's custom values.
// It releases the working memory. The set must be Detachable.
func (s *Set) Detach(env *Env, end int) {
	e := &env.env
	keys := s.customKeys[:s.keysUpTo[end-1]]
	for slot, key := range keys {
		var c *any
		if slot < customSlots {
			c = &e.custom[slot]
		} else {
			c = &e.more[slot-customSlots]
		}
		if *c == nil {
			v, ok := e.lookupCustom(key)
			if !ok {
				v = missingValue{}
			}
			*c = v
		}
	}
	if n := len(keys) - customSlots; n > 0 {
		e.more = append([]any(nil), e.more[:n]...)
	} else {
		e.more = nil
	}
	e.customMap, e.memo = nil, nil
	switch {
	case !s.readsTags:
		e.tags = nil
	case len(e.tags) <= len(env.tagBuf):
		e.tags = env.tagBuf[:copy(env.tagBuf[:], e.tags)]
	default:
		e.tags = append([]string(nil), e.tags...)
	}
	s.Release(env)
}

// Copy returns a copy of a detached env to explain conditions in, so that
// concurrent readers share nothing they write. Every custom value they
// read is cached in it already.
func (env *Env) Copy() Env {
	c := *env
	if len(c.env.more) > 0 {
		c.env.more = append([]any(nil), c.env.more...)
	}
	return c
}

// Values holds the context's built-in fields as interfaces, for
// explanations, so that a field that fails a thousand conditions is boxed
// once. The zero value is ready; use one per Env.
type Values struct{ boxed boxedFields }

// Explanation is condition i's truth in an Env and, when it is not true,
// what decided it: the node at Path, and for a leaf its Field, Op and
// Expected value, the Actual value the context holds (nil when the field
// is missing) and the Cause.
type Explanation struct {
	Truth    Truth
	Decided  bool // a node decided the result; false for a true all
	Path     string
	Field    string
	Op       string
	Expected any
	Actual   any
	Cause    engine.Cause
}

// Explain evaluates condition i in env, in full, and says what decided it.
func (s *Set) Explain(env *Env, i int, vals *Values) Explanation {
	all := &s.all
	e := &env.env
	t, node, w := all.evalNode(e, s.hot[i].root)
	x := Explanation{Truth: t, Cause: w}
	if node < 0 {
		return x
	}
	x.Decided = true
	x.Path = all.paths[node]
	if n := all.nodes[node]; n.kind == nodeLeaf {
		l := &all.leaves[n.leaf]
		x.Field, x.Op, x.Expected = all.info[n.leaf].name, opNames[l.op], all.info[n.leaf].expected
		if w != whyMissing {
			x.Actual = e.actual(l, &vals.boxed)
		}
	}
	return x
}

// pack moves every condition into one set of arrays, in their order, so
// that walking them reads memory front to back, and returns
// a Condition that views them all. It also numbers custom keys across the
// rule set, so that one resolution looks each custom field up once however
// many rules read it, and gives identical leaves one memo slot, so that one
// resolution evaluates each once; it returns the number of memo slots.
//
// Identical leaves also share their values, paths and field names, so that
// a large rule set is few objects for the garbage collector to mark on
// every cycle while it sits in the cache.
func pack(conds []*Condition) (Condition, packInfo) {
	var all Condition
	var pi packInfo
	slots := map[string]int16{}
	type shared struct {
		memo     int32
		leaf     leaf
		expected any
	}
	leaves := map[string]shared{}
	keyAux := map[string]*leafAux{}
	strs := map[string]string{}
	intern := func(s string) string {
		if t, ok := strs[s]; ok {
			return t
		}
		strs[s] = s
		return s
	}
	for _, c := range conds {
		n0, k0, l0 := int32(len(all.nodes)), int32(len(all.kids)), int32(len(all.leaves))
		for j, n := range c.nodes {
			if n.kind == nodeLeaf {
				l, li := c.leaves[n.leaf], c.info[n.leaf]
				key := li.name + "\x00" + opNames[l.op] + "\x00" + jsonText(li.expected)
				sh, ok := leaves[key]
				if !ok {
					if l.field == fCustom {
						slot, known := slots[l.aux.key]
						if !known {
							slot = setSlot(len(slots))
							slots[l.aux.key] = slot
							if slot >= 0 {
								pi.customKeys = append(pi.customKeys, l.aux.key)
							} else {
								pi.unslotted = true
							}
						}
						l.slot = slot
						if l.vt != vtTime && l.vt != vtArray {
							// Only the key is in aux; one per key will do.
							if a, seen := keyAux[l.aux.key]; seen {
								l.aux = a
							} else {
								keyAux[l.aux.key] = l.aux
							}
						}
					}
					sh = shared{memo: int32(len(leaves)), leaf: l, expected: li.expected}
					leaves[key] = sh
				}
				if sh.leaf.field == fLeadTags {
					pi.readsTags = true
				}
				c.leaves[n.leaf] = sh.leaf
				c.info[n.leaf] = leafInfo{name: intern(li.name), expected: sh.expected}
				n.leaf += l0
				n.first = sh.memo
			} else {
				n.first += k0
			}
			all.nodes = append(all.nodes, n)
			all.paths = append(all.paths, intern(c.paths[j]))
		}
		for _, k := range c.kids {
			all.kids = append(all.kids, k+n0)
		}
		all.leaves = append(all.leaves, c.leaves...)
		all.info = append(all.info, c.info...)
		c.root += n0
		pi.keysUpTo = append(pi.keysUpTo, int32(len(pi.customKeys)))
	}
	for _, c := range conds {
		c.nodes, c.kids, c.leaves, c.paths, c.info, c.customKeys = all.nodes, all.kids, all.leaves, all.paths, all.info, nil
	}
	pi.memoSize = len(leaves)
	return all, pi
}

// packInfo is what pack learns about a rule set besides its conditions.
type packInfo struct {
	memoSize   int
	customKeys []string // by slot
	keysUpTo   []int32  // per condition, see Set.keysUpTo
	readsTags  bool
	unslotted  bool // some custom key has no slot
}

// maxSetSlots bounds the custom keys a Set numbers; a slot is an
// int16.
const maxSetSlots = 1 << 14

// setSlot is slotOrNone for a Set, which caches every custom key it can
// number (see evalEnv.more).
func setSlot(i int) int16 {
	if i >= maxSetSlots {
		return -1
	}
	return int16(i)
}

// jsonText is v as JSON, "?" if it has none: how pack tells leaves apart
// by their values.
func jsonText(v any) string {
	out, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(out)
}

package condition

import (
	"encoding/json"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Limits on a condition's shape. Conditions come from an editor and are
// small; the limits exist so that hostile or corrupted input cannot make
// parsing or evaluation expensive.
const (
	MaxDepth = 32
	MaxNodes = 1000
)

// Operators lists the condition operators in the order an editor should
// offer them.
var Operators = []string{"eq", "neq", "in", "nin", "contains", "gt", "gte", "lt", "lte", "exists", "missing", "prefix"}

type opCode uint8

const (
	opEq opCode = iota + 1
	opNeq
	opIn
	opNin
	opContains
	opGt
	opGte
	opLt
	opLte
	opExists
	opMissing
	opPrefix
)

var opNames = [...]string{
	opEq: "eq", opNeq: "neq", opIn: "in", opNin: "nin", opContains: "contains",
	opGt: "gt", opGte: "gte", opLt: "lt", opLte: "lte",
	opExists: "exists", opMissing: "missing", opPrefix: "prefix",
}

func lookupOp(name string) (opCode, bool) {
	for i, n := range opNames {
		if n != "" && n == name {
			return opCode(i), true
		}
	}
	return 0, false
}

// fieldID selects an accessor at evaluation time, so that a leaf never looks
// its field up by name while a lead is being resolved.
type fieldID uint8

const (
	fLeadID fieldID = iota + 1
	fLeadFirstName
	fLeadLastName
	fLeadName
	fLeadEmail
	fLeadPhone
	fLeadLanguage
	fLeadCountry
	fLeadTimezone
	fLeadSource
	fLeadStage
	fLeadTags
	fLeadOwner
	fLeadEmailOptOut
	fLeadWhatsAppOptIn
	fLeadCreatedAt
	fQuoteID
	fQuoteNumber
	fQuoteAmount
	fQuoteCurrency
	fQuoteStatus
	fQuoteValidUntil
	fQuoteRevision
	fQuoteURL
	fQuoteRejectionReason
	fQuoteCreatedAt
	fTenantName
	fTenantTimezone
	fCustom
)

// fieldIDs maps the engine's catalogue (engine.Fields) to accessors; a test keeps the
// two in step.
var fieldIDs = map[string]fieldID{
	"lead.id":                fLeadID,
	"lead.first_name":        fLeadFirstName,
	"lead.last_name":         fLeadLastName,
	"lead.name":              fLeadName,
	"lead.email":             fLeadEmail,
	"lead.phone":             fLeadPhone,
	"lead.language":          fLeadLanguage,
	"lead.country":           fLeadCountry,
	"lead.timezone":          fLeadTimezone,
	"lead.source":            fLeadSource,
	"lead.stage":             fLeadStage,
	"lead.tags":              fLeadTags,
	"lead.owner":             fLeadOwner,
	"lead.email_opt_out":     fLeadEmailOptOut,
	"lead.whatsapp_opt_in":   fLeadWhatsAppOptIn,
	"lead.created_at":        fLeadCreatedAt,
	"quote.id":               fQuoteID,
	"quote.number":           fQuoteNumber,
	"quote.amount":           fQuoteAmount,
	"quote.currency":         fQuoteCurrency,
	"quote.status":           fQuoteStatus,
	"quote.valid_until":      fQuoteValidUntil,
	"quote.revision":         fQuoteRevision,
	"quote.url":              fQuoteURL,
	"quote.rejection_reason": fQuoteRejectionReason,
	"quote.created_at":       fQuoteCreatedAt,
	"tenant.name":            fTenantName,
	"tenant.timezone":        fTenantTimezone,
}

type nodeKind uint8

const (
	nodeAll nodeKind = iota + 1
	nodeAny
	nodeLeaf
)

// node is one vertex of a compiled condition. Children of all/any live in
// Condition.kids[first:first+count], so the tree is a few flat slices and
// evaluating it chases no pointers of its own.
type node struct {
	kind nodeKind
	leaf int32 // index into Condition.leaves for a leaf
	// first is the index of the first child in kids for all and any; for
	// a leaf, its result slot in a Set's memo (see evalLeaf), or -1.
	first int32
	count int32
}

// valueType is the JSON type of a leaf's value; for custom fields it
// decides how the value compares with whatever the lead holds.
type valueType uint8

const (
	vtNone valueType = iota
	vtString
	vtNumber
	vtBool
	vtTime
	vtArray
)

// smallSet is the size up to which a linear scan beats hashing.
const smallSet = 8

// leaf is a compiled comparison: its field resolved to an accessor and its
// value converted once to the form evaluation compares with. It holds only
// what most comparisons read, in 40 bytes, so that a Set's leaves stay
// dense in cache; the rest is behind aux, and what explanations need is in
// leafInfo.
type leaf struct {
	field fieldID
	kind  engine.FieldKind
	op    opCode
	vt    valueType
	b     bool
	slot  int16 // custom-field cache slot, see evalEnv.customValue; -1 for none
	f     float64
	s     string
	aux   *leafAux // custom fields, timestamps, in and nin
}

// leafAux is the part of a leaf that only some comparisons read.
type leafAux struct {
	key   string // custom key for fCustom
	t     time.Time
	strs  []string
	strM  map[string]struct{} // strs again, when there are many
	nums  []float64
	bools []bool
	times []time.Time
}

// leafInfo is what explanations need of a leaf.
type leafInfo struct {
	name string // field path as written
	// expected is the value as the rule gives it (numbers as float64,
	// arrays as []any), boxed once here so that traces can carry it
	// without allocating.
	expected any
}

// Condition is a parsed, validated and compiled condition tree. It is
// immutable and safe for concurrent use.
//
// Semantics, which the editor and the API documentation repeat:
//   - Evaluation is three-valued. A leaf on a field the context lacks (an
//     empty string, a zero time, no quote for quote.* fields, an absent or
//     null custom key) is unknown, except exists (false) and missing (true).
//     all is false if a child is false, else unknown if a child is unknown;
//     any is true if a child is true, else unknown if a child is unknown.
//     {"all": []} is true and {"any": []} false.
//   - Strings compare byte for byte: eq, in, contains and prefix are
//     case-sensitive ("Web" is not "web").
//   - Numbers compare as float64; timestamps as instants, whatever their
//     offsets; booleans and lists are always present.
//   - lead.tags: contains is "has this tag", in is "has any of these", nin
//     is "has none of these"; eq and neq are not allowed.
//   - lead.name is what templates show: the first and last name with a
//     space between them, trimmed.
//   - Custom fields (lead.custom.<key>) compare by the JSON type the lead
//     holds. eq, neq and contains compare only within one type; gt, gte, lt
//     and lte compare numbers with a number and RFC 3339 strings with a
//     timestamp; a list holding the rule's value satisfies contains, and
//     shares a value with in's list for in. A type that cannot be compared
//     (gt 5 on "tile", anything but exists and missing on an object)
//     makes the leaf false, and the result says so. in and nin on a scalar
//     or a list ask membership, so a value of another type is simply not a
//     member ("5" is not in [5]).
type Condition struct {
	// The arrays may be shared with other conditions of a Set (see
	// pack); root is this condition's node in them.
	nodes  []node
	kids   []int32
	leaves []leaf
	paths  []string   // per node: its JSON path from the root, "" for the root
	info   []leafInfo // per leaf
	root   int32
	// customKeys are the distinct custom keys the leaves read; a leaf's
	// slot indexes it.
	customKeys []string
}

// MarshalJSON writes the condition in its canonical form: the keys all,
// any, field, op and value only, numbers as JSON writes a float64. Parsing
// the output gives an equivalent condition.
func (c *Condition) MarshalJSON() ([]byte, error) {
	if c == nil || len(c.nodes) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(c.tree(c.root))
}

type leafJSON struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"`
}

func (c *Condition) tree(i int32) any {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		return leafJSON{Field: c.info[n.leaf].name, Op: opNames[c.leaves[n.leaf].op], Value: c.info[n.leaf].expected}
	}
	kids := make([]any, 0, n.count)
	for _, k := range c.children(n) {
		kids = append(kids, c.tree(k))
	}
	if n.kind == nodeAll {
		return map[string]any{"all": kids}
	}
	return map[string]any{"any": kids}
}

// Fields returns the distinct field paths the condition reads, in the order
// they first appear.
func (c *Condition) Fields() []string {
	if c == nil || len(c.nodes) == 0 {
		return []string{}
	}
	return c.appendFields(c.root, []string{})
}

func (c *Condition) appendFields(i int32, dst []string) []string {
	n := &c.nodes[i]
	if n.kind == nodeLeaf {
		return appendUnique(dst, c.info[n.leaf].name)
	}
	for _, k := range c.children(n) {
		dst = c.appendFields(k, dst)
	}
	return dst
}

// AlwaysTrue reports whether the condition matches every lead whatever its
// fields, as a catch-all {"all": []} does. It is a syntactic check: a
// condition that is true for every lead only by coincidence of its values
// is not detected.
func (c *Condition) AlwaysTrue() bool {
	if c == nil || len(c.nodes) == 0 {
		return true
	}
	return c.alwaysTrue(c.root)
}

// children returns the child indexes of an all or any node; none for a
// leaf, whose first field means something else.
func (c *Condition) children(n *node) []int32 {
	if n.kind == nodeLeaf {
		return nil
	}
	return c.kids[n.first : n.first+n.count]
}

func (c *Condition) alwaysTrue(i int32) bool {
	n := &c.nodes[i]
	kids := c.children(n)
	switch n.kind {
	case nodeAll:
		for _, k := range kids {
			if !c.alwaysTrue(k) {
				return false
			}
		}
		return true
	case nodeAny:
		for _, k := range kids {
			if c.alwaysTrue(k) {
				return true
			}
		}
	}
	return false
}

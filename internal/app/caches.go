package app

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// CacheSizes bounds the App's in-memory caches; a bound of 0 or less takes
// its default. Every cache is per tenant or finer, so a bound is what keeps
// memory flat however many tenants are active: past it the least recently
// used entry goes, and costs a store read (and, for a rule set, a
// compilation) when it is needed again. The operator's settings are serve's
// --cache-* flags (docs/ops/memory.md).
type CacheSizes struct {
	// Keys are API keys verified in the last keyTTL, a few hundred bytes
	// each. Default 10,000.
	Keys int
	// RuleSets are tenants' compiled rules and workflows, about 1 KB for
	// one catch-all rule and 28 KB for 20 five-leaf rules over three
	// workflows. Default 10,000 tenants.
	RuleSets int
	// RuleSetBytes bounds the rule sets' estimated size (ruleSetWeight):
	// one tenant's thousand rules weigh as much as 500 small tenants, so an
	// entry count alone does not bound memory. Default 64 MiB.
	RuleSetBytes int64
	// Versions are the workflow versions that runs pinned, a few
	// kilobytes each. Default 4,096.
	Versions int
	// VersionBytes bounds the versions' estimated size (versionWeight): a
	// step's templates may be tens of kilobytes. Default 16 MiB.
	VersionBytes int64
	// Templates are tenants' WhatsApp template lists, synced from Meta.
	// Default 1,000.
	Templates int
	// Tenants are tenant rows the store keeps for quote actions and
	// steps, each checked against the database's on every read
	// (store.OpenOptions.TenantCache), a few KB each. Default
	// store.DefaultTenantCache. The App does not hold them; whoever opens
	// the store passes the bound on.
	Tenants int
}

// Default cache sizes; see CacheSizes.
const (
	defaultKeyCacheSize      = 10_000
	defaultRuleSetCacheSize  = 10_000
	defaultRuleSetCacheBytes = 64 << 20
	defaultVersionCacheSize  = 4_096
	defaultVersionCacheBytes = 16 << 20
	defaultTemplateCacheSize = 1_000
)

// DefaultCacheSizes are the bounds an App takes when Config.Caches leaves
// them at zero.
func DefaultCacheSizes() CacheSizes { return CacheSizes{}.withDefaults() }

func (s CacheSizes) withDefaults() CacheSizes {
	or := func(n, def int) int {
		if n <= 0 {
			return def
		}
		return n
	}
	or64 := func(n, def int64) int64 {
		if n <= 0 {
			return def
		}
		return n
	}
	return CacheSizes{
		Keys:         or(s.Keys, defaultKeyCacheSize),
		RuleSets:     or(s.RuleSets, defaultRuleSetCacheSize),
		RuleSetBytes: or64(s.RuleSetBytes, defaultRuleSetCacheBytes),
		Versions:     or(s.Versions, defaultVersionCacheSize),
		VersionBytes: or64(s.VersionBytes, defaultVersionCacheBytes),
		Templates:    or(s.Templates, defaultTemplateCacheSize),
		Tenants:      or(s.Tenants, store.DefaultTenantCache),
	}
}

// newLRU returns an LRU cache of size entries; size must be positive, which
// withDefaults makes it.
func newLRU[K comparable, V any](size int) *lru.Cache[K, V] {
	c, err := lru.New[K, V](size)
	if err != nil {
		panic(err) // only a size of 0 or less fails
	}
	return c
}

// weighedLRU is an LRU bounded by its number of entries and by the sum of
// their weights (estimated bytes), the least recently used going first
// when either is exceeded. Lookups take no lock of its own; additions are
// serialised so that the sum and the evictions it calls for agree.
type weighedLRU[K comparable, V any] struct {
	lru *lru.Cache[K, weighed[V]]
	mu  sync.Mutex
	// bytes is the sum of the entries' weights, changed under mu (the
	// eviction callback runs inside an addition, which holds it).
	bytes    int64
	maxBytes int64 // 0: no weight bound
}

type weighed[V any] struct {
	v V
	w int64
}

func newWeighedLRU[K comparable, V any](entries int, maxBytes int64) *weighedLRU[K, V] {
	c := &weighedLRU[K, V]{maxBytes: maxBytes}
	l, err := lru.NewWithEvict(entries, func(_ K, e weighed[V]) { c.bytes -= e.w })
	if err != nil {
		panic(err) // only a size of 0 or less fails
	}
	c.lru = l
	return c
}

// Get returns k's value and marks it recently used.
func (c *weighedLRU[K, V]) Get(k K) (V, bool) {
	e, ok := c.lru.Get(k)
	return e.v, ok
}

// Peek returns k's value without marking it used.
func (c *weighedLRU[K, V]) Peek(k K) (V, bool) {
	e, ok := c.lru.Peek(k)
	return e.v, ok
}

// Add caches v under k with weight w, evicting the least recently used
// entries until both bounds hold. A value heavier than the whole weight
// bound is not cached (and replaces nothing): it would push out every
// other entry and then itself.
func (c *weighedLRU[K, V]) Add(k K, v V, w int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maxBytes > 0 && w > c.maxBytes {
		c.lru.Remove(k)
		return
	}
	// Replacing an entry evicts nothing, so its weight is taken off here.
	if old, ok := c.lru.Peek(k); ok {
		c.bytes -= old.w
	}
	c.lru.Add(k, weighed[V]{v: v, w: w})
	c.bytes += w
	for c.maxBytes > 0 && c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Len is the number of entries.
func (c *weighedLRU[K, V]) Len() int { return c.lru.Len() }

// Bytes is the sum of the entries' weights.
func (c *weighedLRU[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// ruleSetWeight estimates what a compiled rule set and its legacy settings
// hold on the heap, from what it was compiled from: a fixed part, then per
// rule its record, its compiled condition (about twice the condition's
// JSON, which the rule also keeps) and its name, and per workflow its
// record. Calibrated on live heap measured after a collection: one
// catch-all rule 0.8 KB (weighed 2.6 KB), 20 five-leaf rules over three
// workflows 27.8 KB (27.6 KB), 1,000 such rules 1.19 MB (1.28 MB).
func ruleSetWeight(in ruleSetInputs) int64 {
	w := int64(1536)
	for _, r := range in.rules {
		w += 384 + 3*int64(len(r.Condition)) + int64(len(r.Name)+len(r.ID))
	}
	for _, wf := range in.workflows {
		w += 160 + int64(len(wf.Name)+len(wf.ID))
	}
	return w
}

// ruleSetInputs is what ruleSetWeight reads.
type ruleSetInputs struct {
	rules     []engine.Rule
	workflows []engine.Workflow
}

// versionWeight estimates a workflow version's heap: its record and each
// step's record and texts.
func versionWeight(wf *engine.Workflow) int64 {
	w := int64(512 + len(wf.Name) + len(wf.ID) + len(wf.TenantID))
	for _, s := range wf.Steps {
		w += 256 + int64(len(s.ID)+len(s.When))
		if e := s.Email; e != nil {
			w += int64(len(e.Subject) + len(e.Text))
			if e.HTML != nil {
				w += int64(len(*e.HTML))
			}
		}
		if wa := s.WhatsApp; wa != nil {
			w += int64(len(wa.Template) + len(wa.Language) + len(wa.Text))
			for _, p := range wa.Parameters {
				w += 16 + int64(len(p))
			}
		}
	}
	return w
}

// CacheUse is how many entries a cache holds and the most it may hold;
// Bytes and MaxBytes are the same for the estimated weight, where the
// cache has a weight bound.
type CacheUse struct {
	Len      int   `json:"len"`
	Max      int   `json:"max"`
	Bytes    int64 `json:"bytes,omitempty"`
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// CacheStats is what the App's caches hold now, for the bench and for
// tests that check a bound: memory per tenant is flat only while these stay
// at or below their bounds.
type CacheStats struct {
	Keys      CacheUse `json:"keys"`
	RuleSets  CacheUse `json:"rule_sets"`
	Versions  CacheUse `json:"versions"`
	Templates CacheUse `json:"whatsapp_templates"`
	// Tenants is the store's cache of tenant rows, when the App's store
	// has one.
	Tenants CacheUse `json:"tenants"`
}

// CacheStats returns the occupancy of the App's caches.
func (a *App) CacheStats() CacheStats {
	st := CacheStats{
		Keys:      CacheUse{Len: a.keys.entries.Len(), Max: a.keys.max},
		RuleSets:  CacheUse{Len: a.ruleSets.Len(), Max: a.sizes.RuleSets, Bytes: a.ruleSets.Bytes(), MaxBytes: a.sizes.RuleSetBytes},
		Versions:  CacheUse{Len: a.versions.Len(), Max: a.sizes.Versions, Bytes: a.versions.Bytes(), MaxBytes: a.sizes.VersionBytes},
		Templates: CacheUse{Len: a.templates.Len(), Max: a.sizes.Templates},
	}
	if s, ok := a.db.(interface{ TenantCacheUse() (n, max int) }); ok {
		st.Tenants.Len, st.Tenants.Max = s.TenantCacheUse()
	}
	return st
}

package app

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// CacheSizes bounds the App's in-memory caches, in entries; a size of 0 or
// less takes its default. Every cache is per tenant or finer, so a bound is
// what keeps memory flat however many tenants are active: past it the
// least recently used entry goes, and costs a store read (and, for a rule
// set, a compilation) when it is needed again.
type CacheSizes struct {
	// Keys are API keys verified in the last keyTTL, a few hundred bytes
	// each. Default 10,000.
	Keys int
	// RuleSets are tenants' compiled rules and workflows, about 2 KB for
	// one rule and one step and 17 KB for 20 rules over three workflows of
	// five steps. Default 10,000.
	RuleSets int
	// Versions are the workflow versions that runs pinned, a few
	// kilobytes each. Default 4,096.
	Versions int
	// Templates are tenants' WhatsApp template lists, synced from Meta.
	// Default 1,000.
	Templates int
}

// Default cache sizes; see CacheSizes.
const (
	defaultKeyCacheSize      = 10_000
	defaultRuleSetCacheSize  = 10_000
	defaultVersionCacheSize  = 4_096
	defaultTemplateCacheSize = 1_000
)

func (s CacheSizes) withDefaults() CacheSizes {
	or := func(n, def int) int {
		if n <= 0 {
			return def
		}
		return n
	}
	return CacheSizes{
		Keys:      or(s.Keys, defaultKeyCacheSize),
		RuleSets:  or(s.RuleSets, defaultRuleSetCacheSize),
		Versions:  or(s.Versions, defaultVersionCacheSize),
		Templates: or(s.Templates, defaultTemplateCacheSize),
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

// CacheUse is how many entries a cache holds and the most it may hold.
type CacheUse struct {
	Len int `json:"len"`
	Max int `json:"max"`
}

// CacheStats is what the App's caches hold now, for the bench and for
// tests that check a bound: memory per tenant is flat only while these stay
// at or below their Max.
type CacheStats struct {
	Keys      CacheUse `json:"keys"`
	RuleSets  CacheUse `json:"rule_sets"`
	Versions  CacheUse `json:"versions"`
	Templates CacheUse `json:"whatsapp_templates"`
}

// CacheStats returns the occupancy of the App's caches.
func (a *App) CacheStats() CacheStats {
	return CacheStats{
		Keys:      CacheUse{Len: a.keys.entries.Len(), Max: a.keys.max},
		RuleSets:  CacheUse{Len: a.ruleSets.Len(), Max: a.sizes.RuleSets},
		Versions:  CacheUse{Len: a.versions.Len(), Max: a.sizes.Versions},
		Templates: CacheUse{Len: a.templates.Len(), Max: a.sizes.Templates},
	}
}

package engine

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// MaxTimeZones bounds a TimeZones cache. The IANA database has some 600
// names, but a name can be spelled in more than one way that loads
// ("Europe/./Lisbon"), so the cache is bounded rather than let tenant data
// grow it.
const MaxTimeZones = 1024

// TimeZones caches IANA time zones by name: time.LoadLocation reads and
// parses the zone's file on every call, and every message rendered and
// every send scheduled needs the lead's zone. Names that do not load are
// not cached. It is safe for concurrent use; the caller makes one with
// NewTimeZones and passes it to whatever needs zones. A nil *TimeZones
// loads every zone each time.
type TimeZones struct {
	cache *lru.Cache[string, *time.Location]
}

// NewTimeZones returns an empty cache of at most MaxTimeZones zones.
func NewTimeZones() *TimeZones {
	c, err := lru.New[string, *time.Location](MaxTimeZones)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &TimeZones{cache: c}
}

// Load returns the zone named name, or nil when name is empty or names
// no zone.
func (z *TimeZones) Load(name string) *time.Location {
	if name == "" {
		return nil
	}
	if z != nil {
		if l, ok := z.cache.Get(name); ok {
			return l
		}
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	if z != nil {
		z.cache.Add(name, l)
	}
	return l
}

// Of returns the location in which a lead's quiet hours, holidays and
// template dates are read: the lead's IANA timezone when set and valid, else
// the tenant's, else UTC. "Local" is never valid: the machine's own timezone
// must not leak into a tenant's schedule.
func (z *TimeZones) Of(lead *Lead, tenant *Tenant) *time.Location {
	if lead != nil {
		if l := z.iana(lead.Timezone); l != nil {
			return l
		}
	}
	if tenant != nil {
		if l := z.iana(tenant.Timezone); l != nil {
			return l
		}
	}
	return time.UTC
}

func (z *TimeZones) iana(name string) *time.Location {
	if name == "Local" {
		return nil
	}
	return z.Load(name)
}

package engine

import "time"

// The instants a client may give (a quote's valid_until, an override's
// expires_at, a holiday, a query window), in UTC. Both databases store
// microseconds since 1970 in a 64-bit integer and would hold far more, but
// the API's answers are RFC 3339, whose four-digit years end at 9999: an
// instant that is year 10000 in UTC (9999-12-31T23:00:00-05:00) was stored
// and then made every read of it fail. Before 1970 nothing the service
// schedules can happen, and the zero instant (year 1) reads as "none".
var (
	MinInstant = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxInstant = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// InstantRangeMessage is the problem message of an instant out of range.
const InstantRangeMessage = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"

// InstantInRange reports whether t is within [MinInstant, MaxInstant].
func InstantInRange(t time.Time) bool {
	return !t.Before(MinInstant) && !t.After(MaxInstant)
}

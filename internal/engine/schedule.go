package engine

import (
	"time"
)

// Sending windows: quiet hours and holidays.
//
// A tenant's quiet hours are a daily window of local wall-clock time in
// which nothing is sent; its holidays are local dates on which nothing is
// sent at all. Both are read in one location, the lead's timezone when it is
// known and valid, else the tenant's, else UTC (Location).
//
// The model is a set of blocked intervals of real time, not a test on the
// wall clock, so that daylight-saving transitions have one answer:
//
//   - Every local time of day H:M on a date D is turned into an instant as
//     "the first instant at which the local clock reads D H:M or later".
//     For a time that exists once, that is the obvious instant. For a time
//     skipped by a spring-forward gap (01:30 in Lisbon on the last Sunday of
//     March) it is the instant of the transition, when the clock jumps past
//     it (02:00 WEST). For a time repeated by a fall-back overlap (01:30 in
//     Lisbon on the last Sunday of October) it is its first occurrence
//     (01:30 WEST, 00:30 UTC).
//   - Quiet hours on local date D are [D Start, D End) when Start < End, and
//     [D Start, D+1 End) when Start > End (the window crosses midnight).
//     So a window closes the first time the clock reads End and does not
//     reopen when a fall-back repeats the hour before End; a window that
//     contains the repeated hour lasts one real hour longer, and one that
//     contains the skipped hour one hour shorter.
//   - A holiday D is [D 00:00, D+1 00:00) under the same rule, which also
//     covers zones whose midnight is skipped (America/Santiago in September)
//     or repeated (America/Havana in November).
//
// Sending is allowed at an instant that lies in no blocked interval.
// Windows are half-open: a send at exactly Start is deferred, one at
// exactly End goes.

// MaxDeferral bounds how far NextAllowed looks for an allowed instant. It
// matches MaxWaitDuration and the default timeline retention, so that a
// tenant who lists every day as a holiday cannot make the search loop or
// park a message beyond the history that explains it.
const MaxDeferral = 400 * 24 * time.Hour

// Reasons BlockedBy gives, stable codes for a step or message deferred by
// the tenant's sending windows.
const (
	BlockedQuietHours = "quiet_hours"
	BlockedHoliday    = "holiday"
)

// NextAllowed returns t itself when sending is allowed at t, else the first
// allowed instant after it, in t's location. loc nil is UTC. Quiet hours
// that are nil, malformed (not "HH:MM", 00:00 to 23:59) or empty (Start ==
// End) are ignored, as are holidays that are not YYYY-MM-DD dates; the API
// refuses both when they are saved.
//
// When no instant within MaxDeferral of t is allowed (a tenant who lists
// more than 400 consecutive days as holidays), NextAllowed returns
// t + MaxDeferral. Callers that must tell that case apart use
// FindNextAllowed.
func NextAllowed(t time.Time, loc *time.Location, quiet *QuietHours, holidays []string) time.Time {
	u, _ := FindNextAllowed(t, loc, quiet, holidays)
	return u
}

// FindNextAllowed is NextAllowed with ok false when no instant within
// MaxDeferral of t is allowed; the time returned is then t + MaxDeferral.
func FindNextAllowed(t time.Time, loc *time.Location, quiet *QuietHours, holidays []string) (time.Time, bool) {
	s := newSchedule(loc, quiet, holidays)
	if s.open() {
		return t, true
	}
	limit := t.Add(MaxDeferral)
	u := t
	for !u.After(limit) {
		end, _, blocked := s.blockedUntil(u)
		if !blocked {
			if u.Equal(t) {
				return t, true
			}
			return u.In(t.Location()), true
		}
		u = end // always after u: a blocked interval ends after what it contains
	}
	return limit, false
}

// BlockedBy reports why sending is not allowed at t: BlockedHoliday,
// BlockedQuietHours, or "" when it is allowed. A holiday wins when both
// apply.
func BlockedBy(t time.Time, loc *time.Location, quiet *QuietHours, holidays []string) string {
	s := newSchedule(loc, quiet, holidays)
	if s.open() {
		return ""
	}
	_, why, _ := s.blockedUntil(t)
	return why
}

// civil is a local calendar date.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

func (c civil) addDays(n int) civil {
	return civilOf(time.Date(c.y, c.m, c.d+n, 0, 0, 0, 0, time.UTC))
}

// schedule is the parsed form of a tenant's sending windows.
type schedule struct {
	loc        *time.Location
	quiet      bool
	start, end int // minutes after local midnight
	holidays   map[civil]struct{}
}

func newSchedule(loc *time.Location, q *QuietHours, holidays []string) schedule {
	if loc == nil {
		loc = time.UTC
	}
	s := schedule{loc: loc}
	if q != nil {
		start, ok1 := parseClock(q.Start)
		end, ok2 := parseClock(q.End)
		if ok1 && ok2 && start != end {
			s.quiet, s.start, s.end = true, start, end
		}
	}
	for _, h := range holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			continue
		}
		if s.holidays == nil {
			s.holidays = make(map[civil]struct{}, len(holidays))
		}
		s.holidays[civilOf(d)] = struct{}{}
	}
	return s
}

// open reports whether the schedule blocks nothing.
func (s *schedule) open() bool { return !s.quiet && len(s.holidays) == 0 }

// parseClock reads "HH:MM", 00:00 to 23:59, as minutes after midnight.
func parseClock(v string) (int, bool) {
	if len(v) != 5 || v[2] != ':' {
		return 0, false
	}
	h, ok1 := digits2(v[0:2])
	m, ok2 := digits2(v[3:5])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

func digits2(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// blockedUntil reports whether u lies in a blocked interval and, if so, the
// latest end among the intervals that contain it, and why (a holiday wins).
// Only the intervals of the local dates around u can contain it.
func (s *schedule) blockedUntil(u time.Time) (end time.Time, why string, blocked bool) {
	d := civilOf(u.In(s.loc))
	for k := -1; k <= 1; k++ {
		day := d.addDays(k)
		if _, ok := s.holidays[day]; ok {
			from, to := s.at(day, 0), s.at(day.addDays(1), 0)
			if !u.Before(from) && u.Before(to) {
				if !blocked || to.After(end) {
					end = to
				}
				why, blocked = BlockedHoliday, true
			}
		}
		if s.quiet {
			from := s.at(day, s.start)
			to := s.at(day, s.end)
			if s.start > s.end {
				to = s.at(day.addDays(1), s.end)
			}
			if !u.Before(from) && u.Before(to) {
				if !blocked || to.After(end) {
					end = to
				}
				if why == "" {
					why = BlockedQuietHours
				}
				blocked = true
			}
		}
	}
	return end, why, blocked
}

// at returns the first instant at which the local clock reads day at
// minutes after midnight, or later (see the comment at the top of this
// file for gaps and overlaps).
func (s *schedule) at(day civil, minutes int) time.Time {
	return firstInstantAtOrAfter(s.loc, time.Date(day.y, day.m, day.d, 0, minutes, 0, 0, time.UTC))
}

// firstInstantAtOrAfter returns the first instant whose wall clock in loc,
// written as a UTC time, is at or after wall. It walks the zone periods of
// loc from well before wall (no offset exceeds 14 hours) in time order: in
// a period of offset o the wall clock of instant x is x+o, so the first
// instant there at or after wall is max(period start, wall-o), if that is
// still inside the period. The first period that has one holds the answer.
func firstInstantAtOrAfter(loc *time.Location, wall time.Time) time.Time {
	u := wall.Add(-15 * time.Hour)
	for range 16 {
		lt := u.In(loc)
		_, off := lt.Zone()
		_, next := lt.ZoneBounds()
		cand := wall.Add(-time.Duration(off) * time.Second)
		if cand.Before(u) {
			cand = u
		}
		if next.IsZero() || cand.Before(next) {
			return cand
		}
		u = next
	}
	// Unreachable for real zones, which change offset a few times a year;
	// answer with the current offset rather than loop.
	_, off := wall.In(loc).Zone()
	return wall.Add(-time.Duration(off) * time.Second)
}

package engine

import (
	"testing"
	"time"
)

// fuzzZones are zones with the transitions that make sending windows hard:
// none, ordinary DST, a skipped midnight (Santiago), a repeated midnight
// (Havana), a half-hour offset (Kolkata, Lord Howe's half-hour DST) and a
// skipped day (Apia, 2011-12-30).
var fuzzZones = []string{"UTC", "Europe/Lisbon", "America/Santiago", "America/Havana", "Asia/Kolkata",
	"Australia/Lord_Howe", "Pacific/Apia"}

// FuzzSchedule checks quiet hours and holidays as the engine reads them,
// for any strings a tenant could have saved and any instant: the next
// allowed instant is never before t, is t exactly when nothing blocks t,
// is itself allowed, and everything between is blocked; a valid holiday
// blocks every instant of its local date; valid quiet hours block the
// instant their window opens (when that wall time exists) and nothing
// malformed blocks anything.
func FuzzSchedule(f *testing.F) {
	f.Add("21:00", "08:00", "2026-12-25", int64(1766620800), uint8(1))
	f.Add("08:00", "21:00", "2026-03-29", int64(1774749600), uint8(1))
	f.Add("00:00", "23:59", "2026-09-06", int64(1788667200), uint8(2))
	f.Add("23:30", "00:30", "2011-12-30", int64(1325239200), uint8(6))
	f.Add("24:00", "8:00", "2026-02-30", int64(0), uint8(0))
	f.Fuzz(func(t *testing.T, start, end, holiday string, unix int64, zone uint8) {
		loc, err := time.LoadLocation(fuzzZones[int(zone)%len(fuzzZones)])
		if err != nil {
			t.Fatal(err)
		}
		// Keep to the years zone data describes well: 1990 to 2100.
		const lo, span = 631152000, 3487536000
		unix = lo + (unix%span+span)%span
		at := time.Unix(unix, 0).In(loc)
		quiet := &QuietHours{Start: start, End: end}
		holidays := []string{holiday}

		u, found := FindNextAllowed(at, loc, quiet, holidays)
		why := BlockedBy(at, loc, quiet, holidays)
		switch {
		case u.Before(at):
			t.Fatalf("next allowed %v is before %v", u, at)
		case !found:
			if !u.Equal(at.Add(MaxDeferral)) {
				t.Fatalf("nothing allowed, but the answer %v is not t+MaxDeferral", u)
			}
		case (why == "") != u.Equal(at):
			t.Fatalf("BlockedBy(%v) = %q but the next allowed instant is %v", at, why, u)
		case BlockedBy(u, loc, quiet, holidays) != "":
			t.Fatalf("next allowed %v is blocked by %s", u, BlockedBy(u, loc, quiet, holidays))
		case u.After(at):
			if mid := at.Add(u.Sub(at) / 2); BlockedBy(mid, loc, quiet, holidays) == "" {
				t.Fatalf("%v is allowed, between %v and the next allowed %v", mid, at, u)
			}
		}

		_, qs := parseClock(start)
		_, qe := parseClock(end)
		day, err := time.Parse(time.DateOnly, holiday)
		validHoliday := err == nil
		if validHoliday && at.Format(time.DateOnly) == day.Format(time.DateOnly) && why != BlockedHoliday {
			t.Fatalf("%v is on the holiday %s but BlockedBy says %q", at, holiday, why)
		}
		if !validHoliday && (!qs || !qe || start == end) && why != "" {
			t.Fatalf("nothing valid is configured (%q-%q, %q) but %v is blocked by %s", start, end, holiday, at, why)
		}
		if qs && qe && start != end && !validHoliday {
			// The window opens at start on at's local date; if that wall
			// time exists it is a quiet instant.
			h, m := int(start[0]-'0')*10+int(start[1]-'0'), int(start[3]-'0')*10+int(start[4]-'0')
			y, mo, d := at.Date()
			open := time.Date(y, mo, d, h, m, 0, 0, loc)
			if open.Hour() == h && open.Minute() == m && BlockedBy(open, loc, quiet, nil) != BlockedQuietHours {
				t.Fatalf("quiet hours %s-%s in %s do not block %v", start, end, loc, open)
			}
		}
	})
}

package engine

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the machine's zoneinfo
)

func schedLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func schedUTC(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestLocation(t *testing.T) {
	tests := []struct {
		name   string
		lead   *Lead
		tenant *Tenant
		want   string
	}{
		{"lead wins", &Lead{Timezone: "Asia/Tokyo"}, &Tenant{Timezone: "Europe/Lisbon"}, "Asia/Tokyo"},
		{"lead empty", &Lead{}, &Tenant{Timezone: "Europe/Lisbon"}, "Europe/Lisbon"},
		{"lead invalid", &Lead{Timezone: "Mars/Olympus"}, &Tenant{Timezone: "Europe/Lisbon"}, "Europe/Lisbon"},
		{"lead Local is not a zone", &Lead{Timezone: "Local"}, &Tenant{Timezone: "Europe/Lisbon"}, "Europe/Lisbon"},
		{"no lead", nil, &Tenant{Timezone: "America/Santiago"}, "America/Santiago"},
		{"tenant invalid", &Lead{}, &Tenant{Timezone: "nowhere"}, "UTC"},
		{"tenant Local", nil, &Tenant{Timezone: "Local"}, "UTC"},
		{"nothing", nil, nil, "UTC"},
		{"explicit UTC", &Lead{Timezone: "UTC"}, &Tenant{Timezone: "Europe/Lisbon"}, "UTC"},
	}
	// Twice through a cache, so that a cached zone answers the same, and
	// once without one.
	zones := NewTimeZones()
	for _, z := range []*TimeZones{zones, zones, nil} {
		for _, tc := range tests {
			if got := z.Of(tc.lead, tc.tenant).String(); got != tc.want {
				t.Errorf("%s: Location = %s, want %s", tc.name, got, tc.want)
			}
		}
	}
}

func TestNextAllowed(t *testing.T) {
	lis := schedLoc(t, "Europe/Lisbon")
	tokyo := schedLoc(t, "Asia/Tokyo")
	ny := schedLoc(t, "America/New_York")
	scl := schedLoc(t, "America/Santiago")
	hav := schedLoc(t, "America/Havana")
	night := &QuietHours{Start: "21:00", End: "08:00"}
	lunch := &QuietHours{Start: "13:00", End: "14:00"}
	xmas := []string{"2026-12-25"}

	tests := []struct {
		name     string
		t        time.Time
		loc      *time.Location
		quiet    *QuietHours
		holidays []string
		want     time.Time
	}{
		// No rules.
		{"nothing configured", schedUTC(2026, 6, 10, 23, 0), lis, nil, nil, schedUTC(2026, 6, 10, 23, 0)},
		{"nil location is UTC", schedUTC(2026, 6, 10, 22, 0), nil, night, nil, schedUTC(2026, 6, 11, 8, 0)},

		// Quiet hours crossing midnight (Lisbon summer is UTC+1).
		{"outside quiet hours", time.Date(2026, 6, 10, 12, 0, 0, 0, lis), lis, night, nil, time.Date(2026, 6, 10, 12, 0, 0, 0, lis)},
		{"just before start", time.Date(2026, 6, 10, 20, 59, 59, 0, lis), lis, night, nil, time.Date(2026, 6, 10, 20, 59, 59, 0, lis)},
		{"at start is quiet", time.Date(2026, 6, 10, 21, 0, 0, 0, lis), lis, night, nil, time.Date(2026, 6, 11, 8, 0, 0, 0, lis)},
		{"evening", time.Date(2026, 6, 10, 23, 30, 0, 0, lis), lis, night, nil, time.Date(2026, 6, 11, 8, 0, 0, 0, lis)},
		{"after midnight", time.Date(2026, 6, 11, 3, 0, 0, 0, lis), lis, night, nil, time.Date(2026, 6, 11, 8, 0, 0, 0, lis)},
		{"at end is allowed", time.Date(2026, 6, 11, 8, 0, 0, 0, lis), lis, night, nil, time.Date(2026, 6, 11, 8, 0, 0, 0, lis)},
		{"read in loc, not in t's zone", schedUTC(2026, 6, 10, 20, 30), lis, night, nil, schedUTC(2026, 6, 11, 7, 0)},

		// Quiet hours within a day.
		{"lunch inside", time.Date(2026, 6, 10, 13, 30, 0, 0, lis), lis, lunch, nil, time.Date(2026, 6, 10, 14, 0, 0, 0, lis)},
		{"lunch before", time.Date(2026, 6, 10, 12, 59, 0, 0, lis), lis, lunch, nil, time.Date(2026, 6, 10, 12, 59, 0, 0, lis)},
		{"lunch at end", time.Date(2026, 6, 10, 14, 0, 0, 0, lis), lis, lunch, nil, time.Date(2026, 6, 10, 14, 0, 0, 0, lis)},
		{"lunch evening", time.Date(2026, 6, 10, 23, 0, 0, 0, lis), lis, lunch, nil, time.Date(2026, 6, 10, 23, 0, 0, 0, lis)},

		// Holidays (Lisbon winter is UTC).
		{"holiday", schedUTC(2026, 12, 25, 10, 0), lis, nil, xmas, schedUTC(2026, 12, 26, 0, 0)},
		{"holiday at its first instant", schedUTC(2026, 12, 25, 0, 0), lis, nil, xmas, schedUTC(2026, 12, 26, 0, 0)},
		{"day before holiday", schedUTC(2026, 12, 24, 23, 59), lis, nil, xmas, schedUTC(2026, 12, 24, 23, 59)},
		{"holiday ends inside quiet hours", schedUTC(2026, 12, 25, 10, 0), lis, night, xmas, schedUTC(2026, 12, 26, 8, 0)},
		{"quiet hours run into a holiday", schedUTC(2026, 12, 24, 22, 0), lis, night, xmas, schedUTC(2026, 12, 26, 8, 0)},
		{"consecutive holidays", schedUTC(2026, 12, 24, 10, 0), lis, night, []string{"2026-12-24", "2026-12-25"}, schedUTC(2026, 12, 26, 8, 0)},
		{"unsorted holidays and junk ignored", schedUTC(2026, 12, 24, 10, 0), lis, nil, []string{"2026-12-25", "soon", "2026-12-24", "2026-13-01"}, schedUTC(2026, 12, 26, 0, 0)},
		{"holiday then lunch", schedUTC(2026, 12, 25, 10, 0), lis, &QuietHours{Start: "00:00", End: "09:00"}, xmas, schedUTC(2026, 12, 26, 9, 0)},
		{"holiday is the lead's local date", schedUTC(2026, 12, 24, 23, 30), tokyo, nil, xmas, schedUTC(2026, 12, 25, 15, 0)},
		{"UTC holiday that is not local", schedUTC(2026, 12, 25, 3, 0), ny, nil, xmas, schedUTC(2026, 12, 25, 3, 0)},

		// Malformed rules are ignored (the API refuses them on save).
		{"start equals end", time.Date(2026, 6, 10, 23, 0, 0, 0, lis), lis, &QuietHours{Start: "08:00", End: "08:00"}, nil, time.Date(2026, 6, 10, 23, 0, 0, 0, lis)},
		{"malformed hour", time.Date(2026, 6, 10, 23, 0, 0, 0, lis), lis, &QuietHours{Start: "25:00", End: "08:00"}, nil, time.Date(2026, 6, 10, 23, 0, 0, 0, lis)},
		{"malformed format", time.Date(2026, 6, 10, 23, 0, 0, 0, lis), lis, &QuietHours{Start: "9pm", End: "8am"}, nil, time.Date(2026, 6, 10, 23, 0, 0, 0, lis)},

		// Lisbon spring forward, 2026-03-29 01:00 UTC: 01:00 WET becomes
		// 02:00 WEST, so 01:00-01:59 does not exist that day.
		{"spring: window across the gap", schedUTC(2026, 3, 28, 22, 0), lis, night, nil, schedUTC(2026, 3, 29, 7, 0)}, // 08:00 WEST
		{"spring: end in the gap is the jump", schedUTC(2026, 3, 28, 23, 0), lis, &QuietHours{Start: "22:00", End: "01:30"}, nil, schedUTC(2026, 3, 29, 1, 0)},
		{"spring: start in the gap, before", schedUTC(2026, 3, 29, 0, 59), lis, &QuietHours{Start: "01:30", End: "06:00"}, nil, schedUTC(2026, 3, 29, 0, 59)},
		{"spring: start in the gap, at the jump", schedUTC(2026, 3, 29, 1, 0), lis, &QuietHours{Start: "01:30", End: "06:00"}, nil, schedUTC(2026, 3, 29, 5, 0)},
		{"spring: window inside the gap is empty", schedUTC(2026, 3, 29, 0, 59), lis, &QuietHours{Start: "01:10", End: "01:40"}, nil, schedUTC(2026, 3, 29, 0, 59)},
		{"spring: window inside the gap, other days", schedUTC(2026, 3, 30, 0, 20), lis, &QuietHours{Start: "01:10", End: "01:40"}, nil, schedUTC(2026, 3, 30, 0, 40)},

		// Lisbon fall back, 2026-10-25 01:00 UTC: 02:00 WEST becomes
		// 01:00 WET, so 01:00-01:59 happens twice. A window edge in the
		// repeated hour is its first occurrence; a window never reopens.
		{"fall: window across the overlap", schedUTC(2026, 10, 24, 20, 0), lis, night, nil, schedUTC(2026, 10, 25, 8, 0)}, // 08:00 WET
		{"fall: end in the overlap is its first occurrence", schedUTC(2026, 10, 24, 22, 0), lis, &QuietHours{Start: "22:00", End: "01:30"}, nil, schedUTC(2026, 10, 25, 0, 30)},
		{"fall: repeated hour does not reopen the window", schedUTC(2026, 10, 25, 1, 15), lis, &QuietHours{Start: "22:00", End: "01:30"}, nil, schedUTC(2026, 10, 25, 1, 15)},
		{"fall: start in the overlap, before", schedUTC(2026, 10, 25, 0, 15), lis, &QuietHours{Start: "01:30", End: "06:00"}, nil, schedUTC(2026, 10, 25, 0, 15)},
		{"fall: start in the overlap, first pass", schedUTC(2026, 10, 25, 0, 30), lis, &QuietHours{Start: "01:30", End: "06:00"}, nil, schedUTC(2026, 10, 25, 6, 0)},
		{"fall: start in the overlap, second pass", schedUTC(2026, 10, 25, 1, 15), lis, &QuietHours{Start: "01:30", End: "06:00"}, nil, schedUTC(2026, 10, 25, 6, 0)},

		// Midnight skipped (America/Santiago, 2026-09-06 00:00 -04 becomes
		// 01:00 -03) and repeated (America/Havana, 2026-11-01 01:00 CDT
		// becomes 00:00 CST).
		{"skipped midnight: day before", schedUTC(2026, 9, 6, 3, 59), scl, nil, []string{"2026-09-06"}, schedUTC(2026, 9, 6, 3, 59)},
		{"skipped midnight: holiday starts at the jump", schedUTC(2026, 9, 6, 4, 0), scl, nil, []string{"2026-09-06"}, schedUTC(2026, 9, 7, 3, 0)},
		{"repeated midnight: holiday ends at the first midnight", schedUTC(2026, 10, 31, 16, 0), hav, nil, []string{"2026-10-31"}, schedUTC(2026, 11, 1, 4, 0)},
		{"repeated midnight: holiday starts at the first midnight", schedUTC(2026, 11, 1, 4, 30), hav, nil, []string{"2026-11-01"}, schedUTC(2026, 11, 2, 5, 0)},
		{"repeated midnight: the day before", schedUTC(2026, 11, 1, 3, 59), hav, nil, []string{"2026-11-01"}, schedUTC(2026, 11, 1, 3, 59)},
	}
	for _, tc := range tests {
		got := NextAllowed(tc.t, tc.loc, tc.quiet, tc.holidays)
		if !got.Equal(tc.want) {
			t.Errorf("%s: NextAllowed(%v) = %v, want %v", tc.name, tc.t, got.UTC(), tc.want.UTC())
		}
		if got.Location() != tc.t.Location() {
			t.Errorf("%s: result in %v, want t's location %v", tc.name, got.Location(), tc.t.Location())
		}
	}
}

func TestNextAllowedReturnsTItself(t *testing.T) {
	now := time.Now() // carries a monotonic reading
	if got := NextAllowed(now, nil, nil, nil); got != now {
		t.Errorf("NextAllowed changed an allowed t: %v != %v", got, now)
	}
}

func TestNextAllowedBound(t *testing.T) {
	lis := schedLoc(t, "Europe/Lisbon")
	start := schedUTC(2026, 1, 1, 12, 0)
	days := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = start.AddDate(0, 0, i).Format(time.DateOnly)
		}
		return out
	}

	// 399 days of holidays: the day after is the answer.
	got, ok := FindNextAllowed(start, lis, &QuietHours{Start: "21:00", End: "08:00"}, days(399))
	if want := time.Date(2027, 2, 4, 8, 0, 0, 0, lis); !ok || !got.Equal(want) {
		t.Errorf("399 holidays: %v, %v; want %v", got, ok, want)
	}

	// 401 days: nothing within MaxDeferral.
	begin := time.Now()
	got, ok = FindNextAllowed(start, lis, nil, days(401))
	if ok || !got.Equal(start.Add(MaxDeferral)) {
		t.Errorf("401 holidays: %v, %v; want %v, false", got, ok, start.Add(MaxDeferral))
	}
	if got := NextAllowed(start, lis, nil, days(401)); !got.Equal(start.Add(MaxDeferral)) {
		t.Errorf("NextAllowed past the bound = %v, want the bound", got)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("bounded search took %v", d)
	}
}

func TestBlockedBy(t *testing.T) {
	lis := schedLoc(t, "Europe/Lisbon")
	night := &QuietHours{Start: "21:00", End: "08:00"}
	tests := []struct {
		t        time.Time
		quiet    *QuietHours
		holidays []string
		want     string
	}{
		{schedUTC(2026, 12, 24, 12, 0), night, []string{"2026-12-25"}, ""},
		{schedUTC(2026, 12, 24, 22, 0), night, []string{"2026-12-25"}, BlockedQuietHours},
		{schedUTC(2026, 12, 25, 2, 0), night, []string{"2026-12-25"}, BlockedHoliday},
		{schedUTC(2026, 12, 25, 12, 0), night, []string{"2026-12-25"}, BlockedHoliday},
		{schedUTC(2026, 12, 25, 12, 0), nil, nil, ""},
	}
	for _, tc := range tests {
		if got := BlockedBy(tc.t, lis, tc.quiet, tc.holidays); got != tc.want {
			t.Errorf("BlockedBy(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// TestNextAllowedProperties checks, over random instants, zones with DST
// and random windows, that the answer is allowed, not before t, and that
// everything between t and it is blocked.
func TestNextAllowedProperties(t *testing.T) {
	zones := []*time.Location{
		schedLoc(t, "Europe/Lisbon"), schedLoc(t, "America/Santiago"), schedLoc(t, "America/Havana"),
		schedLoc(t, "Asia/Beirut"), schedLoc(t, "Australia/Lord_Howe"), schedLoc(t, "Asia/Tokyo"), time.UTC,
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	clock := func() string {
		return time.Date(2000, 1, 1, rnd.IntN(24), rnd.IntN(4)*15+rnd.IntN(2), 0, 0, time.UTC).Format("15:04")
	}
	base := schedUTC(2026, 1, 1, 0, 0)
	for i := range 3000 {
		loc := zones[rnd.IntN(len(zones))]
		t0 := base.Add(time.Duration(rnd.Int64N(int64(2 * 365 * 24 * time.Hour))))
		var quiet *QuietHours
		if rnd.IntN(4) > 0 {
			quiet = &QuietHours{Start: clock(), End: clock()}
		}
		var holidays []string
		for range rnd.IntN(4) {
			holidays = append(holidays, t0.In(loc).AddDate(0, 0, rnd.IntN(5)-1).Format(time.DateOnly))
		}
		got, ok := FindNextAllowed(t0, loc, quiet, holidays)
		if !ok {
			t.Fatalf("case %d: no allowed time", i)
		}
		if got.Before(t0) {
			t.Fatalf("case %d: %v before t %v", i, got, t0)
		}
		if why := BlockedBy(got, loc, quiet, holidays); why != "" {
			t.Fatalf("case %d (%v %v %v, t %v): answer %v is blocked by %s", i, loc, quiet, holidays, t0, got, why)
		}
		for u := t0; u.Before(got); u = u.Add(7 * time.Minute) {
			if BlockedBy(u, loc, quiet, holidays) == "" {
				t.Fatalf("case %d (%v %v %v, t %v): %v is allowed but the answer is %v", i, loc, quiet, holidays, t0, u, got)
			}
		}
		if !got.Equal(t0) && BlockedBy(got.Add(-time.Nanosecond), loc, quiet, holidays) == "" {
			t.Fatalf("case %d: the instant before the answer %v is allowed", i, got)
		}
	}
}

func BenchmarkNextAllowed(b *testing.B) {
	lis := schedLoc(b, "Europe/Lisbon")
	night := &QuietHours{Start: "21:00", End: "08:00"}
	holidays := []string{"2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"}
	t0 := schedUTC(2026, 12, 23, 22, 0)
	for b.Loop() {
		NextAllowed(t0, lis, night, holidays)
	}
}

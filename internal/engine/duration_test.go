package engine

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"P2D", 48 * time.Hour},
		{"P1W", 7 * 24 * time.Hour},
		{"P57W", 57 * 7 * 24 * time.Hour},
		{"PT12H", 12 * time.Hour},
		{"PT30M", 30 * time.Minute},
		{"PT45S", 45 * time.Second},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT1,25S", 1250 * time.Millisecond},
		{"PT0.000000001S", time.Nanosecond},
		{"P1DT2H30M15S", 26*time.Hour + 30*time.Minute + 15*time.Second},
		{"P1DT12H", 36 * time.Hour},
		{"PT36H", 36 * time.Hour},
		{"PT90M", 90 * time.Minute},
		{"p2dt1h", 49 * time.Hour},
		{"+P1D", 24 * time.Hour},
		{"P400D", 400 * 24 * time.Hour},
		{"P399DT23H59M59.999999999S", 400*24*time.Hour - time.Nanosecond},
		{"P007D", 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		got, err := ParseISODuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseISODurationErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{"", "is required"},
		{"P", "has no value"},
		{"PT", "has no value"},
		{"P1DT", `"T" with no hours`},
		{"2D", "is not an ISO 8601 duration"},
		{"1 day", "is not an ISO 8601 duration"},
		{"P1Y", "may not use years"},
		{"P2M", "may not use months"},
		{"P1Y2M", "may not use years"},
		{"-P1D", "must be positive"},
		{"P0D", "must be longer than zero"},
		{"PT0S", "must be longer than zero"},
		{"PT0.0S", "must be longer than zero"},
		{"P401D", "longer than the maximum of 400 days"},
		{"P58W", "longer than the maximum of 400 days"},
		{"PT9601H", "longer than the maximum of 400 days"},
		{"P400DT1S", "longer than the maximum of 400 days"},
		{"P99999999999999999999D", "longer than the maximum of 400 days"},
		{"PT9223372036854775807S", "longer than the maximum of 400 days"},
		{"P1W2D", "may not combine weeks"},
		{"P1.5D", "only have a fraction in its seconds"},
		{"PT1.5H", "only have a fraction in its seconds"},
		{"PT.5S", "malformed number"},
		{"PT1.S", "malformed number"},
		{"PT1.2.3S", "malformed number"},
		{"PT0.0000000001S", "more than nine decimals"},
		{"P1D1D", "out of order or repeated"},
		{"PT1S1M", "out of order or repeated"},
		{"P1H", `"H" before T`},
		{"PT1D", `"D" after T`},
		{"PT1W", `"W" after T`},
		{"P1DT1HT1M", `more than one "T"`},
		{"P1", "ends without a unit designator"},
		{"PD", "without a number"},
		{"P1X", `"X" before T`},
	}
	for _, tc := range tests {
		_, err := ParseISODuration(tc.in)
		if err == nil {
			t.Errorf("ParseISODuration(%q) = nil error, want %q", tc.in, tc.msg)
			continue
		}
		fe := fieldErrors(t, err)
		if len(fe) != 1 || !strings.Contains(fe[0].Message, tc.msg) {
			t.Errorf("ParseISODuration(%q) error %v, want it to contain %q", tc.in, err, tc.msg)
		}
	}
}

func TestFormatISODuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{48 * time.Hour, "P2D"},
		{7 * 24 * time.Hour, "P7D"},
		{12 * time.Hour, "PT12H"},
		{90 * time.Minute, "PT1H30M"},
		{26*time.Hour + 30*time.Minute + 15*time.Second, "P1DT2H30M15S"},
		{24*time.Hour + 500*time.Millisecond, "P1DT0.5S"},
		{time.Nanosecond, "PT0.000000001S"},
		{-36 * time.Hour, "-P1DT12H"},
		{time.Duration(-1 << 63), "-P106751DT23H47M16.854775808S"},
	}
	for _, tc := range tests {
		if got := formatISODuration(tc.in); got != tc.want {
			t.Errorf("formatISODuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestISODurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{
		time.Nanosecond, time.Second, 90 * time.Minute, 49 * time.Hour,
		3*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond,
		MaxWaitDuration,
	} {
		s := formatISODuration(d)
		got, err := ParseISODuration(s)
		if err != nil || got != d {
			t.Errorf("ParseISODuration(formatISODuration(%v) = %q) = %v, %v", d, s, got, err)
		}
	}
}

// formatISODuration writes d in the canonical form ParseISODuration reads,
// for the round-trip test (production code never writes a duration):
// days, then hours, minutes and seconds after T, omitting zero parts
// ("P2D", "PT1H30M", "P1DT0.5S"). Weeks are written as days. Zero is "PT0S"
// and a negative duration gets a leading minus, so every value has a form
// even though the parser accepts only positive ones.
func formatISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	// Work in uint64 so that the most negative duration has a magnitude.
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = uint64(-d)
	}
	b.WriteByte('P')
	days := u / uint64(isoDay)
	u %= uint64(isoDay)
	if days > 0 {
		b.WriteString(strconv.FormatUint(days, 10))
		b.WriteByte('D')
	}
	if u == 0 {
		return b.String()
	}
	b.WriteByte('T')
	hours := u / uint64(time.Hour)
	u %= uint64(time.Hour)
	minutes := u / uint64(time.Minute)
	u %= uint64(time.Minute)
	if hours > 0 {
		b.WriteString(strconv.FormatUint(hours, 10))
		b.WriteByte('H')
	}
	if minutes > 0 {
		b.WriteString(strconv.FormatUint(minutes, 10))
		b.WriteByte('M')
	}
	if u > 0 {
		secs := u / uint64(time.Second)
		ns := u % uint64(time.Second)
		b.WriteString(strconv.FormatUint(secs, 10))
		if ns > 0 {
			frac := strconv.FormatUint(ns+uint64(time.Second), 10)[1:] // zero-padded to nine digits
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(frac, "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// fieldErrors returns the fields of an EINVALID *Error, each with an empty
// path for the caller to prefix.
func fieldErrors(t *testing.T, err error) []FieldError {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if e.Code != EINVALID {
		t.Fatalf("want code %s, got %s", EINVALID, e.Code)
	}
	for _, fe := range e.Fields {
		if fe.Field != "" {
			t.Errorf("field path %q: want empty, for the caller to prefix", fe.Field)
		}
	}
	return e.Fields
}

// TestParseISODurationRefusesUnicodeLetters: "ſ" upper-cases to "S" in
// Unicode, and was read as the seconds designator (found by
// FuzzParseISODuration).
func TestParseISODurationRefusesUnicodeLetters(t *testing.T) {
	for _, s := range []string{"PT1ſ", "pt1ſ"} {
		if d, err := ParseISODuration(s); err == nil {
			t.Errorf("ParseISODuration(%q) = %v, want an error", s, d)
		}
	}
}

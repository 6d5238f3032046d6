package engine

import (
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
		if got := FormatISODuration(tc.in); got != tc.want {
			t.Errorf("FormatISODuration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestISODurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{
		time.Nanosecond, time.Second, 90 * time.Minute, 49 * time.Hour,
		3*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second + 7*time.Millisecond,
		MaxWaitDuration,
	} {
		s := FormatISODuration(d)
		got, err := ParseISODuration(s)
		if err != nil || got != d {
			t.Errorf("ParseISODuration(FormatISODuration(%v) = %q) = %v, %v", d, s, got, err)
		}
	}
}

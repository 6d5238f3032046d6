package engine

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseISODuration checks the wait step's duration parser: a refusal
// is an EINVALID error with a message (the caller names the field); an
// accepted value is ASCII, positive and at most MaxWaitDuration, parses to the
// same duration in the other letter case and with the other decimal mark,
// and its canonical form (formatISODuration, duration_test.go) parses back
// to it.
func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"P2W", "P3D", "PT12H", "P1DT2H30M", "PT45S", "PT0.5S", "pt1,25s", "+P1D",
		"P400D", "P401D", "PT9600H", "P1Y", "P1M", "-PT1S", "PT", "P1DT", "P1W1D", "PT1.0000000001S", "PT1H1H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseISODuration(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Message == "" {
				t.Fatalf("ParseISODuration(%q) refused with %#v, not one EINVALID field error", s, err)
			}
			if d != 0 {
				t.Fatalf("ParseISODuration(%q) refused but returned %v", s, d)
			}
			if _, err := ParseISODuration(strings.ToLower(s)); err == nil && strings.ToLower(s) != s && !strings.ContainsAny(s, "\u212a\u0130") {
				t.Fatalf("%q is refused but its lower case is accepted", s)
			}
			return
		}
		for i := range len(s) {
			if s[i] >= 0x80 {
				t.Fatalf("ParseISODuration(%q) accepts a non-ASCII byte", s)
			}
		}
		if d <= 0 || d > MaxWaitDuration {
			t.Fatalf("ParseISODuration(%q) = %v, outside (0, %v]", s, d, MaxWaitDuration)
		}
		for _, v := range []string{strings.ToLower(s), strings.ToUpper(s), strings.ReplaceAll(s, ",", "."), strings.ReplaceAll(s, ".", ",")} {
			if got, err := ParseISODuration(v); err != nil || got != d {
				t.Fatalf("ParseISODuration(%q) = %v, but %q gives %v, %v", s, d, v, got, err)
			}
		}
		canon := formatISODuration(d)
		if got, err := ParseISODuration(canon); err != nil || got != d {
			t.Fatalf("%q is %v; its canonical form %q parses to %v, %v", s, d, canon, got, err)
		}
	})
}

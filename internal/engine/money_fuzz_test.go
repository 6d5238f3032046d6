package engine

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// minorDecimal writes minor units as the decimal a customer reads, without
// grouping: 12345 EUR is "123.45", -5 JPY is "-5".
func minorDecimal(minor int64, exp int) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// FuzzMoney checks the conversions between what clients send (an amount in
// major units and a currency) and what is stored (minor units): an
// accepted amount is within the stored range and comes back as the same
// minor units after a trip through major units, which is what a client
// reading a quote and sending it back does; every storable amount in
// minor units survives that trip; and FormatMoney prints exactly the
// minor units' decimal, so a message never shows a different amount.
func FuzzMoney(f *testing.F) {
	f.Add(1250.0, "EUR", int64(125000))
	f.Add(0.1, "USD", int64(10))
	f.Add(1.005, "EUR", int64(-1))
	f.Add(1e13, "KWD", int64(999999999999999))
	f.Add(math.Copysign(0, -1), "JPY", int64(-1000000000000000))
	f.Add(math.Inf(1), "xx", int64(7))
	f.Fuzz(func(t *testing.T, amount float64, currency string, minor int64) {
		exp := CurrencyExponent(currency)
		if exp < 0 || exp > 3 {
			t.Fatalf("CurrencyExponent(%q) = %d", currency, exp)
		}
		if m, ok := MajorToMinor(amount, currency); ok {
			if m > 1e15 || m < -1e15 {
				t.Fatalf("MajorToMinor(%v, %q) = %d, outside the stored range", amount, currency, m)
			}
			if back, ok := MajorToMinor(MinorToMajor(m, currency), currency); !ok || back != m {
				t.Fatalf("MajorToMinor(%v, %q) = %d, which comes back as %d, %v", amount, currency, m, back, ok)
			}
		}
		if minor > 1e15 || minor < -1e15 {
			minor %= 1e15
		}
		major := MinorToMajor(minor, currency)
		if back, ok := MajorToMinor(major, currency); !ok || back != minor {
			t.Fatalf("%d minor units of %q are %v, which converts back to %d, %v", minor, currency, major, back, ok)
		}
		code := strings.ToUpper(strings.TrimSpace(currency))
		if !isCurrencyCode(code) {
			code = ""
		}
		major = MinorToMajor(minor, code)
		got := FormatMoney(major, code)
		if sym, ok := currencySymbols[code]; ok {
			got = strings.Replace(got, sym, "", 1)
		} else if code != "" {
			got = strings.Replace(got, code+" ", "", 1)
		}
		if want := minorDecimal(minor, CurrencyExponent(code)); strings.ReplaceAll(got, ",", "") != want {
			t.Fatalf("FormatMoney(%v, %q) = %q, want the amount %s", major, code, FormatMoney(major, code), want)
		}
	})
}

package engine

import (
	"math"

	"golang.org/x/text/currency"
)

// CurrencyExponent returns how many decimals currency's minor unit has: the
// standard digits that CLDR gives the ISO 4217 code (golang.org/x/text/currency),
// in any letter case, and 2 for a code it does not know. Where CLDR and ISO 4217
// disagree (CLDR gives 0 for COP, IDR, IQD and some thirty more), CLDR's digits,
// which are what customers see, are the ones used.
func CurrencyExponent(code string) int {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// MajorToMinor converts an amount in major units to minor units. ok is false
// when the amount has more decimals than the currency allows or does not fit.
func MajorToMinor(amount float64, currency string) (minor int64, ok bool) {
	scaled := amount * math.Pow10(CurrencyExponent(currency))
	r := math.Round(scaled)
	if math.IsNaN(r) || math.IsInf(r, 0) || math.Abs(r) > 1e15 {
		return 0, false
	}
	// Binary floats cannot hold 0.1 exactly; anything closer than a
	// millionth of a minor unit is the decimal the client wrote.
	if math.Abs(scaled-r) > 1e-6 {
		return 0, false
	}
	return int64(r), true
}

// MinorToMajor converts minor units back to major units.
func MinorToMajor(minor int64, currency string) float64 {
	return float64(minor) / math.Pow10(CurrencyExponent(currency))
}

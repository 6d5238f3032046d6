package engine

import (
	"math"
	"strconv"
	"strings"
)

// currencyExponents lists the ISO 4217 currencies whose minor unit is not a
// hundredth; every other currency has two decimals. This is ISO 4217's minor
// unit, not golang.org/x/text/currency's: that package gives CLDR's display
// digits, which differ for about 36 codes (0 for COP, IDR and IQD, whose
// minor units are 2, 2 and 3), and amounts are stored in minor units, so
// taking CLDR's digits would change what every stored quote in those
// currencies is worth (docs/DECISIONS.md).
var currencyExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// CurrencyExponent returns how many decimals currency's minor unit has, in
// any letter case.
func CurrencyExponent(currency string) int {
	if e, ok := currencyExponents[strings.ToUpper(currency)]; ok {
		return e
	}
	return 2
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
	if math.Abs(scaled-r) <= 1e-6 {
		return int64(r), true
	}
	// Past about 1e9 minor units the product's own rounding is more than a
	// millionth, so an amount this server wrote (MinorToMajor of a stored
	// 999999999999871) would be refused when sent back. The shortest
	// decimal that reads as amount is then the one the client wrote.
	return decimalToMinor(strconv.FormatFloat(amount, 'f', -1, 64), CurrencyExponent(currency))
}

// decimalToMinor reads a plain decimal with at most exp decimals as minor
// units, within the stored range.
func decimalToMinor(s string, exp int) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > exp {
		return 0, false
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", exp-len(frac)), 10, 64)
	if err != nil || n > 1e15 || n < -1e15 {
		return 0, false
	}
	return n, true
}

// MinorToMajor converts minor units back to major units.
func MinorToMajor(minor int64, currency string) float64 {
	return float64(minor) / math.Pow10(CurrencyExponent(currency))
}

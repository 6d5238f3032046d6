package engine

import (
	"math"
	"strconv"
	"strings"
)

// currencySymbols are the symbols that English-language CLDR data gives the
// common currencies. Every symbol here names one currency only, which is why
// the dollars other than the US one and the Chinese yuan carry a prefix.
var currencySymbols = map[string]string{
	"USD": "$",
	"EUR": "€",
	"GBP": "£",
	"JPY": "¥",
	"CNY": "CN¥",
	"INR": "₹",
	"KRW": "₩",
	"BRL": "R$",
	"CAD": "CA$",
	"AUD": "A$",
	"NZD": "NZ$",
	"MXN": "MX$",
	"HKD": "HK$",
	"TWD": "NT$",
	"ILS": "₪",
	"VND": "₫",
	"PHP": "₱",
}

// FormatMoney formats amount, in major units, for a message to a customer.
// There is one rule for every tenant and language, so that a template shows
// the same thing in a preview and in the message:
//
//   - the currency's symbol goes before the number for common currencies
//     (EUR €1,250.00, USD $1,250.00, GBP £, BRL R$1,250.00, JPY ¥1,250);
//     any other three-letter code goes before it with a space (CHF 1,250.00);
//     an empty or malformed code is left out (1,250.00);
//   - thousands are grouped with commas and decimals follow a dot;
//   - the number of decimals is the currency's (CurrencyExponent: JPY 0,
//     KWD 3, most 2), rounded half away from zero on the decimal the amount
//     prints as, so 1.005 EUR is €1.01;
//   - a negative amount starts with a minus sign (-€5.00);
//   - NaN and infinities, which no quote can hold, format as "".
func FormatMoney(amount float64, currency string) string {
	if math.IsNaN(amount) || math.IsInf(amount, 0) {
		return ""
	}
	code := strings.ToUpper(strings.TrimSpace(currency))
	if !isCurrencyCode(code) {
		code = ""
	}
	digits := CurrencyExponent(code)
	whole, frac := roundDecimal(strconv.FormatFloat(math.Abs(amount), 'f', -1, 64), digits)

	var b strings.Builder
	if amount < 0 && strings.Trim(whole+frac, "0") != "" {
		b.WriteByte('-')
	}
	if sym, ok := currencySymbols[code]; ok {
		b.WriteString(sym)
	} else if code != "" {
		b.WriteString(code)
		b.WriteByte(' ')
	}
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	if digits > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// roundDecimal rounds the non-negative decimal string s ("1234.5678") to
// digits decimals, half away from zero, and returns the whole and fraction
// parts, the fraction padded with zeros. Rounding the shortest decimal that
// represents the float, rather than the float itself, is what makes 1.005
// round up as a person expects.
func roundDecimal(s string, digits int) (whole, frac string) {
	whole, frac, _ = strings.Cut(s, ".")
	if len(frac) <= digits {
		return whole, frac + strings.Repeat("0", digits-len(frac))
	}
	roundUp := frac[digits] >= '5'
	n := []byte(whole + frac[:digits])
	if roundUp {
		i := len(n) - 1
		for ; i >= 0 && n[i] == '9'; i-- {
			n[i] = '0'
		}
		if i >= 0 {
			n[i]++
		} else {
			n = append([]byte{'1'}, n...)
		}
	}
	cut := len(n) - digits
	return string(n[:cut]), string(n[cut:])
}

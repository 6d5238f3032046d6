package engine

import (
	"math"
	"strconv"
	"strings"
)

// CustomerLocale reads a lead's language ("pt", "pt-BR", "es_MX") and
// country (ISO 3166-1 alpha-2) as the locale a customer-facing page is
// written in: the language in lower case, and the region in upper case,
// taken from the language's own region subtag when it has one (the
// convention the lead writes in) and else from the country. Either may be
// empty.
func CustomerLocale(language, country string) (lang, region string) {
	base, sub, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(language), "_", "-"), "-")
	lang = strings.ToLower(base)
	if len(sub) == 2 {
		return lang, strings.ToUpper(sub)
	}
	if c := strings.TrimSpace(country); len(c) == 2 {
		region = strings.ToUpper(c)
	}
	return lang, region
}

// moneyStyle is how a locale writes an amount of money.
type moneyStyle struct {
	group, decimal string
	// suffix puts the currency after the number ("1250,00 €").
	suffix bool
	// space separates a prefixed symbol from the number ("R$ 1.250,00").
	space bool
	// grouped is how many digits the whole part needs before it is
	// grouped: 4 in most locales, 5 where 1250 is written without a
	// separator (Spain, Portugal).
	grouped int
}

const nbsp = "\u00a0"

var (
	styleDotDecimal   = moneyStyle{group: ",", decimal: ".", grouped: 4}
	styleCommaPrefix  = moneyStyle{group: ".", decimal: ",", space: true, grouped: 4}
	styleCommaSuffix  = moneyStyle{group: ".", decimal: ",", suffix: true, grouped: 5}
	stylePortugal     = moneyStyle{group: nbsp, decimal: ",", suffix: true, grouped: 5}
	spanishDotDecimal = map[string]bool{"MX": true, "US": true, "PR": true, "DO": true, "GT": true, "HN": true,
		"NI": true, "PA": true, "SV": true, "PE": true}
	spanishCommaPrefix = map[string]bool{"AR": true, "BO": true, "CL": true, "CO": true, "CR": true, "EC": true,
		"PY": true, "UY": true, "VE": true}
)

// moneyStyleOf returns the style of the languages with a style of their
// own (Portuguese and Spanish, by country), and false for the others,
// which FormatMoney writes.
func moneyStyleOf(lang, region string) (moneyStyle, bool) {
	switch lang {
	case "pt":
		if region == "PT" {
			return stylePortugal, true
		}
		return styleCommaPrefix, true // Brazil's, the most common
	case "es":
		switch {
		case spanishDotDecimal[region]:
			return styleDotDecimal, true
		case spanishCommaPrefix[region]:
			return styleCommaPrefix, true
		}
		return styleCommaSuffix, true // Spain's
	}
	return moneyStyle{}, false
}

// localDollars are the countries whose own currency is written "$" there,
// where English writes it with a prefix (MX$, CA$) or by its code.
var localDollars = map[string]string{"US": "USD", "MX": "MXN", "AR": "ARS", "CL": "CLP", "CO": "COP", "UY": "UYU",
	"DO": "DOP", "EC": "USD", "SV": "USD", "PR": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "HK": "HKD"}

// FormatMoneyIn formats amount, in major units, in the customer's locale
// (CustomerLocale of language and country), for a page that the customer
// reads rather than a template's output:
//
//   - Portuguese: Brazil's "R$ 1.250,00" everywhere but Portugal's
//     "1250,00 €" (a no-break space groups thousands from 10 000);
//   - Spanish: Spain's "1250,00 €" (thousands grouped from 10.000), the
//     "$1,250.00" of Mexico, the United States and Central America, and the
//     "$ 1.250,00" of Argentina, Colombia, Chile and their neighbours;
//     the country's own dollar or peso is written "$";
//   - every other language as FormatMoney writes it ("€1,250.00").
//
// The decimals and their rounding are FormatMoney's; a currency without a
// symbol is written by its code, separated by a no-break space; an empty
// or malformed code is left out.
func FormatMoneyIn(amount float64, currency, language, country string) string {
	lang, region := CustomerLocale(language, country)
	st, ok := moneyStyleOf(lang, region)
	if !ok {
		return FormatMoney(amount, currency)
	}
	if math.IsNaN(amount) || math.IsInf(amount, 0) {
		return ""
	}
	code := strings.ToUpper(strings.TrimSpace(currency))
	if !isCurrencyCode(code) {
		code = ""
	}
	digits := CurrencyExponent(code)
	whole, frac := roundDecimal(strconv.FormatFloat(math.Abs(amount), 'f', -1, 64), digits)
	var num strings.Builder
	for i := range len(whole) {
		if i > 0 && len(whole) >= st.grouped && (len(whole)-i)%3 == 0 {
			num.WriteString(st.group)
		}
		num.WriteByte(whole[i])
	}
	if digits > 0 {
		num.WriteString(st.decimal)
		num.WriteString(frac)
	}
	sign := ""
	if amount < 0 && strings.Trim(whole+frac, "0") != "" {
		sign = "-"
	}
	sym, isSymbol := currencySymbols[code]
	switch {
	case code == "":
		return sign + num.String()
	case code == localDollars[region]:
		sym, isSymbol = "$", true
	case sym == "$":
		sym = "US$" // as Portuguese and Spanish write it outside the US
	case !isSymbol:
		sym = code
	}
	if st.suffix {
		return sign + num.String() + nbsp + sym
	}
	if st.space || !isSymbol {
		return sign + sym + nbsp + num.String()
	}
	return sign + sym + num.String()
}

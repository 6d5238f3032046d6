package engine

import (
	"math"
	"testing"
)

func TestCustomerLocale(t *testing.T) {
	for _, c := range []struct{ language, country, lang, region string }{
		{"pt", "BR", "pt", "BR"},
		{"pt-PT", "BR", "pt", "PT"}, // the language's own region wins
		{"es_mx", "", "es", "MX"},
		{"EN", "gb", "en", "GB"},
		{"", "", "", ""},
		{"zh-Hant", "TW", "zh", "TW"}, // a script subtag is no region
		{"es", "ESP", "es", ""},       // not an alpha-2 code
	} {
		lang, region := CustomerLocale(c.language, c.country)
		if lang != c.lang || region != c.region {
			t.Errorf("CustomerLocale(%q, %q) = %q, %q; want %q, %q", c.language, c.country, lang, region, c.lang, c.region)
		}
	}
}

func TestFormatMoneyIn(t *testing.T) {
	for _, c := range []struct {
		amount             float64
		currency, language string
		country            string
		want               string
	}{
		{1250, "BRL", "pt", "BR", "R$\u00a01.250,00"},
		{1250, "BRL", "pt-BR", "", "R$\u00a01.250,00"},
		{1234567.891, "BRL", "pt", "", "R$\u00a01.234.567,89"},
		{1250, "EUR", "pt", "PT", "1250,00\u00a0€"},
		{12500, "EUR", "pt-PT", "", "12\u00a0500,00\u00a0€"},
		{1250, "EUR", "es", "ES", "1250,00\u00a0€"},
		{12500, "EUR", "es", "", "12.500,00\u00a0€"},
		{1250, "MXN", "es", "MX", "$1,250.00"},
		{1250, "USD", "es", "MX", "US$1,250.00"}, // "$" is the peso there
		{1250, "USD", "es", "ES", "1250,00\u00a0US$"},
		{1250, "USD", "es", "US", "$1,250.00"},
		{1250, "USD", "pt", "BR", "US$\u00a01.250,00"},
		{1250, "ARS", "es-AR", "", "$\u00a01.250,00"},
		{1250, "COP", "es", "CO", "$\u00a01.250,00"},
		{1250, "EUR", "es", "AR", "€\u00a01.250,00"},
		{1250, "CHF", "es", "ES", "1250,00\u00a0CHF"},
		{1250, "CHF", "pt", "BR", "CHF\u00a01.250,00"},
		{1250.5, "JPY", "pt", "BR", "¥\u00a01.251"},
		{-5, "EUR", "es", "ES", "-5,00\u00a0€"},
		{-0.001, "EUR", "es", "ES", "0,00\u00a0€"},
		{1250, "", "pt", "BR", "1.250,00"},
		{math.NaN(), "EUR", "pt", "BR", ""},
		// Every other language is FormatMoney's.
		{1250, "EUR", "en", "GB", "€1,250.00"},
		{1250, "EUR", "fr", "FR", "€1,250.00"},
		{1250, "EUR", "", "", "€1,250.00"},
	} {
		if got := FormatMoneyIn(c.amount, c.currency, c.language, c.country); got != c.want {
			t.Errorf("FormatMoneyIn(%v, %q, %q, %q) = %q, want %q", c.amount, c.currency, c.language, c.country, got, c.want)
		}
	}
}

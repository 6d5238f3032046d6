package engine

import (
	"math"
	"testing"
)

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		amount   float64
		currency string
		want     string
	}{
		{1250, "EUR", "€1,250.00"},
		{1250, "USD", "$1,250.00"},
		{1250, "GBP", "£1,250.00"},
		{1250, "BRL", "R$1,250.00"},
		{1250.4, "JPY", "¥1,250"},
		{1250.5, "JPY", "¥1,251"},
		{1250, "CAD", "CA$1,250.00"},
		{1250, "CHF", "CHF 1,250.00"},
		{1.2345, "KWD", "KWD 1.235"},
		{1250, "", "1,250.00"},
		{1250, "euro", "1,250.00"},
		{1250, " eur ", "€1,250.00"},
		{0, "EUR", "€0.00"},
		{0.5, "EUR", "€0.50"},
		{999, "EUR", "€999.00"},
		{1000, "EUR", "€1,000.00"},
		{1234567.891, "EUR", "€1,234,567.89"},
		{1.005, "EUR", "€1.01"},
		{2.675, "EUR", "€2.68"},
		{999.995, "EUR", "€1,000.00"},
		{0.0001, "EUR", "€0.00"},
		{-5, "EUR", "-€5.00"},
		{-1234.5, "CHF", "-CHF 1,234.50"},
		{-0.001, "EUR", "€0.00"},
		{1e15, "USD", "$1,000,000,000,000,000.00"},
		{1e21, "USD", "$1,000,000,000,000,000,000,000.00"},
		{math.NaN(), "EUR", ""},
		{math.Inf(1), "EUR", ""},
	}
	for _, tc := range tests {
		if got := FormatMoney(tc.amount, tc.currency); got != tc.want {
			t.Errorf("FormatMoney(%v, %q) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestFormatMoneyMatchesMinorUnits(t *testing.T) {
	// Every amount a quote can hold prints its exact minor units.
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{1, "EUR", "€0.01"},
		{10, "EUR", "€0.10"},
		{123456789, "EUR", "€1,234,567.89"},
		{123456789, "JPY", "¥123,456,789"},
		{123456789, "KWD", "KWD 123,456.789"},
		{-99, "USD", "-$0.99"},
	} {
		q := &Quote{AmountMinor: c.minor, Currency: c.currency}
		if got := FormatMoney(q.Amount(), q.Currency); got != c.want {
			t.Errorf("FormatMoney(%d minor %s) = %q, want %q", c.minor, c.currency, got, c.want)
		}
	}
}

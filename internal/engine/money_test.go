package engine

import "testing"

// The exponent is ISO 4217's minor unit, which is how stored amounts are
// read back: a change here changes what stored quotes are worth. COP, IDR
// and IQD are the codes where CLDR's display digits (0) would differ.
func TestCurrencyExponentIsISO4217MinorUnit(t *testing.T) {
	for code, want := range map[string]int{
		"EUR": 2, "usd": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3,
		"COP": 2, "IDR": 2, "IQD": 3, "XXX-unknown": 2,
	} {
		if got := CurrencyExponent(code); got != want {
			t.Errorf("CurrencyExponent(%q) = %d, want %d", code, got, want)
		}
	}
	if minor, ok := MajorToMinor(12.345, "IQD"); !ok || minor != 12345 {
		t.Errorf("MajorToMinor(12.345, IQD) = %d, %v; want 12345, true", minor, ok)
	}
	if _, ok := MajorToMinor(12.345, "EUR"); ok {
		t.Error("MajorToMinor accepted three decimals of euro")
	}
	if got := MinorToMajor(125000, "EUR"); got != 1250 {
		t.Errorf("MinorToMajor(125000, EUR) = %v, want 1250", got)
	}
}

// TestMajorToMinorTakesBackLargeAmounts: a stored amount near the top of
// the range, written out in major units, was refused when sent back,
// because the float product missed the whole number by more than a
// millionth (found by FuzzMoney).
func TestMajorToMinorTakesBackLargeAmounts(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
	}{{999999999999871, "EUR"}, {-999999999999871, "EUR"}, {999999999999999, "KWD"}, {123456789012345, "USD"}} {
		major := MinorToMajor(c.minor, c.currency)
		if got, ok := MajorToMinor(major, c.currency); !ok || got != c.minor {
			t.Errorf("MajorToMinor(%v, %s) = %d, %v, want %d", major, c.currency, got, ok, c.minor)
		}
	}
	// A decimal more than the currency has is still refused at that size.
	if got, ok := MajorToMinor(9999999999998.715, "EUR"); ok {
		t.Errorf("MajorToMinor(9999999999998.715, EUR) = %d, want refused", got)
	}
}

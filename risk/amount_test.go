package risk_test

import (
	"testing"

	"github.com/payedge/payedge/risk"
)

// Known answers from ISO 4217 list one (minor units column), SIX Group
// maintenance agency.
func TestCurrencyExponentKnownAnswers(t *testing.T) {
	for code, want := range map[string]int{
		"EUR": 2, "USD": 2, "GBP": 2, "CNY": 2, "CHF": 2, "HUF": 2, "INR": 2, "IDR": 2, "MXN": 2,
		"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XOF": 0, "XAF": 0, "XPF": 0, "UGX": 0, "PYG": 0,
		"KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3,
		"CLF": 4, "UYW": 4,
	} {
		if got, ok := risk.CurrencyExponent(code); !ok || got != want {
			t.Errorf("%s: %d, %v; want %d", code, got, ok, want)
		}
	}
	// No minor unit, testing codes, withdrawn codes, wrong case or length.
	for _, code := range []string{"XAU", "XDR", "XTS", "XXX", "HRK", "SLL", "VEF", "eur", "Eur", "EURO", "EU", "", "\x00\x00\x00"} {
		if e, ok := risk.CurrencyExponent(code); ok {
			t.Errorf("%q accepted with exponent %d", code, e)
		}
	}
	for _, tc := range []struct {
		a    risk.Amount
		want string
	}{
		{risk.Amount{Minor: 1, Currency: "BHD"}, "0.001 BHD"},
		{risk.Amount{Minor: 12345, Currency: "CLF"}, "1.2345 CLF"},
		{risk.Amount{Minor: 9223372036854775807, Currency: "JPY"}, "9223372036854775807 JPY"},
		{risk.Amount{Minor: -9223372036854775808, Currency: "EUR"}, "-92233720368547758.08 EUR"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
}

package risk

import (
	"fmt"
	"math"
	"strconv"
)

// Amount is a sum of money in integer minor units (cents, fen, …) of an
// ISO 4217 currency. Amounts are never floating point: 12.34 EUR is
// Amount{Minor: 1234, Currency: "EUR"}.
//
// The zero Amount (no currency, zero units) is accepted wherever a running
// total may not have started yet; any non-zero Amount must name a currency.
type Amount struct {
	Minor    int64  // minor units, >= 0
	Currency string // ISO 4217 alphabetic code, upper case, e.g. "EUR"
}

// NewAmount returns a validated Amount of minor units (cents, fen, …) of
// currency. A negative amount is an error wrapping ErrAmount, a currency
// CurrencyExponent does not know (codes are upper case) one wrapping
// ErrCurrency.
func NewAmount(minor int64, currency string) (Amount, error) {
	a := Amount{Minor: minor, Currency: currency}
	if err := a.Validate(); err != nil {
		return Amount{}, err
	}
	return a, nil
}

// IsZero reports whether a is the zero Amount.
func (a Amount) IsZero() bool { return a.Minor == 0 && a.Currency == "" }

// Validate reports whether a is non-negative in a known currency. The zero
// Amount is valid. Errors wrap ErrAmount or ErrCurrency.
func (a Amount) Validate() error {
	if a.IsZero() {
		return nil
	}
	if a.Minor < 0 {
		return fmt.Errorf("%w: %d minor units is negative", ErrAmount, a.Minor)
	}
	if _, ok := CurrencyExponent(a.Currency); !ok {
		return fmt.Errorf("%w: %q", ErrCurrency, truncate(a.Currency, 8))
	}
	return nil
}

// Add returns a+b. Both must be valid and in the same currency (a zero
// Amount adopts the other's currency); overflow is an error.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := a.Validate(); err != nil {
		return Amount{}, err
	}
	if err := b.Validate(); err != nil {
		return Amount{}, err
	}
	cur := a.Currency
	switch {
	case a.IsZero():
		cur = b.Currency
	case b.IsZero():
	case a.Currency != b.Currency:
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, a.Currency, b.Currency)
	}
	if b.Minor > math.MaxInt64-a.Minor {
		return Amount{}, fmt.Errorf("%w: %d + %d overflows", ErrAmount, a.Minor, b.Minor)
	}
	return Amount{Minor: a.Minor + b.Minor, Currency: cur}, nil
}

// String formats a as "12.34 EUR" using the currency's ISO 4217 exponent.
// Unknown currencies print the raw minor units.
func (a Amount) String() string {
	if a.IsZero() {
		return "0"
	}
	exp, ok := CurrencyExponent(a.Currency)
	neg := a.Minor < 0
	u := uint64(a.Minor)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if !ok || exp == 0 {
		if neg {
			digits = "-" + digits
		}
		return digits + " " + a.Currency
	}
	for len(digits) <= exp {
		digits = "0" + digits
	}
	s := digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	if neg {
		s = "-" + s
	}
	return s + " " + a.Currency
}

// CurrencyExponent returns the number of minor-unit digits of an active
// ISO 4217 currency (2 for EUR, 0 for JPY, 3 for KWD) and whether code is
// known. Codes must be upper case. Funds codes with minor units (BOV, CHE,
// CHW, CLF, COU, MXV, USN, UYI, UYW) are included; precious metals, SDR and
// the testing codes (XAU, XDR, XTS, XXX, …) are not, because they have no
// minor unit.
//
// Source: ISO 4217 list one (current currencies and funds), SIX Group
// maintenance agency, as amended up to 2026 (HRK, SLL, ANG, BGN withdrawn;
// SLE, VED, XCG, ZWG added).
func CurrencyExponent(code string) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	switch code {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
		"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0, true
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3, true
	case "CLF", "UYW":
		return 4, true
	case "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN",
		"BAM", "BBD", "BDT", "BMD", "BND", "BOB", "BOV", "BRL", "BSD",
		"BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW",
		"CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP",
		"DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
		"GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
		"IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW",
		"KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL",
		"MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
		"MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
		"NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON",
		"RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
		"SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
		"TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD",
		"USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER",
		"ZAR", "ZMW", "ZWG":
		return 2, true
	}
	return 0, false
}

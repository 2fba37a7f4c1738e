package iso8583

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	moov "github.com/moov-io/iso8583"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/risk"
)

// Message type indicators (ISO 8583:1987).
const (
	MTIAuthRequest      = "0100"
	MTIAuthResponse     = "0110"
	MTIReversalRequest  = "0400"
	MTIReversalResponse = "0410"
	MTINetworkRequest   = "0800"
	MTINetworkResponse  = "0810"
)

// Field numbers used by the mapping.
const (
	FieldPAN             = 2
	FieldProcessingCode  = 3
	FieldAmount          = 4
	FieldTransmission    = 7
	FieldSTAN            = 11
	FieldPOSEntryMode    = 22
	FieldAcquirerID      = 32
	FieldRRN             = 37
	FieldApprovalCode    = 38
	FieldResponseCode    = 39
	FieldTerminalID      = 41
	FieldMerchantID      = 42
	FieldCurrency        = 49
	FieldNetworkMgmtCode = 70
	FieldOriginalData    = 90
)

// Echo test network management information code (field 70).
const echoCode = "301"

// currencies maps ISO 4217 alphabetic codes to numeric codes (field 49).
var currencies = map[string]string{
	"AUD": "036", "BRL": "986", "CAD": "124", "CHF": "756", "CNY": "156", "CZK": "203",
	"DKK": "208", "EUR": "978", "GBP": "826", "HKD": "344", "HUF": "348", "INR": "356",
	"JPY": "392", "KRW": "410", "MXN": "484", "NOK": "578", "NZD": "554", "PLN": "985",
	"SEK": "752", "SGD": "702", "USD": "840", "ZAR": "710",
}

// CurrencyNumeric returns the ISO 4217 numeric code of an alphabetic code
// (or a 3-digit code unchanged). Errors wrap ErrField.
func CurrencyNumeric(alpha string) (string, error) {
	if n, ok := currencies[alpha]; ok {
		return n, nil
	}
	if len(alpha) == 3 && isDigits(alpha) {
		return alpha, nil
	}
	return "", fmt.Errorf("%w: currency %q has no ISO 4217 numeric code here", ErrField, alpha)
}

// CurrencyAlpha is the inverse of CurrencyNumeric (an unknown numeric code
// is returned unchanged).
func CurrencyAlpha(numeric string) string {
	for a, n := range currencies {
		if n == numeric {
			return a
		}
	}
	return numeric
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// transmission formats field 7: MMDDhhmmss in UTC.
func transmission(t time.Time) string { return t.UTC().Format("0102150405") }

// parseTransmission reads field 7 in the year of ref (or the year before,
// when that is closer: a message sent on 31 December read on 1 January).
func parseTransmission(s string, ref time.Time) (time.Time, error) {
	t, err := time.Parse("0102150405", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: field 7 %q", ErrField, s)
	}
	ref = ref.UTC()
	t = t.AddDate(ref.Year()-t.Year(), 0, 0)
	if t.Sub(ref) > 180*24*time.Hour {
		t = t.AddDate(-1, 0, 0)
	}
	return t, nil
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}

// set sets fields on m, stopping at the first error (wrapped with ErrField).
func set(m *moov.Message, fields map[int]string) error {
	for id, v := range fields {
		if err := m.Field(id, v); err != nil {
			return fmt.Errorf("%w: field %d: %w", ErrField, id, err)
		}
	}
	return nil
}

// get returns field id of m ("" when absent).
func get(m *moov.Message, id int) string {
	s, err := m.GetString(id)
	if err != nil {
		return ""
	}
	return s
}

// MissingFieldError reports a message without a field its MTI requires.
type MissingFieldError struct {
	MTI   string
	Field int
}

func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("iso8583: %s without mandatory field %d", e.MTI, e.Field)
}

// Unwrap returns ErrMissingField.
func (e *MissingFieldError) Unwrap() error { return ErrMissingField }

func require(m *moov.Message, mti string, ids ...int) error {
	for _, id := range ids {
		if strings.TrimSpace(get(m, id)) == "" {
			return &MissingFieldError{MTI: mti, Field: id}
		}
	}
	return nil
}

// stanOf parses field 11.
func stanOf(m *moov.Message) (uint32, error) {
	s := get(m, FieldSTAN)
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > biometric.MaxSTAN {
		return 0, fmt.Errorf("%w: STAN %q", ErrField, s)
	}
	return uint32(n), nil
}

// DecodeAuthResponse maps a 0110 to a biometric.AuthResult; ref resolves
// the year of field 7. Errors wrap ErrMissingField, ErrField or ErrMTI.
func DecodeAuthResponse(m *moov.Message, ref time.Time) (biometric.AuthResult, error) {
	mti, _ := m.GetMTI()
	if mti != MTIAuthResponse {
		return biometric.AuthResult{}, &MTIError{MTI: mti, Want: MTIAuthResponse}
	}
	if err := require(m, mti, FieldSTAN, FieldResponseCode); err != nil {
		return biometric.AuthResult{}, err
	}
	stan, err := stanOf(m)
	if err != nil {
		return biometric.AuthResult{}, err
	}
	res := biometric.AuthResult{
		ResponseCode: get(m, FieldResponseCode),
		ApprovalCode: strings.TrimSpace(get(m, FieldApprovalCode)),
		STAN:         stan,
		RRN:          strings.TrimSpace(get(m, FieldRRN)),
	}
	if f7 := get(m, FieldTransmission); f7 != "" {
		if res.TransmittedAt, err = parseTransmission(f7, ref); err != nil {
			return biometric.AuthResult{}, err
		}
	}
	return res, nil
}

// DecodeAuthRequest maps a 0100 back to a biometric.AuthRequest (the
// simulator's side); field 2 is returned in Token. Errors wrap
// ErrMissingField, ErrField or ErrMTI.
func DecodeAuthRequest(m *moov.Message, ref time.Time) (biometric.AuthRequest, error) {
	mti, _ := m.GetMTI()
	if mti != MTIAuthRequest {
		return biometric.AuthRequest{}, &MTIError{MTI: mti, Want: MTIAuthRequest}
	}
	if err := require(m, mti, FieldPAN, FieldAmount, FieldTransmission, FieldSTAN, FieldTerminalID, FieldCurrency); err != nil {
		return biometric.AuthRequest{}, err
	}
	stan, err := stanOf(m)
	if err != nil {
		return biometric.AuthRequest{}, err
	}
	amt, err := strconv.ParseInt(get(m, FieldAmount), 10, 64)
	if err != nil || amt <= 0 {
		return biometric.AuthRequest{}, fmt.Errorf("%w: amount %q", ErrField, get(m, FieldAmount))
	}
	at, err := parseTransmission(get(m, FieldTransmission), ref)
	if err != nil {
		return biometric.AuthRequest{}, err
	}
	return biometric.AuthRequest{
		Token:         get(m, FieldPAN),
		Amount:        risk.Amount{Minor: amt, Currency: CurrencyAlpha(get(m, FieldCurrency))},
		STAN:          stan,
		RRN:           strings.TrimSpace(get(m, FieldRRN)),
		TransmittedAt: at,
		TerminalID:    strings.TrimSpace(get(m, FieldTerminalID)),
		MerchantID:    strings.TrimSpace(get(m, FieldMerchantID)),
	}, nil
}

// DecodeReversal maps a 0400 to the original's terminal ID, STAN and
// amount (from fields 41, 90 and 4) and the reversal's own STAN.
func DecodeReversal(m *moov.Message, ref time.Time) (biometric.Reversal, error) {
	mti, _ := m.GetMTI()
	if mti != MTIReversalRequest {
		return biometric.Reversal{}, &MTIError{MTI: mti, Want: MTIReversalRequest}
	}
	if err := require(m, mti, FieldSTAN, FieldTerminalID, FieldOriginalData); err != nil {
		return biometric.Reversal{}, err
	}
	stan, err := stanOf(m)
	if err != nil {
		return biometric.Reversal{}, err
	}
	od := get(m, FieldOriginalData)
	if len(od) != 42 || od[:4] != MTIAuthRequest {
		return biometric.Reversal{}, fmt.Errorf("%w: original data elements %q", ErrField, od)
	}
	ostan, err := strconv.ParseUint(od[4:10], 10, 32)
	if err != nil || ostan < 1 || ostan > biometric.MaxSTAN {
		return biometric.Reversal{}, fmt.Errorf("%w: original STAN %q", ErrField, od[4:10])
	}
	oat, err := parseTransmission(od[10:20], ref)
	if err != nil {
		return biometric.Reversal{}, err
	}
	rev := biometric.Reversal{
		STAN:   stan,
		Reason: get(m, FieldResponseCode),
		Original: biometric.AuthRequest{
			Token: get(m, FieldPAN), STAN: uint32(ostan), TransmittedAt: oat,
			TerminalID: strings.TrimSpace(get(m, FieldTerminalID)), MerchantID: strings.TrimSpace(get(m, FieldMerchantID)),
			RRN: strings.TrimSpace(get(m, FieldRRN)),
		},
	}
	if f7 := get(m, FieldTransmission); f7 != "" {
		rev.TransmittedAt, _ = parseTransmission(f7, ref)
	}
	if a, err := strconv.ParseInt(get(m, FieldAmount), 10, 64); err == nil {
		rev.Original.Amount = risk.Amount{Minor: a, Currency: CurrencyAlpha(get(m, FieldCurrency))}
	}
	return rev, nil
}

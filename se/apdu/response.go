package apdu

import (
	"encoding/hex"
	"fmt"
)

// Response is a response APDU: the response data field followed by the
// status word SW1-SW2.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse decodes a response APDU. It returns an error wrapping
// ErrTruncated if b is shorter than the two status bytes and ErrLength if it
// is longer than MaxNe+2.
//
// ParseResponse does not allocate: the returned Data aliases b (nil when the
// response has no data).
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes, need at least SW1 SW2", ErrTruncated, len(b))
	}
	if len(b) > MaxNe+2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes exceeds %d", ErrLength, len(b), MaxNe+2)
	}
	n := len(b) - 2
	r := Response{SW: uint16(b[n])<<8 | uint16(b[n+1])}
	if n > 0 {
		r.Data = b[:n:n]
	}
	return r, nil
}

// SW1 returns the first status byte.
func (r Response) SW1() byte { return byte(r.SW >> 8) }

// SW2 returns the second status byte.
func (r Response) SW2() byte { return byte(r.SW) }

// Success reports whether the status word is 9000 (normal processing).
func (r Response) Success() bool { return r.SW == SWSuccess }

// Err returns nil for 9000 and a *StatusError for every other status word,
// warnings (62xx, 63xx) and 61xx included.
func (r Response) Err() error {
	if r.SW == SWSuccess {
		return nil
	}
	return &StatusError{SW: r.SW}
}

// AppendBinary appends the encoded response (data, SW1, SW2) to b. Data
// longer than MaxNe is an error wrapping ErrLength, and b is returned
// unchanged.
func (r Response) AppendBinary(b []byte) ([]byte, error) {
	if len(r.Data) > MaxNe {
		return b, fmt.Errorf("%w: response data of %d bytes exceeds %d", ErrLength, len(r.Data), MaxNe)
	}
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW)), nil
}

// MarshalBinary encodes the response; see AppendBinary.
func (r Response) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, len(r.Data)+2))
}

// String formats the response for diagnostics as hex data, SW and meaning.
// The data field is printed: do not format responses that carry secrets.
func (r Response) String() string {
	return fmt.Sprintf("%s %04X (%s)", hex.EncodeToString(r.Data), r.SW, StatusText(r.SW))
}

// StatusError is a status word other than 9000 returned as an error.
// Match a specific word with errors.As and compare SW:
//
//	var se *apdu.StatusError
//	if errors.As(err, &se) && se.SW == apdu.SWFileNotFound { … }
type StatusError struct {
	SW uint16 // SW1 in the high byte, SW2 in the low byte
}

// Error returns the status word in hex with its ISO/IEC 7816-4 meaning.
func (e *StatusError) Error() string {
	return fmt.Sprintf("apdu: status %04X: %s", e.SW, StatusText(e.SW))
}

// IsWarning reports whether SW is a warning (62xx or 63xx): processing
// completed, possibly with changes or a caveat.
func IsWarning(sw uint16) bool {
	sw1 := byte(sw >> 8)
	return sw1 == 0x62 || sw1 == 0x63
}

// IsSuccess reports whether sw is 9000.
func IsSuccess(sw uint16) bool { return sw == SWSuccess }

// Status words of ISO/IEC 7816-4:2020 §5.6 that callers commonly branch on.
const (
	SWSuccess                      uint16 = 0x9000
	SWBytesRemaining               uint16 = 0x6100 // SW2 = bytes still available (00: 256 or more)
	SWWarningNoInfo                uint16 = 0x6200
	SWWarningCorrupted             uint16 = 0x6281
	SWWarningEOF                   uint16 = 0x6282
	SWWarningNVChanged             uint16 = 0x6300
	SWVerificationFailed           uint16 = 0x63C0 // low nibble: retries left
	SWExecutionErrorNoChange       uint16 = 0x6400
	SWMemoryFailure                uint16 = 0x6581
	SWWrongLength                  uint16 = 0x6700
	SWLogicalChannelNotSupported   uint16 = 0x6881
	SWSecureMessagingNotSupported  uint16 = 0x6882
	SWCommandNotAllowed            uint16 = 0x6900
	SWSecurityStatusNotSatisfied   uint16 = 0x6982
	SWAuthenticationMethodBlocked  uint16 = 0x6983
	SWReferenceDataNotUsable       uint16 = 0x6984
	SWConditionsNotSatisfied       uint16 = 0x6985
	SWCommandNotAllowedNoEF        uint16 = 0x6986
	SWExpectedSMDataObjectsMissing uint16 = 0x6987
	SWIncorrectSMDataObjects       uint16 = 0x6988
	SWWrongData                    uint16 = 0x6A80
	SWFunctionNotSupported         uint16 = 0x6A81
	SWFileNotFound                 uint16 = 0x6A82
	SWRecordNotFound               uint16 = 0x6A83
	SWNotEnoughMemory              uint16 = 0x6A84
	SWIncorrectP1P2                uint16 = 0x6A86
	SWReferencedDataNotFound       uint16 = 0x6A88
	SWWrongP1P2                    uint16 = 0x6B00
	SWWrongLe                      uint16 = 0x6C00 // SW2 = exact length available
	SWINSNotSupported              uint16 = 0x6D00
	SWCLANotSupported              uint16 = 0x6E00
	SWUnknown                      uint16 = 0x6F00
)

// swExact holds the exact-match meanings of ISO/IEC 7816-4:2020 Table 6 and
// its detail tables.
func swExact(sw uint16) (string, bool) {
	switch sw {
	case 0x9000:
		return "normal processing", true
	case 0x6200:
		return "warning: state of non-volatile memory unchanged", true
	case 0x6202:
		return "warning: triggering by the card", true
	case 0x6281:
		return "warning: part of returned data may be corrupted", true
	case 0x6282:
		return "warning: end of file or record reached before reading Ne bytes", true
	case 0x6283:
		return "warning: selected file deactivated", true
	case 0x6284:
		return "warning: file or data control information not formatted", true
	case 0x6285:
		return "warning: selected file in termination state", true
	case 0x6286:
		return "warning: no input data available from a sensor", true
	case 0x6287:
		return "warning: at least one referenced record is deactivated", true
	case 0x6300:
		return "warning: state of non-volatile memory changed, no information given", true
	case 0x6381:
		return "warning: file filled up by the last write", true
	case 0x6400:
		return "execution error: state of non-volatile memory unchanged", true
	case 0x6401:
		return "execution error: immediate response required by the card", true
	case 0x6500:
		return "execution error: state of non-volatile memory changed", true
	case 0x6581:
		return "execution error: memory failure", true
	case 0x6700:
		return "wrong length", true
	case 0x6800:
		return "functions in CLA not supported", true
	case 0x6881:
		return "logical channel not supported", true
	case 0x6882:
		return "secure messaging not supported", true
	case 0x6883:
		return "last command of the chain expected", true
	case 0x6884:
		return "command chaining not supported", true
	case 0x6900:
		return "command not allowed", true
	case 0x6981:
		return "command incompatible with file structure", true
	case 0x6982:
		return "security status not satisfied", true
	case 0x6983:
		return "authentication method blocked", true
	case 0x6984:
		return "reference data not usable", true
	case 0x6985:
		return "conditions of use not satisfied", true
	case 0x6986:
		return "command not allowed (no current EF)", true
	case 0x6987:
		return "expected secure messaging data objects missing", true
	case 0x6988:
		return "incorrect secure messaging data objects", true
	case 0x6A00:
		return "wrong parameters P1-P2", true
	case 0x6A80:
		return "incorrect parameters in the command data field", true
	case 0x6A81:
		return "function not supported", true
	case 0x6A82:
		return "file or application not found", true
	case 0x6A83:
		return "record not found", true
	case 0x6A84:
		return "not enough memory space in the file", true
	case 0x6A85:
		return "Nc inconsistent with TLV structure", true
	case 0x6A86:
		return "incorrect parameters P1-P2", true
	case 0x6A87:
		return "Nc inconsistent with parameters P1-P2", true
	case 0x6A88:
		return "referenced data or reference data not found", true
	case 0x6A89:
		return "file already exists", true
	case 0x6A8A:
		return "DF name already exists", true
	case 0x6B00:
		return "wrong parameters P1-P2", true
	case 0x6D00:
		return "instruction code not supported or invalid", true
	case 0x6E00:
		return "class not supported", true
	case 0x6F00:
		return "no precise diagnosis", true
	}
	return "", false
}

// StatusText returns the ISO/IEC 7816-4 meaning of a status word for error
// messages, falling back to the meaning of its SW1 group, and "unknown
// status" for values outside the standard.
func StatusText(sw uint16) string {
	if t, ok := swExact(sw); ok {
		return t
	}
	sw1, sw2 := byte(sw>>8), byte(sw)
	switch {
	case sw1 == 0x61:
		if sw2 == 0 {
			return "256 or more response bytes still available"
		}
		return fmt.Sprintf("%d response bytes still available", sw2)
	case sw1 == 0x6C:
		if sw2 == 0 {
			return "wrong Le field: 256 bytes available"
		}
		return fmt.Sprintf("wrong Le field: %d bytes available", sw2)
	case sw1 == 0x63 && sw2&0xF0 == 0xC0:
		return fmt.Sprintf("warning: counter %d (verification failed, %d retries left)", sw2&0x0F, sw2&0x0F)
	case sw1 == 0x62 && sw2 >= 0x02 && sw2 <= 0x80:
		return "warning: triggering by the card"
	case sw1 == 0x64 && sw2 >= 0x02 && sw2 <= 0x80:
		return "execution error: triggering by the card"
	case sw1 == 0x62:
		return "warning: state of non-volatile memory unchanged"
	case sw1 == 0x63:
		return "warning: state of non-volatile memory changed"
	case sw1 == 0x64:
		return "execution error: state of non-volatile memory unchanged"
	case sw1 == 0x65:
		return "execution error: state of non-volatile memory changed"
	case sw1 == 0x66:
		return "security-related issue"
	case sw1 == 0x68:
		return "functions in CLA not supported"
	case sw1 == 0x69:
		return "command not allowed"
	case sw1 == 0x6A:
		return "wrong parameters P1-P2"
	case sw1 == 0x90:
		return "normal processing (proprietary SW2)"
	case sw1 >= 0x91 && sw1 <= 0x9F || sw1 == 0x67 || sw1 == 0x6D || sw1 == 0x6E || sw1 == 0x6F:
		return "proprietary or unspecified status"
	}
	return "unknown status"
}

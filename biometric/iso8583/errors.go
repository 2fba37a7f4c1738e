package iso8583

import (
	"errors"
	"fmt"
)

// Errors callers branch on (match with errors.Is). Authorize and Reverse
// also wrap the biometric package's ErrAuthTimeout and ErrIssuerUnavailable
// so biometric.Processor reverses on them.
var (
	// ErrNotInitialized is returned by the zero Authorizer.
	ErrNotInitialized = errors.New("iso8583: not initialized (use New)")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("iso8583: invalid configuration")
	// ErrFrame reports a length header out of bounds (connection closed).
	ErrFrame = errors.New("iso8583: bad frame")
	// ErrField reports a field value that does not fit the spec or the mapping.
	ErrField = errors.New("iso8583: bad field")
	// ErrMissingField reports a message without a mandatory field.
	ErrMissingField = errors.New("iso8583: missing mandatory field")
	// ErrMTI reports an unexpected message type.
	ErrMTI = errors.New("iso8583: unexpected MTI")
	// ErrUnmatched reports a response whose STAN matches no request.
	ErrUnmatched = errors.New("iso8583: response matches no request")
	// ErrSTANInUse reports a request whose STAN (field 11) is already in
	// flight on the connection: responses are matched by STAN alone, so
	// the second would receive the first's answer. It is refused before
	// anything is sent (and also wraps biometric.ErrTransaction, so
	// biometric.Processor fails it without a reversal).
	ErrSTANInUse = errors.New("iso8583: STAN already in flight")
	// ErrClosed reports use of a closed Authorizer.
	ErrClosed = errors.New("iso8583: closed")
)

// MTIError details ErrMTI.
type MTIError struct {
	MTI, Want string
}

func (e *MTIError) Error() string {
	if e.Want == "" {
		return fmt.Sprintf("iso8583: unexpected MTI %q", e.MTI)
	}
	return fmt.Sprintf("iso8583: MTI %q, want %s", e.MTI, e.Want)
}

// Unwrap returns ErrMTI.
func (e *MTIError) Unwrap() error { return ErrMTI }

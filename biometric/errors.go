package biometric

import (
	"errors"
	"fmt"
)

// Errors that callers branch on. Functions wrap them with detail; match them
// with errors.Is.
var (
	// ErrNotInitialized is returned by methods called on the zero value of a
	// type that needs a constructor (Index, IdentityServer, Processor …).
	ErrNotInitialized = errors.New("biometric: not initialized (use the New… constructor)")
	// ErrDimension reports a vector whose length is not the index dimension.
	ErrDimension = errors.New("biometric: wrong embedding dimension")
	// ErrNotFinite reports a NaN or infinite component.
	ErrNotFinite = errors.New("biometric: embedding component is NaN or infinite")
	// ErrZeroVector reports an embedding with zero (or subnormal) length.
	ErrZeroVector = errors.New("biometric: zero embedding")
	// ErrDuplicateID reports an Add or Enrol for an ID already present.
	ErrDuplicateID = errors.New("biometric: duplicate ID")
	// ErrNotFound reports an unknown index entry.
	ErrNotFound = errors.New("biometric: ID not found")
	// ErrBadK reports k ≤ 0 or k greater than the gallery size or MaxK.
	ErrBadK = errors.New("biometric: k out of range")
	// ErrBadID reports an empty or oversized ID.
	ErrBadID = errors.New("biometric: bad ID")
	// ErrFull reports an index at its configured capacity.
	ErrFull = errors.New("biometric: index full")
	// ErrConfig reports an invalid configuration.
	ErrConfig = errors.New("biometric: invalid configuration")
	// ErrSample reports a sample that cannot be decoded or used.
	ErrSample = errors.New("biometric: bad sample")
	// ErrNoMatch reports an identification whose best score is below the
	// threshold, or an empty gallery.
	ErrNoMatch = errors.New("biometric: no match above threshold")
	// ErrAmbiguous reports an identification whose best two candidates are
	// closer than the configured margin: the server will not guess.
	ErrAmbiguous = errors.New("biometric: ambiguous match")
	// ErrNotLive reports a sample the LivenessChecker rejected.
	ErrNotLive = errors.New("biometric: liveness check failed")
	// ErrNotEnrolled reports an unknown enrolment record.
	ErrNotEnrolled = errors.New("biometric: not enrolled")
	// ErrSealed reports a sealed record that does not open: tampered,
	// swapped to another ID, truncated, or sealed under another key.
	ErrSealed = errors.New("biometric: sealed record does not open")
	// ErrRecord reports a malformed enrolment record.
	ErrRecord = errors.New("biometric: malformed record")
	// ErrKey reports a sealing key of the wrong size.
	ErrKey = errors.New("biometric: bad sealing key")
	// ErrClosed reports use of a closed Sealer.
	ErrClosed = errors.New("biometric: closed")
	// ErrInsufficientData reports score sets too small for the requested
	// operating point.
	ErrInsufficientData = errors.New("biometric: insufficient scores for the operating point")
	// ErrScores reports score sets that are empty or contain NaN.
	ErrScores = errors.New("biometric: bad scores")
	// ErrAuthTimeout reports an authorisation that got no response in time.
	ErrAuthTimeout = errors.New("biometric: authorisation timed out")
	// ErrIssuerUnavailable reports an issuer (or simulator) that refused or
	// failed a request without a response code.
	ErrIssuerUnavailable = errors.New("biometric: issuer unavailable")
	// ErrReversalFailed reports a reversal that was not acknowledged after
	// every retry; it is kept for the host to resend.
	ErrReversalFailed = errors.New("biometric: reversal not acknowledged")
	// ErrTransaction reports an invalid transaction.
	ErrTransaction = errors.New("biometric: bad transaction")
	// ErrIDReuse reports a transaction ID reused for a different payment.
	ErrIDReuse = errors.New("biometric: transaction ID reused with different details")
)

// DimensionError details an ErrDimension.
type DimensionError struct {
	Got, Want int
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("biometric: wrong embedding dimension %d, want %d", e.Got, e.Want)
}

// Unwrap returns ErrDimension.
func (e *DimensionError) Unwrap() error { return ErrDimension }

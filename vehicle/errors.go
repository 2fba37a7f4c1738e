package vehicle

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error the package returns matches one of these with
// errors.Is; the typed errors below carry detail and unwrap to them.
var (
	// ErrNotInitialized is returned by every method of a zero value that
	// needs a constructor (NewVehicle, NewBaseStation, NewMemoryRegistry, …).
	ErrNotInitialized = errors.New("vehicle: not initialized (use the New… constructor)")
	// ErrInvalidConfig reports a Config field out of range.
	ErrInvalidConfig = errors.New("vehicle: invalid config")
	// ErrInvalidID reports an empty, oversized or non-printable identifier.
	ErrInvalidID = errors.New("vehicle: invalid identifier")
	// ErrInvalidKey reports a public key that is not a valid X25519 key.
	ErrInvalidKey = errors.New("vehicle: invalid X25519 key")
	// ErrStaleGeneration reports a key rotation whose generation is not
	// above the registered one.
	ErrStaleGeneration = errors.New("vehicle: key generation not newer than the registered one")
	// ErrClosed reports use of a Vehicle or BaseStation after Close.
	ErrClosed = errors.New("vehicle: closed")
	// ErrAlreadyEnrolled reports a second enrolment of the same vehicle.
	ErrAlreadyEnrolled = errors.New("vehicle: vehicle already enrolled")
	// ErrUnknownVehicle reports a vehicle the registry does not know.
	ErrUnknownVehicle = errors.New("vehicle: unknown vehicle")
	// ErrUnknownRequester reports a request from a vehicle that is not enrolled.
	ErrUnknownRequester = errors.New("vehicle: unknown requester")
	// ErrNotFriends reports a request to, or a friend operation on, a vehicle
	// that is not a registered friend.
	ErrNotFriends = errors.New("vehicle: no friend relationship registered")
	// ErrSelfFriend reports an attempt to befriend oneself.
	ErrSelfFriend = errors.New("vehicle: a vehicle cannot be its own friend")
	// ErrTooManyFriends reports a friend list at its configured bound.
	ErrTooManyFriends = errors.New("vehicle: too many friends")
	// ErrFriendOutOfCoverage reports a friend the base station cannot reach.
	ErrFriendOutOfCoverage = errors.New("vehicle: friend out of coverage")
	// ErrRequesterOutOfCoverage reports a requester the base station does not serve.
	ErrRequesterOutOfCoverage = errors.New("vehicle: requester out of coverage")
	// ErrInvalidRequest reports a request with a bad amount or oversized payload.
	ErrInvalidRequest = errors.New("vehicle: invalid request")

	// ErrNotForMe is TryOpen's answer to an envelope sealed for someone else.
	ErrNotForMe = errors.New("vehicle: envelope not for this vehicle")
	// ErrTampered reports an envelope or response addressed to this vehicle
	// (or base station) whose authentication failed: ciphertext or associated
	// data were modified.
	ErrTampered = errors.New("vehicle: authentication failed (tampered)")
	// ErrTruncated reports an envelope shorter than its fields say.
	ErrTruncated = errors.New("vehicle: truncated envelope")
	// ErrOversized reports an envelope or field above its bound.
	ErrOversized = errors.New("vehicle: oversized envelope")
	// ErrMalformed reports an envelope whose fields are inconsistent.
	ErrMalformed = errors.New("vehicle: malformed envelope")
	// ErrUnsupportedVersion reports an envelope of an unknown wire version.
	ErrUnsupportedVersion = errors.New("vehicle: unsupported envelope version")
	// ErrReplay reports a sequence number seen before or left behind by the
	// replay window. Returned as *ReplayError.
	ErrReplay = errors.New("vehicle: replayed envelope")
	// ErrStale reports a timestamp outside the freshness window. Returned as
	// *StaleError.
	ErrStale = errors.New("vehicle: stale timestamp")

	// ErrSequenceExhausted reports a friend pair whose 64-bit broadcast
	// sequence space is used up: the counter never wraps (RFC 4303 §3.3.3).
	ErrSequenceExhausted = errors.New("vehicle: sequence numbers of the pair exhausted")

	// ErrTooManyBroadcasts reports a request resent more than
	// MaxBroadcastsPerRequest times.
	ErrTooManyBroadcasts = errors.New("vehicle: request broadcast too many times")

	// ErrUnknownRequest reports a response to a request the base station
	// never sent or has forgotten.
	ErrUnknownRequest = errors.New("vehicle: unknown request")
	// ErrWrongResponder reports a response from a vehicle other than the
	// friend the request was sealed for.
	ErrWrongResponder = errors.New("vehicle: response from the wrong vehicle")
	// ErrDeclined reports a friend that declined to pay.
	ErrDeclined = errors.New("vehicle: payment declined by friend")
	// ErrTooManyPending reports a base station at its in-flight bound.
	ErrTooManyPending = errors.New("vehicle: too many requests in flight")

	// ErrUnknownAccount reports a payment account the platform does not hold.
	ErrUnknownAccount = errors.New("vehicle: unknown account")
	// ErrAccountExists reports a second Open of the same account.
	ErrAccountExists = errors.New("vehicle: account exists")
	// ErrInsufficientFunds reports a transfer above the payer's balance.
	ErrInsufficientFunds = errors.New("vehicle: insufficient funds")
	// ErrInvalidTransfer reports a transfer with a bad ID, amount or accounts.
	ErrInvalidTransfer = errors.New("vehicle: invalid transfer")
	// ErrTransferConflict reports a transfer ID reused with different content.
	ErrTransferConflict = errors.New("vehicle: transfer ID reused with different content")

	// ErrPoolExhausted reports a sidelink grant that could not be given
	// without overlapping a grant within interference range.
	ErrPoolExhausted = errors.New("vehicle: sidelink resource pool exhausted")
	// ErrUnknownGrant reports a grant ID the pool never issued or has forgotten.
	ErrUnknownGrant = errors.New("vehicle: unknown grant")
	// ErrGrantExpired reports use of a grant past its expiry.
	ErrGrantExpired = errors.New("vehicle: grant expired")
	// ErrDoubleRelease reports a second release of the same grant.
	ErrDoubleRelease = errors.New("vehicle: grant already released")

	// ErrSealedBeforeStart reports an envelope sealed before a Vehicle
	// started without saved replay state: such a vehicle cannot know
	// whether its previous run opened it. Returned as *RestartError, which
	// also matches ErrStale: the remedy is the same, a fresh broadcast.
	ErrSealedBeforeStart = errors.New("vehicle: envelope sealed before the vehicle started without saved replay state")
	// ErrBadReplayState reports a replay state that does not parse or is
	// inconsistent. Returned as *ReplayStateError.
	ErrBadReplayState = errors.New("vehicle: bad replay state")
	// ErrReplayStateChecksum reports a replay state whose CRC-32C does not
	// match (a torn write or corrupted storage); it comes wrapped in a
	// *ReplayStateError.
	ErrReplayStateChecksum = errors.New("vehicle: replay state checksum mismatch")
	// ErrReplayStateMismatch reports a well-formed replay state that
	// belongs to another vehicle, or whose key generations contradict the
	// keys given to the constructor.
	ErrReplayStateMismatch = errors.New("vehicle: replay state does not match the vehicle or its keys")
	// ErrNoReplayState is ReplayStore.Load's answer for a vehicle with no
	// saved state.
	ErrNoReplayState = errors.New("vehicle: no saved replay state")
	// ErrNoReplayStore reports SaveReplayState on a vehicle configured
	// without a ReplayStore.
	ErrNoReplayStore = errors.New("vehicle: no ReplayStore configured")
	// ErrReplayNotSaved reports a ReplayStore.Save that failed while
	// opening an envelope: the request is not handed out and the replay
	// window is unchanged, so the same envelope may be tried again. The
	// store's error is wrapped beside it.
	ErrReplayNotSaved = errors.New("vehicle: replay state not saved")
)

// EnvelopeError reports where an envelope failed to parse. It unwraps to
// ErrTruncated, ErrOversized, ErrMalformed or ErrUnsupportedVersion.
type EnvelopeError struct {
	Field  string // wire field being read
	Offset int    // byte offset of that field
	Err    error
}

// Error implements error.
func (e *EnvelopeError) Error() string {
	if e == nil || e.Err == nil {
		return "vehicle: envelope error"
	}
	return fmt.Sprintf("%v: field %s at offset %d", e.Err, e.Field, e.Offset)
}

// Unwrap returns the sentinel.
func (e *EnvelopeError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// ReplayError reports a rejected sequence number. It unwraps to ErrReplay.
type ReplayError struct {
	Sequence uint64
	Highest  uint64 // highest sequence accepted so far for the pair
	// Duplicate is true when the sequence is inside the window and was
	// already accepted, false when it is older than the window.
	Duplicate bool
}

// Error implements error.
func (e *ReplayError) Error() string {
	if e == nil {
		return ErrReplay.Error()
	}
	if e.Duplicate {
		return fmt.Sprintf("%v: sequence %d already accepted", ErrReplay, e.Sequence)
	}
	return fmt.Sprintf("%v: sequence %d is behind the window (highest %d)", ErrReplay, e.Sequence, e.Highest)
}

// Unwrap returns ErrReplay.
func (e *ReplayError) Unwrap() error { return ErrReplay }

// StaleError reports a timestamp outside the freshness window. It unwraps to
// ErrStale.
type StaleError struct {
	Timestamp, Now time.Time
	Window         time.Duration
}

// Error implements error.
func (e *StaleError) Error() string {
	if e == nil {
		return ErrStale.Error()
	}
	return fmt.Sprintf("%v: timestamp %s is %s from now, window ±%s", ErrStale,
		e.Timestamp.UTC().Format(time.RFC3339Nano), e.Now.Sub(e.Timestamp), e.Window)
}

// Unwrap returns ErrStale.
func (e *StaleError) Unwrap() error { return ErrStale }

// RestartError reports an envelope sealed before the Vehicle started
// without saved replay state. It matches ErrSealedBeforeStart and ErrStale.
type RestartError struct {
	Timestamp time.Time // sealed (base-station clock, millisecond precision)
	// Start is when the vehicle started without saved state (its own
	// clock), or the run its restored state comes from did.
	Start time.Time
}

// Error implements error.
func (e *RestartError) Error() string {
	if e == nil {
		return ErrSealedBeforeStart.Error()
	}
	return fmt.Sprintf("%v: sealed %s, started %s", ErrSealedBeforeStart,
		e.Timestamp.UTC().Format(time.RFC3339Nano), e.Start.UTC().Format(time.RFC3339Nano))
}

// Unwrap returns ErrSealedBeforeStart and ErrStale.
func (e *RestartError) Unwrap() []error { return []error{ErrSealedBeforeStart, ErrStale} }

// ReplayStateError reports where a replay state failed to parse or check.
// It matches ErrBadReplayState and whatever Err wraps (ErrUnsupportedVersion,
// ErrReplayStateChecksum, ErrInvalidID, ErrSelfFriend).
type ReplayStateError struct {
	Field  string // field being read
	Offset int    // byte offset of that field
	Err    error  // what is wrong
}

// Error implements error.
func (e *ReplayStateError) Error() string {
	if e == nil || e.Err == nil {
		return ErrBadReplayState.Error()
	}
	return fmt.Sprintf("%v: field %s at offset %d: %v", ErrBadReplayState, e.Field, e.Offset, e.Err)
}

// Unwrap returns ErrBadReplayState and Err.
func (e *ReplayStateError) Unwrap() []error {
	if e == nil || e.Err == nil {
		return []error{ErrBadReplayState}
	}
	return []error{ErrBadReplayState, e.Err}
}

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

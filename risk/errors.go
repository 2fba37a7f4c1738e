package risk

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Every error returned by this package wraps one of these,
// so callers branch with errors.Is and read detail with errors.As.
var (
	// ErrConfidence reports a confidence or prior that is NaN or outside [0, 1].
	ErrConfidence = errors.New("risk: confidence must be a number in [0, 1]")
	// ErrWeight reports a fusion weight that is NaN or outside [0, MaxWeight].
	ErrWeight = errors.New("risk: fusion weight must be in [0, MaxWeight]")
	// ErrConfig reports an invalid configuration value.
	ErrConfig = errors.New("risk: invalid configuration")
	// ErrAmount reports a negative or overflowing amount.
	ErrAmount = errors.New("risk: invalid amount")
	// ErrCurrency reports a currency code that is not an active ISO 4217 code
	// with minor units.
	ErrCurrency = errors.New("risk: unknown currency")
	// ErrCurrencyMismatch reports amounts in different currencies that were
	// combined or compared.
	ErrCurrencyMismatch = errors.New("risk: currency mismatch")
	// ErrPolicy reports an invalid Policy.
	ErrPolicy = errors.New("risk: invalid policy")
	// ErrIdentifier reports a malformed neighbour identifier (MAC address).
	ErrIdentifier = errors.New("risk: malformed neighbour identifier")
	// ErrNeighborKind reports an unknown NeighborKind.
	ErrNeighborKind = errors.New("risk: unknown neighbour kind")
	// ErrRSSI reports an RSSI outside the plausible range.
	ErrRSSI = errors.New("risk: RSSI out of range")
	// ErrObservation reports an observation that is malformed as a whole
	// (missing terminal, missing time, too many neighbours).
	ErrObservation = errors.New("risk: invalid neighbour observation")
	// ErrDuplicateNeighbor reports a neighbour listed twice in one
	// observation (same kind and address).
	ErrDuplicateNeighbor = errors.New("risk: neighbour reported twice in one scan")
	// ErrNoProfile is returned by a ProfileStore that holds no profile for
	// the terminal. Scorers treat it as "no evidence", not as a failure.
	ErrNoProfile = errors.New("risk: no neighbour profile for terminal")
	// ErrProfile reports a malformed neighbour profile.
	ErrProfile = errors.New("risk: invalid neighbour profile")
	// ErrStale reports an observation too old, or too far in the future,
	// for the assessor's clock; the error is a *FreshnessError.
	ErrStale = errors.New("risk: observation is not fresh")
	// ErrUnauthenticated reports an observation that the configured
	// ScanAuthenticator refused.
	ErrUnauthenticated = errors.New("risk: observation not authenticated")
	// ErrNotInitialized reports a method called on the zero value (or a
	// nil pointer) of a type that needs its constructor, such as
	// NeighborAssessor, or on a nil ScorerFunc.
	ErrNotInitialized = errors.New("risk: not initialized: use the constructor")
	// ErrNilContext reports a nil context.Context.
	ErrNilContext = errors.New("risk: nil context")
	// ErrStore wraps a failure of a ProfileStore implementation.
	ErrStore = errors.New("risk: profile store failed")
)

// SignalError locates an invalid signal passed to fusion.
type SignalError struct {
	Index  int     // position in the argument list
	Source string  // the signal's Source
	Value  float64 // the offending confidence
	Err    error   // ErrConfidence
}

// Error describes the invalid signal.
func (e *SignalError) Error() string {
	return fmt.Sprintf("risk: signal %d (%q): confidence %v: %v", e.Index, e.Source, e.Value, e.Err)
}

// Unwrap returns the underlying sentinel.
func (e *SignalError) Unwrap() error { return e.Err }

// NeighborError locates an invalid neighbour inside an observation.
type NeighborError struct {
	Index int    // position in NeighborObservation.Seen
	ID    string // the identifier as reported (truncated to 64 bytes)
	Err   error  // ErrIdentifier, ErrNeighborKind or ErrRSSI, possibly wrapped
}

// Error names the neighbour and what is wrong with it.
func (e *NeighborError) Error() string {
	return fmt.Sprintf("risk: neighbour %d %q: %v", e.Index, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *NeighborError) Unwrap() error { return e.Err }

// truncate bounds attacker-controlled text before it is stored in an error.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// FreshnessError reports an observation whose time lies outside
// NeighborConfig.MaxAge (or, with Future, MaxSkew) of the assessor's clock.
type FreshnessError struct {
	TerminalID string        // the observation's terminal (truncated to 64 bytes)
	At, Now    time.Time     // the observation's time and the clock's
	Limit      time.Duration // MaxAge, or MaxSkew when Future
	Future     bool          // At is after Now + MaxSkew
}

// Error describes how stale (or early) the observation is.
func (e *FreshnessError) Error() string {
	if e.Future {
		return fmt.Sprintf("risk: terminal %q: observation at %s is %v ahead of the clock (skew limit %v): %v",
			e.TerminalID, e.At.UTC().Format(time.RFC3339), e.At.Sub(e.Now), e.Limit, ErrStale)
	}
	return fmt.Sprintf("risk: terminal %q: observation at %s is %v old (limit %v): %v",
		e.TerminalID, e.At.UTC().Format(time.RFC3339), e.Now.Sub(e.At), e.Limit, ErrStale)
}

// Unwrap returns ErrStale.
func (e *FreshnessError) Unwrap() error { return ErrStale }

package scp03

import (
	"errors"

	"github.com/payedge/payedge/se/apdu"
)

// Errors returned by this package, wrapped with detail; test with errors.Is.
var (
	// ErrKeyLength reports a key that is not a 16-, 24- or 32-byte AES key,
	// or a key set whose keys differ in length.
	ErrKeyLength = errors.New("scp03: invalid key length")
	// ErrDeriveLength reports an unsupported KDF output length.
	ErrDeriveLength = errors.New("scp03: invalid derivation length")
	// ErrSecurityLevel reports a security level that Amendment D does not
	// define (valid: 00, 01, 03, 11, 13, 33) or that the card does not
	// support.
	ErrSecurityLevel = errors.New("scp03: invalid or unsupported security level")
	// ErrChallenge reports a host challenge of the wrong length (8 bytes in
	// S8 mode, 16 in S16 mode).
	ErrChallenge = errors.New("scp03: invalid challenge")
	// ErrInitializeUpdate reports a malformed INITIALIZE UPDATE command or
	// response: wrong length, key version or SCP identifier.
	ErrInitializeUpdate = errors.New("scp03: malformed INITIALIZE UPDATE")
	// ErrExternalAuthenticate reports a malformed EXTERNAL AUTHENTICATE
	// command or a rejected one.
	ErrExternalAuthenticate = errors.New("scp03: EXTERNAL AUTHENTICATE failed")
	// ErrCardCryptogram reports a card cryptogram that does not verify: the
	// card does not hold the static keys (or the response was altered).
	ErrCardCryptogram = errors.New("scp03: card cryptogram mismatch")
	// ErrHostCryptogram reports a host cryptogram that does not verify.
	ErrHostCryptogram = errors.New("scp03: host cryptogram mismatch")
	// ErrMAC reports a C-MAC or R-MAC that does not verify, or one that is
	// missing. The session is terminated.
	ErrMAC = errors.New("scp03: MAC verification failed")
	// ErrPadding reports encrypted data that is not a whole number of blocks
	// or whose ISO/IEC 9797-1 method 2 padding is wrong. The session is
	// terminated.
	ErrPadding = errors.New("scp03: bad encrypted data or padding")
	// ErrNotSecured reports a command without the GlobalPlatform
	// secure-messaging class bits in a session that requires them, on
	// another logical channel than the session's, or a wrap of a command
	// that already carries them. On the card side it terminates the session.
	ErrNotSecured = errors.New("scp03: secure messaging indication missing or unexpected")
	// ErrTooLong reports a command or response that would exceed the APDU
	// length limits once padded and MACed.
	ErrTooLong = errors.New("scp03: wrapped APDU too long")
	// ErrState reports a call that the session state does not allow, such as
	// Wrap before authentication.
	ErrState = errors.New("scp03: operation not allowed in this session state")
	// ErrSessionClosed reports use of a session after Close or after it was
	// ErrNotInitialized is returned by the methods of a zero HostSession,
	// CardSession or CMAC, which hold no keys: use NewHostSession or Open,
	// NewCardSession, NewCMAC.
	ErrNotInitialized = errors.New("scp03: not initialized (use NewHostSession, Open, NewCardSession or NewCMAC)")
	// terminated by a MAC, padding or authentication failure.
	ErrSessionClosed = errors.New("scp03: session closed")
	// ErrProtocol reports a response that breaks the SCP03 rules, such as
	// data accompanying an error status word in an R-MAC session.
	ErrProtocol = errors.New("scp03: protocol violation")
	// ErrSequenceCounter reports an exhausted 24-bit sequence counter.
	ErrSequenceCounter = errors.New("scp03: sequence counter exhausted")
	// ErrOptions reports an unusable configuration: a missing random
	// source, or a pseudo-random card challenge without a 5–16 byte AID.
	ErrOptions = errors.New("scp03: invalid options")
)

// StatusFor returns the status word a card should answer with for an error
// returned by a CardSession: 6982 for MAC and secure-messaging failures,
// 6300 for a failed host authentication, 6A88 for an unknown key version,
// 6700 for wrong lengths and malformed APDUs, 6985 for state errors, 6F00 otherwise. It returns
// 9000 for nil.
func StatusFor(err error) uint16 {
	switch {
	case err == nil:
		return apdu.SWSuccess
	case errors.Is(err, ErrHostCryptogram):
		return 0x6300
	case errors.Is(err, ErrMAC), errors.Is(err, ErrNotSecured), errors.Is(err, ErrPadding):
		return apdu.SWSecurityStatusNotSatisfied
	case errors.Is(err, ErrKeyVersion):
		return apdu.SWReferencedDataNotFound
	case errors.Is(err, ErrInitializeUpdate), errors.Is(err, ErrExternalAuthenticate), errors.Is(err, ErrChallenge), errors.Is(err, ErrTooLong),
		errors.Is(err, apdu.ErrTruncated), errors.Is(err, apdu.ErrLength):
		return apdu.SWWrongLength
	case errors.Is(err, ErrSecurityLevel):
		return apdu.SWIncorrectP1P2
	case errors.Is(err, ErrState), errors.Is(err, ErrSessionClosed), errors.Is(err, ErrSequenceCounter):
		return apdu.SWConditionsNotSatisfied
	}
	return apdu.SWUnknown
}

// ErrKeyVersion is wrapped together with ErrInitializeUpdate when the card
// does not hold the requested key version, or the host finds the card
// answering with another key version than its KeyProvider's.
var ErrKeyVersion = errors.New("scp03: key version not found")

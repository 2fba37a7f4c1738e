package apdu

import "errors"

// Errors returned by the codecs. They are wrapped with detail; test with
// errors.Is.
var (
	// ErrTruncated reports an APDU shorter than its header or length fields
	// announce.
	ErrTruncated = errors.New("apdu: truncated APDU")
	// ErrLength reports length fields that are inconsistent with the APDU
	// size, an Lc of zero, or a Command whose Nc or Ne is out of range.
	ErrLength = errors.New("apdu: invalid length")
	// ErrChannel reports a logical channel number outside 0–19 or a class
	// byte that cannot carry the requested channel.
	ErrChannel = errors.New("apdu: invalid logical channel")
	// ErrClass reports the invalid class byte FF or a class byte whose
	// secure-messaging indication cannot be expressed in the target coding.
	ErrClass = errors.New("apdu: invalid class byte")
	// ErrChainTooLong reports a 61xx/6Cxx exchange that exceeded its bound.
	ErrChainTooLong = errors.New("apdu: response chain too long")
	// ErrNoTransport reports a Transmitter without a TransmitFunc.
	ErrNoTransport = errors.New("apdu: Transmitter.Tx is nil")
)

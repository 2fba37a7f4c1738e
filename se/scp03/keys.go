package scp03

import (
	"fmt"
	"io"
)

// KeyKind names one of the three static keys of an SCP03 key set.
type KeyKind int

// The static keys of GlobalPlatform Amendment D §4.1.1.
const (
	// KeyENC is the static encryption key, from which S-ENC and the
	// pseudo-random card challenge are derived.
	KeyENC KeyKind = iota + 1
	// KeyMAC is the static MAC key, from which S-MAC and S-RMAC are derived.
	KeyMAC
	// KeyDEK is the data encryption key (for sensitive data such as PUT
	// KEY); the secure channel itself does not use it.
	KeyDEK
)

// String returns "ENC", "MAC" or "DEK".
func (k KeyKind) String() string {
	switch k {
	case KeyENC:
		return "ENC"
	case KeyMAC:
		return "MAC"
	case KeyDEK:
		return "DEK"
	}
	return fmt.Sprintf("KeyKind(%d)", int(k))
}

// KeyProvider holds a static SCP03 key set, possibly in an HSM or TEE, and
// runs the SCP03 KDF (DeriveKey) with it so that the static keys never have
// to leave it. Sessions only ever receive derived values (session keys and
// card challenges).
//
// Implementations must be safe for concurrent use if they are shared by
// sessions in several goroutines; StaticKeys is.
type KeyProvider interface {
	// KeyVersion returns the key version number (KVN) of the key set.
	KeyVersion() byte
	// KeyLen returns the length in bytes of the static keys: 16, 24 or 32.
	// Session keys have the same length.
	KeyLen() int
	// Derive fills out with DeriveKey(static key kind, constant, context,
	// 8*len(out)). It returns an error if the key is unavailable.
	Derive(kind KeyKind, constant byte, context []byte, out []byte) error
}

// StaticKeys is an in-memory KeyProvider: the three AES keys of one key
// set, all of the same length. Use it for tests, development cards and hosts
// that keep keys in process memory; use an HSM-backed KeyProvider otherwise.
//
// Its methods do not modify it and are safe for concurrent use.
type StaticKeys struct {
	KVN           byte   // key version number (P1 of INITIALIZE UPDATE; 0 lets the card choose)
	ENC, MAC, DEK []byte // static AES keys of 16, 24 or 32 bytes each; DEK may be empty
}

var _ KeyProvider = StaticKeys{}

// Validate reports whether ENC, MAC and DEK are AES keys of one length.
// DEK may be empty. Errors wrap ErrKeyLength.
func (k StaticKeys) Validate() error {
	n := len(k.ENC)
	switch n {
	case 16, 24, 32:
	default:
		return fmt.Errorf("%w: ENC key of %d bytes", ErrKeyLength, n)
	}
	if len(k.MAC) != n {
		return fmt.Errorf("%w: MAC key of %d bytes, ENC key of %d", ErrKeyLength, len(k.MAC), n)
	}
	if len(k.DEK) != 0 && len(k.DEK) != n {
		return fmt.Errorf("%w: DEK of %d bytes, ENC key of %d", ErrKeyLength, len(k.DEK), n)
	}
	return nil
}

// KeyVersion returns k.KVN.
func (k StaticKeys) KeyVersion() byte { return k.KVN }

// KeyLen returns the length of the ENC key.
func (k StaticKeys) KeyLen() int { return len(k.ENC) }

// Derive implements KeyProvider.
func (k StaticKeys) Derive(kind KeyKind, constant byte, context []byte, out []byte) error {
	if err := k.Validate(); err != nil {
		return err
	}
	var key []byte
	switch kind {
	case KeyENC:
		key = k.ENC
	case KeyMAC:
		key = k.MAC
	case KeyDEK:
		key = k.DEK
	}
	if len(key) == 0 {
		return fmt.Errorf("%w: no %v key", ErrKeyLength, kind)
	}
	if len(out) == 0 || len(out)*8 > MaxDeriveBits {
		return fmt.Errorf("%w: %d output bytes", ErrDeriveLength, len(out))
	}
	m, err := NewCMAC(key)
	if err != nil {
		return err
	}
	deriveInto(m, constant, context, out)
	m.Zero()
	return nil
}

// String does not print key material.
func (k StaticKeys) String() string {
	return fmt.Sprintf("scp03.StaticKeys{KVN: %02X, AES-%d}", k.KVN, 8*len(k.ENC))
}

// GoString does not print key material.
func (k StaticKeys) GoString() string { return k.String() }

// Format implements fmt.Formatter: every verb (%v, %d, %x, %+v, …) prints
// String, never the key bytes, also when the StaticKeys is a field of a
// larger exported structure.
func (k StaticKeys) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// Zero overwrites the three keys with zeros, for a caller that is done with
// an in-memory key set. The slices are shared with every copy of k.
func (k StaticKeys) Zero() {
	clear(k.ENC)
	clear(k.MAC)
	clear(k.DEK)
}

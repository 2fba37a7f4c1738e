package scp03

import "fmt"

// Derivation constants of GlobalPlatform Card Specification v2.3 Amendment D
// (SCP03) v1.2 §4.1.5, Table 4-1.
const (
	DeriveCardCryptogram byte = 0x00 // card authentication cryptogram
	DeriveHostCryptogram byte = 0x01 // host authentication cryptogram
	DeriveCardChallenge  byte = 0x02 // pseudo-random card challenge
	DeriveSENC           byte = 0x04 // S-ENC session key
	DeriveSMAC           byte = 0x06 // S-MAC session key
	DeriveSRMAC          byte = 0x07 // S-RMAC session key
)

// MaxDeriveBits is the longest output DeriveKey produces: the SCP03 KDF
// uses a one-byte counter, so at most 255 CMAC blocks.
const MaxDeriveBits = 255 * 128

// DeriveKey runs the SCP03 key derivation function: NIST SP 800-108 KDF in
// counter mode with AES-CMAC as PRF, with the fixed input data ordered as
// GlobalPlatform Amendment D §4.1.5 specifies:
//
//	label (11 bytes 00 ‖ constant) ‖ 00 ‖ L (2 bytes, bits) ‖ i (1 byte) ‖ context
//
// for i = 1, 2, … until bits of output are produced. key is the AES key (16,
// 24 or 32 bytes, else an error wrapping ErrKeyLength); bits must be a
// positive multiple of 8 not above MaxDeriveBits (else ErrDeriveLength).
func DeriveKey(key []byte, constant byte, context []byte, bits int) ([]byte, error) {
	if bits <= 0 || bits%8 != 0 || bits > MaxDeriveBits {
		return nil, fmt.Errorf("%w: %d output bits", ErrDeriveLength, bits)
	}
	m, err := NewCMAC(key)
	if err != nil {
		return nil, err
	}
	defer m.Zero()
	out := make([]byte, bits/8)
	deriveInto(m, constant, context, out)
	return out, nil
}

// deriveInto fills out (at most MaxDeriveBits/8 bytes) with the SCP03 KDF
// keyed by m.
func deriveInto(m *CMAC, constant byte, context []byte, out []byte) {
	bits := len(out) * 8
	var fixed [16]byte // label(12) ‖ separator ‖ L(2) ‖ counter
	fixed[11] = constant
	fixed[13] = byte(bits >> 8)
	fixed[14] = byte(bits)
	var block [16]byte
	for i := 1; len(out) > 0; i++ {
		fixed[15] = byte(i)
		m.Reset()
		m.Write(fixed[:])
		m.Write(context)
		m.sum(&block)
		n := copy(out, block[:])
		out = out[n:]
	}
	m.Reset()
	clear(block[:])
}

package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
)

// MACSize is the size of an AES-CMAC tag and of the SCP03 MAC chaining
// value, in bytes.
const MACSize = 16

// CMAC is AES-CMAC (NIST SP 800-38B, RFC 4493) keyed once and reused: the
// subkeys K1 and K2 are computed when the key is set, so each MAC costs one
// block encryption per 16 bytes of message and nothing else.
//
// CMAC implements hash.Hash: Write never fails, Sum appends the 16-byte tag
// without changing the state, Reset starts a new message under the same key.
// A CMAC is not safe for concurrent use.
//
// The zero CMAC has no key: Write returns ErrNotInitialized, and Sum and
// MAC panic (a programmer error: they cannot return an error, and a tag
// computed without a key must never be compared). Use NewCMAC.
type CMAC struct {
	block  cipher.Block
	k1, k2 [16]byte
	x      [16]byte // CBC-MAC state over the complete blocks written so far
	buf    [16]byte // the last, possibly partial, block (held back for K1/K2)
	n      int      // bytes in buf
	tmp    [16]byte
	out    [16]byte // tag scratch, so that Sum and MAC do not allocate
}

var _ hash.Hash = (*CMAC)(nil)

// NewCMAC returns an AES-CMAC keyed with key, which must be 16, 24 or 32
// bytes (AES-128, AES-192, AES-256); other lengths are an error wrapping
// ErrKeyLength.
func NewCMAC(key []byte) (*CMAC, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("%w: AES key of %d bytes (want 16, 24 or 32)", ErrKeyLength, len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyLength, err)
	}
	return NewCMACFromBlock(b)
}

// NewCMACFromBlock returns a CMAC over any 128-bit block cipher, for example
// an AES key held in hardware. It returns ErrKeyLength if the block size is
// not 16 bytes.
func NewCMACFromBlock(b cipher.Block) (*CMAC, error) {
	if b.BlockSize() != 16 {
		return nil, fmt.Errorf("%w: block size %d, want 16", ErrKeyLength, b.BlockSize())
	}
	m := &CMAC{block: b}
	// SP 800-38B §6.1: L = CIPH_K(0^128), K1 = dbl(L), K2 = dbl(K1).
	var l [16]byte
	b.Encrypt(l[:], l[:])
	dbl(&m.k1, &l)
	dbl(&m.k2, &m.k1)
	clear(l[:])
	return m, nil
}

// dbl doubles in GF(2^128) with the polynomial x^128 + x^7 + x^2 + x + 1
// (Rb = 0x87), in constant time.
func dbl(dst, src *[16]byte) {
	msb := src[0] >> 7
	for i := 0; i < 15; i++ {
		dst[i] = src[i]<<1 | src[i+1]>>7
	}
	dst[15] = src[15]<<1 ^ (0x87 & -msb)
}

// Size returns MACSize.
func (m *CMAC) Size() int { return MACSize }

// BlockSize returns the AES block size, 16.
func (m *CMAC) BlockSize() int { return 16 }

// Reset discards the message written so far; the key and subkeys are kept.
func (m *CMAC) Reset() {
	clear(m.x[:])
	clear(m.buf[:])
	m.n = 0
}

// Write adds p to the message. It never returns an error, except
// ErrNotInitialized for a zero CMAC.
func (m *CMAC) Write(p []byte) (int, error) {
	if m.block == nil {
		return 0, ErrNotInitialized
	}
	total := len(p)
	for len(p) > 0 {
		if m.n == 16 {
			subtle16(&m.x, &m.buf)
			m.block.Encrypt(m.x[:], m.x[:])
			m.n = 0
		}
		// Whole blocks that are certainly not the last one go straight in.
		for m.n == 0 && len(p) > 16 {
			le := binary.LittleEndian
			le.PutUint64(m.x[:8], le.Uint64(m.x[:8])^le.Uint64(p[:8]))
			le.PutUint64(m.x[8:], le.Uint64(m.x[8:])^le.Uint64(p[8:16]))
			m.block.Encrypt(m.x[:], m.x[:])
			p = p[16:]
		}
		k := copy(m.buf[m.n:], p)
		m.n += k
		p = p[k:]
	}
	return total, nil
}

// subtle16 sets dst ^= src.
func subtle16(dst, src *[16]byte) {
	le := binary.LittleEndian
	le.PutUint64(dst[:8], le.Uint64(dst[:8])^le.Uint64(src[:8]))
	le.PutUint64(dst[8:], le.Uint64(dst[8:])^le.Uint64(src[8:]))
}

// sum writes the tag of the message so far into out without changing the
// message state.
func (m *CMAC) sum(out *[16]byte) {
	m.mustHaveKey()
	// SP 800-38B §6.2 steps 3–6.
	if m.n == 16 {
		m.tmp = m.buf
		subtle16(&m.tmp, &m.k1)
	} else {
		clear(m.tmp[:])
		copy(m.tmp[:], m.buf[:m.n])
		m.tmp[m.n] = 0x80
		subtle16(&m.tmp, &m.k2)
	}
	subtle16(&m.tmp, &m.x)
	m.block.Encrypt(out[:], m.tmp[:])
}

// Sum appends the 16-byte tag of the message written so far to b and
// returns the result. The state is unchanged: more data may be written.
func (m *CMAC) Sum(b []byte) []byte {
	m.sum(&m.out)
	return append(b, m.out[:]...)
}

// MAC returns the tag of msg under the CMAC's key, resetting the state
// first and afterwards.
func (m *CMAC) MAC(msg []byte) [MACSize]byte {
	m.mustHaveKey()
	if len(msg) <= 16 {
		// One-block message: T = CIPH_K(M* xor K), with M* the (padded)
		// block and K = K1 for a complete block, K2 otherwise.
		m.Reset()
		if len(msg) == 16 {
			copy(m.tmp[:], msg)
			subtle16(&m.tmp, &m.k1)
		} else {
			clear(m.tmp[:])
			copy(m.tmp[:], msg)
			m.tmp[len(msg)] = 0x80
			subtle16(&m.tmp, &m.k2)
		}
		m.block.Encrypt(m.out[:], m.tmp[:])
		return m.out
	}
	m.Reset()
	m.Write(msg)
	m.sum(&m.out)
	m.Reset()
	return m.out
}

// Zero clears the subkeys and the message state. The CMAC must not be used
// afterwards. (The AES key schedule inside crypto/aes cannot be wiped from
// outside; dropping the CMAC makes it unreachable.)
func (m *CMAC) Zero() {
	clear(m.k1[:])
	clear(m.k2[:])
	m.Reset()
	clear(m.tmp[:])
	clear(m.out[:])
	m.block = zeroBlock{}
}

// mustHaveKey panics for a zero CMAC (see the type's doc).
func (m *CMAC) mustHaveKey() {
	if m.block == nil {
		panic("scp03: Sum or MAC of a zero CMAC (create it with NewCMAC)")
	}
}

// zeroBlock replaces a discarded cipher so that use after Zero cannot leak
// the old key's output.
type zeroBlock struct{}

func (zeroBlock) BlockSize() int { return 16 }
func (zeroBlock) Encrypt(dst, src []byte) {
	clear(dst[:16])
}
func (zeroBlock) Decrypt(dst, src []byte) {
	clear(dst[:16])
}

// String does not print the subkeys.
func (m *CMAC) String() string { return "scp03.CMAC{AES}" }

// GoString does not print the subkeys.
func (m *CMAC) GoString() string { return m.String() }

// Format implements fmt.Formatter: every verb prints String, never the
// subkeys or the cipher's key schedule.
func (m *CMAC) Format(f fmt.State, _ rune) { io.WriteString(f, m.String()) }

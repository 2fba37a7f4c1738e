package vehicle

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// MaxIDLen bounds vehicle, base-station and account identifiers, in bytes.
const MaxIDLen = 64

// protocolLabel separates this protocol's keys from every other use of the
// same X25519 secrets (HKDF salt, RFC 5869 §3.1).
const protocolLabel = "payedge/vehicle/v1"

// VehicleID names an enrolled vehicle: 1 to MaxIDLen bytes of printable
// UTF-8. It never appears in clear in a broadcast envelope.
type VehicleID string

// Validate reports whether id is a well-formed identifier.
func (id VehicleID) Validate() error { return checkID("vehicle ID", string(id)) }

func checkID(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidID, what)
	}
	if len(s) > MaxIDLen {
		return fmt.Errorf("%w: %s is %d bytes, at most %d", ErrInvalidID, what, len(s), MaxIDLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidID, what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s has a control character", ErrInvalidID, what)
		}
	}
	return nil
}

// RequestID identifies one payment request end to end; the payment platform
// uses it as the idempotency key of the transfer.
type RequestID [16]byte

// String returns the ID in hex.
func (r RequestID) String() string { return hex.EncodeToString(r[:]) }

// NewRequestID reads a fresh random ID from rand.
func NewRequestID(rand io.Reader) (RequestID, error) {
	var id RequestID
	if rand == nil {
		return id, fmt.Errorf("%w: nil random source", ErrInvalidConfig)
	}
	if _, err := io.ReadFull(rand, id[:]); err != nil {
		return id, fmt.Errorf("vehicle: request ID: %w", err)
	}
	return id, nil
}

// Enrolment is the data the network keeps about a vehicle besides its key.
type Enrolment struct {
	Account    string    // payment-platform account the vehicle pays from and into
	EnrolledAt time.Time // when the network enrolled the vehicle
}

// VehicleInfo is what the network registers for a vehicle: its identifier,
// the public half of its long-term X25519 key pair with the key's
// generation, and enrolment data. The private half stays in the Vehicle;
// the base station combines the public half with the network key to derive
// the keys it seals with ("encrypting with the friend's vehicle
// information").
type VehicleInfo struct {
	ID         VehicleID
	PublicKey  []byte // 32-byte X25519 public key (RFC 7748)
	Generation uint32 // 1 at enrolment, increased by every key rotation
	Enrolment  Enrolment
}

// Validate checks the identifier, key, generation and account.
func (i VehicleInfo) Validate() error {
	if err := i.ID.Validate(); err != nil {
		return err
	}
	if _, err := ecdh.X25519().NewPublicKey(i.PublicKey); err != nil {
		return fmt.Errorf("%w: vehicle %q: %d-byte public key", ErrInvalidKey, i.ID, len(i.PublicKey))
	}
	if i.Generation == 0 {
		return fmt.Errorf("%w: vehicle %q: key generation 0 (generations start at 1)", ErrInvalidKey, i.ID)
	}
	if i.Enrolment.Account != "" {
		if err := checkID("account", i.Enrolment.Account); err != nil {
			return err
		}
	}
	return nil
}

// account returns the payment account, the vehicle ID when none is set.
func (i VehicleInfo) account() string {
	if i.Enrolment.Account != "" {
		return i.Enrolment.Account
	}
	return string(i.ID)
}

// GenerateKey returns a fresh X25519 key pair read from rand.
func GenerateKey(rand io.Reader) (*ecdh.PrivateKey, error) {
	if rand == nil {
		return nil, fmt.Errorf("%w: nil random source", ErrInvalidConfig)
	}
	// X25519 private keys are 32 uniformly random bytes (RFC 7748 §6.1),
	// read here from the injected source so seeded runs are reproducible
	// (crypto/ecdh's GenerateKey ignores its rand argument since Go 1.26).
	var b [32]byte
	defer clear(b[:])
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("vehicle: generate X25519 key: %w", err)
	}
	k, err := ecdh.X25519().NewPrivateKey(b[:])
	if err != nil {
		return nil, fmt.Errorf("vehicle: generate X25519 key: %w", err)
	}
	return k, nil
}

// Key schedule (one X25519 per vehicle key generation, then HKDF-SHA256,
// RFC 5869):
//
//	z        = X25519(vehicle, network)           = X25519(network, vehicle)
//	prk      = HKDF-Extract(salt = protocolLabel, z)
//	hintKey  = HKDF-Expand(prk, "hint" ‖ gen ‖ id ‖ pub, 16)
//	pair R→F = HKDF-Expand(prk, "pair" ‖ gen ‖ R ‖ F ‖ pub, 32+32+32+4)
//	           = aead key ‖ header-protection key ‖ confirmation key ‖ slot
//
// The recipient-wide hint key lets a vehicle test an envelope with one hash
// whatever its number of friends; the pair keys are per friend pair, so
// ending a friendship or rotating a key ends exactly that pair's keys.

// recipientKeys is the per-(vehicle, generation) material.
type recipientKeys struct {
	gen  uint32
	hint [16]byte
	prk  [32]byte
}

// pairKeys is the per-(requester, recipient, generation) material.
type pairKeys struct {
	requester, recipient VehicleID
	gen                  uint32
	aead                 aeadOpener
	hp                   [32]byte // header protection (sequence, request ID)
	confirm              [32]byte // key of the responder's confirmation tag
	slot                 uint32   // pair selector, sent masked
}

// aeadOpener is the part of cipher.AEAD the package uses.
type aeadOpener interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

func lp(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func deriveRecipient(z []byte, id VehicleID, pub []byte, gen uint32) (*recipientKeys, error) {
	prk, err := hkdf.Extract(sha256.New, z, []byte(protocolLabel))
	if err != nil {
		return nil, fmt.Errorf("vehicle: hkdf: %w", err)
	}
	rk := &recipientKeys{gen: gen}
	copy(rk.prk[:], prk)
	clear(prk)
	info := make([]byte, 0, 8+MaxIDLen+32)
	info = append(info, "hint"...)
	info = binary.BigEndian.AppendUint32(info, gen)
	info = lp(info, string(id))
	info = append(info, pub...)
	h, err := hkdf.Expand(sha256.New, rk.prk[:], string(info), len(rk.hint))
	if err != nil {
		return nil, fmt.Errorf("vehicle: hkdf: %w", err)
	}
	copy(rk.hint[:], h)
	clear(h)
	return rk, nil
}

func derivePair(rk *recipientKeys, requester, recipient VehicleID, pub []byte) (*pairKeys, error) {
	info := make([]byte, 0, 8+2*MaxIDLen+34)
	info = append(info, "pair"...)
	info = binary.BigEndian.AppendUint32(info, rk.gen)
	info = lp(info, string(requester))
	info = lp(info, string(recipient))
	info = append(info, pub...)
	okm, err := hkdf.Expand(sha256.New, rk.prk[:], string(info), 32+32+32+4)
	if err != nil {
		return nil, fmt.Errorf("vehicle: hkdf: %w", err)
	}
	defer clear(okm)
	aead, err := chacha20poly1305.NewX(okm[:32])
	if err != nil {
		return nil, fmt.Errorf("vehicle: xchacha20-poly1305: %w", err)
	}
	pk := &pairKeys{requester: requester, recipient: recipient, gen: rk.gen, aead: aead}
	copy(pk.hp[:], okm[32:64])
	copy(pk.confirm[:], okm[64:96])
	pk.slot = binary.BigEndian.Uint32(okm[96:100])
	return pk, nil
}

func (rk *recipientKeys) zero() { clear(rk.hint[:]); clear(rk.prk[:]) }

func (pk *pairKeys) zero() {
	clear(pk.hp[:])
	clear(pk.confirm[:])
	pk.aead = nil // the AEAD's own key copy is dropped with it
}

// hintOf is the randomised key hint: SHA-256(hintKey ‖ nonce), a keyed hash
// of the envelope's fresh nonce. Its first 16 bytes are the hint, the next 4
// mask the pair selector. Prefix-keyed SHA-256 over a fixed-length input is
// a PRF (Bellare, Canetti, Krawczyk, "Pseudorandom functions revisited: the
// cascade construction", FOCS 1996): length extension needs inputs of
// varying length. 16 + 24 bytes fit one SHA-256 block, so a vehicle tests
// an envelope with one compression.
func hintOf(key *[16]byte, nonce []byte) [32]byte {
	var buf [16 + NonceSize]byte
	copy(buf[:16], key[:])
	copy(buf[16:], nonce)
	return sha256.Sum256(buf[:])
}

// headerMask masks the protected header (sequence ‖ request ID), as QUIC
// protects packet numbers (RFC 9001 §5.4), so neither links broadcasts.
func headerMask(hp *[32]byte, nonce []byte) [32]byte {
	var buf [32 + NonceSize]byte
	copy(buf[:32], hp[:])
	copy(buf[32:], nonce)
	return sha256.Sum256(buf[:])
}

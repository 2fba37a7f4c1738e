package biometric

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Bounds of an enrolment record.
const (
	// MaxTokenLen bounds Record.Token in bytes.
	MaxTokenLen = 256
	// MaxCardRefLen bounds Record.CardRef in bytes.
	MaxCardRefLen = 64
	// MaxSealedLen bounds a sealed record in bytes (what Open accepts).
	MaxSealedLen = 1 + chacha20poly1305.NonceSizeX + 64 + MaxIDLen + MaxTokenLen + MaxCardRefLen + 4*MaxDim + chacha20poly1305.Overhead
	// KeySize is the size of a sealing key in bytes.
	KeySize = chacha20poly1305.KeySize
)

// Record is one enrolled person: their template and what identification
// releases — a payment token and a masked card reference, never the PAN.
type Record struct {
	// ID is the enrolment ID (the index key), 1 to MaxIDLen bytes.
	ID string
	// Token is the payment token the authoriser (or the host's token
	// vault) resolves to a card, 1 to MaxTokenLen bytes.
	Token string
	// CardRef is a masked card reference for receipts and screens, such as
	// "VISA •••• 4242"; it must not hold a run of more than 4 digits.
	CardRef  string
	Modality Modality
	// Template is the enrolled embedding (normalised on Enrol).
	Template   Template
	EnrolledAt time.Time
}

// Validate checks every field's bounds; errors wrap ErrRecord or, for the
// template, ErrDimension, ErrNotFinite or ErrZeroVector.
func (r Record) Validate() error {
	if err := checkID(r.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrRecord, err)
	}
	if r.Token == "" || len(r.Token) > MaxTokenLen {
		return fmt.Errorf("%w: token length %d not in [1, %d]", ErrRecord, len(r.Token), MaxTokenLen)
	}
	if len(r.CardRef) > MaxCardRefLen {
		return fmt.Errorf("%w: card reference longer than %d", ErrRecord, MaxCardRefLen)
	}
	run := 0
	for i := 0; i < len(r.CardRef); i++ {
		if c := r.CardRef[i]; c >= '0' && c <= '9' {
			if run++; run > 4 {
				return fmt.Errorf("%w: card reference holds more than 4 digits in a row (mask the PAN)", ErrRecord)
			}
		} else {
			run = 0
		}
	}
	if r.Modality >= modalityEnd {
		return fmt.Errorf("%w: modality %d", ErrRecord, r.Modality)
	}
	if err := checkVector(r.Template, 0); err != nil {
		return err
	}
	if !(norm(r.Template) > 1e-12) {
		return ErrZeroVector
	}
	return nil
}

// MaskToken returns the last four bytes of a token behind "…", for logs.
func MaskToken(token string) string {
	if len(token) <= 4 {
		return "…"
	}
	return "…" + token[len(token)-4:]
}

// recordVersion is the first byte of a record's plaintext and of a sealed record.
const recordVersion = 1

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// marshal encodes a valid record:
//
//	version u8 | id | token | cardref (each u16 length + bytes) | modality u8 |
//	enrolled-at unix ns i64 | dim u16 | dim × float32, big-endian
func (r Record) marshal() []byte {
	b := make([]byte, 0, 1+6+len(r.ID)+len(r.Token)+len(r.CardRef)+1+8+2+4*len(r.Template))
	b = append(b, recordVersion)
	b = appendString(b, r.ID)
	b = appendString(b, r.Token)
	b = appendString(b, r.CardRef)
	b = append(b, byte(r.Modality))
	var ns int64
	if !r.EnrolledAt.IsZero() {
		ns = r.EnrolledAt.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(ns))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Template)))
	for _, x := range r.Template {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// reader is a bounds-checked cursor over a byte slice.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() byte {
	p := r.bytes(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16() int {
	p := r.bytes(2)
	if p == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(p))
}

func (r *reader) str(max int) string {
	n := r.u16()
	if n > max {
		r.bad = true
		return ""
	}
	return string(r.bytes(n))
}

// DecodeRecord parses a record's plaintext (as sealed by Sealer) and
// validates it. Errors wrap ErrRecord (or the template errors of Validate).
func DecodeRecord(b []byte) (Record, error) {
	rd := reader{b: b}
	if v := rd.u8(); v != recordVersion {
		return Record{}, fmt.Errorf("%w: version %d", ErrRecord, v)
	}
	var r Record
	r.ID = rd.str(MaxIDLen)
	r.Token = rd.str(MaxTokenLen)
	r.CardRef = rd.str(MaxCardRefLen)
	r.Modality = Modality(rd.u8())
	nsb := rd.bytes(8)
	dim := rd.u16()
	if rd.bad || dim > MaxDim {
		return Record{}, fmt.Errorf("%w: truncated or oversized field", ErrRecord)
	}
	if ns := int64(binary.BigEndian.Uint64(nsb)); ns != 0 {
		r.EnrolledAt = time.Unix(0, ns).UTC()
	}
	fb := rd.bytes(4 * dim)
	if rd.bad || len(rd.b) != 0 {
		return Record{}, fmt.Errorf("%w: truncated template or trailing bytes", ErrRecord)
	}
	r.Template = make(Template, dim)
	for i := range r.Template {
		r.Template[i] = math.Float32frombits(binary.BigEndian.Uint32(fb[4*i:]))
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// Sealer seals enrolment records at rest with XChaCha20-Poly1305 (RFC 8439
// ChaCha20-Poly1305 with a 24-byte random nonce, golang.org/x/crypto) under a
// host-supplied 32-byte key. The record ID is the associated data, so a
// sealed record moved to another ID does not open.
//
// Sealed form: version u8 | nonce (24 bytes) | ciphertext ‖ tag (16 bytes).
//
// A Sealer is safe for concurrent use. Close zeroes its copy of the key.
// The zero Sealer returns ErrNotInitialized.
type Sealer struct {
	mu     sync.RWMutex
	key    []byte
	random io.Reader
}

// NewSealer copies key (KeySize bytes) and reads nonces from random
// (crypto/rand.Reader if nil). Errors wrap ErrKey.
func NewSealer(key []byte, random io.Reader) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrKey, len(key), KeySize)
	}
	if random == nil {
		random = rand.Reader
	}
	return &Sealer{key: append([]byte(nil), key...), random: random}, nil
}

func additionalData(id string) []byte {
	return append([]byte("payedge/biometric/record/v1\x00"), id...)
}

// Seal validates r and returns its sealed form. Errors wrap ErrRecord,
// ErrClosed or ErrNotInitialized, or report a failing random source.
func (s *Sealer) Seal(r Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.random == nil {
		return nil, ErrNotInitialized
	}
	if s.key == nil {
		return nil, ErrClosed
	}
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	pt := r.marshal()
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(pt)+aead.Overhead())
	out[0] = recordVersion
	if _, err := io.ReadFull(s.random, out[1:]); err != nil {
		return nil, fmt.Errorf("biometric: reading nonce: %w", err)
	}
	out = aead.Seal(out, out[1:], pt, additionalData(r.ID))
	clear(pt)
	return out, nil
}

// Open authenticates and decrypts a record sealed under id. A tampered,
// truncated, oversized or swapped record, or one sealed under another key,
// wraps ErrSealed; a record that opens but does not decode wraps ErrRecord.
func (s *Sealer) Open(id string, sealed []byte) (Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.random == nil {
		return Record{}, ErrNotInitialized
	}
	if s.key == nil {
		return Record{}, ErrClosed
	}
	const min = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
	if len(sealed) < min || len(sealed) > MaxSealedLen || sealed[0] != recordVersion {
		return Record{}, fmt.Errorf("%w: %d bytes or unknown version", ErrSealed, len(sealed))
	}
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrKey, err)
	}
	nonce := sealed[1 : 1+chacha20poly1305.NonceSizeX]
	pt, err := aead.Open(nil, nonce, sealed[1+chacha20poly1305.NonceSizeX:], additionalData(id))
	if err != nil {
		return Record{}, fmt.Errorf("%w: record %q", ErrSealed, truncate(id, 64))
	}
	defer clear(pt)
	r, err := DecodeRecord(pt)
	if err != nil {
		return Record{}, err
	}
	if r.ID != id {
		return Record{}, fmt.Errorf("%w: record names another ID", ErrSealed)
	}
	return r, nil
}

// Close zeroes the key; later Seal and Open return ErrClosed.
func (s *Sealer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.random == nil {
		return ErrNotInitialized
	}
	clear(s.key)
	s.key = nil
	return nil
}

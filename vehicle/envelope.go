package vehicle

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Wire format constants.
const (
	// Version is the envelope wire version this package writes and reads.
	Version = 1
	// NonceSize is the XChaCha20-Poly1305 nonce size; the nonce is fresh
	// and random for every broadcast.
	NonceSize = 24
	// HintSize is the size of the randomised key hint.
	HintSize = 16
	// SlotSize is the size of the masked pair selector.
	SlotSize = 4
	// ProtectedSize is the masked sequence number (8) and request ID (16).
	ProtectedSize = 8 + 16
	// TagSize is the Poly1305 tag size.
	TagSize = 16
	// MaxPayload bounds a request's opaque payload, in bytes.
	MaxPayload = 1024
	// MaxPlaintext bounds the sealed request: two fixed-width identifiers
	// (length byte, MaxIDLen bytes zero-padded), the amount and the payload
	// with its length prefix. Only the payload's size varies, so the
	// ciphertext length never depends on who pays whom.
	MaxPlaintext = 2*(1+MaxIDLen) + 8 + 2 + MaxPayload
	// MaxCiphertext bounds the ciphertext field.
	MaxCiphertext = MaxPlaintext + TagSize
	// MaxEnvelopeSize bounds a whole envelope; UnmarshalBinary and TryOpen
	// reject anything longer before reading it.
	MaxEnvelopeSize = headerFixed + MaxIDLen + MaxCiphertext

	headerFixed = 1 + 1 + 8 + NonceSize + HintSize + SlotSize + ProtectedSize + 2
)

// Envelope is one sealed broadcast. Its wire form (version 1) is
//
//	version      1 byte  (1)
//	bsLen        1 byte  (1…MaxIDLen)
//	baseStation  bsLen bytes
//	timestamp    8 bytes, Unix milliseconds, big endian
//	nonce        24 bytes, fresh random
//	hint         16 bytes, keyed hash of the nonce under the recipient's hint key
//	slot         4 bytes, pair selector masked by the same hash
//	protected    24 bytes, sequence ‖ request ID masked under the pair key
//	ctLen        2 bytes, big endian (TagSize…MaxCiphertext)
//	ciphertext   ctLen bytes, XChaCha20-Poly1305
//
// The associated data is every byte before the ciphertext with the
// protected field unmasked, so the AEAD binds base-station ID, timestamp,
// sequence number and request ID. No field names either vehicle, and every
// field except version, base station and timestamp changes with each
// broadcast, so two broadcasts of one request share no linkable bytes.
// The sealed identifiers have a fixed width (MaxPlaintext), so the length
// varies with the payload size only, never with who pays whom.
type Envelope struct {
	BaseStation string
	Timestamp   time.Time // millisecond precision on the wire
	Nonce       [NonceSize]byte
	Hint        [HintSize]byte
	Slot        [SlotSize]byte
	Protected   [ProtectedSize]byte
	Ciphertext  []byte
}

// MarshalBinary encodes the envelope in the version-1 wire format.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	if e == nil {
		return nil, ErrNotInitialized
	}
	if err := e.check(); err != nil {
		return nil, err // before allocating anything of the fields' sizes
	}
	return e.AppendBinary(make([]byte, 0, headerFixed+len(e.BaseStation)+len(e.Ciphertext)))
}

// check reports fields the wire format cannot carry.
func (e *Envelope) check() error {
	if err := checkID("base station ID", e.BaseStation); err != nil {
		return err
	}
	if len(e.Ciphertext) < TagSize || len(e.Ciphertext) > MaxCiphertext {
		return &EnvelopeError{Field: "ciphertext", Err: fmt.Errorf("%w: %d bytes, want %d…%d", ErrMalformed, len(e.Ciphertext), TagSize, MaxCiphertext)}
	}
	return nil
}

// AppendBinary appends the wire form of e to b.
func (e *Envelope) AppendBinary(b []byte) ([]byte, error) {
	if e == nil {
		return nil, ErrNotInitialized
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	b = append(b, Version, byte(len(e.BaseStation)))
	b = append(b, e.BaseStation...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Timestamp.UnixMilli()))
	b = append(b, e.Nonce[:]...)
	b = append(b, e.Hint[:]...)
	b = append(b, e.Slot[:]...)
	b = append(b, e.Protected[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Ciphertext)))
	return append(b, e.Ciphertext...), nil
}

// UnmarshalBinary decodes data, which must be exactly one version-1
// envelope of at most MaxEnvelopeSize bytes whose base-station ID is
// printable UTF-8. Errors are *EnvelopeError; whatever it accepts,
// MarshalBinary writes back byte for byte.
func (e *Envelope) UnmarshalBinary(data []byte) error {
	if e == nil {
		return ErrNotInitialized
	}
	var v view
	if err := v.parse(data); err != nil {
		return err
	}
	if err := checkID("base station ID", string(v.bs)); err != nil {
		return &EnvelopeError{Field: "baseStation", Offset: 2, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	*e = Envelope{
		BaseStation: string(v.bs),
		Timestamp:   time.UnixMilli(v.ts),
		Ciphertext:  append([]byte(nil), v.ct...),
	}
	copy(e.Nonce[:], v.nonce)
	copy(e.Hint[:], v.hint)
	copy(e.Slot[:], v.slot)
	copy(e.Protected[:], v.protected)
	return nil
}

// view is a parsed envelope whose fields alias the wire bytes; parsing
// allocates nothing unless the input is bad.
type view struct {
	wire                                 []byte
	bs, nonce, hint, slot, protected, ct []byte
	ts                                   int64
	protectedOff, ctLenOff               int
}

var errVersion = &EnvelopeError{Field: "version", Offset: 0, Err: ErrUnsupportedVersion}

func (v *view) parse(d []byte) error {
	if len(d) > MaxEnvelopeSize {
		return &EnvelopeError{Field: "envelope", Offset: MaxEnvelopeSize, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrOversized, len(d), MaxEnvelopeSize)}
	}
	if len(d) < 2 {
		return &EnvelopeError{Field: "header", Offset: len(d), Err: ErrTruncated}
	}
	if d[0] != Version {
		return errVersion
	}
	n := int(d[1])
	if n == 0 || n > MaxIDLen {
		return &EnvelopeError{Field: "bsLen", Offset: 1, Err: fmt.Errorf("%w: base-station ID of %d bytes", ErrMalformed, n)}
	}
	if len(d) < headerFixed+n {
		return &EnvelopeError{Field: "header", Offset: len(d), Err: ErrTruncated}
	}
	off := 2
	v.wire = d
	v.bs = d[off : off+n]
	off += n
	v.ts = int64(binary.BigEndian.Uint64(d[off:]))
	off += 8
	v.nonce = d[off : off+NonceSize]
	off += NonceSize
	v.hint = d[off : off+HintSize]
	off += HintSize
	v.slot = d[off : off+SlotSize]
	off += SlotSize
	v.protectedOff = off
	v.protected = d[off : off+ProtectedSize]
	off += ProtectedSize
	v.ctLenOff = off
	l := int(binary.BigEndian.Uint16(d[off:]))
	off += 2
	switch {
	case l < TagSize || l > MaxCiphertext:
		return &EnvelopeError{Field: "ctLen", Offset: v.ctLenOff, Err: fmt.Errorf("%w: ciphertext length %d, want %d…%d", ErrMalformed, l, TagSize, MaxCiphertext)}
	case len(d)-off < l:
		return &EnvelopeError{Field: "ciphertext", Offset: off, Err: ErrTruncated}
	case len(d)-off > l:
		return &EnvelopeError{Field: "ciphertext", Offset: off + l, Err: fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d)-off-l)}
	}
	v.ct = d[off : off+l]
	return nil
}

// additionalData is the AEAD associated data: the wire header up to the
// ciphertext with the protected field replaced by its unmasked value.
func (v *view) additionalData(unmasked []byte) []byte {
	ad := make([]byte, v.ctLenOff+2)
	copy(ad, v.wire[:v.ctLenOff+2])
	copy(ad[v.protectedOff:], unmasked)
	return ad
}

// Request is a payment request: the requester (payee) asks its friend
// (payer) for Amount minor units. Payload is opaque to the package (an
// invoice, a toll reference) and at most MaxPayload bytes.
type Request struct {
	ID      RequestID
	From    VehicleID // requesting vehicle, paid on success
	To      VehicleID // the friend, who pays
	Amount  int64     // minor units, > 0
	Payload []byte
}

// Validate checks identifiers, amount and payload size.
func (r *Request) Validate() error {
	if r == nil {
		return ErrNotInitialized
	}
	if err := r.From.Validate(); err != nil {
		return fmt.Errorf("requester: %w", err)
	}
	if err := r.To.Validate(); err != nil {
		return fmt.Errorf("friend: %w", err)
	}
	if r.From == r.To {
		return ErrSelfFriend
	}
	if r.Amount <= 0 {
		return fmt.Errorf("%w: amount %d, want > 0", ErrInvalidRequest, r.Amount)
	}
	if len(r.Payload) > MaxPayload {
		return fmt.Errorf("%w: payload of %d bytes, at most %d", ErrInvalidRequest, len(r.Payload), MaxPayload)
	}
	return nil
}

// plaintextIDSize is the fixed width of an identifier in the sealed
// plaintext: a length byte and MaxIDLen bytes, zero-padded, so the
// ciphertext length depends on the payload only and never reveals which
// vehicles (of which ID lengths) pay each other.
const plaintextIDSize = 1 + MaxIDLen

// appendID appends s as a fixed-width, zero-padded plaintext field.
func appendID(b []byte, s string) []byte {
	b = lp(b, s)
	var pad [MaxIDLen]byte
	return append(b, pad[:MaxIDLen-len(s)]...)
}

func (r *Request) appendPlaintext(b []byte) []byte {
	b = appendID(b, string(r.From))
	b = appendID(b, string(r.To))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Amount))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Payload)))
	return append(b, r.Payload...)
}

// parsePlaintext reads what appendPlaintext wrote. It runs only on
// authenticated bytes, but still checks every bound and that the padding
// is zero (one plaintext per request).
func parsePlaintext(p []byte, r *Request) bool {
	readID := func() (VehicleID, bool) {
		if len(p) < plaintextIDSize {
			return "", false
		}
		n := int(p[0])
		if n > MaxIDLen {
			return "", false
		}
		for _, c := range p[1+n : plaintextIDSize] {
			if c != 0 {
				return "", false
			}
		}
		s := VehicleID(p[1 : 1+n])
		p = p[plaintextIDSize:]
		return s, s.Validate() == nil
	}
	var ok bool
	if r.From, ok = readID(); !ok {
		return false
	}
	if r.To, ok = readID(); !ok {
		return false
	}
	if len(p) < 10 {
		return false
	}
	r.Amount = int64(binary.BigEndian.Uint64(p))
	n := int(binary.BigEndian.Uint16(p[8:]))
	p = p[10:]
	if n != len(p) || n > MaxPayload || r.Amount <= 0 {
		return false
	}
	r.Payload = p
	return true
}

// seal builds the wire envelope of req for the pair keys pk of recipient
// keys rk.
func seal(rand io.Reader, rk *recipientKeys, pk *pairKeys, bs string, ts time.Time, seq uint64, req *Request) ([]byte, error) {
	var e Envelope
	if _, err := io.ReadFull(rand, e.Nonce[:]); err != nil {
		return nil, fmt.Errorf("vehicle: nonce: %w", err)
	}
	e.BaseStation = bs
	e.Timestamp = ts
	h := hintOf(&rk.hint, e.Nonce[:])
	copy(e.Hint[:], h[:HintSize])
	binary.BigEndian.PutUint32(e.Slot[:], pk.slot^binary.BigEndian.Uint32(h[HintSize:]))
	var clearHdr [ProtectedSize]byte
	binary.BigEndian.PutUint64(clearHdr[:8], seq)
	copy(clearHdr[8:], req.ID[:])
	m := headerMask(&pk.hp, e.Nonce[:])
	for i := range e.Protected {
		e.Protected[i] = clearHdr[i] ^ m[i]
	}
	pt := req.appendPlaintext(make([]byte, 0, MaxPlaintext))
	// The ciphertext length is known before sealing, so the header (and
	// with it the associated data) is final before the AEAD runs.
	e.Ciphertext = make([]byte, len(pt)+TagSize)
	wire, err := e.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var v view
	if err := v.parse(wire); err != nil {
		return nil, err
	}
	ad := v.additionalData(clearHdr[:])
	pk.aead.Seal(wire[len(wire)-len(e.Ciphertext):len(wire)-len(e.Ciphertext)], e.Nonce[:], pt, ad)
	return wire, nil
}

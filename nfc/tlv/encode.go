package tlv

import "fmt"

// AppendTag appends the encoded tag t to b. An invalid tag (see Tag.Valid)
// is an error wrapping ErrTag and b is returned unchanged, and so is a
// well-formed tag without a canonical encoding: one whose first subsequent
// byte is 80 (leading zero bits in the tag number, ISO/IEC 8825-1
// §8.1.2.4.2 c), which the Strict decoder refuses.
func AppendTag(b []byte, t Tag) ([]byte, error) {
	if !t.canonical() {
		return b, fmt.Errorf("%w: %s", ErrTag, t)
	}
	return t.append(b), nil
}

// canonical reports whether t is valid and encodes as the Strict decoder
// accepts it.
func (t Tag) canonical() bool {
	n := t.Len()
	return t.Valid() && (n == 1 || byte(t>>(8*(n-2))) != 0x80)
}

// AppendLength appends the minimal definite length encoding of n (0 to
// 2³²−1) to b. A negative n (or one beyond four length bytes) is an error
// wrapping ErrLength.
func AppendLength(b []byte, n int) ([]byte, error) {
	switch {
	case n < 0 || uint64(n) > 0xFFFFFFFF:
		return b, fmt.Errorf("%w: %d", ErrLength, n)
	case n < 0x80:
		return append(b, byte(n)), nil
	case n <= 0xFF:
		return append(b, 0x81, byte(n)), nil
	case n <= 0xFFFF:
		return append(b, 0x82, byte(n>>8), byte(n)), nil
	case n <= 0xFFFFFF:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n)), nil
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)), nil
}

func lengthLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xFF:
		return 2
	case n <= 0xFFFF:
		return 3
	case n <= 0xFFFFFF:
		return 4
	}
	return 5
}

// AppendTLV appends the data object (t, value) to b in the canonical (strict)
// encoding. Errors are those of AppendTag; b is then returned unchanged.
func AppendTLV(b []byte, t Tag, value []byte) ([]byte, error) {
	out, err := AppendTag(b, t)
	if err != nil {
		return b, err
	}
	if out, err = AppendLength(out, len(value)); err != nil {
		return b, err
	}
	return append(out, value...), nil
}

// Encode returns the canonical encoding of the data object (t, value).
func Encode(t Tag, value []byte) ([]byte, error) {
	return AppendTLV(make([]byte, 0, t.Len()+lengthLen(len(value))+len(value)), t, value)
}

// Builder assembles nested data objects in canonical encoding. The zero
// value is an empty builder ready for use. The first error (an invalid tag)
// sticks and is returned by Bytes; later calls do nothing.
type Builder struct {
	buf []byte
	err error
}

// Add appends the primitive or pre-encoded constructed object (t, value).
func (b *Builder) Add(t Tag, value []byte) {
	if b == nil || b.err != nil {
		return
	}
	b.buf, b.err = AppendTLV(b.buf, t, value)
}

// AddRaw appends already encoded data objects unchanged.
func (b *Builder) AddRaw(raw []byte) {
	if b == nil || b.err != nil {
		return
	}
	b.buf = append(b.buf, raw...)
}

// Constructed appends the constructed object t whose value is what fn adds.
// A tag without the constructed bit is an error wrapping ErrTag.
func (b *Builder) Constructed(t Tag, fn func(*Builder)) {
	if b == nil || b.err != nil {
		return
	}
	if !t.canonical() || !t.Constructed() {
		b.err = fmt.Errorf("%w: %s is not a constructed tag", ErrTag, t)
		return
	}
	b.buf = t.append(b.buf)
	hdr := len(b.buf)
	if fn != nil {
		fn(b)
	}
	if b.err != nil {
		return
	}
	n := len(b.buf) - hdr
	ll := lengthLen(n)
	// Make room for the length field and shift the content right.
	b.buf = append(b.buf, make([]byte, ll)...)
	copy(b.buf[hdr+ll:], b.buf[hdr:hdr+n])
	lenBytes, _ := AppendLength(make([]byte, 0, 5), n)
	copy(b.buf[hdr:], lenBytes)
}

// Bytes returns the encoding built so far, or the first error.
func (b *Builder) Bytes() ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	if b.err != nil {
		return nil, b.err
	}
	return b.buf, nil
}

// Reset empties the builder and clears its error, keeping the buffer.
func (b *Builder) Reset() {
	if b == nil {
		return
	}
	b.buf = b.buf[:0]
	b.err = nil
}

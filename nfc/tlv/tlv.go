package tlv

import (
	"errors"
	"fmt"
	"iter"
	"strconv"
)

// Errors of the decoder. They come wrapped in an *Error carrying the offset;
// test with errors.Is.
var (
	// ErrTruncated reports a tag, length or value that runs past the end of
	// the input.
	ErrTruncated = errors.New("tlv: truncated data object")
	// ErrTagTooLong reports a tag of more than MaxTagLen bytes.
	ErrTagTooLong = errors.New("tlv: tag longer than 4 bytes")
	// ErrLength reports a length field of more than MaxLengthBytes bytes, or
	// a length that does not fit the input.
	ErrLength = errors.New("tlv: invalid length")
	// ErrIndefinite reports the indefinite length form (80), which EMV
	// and ISO/IEC 7816-4 do not use.
	ErrIndefinite = errors.New("tlv: indefinite length")
	// ErrNonMinimal reports, in strict mode, a length or tag encoded with
	// more bytes than needed.
	ErrNonMinimal = errors.New("tlv: non-minimal encoding")
	// ErrPadding reports, in strict mode, 00 or FF padding bytes between
	// data objects.
	ErrPadding = errors.New("tlv: padding between data objects")
	// ErrDepth reports nesting deeper than the decoder's MaxDepth.
	ErrDepth = errors.New("tlv: nesting too deep")
	// ErrNotFound reports a path that Find cannot follow.
	ErrNotFound = errors.New("tlv: data object not found")
	// ErrNotConstructed reports a path that descends into a primitive
	// data object.
	ErrNotConstructed = errors.New("tlv: data object is not constructed")
	// ErrTag reports an invalid tag: zero, or one that cannot be encoded.
	ErrTag = errors.New("tlv: invalid tag")
	// ErrDOL reports a malformed Data Object List or DOL data beyond
	// MaxDOLData bytes.
	ErrDOL = errors.New("tlv: invalid data object list")
)

// Limits of the decoder.
const (
	// MaxTagLen is the longest tag, in bytes, that the package accepts.
	MaxTagLen = 4
	// MaxLengthBytes is the largest number of subsequent length bytes
	// (84 xx xx xx xx).
	MaxLengthBytes = 4
	// DefaultMaxDepth bounds nesting when Decoder.MaxDepth is zero. EMV
	// responses nest at most four deep (6F/A5/BF0C/61).
	DefaultMaxDepth = 16
	// MaxDepthLimit is the largest MaxDepth a Decoder accepts.
	MaxDepthLimit = 32
)

// Error is the typed error of the decoder: the offset in the input at which
// decoding failed and the reason (one of the sentinel errors).
type Error struct {
	Offset int   // byte offset of the data object that failed
	Err    error // the reason, a sentinel error of this package
}

// Error describes the failure.
func (e *Error) Error() string {
	if e == nil || e.Err == nil {
		return "tlv: error"
	}
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the reason.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Mode selects how tolerant the decoder is; see the package documentation.
type Mode uint8

const (
	// Strict accepts only canonical encodings (the zero value).
	Strict Mode = iota
	// Lenient accepts 00/FF padding between objects and non-minimal
	// lengths.
	Lenient
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Strict:
		return "strict"
	case Lenient:
		return "lenient"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Tag is a BER-TLV tag, its bytes read as a big-endian number: 0x9F38 for
// the two-byte tag 9F 38, 0x6F for the one-byte tag 6F.
type Tag uint32

// Len returns the number of bytes of the encoded tag (1–4), or 0 for the
// invalid tag 0.
func (t Tag) Len() int {
	switch {
	case t == 0:
		return 0
	case t <= 0xFF:
		return 1
	case t <= 0xFFFF:
		return 2
	case t <= 0xFFFFFF:
		return 3
	}
	return 4
}

// first returns the first byte of the encoded tag.
func (t Tag) first() byte {
	n := t.Len()
	if n == 0 {
		return 0
	}
	return byte(t >> (8 * (n - 1)))
}

// Constructed reports whether the tag marks a constructed data object (bit 6
// of the first byte): its value is itself a sequence of data objects.
func (t Tag) Constructed() bool { return t.first()&0x20 != 0 }

// Class returns the tag class, bits 8–7 of the first byte: 0 universal,
// 1 application, 2 context-specific, 3 private.
func (t Tag) Class() int { return int(t.first() >> 6) }

// Valid reports whether t is a well-formed tag: non-zero, with the
// continuation bits of a multi-byte tag set exactly where they must be.
func (t Tag) Valid() bool {
	n := t.Len()
	if n == 0 {
		return false
	}
	var buf [MaxTagLen]byte
	b := t.append(buf[:0])
	if n == 1 {
		return b[0]&0x1F != 0x1F
	}
	if b[0]&0x1F != 0x1F {
		return false
	}
	for i := 1; i < n-1; i++ {
		if b[i]&0x80 == 0 {
			return false
		}
	}
	return b[n-1]&0x80 == 0
}

func (t Tag) append(b []byte) []byte {
	for i := t.Len() - 1; i >= 0; i-- {
		b = append(b, byte(t>>(8*i)))
	}
	return b
}

// String returns the tag in upper-case hex, as EMV writes it ("9F38").
func (t Tag) String() string {
	const hex = "0123456789ABCDEF"
	var buf [2 * MaxTagLen]byte
	n := 0
	var raw [MaxTagLen]byte
	for _, c := range t.append(raw[:0]) {
		buf[n], buf[n+1] = hex[c>>4], hex[c&0x0F]
		n += 2
	}
	if n == 0 {
		return "00"
	}
	return string(buf[:n])
}

// TLV is one decoded data object. Value aliases the decoded input; Raw is
// the whole encoding (tag, length and value), also aliasing the input.
type TLV struct {
	Tag   Tag
	Value []byte
	Raw   []byte
}

// Constructed reports whether the object is constructed (bit 6 of its first
// tag byte).
func (o TLV) Constructed() bool {
	if len(o.Raw) > 0 {
		return o.Raw[0]&0x20 != 0
	}
	return o.Tag.Constructed()
}

// readTag reads a tag at b[0:]. It returns the tag, its length and an error.
func readTag(b []byte, mode Mode) (Tag, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	t := Tag(b[0])
	if b[0]&0x1F != 0x1F {
		return t, 1, nil
	}
	for i := 1; ; i++ {
		if i >= MaxTagLen {
			return 0, 0, ErrTagTooLong
		}
		if i >= len(b) {
			return 0, 0, ErrTruncated
		}
		if i == 1 && b[1] == 0x80 && mode == Strict {
			return 0, 0, ErrNonMinimal
		}
		t = t<<8 | Tag(b[i])
		if b[i]&0x80 == 0 {
			return t, i + 1, nil
		}
	}
}

// readLength reads a definite length at b[0:] and returns it with the number
// of length bytes.
func readLength(b []byte, mode Mode) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	c := b[0]
	if c < 0x80 {
		return int(c), 1, nil
	}
	if c == 0x80 {
		return 0, 0, ErrIndefinite
	}
	n := int(c & 0x7F)
	if n > MaxLengthBytes {
		return 0, 0, ErrLength
	}
	if len(b) < 1+n {
		return 0, 0, ErrTruncated
	}
	var l uint64
	for _, d := range b[1 : 1+n] {
		l = l<<8 | uint64(d)
	}
	if mode == Strict {
		// Minimal: no leading zero byte, and the long form only from 128.
		if b[1] == 0 || (n == 1 && l < 0x80) {
			return 0, 0, ErrNonMinimal
		}
	}
	if l > uint64(len(b)) { // cannot fit; also guards int overflow on 32-bit
		return 0, 0, ErrLength
	}
	return int(l), 1 + n, nil
}

// DecodeOne decodes the first data object of b and returns it with the
// bytes after it. In Lenient mode, leading 00/FF padding is skipped; when
// only padding remains, it returns a zero TLV, nil rest and ErrNotFound.
// Errors are *Error values wrapping the sentinel errors. It does not
// allocate on success.
func DecodeOne(b []byte, mode Mode) (TLV, []byte, error) {
	it := Iter{rest: b, mode: mode}
	obj, ok := it.Next()
	if !ok {
		if it.err != nil {
			return TLV{}, nil, it.err
		}
		return TLV{}, nil, &Error{Offset: len(b), Err: ErrNotFound}
	}
	return obj, it.rest, nil
}

// Decode decodes every top-level data object of b. It allocates the result
// slice; the values alias b. Use NewIter to avoid the allocation.
func Decode(b []byte, mode Mode) ([]TLV, error) {
	var out []TLV
	it := NewIter(b, mode)
	for obj, ok := it.Next(); ok; obj, ok = it.Next() {
		out = append(out, obj)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Iterate returns an iterator over the top-level data objects of b for use
// with range:
//
//	for obj, err := range tlv.Iterate(b, tlv.Lenient) {
//		if err != nil { … } // the last pair on malformed input
//	}
//
// It yields each object with a nil error and, if decoding fails, one final
// zero TLV with the error. Like Iter it does not copy.
func Iterate(b []byte, mode Mode) iter.Seq2[TLV, error] {
	return func(yield func(TLV, error) bool) {
		it := NewIter(b, mode)
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if !yield(o, nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			yield(TLV{}, err)
		}
	}
}

// Iter walks the top-level data objects of a byte slice without copying or
// allocating, in the style of cryptobyte.String. The zero value is an
// iterator over nothing.
type Iter struct {
	rest []byte
	off  int
	err  *Error
	mode Mode
}

// NewIter returns an iterator over the data objects of b.
func NewIter(b []byte, mode Mode) Iter { return Iter{rest: b, mode: mode} }

// Next returns the next data object and true, or a zero TLV and false at the
// end of the input or on the first error (see Err). In Lenient mode 00 and
// FF bytes between objects are skipped; in Strict mode they are an error
// wrapping ErrPadding.
func (it *Iter) Next() (TLV, bool) {
	if it == nil || it.err != nil {
		return TLV{}, false
	}
	b := it.rest
	if it.mode == Lenient {
		for len(b) > 0 && (b[0] == 0x00 || b[0] == 0xFF) {
			b = b[1:]
			it.off++
		}
		it.rest = b
	}
	if len(b) == 0 {
		return TLV{}, false
	}
	c := b[0]
	if c == 0x00 || c == 0xFF {
		return it.fail(ErrPadding)
	}
	// Fast paths: a one-byte tag and a short-form length, the common case.
	tag, tn := Tag(c), 1
	if c&0x1F == 0x1F {
		var err error
		if tag, tn, err = readTag(b, it.mode); err != nil {
			return it.fail(err)
		}
	}
	if tn >= len(b) {
		return it.fail(ErrTruncated)
	}
	l, ln := int(b[tn]), 1
	if l >= 0x80 {
		var err error
		if l, ln, err = readLength(b[tn:], it.mode); err != nil {
			return it.fail(err)
		}
	}
	h := tn + ln
	if l > len(b)-h {
		return it.fail(ErrTruncated)
	}
	end := h + l
	it.rest = b[end:]
	it.off += end
	return TLV{Tag: tag, Value: b[h:end:end], Raw: b[:end:end]}, true
}

func (it *Iter) fail(err error) (TLV, bool) {
	it.err = &Error{Offset: it.off, Err: err}
	it.rest = nil
	return TLV{}, false
}

// Err returns the error that stopped the iteration, or nil at a clean end.
func (it *Iter) Err() error {
	if it == nil || it.err == nil {
		return nil
	}
	return it.err
}

// Rest returns the bytes not yet consumed.
func (it *Iter) Rest() []byte {
	if it == nil {
		return nil
	}
	return it.rest
}

// Decoder is a configurable decoder for nested data. The zero value decodes
// strictly with DefaultMaxDepth.
type Decoder struct {
	// Mode is Strict or Lenient.
	Mode Mode
	// MaxDepth bounds nesting of constructed objects; 0 means
	// DefaultMaxDepth.
	MaxDepth int
}

// Validate reports whether the configuration is usable: a known Mode and a
// non-negative MaxDepth.
func (d Decoder) Validate() error {
	if d.Mode > Lenient {
		return fmt.Errorf("tlv: unknown mode %d", d.Mode)
	}
	if d.MaxDepth < 0 || d.MaxDepth > MaxDepthLimit {
		return fmt.Errorf("tlv: MaxDepth %d outside 0–%d", d.MaxDepth, MaxDepthLimit)
	}
	return nil
}

func (d Decoder) maxDepth() int {
	if d.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return d.MaxDepth
}

// Iter returns an iterator over the top-level objects of b.
func (d Decoder) Iter(b []byte) Iter { return NewIter(b, d.Mode) }

// Walk calls fn for every data object of b, depth first, with its nesting
// depth (0 for top-level objects), descending into constructed objects.
// It stops at the first error of fn or of decoding; nesting beyond MaxDepth
// is an error wrapping ErrDepth. Walk
// does not allocate on success.
func (d Decoder) Walk(b []byte, fn func(depth int, obj TLV) error) error {
	if err := d.Validate(); err != nil {
		return err
	}
	s := d.NewScanner(b)
	for o, depth, ok := s.Next(); ok; o, depth, ok = s.Next() {
		if fn != nil {
			if err := fn(depth, o); err != nil {
				return err
			}
		}
	}
	return s.Err()
}

// Check decodes b completely, constructed objects included, and returns the
// first error.
func (d Decoder) Check(b []byte) error { return d.Walk(b, nil) }

// Find follows path through b: the first top-level object with tag path[0],
// then, inside its value, the first object with tag path[1], and so on. It
// returns the value of the last object (aliasing b). A path longer than
// MaxDepth is an error wrapping ErrDepth; a missing tag ErrNotFound; a tag
// that must be descended into but is primitive ErrNotConstructed.
// Find does not allocate.
func (d Decoder) Find(b []byte, path ...Tag) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if len(path) == 0 {
		return nil, &Error{Err: ErrNotFound}
	}
	if len(path) > d.maxDepth() {
		return nil, &Error{Err: ErrDepth}
	}
	cur := b
	base := 0
	for i, want := range path {
		it := NewIter(cur, d.Mode)
		found := false
		for obj, ok := it.Next(); ok; obj, ok = it.Next() {
			if obj.Tag != want {
				continue
			}
			if i < len(path)-1 && !obj.Constructed() {
				return nil, &Error{Offset: base + it.off - len(obj.Raw), Err: ErrNotConstructed}
			}
			base += it.off - len(obj.Value)
			cur = obj.Value
			found = true
			break
		}
		if !found {
			if it.err != nil {
				return nil, &Error{Offset: base + it.err.Offset, Err: it.err.Err}
			}
			return nil, &Error{Offset: base, Err: ErrNotFound}
		}
	}
	return cur, nil
}

// Find is Decoder{Mode: Lenient}.Find: real card responses carry padding and
// non-minimal lengths.
func Find(data []byte, path ...Tag) ([]byte, error) {
	return Decoder{Mode: Lenient}.Find(data, path...)
}

package tlv

import "fmt"

// MaxDOLData bounds the total length, in bytes, of the data a Data Object
// List asks for (the sum of its lengths). EMV DOL data travels in one APDU,
// so real lists ask for far less.
const MaxDOLData = 4096

// DOLEntry is one entry of a Data Object List: a tag and the length of the
// value the card asks for.
type DOLEntry struct {
	Tag Tag
	Len int
}

// DOLIter walks a Data Object List (EMV 4.4 Book 3 §5.4) without
// allocating. The zero value iterates nothing.
type DOLIter struct {
	rest  []byte
	off   int
	total int
	err   error
}

// NewDOLIter returns an iterator over the entries of dol.
func NewDOLIter(dol []byte) DOLIter { return DOLIter{rest: dol} }

// Next returns the next entry and true, or false at the end or on the first
// error (see Err). Tags are read as in Strict mode; lengths may use the long
// form. A total beyond MaxDOLData is an error wrapping ErrDOL.
func (it *DOLIter) Next() (DOLEntry, bool) {
	if it == nil || it.err != nil || len(it.rest) == 0 {
		return DOLEntry{}, false
	}
	b := it.rest
	if b[0] == 0x00 || b[0] == 0xFF {
		return it.fail(ErrTag)
	}
	t, tn, err := readTag(b, Strict)
	if err != nil {
		return it.fail(err)
	}
	l, ln, err := readDOLLength(b[tn:])
	if err != nil {
		return it.fail(err)
	}
	it.total += l
	if it.total > MaxDOLData {
		return it.fail(ErrDOL)
	}
	it.rest = b[tn+ln:]
	it.off += tn + ln
	return DOLEntry{Tag: t, Len: l}, true
}

// readDOLLength reads a length field whose value need not be present in the
// buffer (a DOL carries lengths only).
func readDOLLength(b []byte) (int, int, error) {
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
	if n > 2 { // MaxDOLData fits in two bytes
		return 0, 0, ErrDOL
	}
	if len(b) < 1+n {
		return 0, 0, ErrTruncated
	}
	l := 0
	for _, d := range b[1 : 1+n] {
		l = l<<8 | int(d)
	}
	return l, 1 + n, nil
}

func (it *DOLIter) fail(err error) (DOLEntry, bool) {
	it.err = &Error{Offset: it.off, Err: err}
	it.rest = nil
	return DOLEntry{}, false
}

// Err returns the error that stopped the iteration.
func (it *DOLIter) Err() error {
	if it == nil {
		return nil
	}
	return it.err
}

// ParseDOL decodes a whole Data Object List. Errors are *Error values
// wrapping ErrTruncated, ErrTagTooLong, ErrTag, ErrIndefinite or ErrDOL.
func ParseDOL(dol []byte) ([]DOLEntry, error) {
	var out []DOLEntry
	it := NewDOLIter(dol)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		out = append(out, e)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// DOLDataLen returns the number of bytes FillDOL produces for dol.
func DOLDataLen(dol []byte) (int, error) {
	n := 0
	it := NewDOLIter(dol)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		n += e.Len
	}
	return n, it.Err()
}

// Format is the EMV data format of a value placed in DOL data, which
// decides how FillDOLFormats and Fit pad and truncate it (EMV 4.4 Book 3
// §4.3 formats, §5.4 rules c and d).
type Format uint8

const (
	// FormatB is binary and every other format but n and cn (b, an, ans,
	// a): padded on the right with 00 bytes, truncated on the right. It
	// is the zero value.
	FormatB Format = iota
	// FormatN is numeric (BCD, right-aligned): padded on the left with 00
	// bytes, truncated on the left.
	FormatN
	// FormatCN is compressed numeric (BCD, left-aligned, F-padded): padded
	// on the right with FF bytes, truncated on the right.
	FormatCN
)

// Fit appends to dst the value v fitted to n bytes by the rules of EMV 4.4
// Book 3 §5.4 for format f (see Format). A nil v is n zero bytes (rule b:
// data the terminal lacks). A negative n appends nothing.
func Fit(dst, v []byte, n int, f Format) []byte {
	if n <= 0 {
		return dst
	}
	if v == nil {
		return appendN(dst, 0x00, n)
	}
	switch f {
	case FormatN:
		if len(v) > n {
			return append(dst, v[len(v)-n:]...)
		}
		return append(appendN(dst, 0x00, n-len(v)), v...)
	case FormatCN:
		if len(v) > n {
			return append(dst, v[:n]...)
		}
		return appendN(append(dst, v...), 0xFF, n-len(v))
	}
	if len(v) > n {
		return append(dst, v[:n]...)
	}
	return appendN(append(dst, v...), 0x00, n-len(v))
}

func appendN(b []byte, c byte, n int) []byte {
	for range n {
		b = append(b, c)
	}
	return b
}

// FillDOLFormats appends to dst the DOL-related data for dol following EMV
// 4.4 Book 3 §5.4: for every entry, value(tag, n) returns the terminal's
// value and its format, and Fit places it in the n bytes requested; a nil
// value (a tag the terminal does not know or data it lacks) and every
// constructed tag (rule a; value is not called) give n zero bytes. value
// may be nil (all zeros). dst is returned unchanged on error.
func FillDOLFormats(dst, dol []byte, value func(t Tag, n int) ([]byte, Format)) ([]byte, error) {
	out := dst
	it := NewDOLIter(dol)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		var v []byte
		f := FormatB
		if value != nil && !e.Tag.Constructed() {
			v, f = value(e.Tag, e.Len)
		}
		out = Fit(out, v, e.Len, f)
	}
	if err := it.Err(); err != nil {
		return dst, fmt.Errorf("tlv: fill DOL: %w", err)
	}
	return out, nil
}

// FillDOL is FillDOLFormats with every value of format b (see FormatB): a
// longer value is truncated on the right, a shorter one padded on the right
// with zero bytes, and a value the terminal does not know (nil) or a
// constructed tag is n zero bytes. Use FillDOLFormats, or encode numeric
// (n) and compressed numeric (cn) values to the requested length with Fit,
// for the other rules of §5.4. value may be nil (all zeros). dst is
// returned unchanged on error.
func FillDOL(dst, dol []byte, value func(t Tag, n int) []byte) ([]byte, error) {
	if value == nil {
		return FillDOLFormats(dst, dol, nil)
	}
	return FillDOLFormats(dst, dol, func(t Tag, n int) ([]byte, Format) { return value(t, n), FormatB })
}

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

// FillDOL appends to dst the DOL-related data for dol: for every entry, the
// value that value(tag, n) returns, fitted to n bytes as EMV 4.4 Book 3 §5.4
// prescribes for data objects of format b: a longer value is truncated on
// the right, a shorter one padded on the right with zero bytes, and a value
// the terminal does not know (nil) is n zero bytes. Callers encode numeric
// (format n) values to the requested length themselves, since only they
// know each tag's format. value may be nil (all zeros). dst is returned
// unchanged on error.
func FillDOL(dst, dol []byte, value func(t Tag, n int) []byte) ([]byte, error) {
	out := dst
	it := NewDOLIter(dol)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		var v []byte
		if value != nil {
			v = value(e.Tag, e.Len)
		}
		if len(v) > e.Len {
			v = v[:e.Len]
		}
		out = append(out, v...)
		for i := len(v); i < e.Len; i++ {
			out = append(out, 0)
		}
	}
	if err := it.Err(); err != nil {
		return dst, fmt.Errorf("tlv: fill DOL: %w", err)
	}
	return out, nil
}

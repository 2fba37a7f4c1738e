package tlv

// Scanner walks every data object of a byte slice depth first — a
// constructed object, then the objects inside it — in one linear pass
// without recursion or allocation. Because BER-TLV nests values inside their
// parents, the walk needs only a stack of end offsets, bounded by the
// decoder's depth. The zero value scans nothing.
type Scanner struct {
	b     []byte
	pos   int
	depth int
	max   int
	mode  Mode
	err   *Error
	ends  [maxScanDepth]int
}

// maxScanDepth is the hard bound on a Scanner's stack (MaxDepthLimit).
const maxScanDepth = MaxDepthLimit

// NewScanner returns a scanner over b with d's mode and depth bound (at most
// MaxDepthLimit levels): a constructed object at depth MaxDepth−1 is
// refused.
func (d Decoder) NewScanner(b []byte) Scanner {
	m := d.maxDepth()
	if m > maxScanDepth {
		m = maxScanDepth
	}
	return Scanner{b: b, max: m, mode: d.Mode}
}

// Next returns the next object in depth-first order with its depth (0 for
// top-level objects), or false at the end or on the first error (see Err).
// An object nested deeper than the bound is an error wrapping ErrDepth.
// Constructed values must decode completely within their parent.
func (s *Scanner) Next() (obj TLV, depth int, ok bool) {
	if s == nil || s.err != nil {
		return TLV{}, 0, false
	}
	for {
		// Close the constructed objects that end here.
		for s.depth > 0 && s.pos == s.ends[s.depth-1] {
			s.depth--
		}
		end := len(s.b)
		if s.depth > 0 {
			end = s.ends[s.depth-1]
		}
		if s.mode == Lenient {
			for s.pos < end && (s.b[s.pos] == 0x00 || s.b[s.pos] == 0xFF) {
				s.pos++
			}
			if s.depth > 0 && s.pos == end {
				continue
			}
		}
		if s.pos >= end {
			return TLV{}, 0, false
		}
		b := s.b[s.pos:end]
		c := b[0]
		if c == 0x00 || c == 0xFF {
			return s.fail(ErrPadding)
		}
		tag, tn := Tag(c), 1
		if c&0x1F == 0x1F {
			var err error
			if tag, tn, err = readTag(b, s.mode); err != nil {
				return s.fail(err)
			}
		}
		if tn >= len(b) {
			return s.fail(ErrTruncated)
		}
		l, ln := int(b[tn]), 1
		if l >= 0x80 {
			var err error
			if l, ln, err = readLength(b[tn:], s.mode); err != nil {
				return s.fail(err)
			}
		}
		h := tn + ln
		if l > len(b)-h {
			return s.fail(ErrTruncated)
		}
		o := TLV{Tag: tag, Value: b[h : h+l : h+l], Raw: b[: h+l : h+l]}
		d := s.depth
		if c&0x20 != 0 { // constructed: descend
			if s.depth+1 >= s.max {
				return s.fail(ErrDepth)
			}
			s.ends[s.depth] = s.pos + h + l
			s.depth++
			s.pos += h
		} else {
			s.pos += h + l
		}
		return o, d, true
	}
}

func (s *Scanner) fail(err error) (TLV, int, bool) {
	s.err = &Error{Offset: s.pos, Err: err}
	return TLV{}, 0, false
}

// Err returns the error that stopped the scan, or nil at a clean end.
func (s *Scanner) Err() error {
	if s == nil || s.err == nil {
		return nil
	}
	return s.err
}

package sdn

import (
	"fmt"
	"math/bits"
)

// Bounds of the identifier spaces.
const (
	MaxVNI  = 1<<24 - 1 // VXLAN network identifiers are 24 bits (RFC 7348)
	MaxVLAN = 4094      // 802.1Q VLAN IDs 1–4094 (0 and 4095 reserved)
)

// Range is an inclusive range of identifier values.
type Range struct{ Lo, Hi uint32 }

// Contains reports whether v is in r.
func (r Range) Contains(v uint32) bool { return v >= r.Lo && v <= r.Hi }

// Size is the number of values in r (0 for an empty or inverted range).
func (r Range) Size() uint64 {
	if r.Hi < r.Lo {
		return 0
	}
	return uint64(r.Hi) - uint64(r.Lo) + 1
}

// String formats r as "lo-hi".
func (r Range) String() string { return fmt.Sprintf("%d-%d", r.Lo, r.Hi) }

// maxPoolSize bounds one pool's bitmap (2 MiB for 2^24 values).
const maxPoolSize = 1 << 24

// Pool allocates identifier values from one Range: the lowest free value
// at or after a rotating cursor, so that a released value is not handed
// out again at once. It is not safe for concurrent use (the Controller
// serialises its pools). The zero value has an empty range: Allocate
// returns ErrNotInitialized.
type Pool struct {
	r      Range
	words  []uint64
	used   int
	cursor uint32 // offset of the next value to try
}

// NewPool returns a pool over r; r must hold 1 to 2^24 values.
func NewPool(r Range) (*Pool, error) {
	n := r.Size()
	if n == 0 || n > maxPoolSize {
		return nil, fmt.Errorf("%w: pool range %v holds %d values (want 1 to %d)", ErrInvalid, r, n, maxPoolSize)
	}
	return &Pool{r: r, words: make([]uint64, (n+63)/64)}, nil
}

// Range returns the pool's range.
func (p *Pool) Range() Range { return p.r }

// Used returns the number of allocated values.
func (p *Pool) Used() int { return p.used }

// Free returns the number of free values.
func (p *Pool) Free() int {
	if p.words == nil {
		return 0
	}
	return int(p.r.Size()) - p.used
}

// InUse reports whether v is allocated.
func (p *Pool) InUse(v uint32) bool {
	if p.words == nil || !p.r.Contains(v) {
		return false
	}
	o := v - p.r.Lo
	return p.words[o/64]&(1<<(o%64)) != 0
}

// Allocate returns a free value and marks it used, or an error wrapping
// ErrPoolExhausted.
func (p *Pool) Allocate() (uint32, error) {
	if p.words == nil {
		return 0, ErrNotInitialized
	}
	n := uint32(p.r.Size() - 1) // largest offset
	if p.used > int(n) {
		return 0, fmt.Errorf("%w: range %v", ErrPoolExhausted, p.r)
	}
	start := p.cursor
	for pass := 0; pass < 2; pass++ {
		o := start
		for {
			w := p.words[o/64] | (1<<(o%64) - 1) // bits below o count as used
			if w != ^uint64(0) {
				o = o/64*64 + uint32(bits.TrailingZeros64(^w))
				if o > n {
					break
				}
				p.words[o/64] |= 1 << (o % 64)
				p.used++
				p.cursor = o + 1
				if p.cursor > n {
					p.cursor = 0
				}
				return p.r.Lo + o, nil
			}
			next := (o/64 + 1) * 64
			if next > n || next == 0 {
				break
			}
			o = next
		}
		start = 0
	}
	return 0, fmt.Errorf("%w: range %v", ErrPoolExhausted, p.r)
}

// Reserve marks v used: for a value chosen by an operator or restored from
// a Store. v outside the range is ErrInvalid, an allocated v ErrConflict.
func (p *Pool) Reserve(v uint32) error {
	if p.words == nil {
		return ErrNotInitialized
	}
	if !p.r.Contains(v) {
		return fmt.Errorf("%w: %d outside pool range %v", ErrInvalid, v, p.r)
	}
	o := v - p.r.Lo
	if p.words[o/64]&(1<<(o%64)) != 0 {
		return fmt.Errorf("%w: %d already allocated", ErrConflict, v)
	}
	p.words[o/64] |= 1 << (o % 64)
	p.used++
	return nil
}

// Release frees v. Releasing a value that is not allocated is an error
// wrapping ErrInvalid (a double release means a bookkeeping bug).
func (p *Pool) Release(v uint32) error {
	if p.words == nil {
		return ErrNotInitialized
	}
	if !p.InUse(v) {
		return fmt.Errorf("%w: release of %d, which is not allocated", ErrInvalid, v)
	}
	o := v - p.r.Lo
	p.words[o/64] &^= 1 << (o % 64)
	p.used--
	return nil
}

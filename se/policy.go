package se

import (
	"fmt"
	"math/bits"
	"slices"
)

// Policy is a physical-memory allocation policy of the VMM: it hands out
// page-aligned ranges of a pool of PoolBytes. The VMM checks every range a
// Policy returns (alignment, wrap-around, bounds, overlap with live ranges),
// so a broken policy cannot break isolation. A Policy is used by one VMM
// under its lock and need not be safe for concurrent use.
type Policy interface {
	// Name identifies the policy in statistics and plots.
	Name() string
	// Init prepares the policy for a pool of poolBytes in pages of
	// pageSize bytes (a power of two dividing poolBytes); it discards any
	// earlier state.
	Init(poolBytes, pageSize uint64) error
	// Alloc returns the address of a free range of at least size bytes (a
	// positive multiple of the page size) and the bytes it reserves for
	// it (size, or more for a policy that rounds up), or an error wrapping
	// ErrNoMemory.
	Alloc(size uint64) (addr, reserved uint64, err error)
	// Free releases the range at addr that Alloc returned for size. An
	// address that is not allocated is an error wrapping ErrDoubleFree.
	Free(addr, size uint64) error
	// FreeBlocks calls yield for every maximal free block in address
	// order, for statistics.
	FreeBlocks(yield func(addr, size uint64) bool)
}

// NewStaticPolicy returns the equal-static-partition policy: the pool is
// cut into partitions equal slots of whole pages and every allocation takes
// one slot (if it fits), so the VMM charges a whole slot to the VSE's
// quota. partitions 0 means 8.
func NewStaticPolicy(partitions int) Policy { return &staticPolicy{n: partitions} }

// NewFirstFitPolicy returns the first-fit policy: a free list in address
// order, the first block large enough is split, and freed blocks merge
// with free neighbours.
func NewFirstFitPolicy() Policy { return &firstFit{} }

// NewBuddyPolicy returns the binary buddy policy (Knuth, TAOCP vol. 1
// §2.5): blocks of 2^k pages, split in halves on allocation and coalesced
// with their buddy on free. The pool must be a power-of-two number of
// pages. Alloc and Free run in O(log pages) without allocating.
func NewBuddyPolicy() Policy { return &buddy{} }

// ---- equal static partitions

type staticPolicy struct {
	n        int
	slot     uint64
	used     []bool
	poolSize uint64
}

func (p *staticPolicy) Name() string { return "static" }

func (p *staticPolicy) Init(poolBytes, pageSize uint64) error {
	if p.n == 0 {
		p.n = 8
	}
	if p.n < 0 {
		return fmt.Errorf("%w: %d partitions", ErrConfig, p.n)
	}
	p.slot = poolBytes / uint64(p.n) / pageSize * pageSize
	if p.slot == 0 {
		return fmt.Errorf("%w: %d partitions of a %d-byte pool leave no page each", ErrConfig, p.n, poolBytes)
	}
	p.used = make([]bool, p.n)
	p.poolSize = poolBytes
	return nil
}

func (p *staticPolicy) Alloc(size uint64) (uint64, uint64, error) {
	if size > p.slot {
		return 0, 0, fmt.Errorf("%w: %d bytes exceed a %d-byte partition", ErrNoMemory, size, p.slot)
	}
	for i, u := range p.used {
		if !u {
			p.used[i] = true
			return uint64(i) * p.slot, p.slot, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: all %d partitions in use", ErrNoMemory, p.n)
}

func (p *staticPolicy) Free(addr, _ uint64) error {
	if p.slot == 0 || addr%p.slot != 0 || addr/p.slot >= uint64(len(p.used)) || !p.used[addr/p.slot] {
		return fmt.Errorf("%w: %#x", ErrDoubleFree, addr)
	}
	p.used[addr/p.slot] = false
	return nil
}

func (p *staticPolicy) FreeBlocks(yield func(addr, size uint64) bool) {
	for i, u := range p.used {
		if !u && !yield(uint64(i)*p.slot, p.slot) {
			return
		}
	}
	// The tail beyond the last partition is never allocatable: not free.
}

// ---- first fit

type span struct{ addr, size uint64 }

type firstFit struct {
	free []span // address order, non-adjacent
}

func (p *firstFit) Name() string { return "first-fit" }

func (p *firstFit) Init(poolBytes, _ uint64) error {
	p.free = append(p.free[:0], span{0, poolBytes})
	return nil
}

func (p *firstFit) Alloc(size uint64) (uint64, uint64, error) {
	for i := range p.free {
		f := &p.free[i]
		if f.size >= size {
			addr := f.addr
			f.addr += size
			f.size -= size
			if f.size == 0 {
				p.free = slices.Delete(p.free, i, i+1)
			}
			return addr, size, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: no free block of %d bytes", ErrNoMemory, size)
}

func (p *firstFit) Free(addr, size uint64) error {
	i, _ := slices.BinarySearchFunc(p.free, addr, func(s span, a uint64) int {
		switch {
		case s.addr < a:
			return -1
		case s.addr > a:
			return 1
		}
		return 0
	})
	// The freed range must not touch free memory on either side.
	if i < len(p.free) && p.free[i].addr < addr+size {
		return fmt.Errorf("%w: %#x", ErrDoubleFree, addr)
	}
	if i > 0 && p.free[i-1].addr+p.free[i-1].size > addr {
		return fmt.Errorf("%w: %#x", ErrDoubleFree, addr)
	}
	mergeL := i > 0 && p.free[i-1].addr+p.free[i-1].size == addr
	mergeR := i < len(p.free) && addr+size == p.free[i].addr
	switch {
	case mergeL && mergeR:
		p.free[i-1].size += size + p.free[i].size
		p.free = slices.Delete(p.free, i, i+1)
	case mergeL:
		p.free[i-1].size += size
	case mergeR:
		p.free[i].addr = addr
		p.free[i].size += size
	default:
		p.free = slices.Insert(p.free, i, span{addr, size})
	}
	return nil
}

func (p *firstFit) FreeBlocks(yield func(addr, size uint64) bool) {
	for _, f := range p.free {
		if !yield(f.addr, f.size) {
			return
		}
	}
}

// ---- buddy

const maxBuddyOrder = 40

// buddy keeps one intrusive doubly linked free list per order over arrays
// indexed by page number; state[i] is the order+1 of a free block starting
// at page i, or 0.
type buddy struct {
	page     uint64
	shift    uint // log2(page)
	maxOrder int
	head     [maxBuddyOrder + 1]int32
	next     []int32
	prev     []int32
	state    []int8 // order+1 of a free block head, −(order+1) of an allocated block head, 0 otherwise
}

func (p *buddy) Name() string { return "buddy" }

func (p *buddy) Init(poolBytes, pageSize uint64) error {
	pages := poolBytes / pageSize
	if pages == 0 || pages&(pages-1) != 0 {
		return fmt.Errorf("%w: buddy needs a power-of-two number of pages, got %d", ErrConfig, pages)
	}
	if pages > 1<<30 {
		return fmt.Errorf("%w: %d pages is too many for the buddy policy", ErrConfig, pages)
	}
	p.page = pageSize
	p.shift = uint(bits.TrailingZeros64(pageSize))
	p.maxOrder = bits.TrailingZeros64(pages)
	p.next = make([]int32, pages)
	p.prev = make([]int32, pages)
	p.state = make([]int8, pages)
	for i := range p.head {
		p.head[i] = -1
	}
	p.push(0, p.maxOrder)
	return nil
}

func (p *buddy) push(pg int32, order int) {
	p.state[pg] = int8(order + 1)
	p.prev[pg] = -1
	p.next[pg] = p.head[order]
	if h := p.head[order]; h >= 0 {
		p.prev[h] = pg
	}
	p.head[order] = pg
}

func (p *buddy) remove(pg int32, order int) {
	if pr := p.prev[pg]; pr >= 0 {
		p.next[pr] = p.next[pg]
	} else {
		p.head[order] = p.next[pg]
	}
	if n := p.next[pg]; n >= 0 {
		p.prev[n] = p.prev[pg]
	}
	p.state[pg] = 0
}

// orderFor returns the smallest order whose block holds size bytes.
func (p *buddy) orderFor(size uint64) int {
	pages := (size + p.page - 1) >> p.shift
	if pages <= 1 {
		return 0
	}
	return bits.Len64(pages - 1)
}

func (p *buddy) Alloc(size uint64) (uint64, uint64, error) {
	k := p.orderFor(size)
	if k > p.maxOrder {
		return 0, 0, fmt.Errorf("%w: %d bytes exceed the pool", ErrNoMemory, size)
	}
	o := k
	for o <= p.maxOrder && p.head[o] < 0 {
		o++
	}
	if o > p.maxOrder {
		return 0, 0, fmt.Errorf("%w: no free block of order %d", ErrNoMemory, k)
	}
	pg := p.head[o]
	p.remove(pg, o)
	for o > k {
		o--
		p.push(pg+int32(1)<<o, o)
	}
	p.state[pg] = -int8(k + 1)
	return uint64(pg) << p.shift, p.page << k, nil
}

func (p *buddy) Free(addr, size uint64) error {
	if p.page == 0 || addr&(p.page-1) != 0 || addr>>p.shift >= uint64(len(p.state)) {
		return fmt.Errorf("%w: %#x", ErrDoubleFree, addr)
	}
	pg := int32(addr >> p.shift)
	k := p.orderFor(size)
	if p.state[pg] != -int8(k+1) {
		return fmt.Errorf("%w: %#x", ErrDoubleFree, addr)
	}
	p.state[pg] = 0
	for k < p.maxOrder {
		b := pg ^ int32(1)<<k
		if p.state[b] != int8(k+1) {
			break
		}
		p.remove(b, k)
		pg = min(pg, b)
		k++
	}
	p.push(pg, k)
	return nil
}

func (p *buddy) FreeBlocks(yield func(addr, size uint64) bool) {
	for i, s := range p.state {
		if s > 0 && !yield(uint64(i)<<p.shift, p.page<<(s-1)) {
			return
		}
	}
}

package sched

// walkBlock is the number of consecutive leaves the placement walk reads
// after each descent of the fit index: 16 leaves of 32 bytes, eight cache
// lines read in order, which the hardware prefetches. The descent stops at
// blocks of this size, so it reads only the levels above them: 1/16 of the
// tree, 256 KiB at 50 000 nodes, which stays in cache.
const walkBlock = 16

// fitIndex is a segment tree over node slots that stores, for every subtree,
// the per-resource maximum of free capacity. A query for "the next slot at or
// after i whose free capacity could hold r" skips every subtree where some
// resource's maximum is below the request, so nodes that cannot fit are
// never visited; a leaf that passes fits exactly. Unschedulable (draining,
// removed or empty) slots hold -1 everywhere and are never returned.
//
// Updates cost O(log n); a query costs O(log n) per returned slot plus the
// subtrees whose maxima come from different nodes.
type fitIndex struct {
	size int // number of leaves, a power of two
	mx   []Resources
}

var blocked = Resources{-1, -1, -1, -1}

func newFitIndex(n int) fitIndex {
	size := 1
	for size < n {
		size *= 2
	}
	t := fitIndex{size: size, mx: make([]Resources, 2*size)}
	for i := range t.mx {
		t.mx[i] = blocked
	}
	return t
}

// grow returns an index with room for n slots holding the same leaves.
func (t fitIndex) grow(n int) fitIndex {
	if n <= t.size {
		return t
	}
	g := newFitIndex(n)
	copy(g.mx[g.size:], t.mx[t.size:])
	for i := g.size - 1; i >= 1; i-- {
		g.mx[i] = g.mx[2*i].Max(g.mx[2*i+1])
	}
	return g
}

// set stores the free capacity of slot i and updates its ancestors.
func (t *fitIndex) set(i int, free Resources) {
	j := t.size + i
	t.mx[j] = free
	for j > 1 {
		j /= 2
		m := t.mx[2*j].Max(t.mx[2*j+1])
		if m == t.mx[j] {
			return
		}
		t.mx[j] = m
	}
}

// next returns the smallest slot in [from, to) whose free capacity holds
// need, or -1.
func (t *fitIndex) next(from, to int, need *Resources) int {
	if from >= to {
		return -1
	}
	return t.find(1, 0, t.size, from, to, need)
}

// nextBlock returns max(from, b) for the first walkBlock-aligned block b
// that overlaps [from, to) and whose maximum holds need, or -1. Every slot
// in [from, to) before the returned one cannot hold need; the block itself
// may hold no match (its maxima may come from different slots), so the
// caller scans it and asks again from the next block.
func (t *fitIndex) nextBlock(from, to int, need *Resources) int {
	if from >= to {
		return -1
	}
	i, lo, hi := 1, 0, t.size
	return t.findBlock(i, lo, hi, from, to, need, min(walkBlock, t.size))
}

func (t *fitIndex) findBlock(i, lo, hi, from, to int, need *Resources, blk int) int {
	if hi <= from || lo >= to || !need.Fits(t.mx[i]) {
		return -1
	}
	for hi-lo > blk {
		mid := (lo + hi) / 2
		if mid > from && need.Fits(t.mx[2*i]) {
			if r := t.findBlock(2*i, lo, mid, from, to, need, blk); r >= 0 {
				return r
			}
		}
		i, lo = 2*i+1, mid
		if lo >= to || !need.Fits(t.mx[i]) {
			return -1
		}
	}
	return max(lo, from)
}

func (t *fitIndex) find(i, lo, hi, from, to int, need *Resources) int {
	if hi <= from || lo >= to || !need.Fits(t.mx[i]) {
		return -1
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		// Descend left when the left half can hold a match, else right.
		if mid > from && need.Fits(t.mx[2*i]) {
			if r := t.find(2*i, lo, mid, from, to, need); r >= 0 {
				return r
			}
		}
		i, lo = 2*i+1, mid
		if lo >= to || !need.Fits(t.mx[i]) {
			return -1
		}
	}
	return lo
}

// leaf returns the free capacity stored for slot i.
func (t *fitIndex) leaf(i int) Resources { return t.mx[t.size+i] }

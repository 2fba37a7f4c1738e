package sched

// Placement decisions: sample feasible nodes from the fit index, filter,
// score and rank them. Decisions read the ledger under the read lock.

import (
	"math"
	"math/bits"
	"slices"
)

// slotHot is the part of a node the full scan reads for every slot, kept
// densely beside the fit index leaves.
type slotHot struct {
	invCPU, invMem float64
	plain, prefer  bool
}

type candidate struct {
	n     *nodeState
	score float64
}

func (c *Coordinator) limit() int {
	n := len(c.byName)
	switch c.cfg.Sampling {
	case SampleFull:
		return n
	case SampleAdaptive:
		pct := max(5, 50-n/125)
		return max(c.cfg.SampleMin, n*pct/100)
	}
	return max(c.cfg.SampleMin, bits.Len(uint(n)))
}

func (c *Coordinator) randN(n int) int {
	c.rngMu.Lock()
	v := c.rng.IntN(n)
	c.rngMu.Unlock()
	return v
}

// decide ranks up to MaxAttempts feasible nodes for claim, scoring at most
// limit() feasible nodes found from a random start in the fit index. c.mu
// must be held (read or write).
func (c *Coordinator) decide(r *Request, claim Resources, exclude []*nodeState, top []candidate) []candidate {
	limit := c.limit()
	if slots := c.restrict(r); slots != nil {
		return c.decideAmong(slots, r, claim, exclude, top, limit)
	}
	if limit >= len(c.byName) {
		return c.scan(r, claim, exclude, top)
	}
	size := c.index.size
	start := 0
	if size > 1 && c.cfg.Sampling != SampleFull {
		start = c.randN(size)
	}
	if 32*limit >= len(c.nodes) {
		// The sample is a sizeable share of the cluster (adaptive
		// sampling scores 5–50 %): reading the dense leaves in order
		// (a few ns a slot) beats descending the index once per feasible
		// node (over a hundred ns each), and finds the same nodes.
		return c.scanFrom(r, claim, exclude, top, start, limit)
	}
	return c.walkFrom(r, claim, exclude, top, start, limit)
}

// walkFrom scores up to limit feasible nodes found from slot start,
// wrapping around, and finds the same nodes as scanFrom from start. The
// fit index jumps over blocks of slots that cannot hold claim, reading only
// its levels above the blocks; each block it lands on is read in order
// from the dense leaf and score arrays, so a sample of ⌈log₂ N⌉ nodes costs
// a descent or two and sequential reads instead of one full descent (and
// one node record) per feasible node.
func (c *Coordinator) walkFrom(r *Request, claim Resources, exclude []*nodeState, top []candidate, start, limit int) []candidate {
	n := len(c.nodes)
	start = min(start, n)
	pos, end, wrapped := start, n, false
	feasible := 0
	plain := plainRequest(r)
	for feasible < limit {
		i := c.index.nextBlock(pos, end, &claim)
		if i < 0 {
			if wrapped || start == 0 {
				break
			}
			pos, end, wrapped = 0, start, true
			continue
		}
		hi := min((i/walkBlock+1)*walkBlock, end)
		var done bool
		top, done = c.scanRange(r, plain, claim, exclude, top, i, hi, limit, &feasible)
		if done {
			break
		}
		pos = hi
	}
	return top
}

// restrict returns a small candidate set, sorted by slot, when the request
// can only go to a few nodes: the nodes hosting an affinity group that
// already has members, or the nodes carrying the rarest NodeSelector label
// when it is on at most a quarter of the cluster. It returns nil when the
// fit index walk is the better way in.
func (c *Coordinator) restrict(r *Request) []int {
	var best []int
	found := false
	for _, g := range r.AffinityGroups {
		if c.groupTotal[g] == 0 {
			continue
		}
		set := c.groupNodes[g]
		if !found || len(set) < len(best) {
			best = best[:0]
			for n := range set {
				best = append(best, n.slot)
			}
			found = true
		}
	}
	if found {
		slices.Sort(best)
		if best == nil {
			best = []int{}
		}
		return best
	}
	for k, v := range r.NodeSelector {
		list, ok := c.labelNodes[k+"\x00"+v]
		if !ok {
			return []int{} // no node carries the label
		}
		if best == nil || len(list) < len(best) {
			best = list
		}
	}
	if best != nil && len(best) <= len(c.byName)/4 {
		return best
	}
	return nil
}

// decideAmong is decide over an explicit candidate set, scored from a
// random starting point up to limit feasible nodes.
func (c *Coordinator) decideAmong(slots []int, r *Request, claim Resources, exclude []*nodeState, top []candidate, limit int) []candidate {
	if len(slots) == 0 {
		return top
	}
	start := 0
	if c.cfg.Sampling != SampleFull && len(slots) > limit {
		start = c.randN(len(slots))
	}
	feasible := 0
	for i := range slots {
		n := c.nodes[slots[(start+i)%len(slots)]]
		if filterNode(n, r, claim, c.groupTotal) != passed || isExcluded(n, exclude) {
			continue
		}
		top = rank(top, c.cfg.MaxAttempts, candidate{n, score(n, r, claim, &c.cfg.Weights)})
		if feasible++; feasible >= limit {
			break
		}
	}
	return top
}

// scan is decide without sampling: every node is filtered and every
// feasible node scored, in slot order.
func (c *Coordinator) scan(r *Request, claim Resources, exclude []*nodeState, top []candidate) []candidate {
	return c.scanFrom(r, claim, exclude, top, 0, math.MaxInt)
}

// scanFrom filters the slots in order from start, wrapping around, and
// scores feasible nodes until limit of them have been scored — the same
// nodes the fit index walk from start finds.
func (c *Coordinator) scanFrom(r *Request, claim Resources, exclude []*nodeState, top []candidate, start, limit int) []candidate {
	plain := plainRequest(r)
	n := len(c.nodes)
	start = min(start, n)
	feasible := 0
	for _, seg := range [2][2]int{{start, n}, {0, start}} {
		var done bool
		if top, done = c.scanRange(r, plain, claim, exclude, top, seg[0], seg[1], limit, &feasible); done {
			break
		}
	}
	return top
}

// scanRange filters and scores the slots [lo, hi) in order, counting
// feasible nodes in *feasible, and reports done once limit were scored.
//
// The fit index leaves hold every slot's free capacity (blocked for empty
// and draining slots) densely, so the resource filter runs without touching
// the node records; the per-slot score inputs sit in c.hot for the same
// reason, and a plain request on a plain node needs nothing else.
func (c *Coordinator) scanRange(r *Request, plain bool, claim Resources, exclude []*nodeState, top []candidate, lo, hi, limit int, feasible *int) ([]candidate, bool) {
	k := c.cfg.MaxAttempts
	w := &c.cfg.Weights
	leaves := c.index.mx[c.index.size+lo : c.index.size+hi]
	hot := c.hot[lo:hi]
	for j := range leaves {
		free := &leaves[j]
		if !claim.Fits(*free) {
			continue
		}
		i := lo + j
		h := &hot[j]
		if !(plain && h.plain) && filterNode(c.nodes[i], r, claim, c.groupTotal) != passed {
			continue
		}
		if len(exclude) > 0 && isExcluded(c.nodes[i], exclude) {
			continue
		}
		s := fitScore(h.invCPU, h.invMem, *free, claim, w)
		if h.prefer && w.Taint != 0 && !tolerated(c.nodes[i].spec.Taints, r.Tolerations, TaintPreferNoSchedule) {
			s -= w.Taint
		}
		if len(top) < k || s > top[k-1].score {
			top = rank(top, k, candidate{c.nodes[i], s})
		}
		if *feasible++; *feasible >= limit {
			return top, true
		}
	}
	return top, false
}

// rank inserts cd into top, kept sorted by descending score and at most k
// long; among equal scores the earlier candidate stays first.
func rank(top []candidate, k int, cd candidate) []candidate {
	j := len(top)
	for j > 0 && top[j-1].score < cd.score {
		j--
	}
	if j >= k {
		return top
	}
	if len(top) < k {
		top = append(top, candidate{})
	}
	copy(top[j+1:], top[j:])
	top[j] = cd
	return top
}

func isExcluded(n *nodeState, exclude []*nodeState) bool {
	for _, e := range exclude {
		if e == n {
			return true
		}
	}
	return false
}

// rejections counts, per filter, the nodes that reject r. c.mu must be held.
func (c *Coordinator) rejections(r *Request, claim Resources, exclude []*nodeState) map[string]int {
	out := make(map[string]int)
	for _, n := range c.byName {
		code := filterNode(n, r, claim, c.groupTotal)
		if code == passed && isExcluded(n, exclude) {
			code = rejExcluded
		}
		if code != passed {
			out[filterNames[code-1]]++
		}
	}
	return out
}

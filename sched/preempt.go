package sched

// Preemption: when a request fits nowhere, evict workloads of strictly
// lower priority from one node (Config.Preemption), through their backends,
// and hand the freed room to the request in the same critical section.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// preemptPlan is the node and the victims whose eviction makes r fit.
type preemptPlan struct {
	node    *nodeState
	victims []*workload
}

// lowerPriority returns, by node, the live workloads of priority below
// r's: the only ones r may evict. It reads every workload record once, which
// a request pays only when it fits nowhere (or is explained). c.mu must be
// held.
func (c *Coordinator) lowerPriority(r *Request) map[*nodeState][]*workload {
	out := make(map[*nodeState][]*workload)
	for _, w := range c.work {
		if w.state == stLive && w.node != nil && w.req.Priority < r.Priority {
			out[w.node] = append(out[w.node], w)
		}
	}
	return out
}

// victimsOn returns the workloads among cands (the lower-priority ones on
// n) whose eviction makes claim fit, the lowest priorities first and, among
// equal priorities, the largest first, or nil when they are not enough or a
// filter other than resources rejects n. It reorders cands. c.mu must be
// held.
func (c *Coordinator) victimsOn(n *nodeState, r *Request, claim Resources, cands []*workload) []*workload {
	if len(cands) == 0 {
		return nil
	}
	if r.PinNUMA || !claim.Fits(n.allocatable) {
		return nil
	}
	// Every filter but resources: a zero claim fits any node whose free
	// capacity is not negative.
	if filterNode(n, r, Resources{}, c.groupTotal) != passed {
		return nil
	}
	slices.SortFunc(cands, func(a, b *workload) int {
		if a.req.Priority != b.req.Priority {
			return int(a.req.Priority) - int(b.req.Priority)
		}
		if a.res.MilliCPU != b.res.MilliCPU {
			return cmpInt64(b.res.MilliCPU, a.res.MilliCPU)
		}
		if a.res.MemoryBytes != b.res.MemoryBytes {
			return cmpInt64(b.res.MemoryBytes, a.res.MemoryBytes)
		}
		return strings.Compare(a.req.ID, b.req.ID)
	})
	free := n.free()
	var out []*workload
	for _, w := range cands {
		if claim.Fits(free) {
			break
		}
		free = free.Add(w.res)
		out = append(out, w)
	}
	if !claim.Fits(free) {
		return nil
	}
	// Keep back any victim the others already make room without, the
	// largest first, so no workload is evicted for nothing.
	for i := len(out) - 1; i >= 0; i-- {
		if claim.Fits(free.Sub(out[i].res)) {
			free = free.Sub(out[i].res)
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// planPreemption picks the node whose eviction costs least: the lowest
// highest victim priority, then the fewest victims, then the least CPU
// evicted, then the lowest slot. c.mu must be held.
func (c *Coordinator) planPreemption(r *Request, claim Resources, exclude []*nodeState) preemptPlan {
	if c.onPlan != nil {
		c.onPlan()
	}
	var best preemptPlan
	var bestPrio int32
	var bestCPU int64
	byNode := c.lowerPriority(r)
	for _, n := range c.nodes {
		if n == nil || isExcluded(n, exclude) {
			continue
		}
		v := c.victimsOn(n, r, claim, byNode[n])
		if len(v) == 0 {
			continue
		}
		prio, cpu := int32(-1<<31), int64(0)
		for _, w := range v {
			prio = max(prio, w.req.Priority)
			cpu += w.res.MilliCPU
		}
		if best.node == nil || prio < bestPrio || (prio == bestPrio && (len(v) < len(best.victims) ||
			(len(v) == len(best.victims) && cpu < bestCPU))) {
			best, bestPrio, bestCPU = preemptPlan{n, v}, prio, cpu
		}
	}
	return best
}

// preempt evicts the victims of the cheapest plan for w and claims the
// freed room for w. It returns found=false when no plan exists; otherwise
// the IDs it evicted and, if w's claim was made, the node (nil when the
// plan went stale or an eviction failed, so the caller decides again).
func (c *Coordinator) preempt(ctx context.Context, w *workload, claim Resources, exclude []*nodeState) (*nodeState, []string, bool) {
	// Planning reads every workload record. Most requests that fit
	// nowhere find nothing to evict (nothing of lower priority, or not
	// enough), so plan first under the read lock, beside other decisions,
	// and take the write lock only to plan again and mark the victims.
	c.mu.RLock()
	plan := c.planPreemption(&w.req, claim, exclude)
	c.mu.RUnlock()
	if plan.node == nil {
		return nil, nil, false
	}
	c.mu.Lock()
	plan = c.planPreemption(&w.req, claim, exclude)
	if plan.node == nil {
		c.mu.Unlock()
		return nil, nil, false
	}
	for _, v := range plan.victims {
		v.state = stDeleting // no one else deletes or reconciles it meanwhile
	}
	c.mu.Unlock()

	ok := make([]bool, len(plan.victims))
	for i, v := range plan.victims {
		b := c.backends[v.req.Kind]
		cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
		err := b.Delete(cctx, v.req.ID)
		cancel()
		ok[i] = err == nil || errors.Is(err, ErrNotFound)
	}

	c.mu.Lock()
	var evicted []string
	for i, v := range plan.victims {
		if !ok[i] {
			v.state = stLive
			continue
		}
		c.commitChange(Deleted, v.req.ID, v)
		c.release(v)
		c.forget(v.req.ID)
		evicted = append(evicted, v.req.ID)
	}
	c.st.preempted.Add(int64(len(evicted)))
	n := plan.node
	if c.nodes[n.slot] != n || filterNode(n, &w.req, claim, c.groupTotal) != passed {
		c.mu.Unlock()
		return nil, evicted, true
	}
	c.claim(w, n, -1, claim)
	c.mu.Unlock()
	return n, evicted, true
}

// explainPreemption says whom r would evict on n, or "". c.mu must be held.
func (c *Coordinator) explainPreemption(n *nodeState, r *Request, cands []*workload) ([]string, string) {
	v := c.victimsOn(n, r, r.Resources, cands)
	if len(v) == 0 {
		return nil, ""
	}
	ids := make([]string, len(v))
	parts := make([]string, len(v))
	for i, w := range v {
		ids[i] = w.req.ID
		parts[i] = fmt.Sprintf("%s (priority %d, %v)", w.req.ID, w.req.Priority, w.res)
	}
	slices.Sort(ids)
	return ids, fmt.Sprintf("preemption would evict %s, of priority below %d", strings.Join(parts, ", "), r.Priority)
}

package sched

// Explain: why each node was rejected or how it scored for a request.

import (
	"fmt"
	"sort"
)

// NodeVerdict says what the pipeline thinks of one node for a request.
type NodeVerdict struct {
	Node   string  // the node's name
	Filter string  // the first filter that rejected the node; "" if feasible
	Reason string  // human-readable detail of the rejection
	Score  float64 // the weighted score, for feasible nodes
	// Preempt lists, sorted, the workloads Create would evict from this
	// node to make room (Config.Preemption, a node rejected for resources
	// only); Reason then names them with their priorities. Create evicts
	// on the one node where that costs least: the lowest highest victim
	// priority, then the fewest victims, then the least CPU.
	Preempt []string
}

// String renders the verdict as one line, for example
// "n3: rejected by resources (cpu: needs 3000m, 2000m free)" or
// "n1: feasible, score 0.412".
func (v NodeVerdict) String() string {
	if v.Filter == "" {
		return fmt.Sprintf("%s: feasible, score %.3f", v.Node, v.Score)
	}
	if len(v.Preempt) > 0 {
		return fmt.Sprintf("%s: rejected by %s (%s), preemptible", v.Node, v.Filter, v.Reason)
	}
	return fmt.Sprintf("%s: rejected by %s (%s)", v.Node, v.Filter, v.Reason)
}

// Explain runs every filter on every node for r without placing it and
// returns, sorted by node name, the first filter that rejected each node or
// its score ("why not this node"). With Config.Preemption, a node rejected
// for resources alone also says which lower-priority workloads Create
// would evict there, and why (NodeVerdict.Preempt). It fails only for a
// malformed request (or ErrNotInitialized).
func (c *Coordinator) Explain(r Request) ([]NodeVerdict, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if err := validateRequest(&r); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]NodeVerdict, 0, len(c.byName))
	var lower map[*nodeState][]*workload
	if c.cfg.Preemption {
		lower = c.lowerPriority(&r)
	}
	for name, n := range c.byName {
		v := NodeVerdict{Node: name}
		if code := filterNode(n, &r, r.Resources, c.groupTotal); code != passed {
			v.Filter = filterNames[code-1]
			v.Reason = explainReason(code, n, &r, r.Resources, c.groupTotal)
			if code == rejResources && c.cfg.Preemption {
				if ids, why := c.explainPreemption(n, &r, lower[n]); ids != nil {
					v.Preempt = ids
					v.Reason += "; " + why
				}
			}
		} else {
			v.Score = score(n, &r, r.Resources, &c.cfg.Weights)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

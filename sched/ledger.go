package sched

// The ledger: claims and releases of node capacity, corrections to the
// allocations backends report, committed changes, and Audit.

import (
	"fmt"
	"slices"
	"sort"
)

// Allocations returns every live workload's allocation as the ledger
// records it, sorted by ID.
func (c *Coordinator) Allocations() []Allocation {
	if c.ready() != nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Allocation, 0, len(c.work))
	for id, w := range c.work {
		if w.state == stLive || w.state == stDeleting {
			out = append(out, Allocation{ID: id, Kind: w.req.Kind, Node: w.node.spec.Name, NUMACell: w.cell, Resources: w.res})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Audit recomputes every node's usage from the workload records and
// checks it against the ledger, the capacity limits and the fit index. It
// returns nil when the ledger is exact, and otherwise a plain error (no
// sentinel: it means a bug in the coordinator) naming the first node or
// workload whose accounting is wrong.
func (c *Coordinator) Audit() error {
	if err := c.ready(); err != nil {
		return err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	used := make(map[*nodeState]Resources)
	count := make(map[*nodeState]int)
	groups := make(map[string]int)
	for id, w := range c.work {
		if w.node == nil {
			if w.state == stLive || w.state == stDeleting {
				return fmt.Errorf("sched: audit: live workload %q has no node", id)
			}
			continue
		}
		if c.byName[w.node.spec.Name] != w.node {
			return fmt.Errorf("sched: audit: workload %q on removed node %q", id, w.node.spec.Name)
		}
		used[w.node] = used[w.node].Add(w.res)
		count[w.node]++
		for _, g := range w.req.AffinityGroups {
			groups[g]++
		}
		for _, g := range w.req.AntiAffinityGroups {
			groups[g]++
		}
	}
	for name, ns := range c.byName {
		if used[ns] != ns.used || count[ns] != ns.workloads {
			return fmt.Errorf("sched: audit: node %q ledger %v (%d workloads), records sum to %v (%d)", name, ns.used, ns.workloads, used[ns], count[ns])
		}
		if !ns.used.Fits(ns.allocatable) {
			return fmt.Errorf("sched: audit: node %q uses %v of %v", name, ns.used, ns.allocatable)
		}
		want := ns.free()
		if ns.draining {
			want = blocked
		}
		if got := c.index.mx[c.index.size+ns.slot]; got != want {
			return fmt.Errorf("sched: audit: node %q index %v, want %v", name, got, want)
		}
	}
	for g, n := range c.groupTotal {
		if groups[g] != n {
			return fmt.Errorf("sched: audit: group %q counts %d, records %d", g, n, groups[g])
		}
	}
	for g, set := range c.groupNodes {
		for ns := range set {
			if ns.groups[g] == 0 {
				return fmt.Errorf("sched: audit: group %q indexed on %q without members", g, ns.spec.Name)
			}
		}
	}
	labels := 0
	for _, ns := range c.byName {
		for g := range ns.groups {
			if _, ok := c.groupNodes[g][ns]; !ok {
				return fmt.Errorf("sched: audit: group %q on %q missing from the index", g, ns.spec.Name)
			}
		}
		for k, v := range ns.spec.Labels {
			if _, ok := slices.BinarySearch(c.labelNodes[k+"\x00"+v], ns.slot); !ok {
				return fmt.Errorf("sched: audit: label %s=%s of %q missing from the index", k, v, ns.spec.Name)
			}
		}
		labels += len(ns.spec.Labels)
	}
	for _, list := range c.labelNodes {
		labels -= len(list)
	}
	if labels != 0 {
		return fmt.Errorf("sched: audit: label index holds %d stale entries", -labels)
	}
	return nil
}

func (c *Coordinator) updateIndex(ns *nodeState) {
	if ns.draining {
		c.index.set(ns.slot, blocked)
		return
	}
	c.index.set(ns.slot, ns.free())
}

func (c *Coordinator) claim(w *workload, ns *nodeState, cell int, res Resources) {
	w.node, w.cell, w.res = ns, cell, res
	ns.used = ns.used.Add(res)
	ns.workloads++
	if cell >= 0 {
		ns.cellUsed[cell] = ns.cellUsed[cell].Add(Resources{MilliCPU: res.MilliCPU, MemoryBytes: res.MemoryBytes})
	}
	c.addGroups(w, ns, 1)
	c.updateIndex(ns)
}

func (c *Coordinator) release(w *workload) {
	ns := w.node
	if ns == nil {
		return
	}
	ns.used = ns.used.Sub(w.res)
	ns.workloads--
	if w.cell >= 0 {
		ns.cellUsed[w.cell] = ns.cellUsed[w.cell].Sub(Resources{MilliCPU: w.res.MilliCPU, MemoryBytes: w.res.MemoryBytes})
	}
	c.addGroups(w, ns, -1)
	c.updateIndex(ns)
	w.node, w.cell, w.res = nil, -1, Resources{}
}

func (c *Coordinator) addGroups(w *workload, ns *nodeState, d int) {
	for _, gs := range [][]string{w.req.AffinityGroups, w.req.AntiAffinityGroups} {
		for _, g := range gs {
			if ns.groups == nil {
				ns.groups = make(map[string]int)
			}
			ns.groups[g] += d
			switch ns.groups[g] {
			case 0:
				delete(ns.groups, g)
				delete(c.groupNodes[g], ns)
				if len(c.groupNodes[g]) == 0 {
					delete(c.groupNodes, g)
				}
			case d:
				if c.groupNodes[g] == nil {
					c.groupNodes[g] = make(map[*nodeState]struct{})
				}
				c.groupNodes[g][ns] = struct{}{}
			}
			c.groupTotal[g] += d
			if c.groupTotal[g] == 0 {
				delete(c.groupTotal, g)
			}
		}
	}
}

// correct replaces w's claim by the actual allocation if the node can hold
// it, and reports whether it could.
func (c *Coordinator) correct(w *workload, actual Resources) bool {
	ns := w.node
	if actual == w.res {
		return true
	}
	used := ns.used.Sub(w.res).Add(actual)
	if !used.Fits(ns.allocatable) {
		return false
	}
	if w.cell >= 0 {
		cu := ns.cellUsed[w.cell]
		cu.MilliCPU += actual.MilliCPU - w.res.MilliCPU
		cu.MemoryBytes += actual.MemoryBytes - w.res.MemoryBytes
		cell := ns.spec.NUMA[w.cell]
		if cu.MilliCPU > cell.MilliCPU || cu.MemoryBytes > cell.MemoryBytes {
			return false
		}
		ns.cellUsed[w.cell] = cu
	}
	ns.used = used
	w.res = actual
	c.updateIndex(ns)
	c.st.corrections.Add(1)
	return true
}

// forceCorrect records an allocation the node cannot hold but that could
// not be undone: the ledger follows reality.
func (c *Coordinator) forceCorrect(w *workload, actual Resources) {
	ns := w.node
	ns.used = ns.used.Sub(w.res).Add(actual)
	if w.cell >= 0 {
		cu := ns.cellUsed[w.cell]
		cu.MilliCPU += actual.MilliCPU - w.res.MilliCPU
		cu.MemoryBytes += actual.MemoryBytes - w.res.MemoryBytes
		ns.cellUsed[w.cell] = cu
	}
	w.res = actual
	c.updateIndex(ns)
}

// commitChange records a committed change in every other manager's outbox.
// A Deleted names the Seq of the workload's Created so that an outbox still
// holding that Created, never offered, can drop both.
func (c *Coordinator) commitChange(op ChangeOp, id string, w *workload) {
	c.seq++
	ch := Change{Seq: c.seq, Op: op, Time: c.cfg.Now(),
		Allocation: Allocation{ID: id, Kind: w.req.Kind, Node: w.node.spec.Name, NUMACell: w.cell, Resources: w.res}}
	var cancels uint64
	if op == Created {
		w.createdSeq = c.seq
	} else {
		cancels = w.createdSeq
	}
	for _, ob := range c.outboxes {
		if ob.kind != w.req.Kind {
			ob.push(ch, cancels)
		}
	}
}

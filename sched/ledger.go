package sched

// The ledger: claims and releases of node capacity, corrections to the
// allocations backends report, and committed changes. Audit is in audit.go.

import (
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
	if w.forced {
		ns.forced++
	}
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
	if w.forced {
		ns.forced--
	}
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

// markForced flags w, which holds a claim, as accounted without a
// capacity check.
func (c *Coordinator) markForced(w *workload) {
	if !w.forced {
		w.forced = true
		w.node.forced++
	}
}

// forget removes id from the ledger's records; w must hold no claim.
func (c *Coordinator) forget(id string) {
	delete(c.work, id)
	if c.reconciling > 0 {
		c.gone[id] = struct{}{}
	}
	delete(c.drift, id)
}

// forceCorrect records an allocation the node may not be able to hold but
// that exists (it could not be undone, or its manager reports it): the
// ledger follows reality, and w is marked forced.
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
	c.settle(w)
	c.updateIndex(ns)
}

// settle marks w forced when its node (or NUMA cell) no longer holds what
// the ledger records after w was accounted without a capacity check. The
// invariant Audit checks is that a node's usage minus its forced
// workloads always fits: every other claim was admitted by a capacity
// check, and releases only lower usage.
func (c *Coordinator) settle(w *workload) {
	ns := w.node
	over := !ns.used.Fits(ns.allocatable)
	if w.cell >= 0 && !over {
		cu, cell := ns.cellUsed[w.cell], ns.spec.NUMA[w.cell]
		over = cu.MilliCPU > cell.MilliCPU || cu.MemoryBytes > cell.MemoryBytes
	}
	if over {
		c.markForced(w)
	}
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

package sched

// Audit: recompute the ledger from the workload records and separate
// coordinator bugs from known, reported conditions.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrLedgerBug is wrapped by the error Audit returns: the ledger broke an
// invariant that must never break, whatever the backends do. It means a bug
// in the coordinator.
var ErrLedgerBug = errors.New("sched: ledger invariant broken (coordinator bug)")

// FindingKind classifies what an audit found.
type FindingKind uint8

const (
	// FindingBug: an invariant that must never break is broken (the ledger
	// differs from the sum of its records, an index is stale, a node holds
	// more than it can without a known cause). Audit returns an error.
	FindingBug FindingKind = iota + 1
	// FindingUndoFailed: a backend Create was rejected (timed out, over
	// capacity, malformed) and could not be undone; the workload is kept
	// in the ledger as the backend reported it (Create returned an error
	// wrapping ErrUndoFailed) until the host Deletes it.
	FindingUndoFailed
	// FindingOverCommitted: the node holds more than its allocatable
	// capacity because some of its workloads are accounted as their
	// managers report them (a failed undo, a recovered or adopted
	// workload, a size corrected by Reconcile). New placements skip the
	// node until it fits again.
	FindingOverCommitted
	// FindingPendingRepair: Reconcile found drift and deferred its repair
	// (Config.MaxRepairs); the next Reconcile repairs it.
	FindingPendingRepair
	// FindingUnreconciled: a manager reports what the coordinator cannot
	// account without guessing: a workload on a node it does not know, one
	// ID claimed by two managers or of the wrong kind. Add the node or
	// remove the duplicate, then Reconcile.
	FindingUnreconciled
)

// String names the kind.
func (k FindingKind) String() string {
	switch k {
	case FindingBug:
		return "bug"
	case FindingUndoFailed:
		return "undo-failed"
	case FindingOverCommitted:
		return "over-committed"
	case FindingPendingRepair:
		return "pending-repair"
	case FindingUnreconciled:
		return "unreconciled"
	}
	return fmt.Sprintf("FindingKind(%d)", uint8(k))
}

// Finding is one thing an audit found.
type Finding struct {
	Kind   FindingKind // a bug, or which known condition
	Node   string      // the node concerned, if any
	ID     string      // the workload concerned, if any
	Detail string      // human-readable detail
}

// String renders the finding as one line.
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	if f.Node != "" {
		fmt.Fprintf(&b, " node %q", f.Node)
	}
	if f.ID != "" {
		fmt.Fprintf(&b, " workload %q", f.ID)
	}
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	return b.String()
}

// Audit recomputes every node's usage from the workload records and checks
// it against the ledger, the capacity limits and the indexes. It returns
// nil when no invariant is broken, and otherwise an error wrapping
// ErrLedgerBug that names the first broken one: that is a coordinator bug.
// Known, reported conditions — a failed undo, a node over-committed by
// workloads accounted as their managers report them, drift waiting for
// repair, what Recover or Reconcile could not account — are not bugs:
// Findings lists them beside any bug. A zero Coordinator returns
// ErrNotInitialized.
func (c *Coordinator) Audit() error {
	if err := c.ready(); err != nil {
		return err
	}
	var bugs []Finding
	for _, f := range c.Findings() {
		if f.Kind == FindingBug {
			bugs = append(bugs, f)
		}
	}
	switch len(bugs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s", ErrLedgerBug, bugs[0])
	}
	return fmt.Errorf("%w: %s (and %d more)", ErrLedgerBug, bugs[0], len(bugs)-1)
}

// Findings runs the audit and returns everything it found, bugs and known
// conditions, sorted by kind, node and workload. A zero Coordinator has
// none.
func (c *Coordinator) Findings() []Finding {
	if c.ready() != nil {
		return nil
	}
	c.mu.RLock()
	out := c.audit()
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.ID < b.ID
	})
	return out
}

// audit collects the findings; c.mu must be held.
func (c *Coordinator) audit() []Finding {
	var out []Finding
	bug := func(node, id, format string, a ...any) {
		out = append(out, Finding{Kind: FindingBug, Node: node, ID: id, Detail: fmt.Sprintf(format, a...)})
	}
	used := make(map[*nodeState]Resources)
	unforced := make(map[*nodeState]Resources)
	count := make(map[*nodeState]int)
	forced := make(map[*nodeState]int)
	groups := make(map[string]int)
	// cells[n][i] sums the pinned records on n's cell i: all, and the
	// capacity-checked (unforced) ones.
	cells := make(map[*nodeState][][2]Resources)
	for id, w := range c.work {
		if w.node == nil {
			if w.state == stLive || w.state == stDeleting {
				bug("", id, "live workload has no node")
			}
			continue
		}
		if c.byName[w.node.spec.Name] != w.node {
			bug(w.node.spec.Name, id, "workload on a removed node")
			continue
		}
		used[w.node] = used[w.node].Add(w.res)
		count[w.node]++
		if w.forced {
			forced[w.node]++
		} else {
			unforced[w.node] = unforced[w.node].Add(w.res)
		}
		if w.cell >= len(w.node.spec.NUMA) {
			bug(w.node.spec.Name, id, "pinned to NUMA cell %d of %d", w.cell, len(w.node.spec.NUMA))
		} else if w.cell >= 0 {
			cs := cells[w.node]
			if cs == nil {
				cs = make([][2]Resources, len(w.node.spec.NUMA))
				cells[w.node] = cs
			}
			r := Resources{MilliCPU: w.res.MilliCPU, MemoryBytes: w.res.MemoryBytes}
			cs[w.cell][0] = cs[w.cell][0].Add(r)
			if !w.forced {
				cs[w.cell][1] = cs[w.cell][1].Add(r)
			}
		}
		if w.undoFailed && (w.state == stLive || w.state == stDeleting) {
			out = append(out, Finding{Kind: FindingUndoFailed, Node: w.node.spec.Name, ID: id,
				Detail: fmt.Sprintf("kept at %v after a failed undo; Delete it", w.res)})
		}
		for _, g := range w.req.AffinityGroups {
			groups[g]++
		}
		for _, g := range w.req.AntiAffinityGroups {
			groups[g]++
		}
	}
	for name, ns := range c.byName {
		if used[ns] != ns.used || count[ns] != ns.workloads || forced[ns] != ns.forced {
			bug(name, "", "ledger %v (%d workloads, %d forced), records sum to %v (%d, %d)",
				ns.used, ns.workloads, ns.forced, used[ns], count[ns], forced[ns])
		}
		if !unforced[ns].Fits(ns.allocatable) {
			bug(name, "", "capacity-checked claims use %v of %v", unforced[ns], ns.allocatable)
		} else if !ns.used.Fits(ns.allocatable) {
			out = append(out, Finding{Kind: FindingOverCommitted, Node: name,
				Detail: fmt.Sprintf("uses %v of %v; %d workload(s) accounted as their managers report them", ns.used, ns.allocatable, ns.forced)})
		}
		for i, cell := range ns.spec.NUMA {
			cu := ns.cellUsed[i]
			var sum [2]Resources
			if cs := cells[ns]; cs != nil {
				sum = cs[i]
			}
			over := func(r Resources) bool { return r.MilliCPU > cell.MilliCPU || r.MemoryBytes > cell.MemoryBytes }
			switch {
			case cu != sum[0]:
				bug(name, "", "NUMA cell %d ledger cpu=%dm mem=%dB, pinned records sum to cpu=%dm mem=%dB",
					i, cu.MilliCPU, cu.MemoryBytes, sum[0].MilliCPU, sum[0].MemoryBytes)
			case over(sum[1]):
				bug(name, "", "capacity-checked claims use cpu=%dm mem=%dB of NUMA cell %d (cpu=%dm mem=%dB)",
					sum[1].MilliCPU, sum[1].MemoryBytes, i, cell.MilliCPU, cell.MemoryBytes)
			case over(cu):
				out = append(out, Finding{Kind: FindingOverCommitted, Node: name,
					Detail: fmt.Sprintf("NUMA cell %d uses cpu=%dm mem=%dB of cpu=%dm mem=%dB; pinned workloads accounted as their managers report them",
						i, cu.MilliCPU, cu.MemoryBytes, cell.MilliCPU, cell.MemoryBytes)})
			}
		}
		want := ns.free()
		if ns.draining {
			want = blocked
		}
		if got := c.index.leaf(ns.slot); got != want {
			bug(name, "", "fit index holds %v, want %v", got, want)
		}
	}
	for g, n := range c.groupTotal {
		if groups[g] != n {
			bug("", "", "group %q counts %d, records %d", g, n, groups[g])
		}
	}
	for g, set := range c.groupNodes {
		for ns := range set {
			if ns.groups[g] == 0 {
				bug(ns.spec.Name, "", "group %q indexed without members", g)
			}
		}
	}
	labels := 0
	for _, ns := range c.byName {
		for g := range ns.groups {
			if _, ok := c.groupNodes[g][ns]; !ok {
				bug(ns.spec.Name, "", "group %q missing from the index", g)
			}
		}
		for k, v := range ns.spec.Labels {
			if _, ok := slices.BinarySearch(c.labelNodes[k+"\x00"+v], ns.slot); !ok {
				bug(ns.spec.Name, "", "label %s=%s missing from the index", k, v)
			}
		}
		labels += len(ns.spec.Labels)
	}
	for _, list := range c.labelNodes {
		labels -= len(list)
	}
	if labels != 0 {
		bug("", "", "label index holds %d stale entries", -labels)
	}
	for _, ev := range c.drift {
		kind := FindingPendingRepair
		if !ev.Kind.repairable() {
			kind = FindingUnreconciled
		}
		node := ev.Actual.Node
		if node == "" {
			node = ev.Ledger.Node
		}
		out = append(out, Finding{Kind: kind, Node: node, ID: ev.ID, Detail: ev.String()})
	}
	return out
}

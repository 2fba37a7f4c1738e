package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

type wlState uint8

const (
	stPlacing wlState = iota + 1
	stLive
	stDeleting
	stPending
)

// workload is the ledger record of one request ID.
type workload struct {
	req   Request
	state wlState
	node  *nodeState // nil while it holds no claim
	cell  int
	res   Resources // what the ledger counts on node
	claim Resources // what to claim: the request, or more once a backend consumed more
	seq   uint64    // pending order
	// createdSeq is the Seq of the Created change announcing the workload.
	createdSeq uint64
	pidx       int // index in Coordinator.pending
}

// Coordinator places VM and container workloads on one pool of nodes and
// keeps the single ledger both managers share. All methods are safe for
// concurrent use.
//
// A placement is decided on a read-locked view of the ledger (many decisions
// run in parallel), then committed under the write lock, which re-checks
// every filter on the chosen node and claims its resources before the
// backend is called: a stale decision is never committed, and the number of
// re-decisions is bounded by Config.MaxConflicts.
type Coordinator struct {
	cfg      Config
	backends [Container + 1]SchedulerBackend
	outboxes []*outbox

	rngMu sync.Mutex
	rng   *rand.Rand

	mu         sync.RWMutex
	nodes      []*nodeState // by slot; nil marks a free slot
	hot        []slotHot    // by slot: what the full scan reads, without chasing nodes
	byName     map[string]*nodeState
	freeSlots  []int
	index      fitIndex
	work       map[string]*workload
	groupTotal map[string]int
	groupNodes map[string]map[*nodeState]struct{} // group → nodes hosting members
	labelNodes map[string][]int                   // "key\x00value" → sorted slots carrying the label
	pending    []*workload
	pendSeq    uint64
	seq        uint64

	npending   atomic.Int64
	retrying   atomic.Bool
	retryAgain atomic.Bool
	st         stats

	// afterDecide, if set, runs between a decision and its commit with no
	// lock held. Tests use it to change the ledger deterministically in
	// that window; it is nil in production.
	afterDecide func(ranked []candidate)
}

type stats struct {
	placed, failed, conflicts, alternates, corrections, overconsumed, notifyFailures, deleted atomic.Int64
}

// Stats counts what a Coordinator did since it was created.
type Stats struct {
	Placed         int64 // successful Creates (including retried pending requests)
	Failed         int64 // Creates that ended in an error
	Deleted        int64 // successful Deletes
	Conflicts      int64 // decisions found stale at commit
	Alternates     int64 // backend attempts after the first
	Corrections    int64 // ledger entries corrected to the actual allocation
	OverConsumed   int64 // allocations undone because the node could not hold them
	NotifyFailures int64 // notifications left in the outbox after retries
	Outbox         int   // changes waiting for delivery
	Pending        int   // requests waiting for capacity
	Workloads      int   // live, placing and deleting workloads
}

// New returns a Coordinator over the given backends (at most one per kind)
// with no nodes; add them with AddNode. It returns an error wrapping
// ErrInvalidConfig for an invalid cfg, a nil backend or two backends of one
// kind, and ErrUnknownKind for a backend whose Kind is not VM or Container.
func New(cfg Config, backends ...SchedulerBackend) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Coordinator{
		cfg:        cfg,
		rng:        rand.New(cfg.Rand),
		byName:     make(map[string]*nodeState),
		index:      newFitIndex(1),
		work:       make(map[string]*workload),
		groupTotal: make(map[string]int),
		groupNodes: make(map[string]map[*nodeState]struct{}),
		labelNodes: make(map[string][]int),
	}
	// Seq continues from the creation time in nanoseconds, so the changes
	// of a coordinator that replaces an earlier one (a restart against
	// long-lived managers) rank above its predecessor's and are not
	// discarded as duplicates by receivers that compare Seq.
	if t := cfg.Now().UnixNano(); t > 0 {
		c.seq = uint64(t)
	}
	for _, b := range backends {
		if b == nil {
			return nil, fmt.Errorf("%w: nil backend", ErrInvalidConfig)
		}
		k := b.Kind()
		if !k.Valid() {
			return nil, fmt.Errorf("%w: backend kind %v", ErrUnknownKind, k)
		}
		if c.backends[k] != nil {
			return nil, fmt.Errorf("%w: two backends for kind %s", ErrInvalidConfig, k)
		}
		c.backends[k] = b
		c.outboxes = append(c.outboxes, &outbox{target: b, kind: k})
	}
	return c, nil
}

// ---- nodes ----

// AddNode adds a schedulable node and retries pending requests. It returns
// a *NodeError wrapping ErrInvalidNode for a malformed node (name, class,
// capacity, labels, taints or NUMA cells out of bounds, or a class missing
// from Config.Classes) and ErrDuplicateNode for a name already in use.
func (c *Coordinator) AddNode(ctx context.Context, n Node) error {
	if err := validateNode(&n); err != nil {
		return err
	}
	ratios := c.cfg.DefaultRatios
	if n.Class != "" {
		r, ok := c.cfg.Classes[n.Class]
		if !ok {
			return &NodeError{Node: n.Name, Err: fmt.Errorf("%w: unknown class %q", ErrInvalidNode, n.Class)}
		}
		ratios = r
	}
	ns := &nodeState{spec: cloneNode(n), allocatable: ratios.apply(n.Capacity)}
	ns.cellUsed = make([]Resources, len(n.NUMA))
	ns.plain = len(n.Taints) == 0
	ns.invCPU = 1 / float64(max(ns.allocatable.MilliCPU, 1))
	ns.invMem = 1 / float64(max(ns.allocatable.MemoryBytes, 1))
	for _, t := range n.Taints {
		ns.prefer = ns.prefer || t.Effect == TaintPreferNoSchedule
	}
	c.mu.Lock()
	if _, ok := c.byName[n.Name]; ok {
		c.mu.Unlock()
		return &NodeError{Node: n.Name, Err: ErrDuplicateNode}
	}
	if k := len(c.freeSlots); k > 0 {
		ns.slot = c.freeSlots[k-1]
		c.freeSlots = c.freeSlots[:k-1]
		c.nodes[ns.slot] = ns
	} else {
		ns.slot = len(c.nodes)
		c.nodes = append(c.nodes, ns)
		c.hot = append(c.hot, slotHot{})
		c.index = c.index.grow(len(c.nodes))
	}
	c.hot[ns.slot] = slotHot{invCPU: ns.invCPU, invMem: ns.invMem, plain: ns.plain, prefer: ns.prefer}
	c.byName[n.Name] = ns
	for k, v := range ns.spec.Labels {
		key := k + "\x00" + v
		list := c.labelNodes[key]
		i, _ := slices.BinarySearch(list, ns.slot)
		c.labelNodes[key] = slices.Insert(list, i, ns.slot)
	}
	c.updateIndex(ns)
	c.mu.Unlock()
	c.RetryPending(ctx)
	return nil
}

// RemoveNode removes an idle node. It fails with ErrNodeBusy while any
// workload runs or is being placed there (drain it and delete them first),
// and with ErrUnknownNode for an unknown name.
func (c *Coordinator) RemoveNode(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns, ok := c.byName[name]
	if !ok {
		return &NodeError{Node: name, Err: ErrUnknownNode}
	}
	if ns.workloads > 0 {
		return &NodeError{Node: name, Workloads: ns.workloads, Err: ErrNodeBusy}
	}
	delete(c.byName, name)
	for k, v := range ns.spec.Labels {
		key := k + "\x00" + v
		list := c.labelNodes[key]
		if i, ok := slices.BinarySearch(list, ns.slot); ok {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(c.labelNodes, key)
		} else {
			c.labelNodes[key] = list
		}
	}
	c.nodes[ns.slot] = nil
	c.hot[ns.slot] = slotHot{}
	c.index.set(ns.slot, blocked)
	c.freeSlots = append(c.freeSlots, ns.slot)
	return nil
}

// DrainNode stops new placements on a node; running workloads stay until
// deleted. It returns the IDs of the workloads still on the node, or a
// *NodeError wrapping ErrUnknownNode.
func (c *Coordinator) DrainNode(name string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ns, ok := c.byName[name]
	if !ok {
		return nil, &NodeError{Node: name, Err: ErrUnknownNode}
	}
	ns.draining = true
	c.updateIndex(ns)
	var ids []string
	if ns.workloads > 0 {
		for id, w := range c.work {
			if w.node == ns {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
	}
	return ids, nil
}

// ResumeNode makes a drained node schedulable again and retries pending
// requests. It returns a *NodeError wrapping ErrUnknownNode for an unknown
// name.
func (c *Coordinator) ResumeNode(ctx context.Context, name string) error {
	c.mu.Lock()
	ns, ok := c.byName[name]
	if !ok {
		c.mu.Unlock()
		return &NodeError{Node: name, Err: ErrUnknownNode}
	}
	ns.draining = false
	c.updateIndex(ns)
	c.mu.Unlock()
	c.RetryPending(ctx)
	return nil
}

// NodeStatus is one node as the ledger sees it.
type NodeStatus struct {
	Node        Node      // the node as added
	Allocatable Resources // Capacity × allocation ratios
	Used        Resources // claims and live allocations
	Workloads   int       // live, placing and deleting workloads
	Draining    bool      // DrainNode was called and ResumeNode not since
}

// Nodes returns every node, sorted by name.
func (c *Coordinator) Nodes() []NodeStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]NodeStatus, 0, len(c.byName))
	for _, ns := range c.byName {
		out = append(out, NodeStatus{Node: cloneNode(ns.spec), Allocatable: ns.allocatable, Used: ns.used,
			Workloads: ns.workloads, Draining: ns.draining})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node.Name < out[j].Node.Name })
	return out
}

// Allocations returns every live workload's allocation as the ledger
// records it, sorted by ID.
func (c *Coordinator) Allocations() []Allocation {
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

// Stats returns the counters.
func (c *Coordinator) Stats() Stats {
	s := Stats{
		Placed: c.st.placed.Load(), Failed: c.st.failed.Load(), Deleted: c.st.deleted.Load(),
		Conflicts: c.st.conflicts.Load(), Alternates: c.st.alternates.Load(), Corrections: c.st.corrections.Load(),
		OverConsumed: c.st.overconsumed.Load(), NotifyFailures: c.st.notifyFailures.Load(),
	}
	for _, ob := range c.outboxes {
		ob.mu.Lock()
		s.Outbox += ob.live
		ob.mu.Unlock()
	}
	c.mu.RLock()
	s.Pending = len(c.pending)
	s.Workloads = len(c.work) - len(c.pending)
	c.mu.RUnlock()
	return s
}

// Audit recomputes every node's usage from the workload records and
// checks it against the ledger, the capacity limits and the fit index. It
// returns nil when the ledger is exact, and otherwise a plain error (no
// sentinel: it means a bug in the coordinator) naming the first node or
// workload whose accounting is wrong.
func (c *Coordinator) Audit() error {
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

// ---- ledger primitives; c.mu must be held for writing ----

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

// ---- decisions ----

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

// walkFrom scores up to limit feasible nodes found by the fit index from
// slot start, wrapping around; it visits only slots whose free capacity
// holds claim.
func (c *Coordinator) walkFrom(r *Request, claim Resources, exclude []*nodeState, top []candidate, start, limit int) []candidate {
	k := c.cfg.MaxAttempts
	size := c.index.size
	pos, end, wrapped := start, size, false
	feasible := 0
	for feasible < limit {
		i := c.index.next(pos, end, &claim)
		if i < 0 {
			if wrapped || start == 0 {
				break
			}
			pos, end, wrapped = 0, start, true
			continue
		}
		pos = i + 1
		n := c.nodes[i]
		if filterNode(n, r, claim, c.groupTotal) != passed || isExcluded(n, exclude) {
			continue
		}
		feasible++
		top = rank(top, k, candidate{n, score(n, r, claim, &c.cfg.Weights)})
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
	k := c.cfg.MaxAttempts
	plain := plainRequest(r)
	w := &c.cfg.Weights
	n := len(c.nodes)
	start = min(start, n)
	feasible := 0
	for _, seg := range [2][2]int{{start, n}, {0, start}} {
		// The fit index leaves hold every slot's free capacity (blocked
		// for empty and draining slots) densely, so the resource filter
		// runs without touching the node records; the per-slot score
		// inputs sit in c.hot for the same reason.
		leaves := c.index.mx[c.index.size+seg[0] : c.index.size+seg[1]]
		hot := c.hot[seg[0]:seg[1]]
		for j := range leaves {
			free := &leaves[j]
			if !claim.Fits(*free) {
				continue
			}
			i := seg[0] + j
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
			if feasible++; feasible >= limit {
				return top
			}
		}
	}
	return top
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

// ---- create ----

func (c *Coordinator) checkRequest(r *Request) error {
	if err := validateRequest(r); err != nil {
		return err
	}
	if c.backends[r.Kind] == nil {
		return &RequestError{ID: r.ID, Field: "Kind", Err: fmt.Errorf("%w: %s", ErrNoBackend, r.Kind)}
	}
	return nil
}

// Create places a request: it picks a node, claims the resources in the
// ledger, asks the request kind's backend to create the workload, corrects
// the ledger to the allocation the backend reports and notifies the other
// manager. On backend failure the claim is released and up to
// Config.MaxAttempts nodes are tried.
//
// Errors: *RequestError (ErrInvalidRequest, ErrInvalidResources,
// ErrUnknownKind, ErrNoBackend, ErrDuplicateID) for bad input, and
// *PlacementError (ErrNoCapacity, ErrQueued, ErrConflict, ErrBackend,
// ErrBackendTimeout, ErrBadAllocation, ErrOverConsumed, or ctx.Err() when
// ctx ended) when no placement could be made. Then nothing remains
// claimed, with two exceptions: ErrQueued, where the request waits in the
// pending queue (Delete cancels it), and ErrUndoFailed, where a rejected
// allocation could not be undone, so the workload is kept in the ledger as
// it really is and must be removed with Delete.
//
// A create cut short by the backend timeout or by ctx is undone with a
// backend Delete, in case the backend created the workload and only the
// answer was lost.
//
// A notification that cannot be delivered does not fail Create: it stays
// in the outbox (see Flush and Config.OnNotifyError).
func (c *Coordinator) Create(ctx context.Context, req Request) (Placement, error) {
	if err := c.checkRequest(&req); err != nil {
		c.st.failed.Add(1)
		return Placement{}, err
	}
	w := &workload{req: cloneRequest(req), state: stPlacing, cell: -1, claim: req.Resources}
	c.mu.Lock()
	if _, dup := c.work[req.ID]; dup {
		c.mu.Unlock()
		c.st.failed.Add(1)
		return Placement{}, &RequestError{ID: req.ID, Field: "ID", Err: ErrDuplicateID}
	}
	c.work[req.ID] = w
	c.mu.Unlock()
	return c.place(ctx, w)
}

// place runs the decide–claim–create–commit loop for w, which is registered
// in c.work in state stPlacing and holds no claim.
func (c *Coordinator) place(ctx context.Context, w *workload) (Placement, error) {
	id := w.req.ID
	b := c.backends[w.req.Kind]
	claim := w.claim
	var (
		attempts []AttemptError
		exclude  []*nodeState
		buf      [8]candidate
		lastErr  error
		// freed is set when this placement gave back capacity it had
		// claimed (a failed attempt, or an allocation below the claim).
		// Requests queued while the claim was held may fit now, so they
		// are retried: capacity that appears this way is a capacity event
		// like a Delete.
		freed bool
	)
	defer func() {
		if freed && c.npending.Load() > 0 {
			c.RetryPending(ctx)
		}
	}()
	conflicts := 0
	for attempt := 0; attempt < c.cfg.MaxAttempts; {
		if err := ctx.Err(); err != nil {
			lastErr = err
			attempts = append(attempts, AttemptError{Err: err})
			break
		}
		c.mu.RLock()
		ranked := c.decide(&w.req, claim, exclude, buf[:0])
		c.mu.RUnlock()
		if len(ranked) == 0 {
			return c.unplaceable(w, claim, exclude, attempts)
		}
		if c.afterDecide != nil {
			c.afterDecide(ranked)
		}

		// Serialised commit: re-check the decision against the current ledger.
		c.mu.Lock()
		var chosen *nodeState
		for _, cd := range ranked {
			if c.nodes[cd.n.slot] == cd.n && filterNode(cd.n, &w.req, claim, c.groupTotal) == passed {
				chosen = cd.n
				break
			}
		}
		if chosen == nil {
			c.mu.Unlock()
			c.st.conflicts.Add(1)
			if conflicts++; conflicts > c.cfg.MaxConflicts {
				lastErr = ErrConflict
				break
			}
			continue
		}
		cell := -1
		if w.req.PinNUMA {
			cell = pickCell(chosen, claim)
		}
		c.claim(w, chosen, cell, claim)
		c.mu.Unlock()

		attempt++
		if attempt > 1 {
			c.st.alternates.Add(1)
		}
		p := Placement{Request: w.req, Node: chosen.spec.Name, NUMACell: cell, Claim: claim, Attempt: attempt}
		alloc, err := c.callCreate(ctx, b, p)
		if err == nil {
			if alloc.ID != id || alloc.Kind != w.req.Kind || alloc.Node != p.Node || alloc.NUMACell != cell || alloc.Resources.badQuantity() != "" {
				err = &BackendError{Kind: b.Kind(), Op: "create", ID: id, Node: p.Node,
					Err: fmt.Errorf("%w: got %+v", ErrBadAllocation, alloc)}
				if uerr := c.compensate(ctx, b, id); uerr != nil {
					return c.adopt(ctx, w, p, claim, err, uerr, attempts)
				}
			}
		} else if errors.Is(err, ErrBackendTimeout) || ctx.Err() != nil {
			// The call was cut short, by our timeout or the caller's
			// context: the backend may have created the workload anyway
			// (a lost response), so make sure it is gone.
			if uerr := c.compensate(ctx, b, id); uerr != nil {
				return c.adopt(ctx, w, p, claim, err, uerr, attempts)
			}
		}
		if err != nil {
			c.mu.Lock()
			c.release(w)
			c.mu.Unlock()
			freed = true
			lastErr = err
			attempts = append(attempts, AttemptError{Node: p.Node, Err: err})
			exclude = append(exclude, chosen)
			continue
		}

		c.mu.Lock()
		if !c.correct(w, alloc.Resources) {
			c.mu.Unlock()
			c.st.overconsumed.Add(1)
			oerr := fmt.Errorf("%w: consumed %v", ErrOverConsumed, alloc.Resources)
			if uerr := c.compensate(ctx, b, id); uerr != nil {
				return c.adopt(ctx, w, p, alloc.Resources, oerr, uerr, attempts)
			}
			c.mu.Lock()
			c.release(w)
			c.mu.Unlock()
			freed = true
			lastErr = oerr
			attempts = append(attempts, AttemptError{Node: p.Node, Err: oerr})
			claim = claim.Max(alloc.Resources)
			w.claim = claim // a queued retry starts from what the backend really needs
			continue
		}
		w.state = stLive
		c.commitChange(Created, id, w)
		c.mu.Unlock()
		freed = !claim.Fits(alloc.Resources) // some quantity came in under the claim
		c.st.placed.Add(1)
		_ = c.flush(ctx, true)
		p.Allocated = alloc.Resources
		return p, nil
	}

	c.mu.Lock()
	if w.seq != 0 && ctx.Err() != nil {
		// A queued request retried on behalf of a caller whose context
		// ended (a Delete or AddNode with a deadline): that is no reason
		// to drop it, so it goes back to the queue in its old place.
		c.enqueue(w)
		c.mu.Unlock()
		return Placement{}, &PlacementError{ID: id, Attempts: attempts, Err: ErrQueued}
	}
	delete(c.work, id)
	c.mu.Unlock()
	c.st.failed.Add(1)
	kind := ErrBackend
	switch {
	case ctx.Err() != nil:
		kind = ctx.Err()
	case errors.Is(lastErr, ErrConflict):
		kind = ErrConflict
	case errors.Is(lastErr, ErrBackendTimeout):
		kind = ErrBackendTimeout
	case errors.Is(lastErr, ErrBadAllocation):
		kind = ErrBadAllocation
	case errors.Is(lastErr, ErrOverConsumed):
		kind = ErrOverConsumed
	}
	return Placement{}, &PlacementError{ID: id, Attempts: attempts, Err: kind}
}

// unplaceable ends a placement for which no node is feasible: it queues
// the request if the pending queue has room, and drops it otherwise.
func (c *Coordinator) unplaceable(w *workload, claim Resources, exclude []*nodeState, attempts []AttemptError) (Placement, error) {
	c.mu.RLock()
	rej := c.rejections(&w.req, claim, exclude)
	c.mu.RUnlock()
	c.mu.Lock()
	perr := &PlacementError{ID: w.req.ID, Rejected: rej, Attempts: attempts, Err: ErrNoCapacity}
	// A request that was queued before keeps its place even if new
	// arrivals filled the queue while it was being retried (at most one
	// retrier runs, so the queue exceeds MaxPending by at most one).
	if c.cfg.MaxPending > 0 && (len(c.pending) < c.cfg.MaxPending || w.seq != 0) && len(exclude) == 0 {
		c.enqueue(w)
		perr.Err = ErrQueued
	} else {
		delete(c.work, w.req.ID)
		c.st.failed.Add(1)
	}
	c.mu.Unlock()
	return Placement{}, perr
}

// enqueue puts w, which holds no claim, in the pending queue; a request
// that was queued before keeps its place in the order. c.mu must be held
// for writing.
func (c *Coordinator) enqueue(w *workload) {
	w.state = stPending
	if w.seq == 0 {
		c.pendSeq++
		w.seq = c.pendSeq
	}
	w.pidx = len(c.pending)
	c.pending = append(c.pending, w)
	c.npending.Add(1)
}

func (c *Coordinator) removePending(w *workload) {
	last := len(c.pending) - 1
	c.pending[w.pidx] = c.pending[last]
	c.pending[w.pidx].pidx = w.pidx
	c.pending[last] = nil
	c.pending = c.pending[:last]
	c.npending.Add(-1)
}

// adopt handles an allocation the coordinator rejected but could not undo:
// the workload exists on the node, so the ledger records it as it is and
// the other manager is told. Delete removes it.
func (c *Coordinator) adopt(ctx context.Context, w *workload, p Placement, actual Resources, err, uerr error, attempts []AttemptError) (Placement, error) {
	c.mu.Lock()
	c.forceCorrect(w, actual)
	w.state = stLive
	c.commitChange(Created, w.req.ID, w)
	c.mu.Unlock()
	_ = c.flush(ctx, true)
	c.st.failed.Add(1)
	attempts = append(attempts, AttemptError{Node: p.Node, Err: fmt.Errorf("%w; %w: %w", err, ErrUndoFailed, uerr)})
	return Placement{}, &PlacementError{ID: w.req.ID, Attempts: attempts, Err: ErrBackend}
}

func (c *Coordinator) callCreate(ctx context.Context, b SchedulerBackend, p Placement) (Allocation, error) {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
	alloc, err := b.Create(cctx, p)
	timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil {
		if timedOut {
			err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
		}
		return Allocation{}, &BackendError{Kind: b.Kind(), Op: "create", ID: p.Request.ID, Node: p.Node, Err: err}
	}
	return alloc, nil
}

// compensate deletes a workload the ledger cannot accept; ErrNotFound counts
// as success (the create never happened).
func (c *Coordinator) compensate(ctx context.Context, b SchedulerBackend, id string) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for range c.cfg.CompensateRetries {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
		err = b.Delete(cctx, id)
		cancel()
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
	}
	return err
}

// ---- delete ----

// Delete stops a workload through its backend, releases its resources and
// notifies the other manager; deleting a pending request just removes it
// from the queue. Pending requests are then retried.
//
// Errors: ErrNotFound for an unknown ID, ErrInProgress while it is being
// created or deleted, *BackendError if the backend failed (the workload
// stays live and keeps its resources). A backend answering ErrNotFound
// means the workload is already gone; the ledger is cleaned up. So after a
// Delete cut short by its timeout or ctx — the backend may have deleted
// the workload and only the answer was lost — calling Delete again
// reconciles the ledger either way.
func (c *Coordinator) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	w := c.work[id]
	if w == nil {
		c.mu.Unlock()
		return fmt.Errorf("delete %q: %w", id, ErrNotFound)
	}
	switch w.state {
	case stPending:
		c.removePending(w)
		delete(c.work, id)
		c.mu.Unlock()
		return nil
	case stPlacing, stDeleting:
		c.mu.Unlock()
		return fmt.Errorf("delete %q: %w", id, ErrInProgress)
	}
	w.state = stDeleting
	node := w.node.spec.Name
	c.mu.Unlock()

	b := c.backends[w.req.Kind]
	cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
	err := b.Delete(cctx, id)
	timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.mu.Lock()
		w.state = stLive
		c.mu.Unlock()
		if timedOut {
			err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
		}
		return &BackendError{Kind: b.Kind(), Op: "delete", ID: id, Node: node, Err: err}
	}
	c.mu.Lock()
	c.commitChange(Deleted, id, w)
	c.release(w)
	delete(c.work, id)
	c.mu.Unlock()
	c.st.deleted.Add(1)
	_ = c.flush(ctx, true)
	c.RetryPending(ctx)
	return nil
}

// ---- pending ----

// Pending returns the queued requests in the order they will be retried.
func (c *Coordinator) Pending() []Request {
	c.mu.RLock()
	list := c.pendingOrder()
	c.mu.RUnlock()
	out := make([]Request, len(list))
	for i, w := range list {
		out[i] = cloneRequest(w.req)
	}
	return out
}

func (c *Coordinator) pendingOrder() []*workload {
	list := append([]*workload(nil), c.pending...)
	sort.Slice(list, func(i, j int) bool {
		if list[i].req.Priority != list[j].req.Priority {
			return list[i].req.Priority > list[j].req.Priority
		}
		return list[i].seq < list[j].seq
	})
	return list
}

// RetryPending tries to place queued requests, highest priority first, and
// returns how many were placed. The coordinator calls it itself whenever
// capacity appears (Delete, AddNode, ResumeNode); each outcome goes to
// Config.OnPending. If another goroutine is already retrying, it asks that
// one to make another pass and returns 0. A retrier makes at most four
// passes, so under sustained churn a capacity signal can be left for the
// next event; a host that wants queued requests retried even when the
// cluster goes quiet calls RetryPending periodically (and Flush).
func (c *Coordinator) RetryPending(ctx context.Context) int {
	placed := 0
	// At most four passes, so a caller of Delete is not kept retrying
	// forever under churn; a signal that arrives after the last pass is
	// served by the next capacity event or an explicit call.
	for pass := 0; pass < 4; pass++ {
		if c.npending.Load() == 0 {
			return placed
		}
		if !c.retrying.CompareAndSwap(false, true) {
			c.retryAgain.Store(true)
			return placed
		}
		c.retryAgain.Store(false)
		placed += c.retryPass(ctx)
		c.retrying.Store(false)
		// Another goroutine may have signalled while we held the flag and
		// returned at once; serve its signal with one more pass.
		if !c.retryAgain.Load() {
			return placed
		}
	}
	return placed
}

func (c *Coordinator) retryPass(ctx context.Context) int {
	placed := 0
	c.mu.RLock()
	list := c.pendingOrder()
	c.mu.RUnlock()
	for _, w := range list {
		if ctx.Err() != nil {
			break
		}
		var buf [8]candidate
		c.mu.Lock()
		if w.state != stPending || c.work[w.req.ID] != w || len(c.decide(&w.req, w.claim, nil, buf[:0])) == 0 {
			c.mu.Unlock()
			continue
		}
		c.removePending(w)
		w.state = stPlacing
		c.mu.Unlock()
		p, err := c.place(ctx, w)
		if err == nil {
			placed++
		}
		if c.cfg.OnPending != nil {
			c.cfg.OnPending(p, err)
		}
	}
	return placed
}

// ---- explain ----

// NodeVerdict says what the pipeline thinks of one node for a request.
type NodeVerdict struct {
	Node   string  // the node's name
	Filter string  // the first filter that rejected the node; "" if feasible
	Reason string  // human-readable detail of the rejection
	Score  float64 // the weighted score, for feasible nodes
}

// String renders the verdict as one line, for example
// "n3: rejected by resources (cpu: needs 3000m, 2000m free)" or
// "n1: feasible, score 0.412".
func (v NodeVerdict) String() string {
	if v.Filter == "" {
		return fmt.Sprintf("%s: feasible, score %.3f", v.Node, v.Score)
	}
	return fmt.Sprintf("%s: rejected by %s (%s)", v.Node, v.Filter, v.Reason)
}

// Explain runs every filter on every node for r without placing it and
// returns, sorted by node name, the first filter that rejected each node or
// its score ("why not this node"). It fails only for a malformed request.
func (c *Coordinator) Explain(r Request) ([]NodeVerdict, error) {
	if err := validateRequest(&r); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]NodeVerdict, 0, len(c.byName))
	for name, n := range c.byName {
		v := NodeVerdict{Node: name}
		if code := filterNode(n, &r, r.Resources, c.groupTotal); code != passed {
			v.Filter = filterNames[code-1]
			v.Reason = explainReason(code, n, &r, r.Resources, c.groupTotal)
		} else {
			v.Score = score(n, &r, r.Resources, &c.cfg.Weights)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// ---- notifications ----

// outbox is the FIFO of changes one manager has not yet acknowledged.
// Changes are pushed under the coordinator's write lock, so each outbox
// holds them in commit (Seq) order; one goroutine at a time delivers from
// the head, and a failed head blocks the rest, so a manager never sees a
// delete before the create it undoes.
//
// While a manager is unreachable the outbox must not grow with churn: a
// Deleted whose Created has never been offered to the manager cancels it
// (neither is sent), so the outbox holds at most one change per workload
// the manager does not know about yet plus one per workload it knows about
// that is gone. Only the head can have been offered (delivery is strictly
// in order), so only entries behind it are ever cancelled.
type outbox struct {
	target     SchedulerBackend
	kind       Kind
	mu         sync.Mutex
	q          []Change // Seq-sorted; Op 0 marks a cancelled entry
	head       int
	live       int // entries in q[head:] not cancelled
	dead       int // cancelled entries in q[head:]
	delivering bool
	stuck      bool // the head failed a full round of retries
}

// push appends ch. A Deleted whose Created (Seq cancels) still waits
// behind the head, never offered, removes it instead and is not queued.
func (o *outbox) push(ch Change, cancels uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch.Op == Deleted && cancels != 0 && o.head < len(o.q) {
		rest := o.q[o.head+1:]
		i, found := slices.BinarySearchFunc(rest, cancels, func(c Change, s uint64) int { return cmpSeq(c.Seq, s) })
		if found && rest[i].Op == Created && rest[i].Allocation.ID == ch.Allocation.ID {
			rest[i] = Change{Seq: cancels}
			o.live--
			o.dead++
			if o.dead >= 64 && o.dead > o.live {
				o.compact()
			}
			return
		}
	}
	o.q = append(o.q, ch)
	o.live++
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compact drops cancelled entries behind the head, which may be in flight
// and keeps its index.
func (o *outbox) compact() {
	if o.head >= len(o.q) {
		return
	}
	keep := o.q[:o.head+1]
	for _, ch := range o.q[o.head+1:] {
		if ch.Op != 0 {
			keep = append(keep, ch)
		}
	}
	clear(o.q[len(keep):])
	o.q = keep
	o.dead = 0
	if o.q[o.head].Op == 0 {
		o.dead = 1
	}
}

// Flush delivers every queued change, retrying each NotifyRetries times
// with doubling backoff. It returns a *NotifyError (matching
// ErrNotifyFailed) for the first change a manager would not take; that
// change and those behind it stay queued. If another goroutine is
// delivering to a manager, Flush leaves that outbox to it.
//
// Create and Delete flush on their way out, but once a manager has failed a
// full round of retries they make a single delivery attempt, so an
// unreachable manager slows the other manager's work by at most one
// NotifyTimeout. A host that wants delivery to resume without waiting for
// the next Create or Delete calls Flush periodically.
func (c *Coordinator) Flush(ctx context.Context) error {
	return c.flush(ctx, false)
}

func (c *Coordinator) flush(ctx context.Context, inline bool) error {
	var first error
	for _, ob := range c.outboxes {
		if err := c.drain(ctx, ob, inline); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *Coordinator) drain(ctx context.Context, ob *outbox, inline bool) error {
	ob.mu.Lock()
	if ob.delivering || ob.live == 0 {
		ob.mu.Unlock()
		return nil
	}
	ob.delivering = true
	for ob.head < len(ob.q) {
		ch := ob.q[ob.head]
		if ch.Op == 0 {
			ob.q[ob.head] = Change{}
			ob.head++
			ob.dead--
			continue
		}
		retries := c.cfg.NotifyRetries
		if inline && ob.stuck {
			retries = 0
		}
		ob.mu.Unlock()
		err := c.send(ctx, ob.target, ch, retries)
		ob.mu.Lock()
		if err != nil {
			ob.delivering = false
			ob.stuck = true
			ob.mu.Unlock()
			c.st.notifyFailures.Add(1)
			ne := &NotifyError{Target: ob.kind, Change: ch, Err: err}
			if c.cfg.OnNotifyError != nil {
				c.cfg.OnNotifyError(ne)
			}
			return ne
		}
		ob.stuck = false
		ob.q[ob.head] = Change{}
		ob.head++
		ob.live--
		if ob.head >= 1024 && 2*ob.head >= len(ob.q) {
			n := copy(ob.q, ob.q[ob.head:])
			clear(ob.q[n:])
			ob.q, ob.head = ob.q[:n], 0
		}
	}
	ob.q, ob.head, ob.live, ob.dead = ob.q[:0], 0, 0, 0
	ob.delivering = false
	ob.mu.Unlock()
	return nil
}

// maxNotifyBackoff caps the doubling of Config.NotifyBackoff, so a large
// NotifyRetries cannot overflow the delay.
const maxNotifyBackoff = time.Minute

// send offers ch to b, retrying up to retries times with doubling backoff.
func (c *Coordinator) send(ctx context.Context, b SchedulerBackend, ch Change, retries int) error {
	backoff := c.cfg.NotifyBackoff
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.NotifyTimeout)
		err := b.ResourceChanged(cctx, ch)
		cancel()
		if err == nil {
			return nil
		}
		if i >= retries {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry abandoned: %w)", err, ctx.Err())
		}
		if backoff < maxNotifyBackoff {
			backoff = min(2*backoff, maxNotifyBackoff)
		}
	}
}

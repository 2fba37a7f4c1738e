package sched

import (
	"fmt"
	"math"
	"strings"
)

// Filter names, as reported by Explain and PlacementError.Rejected, in the
// order the pipeline applies them.
const (
	FilterSchedulable  = "schedulable"   // node is draining
	FilterSelector     = "node-selector" // a NodeSelector label is missing or differs
	FilterTaints       = "taints"        // a NoSchedule taint is not tolerated
	FilterResources    = "resources"     // free capacity (after ratios) is too small
	FilterNUMA         = "numa"          // no single NUMA cell holds a pinned request
	FilterAntiAffinity = "anti-affinity" // a member of an anti-affinity group runs there
	FilterAffinity     = "affinity"      // members of an affinity group run elsewhere
	FilterExcluded     = "excluded"      // the backend already failed there for this request
)

var filterNames = []string{FilterSchedulable, FilterSelector, FilterTaints, FilterResources,
	FilterNUMA, FilterAntiAffinity, FilterAffinity, FilterExcluded}

// filter codes index filterNames+1; 0 means the node passes.
const (
	passed = iota
	rejSchedulable
	rejSelector
	rejTaints
	rejResources
	rejNUMA
	rejAntiAffinity
	rejAffinity
	rejExcluded
)

// nodeState is the ledger entry of one node.
type nodeState struct {
	// Hot fields first: a plain decision reads only this cache line.
	invCPU      float64 // 1 / allocatable.MilliCPU
	invMem      float64 // 1 / allocatable.MemoryBytes
	plain       bool    // no taints: only draining and resources can reject a plain request
	prefer      bool    // has PreferNoSchedule taints
	draining    bool
	slot        int
	allocatable Resources // capacity × ratios
	used        Resources // claims and live allocations

	spec      Node
	cellUsed  []Resources
	groups    map[string]int // group → members on this node
	workloads int
	forced    int // workloads here accounted without a capacity check
}

func (n *nodeState) free() Resources { return n.allocatable.Sub(n.used) }

// filterNode runs every filter except the exclusion list on n and returns
// the first rejecting code. groupTotal maps a group to its members
// cluster-wide.
func filterNode(n *nodeState, r *Request, claim Resources, groupTotal map[string]int) int {
	if n.draining {
		return rejSchedulable
	}
	for k, v := range r.NodeSelector {
		if lv, ok := n.spec.Labels[k]; !ok || lv != v {
			return rejSelector
		}
	}
	if len(n.spec.Taints) > 0 && !tolerated(n.spec.Taints, r.Tolerations, TaintNoSchedule) {
		return rejTaints
	}
	if !claim.Fits(n.free()) {
		return rejResources
	}
	if r.PinNUMA && pickCell(n, claim) < 0 {
		return rejNUMA
	}
	for _, g := range r.AntiAffinityGroups {
		if n.groups[g] > 0 {
			return rejAntiAffinity
		}
	}
	for _, g := range r.AffinityGroups {
		if groupTotal[g] > 0 && n.groups[g] == 0 {
			return rejAffinity
		}
	}
	return passed
}

// tolerated reports whether every taint with the given effect is tolerated.
func tolerated(taints []Taint, tols []Toleration, effect TaintEffect) bool {
	for _, t := range taints {
		if t.Effect != effect {
			continue
		}
		ok := false
		for _, tol := range tols {
			if tol.Tolerates(t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// pickCell returns the NUMA cell that holds claim with the least CPU left
// over (best fit), or -1.
func pickCell(n *nodeState, claim Resources) int {
	best, bestLeft := -1, int64(math.MaxInt64)
	for i, c := range n.spec.NUMA {
		u := n.cellUsed[i]
		left := c.MilliCPU - u.MilliCPU - claim.MilliCPU
		if left >= 0 && u.MemoryBytes+claim.MemoryBytes <= c.MemoryBytes && left < bestLeft {
			best, bestLeft = i, left
		}
	}
	return best
}

// explainReason renders why filter code rejected n.
func explainReason(code int, n *nodeState, r *Request, claim Resources, groupTotal map[string]int) string {
	switch code {
	case rejSchedulable:
		return "node is draining"
	case rejSelector:
		for k, v := range r.NodeSelector {
			if lv, ok := n.spec.Labels[k]; !ok {
				return fmt.Sprintf("label %q missing", k)
			} else if lv != v {
				return fmt.Sprintf("label %q is %q, want %q", k, lv, v)
			}
		}
	case rejTaints:
		for _, t := range n.spec.Taints {
			if t.Effect == TaintNoSchedule && !tolerated([]Taint{t}, r.Tolerations, TaintNoSchedule) {
				return fmt.Sprintf("taint %s=%s:%s not tolerated", t.Key, t.Value, t.Effect)
			}
		}
	case rejResources:
		return shortfall(claim, n.free())
	case rejNUMA:
		return fmt.Sprintf("no NUMA cell of %d holds cpu=%dm mem=%dB", len(n.spec.NUMA), claim.MilliCPU, claim.MemoryBytes)
	case rejAntiAffinity:
		for _, g := range r.AntiAffinityGroups {
			if n.groups[g] > 0 {
				return fmt.Sprintf("anti-affinity group %q has %d member(s) here", g, n.groups[g])
			}
		}
	case rejAffinity:
		for _, g := range r.AffinityGroups {
			if groupTotal[g] > 0 && n.groups[g] == 0 {
				return fmt.Sprintf("affinity group %q runs on other nodes", g)
			}
		}
	}
	return ""
}

// shortfall names each resource claim needs more of than free offers, for
// example "cpu: needs 3000m, 2000m free; memory: needs 8GiB, 4GiB free".
func shortfall(claim, free Resources) string {
	var parts []string
	if claim.MilliCPU > free.MilliCPU {
		parts = append(parts, fmt.Sprintf("cpu: needs %dm, %dm free", claim.MilliCPU, max(free.MilliCPU, 0)))
	}
	if claim.MemoryBytes > free.MemoryBytes {
		parts = append(parts, fmt.Sprintf("memory: needs %s, %s free", formatBytes(claim.MemoryBytes), formatBytes(max(free.MemoryBytes, 0))))
	}
	if claim.DiskBytes > free.DiskBytes {
		parts = append(parts, fmt.Sprintf("disk: needs %s, %s free", formatBytes(claim.DiskBytes), formatBytes(max(free.DiskBytes, 0))))
	}
	if claim.GPUs > free.GPUs {
		parts = append(parts, fmt.Sprintf("gpu: needs %d, %d free", claim.GPUs, max(free.GPUs, 0)))
	}
	return strings.Join(parts, "; ")
}

// pow10Table holds 10^(i/pow10Steps) for i in [0, pow10Steps]; score
// interpolates it linearly (relative error below 1e-5), which is several
// times faster than math.Pow on the scoring hot path.
const pow10Steps = 1024

var pow10Table = func() (t [pow10Steps + 1]float64) {
	for i := range t {
		t[i] = math.Pow(10, float64(i)/pow10Steps)
	}
	return t
}()

// pow10 returns 10^x for x clamped to [0, 1].
func pow10(x float64) float64 {
	x = min(max(x, 0), 1) * pow10Steps
	i := int(x)
	if i >= pow10Steps {
		return pow10Table[pow10Steps]
	}
	f := x - float64(i)
	return pow10Table[i] + f*(pow10Table[i+1]-pow10Table[i])
}

// score rates placing claim on n; higher is better. The fit term follows
// Nomad's ScoreFitBinPack: with f the free fraction of CPU and of memory
// after placement, binpack = (20 − (10^f_cpu + 10^f_mem)) / 18 in [0, 1],
// and spread = 1 − binpack.
func score(n *nodeState, r *Request, claim Resources, w *Weights) float64 {
	return scoreFree(n, n.free(), r, claim, w)
}

func scoreFree(n *nodeState, free Resources, r *Request, claim Resources, w *Weights) float64 {
	s := fitScore(n.invCPU, n.invMem, free, claim, w)
	if n.prefer && w.Taint != 0 && !tolerated(n.spec.Taints, r.Tolerations, TaintPreferNoSchedule) {
		s -= w.Taint
	}
	return s
}

// fitScore is the weighted best-fit and spread part of the score, from the
// node's free capacity and the inverses of its allocatable CPU and memory.
func fitScore(invCPU, invMem float64, free, claim Resources, w *Weights) float64 {
	fc := float64(free.MilliCPU-claim.MilliCPU) * invCPU
	fm := float64(free.MemoryBytes-claim.MemoryBytes) * invMem
	bin := (20 - pow10(fc) - pow10(fm)) / 18
	bin = min(max(bin, 0), 1)
	return w.BestFit*bin + w.Spread*(1-bin)
}

// plainRequest reports whether only the draining and resource filters can
// reject r on an untainted node.
func plainRequest(r *Request) bool {
	return len(r.NodeSelector) == 0 && len(r.AffinityGroups) == 0 && len(r.AntiAffinityGroups) == 0 && !r.PinNUMA
}

func badString(s string, maxLen int) bool { return s == "" || len(s) > maxLen }

func checkLabels(m map[string]string) bool {
	if len(m) > MaxLabels {
		return false
	}
	for k, v := range m {
		// NUL separates key and value in the label index.
		if badString(k, MaxLabelLen) || len(v) > MaxLabelLen || strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return false
		}
	}
	return true
}

// validateRequest checks everything about r that does not need the ledger.
func validateRequest(r *Request) error {
	bad := func(field string, err error) error { return &RequestError{ID: r.ID, Field: field, Err: err} }
	if badString(r.ID, MaxIDLen) {
		return bad("ID", fmt.Errorf("%w: ID must be 1..%d bytes", ErrInvalidRequest, MaxIDLen))
	}
	if !r.Kind.Valid() {
		return bad("Kind", fmt.Errorf("%w: %v", ErrUnknownKind, r.Kind))
	}
	if f := r.Resources.badQuantity(); f != "" {
		return bad("Resources."+f, fmt.Errorf("%w: negative or above %d", ErrInvalidResources, int64(MaxQuantity)))
	}
	if r.Resources.MilliCPU == 0 {
		return bad("Resources.MilliCPU", fmt.Errorf("%w: must be positive", ErrInvalidResources))
	}
	if r.Resources.MemoryBytes == 0 {
		return bad("Resources.MemoryBytes", fmt.Errorf("%w: must be positive", ErrInvalidResources))
	}
	if !checkLabels(r.Labels) {
		return bad("Labels", fmt.Errorf("%w: at most %d labels of 1..%d bytes", ErrInvalidRequest, MaxLabels, MaxLabelLen))
	}
	if !checkLabels(r.NodeSelector) {
		return bad("NodeSelector", fmt.Errorf("%w: at most %d terms of 1..%d bytes", ErrInvalidRequest, MaxLabels, MaxLabelLen))
	}
	if len(r.Tolerations) > MaxLabels {
		return bad("Tolerations", fmt.Errorf("%w: more than %d", ErrInvalidRequest, MaxLabels))
	}
	for _, t := range r.Tolerations {
		if len(t.Key) > MaxLabelLen || len(t.Value) > MaxLabelLen || t.Effect > TaintPreferNoSchedule {
			return bad("Tolerations", fmt.Errorf("%w: malformed toleration", ErrInvalidRequest))
		}
	}
	for _, gs := range [][]string{r.AffinityGroups, r.AntiAffinityGroups} {
		if len(gs) > MaxLabels {
			return bad("Groups", fmt.Errorf("%w: more than %d groups", ErrInvalidRequest, MaxLabels))
		}
		for _, g := range gs {
			if badString(g, MaxLabelLen) {
				return bad("Groups", fmt.Errorf("%w: group name must be 1..%d bytes", ErrInvalidRequest, MaxLabelLen))
			}
		}
	}
	return nil
}

// validateNode checks a node description.
func validateNode(n *Node) error {
	bad := func(format string, a ...any) error {
		return &NodeError{Node: n.Name, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidNode}, a...)...)}
	}
	if badString(n.Name, MaxIDLen) {
		return bad("name must be 1..%d bytes", MaxIDLen)
	}
	if len(n.Class) > MaxLabelLen {
		return bad("class longer than %d bytes", MaxLabelLen)
	}
	if f := n.Capacity.badQuantity(); f != "" {
		return bad("capacity %s negative or above %d", f, int64(MaxQuantity))
	}
	if n.Capacity.MilliCPU == 0 || n.Capacity.MemoryBytes == 0 {
		return bad("capacity needs positive MilliCPU and MemoryBytes")
	}
	if !checkLabels(n.Labels) {
		return bad("at most %d labels of 1..%d bytes", MaxLabels, MaxLabelLen)
	}
	if len(n.Taints) > MaxLabels {
		return bad("more than %d taints", MaxLabels)
	}
	for _, t := range n.Taints {
		if badString(t.Key, MaxLabelLen) || len(t.Value) > MaxLabelLen || (t.Effect != TaintNoSchedule && t.Effect != TaintPreferNoSchedule) {
			return bad("malformed taint %q", t.Key)
		}
	}
	if len(n.NUMA) > MaxNUMACells {
		return bad("more than %d NUMA cells", MaxNUMACells)
	}
	var sum NUMACell
	for i, c := range n.NUMA {
		if c.MilliCPU <= 0 || c.MemoryBytes <= 0 || c.MilliCPU > MaxQuantity || c.MemoryBytes > MaxQuantity {
			return bad("NUMA cell %d needs positive CPU and memory", i)
		}
		sum.MilliCPU += c.MilliCPU
		sum.MemoryBytes += c.MemoryBytes
	}
	if sum.MilliCPU > n.Capacity.MilliCPU || sum.MemoryBytes > n.Capacity.MemoryBytes {
		return bad("NUMA cells exceed capacity")
	}
	return nil
}

func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneNode(n Node) Node {
	n.Labels = cloneLabels(n.Labels)
	n.Taints = append([]Taint(nil), n.Taints...)
	n.NUMA = append([]NUMACell(nil), n.NUMA...)
	return n
}

func cloneRequest(r Request) Request {
	r.Labels = cloneLabels(r.Labels)
	r.NodeSelector = cloneLabels(r.NodeSelector)
	r.Tolerations = append([]Toleration(nil), r.Tolerations...)
	r.AffinityGroups = append([]string(nil), r.AffinityGroups...)
	r.AntiAffinityGroups = append([]string(nil), r.AntiAffinityGroups...)
	return r
}

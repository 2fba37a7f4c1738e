package sched

// Node events: add, remove, drain and resume nodes, and list them.

import (
	"context"
	"fmt"
	"slices"
	"sort"
)

// AddNode adds a schedulable node and retries pending requests. It returns
// a *NodeError wrapping ErrInvalidNode for a malformed node (name, class,
// capacity, labels, taints or NUMA cells out of bounds, or a class missing
// from Config.Classes) and ErrDuplicateNode for a name already in use.
func (c *Coordinator) AddNode(ctx context.Context, n Node) error {
	if err := c.ready(); err != nil {
		return err
	}
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
	if err := c.ready(); err != nil {
		return err
	}
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
	if err := c.ready(); err != nil {
		return nil, err
	}
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
	if err := c.ready(); err != nil {
		return err
	}
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
	if c.ready() != nil {
		return nil
	}
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

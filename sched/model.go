package sched

import (
	"fmt"
	"math"
	"time"
)

// Bounds on what an outsider may pass in. They keep every ledger sum far from
// int64 overflow (MaxQuantity × MaxRatio × MaxWorkloads stays below 2^63) and
// bound the work one request can cause.
const (
	// MaxQuantity bounds each resource quantity of a node, request or
	// allocation (2^50: a pebibyte of memory, a million cores in milli-CPU).
	MaxQuantity = 1 << 50
	// MaxRatio bounds an allocation (over-commit) ratio.
	MaxRatio = 64
	// MaxIDLen bounds request IDs and node names, in bytes.
	MaxIDLen = 253
	// MaxLabels bounds the labels, selector terms, taints, tolerations and
	// group names carried by one node or request.
	MaxLabels = 64
	// MaxLabelLen bounds each label key and value, in bytes.
	MaxLabelLen = 253
	// MaxNUMACells bounds the NUMA cells of one node.
	MaxNUMACells = 64
)

// Resources is a quantity of the four schedulable resources.
// MilliCPU is thousandths of a core; MemoryBytes and DiskBytes are bytes;
// GPUs counts whole devices.
type Resources struct {
	MilliCPU    int64
	MemoryBytes int64
	DiskBytes   int64
	GPUs        int64
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{r.MilliCPU + o.MilliCPU, r.MemoryBytes + o.MemoryBytes, r.DiskBytes + o.DiskBytes, r.GPUs + o.GPUs}
}

// Sub returns r - o.
func (r Resources) Sub(o Resources) Resources {
	return Resources{r.MilliCPU - o.MilliCPU, r.MemoryBytes - o.MemoryBytes, r.DiskBytes - o.DiskBytes, r.GPUs - o.GPUs}
}

// Fits reports whether every quantity of r is at most the one in limit.
func (r Resources) Fits(limit Resources) bool {
	return r.MilliCPU <= limit.MilliCPU && r.MemoryBytes <= limit.MemoryBytes &&
		r.DiskBytes <= limit.DiskBytes && r.GPUs <= limit.GPUs
}

// Max returns the per-resource maximum of r and o.
func (r Resources) Max(o Resources) Resources {
	return Resources{max(r.MilliCPU, o.MilliCPU), max(r.MemoryBytes, o.MemoryBytes), max(r.DiskBytes, o.DiskBytes), max(r.GPUs, o.GPUs)}
}

// IsZero reports whether every quantity is zero.
func (r Resources) IsZero() bool { return r == Resources{} }

// String formats r compactly for errors and explanations, for example
// "cpu=4000m mem=8GiB disk=0 gpu=0". Byte counts use the largest binary
// unit that divides them exactly, so the text stays exact.
func (r Resources) String() string {
	return fmt.Sprintf("cpu=%dm mem=%s disk=%s gpu=%d", r.MilliCPU, formatBytes(r.MemoryBytes), formatBytes(r.DiskBytes), r.GPUs)
}

// formatBytes renders n in the largest of KiB … PiB that divides it, or in
// bytes.
func formatBytes(n int64) string {
	if n == 0 {
		return "0"
	}
	units := []string{"PiB", "TiB", "GiB", "MiB", "KiB"}
	for i, u := range units {
		shift := uint(10 * (len(units) - i))
		if n%(1<<shift) == 0 {
			return fmt.Sprintf("%d%s", n>>shift, u)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// validQuantities reports which quantity, if any, is negative or above MaxQuantity.
func (r Resources) badQuantity() string {
	check := func(v int64) bool { return v < 0 || v > MaxQuantity }
	switch {
	case check(r.MilliCPU):
		return "MilliCPU"
	case check(r.MemoryBytes):
		return "MemoryBytes"
	case check(r.DiskBytes):
		return "DiskBytes"
	case check(r.GPUs):
		return "GPUs"
	}
	return ""
}

// Ratios are allocation (over-commit) ratios: a node offers
// floor(Capacity × ratio) of each resource. A zero field means 1 (no
// over-commit); OpenStack Nova's cpu_allocation_ratio and
// ram_allocation_ratio are the model.
type Ratios struct {
	CPU    float64
	Memory float64
	Disk   float64
	GPU    float64
}

// Validate reports whether every ratio is in [0, MaxRatio] (0 means 1);
// errors wrap ErrInvalidConfig. The zero Ratios (no over-commit) is valid.
func (q Ratios) Validate() error {
	for _, v := range []float64{q.CPU, q.Memory, q.Disk, q.GPU} {
		if v < 0 || v > MaxRatio || math.IsNaN(v) {
			return fmt.Errorf("%w: allocation ratio %v outside [0, %d]", ErrInvalidConfig, v, MaxRatio)
		}
	}
	return nil
}

func ratioOf(v float64) float64 {
	if v == 0 {
		return 1
	}
	return v
}

// apply returns floor(c × ratio) per resource.
func (q Ratios) apply(c Resources) Resources {
	f := func(v int64, r float64) int64 { return int64(math.Floor(float64(v) * ratioOf(r))) }
	return Resources{f(c.MilliCPU, q.CPU), f(c.MemoryBytes, q.Memory), f(c.DiskBytes, q.Disk), f(c.GPUs, q.GPU)}
}

// TaintEffect says what a taint does to requests that do not tolerate it.
type TaintEffect uint8

const (
	// TaintNoSchedule keeps non-tolerating requests off the node.
	TaintNoSchedule TaintEffect = iota + 1
	// TaintPreferNoSchedule lowers the node's score for non-tolerating
	// requests but does not forbid it.
	TaintPreferNoSchedule
)

// String returns the Kubernetes spelling of the effect.
func (e TaintEffect) String() string {
	switch e {
	case TaintNoSchedule:
		return "NoSchedule"
	case TaintPreferNoSchedule:
		return "PreferNoSchedule"
	}
	return fmt.Sprintf("TaintEffect(%d)", uint8(e))
}

// Taint repels requests that do not carry a matching Toleration, with the
// semantics of Kubernetes taints.
type Taint struct {
	Key    string      // required
	Value  string      // may be empty
	Effect TaintEffect // TaintNoSchedule or TaintPreferNoSchedule
}

// Toleration lets a request onto nodes with a matching taint. With Exists
// set the value is ignored; an empty Key with Exists tolerates every taint;
// a zero Effect matches every effect.
type Toleration struct {
	Key    string      // the taint key; empty with Exists matches every key
	Value  string      // the taint value, compared unless Exists
	Exists bool        // match any value of Key
	Effect TaintEffect // the effect matched; zero matches every effect
}

// Tolerates reports whether t matches taint.
func (t Toleration) Tolerates(taint Taint) bool {
	if t.Effect != 0 && t.Effect != taint.Effect {
		return false
	}
	if t.Key == "" {
		return t.Exists
	}
	if t.Key != taint.Key {
		return false
	}
	return t.Exists || t.Value == taint.Value
}

// NUMACell is one NUMA cell of a node: the CPU and memory local to one
// socket or die. Requests with PinNUMA must fit inside a single cell.
// Cells are never over-committed (pinned work is dedicated, as Nova's
// hw:cpu_policy=dedicated).
type NUMACell struct {
	MilliCPU    int64 // thousandths of a core local to the cell
	MemoryBytes int64 // bytes of memory local to the cell
}

// Node is one physical server shared by the VM and container managers.
type Node struct {
	// Name identifies the node; it must be unique and non-empty.
	Name string
	// Class selects the allocation ratios from Config.Classes; empty means
	// Config.DefaultRatios.
	Class string
	// Capacity is the physical capacity before over-commit.
	Capacity Resources
	// Labels are matched by Request.NodeSelector.
	Labels map[string]string
	// Taints repel requests without a matching toleration.
	Taints []Taint
	// NUMA lists the node's NUMA cells; empty means the node cannot host
	// requests with PinNUMA. Cell totals may not exceed Capacity.
	NUMA []NUMACell
}

// Kind says which manager runs a workload.
type Kind uint8

const (
	// VM is a virtual machine, run by the VM manager.
	VM Kind = iota + 1
	// Container is a container, run by the container manager.
	Container
)

// String returns "vm" or "container".
func (k Kind) String() string {
	switch k {
	case VM:
		return "vm"
	case Container:
		return "container"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is VM or Container.
func (k Kind) Valid() bool { return k == VM || k == Container }

// Request asks for one workload to be placed.
type Request struct {
	// ID identifies the workload; unique among live and pending workloads.
	ID string
	// Kind selects the backend (VM or Container).
	Kind Kind
	// Resources is what the workload asks for; MilliCPU and MemoryBytes
	// must be positive.
	Resources Resources
	// Labels describe the workload; they are passed to the backend.
	Labels map[string]string
	// NodeSelector lists labels a node must carry with equal values.
	NodeSelector map[string]string
	// Tolerations let the workload onto tainted nodes.
	Tolerations []Toleration
	// AffinityGroups: the workload joins each group and must be placed on
	// a node that already hosts a member of the group, if any exists.
	AffinityGroups []string
	// AntiAffinityGroups: the workload joins each group and must not share
	// a node with another member of the group.
	AntiAffinityGroups []string
	// PinNUMA requires CPU and memory to come from a single NUMA cell.
	PinNUMA bool
	// Priority orders the pending queue (higher goes first) and, with
	// Config.Preemption, lets the request evict workloads of strictly
	// lower priority when it fits nowhere else (not with PinNUMA).
	Priority int32
}

// Placement is the coordinator's decision for a request: it is passed to
// the backend's Create and returned by Coordinator.Create.
type Placement struct {
	// Request is the request being placed.
	Request Request
	// Node is the chosen node's name.
	Node string
	// NUMACell is the chosen cell index, or -1 when the request is not pinned.
	NUMACell int
	// Claim is what the ledger reserved on Node for this attempt: the
	// request, or the larger amount a backend consumed on an earlier attempt.
	Claim Resources
	// Attempt counts backend attempts for this request, from 1.
	Attempt int
	// Allocated is zero when passed to a backend; on the value returned by
	// Coordinator.Create it holds what the backend actually consumed.
	Allocated Resources
	// Preempted lists, sorted, the workloads of lower priority that were
	// evicted to make room for this one (Config.Preemption); nil when none.
	Preempted []string
}

// Allocation is what a backend reports it actually consumed for a workload,
// including overhead (a VM's hypervisor memory, for example), which may
// exceed the request.
type Allocation struct {
	ID        string    // the workload's Request.ID
	Kind      Kind      // which manager runs it
	Node      string    // the node it runs on
	NUMACell  int       // the pinned NUMA cell, or -1
	Resources Resources // what it actually consumes, overhead included
}

// ChangeOp says what happened to an allocation.
type ChangeOp uint8

const (
	// Created: the allocation now exists.
	Created ChangeOp = iota + 1
	// Deleted: the allocation is gone.
	Deleted
)

// String returns "created" or "deleted".
func (o ChangeOp) String() string {
	switch o {
	case Created:
		return "created"
	case Deleted:
		return "deleted"
	}
	return fmt.Sprintf("ChangeOp(%d)", uint8(o))
}

// Change tells one manager what another manager did on a shared node.
// Seq increases with every committed change of one coordinator and changes
// reach each manager in Seq order, so a receiver can discard duplicates
// delivered by retries (a Seq at or below the last one applied). Seq may
// skip values: a create and a delete that were both still waiting for an
// unreachable manager cancel out and neither is sent.
//
// A coordinator starts numbering at its creation time in Unix nanoseconds.
// Where the managers implement ForeignLister, Recover continues at the
// next epoch (multiple of 2^40) above the highest Seq any of them applied,
// so a replacement's changes rank above its predecessor's even when its
// clock is behind; without ForeignLister, only the clock orders a
// replacement after its predecessor.
type Change struct {
	Seq        uint64     // commit order, see above
	Op         ChangeOp   // Created or Deleted
	Allocation Allocation // the allocation as the ledger records it
	Time       time.Time  // when the change was committed (Config.Now)
}

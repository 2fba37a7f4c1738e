// Package sched is a unified scheduling coordinator that places virtual
// machines and containers on one pool of physical nodes and keeps the one
// ledger both workload managers share, so that neither over-commits what the
// other has taken.
//
// # Overview
//
// A Coordinator receives a Request (a VM or a container with its resources,
// labels, node selector, tolerations, affinity and anti-affinity groups,
// NUMA pinning and priority), selects a node, claims the resources in its
// ledger, hands the Placement to the SchedulerBackend for the request's
// kind, corrects the ledger to the Allocation the backend reports (a VM's
// overhead may exceed the request) and notifies the other backend of the
// Change through a per-manager outbox with retries.
//
// The pipeline follows kube-scheduler's filter → score → pick framework
// (Kubernetes scheduling framework, KEP-624):
//
//   - filters: schedulable (not draining), node selector, taints and
//     tolerations (Kubernetes semantics), resources with per-node-class
//     allocation ratios (OpenStack Nova's cpu/ram/disk_allocation_ratio),
//     single-cell NUMA fit for pinned requests, anti-affinity and affinity
//     groups (Nova server groups);
//   - scorers: best fit and spread from Nomad's ScoreFitBinPack /
//     ScoreFitSpread (score = (20 − (10^free_cpu + 10^free_mem)) / 18),
//     and a PreferNoSchedule taint penalty, with configurable Weights;
//   - pick: the highest score. The next-best nodes of the same decision are
//     committed instead if the best one went stale; after a backend failure
//     the request is decided again on a fresh view without the nodes that
//     failed (Nova's alternate hosts, bounded by Config.MaxAttempts).
//
// # Scale
//
// Nodes live in a segment tree keyed by free capacity, so nodes that cannot
// fit a request are skipped without being visited. From a random starting
// point the coordinator scores only a bounded number of feasible nodes:
// ⌈log₂ N⌉ as Nomad's ranking iterator limit (SampleLog2, the default) or
// kube-scheduler's adaptive percentageOfNodesToScore (SampleAdaptive);
// SampleFull scores every node and is the exact baseline the benchmarks
// compare bin-packing quality against. Full scans and large samples read
// the index leaves and per-node score inputs as dense arrays instead. Requests that can only go to a few
// nodes — members of an affinity group that already runs somewhere, or a
// NodeSelector label carried by at most a quarter of the nodes — are
// decided over that small set instead, from a per-group and a per-label
// index. Whenever any node is feasible the decision finds one, so sampling
// never causes a spurious ErrNoCapacity.
//
// # Claims and concurrency
//
// Decisions are taken under a read lock, many in parallel; the commit takes
// the write lock, re-runs every filter on the chosen node and claims its
// resources before the backend is called, as Nova's Placement claims and
// Nomad's plan applier do: a stale decision is rejected and re-decided, at
// most Config.MaxConflicts times. Backend failures release the claim and
// try the next candidate; allocations the node cannot hold are undone and
// retried with the larger claim; allocations that cannot be undone are
// recorded as they are. The ledger therefore always equals the sum of live
// allocations, which Audit checks: Audit returns an error (ErrLedgerBug)
// only for what must never happen, and Findings lists known, reported
// conditions — a failed undo, a node over-committed by workloads accounted
// as their managers report them, drift waiting for repair — as typed
// findings of their own.
//
// # Priority and preemption
//
// Request.Priority orders the pending queue. With Config.Preemption, a
// request that fits nowhere evicts workloads of strictly lower priority
// from the one node where that costs least (lowest highest victim
// priority, then fewest victims), through their backends, and the freed
// room is claimed for it in the same critical section that releases it.
// Placement.Preempted names the evicted workloads; Explain shows, per node,
// whom a request would evict and why.
//
// # Recovery and drift
//
// Backends that can list what they run implement the optional
// WorkloadLister. A coordinator that replaces a crashed one calls Recover
// before accepting placements: every listed workload is accounted once, at
// its actual size, on its node, and what cannot be accounted without
// guessing (an unknown node, an ID claimed twice) is reported. Reconcile,
// called periodically, finds drift — orphans, missing, resized and moved
// workloads, lost nodes — reports each as a typed DriftEvent
// (Config.OnDrift) and repairs at most Config.MaxRepairs per call, leaving
// operations in flight alone. The SchedulerBackend contract states the
// ordering rules this relies on (Create is idempotent by ID; a Delete
// racing a Create of the same ID acts on its outcome), and schedtest
// checks them.
//
// Backends that also implement the optional ForeignLister report their
// view of the other managers' workloads and the last change number they
// applied. Recover then sends each manager exactly what its view lacks —
// including the Deleted a crashed coordinator's outbox never delivered,
// which would otherwise leave a phantom in that view — and numbers the
// replacement's changes from a new epoch above what the managers applied,
// so a clock behind its predecessor's does not get its changes dropped.
// Reconcile keeps the views in step afterwards (the DriftView kinds and
// DriftSeqBehind).
//
// # Files
//
// coordinator.go holds the Coordinator and New; nodes.go node events;
// placement.go the filter, score and pick decisions over the fit index
// (index.go); commit.go Create and Delete; ledger.go the claim and release
// primitives; outbox.go notifications; pending.go the pending queue;
// preempt.go preemption; recovery.go Recover and Reconcile; resync.go
// the managers' views and change numbering; audit.go Audit; explain.go
// Explain; backend.go the SchedulerBackend contract, its optional
// capabilities and MemBackend.
//
// # Notifications
//
// Every committed change is queued for the other manager in a per-manager
// outbox, in commit order, and delivered with retries and doubling backoff
// before Create or Delete returns; a change a manager will not take stays
// queued (Flush retries it, Config.OnNotifyError hears about it) and blocks
// the changes behind it, so a manager never sees a delete before its create.
// While a manager is unreachable the outbox stays bounded: a create and a
// delete it was never offered cancel out. Receivers drop duplicates by
// Change.Seq.
//
// # Quick start
//
//	vms, _ := sched.NewMemBackend(sched.MemConfig{Kind: sched.VM, OverheadFraction: 0.05})
//	ctrs, _ := sched.NewMemBackend(sched.MemConfig{Kind: sched.Container})
//	c, _ := sched.New(sched.Config{}, vms, ctrs)
//	_ = c.AddNode(ctx, sched.Node{Name: "n1", Capacity: sched.Resources{MilliCPU: 32000, MemoryBytes: 128 << 30}})
//	req := sched.Request{ID: "vm-1", Kind: sched.VM, Resources: sched.Resources{MilliCPU: 4000, MemoryBytes: 8 << 30}}
//	p, err := c.Create(ctx, req)     // p.Node == "n1"; p.Allocated includes the VM overhead
//	verdicts, err := c.Explain(req)  // per node: the filter that rejected it, or its score
//
// The package Example runs this end to end.
//
// Hosts implement SchedulerBackend for their hypervisor and container
// runtime and check it with sched/schedtest.TestSchedulerBackend. MemBackend is the
// in-memory reference implementation, with configurable overhead, latency
// and failure injection.
package sched

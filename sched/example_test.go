package sched_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/payedge/payedge/sched"
)

// One coordinator, two managers: a VM lands on the node it fits best, its
// hypervisor overhead is recorded in the ledger, and the container manager
// is told about it. Explain says why the other nodes were not chosen.
func Example() {
	ctx := context.Background()
	vms, _ := sched.NewVMBackend(sched.MemConfig{Overhead: sched.Resources{MemoryBytes: 256 << 20}})
	ctrs, _ := sched.NewContainerBackend(sched.MemConfig{})
	c, _ := sched.New(sched.Config{Classes: map[string]sched.Ratios{"general": {CPU: 2}}}, vms, ctrs)

	_ = c.AddNode(ctx, sched.Node{Name: "n1", Class: "general",
		Capacity: sched.Resources{MilliCPU: 16000, MemoryBytes: 64 << 30}, Labels: map[string]string{"pci": "yes"}})
	_ = c.AddNode(ctx, sched.Node{Name: "n2",
		Capacity: sched.Resources{MilliCPU: 8000, MemoryBytes: 32 << 30},
		Taints:   []sched.Taint{{Key: "hsm", Value: "true", Effect: sched.TaintNoSchedule}}})
	_ = c.AddNode(ctx, sched.Node{Name: "n3", Capacity: sched.Resources{MilliCPU: 2000, MemoryBytes: 4 << 30}})

	req := sched.Request{ID: "switch-1", Kind: sched.VM,
		Resources:    sched.Resources{MilliCPU: 4000, MemoryBytes: 8 << 30},
		NodeSelector: map[string]string{"pci": "yes"}}
	p, err := c.Create(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s on %s, claimed %d MiB, allocated %d MiB\n", p.Request.ID, p.Node,
		p.Claim.MemoryBytes>>20, p.Allocated.MemoryBytes>>20)
	fmt.Printf("container manager knows about %d VM\n", len(ctrs.Foreign()))

	why, _ := c.Explain(sched.Request{ID: "probe", Kind: sched.Container,
		Resources: sched.Resources{MilliCPU: 3000, MemoryBytes: 2 << 30}})
	for _, v := range why {
		fmt.Println(v)
	}

	_, err = c.Create(ctx, sched.Request{ID: "switch-1", Kind: sched.VM, Resources: req.Resources})
	fmt.Println(errors.Is(err, sched.ErrDuplicateID))
	// Output:
	// switch-1 on n1, claimed 8192 MiB, allocated 8448 MiB
	// container manager knows about 1 VM
	// n1: feasible, score 0.391
	// n2: rejected by taints (taint hsm=true:NoSchedule not tolerated)
	// n3: rejected by resources (cpu: needs 3000m, 2000m free)
	// true
}

// Create's errors say what went wrong in a form a caller can branch on:
// errors.Is for the kind of failure, *PlacementError for the detail.
func ExampleCoordinator_Create_errors() {
	ctx := context.Background()
	vms, _ := sched.NewVMBackend(sched.MemConfig{})
	ctrs, _ := sched.NewContainerBackend(sched.MemConfig{})
	c, _ := sched.New(sched.Config{MaxPending: 1}, vms, ctrs)
	_ = c.AddNode(ctx, sched.Node{Name: "n1", Capacity: sched.Resources{MilliCPU: 4000, MemoryBytes: 8 << 30}})

	_, err := c.Create(ctx, sched.Request{ID: "bad", Kind: sched.VM, Resources: sched.Resources{MilliCPU: -1, MemoryBytes: 1}})
	if re, ok := errors.AsType[*sched.RequestError](err); ok {
		fmt.Println("bad input in", re.Field, errors.Is(err, sched.ErrInvalidResources))
	}

	big := sched.Resources{MilliCPU: 4000, MemoryBytes: 8 << 30}
	_, _ = c.Create(ctx, sched.Request{ID: "db", Kind: sched.VM, Resources: big})
	_, err = c.Create(ctx, sched.Request{ID: "batch", Kind: sched.Container, Resources: big})
	if pe, ok := errors.AsType[*sched.PlacementError](err); ok {
		fmt.Println("queued:", errors.Is(err, sched.ErrQueued), "rejected by resources on", pe.Rejected[sched.FilterResources], "node(s)")
	}

	// Deleting the VM frees the node; the queued container is placed.
	_ = c.Delete(ctx, "db")
	for _, a := range c.Allocations() {
		fmt.Println(a.ID, "runs on", a.Node)
	}
	// Output:
	// bad input in Resources.MilliCPU true
	// queued: true rejected by resources on 1 node(s)
	// batch runs on n1
}

// A coordinator crashed; its replacement rebuilds the ledger from what the
// managers run, and Reconcile later finds a workload the VM manager lost.
func ExampleCoordinator_Recover() {
	ctx := context.Background()
	vms, _ := sched.NewVMBackend(sched.MemConfig{})
	ctrs, _ := sched.NewContainerBackend(sched.MemConfig{})
	node := sched.Node{Name: "n1", Capacity: sched.Resources{MilliCPU: 16000, MemoryBytes: 64 << 30}}

	old, _ := sched.New(sched.Config{}, vms, ctrs)
	_ = old.AddNode(ctx, node)
	for _, id := range []string{"vm-1", "vm-2"} {
		_, _ = old.Create(ctx, sched.Request{ID: id, Kind: sched.VM, Resources: sched.Resources{MilliCPU: 2000, MemoryBytes: 4 << 30}})
	}
	// old crashes here; a new coordinator takes over the same managers.
	c, _ := sched.New(sched.Config{}, vms, ctrs)
	_ = c.AddNode(ctx, node)
	rep, err := c.Recover(ctx)
	fmt.Println(rep.Recovered, "workloads recovered", err)
	fmt.Println(c.Nodes()[0].Used)

	_ = vms.Delete(ctx, "vm-2") // lost behind the coordinator's back
	rep, _ = c.Reconcile(ctx)
	for _, ev := range rep.Events {
		fmt.Println(ev)
	}
	fmt.Println(c.Nodes()[0].Used, c.Audit())
	// Output:
	// 2 workloads recovered <nil>
	// cpu=4000m mem=8GiB disk=0 gpu=0
	// missing "vm-2" on "n1": no vm manager runs it (repaired)
	// cpu=2000m mem=4GiB disk=0 gpu=0 <nil>
}

// A coordinator died before the container manager heard that vm-2 was
// deleted, and its replacement's clock is an hour behind. The reference
// managers implement ForeignLister, so Recover finds the phantom in the
// container manager's view and sends the Deleted, numbered above what the
// manager applied, as it numbers every later change.
func ExampleForeignLister() {
	ctx := context.Background()
	vms, _ := sched.NewVMBackend(sched.MemConfig{})
	ctrs, _ := sched.NewContainerBackend(sched.MemConfig{})
	node := sched.Node{Name: "n1", Capacity: sched.Resources{MilliCPU: 16000, MemoryBytes: 64 << 30}}
	vm := func(id string) sched.Request {
		return sched.Request{ID: id, Kind: sched.VM, Resources: sched.Resources{MilliCPU: 2000, MemoryBytes: 4 << 30}}
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

	old, _ := sched.New(sched.Config{Now: func() time.Time { return t0 }}, vms, ctrs)
	_ = old.AddNode(ctx, node)
	_, _ = old.Create(ctx, vm("vm-1"))
	_, _ = old.Create(ctx, vm("vm-2"))
	_ = vms.Delete(ctx, "vm-2") // deleted; old dies before announcing it

	c, _ := sched.New(sched.Config{Now: func() time.Time { return t0.Add(-time.Hour) }}, vms, ctrs)
	_ = c.AddNode(ctx, node)
	rep, err := c.Recover(ctx)
	fmt.Println(rep.Recovered, "recovered", err)
	for _, ev := range rep.Events {
		fmt.Println(ev.Kind, ev.Manager, ev.ID, "repaired:", ev.Repaired)
	}
	_, _ = c.Create(ctx, vm("vm-3"))
	view, _ := ctrs.ListForeign(ctx)
	for _, a := range view.Allocations {
		fmt.Println("the container manager sees", a.ID)
	}
	// Output:
	// 1 recovered <nil>
	// view-phantom container vm-2 repaired: true
	// seq-behind container  repaired: true
	// the container manager sees vm-1
	// the container manager sees vm-3
}

// With preemption on, a payment switch VM of high priority evicts a batch
// container of lower priority from a full node; Explain says beforehand
// whom it would evict and why, and the placement names who was evicted.
func ExampleConfig_preemption() {
	ctx := context.Background()
	vms, _ := sched.NewVMBackend(sched.MemConfig{})
	ctrs, _ := sched.NewContainerBackend(sched.MemConfig{})
	c, _ := sched.New(sched.Config{Preemption: true}, vms, ctrs)
	_ = c.AddNode(ctx, sched.Node{Name: "n1", Capacity: sched.Resources{MilliCPU: 8000, MemoryBytes: 32 << 30}})
	for i, prio := range []int32{0, 5} {
		_, _ = c.Create(ctx, sched.Request{ID: fmt.Sprint("batch-", i), Kind: sched.Container, Priority: prio,
			Resources: sched.Resources{MilliCPU: 4000, MemoryBytes: 16 << 30}})
	}
	sw := sched.Request{ID: "switch", Kind: sched.VM, Priority: 10,
		Resources: sched.Resources{MilliCPU: 4000, MemoryBytes: 8 << 30}}
	why, _ := c.Explain(sw)
	fmt.Println(why[0])
	p, err := c.Create(ctx, sw)
	fmt.Println(p.Node, p.Preempted, err)
	// Output:
	// n1: rejected by resources (cpu: needs 4000m, 0m free; memory: needs 8GiB, 0 free; preemption would evict batch-0 (priority 0, cpu=4000m mem=16GiB disk=0 gpu=0), of priority below 10), preemptible
	// n1 [batch-0] <nil>
}

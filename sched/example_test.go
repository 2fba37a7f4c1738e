package sched_test

import (
	"context"
	"errors"
	"fmt"

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

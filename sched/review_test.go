package sched

import (
	"context"
	"testing"
)

// Evictions are committed changes like any other: the other manager hears
// of them before Create returns, even when the preempting request then
// fails on its backend.
func TestPreemptionNotifiesEvenWhenCreateFails(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	c, err := New(Config{Preemption: true}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	node := Resources{MilliCPU: 8000, MemoryBytes: 32 * gib}
	addNodes(t, c, 1, node)
	if _, err := c.Create(ctx, Request{ID: "lo", Kind: Container, Resources: node}); err != nil {
		t.Fatal(err)
	}
	if got := len(vm.Foreign()); got != 1 {
		t.Fatalf("VM manager knows %d foreign workloads, want 1", got)
	}
	vm.failNodes["node-0000"] = true
	_, err = c.Create(ctx, Request{ID: "hi", Kind: VM, Priority: 5, Resources: node})
	if err == nil {
		t.Fatal("Create succeeded on a failing backend")
	}
	if got := ctr.Allocations(); len(got) != 0 {
		t.Fatalf("victim not evicted: %v", got)
	}
	if got := vm.Foreign(); len(got) != 0 {
		t.Fatalf("Create returned %v, but the VM manager still sees the evicted workload: %v", err, got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

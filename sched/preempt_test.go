package sched

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPreemption(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{Preemption: true}, MemConfig{}, MemConfig{})
	node := Resources{MilliCPU: 8000, MemoryBytes: 32 * gib}
	addNodes(t, c, 2, node)
	// node-0000: four priority-0 workloads; node-0001: two priority-5 and
	// two priority-1 workloads. Both are full.
	reqs := []Request{
		{ID: "a0", Kind: Container, Priority: 0, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "a1", Kind: Container, Priority: 0, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "a2", Kind: VM, Priority: 0, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "a3", Kind: VM, Priority: 0, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "b0", Kind: VM, Priority: 5, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "b1", Kind: VM, Priority: 5, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "b2", Kind: Container, Priority: 1, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
		{ID: "b3", Kind: Container, Priority: 1, Resources: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}},
	}
	for _, r := range reqs {
		if _, err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	on := map[string]string{}
	for _, a := range c.Allocations() {
		on[a.ID] = a.Node
	}
	// Equal priority never preempts.
	if _, err := c.Create(ctx, Request{ID: "peer", Kind: VM, Priority: 0, Resources: Resources{MilliCPU: 3000, MemoryBytes: gib}}); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("equal priority: %v", err)
	}
	hi := Request{ID: "hi", Kind: VM, Priority: 10, Resources: Resources{MilliCPU: 3000, MemoryBytes: 12 * gib}}
	verdicts, err := c.Explain(hi)
	if err != nil {
		t.Fatal(err)
	}
	// Both nodes can make room with two victims; the one whose highest
	// victim priority is lowest (the priority-0 node) is cheaper.
	low := on["a0"]
	var lowVerdict NodeVerdict
	for _, v := range verdicts {
		if len(v.Preempt) != 2 || v.Filter != FilterResources || !strings.Contains(v.Reason, "preemption would evict") {
			t.Fatalf("verdict %v", v)
		}
		if v.Node == low {
			lowVerdict = v
		}
	}
	p, err := c.Create(ctx, hi)
	if err != nil {
		t.Fatal(err)
	}
	if p.Node != low || len(p.Preempted) != 2 || !cmp.Equal(p.Preempted, lowVerdict.Preempt) {
		t.Fatalf("placed on %s preempting %v; Explain said %v on %s", p.Node, p.Preempted, lowVerdict.Preempt, low)
	}
	for _, id := range p.Preempted {
		if !strings.HasPrefix(id, "a") {
			t.Fatalf("evicted %s of higher priority", id)
		}
		if err := c.Delete(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("evicted %s still in the ledger: %v", id, err)
		}
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(groundTruth(vm, ctr), c.Allocations()); diff != "" {
		t.Fatalf("ledger (-truth +ledger):\n%s", diff)
	}
	if diff := cmp.Diff(ctr.Allocations(), vm.Foreign()); diff != "" {
		t.Fatalf("VM manager not told of evictions (-truth +view):\n%s", diff)
	}
	if c.Stats().Preempted != 2 {
		t.Fatalf("stats %+v", c.Stats())
	}
	// Without Preemption nothing is evicted.
	c2, _, _ := newTestCoordinator(t, Config{}, MemConfig{}, MemConfig{})
	addNodes(t, c2, 1, node)
	_, _ = c2.Create(ctx, Request{ID: "x", Kind: VM, Resources: node})
	if _, err := c2.Create(ctx, Request{ID: "y", Kind: VM, Priority: 9, Resources: node}); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("preempted without Config.Preemption: %v", err)
	}
	if v, _ := c2.Explain(Request{ID: "y", Kind: VM, Priority: 9, Resources: node}); len(v[0].Preempt) != 0 {
		t.Fatalf("Explain offers preemption without Config.Preemption: %v", v)
	}
}

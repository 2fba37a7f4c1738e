package sched

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

const (
	gib = int64(1) << 30
)

// newTestCoordinator builds a coordinator with one VM and one container
// reference backend.
func newTestCoordinator(t testing.TB, cfg Config, vm, ctr MemConfig) (*Coordinator, *MemBackend, *MemBackend) {
	t.Helper()
	vm.Kind, ctr.Kind = VM, Container
	vb, err := NewMemBackend(vm)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := NewMemBackend(ctr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, vb, cb)
	if err != nil {
		t.Fatal(err)
	}
	return c, vb, cb
}

// addNodes adds n identical nodes named node-0000….
func addNodes(t testing.TB, c *Coordinator, n int, capacity Resources) {
	t.Helper()
	for i := range n {
		if err := c.AddNode(context.Background(), Node{Name: fmt.Sprintf("node-%04d", i), Capacity: capacity}); err != nil {
			t.Fatal(err)
		}
	}
}

// workloadMix draws a request from a seeded mix of VM and container sizes.
func workloadMix(rng *rand.Rand, id string) Request {
	type size struct {
		cpu, mem int64
	}
	vms := []size{{1000, 2 * gib}, {2000, 4 * gib}, {4000, 8 * gib}, {8000, 16 * gib}, {4000, 32 * gib}}
	ctrs := []size{{250, gib / 4}, {500, gib / 2}, {1000, gib}, {2000, 2 * gib}, {500, 2 * gib}}
	if rng.IntN(3) == 0 {
		s := vms[rng.IntN(len(vms))]
		return Request{ID: id, Kind: VM, Resources: Resources{MilliCPU: s.cpu, MemoryBytes: s.mem, DiskBytes: 20 * gib}}
	}
	s := ctrs[rng.IntN(len(ctrs))]
	return Request{ID: id, Kind: Container, Resources: Resources{MilliCPU: s.cpu, MemoryBytes: s.mem}}
}

type atomicCounter struct{ n atomic.Uint64 }

func (a *atomicCounter) next() uint64 { return a.n.Add(1) }

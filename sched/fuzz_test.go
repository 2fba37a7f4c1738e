package sched

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// FuzzCreateDelete drives a small coordinator with attacker-chosen
// requests and operation sequences. Whatever the input, nothing panics,
// every error is typed, and the ledger stays exact and within capacity.
func FuzzCreateDelete(f *testing.F) {
	f.Add("vm-1", uint8(1), int64(1000), int64(1<<30), int64(0), int64(0), "zone", "z1", "g", false, []byte{0, 0, 1, 2, 3})
	f.Add("c", uint8(2), int64(16000), int64(64<<30), int64(-1), int64(1), "", "", "", true, []byte{0, 4, 0, 1, 1})
	f.Add("", uint8(0), int64(0), int64(0), int64(0), int64(0), "k", "", "", false, []byte{0})
	f.Add("x", uint8(1), int64(MaxQuantity+1), int64(1), int64(1), int64(9), "zone", "z2", "anti", true, []byte{0, 0, 0, 5, 0})
	f.Fuzz(func(t *testing.T, id string, kind uint8, cpu, mem, disk, gpu int64, selK, selV, group string, pin bool, ops []byte) {
		if len(ops) > 64 {
			return
		}
		ctx := context.Background()
		c, vm, ctr := newTestCoordinator(t, Config{Classes: map[string]Ratios{"dense": {CPU: 3, Memory: 1.25}}, MaxPending: 4},
			MemConfig{Overhead: Resources{MemoryBytes: 64 << 20}}, MemConfig{})
		for i, n := range []Node{
			{Name: "a", Capacity: Resources{MilliCPU: 16000, MemoryBytes: 64 << 30, GPUs: 1}, Labels: map[string]string{"zone": "z1"},
				NUMA: []NUMACell{{8000, 32 << 30}, {8000, 32 << 30}}},
			{Name: "b", Class: "dense", Capacity: Resources{MilliCPU: 8000, MemoryBytes: 32 << 30}, Labels: map[string]string{"zone": "z2"}},
			{Name: "c", Capacity: Resources{MilliCPU: 4000, MemoryBytes: 8 << 30}, Taints: []Taint{{Key: "zone", Effect: TaintNoSchedule}}},
		} {
			if err := c.AddNode(ctx, n); err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
		}
		var ids []string
		for i, op := range ops {
			switch op % 6 {
			case 0, 4:
				r := Request{ID: fmt.Sprint(id, i%3), Kind: Kind(kind), Resources: Resources{cpu, mem, disk, gpu}, PinNUMA: pin}
				if selK != "" {
					r.NodeSelector = map[string]string{selK: selV}
				}
				if group != "" {
					if op%2 == 0 {
						r.AntiAffinityGroups = []string{group}
					} else {
						r.AffinityGroups = []string{group}
					}
				}
				if op%6 == 4 {
					r.Tolerations = []Toleration{{Key: selK, Exists: true}}
				}
				_, err := c.Create(ctx, r)
				if err == nil || errors.Is(err, ErrQueued) {
					ids = append(ids, r.ID)
				}
				if err != nil {
					_, re := errors.AsType[*RequestError](err)
					_, pe := errors.AsType[*PlacementError](err)
					if !re && !pe {
						t.Fatalf("untyped error %v", err)
					}
				}
				if _, err := c.Explain(r); err != nil && !errors.Is(err, ErrInvalidRequest) {
					t.Fatalf("explain: %v", err)
				}
			case 1:
				if len(ids) > 0 {
					_ = c.Delete(ctx, ids[0])
					ids = ids[1:]
				}
			case 2:
				_, _ = c.DrainNode("ab"[i%2 : i%2+1])
			case 3:
				_ = c.ResumeNode(ctx, "ab"[i%2:i%2+1])
			case 5:
				_ = c.RemoveNode("c")
			}
		}
		checkConsistent(t, c, vm, ctr)
	})
}

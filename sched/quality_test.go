package sched

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSampledQualityNearFullScan checks that sampling keeps bin packing
// close to the exact full scan: over several seeds, the utilisation when
// the first request fails to fit stays within 3 % of the full-scan best
// fit, for both sampling modes.
func TestSampledQualityNearFullScan(t *testing.T) {
	const nodes = 200
	seeds := []uint64{1, 2, 3}
	var full float64
	for _, s := range seeds {
		u, _ := fillUntilFailure(t, SampleFull, nodes, s)
		full += u
	}
	full /= float64(len(seeds))
	for _, mode := range []Sampling{SampleLog2, SampleAdaptive} {
		var sum float64
		for _, s := range seeds {
			u, n := fillUntilFailure(t, mode, nodes, s)
			if n == 0 {
				t.Fatalf("%v: nothing placed", mode)
			}
			sum += u
		}
		got := sum / float64(len(seeds))
		t.Logf("%v: utilisation at first failure %.2f%%, full scan %.2f%%", mode, 100*got, 100*full)
		if got < 0.97*full {
			t.Errorf("%v: utilisation %.4f more than 3%% below the full scan's %.4f", mode, got, full)
		}
	}
	// Spread is the opposite policy; it must not beat the bin packer here,
	// or the scorer weights are not doing what they say.
	var spread float64
	for _, s := range seeds {
		spread += fillSpread(t, nodes, s)
	}
	spread /= float64(len(seeds))
	t.Logf("spread: %.2f%%", 100*spread)
	if spread > full {
		t.Errorf("spread packs better (%.4f) than best fit (%.4f)", spread, full)
	}
}

// TestFullScanRanksExactly checks the full scan's ranking against a
// brute-force one over every node: the same nodes, scores and order
// (ties broken by slot), on a cluster with taints, PreferNoSchedule
// penalties, drained and removed nodes.
func TestFullScanRanksExactly(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 5))
	c, _, _ := newTestCoordinator(t, Config{Sampling: SampleFull, MaxAttempts: 5, Weights: Weights{BestFit: 1, Spread: 0.3, Taint: 0.5}},
		MemConfig{}, MemConfig{})
	for i := range 120 {
		n := Node{Name: fmt.Sprint("n", i), Capacity: Resources{MilliCPU: int64(4000 + 4000*(i%3)), MemoryBytes: int64(8+8*(i%4)) * gib, DiskBytes: 500 * gib}}
		switch i % 5 {
		case 1:
			n.Taints = []Taint{{Key: "legacy", Effect: TaintPreferNoSchedule}}
		case 2:
			n.Taints = []Taint{{Key: "hsm", Effect: TaintNoSchedule}}
		}
		if err := c.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		_, _ = c.DrainNode(fmt.Sprint("n", 7*i))
		_ = c.RemoveNode(fmt.Sprint("n", 7*i+3))
	}
	for i := range 600 {
		r := workloadMix(rng, fmt.Sprint("w", i))
		if rng.IntN(3) == 0 {
			r.Tolerations = []Toleration{{Key: "legacy", Exists: true}}
		}
		if rng.IntN(4) == 0 {
			r.Tolerations = append(r.Tolerations, Toleration{Key: "hsm", Exists: true})
		}
		var buf [8]candidate
		c.mu.RLock()
		got := c.scan(&r, r.Resources, nil, buf[:0])
		var all []candidate
		for _, n := range c.nodes {
			if n != nil && filterNode(n, &r, r.Resources, c.groupTotal) == passed {
				all = append(all, candidate{n, score(n, &r, r.Resources, &c.cfg.Weights)})
			}
		}
		c.mu.RUnlock()
		slices.SortStableFunc(all, func(a, b candidate) int {
			if a.score != b.score {
				return cmp.Compare(b.score, a.score)
			}
			return cmp.Compare(a.n.slot, b.n.slot)
		})
		want := all[:min(len(all), c.cfg.MaxAttempts)]
		if len(got) != len(want) {
			t.Fatalf("request %d: scan ranked %d nodes, brute force %d", i, len(got), len(want))
		}
		for j := range got {
			if got[j].n != want[j].n || got[j].score != want[j].score {
				t.Fatalf("request %d rank %d: scan %s (%v), brute force %s (%v)", i, j, got[j].n.spec.Name, got[j].score, want[j].n.spec.Name, want[j].score)
			}
		}
		if len(want) == 0 {
			break
		}
		if _, err := c.Create(ctx, r); err != nil && !errors.Is(err, ErrNoCapacity) {
			t.Fatal(err)
		}
	}
}

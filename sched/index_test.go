package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestFitIndexMatchesLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 3, 7, 64, 100, 513} {
		idx := newFitIndex(1).grow(n)
		frees := make([]Resources, n)
		for i := range frees {
			if rng.IntN(5) == 0 {
				frees[i] = blocked
			} else {
				frees[i] = Resources{rng.Int64N(100), rng.Int64N(100), rng.Int64N(3), rng.Int64N(2)}
			}
			idx.set(i, frees[i])
		}
		for range 2000 {
			// Occasionally change a leaf, including growing and shrinking it.
			if j := rng.IntN(n); rng.IntN(4) == 0 {
				frees[j] = Resources{rng.Int64N(100), rng.Int64N(100), rng.Int64N(3), rng.Int64N(2)}
				idx.set(j, frees[j])
			}
			need := Resources{rng.Int64N(100), rng.Int64N(100), rng.Int64N(3), rng.Int64N(2)}
			from := rng.IntN(n + 1)
			to := from + rng.IntN(n+1-from)
			want := -1
			for i := from; i < to; i++ {
				if need.Fits(frees[i]) {
					want = i
					break
				}
			}
			if got := idx.next(from, to, &need); got != want {
				t.Fatalf("n=%d next(%d, %d, %v) = %d, want %d", n, from, to, need, got, want)
			}
			// The block walk: jump with nextBlock, scan the block, repeat.
			got := -1
			for pos := from; ; {
				b := idx.nextBlock(pos, to, &need)
				if b < 0 {
					break
				}
				if b < pos || (want >= 0 && b > want) {
					t.Fatalf("n=%d nextBlock(%d, %d, %v) = %d skips the match at %d", n, pos, to, need, b, want)
				}
				end := min((b/walkBlock+1)*walkBlock, to)
				for i := b; i < end && got < 0; i++ {
					if need.Fits(frees[i]) {
						got = i
					}
				}
				if got >= 0 {
					break
				}
				pos = end
			}
			if got != want {
				t.Fatalf("n=%d block walk over [%d, %d) for %v finds %d, want %d", n, from, to, need, got, want)
			}
		}
	}
}

// TestSampledDecisionIsComplete: whenever any node can take a request, the
// sampled decision finds one, so sampling never causes a spurious
// ErrNoCapacity.
func TestSampledDecisionIsComplete(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(2, 2))
	c, _, _ := newTestCoordinator(t, Config{}, MemConfig{}, MemConfig{})
	for i := range 300 {
		n := Node{Name: fmt.Sprint("n", i), Capacity: Resources{MilliCPU: 8000, MemoryBytes: 32 * gib, DiskBytes: 500 * gib},
			Labels: map[string]string{"zone": fmt.Sprint("z", i%10), "rack": fmt.Sprint("r", i%2)}}
		if err := c.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		r := workloadMix(rng, fmt.Sprint("w", i))
		switch rng.IntN(6) {
		case 0:
			r.NodeSelector = map[string]string{"zone": fmt.Sprint("z", rng.IntN(11))} // z10 matches no node
		case 1:
			r.NodeSelector = map[string]string{"rack": fmt.Sprint("r", rng.IntN(2)), "zone": fmt.Sprint("z", rng.IntN(10))}
		case 2:
			r.AffinityGroups = []string{fmt.Sprint("g", rng.IntN(30))}
		}
		var buf [8]candidate
		c.mu.RLock()
		sampled := len(c.decide(&r, r.Resources, nil, buf[:0]))
		full := len(c.scan(&r, r.Resources, nil, buf[:0]))
		c.mu.RUnlock()
		if (sampled == 0) != (full == 0) {
			t.Fatalf("request %d: sampled found %d candidates, full scan %d", i, sampled, full)
		}
		if full == 0 && r.NodeSelector == nil && r.AffinityGroups == nil {
			if err := c.Audit(); err != nil {
				t.Fatal(err)
			}
			if i < 1000 {
				t.Fatalf("cluster full after only %d placements", i)
			}
			return
		}
		if full == 0 {
			continue
		}
		if _, err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDenseScanMatchesIndexWalk: from any start and for any limit, the
// dense scan decide uses for large samples ranks exactly what the fit index
// walk ranks.
func TestDenseScanMatchesIndexWalk(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 8))
	c, _, _ := newTestCoordinator(t, Config{MaxAttempts: 4}, MemConfig{}, MemConfig{})
	for i := range 150 {
		n := Node{Name: fmt.Sprint("n", i), Capacity: Resources{MilliCPU: 8000, MemoryBytes: 32 * gib, DiskBytes: 500 * gib}}
		if i%6 == 1 {
			n.Taints = []Taint{{Key: "legacy", Effect: TaintPreferNoSchedule}}
		}
		if i%6 == 2 {
			n.Taints = []Taint{{Key: "hsm", Effect: TaintNoSchedule}}
		}
		if err := c.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		_, _ = c.DrainNode(fmt.Sprint("n", 11*i))
		_ = c.RemoveNode(fmt.Sprint("n", 11*i+5))
	}
	for i := 0; ; i++ {
		r := workloadMix(rng, fmt.Sprint("w", i))
		if rng.IntN(3) == 0 {
			r.AntiAffinityGroups = []string{fmt.Sprint("a", rng.IntN(4))}
		}
		var b1, b2 [8]candidate
		c.mu.RLock()
		var exclude []*nodeState
		if n := c.nodes[rng.IntN(len(c.nodes))]; n != nil && rng.IntN(2) == 0 {
			exclude = []*nodeState{n}
		}
		start, limit := rng.IntN(c.index.size), 1+rng.IntN(200)
		walk := c.walkFrom(&r, r.Resources, exclude, b1[:0], start, limit)
		dense := c.scanFrom(&r, r.Resources, exclude, b2[:0], start, limit)
		c.mu.RUnlock()
		if len(walk) != len(dense) {
			t.Fatalf("request %d start %d limit %d: walk ranked %d, dense %d", i, start, limit, len(walk), len(dense))
		}
		for j := range walk {
			if walk[j] != dense[j] {
				t.Fatalf("request %d start %d limit %d rank %d: walk %s, dense %s", i, start, limit, j, walk[j].n.spec.Name, dense[j].n.spec.Name)
			}
		}
		if _, err := c.Create(ctx, r); errors.Is(err, ErrNoCapacity) && r.AntiAffinityGroups == nil {
			if i < 200 {
				t.Fatalf("cluster full after %d requests", i)
			}
			return
		} else if err != nil && !errors.Is(err, ErrNoCapacity) {
			t.Fatal(err)
		}
	}
}

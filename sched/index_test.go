package sched

import (
	"context"
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
	addNodes(t, c, 300, Resources{MilliCPU: 8000, MemoryBytes: 32 * gib, DiskBytes: 500 * gib})
	for i := 0; ; i++ {
		r := workloadMix(rng, fmt.Sprint("w", i))
		var buf [8]candidate
		c.mu.RLock()
		sampled := len(c.decide(&r, r.Resources, nil, buf[:0]))
		full := len(c.scan(&r, r.Resources, nil, buf[:0]))
		c.mu.RUnlock()
		if (sampled == 0) != (full == 0) {
			t.Fatalf("request %d: sampled found %d candidates, full scan %d", i, sampled, full)
		}
		if full == 0 {
			if i < 1000 {
				t.Fatalf("cluster full after only %d placements", i)
			}
			return
		}
		if _, err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

package biometric

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestExactTies: identical templates under different IDs score exactly
// the same, and every path — one goroutine, sharded, batch, int8 — orders
// them by ascending ID whatever the insertion order and shard boundaries,
// so the top-k is the naive reference's exactly.
func TestExactTies(t *testing.T) {
	const d = 8
	r := rand.New(rand.NewPCG(5, 5))
	same := randVec(r, d)
	for _, quant := range []bool{false, true} {
		x, err := NewIndex(IndexConfig{Dim: d, Quantized: quant, ParallelMin: 64, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		// 40 twins spread over the gallery (inserted in descending ID
		// order) among 600 random others.
		var twins []string
		for i := range 640 {
			if i%16 == 0 {
				id := fmt.Sprintf("twin%02d", 39-i/16)
				twins = append(twins, id)
				if err := x.Add(id, same); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := x.Add(fmt.Sprintf("o%03d", i), randVec(r, d)); err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(twins)
		for _, k := range []int{1, 5, 40} {
			want := twins[:k]
			check := func(path string, hits []Hit) {
				t.Helper()
				var got []string
				for _, h := range hits {
					got = append(got, h.ID)
					if h.Score != hits[0].Score {
						t.Errorf("quant=%v %s k=%d: twin scores differ: %v", quant, path, k, hits)
						return
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("quant=%v %s k=%d: got %v, want %v", quant, path, k, got, want)
				}
			}
			for _, w := range []int{1, 2, 3, 4} {
				h, err := x.SearchWorkers(context.Background(), same, k, w)
				if err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("%d workers", w), h)
			}
			b, err := x.SearchBatch(context.Background(), [][]float32{same, same}, k)
			if err != nil {
				t.Fatal(err)
			}
			check("batch", b[1])
		}
		// Removing the best twin promotes the next, still in ID order.
		if err := x.Remove("twin00"); err != nil {
			t.Fatal(err)
		}
		if h := x.Search(same, 2); len(h) != 2 || h[0].ID != "twin01" || h[1].ID != "twin02" {
			t.Errorf("quant=%v after removal: %v", quant, h)
		}
		// A twin's score against itself is a cosine: at most 1.
		if h := x.Search(same, 1); h[0].Score > 1 {
			t.Errorf("quant=%v self score %v > 1", quant, h[0].Score)
		}
	}
}

// cancelAfter is a context that reports Canceled from its n-th Err call
// on: a caller giving up in the middle of a scan, deterministically.
type cancelAfter struct {
	context.Context
	mu sync.Mutex
	n  int
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestSearchCanceledMidScan: a context that ends after the first chunks
// stops single, sharded and batch searches with context.Canceled and no
// partial result.
func TestSearchCanceledMidScan(t *testing.T) {
	x, _, vecs := buildIndex(t, IndexConfig{Dim: 8, ParallelMin: 1000, Workers: 3}, 6000, 11)
	for _, w := range []int{1, 3} {
		ctx := &cancelAfter{Context: context.Background(), n: 3}
		if h, err := x.SearchWorkers(ctx, vecs[0], 2, w); !errors.Is(err, context.Canceled) || h != nil {
			t.Errorf("%d workers: %v, %d hits", w, err, len(h))
		}
	}
	ctx := &cancelAfter{Context: context.Background(), n: 3}
	if h, err := x.SearchBatch(ctx, vecs[:4], 2); !errors.Is(err, context.Canceled) || h != nil {
		t.Errorf("batch: %v, %d results", err, len(h))
	}
	// The index is unharmed.
	if h := x.Search(vecs[5], 1); len(h) != 1 || h[0].ID != "p00005" {
		t.Errorf("after canceled searches: %v", h)
	}
}

package biometric

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

func buildIndex(t testing.TB, cfg IndexConfig, n int, seed uint64) (*Index, []string, [][]float32) {
	t.Helper()
	x, err := NewIndex(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	ids := make([]string, n)
	vecs := make([][]float32, n)
	for i := range n {
		ids[i] = fmt.Sprintf("p%05d", i)
		vecs[i] = randVec(r, x.Dim())
		if err := x.Add(ids[i], vecs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return x, ids, vecs
}

// TestSearchMatchesNaive is the property test: on random data, the float
// path (one worker and sharded) and the batch path return exactly the
// naive reference's top-k.
func TestSearchMatchesNaive(t *testing.T) {
	for _, tc := range []struct{ n, d, k int }{{1, 8, 1}, {7, 3, 7}, {300, 64, 5}, {2000, 128, 10}, {1500, 37, 3}} {
		t.Run(fmt.Sprintf("n%d_d%d_k%d", tc.n, tc.d, tc.k), func(t *testing.T) {
			x, ids, vecs := buildIndex(t, IndexConfig{Dim: tc.d, ParallelMin: 256, Workers: 3}, tc.n, uint64(tc.n))
			r := rand.New(rand.NewPCG(9, uint64(tc.d)))
			var queries [][]float32
			for range 20 {
				q := randVec(r, tc.d)
				if r.IntN(2) == 0 { // half the queries are near an enrolled vector
					q = near(r, vecs[r.IntN(tc.n)], 0.3)
				}
				queries = append(queries, q)
			}
			batch, err := x.SearchBatch(t.Context(), queries, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range queries {
				want := naiveSearch(ids, vecs, q, tc.k)
				for _, w := range []int{1, 3} {
					got, err := x.SearchWorkers(t.Context(), q, tc.k, w)
					if err != nil {
						t.Fatal(err)
					}
					if !sameHits(want, got, 1e-5) {
						t.Fatalf("query %d, %d workers:\n got %v\nwant %v", i, w, got, want)
					}
				}
				if !sameHits(want, batch[i], 1e-5) {
					t.Fatalf("batch query %d:\n got %v\nwant %v", i, batch[i], want)
				}
				if got := x.Search(q, tc.k); !sameHits(want, got, 1e-5) {
					t.Fatalf("Search query %d:\n got %v\nwant %v", i, got, want)
				}
			}
		})
	}
}

func TestRemoveKeepsResults(t *testing.T) {
	x, ids, vecs := buildIndex(t, IndexConfig{Dim: 16}, 200, 3)
	r := rand.New(rand.NewPCG(4, 4))
	var keepIDs []string
	var keep [][]float32
	for i := range ids {
		if i%3 == 0 {
			if err := x.Remove(ids[i]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		keepIDs, keep = append(keepIDs, ids[i]), append(keep, vecs[i])
	}
	if x.Len() != len(keepIDs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(keepIDs))
	}
	for range 20 {
		q := randVec(r, 16)
		if got, want := x.Search(q, 5), naiveSearch(keepIDs, keep, q, 5); !sameHits(want, got, 1e-5) {
			t.Fatalf("after removals got %v want %v", got, want)
		}
	}
	if err := x.Remove(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
	// Removing everything leaves a usable empty index.
	for _, id := range keepIDs {
		if err := x.Remove(id); err != nil {
			t.Fatal(err)
		}
	}
	if x.Len() != 0 || x.Bytes() != 0 {
		t.Errorf("empty index Len %d Bytes %d", x.Len(), x.Bytes())
	}
	if err := x.Add("again", randVec(r, 16)); err != nil {
		t.Fatal(err)
	}
	if h := x.Search(randVec(r, 16), 1); len(h) != 1 || h[0].ID != "again" {
		t.Errorf("after refill: %v", h)
	}
}

// TestQuantizedRecall measures recall@1 of the int8 mode against exact
// search on probes near enrolled vectors and reports it; it fails below 0.97.
func TestQuantizedRecall(t *testing.T) {
	const n, d = 2000, 128
	xf, _, vecs := buildIndex(t, IndexConfig{Dim: d}, n, 11)
	xq, _, _ := buildIndex(t, IndexConfig{Dim: d, Quantized: true}, n, 11)
	if xq.Bytes()*3 > xf.Bytes() {
		t.Errorf("int8 index %d bytes vs float %d: want ≥ 3× smaller", xq.Bytes(), xf.Bytes())
	}
	r := rand.New(rand.NewPCG(12, 12))
	agree, probes := 0, 200
	for range probes {
		q := near(r, vecs[r.IntN(n)], 1.0) // hard probes: noise as large as the signal
		a, b := xf.Search(q, 1), xq.Search(q, 1)
		if a[0].ID == b[0].ID {
			agree++
		}
		if math.Abs(a[0].Score-b[0].Score) > 0.02 {
			t.Fatalf("int8 score %v vs float %v", b[0].Score, a[0].Score)
		}
	}
	recall := float64(agree) / float64(probes)
	// Random queries: the nearest neighbour among unrelated vectors wins by
	// tiny gaps, the hardest case for quantisation.
	agreeRand := 0
	for range probes {
		q := randVec(r, d)
		if xf.Search(q, 1)[0].ID == xq.Search(q, 1)[0].ID {
			agreeRand++
		}
	}
	recallRand := float64(agreeRand) / float64(probes)
	t.Logf("int8 recall@1 relative to exact float search, %d × %d: %.4f on mated probes, %.4f on random queries (%d each); memory %d vs %d bytes",
		n, d, recall, recallRand, probes, xq.Bytes(), xf.Bytes())
	if recall < 0.97 {
		t.Errorf("int8 recall@1 on mated probes %.4f < 0.97", recall)
	}
	if recallRand < 0.9 {
		t.Errorf("int8 recall@1 on random queries %.4f < 0.9", recallRand)
	}
	// The batch path agrees with the single path in int8 mode too.
	qs := [][]float32{randVec(r, d), near(r, vecs[5], 0.2)}
	batch, err := xq.SearchBatch(t.Context(), qs, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		if got := xq.Search(q, 3); !sameHits(got, batch[i], 1e-6) {
			t.Errorf("int8 batch %v vs single %v", batch[i], got)
		}
	}
}

func TestIndexBadInput(t *testing.T) {
	x, _, _ := buildIndex(t, IndexConfig{Dim: 4, MaxEntries: 3}, 2, 1)
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		fn   func() error
	}{
		{"add wrong dim", ErrDimension, func() error { return x.Add("a", []float32{1, 2, 3}) }},
		{"add NaN", ErrNotFinite, func() error { return x.Add("a", []float32{1, nan, 0, 0}) }},
		{"add Inf", ErrNotFinite, func() error { return x.Add("a", []float32{1, inf, 0, 0}) }},
		{"add zero", ErrZeroVector, func() error { return x.Add("a", []float32{0, 0, 0, 0}) }},
		{"add dup", ErrDuplicateID, func() error { return x.Add("p00000", []float32{1, 0, 0, 0}) }},
		{"add empty id", ErrBadID, func() error { return x.Add("", []float32{1, 0, 0, 0}) }},
		{"add long id", ErrBadID, func() error { return x.Add(string(make([]byte, MaxIDLen+1)), []float32{1, 0, 0, 0}) }},
		{"remove unknown", ErrNotFound, func() error { return x.Remove("zz") }},
		{"k 0", ErrBadK, func() error { _, err := x.SearchContext(ctx, []float32{1, 0, 0, 0}, 0); return err }},
		{"k -1", ErrBadK, func() error { _, err := x.SearchContext(ctx, []float32{1, 0, 0, 0}, -1); return err }},
		{"k > N", ErrBadK, func() error { _, err := x.SearchContext(ctx, []float32{1, 0, 0, 0}, 3); return err }},
		{"query dim", ErrDimension, func() error { _, err := x.SearchContext(ctx, []float32{1}, 1); return err }},
		{"query NaN", ErrNotFinite, func() error { _, err := x.SearchContext(ctx, []float32{nan, 0, 0, 0}, 1); return err }},
		{"query zero", ErrZeroVector, func() error { _, err := x.SearchContext(ctx, []float32{0, 0, 0, 0}, 1); return err }},
		{"batch bad query", ErrDimension, func() error { _, err := x.SearchBatch(ctx, [][]float32{{1, 0, 0, 0}, {1}}, 1); return err }},
		{"batch k", ErrBadK, func() error { _, err := x.SearchBatch(ctx, [][]float32{{1, 0, 0, 0}}, 9); return err }},
		{"batch too many", ErrConfig, func() error { _, err := x.SearchBatch(ctx, make([][]float32, MaxBatch+1), 1); return err }},
		{"negative workers", ErrConfig, func() error { _, err := x.SearchWorkers(ctx, []float32{1, 0, 0, 0}, 1, -1); return err }},
		{"full", ErrFull, func() error {
			if err := x.Add("c", []float32{0, 1, 0, 0}); err != nil {
				return err
			}
			return x.Add("d", []float32{0, 0, 1, 0})
		}},
	} {
		if err := tc.fn(); !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
	var de *DimensionError
	if err := x.Add("a", []float32{1}); !errors.As(err, &de) || de.Got != 1 || de.Want != 4 {
		t.Errorf("DimensionError = %+v", de)
	}
	if x.Search([]float32{1, 0, 0, 0}, 0) != nil || x.Search([]float32{nan, 0, 0, 0}, 1) != nil {
		t.Error("Search with bad input returned hits")
	}
	for _, c := range []IndexConfig{{Dim: -1}, {Dim: MaxDim + 1}, {Workers: -1}, {ParallelMin: -1}, {MaxEntries: -1}} {
		if _, err := NewIndex(c); !errors.Is(err, ErrConfig) {
			t.Errorf("NewIndex(%+v) err = %v", c, err)
		}
	}
	if x, err := NewIndex(IndexConfig{}); err != nil || x.Dim() != DefaultDim {
		t.Errorf("zero IndexConfig: %v, dim %d", err, x.Dim())
	}
}

func TestSearchCanceled(t *testing.T) {
	x, _, vecs := buildIndex(t, IndexConfig{Dim: 8, ParallelMin: 1000, Workers: 2}, 5000, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.SearchContext(ctx, vecs[0], 1); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled search: %v", err)
	}
	if _, err := x.SearchBatch(ctx, vecs[:3], 1); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled batch: %v", err)
	}
	// Canceled mid-scan: the scan checks ctx between chunks.
	ctx2, cancel2 := context.WithCancel(context.Background())
	tk := newTopK(1)
	sq := searchQuery{f: vecs[0]}
	cancel2()
	x.mu.RLock()
	err := x.scan(ctx2, &sq, chunkRows, 5000, tk)
	x.mu.RUnlock()
	if !errors.Is(err, context.Canceled) || len(tk.h) != 0 {
		t.Errorf("scan after cancel: %v, %d hits", err, len(tk.h))
	}
}

// TestConcurrentSearchAdd runs searches beside adds and removes (-race).
func TestConcurrentSearchAdd(t *testing.T) {
	x, _, _ := buildIndex(t, IndexConfig{Dim: 32, ParallelMin: 64, Workers: 2}, 300, 5)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 50 {
				if h := x.Search(randVec(r, 32), 3); len(h) != 3 {
					t.Errorf("got %d hits", len(h))
					return
				}
				if _, err := x.SearchBatch(context.Background(), [][]float32{randVec(r, 32)}, 2); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		r := rand.New(rand.NewPCG(99, 7))
		for i := range 100 {
			id := fmt.Sprintf("new%d", i)
			if err := x.Add(id, randVec(r, 32)); err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := x.Remove(id); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	wg.Wait()
	if x.Len() != 350 {
		t.Errorf("Len %d, want 350", x.Len())
	}
}

func TestTemplate(t *testing.T) {
	tp, err := NewTemplate([]float32{3, 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(tp[0])-0.6) > 1e-6 || math.Abs(float64(tp[1])-0.8) > 1e-6 || tp.Dim() != 2 {
		t.Errorf("NewTemplate = %v", tp)
	}
	if err := tp.Validate(2); err != nil {
		t.Error(err)
	}
	if err := (Template{3, 4}).Validate(2); !errors.Is(err, ErrZeroVector) {
		t.Errorf("unnormalised template: %v", err)
	}
	if s := tp.Similarity(tp); math.Abs(s-1) > 1e-6 {
		t.Errorf("self similarity %v", s)
	}
	if !math.IsNaN(tp.Similarity(Template{1})) {
		t.Error("dimension mismatch not NaN")
	}
	if _, err := NewTemplate(nil, 0); !errors.Is(err, ErrDimension) {
		t.Errorf("empty: %v", err)
	}
	if _, err := NewTemplate(make([]float32, MaxDim+1), 0); !errors.Is(err, ErrDimension) {
		t.Errorf("oversized: %v", err)
	}
	if _, err := NewTemplate([]float32{1e-30, 0}, 0); !errors.Is(err, ErrZeroVector) {
		t.Errorf("tiny: %v", err)
	}
	// dot kernels against float64 reference
	r := rand.New(rand.NewPCG(1, 1))
	for _, d := range []int{1, 7, 8, 9, 128, 131} {
		a, b := randVec(r, d), randVec(r, d)
		var want float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
		}
		if got := dot32(a, b); math.Abs(float64(got)-want) > 1e-3*(1+math.Abs(want)) {
			t.Errorf("dot32 d=%d: %v want %v", d, got, want)
		}
		qa, qb := make([]int8, d), make([]int8, d)
		sa, sb := quantize(qa, a), quantize(qb, b)
		if got := float64(dot8(qa, qb)) * float64(sa*sb); math.Abs(got-want) > 0.05*math.Sqrt(float64(d))*(1+math.Abs(want)) {
			t.Errorf("dot8 d=%d: %v want %v", d, got, want)
		}
	}
	z := make([]int8, 3)
	if s := quantize(z, []float32{0, 0, 0}); s != 0 {
		t.Errorf("quantize zero scale %v", s)
	}
}

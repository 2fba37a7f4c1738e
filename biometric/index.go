package biometric

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Bounds of an Index.
const (
	// MaxIDLen bounds the length of an index or enrolment ID in bytes.
	MaxIDLen = 256
	// MaxK bounds k in a search.
	MaxK = 1024
	// MaxBatch bounds the number of queries in one SearchBatch.
	MaxBatch = 4096
	// chunkRows is the number of gallery rows scored between context checks
	// and top-k updates (128 KiB of float32 at dimension 256).
	chunkRows = 512
	// batchRows is the gallery block of SearchBatch: small enough that the
	// block stays in L2 cache while every query of the batch visits it.
	batchRows = 256
)

// DefaultDim is the embedding dimension used when a config leaves it 0
// (the common size of face embeddings such as FaceNet's).
const DefaultDim = 128

// IndexConfig configures an Index. The zero value is a float32 index of
// DefaultDim dimensions searched on all cores.
type IndexConfig struct {
	// Dim is the embedding dimension, in [1, MaxDim]; 0 means DefaultDim.
	Dim int
	// Quantized stores each vector as int8 with one float32 scale per
	// vector (4× less memory than float32 at dimension 128 and up); scores
	// become approximations and recall@1 drops slightly — measure it on
	// your data (bench_test.go and TestQuantizedRecall report it).
	Quantized bool
	// Workers is the number of goroutines one search may use; 0 means
	// runtime.GOMAXPROCS(0) at search time, 1 means the calling goroutine only.
	Workers int
	// ParallelMin is the gallery size from which a search is sharded over
	// Workers; 0 means 32768. Smaller galleries are scanned on one goroutine
	// because starting goroutines would cost more than it saves.
	ParallelMin int
	// MaxEntries bounds the gallery size; 0 means no bound beyond memory.
	MaxEntries int
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c IndexConfig) Validate() error {
	switch {
	case c.Dim < 0 || c.Dim > MaxDim:
		return fmt.Errorf("%w: Dim %d not in [1, %d]", ErrConfig, c.Dim, MaxDim)
	case c.Workers < 0:
		return fmt.Errorf("%w: Workers %d < 0", ErrConfig, c.Workers)
	case c.ParallelMin < 0:
		return fmt.Errorf("%w: ParallelMin %d < 0", ErrConfig, c.ParallelMin)
	case c.MaxEntries < 0:
		return fmt.Errorf("%w: MaxEntries %d < 0", ErrConfig, c.MaxEntries)
	}
	return nil
}

// Hit is one search result: an enrolled ID and its cosine similarity to the
// query, in [-1, 1] (clamped: rounding and int8 quantisation can otherwise
// overshoot 1 for near-identical vectors).
type Hit struct {
	ID    string
	Score float64
}

// Index is an exact (flat) 1:N search over templates of one dimension.
//
// Vectors are stored contiguously (one []float32, or one []int8 plus
// scales, in row order) so a search streams memory at full bandwidth.
// Every method is safe for concurrent use: searches share a read lock and
// run in parallel; Add and Remove take the write lock briefly.
//
// Results are ordered best first: higher score first, equal scores by
// ascending ID, so the order never depends on insertion or removal history.
// The zero Index is empty and unusable: its methods return ErrNotInitialized
// (Search returns nil).
type Index struct {
	mu    sync.RWMutex
	cfg   IndexConfig
	dim   int
	data  []float32 // n×dim, float mode
	q     []int8    // n×dim, quantised mode
	scale []float32 // n, quantised mode
	ids   []string
	pos   map[string]int
}

// NewIndex returns an empty index; errors wrap ErrConfig.
func NewIndex(cfg IndexConfig) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim == 0 {
		cfg.Dim = DefaultDim
	}
	return &Index{cfg: cfg, dim: cfg.Dim, pos: map[string]int{}}, nil
}

func checkID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("%w: length %d not in [1, %d]", ErrBadID, len(id), MaxIDLen)
	}
	return nil
}

// Grow reserves room for n more entries so that adding them does not copy
// the gallery.
func (x *Index) Grow(n int) error {
	if x.pos == nil {
		return ErrNotInitialized
	}
	if n < 0 {
		return fmt.Errorf("%w: Grow(%d)", ErrConfig, n)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cfg.Quantized {
		x.q = slices.Grow(x.q, n*x.dim)
		x.scale = slices.Grow(x.scale, n)
	} else {
		x.data = slices.Grow(x.data, n*x.dim)
	}
	x.ids = slices.Grow(x.ids, n)
	return nil
}

// Add stores t under id. t is validated (dimension, finite, non-zero) and
// normalised, so any embedding from the host's model may be passed. Errors
// wrap ErrBadID, ErrDuplicateID, ErrFull, ErrDimension, ErrNotFinite or
// ErrZeroVector; on error the index is unchanged.
func (x *Index) Add(id string, t Template) error {
	if x.pos == nil {
		return ErrNotInitialized
	}
	if err := checkID(id); err != nil {
		return err
	}
	v := make([]float32, len(t))
	if err := normalizeInto(v, t, x.dim); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.pos[id]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateID, id)
	}
	if x.cfg.MaxEntries > 0 && len(x.ids) >= x.cfg.MaxEntries {
		return fmt.Errorf("%w: %d entries", ErrFull, len(x.ids))
	}
	if x.cfg.Quantized {
		n := len(x.q)
		x.q = append(x.q, make([]int8, x.dim)...)
		x.scale = append(x.scale, quantize(x.q[n:], v))
	} else {
		x.data = append(x.data, v...)
	}
	x.pos[id] = len(x.ids)
	x.ids = append(x.ids, id)
	return nil
}

// Remove deletes id (the last row moves into its place). Errors wrap
// ErrNotFound.
func (x *Index) Remove(id string) error {
	if x.pos == nil {
		return ErrNotInitialized
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ok := x.pos[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, truncate(id, 64))
	}
	last := len(x.ids) - 1
	d := x.dim
	if x.cfg.Quantized {
		copy(x.q[i*d:(i+1)*d], x.q[last*d:])
		x.q = x.q[:last*d]
		x.scale[i] = x.scale[last]
		x.scale = x.scale[:last]
	} else {
		copy(x.data[i*d:(i+1)*d], x.data[last*d:])
		x.data = x.data[:last*d]
	}
	x.ids[i] = x.ids[last]
	x.pos[x.ids[i]] = i
	x.ids[last] = ""
	x.ids = x.ids[:last]
	delete(x.pos, id)
	return nil
}

// Len returns the number of entries.
func (x *Index) Len() int {
	if x.pos == nil {
		return 0
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.ids)
}

// Dim returns the configured dimension (0 for the zero Index).
func (x *Index) Dim() int { return x.dim }

// Bytes returns the memory held by the stored vectors and scales, in bytes
// (IDs and the ID map not counted).
func (x *Index) Bytes() int {
	if x.pos == nil {
		return 0
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return 4*len(x.data) + len(x.q) + 4*len(x.scale)
}

// Contains reports whether id is in the index.
func (x *Index) Contains(id string) bool {
	if x.pos == nil {
		return false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.pos[id]
	return ok
}

// Search returns the k entries most similar to query, best first.
//
// Search is the error-free form of SearchContext: it returns nil when the
// index is the zero value, when k ≤ 0, k > MaxK or k > Len(), or when query
// is not a valid embedding of the index dimension (wrong length, NaN/Inf,
// zero). Use SearchContext to learn why, or to cancel a long search.
func (x *Index) Search(query []float32, k int) []Hit {
	h, err := x.SearchContext(context.Background(), query, k)
	if err != nil {
		return nil
	}
	return h
}

// SearchContext is Search with cancellation and errors: it wraps
// ErrNotInitialized, ErrBadK (k ≤ 0, k > MaxK or k > Len()), ErrDimension,
// ErrNotFinite, ErrZeroVector, or returns ctx.Err() if ctx is done before or
// during the scan. The query need not be normalised.
func (x *Index) SearchContext(ctx context.Context, query []float32, k int) ([]Hit, error) {
	return x.SearchWorkers(ctx, query, k, 0)
}

// SearchWorkers is SearchContext on at most workers goroutines (0 means
// the index's configured Workers). Results do not depend on workers.
func (x *Index) SearchWorkers(ctx context.Context, query []float32, k, workers int) ([]Hit, error) {
	if x.pos == nil {
		return nil, ErrNotInitialized
	}
	if workers < 0 {
		return nil, fmt.Errorf("%w: workers %d < 0", ErrConfig, workers)
	}
	q := make([]float32, len(query))
	if err := normalizeInto(q, query, x.dim); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.ids)
	if k <= 0 || k > MaxK || k > n {
		return nil, fmt.Errorf("%w: k = %d, gallery %d, max %d", ErrBadK, k, n, MaxK)
	}
	if workers == 0 {
		workers = x.cfg.Workers
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pmin := x.cfg.ParallelMin
	if pmin == 0 {
		pmin = 32768
	}
	workers = max(1, min(workers, n/max(1, pmin/2)))
	if n < pmin {
		workers = 1
	}
	var sq searchQuery
	sq.f = q
	if x.cfg.Quantized {
		sq.q = make([]int8, len(q))
		sq.scale = quantize(sq.q, q)
	}
	if workers == 1 {
		tk := newTopK(k)
		if err := x.scan(ctx, &sq, 0, n, tk); err != nil {
			return nil, err
		}
		return x.hits(tk), nil
	}
	tops := make([]*topK, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		tops[w] = newTopK(k)
		wg.Go(func() { errs[w] = x.scan(ctx, &sq, lo, hi, tops[w]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	tk := tops[0]
	for _, t := range tops[1:] {
		for _, e := range t.h {
			tk.push(e.score, e.row, x.ids)
		}
	}
	return x.hits(tk), nil
}

// searchQuery is a normalised query and, in quantised mode, its int8 form.
type searchQuery struct {
	f     []float32
	q     []int8
	scale float32
}

// scan scores rows [lo, hi) into tk, checking ctx every chunk. The caller
// holds the read lock.
func (x *Index) scan(ctx context.Context, sq *searchQuery, lo, hi int, tk *topK) error {
	var buf [chunkRows]float32
	d := x.dim
	for start := lo; start < hi; start += chunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(hi, start+chunkRows)
		scores := buf[:end-start]
		if x.cfg.Quantized {
			for r := range scores {
				row := start + r
				scores[r] = float32(dot8(sq.q, x.q[row*d:(row+1)*d])) * sq.scale * x.scale[row]
			}
		} else {
			scoreRows(scores, x.data[start*d:end*d], d, sq.f)
		}
		for r, s := range scores {
			if s = clampScore(s); s >= tk.floor() {
				tk.push(s, start+r, x.ids)
			}
		}
	}
	return nil
}

// clampScore keeps a cosine in [-1, 1]: rounding (float32 sums, int8
// quantisation) can push the score of near-identical vectors past 1, and
// clamping before ranking keeps such twins tied, ordered by ID.
func clampScore(s float32) float32 { return max(-1, min(1, s)) }

// scoreRows computes dst[r] = rows[r]·q for len(dst) row-major rows of
// dimension d, as one matrix–vector product (gonum blas32, whose float32
// dot kernel is vectorised assembly on amd64).
func scoreRows(dst, rows []float32, d int, q []float32) {
	a := blas32.General{Rows: len(dst), Cols: d, Stride: d, Data: rows}
	blas32.Gemv(blas.NoTrans, 1, a, blas32.Vector{N: d, Inc: 1, Data: q}, 0, blas32.Vector{N: len(dst), Inc: 1, Data: dst})
}

// SearchBatch searches every query at once and returns one result list per
// query, in query order. It computes the scores as a blocked matrix
// product: each block of gallery rows is loaded into cache once and scored
// against every query, so the gallery is streamed from memory once per
// batch rather than once per query. Blocks are shared among the configured
// workers. Errors are those of SearchContext (the first bad query is named)
// and ErrConfig for more than MaxBatch queries.
func (x *Index) SearchBatch(ctx context.Context, queries [][]float32, k int) ([][]Hit, error) {
	if x.pos == nil {
		return nil, ErrNotInitialized
	}
	if len(queries) > MaxBatch {
		return nil, fmt.Errorf("%w: %d queries > MaxBatch %d", ErrConfig, len(queries), MaxBatch)
	}
	if len(queries) == 0 {
		return [][]Hit{}, nil
	}
	sqs := make([]searchQuery, len(queries))
	flat := make([]float32, len(queries)*x.dim)
	for i, query := range queries {
		q := flat[i*x.dim : (i+1)*x.dim : (i+1)*x.dim]
		if len(query) != x.dim {
			return nil, fmt.Errorf("query %d: %w", i, &DimensionError{Got: len(query), Want: x.dim})
		}
		if err := normalizeInto(q, query, x.dim); err != nil {
			return nil, fmt.Errorf("query %d: %w", i, err)
		}
		sqs[i].f = q
		if x.cfg.Quantized {
			sqs[i].q = make([]int8, x.dim)
			sqs[i].scale = quantize(sqs[i].q, q)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.ids)
	if k <= 0 || k > MaxK || k > n {
		return nil, fmt.Errorf("%w: k = %d, gallery %d, max %d", ErrBadK, k, n, MaxK)
	}
	workers := x.cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Parallelise over gallery blocks when the work is large enough.
	work := n * len(queries)
	workers = max(1, min(workers, work/(1<<16), (n+batchRows-1)/batchRows))
	tops := make([][]*topK, workers)
	errs := make([]error, workers)
	run := func(w int) {
		tk := make([]*topK, len(queries))
		for i := range tk {
			tk[i] = newTopK(k)
		}
		tops[w] = tk
		lo, hi := n*w/workers, n*(w+1)/workers
		errs[w] = x.scanBatch(ctx, sqs, lo, hi, tk)
	}
	if workers == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { run(w) })
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	out := make([][]Hit, len(queries))
	for i := range queries {
		tk := tops[0][i]
		for _, t := range tops[1:] {
			for _, e := range t[i].h {
				tk.push(e.score, e.row, x.ids)
			}
		}
		out[i] = x.hits(tk)
	}
	return out, nil
}

// scanBatch scores rows [lo, hi) against every query, one cache-resident
// block of rows at a time: the block × queryᵀ product.
func (x *Index) scanBatch(ctx context.Context, sqs []searchQuery, lo, hi int, tks []*topK) error {
	var buf [batchRows]float32
	d := x.dim
	for start := lo; start < hi; start += batchRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(hi, start+batchRows)
		scores := buf[:end-start]
		for qi := range sqs {
			sq := &sqs[qi]
			if x.cfg.Quantized {
				for r := range scores {
					row := start + r
					scores[r] = float32(dot8(sq.q, x.q[row*d:(row+1)*d])) * sq.scale * x.scale[row]
				}
			} else {
				scoreRows(scores, x.data[start*d:end*d], d, sq.f)
			}
			tk := tks[qi]
			for r, s := range scores {
				if s = clampScore(s); s >= tk.floor() {
					tk.push(s, start+r, x.ids)
				}
			}
		}
	}
	return nil
}

func (x *Index) hits(tk *topK) []Hit {
	h := tk.h
	slices.SortFunc(h, func(a, b entry) int { return tk.order(a, b, x.ids) })
	out := make([]Hit, len(h))
	for i, e := range h {
		out[i] = Hit{ID: x.ids[e.row], Score: float64(e.score)}
	}
	return out
}

// entry is a candidate in a top-k heap.
type entry struct {
	score float32
	row   int
}

// topK keeps the k best entries in a min-heap (worst at h[0]).
type topK struct {
	k int
	h []entry
}

func newTopK(k int) *topK { return &topK{k: k, h: make([]entry, 0, k)} }

// floor returns the score a candidate must reach to be considered: -Inf
// until the heap is full, then the worst kept score (ties are resolved by
// ID in push).
func (t *topK) floor() float32 {
	if len(t.h) < t.k {
		return -3e38
	}
	return t.h[0].score
}

// order sorts best first: higher score, then smaller ID.
func (t *topK) order(a, b entry, ids []string) int {
	if a.score != b.score {
		return cmp.Compare(b.score, a.score)
	}
	return cmp.Compare(ids[a.row], ids[b.row])
}

// worse reports whether a ranks after b.
func (t *topK) worse(a, b entry, ids []string) bool { return t.order(a, b, ids) > 0 }

func (t *topK) push(score float32, row int, ids []string) {
	e := entry{score, row}
	if len(t.h) < t.k {
		t.h = append(t.h, e)
		// sift up
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !t.worse(t.h[i], t.h[p], ids) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !t.worse(t.h[0], e, ids) {
		return
	}
	t.h[0] = e
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.h) && t.worse(t.h[l], t.h[m], ids) {
			m = l
		}
		if r < len(t.h) && t.worse(t.h[r], t.h[m], ids) {
			m = r
		}
		if m == i {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

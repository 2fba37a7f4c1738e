package biometric

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// Benchmarks of the 1:N search. The full size is the 1 M × 128
// float32 gallery (512 MB); under -short, or when the benchmarks run once
// (-benchtime=1x, as CI does), a 64 K gallery stands in so every benchmark
// finishes in seconds.
//
//	go test -run '^$' -bench . -count 5 ./biometric/
//
// The bandwidth bound is BenchmarkStreamSum: one pass over the very same
// gallery memory adding its 64-bit words on one goroutine, the least work
// that touches every byte once. BenchmarkSearch reports its time per query
// as a multiple of that bound ("x-bound") measured on the same gallery just
// before the timed loop.

const benchDim = 128

func benchN() int {
	if testing.Short() {
		return 1 << 16
	}
	if f := flag.Lookup("test.benchtime"); f != nil && f.Value.String() == "1x" {
		return 1 << 16
	}
	return 1_000_000
}

var benchGalleries sync.Map // key → *Index

func benchIndex(b *testing.B, n int, quantized bool) *Index {
	b.Helper()
	key := fmt.Sprint(n, quantized)
	if x, ok := benchGalleries.Load(key); ok {
		return x.(*Index)
	}
	x, err := NewIndex(IndexConfig{Dim: benchDim, Quantized: quantized})
	if err != nil {
		b.Fatal(err)
	}
	if err := x.Grow(n); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	v := make([]float32, benchDim)
	for i := range n {
		for j := range v {
			v[j] = r.Float32() - 0.5
		}
		if err := x.Add(fmt.Sprintf("id%07d", i), v); err != nil {
			b.Fatal(err)
		}
	}
	benchGalleries.Store(key, x)
	return x
}

func benchQueries(m int) [][]float32 {
	r := rand.New(rand.NewPCG(2, 2))
	qs := make([][]float32, m)
	for i := range qs {
		qs[i] = make([]float32, benchDim)
		for j := range qs[i] {
			qs[i][j] = r.Float32() - 0.5
		}
	}
	return qs
}

// streamBytes views the index's vector storage as bytes.
func streamWords(x *Index) []uint64 {
	if x.cfg.Quantized {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&x.q[0])), len(x.q)/8)
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&x.data[0])), len(x.data)/2)
}

var sumSink uint64

// plainSum adds every 64-bit word (8 independent accumulators so the adds
// overlap and the loop waits only on memory).
func plainSum(w []uint64) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	i := 0
	for ; i+8 <= len(w); i += 8 {
		a := w[i : i+8 : i+8]
		s0 += a[0]
		s1 += a[1]
		s2 += a[2]
		s3 += a[3]
		s4 += a[4]
		s5 += a[5]
		s6 += a[6]
		s7 += a[7]
	}
	for ; i < len(w); i++ {
		s0 += w[i]
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}

// boundNs measures the fastest of three single-goroutine passes over x's
// storage, in nanoseconds.
func boundNs(x *Index) float64 {
	w := streamWords(x)
	best := time.Duration(1 << 62)
	for range 3 {
		t0 := time.Now()
		sumSink += plainSum(w)
		best = min(best, time.Since(t0))
	}
	return float64(best.Nanoseconds())
}

func report(b *testing.B, x *Index, queries int) {
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(queries)/per, "q/s")
	b.ReportMetric(float64(x.Bytes())*float64(queries)/per/1e9, "GB/s")
}

// BenchmarkStreamSum is the memory-bandwidth bound: one pass over the
// float32 gallery with a plain sum, on one goroutine.
func BenchmarkStreamSum(b *testing.B) {
	x := benchIndex(b, benchN(), false)
	w := streamWords(x)
	b.SetBytes(int64(8 * len(w)))
	b.ReportAllocs()
	for b.Loop() {
		sumSink += plainSum(w)
	}
	report(b, x, 1)
}

// BenchmarkSearch: one query, k = 10, float32 and int8, on one goroutine
// and on all cores.
func BenchmarkSearch(b *testing.B) {
	n := benchN()
	q := benchQueries(1)[0]
	for _, mode := range []struct {
		name  string
		quant bool
	}{{"float32", false}, {"int8", true}} {
		for _, w := range []struct {
			name    string
			workers int
		}{{"1goroutine", 1}, {"allcores", 0}} {
			b.Run(fmt.Sprintf("%s/%s/n=%d", mode.name, w.name, n), func(b *testing.B) {
				x := benchIndex(b, n, mode.quant)
				bound := boundNs(benchIndex(b, n, false)) // the float32 gallery pass
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := x.SearchWorkers(ctx, q, 10, w.workers); err != nil {
						b.Fatal(err)
					}
				}
				report(b, x, 1)
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/bound, "x-bound")
			})
		}
	}
}

// BenchmarkSearchBatch compares 64 queries as one SearchBatch (blocked
// matrix product, gallery streamed once) with 64 single searches, both on
// one goroutine and with all cores; q/s counts queries.
func BenchmarkSearchBatch(b *testing.B) {
	n := benchN()
	if !testing.Short() && n > 1<<18 {
		n = 1 << 18 // 64 single searches over 1 M would take seconds per op
	}
	qs := benchQueries(64)
	ctx := context.Background()
	x := benchIndex(b, n, false)
	b.Run(fmt.Sprintf("batch64/n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := x.SearchBatch(ctx, qs, 10); err != nil {
				b.Fatal(err)
			}
		}
		report(b, x, len(qs))
	})
	b.Run(fmt.Sprintf("single64/n=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, q := range qs {
				if _, err := x.SearchContext(ctx, q, 10); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, x, len(qs))
	})
}

// BenchmarkIdentify is the reference IdentityServer end to end (liveness
// off, top-2 search, record opened) on a 10 K gallery.
func BenchmarkIdentify(b *testing.B) {
	srv, _, embs := population(b, ServerConfig{}, 10_000, 1)
	ctx := context.Background()
	s := Sample{Embedding: embs[42]}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Identify(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPay is one Processor.Pay over the in-memory issuer.
func BenchmarkPay(b *testing.B) {
	r := newRig(b, ProcessorConfig{MaxTransactions: 1024}, IssuerConfig{})
	_ = r.issuer.Open("tok-003-1003", eur(1<<50))
	ctx := context.Background()
	s := Sample{Embedding: r.embs[3]}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := r.p.Pay(ctx, s, tx(fmt.Sprint(i), 1)); err != nil {
			b.Fatal(err)
		}
	}
}

package risk_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// scaleFixture returns a store whose terminal "T1" learned a profile of n
// neighbours, and an n-ID scan of the same place (85 % known, 15 % unknown).
func scaleFixture(b *testing.B, n int) (*risk.MemoryStore, risk.NeighborObservation) {
	b.Helper()
	s := newShop(3, n)
	st := risk.NewMemoryStore()
	sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{Learn: risk.LearnConfig{MaxNeighbors: risk.MaxProfileNeighbors}}), st)
	if err != nil {
		b.Fatal(err)
	}
	at := s.base
	for i := range 8 {
		at = s.base.Add(time.Duration(i) * time.Hour)
		if err := sc.Learn(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: at, Seen: s.scan(1, 3, 0)}); err != nil {
			b.Fatal(err)
		}
	}
	known := n - n*15/100
	seen := append(s.scan(1, 3, 0)[:known], elsewhere(s.rng, n-known)...)
	return st, risk.NeighborObservation{TerminalID: "T1", At: at, Seen: seen}
}

// BenchmarkNeighborScoreIDs measures Score as the scan and profile grow
// (issue 23 point 3): ns/op divided by the size should stay flat, and
// allocations at most one (the Reasons slice).
func BenchmarkNeighborScoreIDs(b *testing.B) {
	for _, n := range []int{40, 64, 65, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			st, obs := scaleFixture(b, n)
			sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				sig, err := sc.Score(ctx, obs)
				if err != nil {
					b.Fatal(err)
				}
				sink = sig.Confidence
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/id")
		})
	}
}

// BenchmarkLearnedProfileBytes reports the heap held per learned
// 40-neighbour profile in a MemoryStore (issue 23 point 2), over 2 000
// terminals each learned 20 times.
func BenchmarkLearnedProfileBytes(b *testing.B) {
	const terminals = 2000
	s := newShop(4, 40)
	scans := make([][]risk.Neighbor, 20)
	for i := range scans {
		scans[i] = s.scan(1, 3, 0)
	}
	ctx := context.Background()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st := risk.NewMemoryStore()
		sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if err != nil {
			b.Fatal(err)
		}
		for t := range terminals {
			id := fmt.Sprintf("T%05d", t)
			for i, seen := range scans {
				if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: id, At: s.base.Add(time.Duration(i) * time.Hour), Seen: seen}); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if st.Len() != terminals {
			b.Fatal(st.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/terminals, "B/profile")
		runtime.KeepAlive(st)
	}
}

package risk_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
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

// variants returns 64 copies of obs whose first reading differs by a
// hundredth of a dB each, so that a benchmark scores fresh scans rather
// than replays (the replay window is 16).
func variants(obs risk.NeighborObservation) []risk.NeighborObservation {
	out := make([]risk.NeighborObservation, 64)
	for i := range out {
		out[i] = obs
		out[i].Seen = slices.Clone(obs.Seen)
		out[i].Seen[0].RSSI = max(risk.MinRSSI, obs.Seen[0].RSSI-float64(i)/100)
	}
	return out
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
			vs := variants(obs)
			i := 0
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				i++
				sig, err := sc.Score(ctx, vs[i%len(vs)])
				if err != nil {
					b.Fatal(err)
				}
				sink = sig.Confidence
			}
			// CPU time, not wall time: the process's CPU per operation is
			// what grows with the work, whatever else the machine runs.
			cpu := float64(cpuTime()-cpu0) / float64(b.N)
			b.ReportMetric(cpu, "cpu-ns/op")
			b.ReportMetric(cpu/float64(n), "cpu-ns/id")
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

package geo

import (
	"math"
	"testing"
)

// denseGrid returns a dense set of points in [0, max]: every 0.05 up to
// 20, then geometrically spaced by 2 % up to max, plus the values just
// around the window and shortcut edges.
func denseGrid(max float64) []float64 {
	var g []float64
	for x := 0.0; x <= 20; x += 0.05 {
		g = append(g, x)
	}
	for x := 20.0; x <= max; x *= 1.02 {
		g = append(g, x)
	}
	return append(g, 1e-9, 1e-6, 3.75, 8.999999, 9, 9.000001, 16, 17)
}

// TestLogRiceCDFMatchesReference: the recurrence form of logRiceCDF equals
// the node-by-node reference (the implementation before issue 23) within
// 1e-6 in ln P — so P itself within 1e-6 relative, and ProbWithin within
// 1e-6 absolute — on a dense (u, v) grid of 4.3·10⁵ points (u, v up to
// 3000σ), including the underflow region far outside the disc.
func TestLogRiceCDFMatchesReference(t *testing.T) {
	us := denseGrid(3000)
	vs := denseGrid(3000)
	step := 1
	switch {
	case testing.Short():
		step = 7
	case raceEnabled:
		step = 3
	}
	worst, n := 0.0, 0
	var wu, wv float64
	for i := 0; i < len(us); i += step {
		for j := 0; j < len(vs); j += step {
			u, v := us[i], vs[j]
			if v == 0 {
				continue
			}
			got, want := logRiceCDF(u, v), logRiceCDFRef(u, v)
			n++
			if math.IsInf(want, -1) || math.IsInf(got, -1) {
				if got != want {
					t.Fatalf("u=%v v=%v: %v, reference %v", u, v, got, want)
				}
				continue
			}
			if d := math.Abs(got - want); d > worst || math.IsNaN(d) {
				worst, wu, wv = d, u, v
				if !(d <= 1e-6) {
					t.Fatalf("u=%v v=%v: ln P %v, reference %v (|Δ| %v)", u, v, got, want, d)
				}
			}
		}
	}
	t.Logf("%d points, largest |Δ ln P| %.3g at u=%v v=%v", n, worst, wu, wv)
}

// TestFixLogOddsMatchesReference: the monitor's per-fix calibration is
// unchanged within 1e-6 over distances, accuracies, radii and moved
// scales.
func TestFixLogOddsMatchesReference(t *testing.T) {
	thin := 1
	switch {
	case testing.Short():
		thin = 7
	case raceEnabled:
		thin = 3
	}
	worst := 0.0
	n := 0
	for _, acc := range []float64{1, 20, 50, 150, 300, 777, 1200, 3000, 9000, 35000, 2e6} {
		for _, r := range []float64{0, 1e-3, 10, 50, 200, 300, 1000, 5000, 20000} {
			for _, moved := range []float64{100, 1000, 10000, 50000} {
				for d := 0.0; d <= 300000; d += math.Max(float64(thin), float64(thin)*d/100) {
					got, want := fixLogOdds(d, acc, r, moved), fixLogOddsRef(d, acc, r, moved)
					n++
					if dd := math.Abs(got - want); !(dd <= 1e-6) {
						t.Fatalf("d=%v acc=%v r=%v moved=%v: %v, reference %v", d, acc, r, moved, got, want)
					} else if dd > worst {
						worst = dd
					}
				}
			}
		}
	}
	t.Logf("%d points, largest |Δ| %.3g", n, worst)
}

// BenchmarkFixLogOddsRef is BenchmarkFixLogOdds on the reference
// quadrature, the baseline of issue 23 point 5 measured in the same run.
func BenchmarkFixLogOddsRef(b *testing.B) {
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	for b.Loop() {
		sink += fixLogOddsRef(3200, 3000, 200, 10000)
	}
}

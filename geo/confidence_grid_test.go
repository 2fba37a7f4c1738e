package geo

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

// TestLogRiceCDFAdversarial: logRiceCDF equals the reference quadrature
// within 1e-6 in ln P where the reference is hardest to reproduce — a fix
// near the edge of the disc (|u − v| small; the reference's Simpson error
// reaches 4e-6 there, and its window edges move with u and v) — for discs
// of 0.5σ to 60σ and fixes from the centre to 6σ outside (u from 0 to
// v + 6), every 0.01σ within 2σ of the edge and every 0.1σ elsewhere.
// -short and -race thin the disc sizes sevenfold.
func TestLogRiceCDFAdversarial(t *testing.T) {
	dv := 0.1
	if testing.Short() || raceEnabled {
		dv = 0.7
	}
	worst, n := 0.0, 0
	var wu, wv float64
	for v := 0.5; v <= 60; v += dv {
		for w := -6.0; w <= v; { // w = v − u: u from v + 6 down to 0
			u := v - w
			got, want := logRiceCDF(u, v), logRiceCDFRef(u, v)
			n++
			if d := math.Abs(got - want); !(d <= worst) {
				worst, wu, wv = d, u, v
				if !(d <= 1e-6) {
					t.Fatalf("u=%v v=%v: ln P %v, reference %v (|Δ| %v)", u, v, got, want, d)
				}
			}
			if math.Abs(w) < 2 {
				w += 0.01
			} else {
				w += 0.1
			}
		}
	}
	t.Logf("%d points, largest |Δ ln P| %.3g at u=%v v=%v", n, worst, wu, wv)
}

// TestFixLogOddsAdversarial: the per-fix log-odds equal the reference
// within 1e-6 over sites of 20 m to 20 km, σ from 1 % to 3× the radius,
// fixes from the centre to 6 radii out (finely near the edge), and moved
// scales of 1, 10 and 50 km.
func TestFixLogOddsAdversarial(t *testing.T) {
	dd := 0.005
	if testing.Short() || raceEnabled {
		dd = 0.035
	}
	worst, n := 0.0, 0
	var at string
	for _, r := range []float64{20, 200, 1000, 5000, 20000} {
		for _, sr := range []float64{0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5, 3} {
			acc := sr * r * Sigma95
			for _, moved := range []float64{1000, 10000, 50000} {
				for x := 0.0; x <= 6; x += dd {
					d := x * r
					got, want := fixLogOdds(d, acc, r, moved), fixLogOddsRef(d, acc, r, moved)
					n++
					if dl := math.Abs(got - want); !(dl <= worst) {
						worst, at = dl, fmt.Sprintf("d=%v acc=%v r=%v moved=%v", d, acc, r, moved)
						if !(dl <= 1e-6) {
							t.Fatalf("%s: %v, reference %v", at, got, want)
						}
					}
				}
			}
		}
	}
	t.Logf("%d points, largest |Δ| %.3g at %s", n, worst, at)
}

// BenchmarkFixLogOddsGrid times fixLogOdds over a grid of σ/radius and
// distance/radius for a 5 km site (moved scale 10 km); the slowest case
// bounds Monitor.Check's calibration cost (issue 23 point 5).
func BenchmarkFixLogOddsGrid(b *testing.B) {
	const r, moved = 5000.0, 10000.0
	for _, sr := range []float64{0.05, 0.1, 0.2, 0.4, 0.8, 1.6} {
		for _, dr := range []float64{0, 0.5, 0.9, 1, 1.1, 1.5, 2, 3, 5} {
			acc, d := sr*r*Sigma95, dr*r
			b.Run(fmt.Sprintf("sigma=%.2fr/d=%.1fr", sr, dr), func(b *testing.B) {
				defer reportThreadCPU(b)()
				b.ReportAllocs()
				for b.Loop() {
					sink += fixLogOdds(d, acc, r, moved)
				}
			})
		}
	}
}

// BenchmarkMonitorCheckSlow: Monitor.Check, with the world's cell table
// locating the fix, at the geometry of BenchmarkFixLogOddsSlow (the
// slowest before issue 23 point 5, both discs on 128-interval
// quadratures): the site and the moved scale are placed so that the fix
// is 2.48 accuracies from the centre of a site of 0.92 accuracies, with a
// moved scale of 1.84 accuracies.
func BenchmarkMonitorCheckSlow(b *testing.B) {
	w := newMonitorWorld(b)
	edge := nearestCells(w.gsm, dest(w.site.Location, 75, 3000), 2)
	ctx := context.Background()
	pos, err := w.db.Locate(ctx, edge)
	if err != nil {
		b.Fatal(err)
	}
	acc := pos.AccuracyM
	w.site = Site{Location: dest(pos.LatLng, 40, 13436/5428.0*acc), RadiusM: 5000 / 5428.0 * acc}
	var at time.Time
	m, _ := w.monitor(b, MonitorConfig{MovedRadiusM: 10000 / 5428.0 * acc, Now: func() time.Time { return at }})
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = w.t0.Add(time.Duration(i) * time.Minute)
		if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: edge}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

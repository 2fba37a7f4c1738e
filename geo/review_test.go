package geo

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestFixLogOddsHugeAccuracy: a fix whose 95 % radius dwarfs both discs
// says nothing about them (log-odds 0), however large the radius — up to
// the largest float64. σ² overflowed above ~1e154 m, the two normal
// densities became −Inf − (−Inf) = NaN, and NaN was read as "certainly
// moved" (−MaxFixLogOdds): an honest merchant accused by a useless fix.
func TestFixLogOddsHugeAccuracy(t *testing.T) {
	for _, acc := range []float64{1e20, 1e100, 1e154, 1e155, 1e200, 1e300, math.MaxFloat64} {
		for _, d := range []float64{0, 150, 5e6, 2e7} {
			if l := fixLogOdds(d, acc, 100, 10000); !(math.Abs(l) <= 1e-9) {
				t.Errorf("fixLogOdds(d=%v, acc=%v) = %v, want 0", d, acc, l)
			}
		}
	}
	var sites MemorySiteStore
	ctx := context.Background()
	if err := sites.Put(ctx, "m1", Site{Location: berlin, RadiusM: 100}); err != nil {
		t.Fatal(err)
	}
	m, err := NewMonitor(brokenLocator(Position{LatLng: berlin, AccuracyM: 1e300}), &sites, MonitorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: time.Unix(1, 0),
		Cells: []CellObservation{{CellID: CellID{LTE, 262, 1, 1, 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v.Confidence-0.5) > 1e-9 || v.Outside {
		t.Errorf("fix at the site ±1e300 m: confidence %v outside %v, want 0.5 and not outside", v.Confidence, v.Outside)
	}
}

package biometric

import (
	"errors"
	"math"
	"testing"
)

// TestCalibrateByHand checks Calibrate, Evaluate and At on score sets small
// enough to work out on paper, with the NIST FRTE 1:N definitions (NIST IR
// 8271): FNIR(T) = mated searches below T / mated searches; FPIR(T) =
// non-mated searches with a candidate at or above T / non-mated searches,
// here from one-to-one impostor scores as 1 − (1 − FMR(T))^N for a gallery
// of N.
func TestCalibrateByHand(t *testing.T) {
	non := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
	mated := []float64{0.3, 0.5, 0.7, 0.9}
	ev, err := Evaluate(mated, non, 10)
	if err != nil {
		t.Fatal(err)
	}
	const eps = 1e-12
	for _, c := range []struct{ t, fnir, fpir float64 }{
		{0.6, 0.5, 1 - math.Pow(0.5, 10)},    // 0.6…1.0: FMR 5/10
		{0.95, 1, 1 - math.Pow(0.9, 10)},     // only 1.0: FMR 1/10 → 0.6513215599
		{0.85, 0.75, 1 - math.Pow(0.8, 10)},  // 0.9, 1.0 → 0.8926258176
		{1.01, 1, 0},                         // above everything
		{0.3, 0, 1 - math.Pow(1-8.0/10, 10)}, // a mated score at T is not a miss
	} {
		if got := ev.FNIR(c.t); math.Abs(got-c.fnir) > eps {
			t.Errorf("FNIR(%v) = %v, want %v", c.t, got, c.fnir)
		}
		if got := ev.FPIR(c.t); math.Abs(got-c.fpir) > eps {
			t.Errorf("FPIR(%v) = %v, want %v", c.t, got, c.fpir)
		}
	}
	// The gallery size matters: the same scores at N = 1 give FPIR = FMR.
	ev1, _ := Evaluate(mated, non, 1)
	if got := ev1.FPIR(0.85); math.Abs(got-0.2) > eps {
		t.Errorf("N=1 FPIR(0.85) = %v, want 0.2", got)
	}

	// Calibrate picks the lowest threshold whose FPIR is at most the
	// target. FPIR 1−0.8^10 allows two impostors of ten: just above 0.8.
	th, err := Calibrate(nil, non, 1-math.Pow(0.8, 10), 10)
	if err != nil || th != math.Nextafter(0.8, 2) {
		t.Errorf("Calibrate(FPIR 1−0.8^10, N=10) = %v, %v; want just above 0.8", th, err)
	}
	// At(FPIR(T)) comes back to the operating point FPIR(T) was read at,
	// for every threshold between the scores and every gallery size.
	for _, n := range []int{1, 2, 10, 1000} {
		e, _ := Evaluate(mated, non, n)
		for k := 1; k < len(non); k++ {
			tk := non[len(non)-k] - 0.05 // k impostor scores at or above
			if e.FPIR(tk) >= 1 {
				continue // saturated: no target in (0, 1) names it
			}
			p, err := e.At(e.FPIR(tk))
			if err != nil || e.FPIR(p.Threshold) != e.FPIR(tk) || p.Threshold > tk {
				t.Errorf("N=%d, %d impostors: At(FPIR(%v) = %v) = %+v, %v", n, k, tk, e.FPIR(tk), p, err)
			}
		}
	}
	// One impostor in 49 is resolvable with 49 scores.
	non49 := make([]float64, 49)
	for i := range non49 {
		non49[i] = float64(i+1) / 100
	}
	if th, err := Calibrate(nil, non49, 1.0/49, 1); err != nil || th != math.Nextafter(0.48, 1) {
		t.Errorf("Calibrate(1/49 of 49) = %v, %v; want just above 0.48", th, err)
	}
	// Ties: three impostors at 0.5 and a budget of two cannot split the
	// tie, so the threshold rises above all three (FPIR 0 ≤ 0.5).
	th, err = Calibrate(nil, []float64{0.5, 0.5, 0.5, 0.2}, 0.5, 1)
	if err != nil || th != math.Nextafter(0.5, 1) {
		t.Errorf("ties: %v, %v", th, err)
	}
	// Fewer scores than the target needs: an error, not a guess.
	if _, err := Calibrate(nil, non, 0.05, 1); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("0.05 of 10: %v", err)
	}
}

package biometric

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestCalibrateEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	mated := make([]float64, 2000)
	for i := range mated {
		mated[i] = 0.7 + 0.1*r.NormFloat64()
	}
	non := make([]float64, 200000)
	for i := range non {
		non[i] = 0.1 * r.NormFloat64()
	}
	// Gallery of 1: the threshold puts 1 % of impostor scores above it.
	th, err := Calibrate(mated, non, 0.01, 1)
	if err != nil {
		t.Fatal(err)
	}
	above := 0
	for _, s := range non {
		if s >= th {
			above++
		}
	}
	if above > 2000 || above < 1990 {
		t.Errorf("threshold %v lets %d of 200000 through, want ≈ 2000", th, above)
	}
	// Larger galleries need higher thresholds (false positives grow with N).
	th100, err := Calibrate(nil, non, 0.01, 100)
	if err != nil {
		t.Fatal(err)
	}
	if th100 <= th {
		t.Errorf("threshold for N=100 %v not above N=1 %v", th100, th)
	}
	// The Gaussian tail: FMR at th100 ≈ 1-(0.99)^(1/100) ≈ 1.005e-4 → z ≈ 3.72 σ.
	if math.Abs(th100-0.372) > 0.02 {
		t.Errorf("threshold %v, want ≈ 0.372", th100)
	}
	ev, err := Evaluate(mated, non, 100)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ev.At(0.01)
	if err != nil {
		t.Fatal(err)
	}
	if p.Threshold != th100 || p.FPIR > 0.01 || p.FPIR < 0.009 {
		t.Errorf("At(0.01) = %+v (threshold from Calibrate %v)", p, th100)
	}
	// FNIR at ≈0.372: P(N(0.7, 0.1) < 0.372) ≈ Φ(-3.28) ≈ 5e-4.
	if p.FNIR > 0.003 {
		t.Errorf("FNIR %v", p.FNIR)
	}
	// DET is monotone.
	if len(ev.DET) < 100 || len(ev.DET) > MaxDETPoints {
		t.Errorf("%d DET points", len(ev.DET))
	}
	for i := 1; i < len(ev.DET); i++ {
		a, b := ev.DET[i-1], ev.DET[i]
		if b.Threshold <= a.Threshold || b.FPIR > a.FPIR || b.FNIR < a.FNIR {
			t.Fatalf("DET not monotone at %d: %+v %+v", i, a, b)
		}
	}
	// Bad input.
	for name, err := range map[string]error{
		"too few":   func() error { _, err := Calibrate(nil, non[:100], 0.001, 1000); return err }(),
		"nan":       func() error { _, err := Calibrate(nil, []float64{math.NaN()}, 0.1, 1); return err }(),
		"empty":     func() error { _, err := Evaluate(nil, non, 1); return err }(),
		"target":    func() error { _, err := Calibrate(nil, non, 0, 1); return err }(),
		"target hi": func() error { _, err := ev.At(1); return err }(),
		"gallery":   func() error { _, err := Evaluate(mated, non, -1); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Calibrate(nil, non[:100], 0.001, 1000); !errors.Is(err, ErrInsufficientData) {
		t.Errorf("too few: %v", err)
	}
	if th, err := Calibrate(nil, []float64{0.1, 0.2}, 0.99, 0); err != nil || th != math.Nextafter(0.1, 1) {
		t.Errorf("one of two allowed: %v %v", th, err)
	}
}

package detmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExpMatchesMath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(x float64) {
		got, want := Exp(x), math.Exp(x)
		if want == 0 || math.IsInf(want, 0) {
			if got != want && !(want == 0 && got < 1e-300) {
				t.Fatalf("Exp(%v) = %v, want %v", x, got, want)
			}
			return
		}
		if rel := math.Abs(got-want) / want; rel > 4e-16 {
			t.Fatalf("Exp(%v) = %v, want %v (rel %.2g)", x, got, want, rel)
		}
	}
	for range 100000 {
		check((r.Float64()*2 - 1) * 700)
		check((r.Float64()*2 - 1) * 5)
	}
	for _, x := range []float64{0, 1, -1, 1e-300, -1e-300, 700, -745, -744, 710, -746, math.Inf(1), math.Inf(-1)} {
		check(x)
	}
	// Near the overflow threshold (amd64's math.Exp already returns +Inf
	// there, so compare with a product of two exponentials).
	if got, want := Exp(709.7), math.Exp(354.85)*math.Exp(354.85); math.Abs(got-want)/want > 1e-15 {
		t.Fatalf("Exp(709.7) = %v, want %v", got, want)
	}
	if !math.IsNaN(Exp(math.NaN())) {
		t.Fatal("Exp(NaN) not NaN")
	}
	if Exp(0) != 1 {
		t.Fatal("Exp(0) != 1")
	}
}

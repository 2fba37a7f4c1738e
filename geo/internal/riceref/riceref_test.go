package riceref

import (
	"math"
	"testing"
)

// TestScaledFormsMatchReference: the scaled forms the tables are built
// from (A1, A2, B1, B2) equal LogCDF where both are defined — the same
// Simpson nodes in other variables — within rounding.
func TestScaledFormsMatchReference(t *testing.T) {
	worst := 0.0
	check := func(what string, u, v, got float64) {
		t.Helper()
		want := LogCDF(u, v)
		d := math.Abs(got - want)
		if !(d <= 1e-10*math.Max(1, math.Abs(want))) {
			t.Errorf("%s u=%v v=%v: %v, reference %v", what, u, v, got, want)
		}
		worst = math.Max(worst, d/math.Max(1, math.Abs(want)))
	}
	for _, w := range []float64{WMin, -0.7, -0.3, 0, 0.01, 0.5, 1, 2.5, 4, WMax} {
		for _, u := range []float64{0, 0.3, 1, 2.2, 5, 13, 16, 17.5, 23.9} {
			if v := u + w; v > 0 {
				check("A2", u, v, A2(u, w)+2*math.Log(v))
			}
		}
		for _, u := range []float64{24, 30, 100, 1000} {
			check("A1z", u, u+w, A1z(w, UA/u))
		}
	}
	for _, g := range []float64{1.0001, 1.5, 3, 7, 20, 100, 1000} {
		p := 1 / g
		for _, c := range []float64{16, 16.5, 20, 40, 100, 1e3, 1e5} {
			v := c / g
			u := v + g
			check("B1", u, v, B1(p, CB/c)-g*g/2-math.Log(g)+math.Log(v/u)/2+math.Log(AS982(3.75/(u*(v-1/g)))))
		}
		for _, c := range []float64{1e-3, 0.1, 1, 3.75, 5, 10, 15.9, 16} {
			v := c / g
			u := v + g
			check("B2", u, v, B2(c, math.Log1p(c*p*p))-g*g/2+2*math.Log(v))
		}
	}
	t.Logf("largest relative difference %.3g", worst)
}

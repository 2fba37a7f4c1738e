// Package detmath holds elementary functions whose results do not depend on
// the CPU's features. The standard library's math.Exp uses fused
// multiply-adds on amd64 CPUs that have them and not on those that do not,
// which changes results in the last bit; the default model's training and
// the simulator use Exp from here so that the model is reproducible bit for
// bit on every amd64 machine.
package detmath

import "math"

// Exp returns e**x to within about 1 ulp, computed with plain multiplies and
// adds only: Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, and the Taylor
// polynomial of e**r to degree 13 (truncation error < 1e-17).
func Exp(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // as in fdlibm's e_exp.c
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
	)
	switch {
	case math.IsNaN(x) || x > 709.782712893384:
		if x > 0 {
			return math.Inf(1)
		}
		return x
	case x < -745.1332191019412:
		return 0
	}
	k := math.Round(x * log2e)
	r := (x - k*ln2Hi) - k*ln2Lo
	// Horner: Σ r^i / i!, i = 0…13.
	p := 1.0 / 6227020800
	for _, c := range [...]float64{1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = float64(p*r) + c // the conversion forbids fusing (Go spec, "Floating-point operators")
	}
	return math.Ldexp(p, int(k))
}

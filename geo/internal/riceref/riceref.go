package riceref

import "math"

// I0e returns e^{−x}·I₀(x) for x ≥ 0 from Abramowitz & Stegun, Handbook of
// Mathematical Functions, 9.8.1 (|x| ≤ 3.75, error < 1.6e-7) and 9.8.2
// (x ≥ 3.75, relative error < 1.9e-7).
func I0e(x float64) float64 {
	if x <= 3.75 {
		t := x / 3.75
		t *= t
		return i0Small(t) * math.Exp(-x)
	}
	return AS982(3.75/x) / math.Sqrt(x)
}

// i0Small is A&S 9.8.1: I₀(x) with t = (x/3.75)².
func i0Small(t float64) float64 {
	return 1 + t*(3.5156229+t*(3.0899424+t*(1.2067492+t*(0.2659732+t*(0.0360768+t*0.0045813)))))
}

// AS982 is the polynomial of A&S 9.8.2: √x·e^{−x}·I₀(x) ≈ AS982(3.75/x)
// for x ≥ 3.75.
func AS982(t float64) float64 {
	return 0.39894228 + t*(0.01328592+t*(0.00225319+t*(-0.00157565+t*(0.00916281+
		t*(-0.02057706+t*(0.02635537+t*(-0.01647633+t*0.00392377)))))))
}

// sqrtXI0e returns √x·e^{−x}·I₀(x) as I0e evaluates it, for x ≥ 0; +Inf
// stands for x → ∞ (AS982(0)).
func sqrtXI0e(x float64) float64 {
	if x <= 3.75 {
		return math.Sqrt(x) * I0e(x)
	}
	return AS982(3.75 / x)
}

// N is the number of Simpson intervals of the reference.
const N = 128

// simpson returns the composite Simpson sum on N intervals of f over
// [lo, hi].
func simpson(lo, hi float64, f func(float64) float64) float64 {
	step := (hi - lo) / N
	sum := f(lo) + f(hi)
	for i := 1; i < N; i++ {
		w := 2.0
		if i&1 == 1 {
			w = 4
		}
		sum += w * f(lo+float64(i)*step)
	}
	return sum * step / 3
}

// LogCDF returns ln P(|X| ≤ v) for X a 2-D normal with unit variance per
// axis whose mean is u from the origin (u ≥ 0, v > 0), as package geo
// computed it before issue 23: the integrand t·exp(−(t−u)²/2)·I₀(tu),
// scaled by its largest Gaussian factor within [0, v], integrated by
// Simpson's rule on 128 intervals over the window where it is above
// ~e^{−16} of its peak (16σ either side inside the disc, 16/gap outside
// it), and 0 for v − u > 9.
func LogCDF(u, v float64) float64 {
	if v-u > 9 {
		return 0
	}
	return logCDF(u, v)
}

// logCDF is LogCDF without the shortcut for v − u > 9, so that tables
// whose last row is w = 9 hold the smooth function there, not a 0 where
// (u + 9) − u rounds above 9.
func logCDF(u, v float64) float64 {
	peak := math.Min(u, v)
	e0 := -(peak - u) * (peak - u) / 2
	gap := u - peak
	h := 16.0
	if gap > 1 {
		h = 16 / gap
	}
	lo, hi := math.Max(0, peak-h), math.Min(v, peak+h)
	if !(hi > lo) {
		return math.Inf(-1)
	}
	sum := simpson(lo, hi, func(t float64) float64 {
		return t * math.Exp(-(t-u)*(t-u)/2-e0) * I0e(t*u)
	})
	if sum <= 0 {
		return math.Inf(-1)
	}
	return e0 + math.Log(sum)
}

package geo

import "math"

// Sigma95 is the ratio between the 95 % radius of a circular 2-D normal
// error and its per-axis standard deviation σ: the radial error is
// Rayleigh-distributed, P(r ≤ ρ) = 1 − exp(−ρ²/2σ²), so the 95 % radius is
// σ·√(−2 ln 0.05) ≈ 2.4477σ.
const Sigma95 = 2.4477468306808166

// MaxFixLogOdds bounds the log-odds one fix may contribute to a terminal's
// confidence (ln 999: no single fix is worth more than 999 : 1). Cell
// fixes fail in ways no Gaussian models — mislocated cells in the
// database, spoofed cell identities — so a fix ten σ away is not e⁵⁰
// times more telling than one five σ away.
const MaxFixLogOdds = 6.906754778648554

// ProbWithin returns the probability that a terminal lies within radiusM of
// a centre when its fix is distanceM from that centre with a 95 % radius of
// accuracyM.
//
// The fix error is modelled as a circular 2-D normal with
// σ = accuracyM / Sigma95, so the terminal's true distance from the centre
// is Rice-distributed and the probability is the Rice CDF
// 1 − Q₁(distanceM/σ, radiusM/σ), with Q₁ Marcum's Q-function (J. I. Marcum,
// "A statistical theory of target detection by pulsed radar", IRE Trans.
// IT-6, 1960; S. O. Rice, Bell Syst. Tech. J. 23, 1944). It is evaluated by
// Simpson quadrature of the Rice density with an exponentially scaled I₀
// (Abramowitz & Stegun 9.8.1–9.8.2), to about 1e-6 absolute.
//
// Special cases: radiusM ≤ 0 gives 0; accuracyM ≤ 0 gives 1 when
// distanceM ≤ radiusM and 0 otherwise; NaN arguments give NaN.
// Negative distances are taken as their absolute value.
func ProbWithin(distanceM, radiusM, accuracyM float64) float64 {
	if math.IsNaN(distanceM) || math.IsNaN(radiusM) || math.IsNaN(accuracyM) {
		return math.NaN()
	}
	d := math.Abs(distanceM)
	switch {
	case radiusM <= 0:
		return 0
	case accuracyM <= 0 || math.IsInf(accuracyM, 1):
		if accuracyM <= 0 {
			if d <= radiusM {
				return 1
			}
			return 0
		}
		return 0 // an infinitely coarse fix puts no mass in a finite disc
	case math.IsInf(radiusM, 1):
		return 1
	}
	return math.Min(1, math.Exp(logRiceCDF(d/(accuracyM/Sigma95), radiusM/(accuracyM/Sigma95))))
}

// logRiceCDF returns ln P(|X| ≤ v) for X a 2-D normal with unit variance
// per axis whose mean is u from the origin (u ≥ 0, v > 0, both finite):
// ln ∫₀ᵛ t·exp(−(t² + u²)/2)·I₀(tu) dt.
//
// The integrand is written as t·exp(−(t−u)²/2)·I0e(tu) (I0e = e^{−x}I₀(x))
// and scaled by its largest Gaussian factor inside [0, v], so the logarithm
// stays finite even when the probability underflows (a fix thousands of σ
// outside the disc). Only the window where the integrand is above ~e^{-16}
// of its peak is integrated.
func logRiceCDF(u, v float64) float64 {
	if v-u > 9 {
		// Q₁(u, v) ≤ exp(−(v−u)²/2) < 3e-18 for v > u (Simon & Alouini,
		// Digital Communication over Fading Channels, 2nd ed., §4.2), below
		// half an ulp of 1: the disc holds all the mass in float64.
		return 0
	}
	peak := math.Min(u, v) // the Gaussian factor is largest here within [0, v]
	e0 := -(peak - u) * (peak - u) / 2
	gap := u - peak // > 0 only when the fix lies outside the disc
	h := 16.0       // half-width in σ of the window that carries the mass
	if gap > 1 {
		h = 16 / gap // beyond the disc the integrand decays like e^{−gap·(v−t)}
	}
	lo, hi := math.Max(0, peak-h), math.Min(v, peak+h)
	if !(hi > lo) {
		return math.Inf(-1)
	}
	f := func(t float64) float64 {
		return t * math.Exp(-(t-u)*(t-u)/2-e0) * i0e(t*u)
	}
	const n = 128 // even; the window is at most 32σ wide, so the step is ≤ 0.25σ
	step := (hi - lo) / n
	sum := f(lo) + f(hi)
	for i := 1; i < n; i++ {
		w := 2.0
		if i&1 == 1 {
			w = 4
		}
		sum += w * f(lo+float64(i)*step)
	}
	sum *= step / 3
	if sum <= 0 {
		return math.Inf(-1)
	}
	return e0 + math.Log(sum)
}

// i0e returns e^{−x}·I₀(x) for x ≥ 0, the exponentially scaled modified
// Bessel function of the first kind of order zero, from the polynomial
// approximations of Abramowitz & Stegun, Handbook of Mathematical
// Functions, 9.8.1 (|x| ≤ 3.75, error < 1.6e-7) and 9.8.2 (x ≥ 3.75,
// relative error < 1.9e-7).
func i0e(x float64) float64 {
	if x <= 3.75 {
		t := x / 3.75
		t *= t
		i0 := 1 + t*(3.5156229+t*(3.0899424+t*(1.2067492+t*(0.2659732+t*(0.0360768+t*0.0045813)))))
		return i0 * math.Exp(-x)
	}
	t := 3.75 / x
	p := 0.39894228 + t*(0.01328592+t*(0.00225319+t*(-0.00157565+t*(0.00916281+
		t*(-0.02057706+t*(0.02635537+t*(-0.01647633+t*0.00392377)))))))
	return p / math.Sqrt(x)
}

// logDiscLikelihood returns the log of the density of a fix at distance d
// from a centre when the terminal is uniformly distributed over the disc of
// radius r around it and the fix error is circular normal with σ:
// P(within r | fix)/(π r²). For r → 0 it tends to the normal density
// exp(−d²/2σ²)/(2πσ²), which is used for r < 1e-6σ.
func logDiscLikelihood(d, r, sigma float64) float64 {
	if r < 1e-6*sigma {
		return -d*d/(2*sigma*sigma) - math.Log(2*math.Pi*sigma*sigma)
	}
	return logRiceCDF(d/sigma, r/sigma) - math.Log(math.Pi*r*r)
}

// fixLogOdds returns the log-odds that a terminal is at its merchant's site
// rather than moved, given one fix: distance d from the site, 95 % radius
// acc, allowed radius r, and the scale movedR of the "moved" alternative.
//
// The two hypotheses, with even prior odds (the host's prior belongs in
// risk.Fuse), are
//
//	genuine: the terminal is uniformly distributed over the allowed disc (radius r);
//	moved:   it is uniformly distributed over the disc of radius r + movedR,
//
// and the fix error is circular normal with σ = acc/Sigma95 under both. The
// likelihood of the fix under a uniform disc of radius ρ is
// ProbWithin(d, ρ, acc)/(πρ²), so the log-odds are the difference of two
// logDiscLikelihood values. The result is clamped to ±MaxFixLogOdds and is
// non-increasing in d for fixed acc, r and movedR.
func fixLogOdds(d, acc, r, movedR float64) float64 {
	if !(acc > 0) || math.IsInf(acc, 0) || math.IsNaN(d) {
		return 0
	}
	sigma := acc / Sigma95
	l := logDiscLikelihood(d, r, sigma) - logDiscLikelihood(d, r+movedR, sigma)
	switch {
	case math.IsNaN(l):
		// Both likelihoods underflowed to −Inf: the fix is far outside
		// even the alternative's disc, so it is certainly not at the site.
		return -MaxFixLogOdds
	case l > MaxFixLogOdds:
		return MaxFixLogOdds
	case l < -MaxFixLogOdds:
		return -MaxFixLogOdds
	}
	return l
}

// logistic returns 1/(1+e^{−x}).
func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

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
// of its peak is integrated, by composite Simpson quadrature on 128
// intervals.
//
// See simpsonRice for how the nodes are evaluated without an exponential
// each; TestLogRiceCDFMatchesReference checks the result against the
// node-by-node evaluation before issue 23 on a dense grid. It does not
// allocate.
func logRiceCDF(u, v float64) float64 {
	if v-u > 5.5 {
		// Q₁(u, v) ≤ exp(−(v−u)²/2) < 2.7e-7 for v − u > 5.5 (Simon &
		// Alouini, Digital Communication over Fading Channels, 2nd ed.,
		// §4.2), so ln P = ln(1 − Q₁) lies within 2.7e-7 of 0: inside the
		// 1e-6 the quadrature is held to, and no node need be evaluated.
		// (A fix well inside the large "moved" disc takes this path.)
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
	// The reference rule is Simpson on 128 intervals (the window is at
	// most 32σ wide, so the step is ≤ 0.25σ). Where the integrand is
	// smooth on the scale of the window a quarter (or half) of the nodes
	// reproduce it. With S_h = I + c·h⁴ + d·h⁶ + … (Euler–Maclaurin) the
	// sums on n/4, n/2 and n intervals give a = S_n − S_{n/2} =
	// −15c·h⁴ − 63d·h⁶ and b = S_{n/2} − S_{n/4} = −240c·h⁴ − 4032d·h⁶;
	// when b/a lies within [12, 20] (the h⁴ law says 16) the h⁶ term is
	// at most 2.2 % of the h⁴ one, and Richardson's R = S_n + a/15
	// (Boole's rule) differs from S₁₂₈ by about |c·h⁴|·(n/128)⁴ + 3.2|d·h⁶|
	// ≤ 5e-9 relative as long as |a| ≤ 1e-6·S_n; with b/a within [15, 17]
	// (|d·h⁶| ≤ 0.51 % of |c·h⁴|) |a| ≤ 2e-5·S_n keeps it below 1e-7.
	// Otherwise (an integrand not yet resolved on 32 intervals, such as a
	// Gaussian bulk aliased by the coarse steps, or a steep truncation at
	// the disc's edge) the 128-interval rule runs as before.
	// The coarse rule is tried on 32 intervals when the window spans at
	// most 4 length scales of the integrand (1σ, or 1/gap outside the
	// disc), on 64 when it spans at most 10; wider windows go straight
	// to 128.
	scale := 1.0
	if gap > 1 {
		scale = 1 / gap
	}
	sum := math.NaN()
	if span := (hi - lo) / scale; span <= 10 {
		n := 64
		if span <= 4 {
			n = 32
		}
		s, s2, s4 := simpsonRice(u, e0, lo, hi, n)
		switch a, b := s-s2, s2-s4; {
		case math.Abs(a) <= 1e-12*s && math.Abs(b) <= 1e-10*s:
			sum = s // resolved at every level
		case math.Abs(a) <= 1e-6*s && b/a >= 12 && b/a <= 20,
			math.Abs(a) <= 2e-5*s && b/a >= 15 && b/a <= 17:
			sum = s + a/15
		}
	}
	if math.IsNaN(sum) {
		sum, _, _ = simpsonRice(u, e0, lo, hi, 128)
	}
	if sum <= 0 {
		return math.Inf(-1)
	}
	return e0 + math.Log(sum)
}

// simpsonRice returns the composite Simpson approximations on n, n/2 and
// n/4 intervals (n a multiple of 8, all from the same n+1 nodes) of
// ∫ t·exp(−(t−u)²/2 − e0)·I0e(tu) dt over [lo, hi].
//
// The nodes are equally spaced, so the exponentials need not be evaluated
// at each of them: with tᵢ = lo + i·h the Gaussian factor obeys
// gᵢ₊₁ = gᵢ·rᵢ, rᵢ₊₁ = rᵢ·e^{−h²} (rᵢ = e^{−(tᵢ−u)h − h²/2}), and the
// e^{−tu} of I0e's small-argument branch obeys eᵢ₊₁ = eᵢ·e^{−hu}; four
// exponentials per call replace 2(n+1). The products carry a relative
// rounding error of at most ~n ulp (~3e-14). I0e is evaluated as i0e does
// (A&S 9.8.1 times e^{−x} up to x = 3.75, 9.8.2 above).
func simpsonRice(u, e0, lo, hi float64, n int) (sN, sN2, sN4 float64) {
	step := (hi - lo) / float64(n)
	d0 := lo - u
	g := math.Exp(-d0*d0/2 - e0)          // Gaussian factor at tᵢ
	r := math.Exp(-d0*step - step*step/2) // gᵢ₊₁/gᵢ
	c := math.Exp(-step * step)           // rᵢ₊₁/rᵢ
	var e, de float64                     // e^{−tᵢu} and its ratio, while tᵢu ≤ 3.75
	if lo*u <= 3.75 {
		e, de = math.Exp(-lo*u), math.Exp(-step*u)
	}
	// Interior Simpson weights 4, 2, 4, …: on n intervals by i, on n/2 at
	// the even nodes by i/2, on n/4 at every fourth node by i/4.
	wN := [8]float64{2, 4, 2, 4, 2, 4, 2, 4}
	wN2 := [8]float64{2, 0, 4, 0, 2, 0, 4, 0}
	wN4 := [8]float64{2, 0, 0, 0, 4, 0, 0, 0}
	for i := 0; i <= n; i++ {
		t := lo + float64(i)*step
		a, b, d := wN[i&7], wN2[i&7], wN4[i&7]
		if i == 0 || i == n {
			a, b, d = 1, 1, 1
			if i == n {
				t = hi
			}
		}
		x := t * u
		var ie float64
		if x <= 3.75 {
			q := x * (1 / 3.75)
			q *= q
			ie = (1 + q*(3.5156229+q*(3.0899424+q*(1.2067492+q*(0.2659732+q*(0.0360768+q*0.0045813)))))) * e
		} else {
			s := 1 / math.Sqrt(x) // one square root and one division: 3.75/x = 3.75·s²
			q := 3.75 * s * s
			ie = (0.39894228 + q*(0.01328592+q*(0.00225319+q*(-0.00157565+q*(0.00916281+
				q*(-0.02057706+q*(0.02635537+q*(-0.01647633+q*0.00392377)))))))) * s
		}
		f := t * g * ie
		sN += a * f
		sN2 += b * f
		sN4 += d * f
		g *= r
		r *= c
		e *= de
	}
	return sN * step / 3, sN2 * 2 * step / 3, sN4 * 4 * step / 3
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
		// In units of σ, so that σ² cannot overflow for a huge (finite)
		// accuracy: −Inf − (−Inf) would make the log-odds NaN.
		z := d / sigma
		return -z*z/2 - math.Log(2*math.Pi) - 2*math.Log(sigma)
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
	if r >= 1e-6*sigma && farOutside(math.Abs(d)/sigma, r/sigma, (r+movedR)/sigma, math.Log((r+movedR)*(r+movedR)/(r*r))) {
		return -MaxFixLogOdds
	}
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

// farOutside reports whether the log-odds of a fix u σ from the centre,
// for discs of v1 < v2 σ (logAreas = ln(v2²/v1²)), are certainly below
// −MaxFixLogOdds, so that fixLogOdds clamps them and the quadratures can
// be skipped. It uses bounds, not approximations, so the clamped result is
// the one the quadratures would give:
//
//   - upper bound of P(|X| ≤ v1) for u > v1: the terminal is within v1
//     only if the fix error exceeds u − v1, and the error's length is
//     Rayleigh: P ≤ exp(−(u−v1)²/2);
//   - lower bound of P(|X| ≤ v2): for v2 > u, 1 − exp(−(v2−u)²/2) by the
//     same argument; for v2 ≥ 2, the unit disc inside the large one
//     nearest the fix, where the density is at least
//     exp(−(max(u−v2, 0)+2)²/2)/2π, gives P ≥ exp(−(max(u−v2, 0)+2)²/2)/2.
//
// A margin of 1e-3 covers the quadrature's own error.
func farOutside(u, v1, v2, logAreas float64) bool {
	if !(u > v1) {
		return false
	}
	up1 := -(u - v1) * (u - v1) / 2
	lo2 := math.Inf(-1)
	if v2 > u {
		lo2 = math.Log1p(-math.Exp(-(v2 - u) * (v2 - u) / 2))
	}
	if v2 >= 2 {
		g := math.Max(u-v2, 0) + 2
		lo2 = math.Max(lo2, -g*g/2-math.Ln2)
	}
	return up1-lo2+logAreas < -MaxFixLogOdds-1e-3
}

// logistic returns 1/(1+e^{−x}).
func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

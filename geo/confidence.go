package geo

import (
	"math"

	"github.com/payedge/payedge/geo/internal/riceref"
)

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
// IT-6, 1960; S. O. Rice, Bell Syst. Tech. J. 23, 1944). Its value is
// that of Simpson quadrature of the Rice density with an exponentially
// scaled I₀ (Abramowitz & Stegun 9.8.1–9.8.2), the calibration the
// package has always used, to within 1e-6 relative; it is read from
// precomputed tables in constant time (see logRiceCDF).
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

//go:generate go run ./internal/riceref/gen -o ricetable.go

// logRiceCDF returns ln P(|X| ≤ v) for X a 2-D normal with unit variance
// per axis whose mean is u from the origin (u ≥ 0, v > 0):
// ln ∫₀ᵛ t·exp(−(t² + u²)/2)·I₀(tu) dt as the reference quadrature
// computes it (riceref.LogCDF, the implementation before issue 23:
// Simpson's rule on 128 intervals over the window that carries the mass,
// I₀ from Abramowitz & Stegun 9.8.1–9.8.2), within 1e-6 — in constant
// time (about 50 ns, BenchmarkLogRiceCDF) and without allocating.
//
// The reference is the contract, not the exact Marcum Q: its own Simpson
// error reaches 4e-6 in ln P where the window is cut at the disc's edge
// (u ≈ 17, v ≈ 16), so a series or asymptotic expansion of Q₁, however
// exact, could not be held to 1e-6 of it. The reference is therefore
// tabulated (ricetable.go, written by go generate from riceref.Tables) on
// four uniform grids, in variables where what remains after a closed-form
// part is smooth and bounded up to and including the limits at infinity,
// and read by 6×6-point (quintic × quintic) Lagrange interpolation:
//
//   - w = v − u > 9: 0, as the reference.
//   - gap = u − v ≤ 1, u < 4: ln P = A2(u, w) + 2 ln v. P/v² is smooth and
//     even in v, so the corner v → 0 is no singularity. Steps 1/16 × 1/16.
//   - gap ≤ 1, u ≥ 4: ln P = A1(s, w), s = 4/u ∈ (0, 1]; in z = t − u the
//     reference's integrand is exp(−z²/2)·√(1+z/u)·p(3.75/(tu)) (p the
//     A&S 9.8.2 polynomial), analytic in 1/u, with its Gaussian limit at
//     s = 0. Steps 1/64 × 1/16.
//   - gap > 1, c = gap·v ≤ 16 (the window cut at t = 0):
//     ln P = −gap²/2 + 2 ln v + B2(c, ζ), ζ = ln(1 + v/gap): in τ = t/v the
//     integrand depends on c and v² only, and on v² through
//     I₀(τc(1 + v²/c)), hence ζ. Steps 1/8 × 1/16.
//   - gap > 1, c > 16: ln P = −gap²/2 − ln gap + ln(v/u)/2 +
//     ln p(3.75/(u(v − 1/gap))) + B1(1/gap, 16/c), steps 1/32 × 1/32. The
//     closed-form part is the exact leading behaviour far outside (the
//     density falls like e^{−gap·y} into the disc, its curvature gives
//     √(v/u), the Bessel factor is taken at the integrand's mean depth
//     y = 1), so B1 is smooth at gap → ∞ and v → ∞ and P keeps the same
//     relative accuracy however small it is.
//
// Error analysis. A 6-point Lagrange rule on step h errs by at most
// h⁶·|f⁽⁶⁾|·max|∏(x−xᵢ)|/720 ≤ 0.0049·h⁶·|f⁽⁶⁾| per axis inside a table
// (0.024·h⁶·|f⁽⁶⁾| in its edge cells); where the tabulated functions are
// smooth the steps above keep it below 4e-8 (measured between the nodes).
// What is not smooth is the reference itself: its window edges move with
// u and v, and where one reaches a boundary — gap = 1 (the window's width
// switches from 16 to 16/gap), u = v, min(u, v) = 16 (the cut at t = 0
// starts) — the step's derivative jumps by 1/128, so the reference's
// Simpson error (≤ 4e-6) changes slope by up to ~1e-6 per σ; and A&S
// 9.8.1 and 9.8.2 disagree by ~1e-7 at x = 3.75, which nodes cross as u
// and v move. Table edges lie on gap = 1 and c = 16; the kink at
// min(u, v) = 16 costs 1.3e-7, the largest error found. Measured against
// the reference: TestLogRiceCDFMatchesReference (4.4·10⁵ points, u and v
// to 3000σ, into the underflow region), TestLogRiceCDFAdversarial
// (4.2·10⁵ points within 6σ of the edge of discs of 0.5σ to 60σ) and
// TestLogRiceCDFSwitchOvers: largest |Δ ln P| 1.31e-7.
//
// What precision matters: fixLogOdds is a difference of two of these
// logarithms (plus exact terms), clamped to ±MaxFixLogOdds, so an error δ
// in ln P moves the log-odds by at most 2δ and Monitor's confidence, a
// logistic of them, by at most δ/2 — 1.3e-7 here, far below any
// threshold; once the log-odds are clamped (|log-odds| > ln 999, P of the
// allowed disc below ~1e-3 of the moved one) the error does not reach the
// result at all. Where P itself is tiny, an absolute error δ in ln P is a
// relative error δ in P, as before: the tables hold the logarithm after
// the exact Gaussian tail is taken out.
func logRiceCDF(u, v float64) float64 {
	if v-u > riceWMax {
		return 0
	}
	g := u - v
	if g <= 1 {
		if u < riceUA {
			return riceA2.at(u, v-u) + 2*math.Log(v)
		}
		return riceA1.at(riceUA/u, v-u)
	}
	if c := g * v; c <= riceCB {
		return riceB2.at(c, math.Log1p(v/g)) - g*g/2 + 2*math.Log(v)
	} else {
		p := 1 / g
		a := math.Sqrt(v/u) * riceref.AS982(3.75/(u*(v-p))) * p
		return riceB1.at(p, riceCB/c) - g*g/2 + math.Log(a)
	}
}

// riceTable is a table of values on the uniform grid x0 + i/idx (i < nx),
// y0 + j/idy (j < ny), stored row by row (value (i, j) at v[j·nx + i]).
type riceTable struct {
	x0, idx float64
	nx      int
	y0, idy float64
	ny      int
	v       []float64
}

// at returns the interpolation of t at (x, y): the tensor product of
// 6-point Lagrange rules (quintic in each axis) on the 6×6 nodes around
// (x, y), the stencil moved inwards at the edges and points outside the
// grid clamped to it. It does not allocate, and NaN gives NaN.
func (t *riceTable) at(x, y float64) float64 {
	i, fx := riceCell((x-t.x0)*t.idx, t.nx)
	j, fy := riceCell((y-t.y0)*t.idy, t.ny)
	ax := lagrange6(fx)
	ay := lagrange6(fy)
	n := t.nx
	k := j*n + i
	r := t.v[k : k+5*n+6 : k+5*n+6]
	var sum float64
	for m, a := range ay {
		o := m * n
		q := r[o : o+6 : o+6]
		sum += a * (ax[0]*q[0] + ax[1]*q[1] + ax[2]*q[2] + ax[3]*q[3] + ax[4]*q[4] + ax[5]*q[5])
	}
	return sum
}

// riceCell returns the first index of the 6-point stencil for grid
// coordinate g on n ≥ 6 points, and g's offset from it (within [2, 3]
// inside the grid, [0, 2) and (3, 5] in the edge cells).
func riceCell(g float64, n int) (int, float64) {
	switch {
	case !(g >= 2): // also NaN
		if !(g >= 0) && !math.IsNaN(g) {
			g = 0
		}
		return 0, g
	case g >= float64(n-3):
		if g > float64(n-1) {
			g = float64(n - 1)
		}
		return n - 6, g - float64(n-6)
	}
	i := int(g) - 2
	return i, g - float64(i)
}

// lagrange6 returns the weights of the quintic Lagrange interpolant on
// the nodes 0, 1, …, 5 at f.
func lagrange6(f float64) [6]float64 {
	d0, d1, d2, d3, d4, d5 := f, f-1, f-2, f-3, f-4, f-5
	l01 := d0 * d1
	l012 := l01 * d2
	l0123 := l012 * d3
	r45 := d4 * d5
	r345 := d3 * r45
	r2345 := d2 * r345
	return [6]float64{
		-d1 * r2345 / 120,
		d0 * r2345 / 24,
		-l01 * r345 / 12,
		l012 * r45 / 12,
		-l0123 * d5 / 24,
		l0123 * d4 / 120,
	}
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
// −MaxFixLogOdds, so that fixLogOdds clamps them and logRiceCDF can be
// skipped. It uses bounds, not approximations, so the clamped result is
// the one logRiceCDF would give:
//
//   - upper bound of P(|X| ≤ v1) for u > v1: the terminal is within v1
//     only if the fix error exceeds u − v1, and the error's length is
//     Rayleigh: P ≤ exp(−(u−v1)²/2);
//   - lower bound of P(|X| ≤ v2): for v2 > u, 1 − exp(−(v2−u)²/2) by the
//     same argument; for v2 ≥ 2, the unit disc inside the large one
//     nearest the fix, where the density is at least
//     exp(−(max(u−v2, 0)+2)²/2)/2π, gives P ≥ exp(−(max(u−v2, 0)+2)²/2)/2.
//
// A margin of 1e-3 covers logRiceCDF's error (≤ 1e-6).
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

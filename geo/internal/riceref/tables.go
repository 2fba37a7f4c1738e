package riceref

import "math"

// Grid is a uniform 2-D grid: X0 + i·DX for i < NX, Y0 + j·DY for j < NY.
// A table's values are stored row by row: value (i, j) at j·NX + i.
type Grid struct {
	X0, DX float64
	NX     int
	Y0, DY float64
	NY     int
}

// Table is one generated table: Name is its Go identifier in package geo,
// Doc what it holds.
type Table struct {
	Name, Doc string
	Grid
	Values []float64
}

// UA is where the inside tables switch from u to s = UA/u. Below it the
// Rice distribution is far from its Gaussian limit and ln P varies on the
// scale of σ in u; above it, on the scale of u.
const UA = 4

// WMin and WMax bound w = v − u in the inside tables (gap ≤ 1); beyond
// WMax the reference returns ln P = 0.
const (
	WMin = -1
	WMax = 9
)

// CB is where the outside tables switch from c = gap·v (the reference's
// window [0, v] cut at 0) to q̂ = CB/c (the window [v − 16/gap, v]).
const CB = 16

// ZetaMax bounds ζ = ln(1 + c·p²) in riceB2 (ln(1 + CB) < 2.84 for
// p ≤ 1).
const ZetaMax = 3

// Grids of the four tables (see Tables).
var (
	GridA2 = Grid{X0: 0, DX: 1.0 / 16, NX: UA*16 + 1, Y0: WMin, DY: 1.0 / 16, NY: (WMax-WMin)*16 + 1}
	GridA1 = Grid{X0: 0, DX: 1.0 / 64, NX: 65, Y0: WMin, DY: 1.0 / 16, NY: (WMax-WMin)*16 + 1}
	GridB1 = Grid{X0: 0, DX: 1.0 / 32, NX: 33, Y0: 0, DY: 1.0 / 32, NY: 33}
	GridB2 = Grid{X0: 0, DX: 1.0 / 8, NX: CB*8 + 1, Y0: 0, DY: 1.0 / 16, NY: ZetaMax*16 + 1}
)

// Tables builds the four tables from the reference. Together they cover
// every u ≥ 0, v > 0 with v − u ≤ WMax:
//
//   - riceA2, x = u ∈ [0, UA], y = w = v − u ∈ [WMin, WMax]: A2(u, w) =
//     ln P − 2 ln v (P/v² is smooth and even in v, so nodes with v ≤ 0
//     hold its even extension);
//   - riceA1, x = s = UA/u ∈ [0, 1], y = w: A1(w, s) = ln P (s = 0 is the
//     limit u → ∞);
//   - riceB1, x = p = 1/gap ∈ [0, 1], y = q̂ = CB/(gap·v) ∈ [0, 1]:
//     B1(p, q̂) = ln P + gap²/2 + ln gap − ln(v/u)/2 −
//     ln AS982(3.75/(u·(v − 1/gap))), for gap > 1 and gap·v ≥ CB;
//   - riceB2, x = c = gap·v ∈ [0, CB], y = ζ = ln(1 + c/gap²) ∈
//     [0, ZetaMax]: B2(c, ζ) = ln P + gap²/2 − 2 ln v, for gap > 1 and
//     gap·v ≤ CB.
func Tables() []Table {
	return []Table{
		build("riceA2", "ln P(u, u+w) − 2 ln|u+w| by (u, w)", GridA2, A2),
		build("riceA1", "ln P(u, u+w) by (s = UA/u, w)", GridA1, func(s, w float64) float64 { return A1(w, s) }),
		build("riceB1", "ln P + gap²/2 + ln gap − ln(v/u)/2 − ln AS982(3.75/(u(v − 1/gap))) by (p = 1/gap, q̂ = CB/(gap·v))", GridB1, B1),
		build("riceB2", "ln P + gap²/2 − 2 ln v by (c = gap·v, ζ = ln(1 + c/gap²))", GridB2, B2),
	}
}

func build(name, doc string, g Grid, f func(x, y float64) float64) Table {
	t := Table{Name: name, Doc: doc, Grid: g, Values: make([]float64, g.NX*g.NY)}
	for j := range g.NY {
		for i := range g.NX {
			t.Values[j*g.NX+i] = f(g.X0+float64(i)*g.DX, g.Y0+float64(j)*g.DY)
		}
	}
	return t
}

// A2 returns ln P(u, v) − 2 ln |v| for v = u + w, the reference for v > 0
// and its even extension P(u, |v|)/v² for v < 0; at v = 0 the limit
// P/v² → e^{−u²/2}/2.
func A2(u, w float64) float64 {
	v := math.Abs(u + w)
	if v == 0 {
		return -u*u/2 - math.Ln2
	}
	return logCDF(u, v) - 2*math.Log(v)
}

// A1 returns the reference ln P(u, u + w) for u = UA/s ≥ UA, and its
// limit u → ∞ at s = 0: Simpson's rule on the reference's window and
// nodes shifted by u, z = t − u ∈ [min(0, w) − 16, w], of
// exp(−z²/2)·AS982(0) (t·I0e(tu) = √(t/u)·AS982(3.75/(tu)) → AS982(0)).
func A1(w, s float64) float64 {
	if s > 0 {
		u := UA / s
		return logCDF(u, u+w)
	}
	return A1z(w, 0)
}

// A1z is A1 computed in z = t − u for u = UA/s ≥ 24 (where t·u > 3.75
// on the whole window and the window is not cut at t = 0): the
// integrand is exp(−z²/2)·√(1+z/u)·AS982(3.75/(u²(1+z/u))).
func A1z(w, s float64) float64 {
	pz := math.Min(0, w) // peak − u
	e0 := -pz * pz / 2
	k := s / UA // 1/u
	sum := simpson(pz-16, w, func(z float64) float64 {
		r := 1 + z*k // t/u
		return math.Exp(-z*z/2-e0) * math.Sqrt(r) * AS982(3.75*k*k/r)
	})
	return e0 + math.Log(sum)
}

// B1 returns ln S' for gap = 1/p > 1 and gap·v = CB/q̂ ≥ CB, where
// P = e^{−gap²/2}/gap·√(v/u)·S' and S' is the reference's Simpson sum
// in y = (v − t)·gap ∈ [0, 16]:
// S' = Σ e^{−y − y²p²/2}·√(1 − yq)·√x·I0e(x), q = q̂/CB = 1/(gap·v),
// x = t·u = (1 − yq)(p² + q)/q² (x = ∞ at q = 0).
func B1(p, qh float64) float64 {
	q := qh / CB
	sum := simpson(0, 16, func(y float64) float64 {
		r := 1 - y*q // t/v
		var a float64
		if q == 0 {
			a = AS982(0)
		} else {
			a = sqrtXI0e(r * (p*p + q) / (q * q))
		}
		return math.Exp(-y-y*y*p*p/2) * math.Sqrt(math.Max(r, 0)) * a
	})
	if q == 0 {
		return math.Log(sum / AS982(0))
	}
	m := q * q / ((p*p + q) * (1 - q)) // 1/(u(v − 1/gap))
	return math.Log(sum / AS982(3.75*m))
}

// B2 returns ln K for gap = 1/p > 1 and c = gap·v ≤ CB, where
// P = e^{−gap²/2}·v²·K and K is the reference's Simpson sum in τ = t/v ∈
// [0, 1] (the window [0, v]): with r = c·p² = e^ζ − 1 (= v²/c),
// K = Σ τ·e^{−c(1−τ) − r·c(1−τ)²/2}·I0e(τ·c(1 + r)).
func B2(c, zeta float64) float64 {
	r := math.Expm1(zeta)
	sum := simpson(0, 1, func(tau float64) float64 {
		d := 1 - tau
		return tau * math.Exp(-c*d-r*c*d*d/2) * I0e(tau*c*(1+r))
	})
	return math.Log(sum)
}

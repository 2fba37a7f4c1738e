package geo

import "math"

// logRiceCDFRef is logRiceCDF as it was before the recurrences (issue 23,
// point 5): the same window and Simpson rule, every node evaluated with
// its own exponentials through i0e. It is the reference the fast version
// must match.
func logRiceCDFRef(u, v float64) float64 {
	if v-u > 9 {
		return 0
	}
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
	f := func(t float64) float64 {
		return t * math.Exp(-(t-u)*(t-u)/2-e0) * i0e(t*u)
	}
	const n = 128
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

// fixLogOddsRef is fixLogOdds on logRiceCDFRef.
func fixLogOddsRef(d, acc, r, movedR float64) float64 {
	if !(acc > 0) || math.IsInf(acc, 0) || math.IsNaN(d) {
		return 0
	}
	sigma := acc / Sigma95
	ll := func(d, r float64) float64 {
		if r < 1e-6*sigma {
			return -d*d/(2*sigma*sigma) - math.Log(2*math.Pi*sigma*sigma)
		}
		return logRiceCDFRef(d/sigma, r/sigma) - math.Log(math.Pi*r*r)
	}
	l := ll(d, r) - ll(d, r+movedR)
	switch {
	case math.IsNaN(l):
		return -MaxFixLogOdds
	case l > MaxFixLogOdds:
		return MaxFixLogOdds
	case l < -MaxFixLogOdds:
		return -MaxFixLogOdds
	}
	return l
}

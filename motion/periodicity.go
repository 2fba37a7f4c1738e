package motion

import (
	"math"
)

// autocorrPeak returns the largest local maximum of the normalised
// autocorrelation of x (mean removed, unbiased per-lag normalisation) for lags
// in [0.25 s, 1 s], and that lag in seconds; (0, 0) when there is none.
// mean and v0 are x's mean and variance.
func (e *Extractor) autocorrPeak(x []float64, mean, v0 float64) (peak, period float64) {
	n := len(x)
	d := e.scratch[:n]
	for i, v := range x {
		d[i] = v - mean
	}
	if !(v0 > 1e-24) {
		return 0, 0
	}
	lagMax := min(e.lagMax+1, n/2)
	prev2, prev := math.Inf(-1), math.Inf(-1)
	bestLag := 0
	best := math.Inf(-1)
	for lag := e.lagMin - 1; lag <= lagMax; lag++ {
		if lag < 1 {
			continue
		}
		s := dot4(d[:n-lag], d[lag:])
		r := s / float64(n-lag) / v0
		// prev is a local maximum inside [lagMin, lagMax].
		if l := lag - 1; l >= e.lagMin && l <= e.lagMax && prev > prev2 && prev >= r && prev > best {
			best, bestLag = prev, l
		}
		prev2, prev = prev, r
	}
	if bestLag == 0 {
		return 0, 0
	}
	return best, float64(bestLag) / e.cfg.Rate
}

// dot4 returns Σ a[i]·b[i] with four accumulators, which breaks the
// floating-point add dependency chain (len(b) ≥ len(a)).
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

package geo

import (
	"math"

	"github.com/payedge/payedge/geo/internal/riceref"
)

// logRiceCDFRef is logRiceCDF as it was before issue 23 (riceref.LogCDF):
// Simpson's rule on 128 intervals, every node evaluated with its own
// exponentials through riceref.I0e. It is the reference the fast version
// must match.
func logRiceCDFRef(u, v float64) float64 { return riceref.LogCDF(u, v) }

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

package biometric

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// randVec returns a random Gaussian vector of dimension d.
func randVec(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// near returns base plus Gaussian noise of standard deviation sigma per
// component (before normalisation): a second capture of the same person.
func near(r *rand.Rand, base []float32, sigma float64) []float32 {
	v := make([]float32, len(base))
	for i := range v {
		v[i] = base[i] + float32(sigma*r.NormFloat64())
	}
	return v
}

// naiveSearch is the reference: float64 cosine against every vector, sorted
// by score descending then ID ascending.
func naiveSearch(ids []string, vecs [][]float32, q []float32, k int) []Hit {
	qn := norm(q)
	out := make([]Hit, len(ids))
	for i, v := range vecs {
		var s float64
		for j := range v {
			s += float64(v[j]) * float64(q[j])
		}
		out[i] = Hit{ID: ids[i], Score: s / (norm(v) * qn)}
	}
	slices.SortFunc(out, func(a, b Hit) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out[:k]
}

// sameHits reports whether got matches want: equal IDs wherever the
// reference scores are separated by more than eps, scores within eps.
func sameHits(want, got []Hit, eps float64) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if math.Abs(want[i].Score-got[i].Score) > eps {
			return false
		}
		tieBefore := i > 0 && want[i].Score-want[i-1].Score > -eps
		tieAfter := i+1 < len(want) && want[i].Score-want[i+1].Score < eps
		if want[i].ID != got[i].ID && !tieBefore && !tieAfter {
			return false
		}
	}
	return true
}

// randT is a seeded *rand.Rand for tests that only need one.
type randT = rand.Rand

func newRandT(seed uint64) *randT { return rand.New(rand.NewPCG(seed, 77)) }

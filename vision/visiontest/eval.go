package visiontest

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/payedge/payedge/vision"
)

// Method is a way of scoring whether two photos show the same place: Prepare
// summarises one photo, Compare scores two summaries (higher = more alike).
type Method struct {
	Name    string                         // label used in Result and reports
	Prepare func(image.Image) (any, error) // required; called once per photo
	Compare func(a, b any) float64         // required; a and b come from Prepare
}

// SimilarityMethod scores with vision.Extract and Fingerprint.Similarity.
func SimilarityMethod() Method {
	return Method{
		Name:    "similarity",
		Prepare: func(m image.Image) (any, error) { return vision.Extract(m) },
		Compare: func(a, b any) float64 { return a.(*vision.Fingerprint).Similarity(b.(*vision.Fingerprint)) },
	}
}

// PDQMethod scores with 1 − d/256 for the PDQ Hamming distance d.
func PDQMethod() Method {
	return Method{
		Name: "pdq",
		Prepare: func(m image.Image) (any, error) {
			h, _ := vision.PDQ(m)
			return h, nil
		},
		Compare: func(a, b any) float64 { return 1 - float64(a.(vision.Hash).Distance(b.(vision.Hash)))/256 },
	}
}

// PHashMethod scores with 1 − d/64 for the 64-bit DCT pHash distance d.
func PHashMethod() Method {
	return Method{
		Name:    "phash64",
		Prepare: func(m image.Image) (any, error) { return PHash64(m), nil },
		Compare: func(a, b any) float64 { return 1 - float64(bits.OnesCount64(a.(uint64)^b.(uint64)))/64 },
	}
}

// PHash64 is the common 64-bit DCT perceptual hash: luma box-resampled to
// 32×32, a 32×32 DCT-II, the 8×8 lowest frequencies (DC included) thresholded
// at their median. Bit 63−(8u+v) holds coefficient (u, v).
func PHash64(m image.Image) uint64 {
	b := m.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), m, b.Min, draw.Src)
	var g [32][32]float64
	var n [32][32]float64
	for y := 0; y < b.Dy(); y++ {
		gy := y * 32 / b.Dy()
		for x := 0; x < b.Dx(); x++ {
			gx := x * 32 / b.Dx()
			i := rgba.PixOffset(x, y)
			g[gy][gx] += 0.299*float64(rgba.Pix[i]) + 0.587*float64(rgba.Pix[i+1]) + 0.114*float64(rgba.Pix[i+2])
			n[gy][gx]++
		}
	}
	for i := range 32 {
		for j := range 32 {
			if n[i][j] > 0 {
				g[i][j] /= n[i][j]
			}
		}
	}
	var c [8][8]float64
	var vals []float64
	for u := range 8 {
		for v := range 8 {
			var s float64
			for i := range 32 {
				cu := math.Cos(float64(2*i+1) * float64(u) * math.Pi / 64)
				for j := range 32 {
					s += g[i][j] * cu * math.Cos(float64(2*j+1)*float64(v)*math.Pi/64)
				}
			}
			c[u][v] = s
			vals = append(vals, s)
		}
	}
	slices.Sort(vals)
	med := (vals[31] + vals[32]) / 2
	var h uint64
	for u := range 8 {
		for v := range 8 {
			if c[u][v] > med {
				h |= 1 << (63 - (8*u + v))
			}
		}
	}
	return h
}

// Scores holds the scores of a method on a Set.
type Scores struct {
	Positive []float64 // one per scene: Compare(Refs[i], Queries[i])
	Negative []float64 // Compare(Refs[i], Queries[j]) for all i ≠ j
}

// Score prepares every photo of s once and compares all pairs. It returns
// an error when Refs and Queries differ in length, m is incomplete, or
// m.Prepare fails (wrapped, naming the photo).
func Score(s Set, m Method) (Scores, error) {
	if len(s.Refs) != len(s.Queries) {
		return Scores{}, fmt.Errorf("visiontest: set has %d references and %d queries", len(s.Refs), len(s.Queries))
	}
	if m.Prepare == nil || m.Compare == nil {
		return Scores{}, fmt.Errorf("visiontest: method %q lacks Prepare or Compare", m.Name)
	}
	refs := make([]any, len(s.Refs))
	qs := make([]any, len(s.Queries))
	for i := range s.Refs {
		var err error
		if refs[i], err = m.Prepare(s.Refs[i]); err != nil {
			return Scores{}, fmt.Errorf("visiontest: %s ref %d: %w", m.Name, i, err)
		}
		if qs[i], err = m.Prepare(s.Queries[i]); err != nil {
			return Scores{}, fmt.Errorf("visiontest: %s query %d: %w", m.Name, i, err)
		}
	}
	var out Scores
	for i := range refs {
		for j := range qs {
			v := m.Compare(refs[i], qs[j])
			if i == j {
				out.Positive = append(out.Positive, v)
			} else {
				out.Negative = append(out.Negative, v)
			}
		}
	}
	return out, nil
}

// AUC is the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half
// (the Mann–Whitney U statistic divided by n₊n₋). It is NaN when there are
// no positive or no negative scores.
func AUC(sc Scores) float64 {
	if len(sc.Positive) == 0 || len(sc.Negative) == 0 {
		return math.NaN()
	}
	neg := slices.Clone(sc.Negative)
	slices.Sort(neg)
	var u float64
	for _, p := range sc.Positive {
		lo, _ := slices.BinarySearch(neg, p)
		hi := lo
		for hi < len(neg) && neg[hi] == p {
			hi++
		}
		u += float64(lo) + 0.5*float64(hi-lo)
	}
	return u / float64(len(sc.Positive)) / float64(len(neg))
}

// TPRAt returns the true-positive rate at the strictest threshold whose
// false-positive rate does not exceed fpr: positives must score strictly
// above the ⌊fpr·n₋⌋+1-th highest negative. It is NaN when there are no
// positive or no negative scores, or when fpr is not in [0, 1].
func TPRAt(sc Scores, fpr float64) float64 {
	if len(sc.Positive) == 0 || len(sc.Negative) == 0 || !(fpr >= 0 && fpr <= 1) {
		return math.NaN()
	}
	neg := slices.Clone(sc.Negative)
	slices.SortFunc(neg, func(a, b float64) int { return -cmpF(a, b) })
	k := int(math.Floor(fpr * float64(len(neg))))
	if k >= len(neg) {
		return 1
	}
	thr := neg[k]
	n := 0
	for _, p := range sc.Positive {
		if p > thr {
			n++
		}
	}
	return float64(n) / float64(len(sc.Positive))
}

// MaxResamples bounds the resamples of TPRInterval.
const MaxResamples = 100_000

// TPRInterval returns a bootstrap percentile confidence interval
// (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13) for
// TPRAt(sc, fpr) at the given level (for example 0.95): positives and
// negatives are resampled with replacement, separately, resamples times, and
// TPRAt is taken on each resample. A TPR at 1 % FPR rests on the few
// negatives around its threshold and on every positive: with 40 scenes one
// positive is 0.025 of TPR and the threshold is the 16th highest of 1 560
// negatives, so two sets from the same generator can differ by 0.1. The
// interval says how far. The same seed gives the same interval. It
// returns NaN, NaN when TPRAt would, when level is not in (0, 1) or when
// resamples is not in [1, MaxResamples]. Cost: O(resamples · (n₊ + n₋)).
func TPRInterval(sc Scores, fpr, level float64, resamples int, seed uint64) (lo, hi float64) {
	nan := math.NaN()
	if len(sc.Positive) == 0 || len(sc.Negative) == 0 || !(fpr >= 0 && fpr <= 1) ||
		!(level > 0 && level < 1) || resamples < 1 || resamples > MaxResamples {
		return nan, nan
	}
	neg := slices.Clone(sc.Negative)
	slices.SortFunc(neg, func(a, b float64) int { return -cmpF(a, b) })
	pos := sc.Positive
	k := int(math.Floor(fpr * float64(len(neg))))
	r := rand.New(rand.NewPCG(seed, 0x7e57b007))
	// A resample of the negatives, sorted from the highest, is neg read at
	// the drawn indices in increasing order: its threshold (the k-th, from
	// 0) is neg at the (k+1)-th smallest drawn index, found from counts.
	counts := make([]int32, len(neg))
	tprs := make([]float64, resamples)
	for b := range tprs {
		clear(counts)
		for range neg {
			counts[r.IntN(len(neg))]++
		}
		thr := math.Inf(-1)
		if k < len(neg) {
			seen := 0
			for i, c := range counts {
				if seen += int(c); seen > k {
					thr = neg[i]
					break
				}
			}
		}
		n := 0
		for range pos {
			if pos[r.IntN(len(pos))] > thr {
				n++
			}
		}
		tprs[b] = float64(n) / float64(len(pos))
	}
	slices.Sort(tprs)
	q := func(p float64) float64 {
		return tprs[min(max(int(math.Floor(p*float64(resamples))), 0), resamples-1)]
	}
	return q((1 - level) / 2), q((1 + level) / 2)
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ROC returns the ROC curve as (FPR, TPR) points from (0,0) to (1,1),
// one per distinct threshold.
func ROC(sc Scores) [][2]float64 {
	type pt struct {
		s   float64
		pos bool
	}
	all := make([]pt, 0, len(sc.Positive)+len(sc.Negative))
	for _, p := range sc.Positive {
		all = append(all, pt{p, true})
	}
	for _, n := range sc.Negative {
		all = append(all, pt{n, false})
	}
	slices.SortFunc(all, func(a, b pt) int { return -cmpF(a.s, b.s) })
	np, nn := float64(len(sc.Positive)), float64(len(sc.Negative))
	out := [][2]float64{{0, 0}}
	tp, fp := 0.0, 0.0
	for i, a := range all {
		if a.pos {
			tp++
		} else {
			fp++
		}
		if i+1 == len(all) || all[i+1].s != a.s {
			out = append(out, [2]float64{fp / nn, tp / np})
		}
	}
	return out
}

// Result summarises one method on one family.
type Result struct {
	Family Family  // the Set's family
	Method string  // the Method's Name
	AUC    float64 // area under the ROC curve, see AUC
	TPR1   float64 // TPR at 1 % FPR
	TPR01  float64 // TPR at 0.1 % FPR
	Scores Scores  // the raw scores behind the summary
}

// Evaluate scores s with m and computes the summary. Its errors are those of
// Score.
func Evaluate(s Set, m Method) (Result, error) {
	sc, err := Score(s, m)
	if err != nil {
		return Result{}, err
	}
	return Result{Family: s.Family, Method: m.Name, AUC: AUC(sc), TPR1: TPRAt(sc, 0.01), TPR01: TPRAt(sc, 0.001), Scores: sc}, nil
}

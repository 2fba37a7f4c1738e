package biometric

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// MaxScores bounds each score set given to Calibrate and Evaluate.
const MaxScores = 1 << 26

// Score sets follow NIST FRTE 1:N (NIST IR 8271, "Face Recognition Vendor
// Test Part 2: Identification"):
//
//   - mated holds, for each mated search (the searched person is enrolled),
//     the similarity of their own enrolled template; a mated search misses
//     at threshold T when that score is below T. FNIR(T) is the fraction of
//     misses. (Rank > 1 misses of a flat exact search are rare above the
//     threshold and are ignored here.)
//   - nonMated holds impostor scores. With galleryN > 1 they are one-to-one
//     comparisons against single enrolled templates, and the false-positive
//     identification rate of a gallery of galleryN people is
//     FPIR(T) = 1 − (1 − FMR(T))^galleryN, which is why false positives grow
//     with the gallery; with galleryN ≤ 1 they are already the top-1 scores
//     of non-mated 1:N searches and FPIR(T) is their fraction at or above T.

// fmrFor returns the one-to-one false match rate that gives fpir over a
// gallery of n.
func fmrFor(fpir float64, n int) float64 {
	if n <= 1 {
		return fpir
	}
	return -math.Expm1(math.Log1p(-fpir) / float64(n))
}

// fpirFor is the inverse of fmrFor.
func fpirFor(fmr float64, n int) float64 {
	if n <= 1 {
		return fmr
	}
	return -math.Expm1(float64(n) * math.Log1p(-fmr))
}

func checkScores(name string, s []float64) error {
	if len(s) == 0 || len(s) > MaxScores {
		return fmt.Errorf("%w: %d %s scores, want 1 to %d", ErrScores, len(s), name, MaxScores)
	}
	for i, x := range s {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s score %d is %v", ErrScores, name, i, x)
		}
	}
	return nil
}

// Calibrate returns the lowest threshold whose FPIR over a gallery of
// galleryN people is at most targetFPIR (up to a relative 1e-12 of
// floating-point rounding, so that a target read off Evaluation.FPIR is met
// exactly), estimated from the score sets
// (see the package's score-set conventions above). The non-mated set must
// be large enough to resolve the target: at least 1/FMR scores, where FMR
// is the one-to-one rate the target needs; otherwise the error wraps
// ErrInsufficientData. mated may be nil here. Errors also wrap ErrScores
// or ErrConfig (target not in (0, 1), galleryN < 0).
func Calibrate(mated, nonMated []float64, targetFPIR float64, galleryN int) (float64, error) {
	if mated != nil {
		if err := checkScores("mated", mated); err != nil {
			return 0, err
		}
	}
	if err := checkScores("non-mated", nonMated); err != nil {
		return 0, err
	}
	if !(targetFPIR > 0 && targetFPIR < 1) || galleryN < 0 {
		return 0, fmt.Errorf("%w: target FPIR %v not in (0, 1) or gallery %d < 0", ErrConfig, targetFPIR, galleryN)
	}
	desc := slices.Clone(nonMated)
	slices.Sort(desc)
	slices.Reverse(desc)
	return thresholdFor(desc, targetFPIR, galleryN)
}

// thresholdFor is Calibrate on impostor scores sorted descending.
func thresholdFor(desc []float64, targetFPIR float64, galleryN int) (float64, error) {
	fmr := fmrFor(targetFPIR, galleryN)
	n := float64(len(desc))
	allowed := int(math.Floor(fmr * n))
	// fmr·n lands a hair below the integer it names when the target was
	// itself computed from a count (k/n, or FPIR(T) through fpirFor's
	// log/exp round trip): allow the next count when its FPIR is the
	// target up to rounding, so At(FPIR(T)) returns to T's operating point.
	if allowed < len(desc) && fpirFor(float64(allowed+1)/n, galleryN) <= targetFPIR*(1+1e-12) {
		allowed++
	}
	if allowed < 1 {
		return 0, fmt.Errorf("%w: FPIR %v over %d needs one-to-one FMR %.3g; %d non-mated scores resolve only %.3g",
			ErrInsufficientData, targetFPIR, galleryN, fmr, len(desc), 1/float64(len(desc)))
	}
	if allowed >= len(desc) {
		return math.Inf(-1), nil
	}
	// Just above the (allowed+1)-th highest score: at most allowed scores
	// reach it, even with ties.
	return math.Nextafter(desc[allowed], math.Inf(1)), nil
}

// DETPoint is one operating point of a detection error trade-off curve.
type DETPoint struct {
	Threshold float64
	FPIR      float64
	FNIR      float64
}

// Evaluation holds the NIST FRTE 1:N error rates of a matcher at every
// threshold, for one gallery size. Build it with Evaluate; the zero
// Evaluation has no data and its methods return ErrNotInitialized.
type Evaluation struct {
	// GalleryN is the gallery size the FPIRs are for.
	GalleryN int
	// DET is the curve, threshold ascending (so FPIR descending, FNIR
	// ascending), at most MaxDETPoints points.
	DET []DETPoint

	mated    []float64 // ascending
	nonMated []float64 // descending
}

// MaxDETPoints bounds the points of Evaluation.DET.
const MaxDETPoints = 512

// Evaluate computes FNIR and FPIR at every threshold for a gallery of
// galleryN people from the score sets (see the score-set conventions).
// Errors wrap ErrScores or ErrConfig.
func Evaluate(mated, nonMated []float64, galleryN int) (*Evaluation, error) {
	if err := checkScores("mated", mated); err != nil {
		return nil, err
	}
	if err := checkScores("non-mated", nonMated); err != nil {
		return nil, err
	}
	if galleryN < 0 {
		return nil, fmt.Errorf("%w: gallery %d < 0", ErrConfig, galleryN)
	}
	e := &Evaluation{GalleryN: galleryN, mated: slices.Clone(mated), nonMated: slices.Clone(nonMated)}
	slices.Sort(e.mated)
	slices.Sort(e.nonMated)
	slices.Reverse(e.nonMated)
	// Thresholds: quantiles of the pooled scores, plus the extremes.
	pool := append(slices.Clone(e.mated), e.nonMated...)
	slices.Sort(pool)
	n := min(MaxDETPoints, len(pool))
	for i := range n {
		t := pool[i*(len(pool)-1)/max(1, n-1)]
		if len(e.DET) > 0 && e.DET[len(e.DET)-1].Threshold == t {
			continue
		}
		e.DET = append(e.DET, DETPoint{Threshold: t, FPIR: e.FPIR(t), FNIR: e.FNIR(t)})
	}
	return e, nil
}

// FNIR returns the fraction of mated searches scoring below t.
func (e *Evaluation) FNIR(t float64) float64 {
	if len(e.mated) == 0 {
		return math.NaN()
	}
	return float64(sort.SearchFloat64s(e.mated, t)) / float64(len(e.mated))
}

// FPIR returns the false-positive identification rate at t for GalleryN.
func (e *Evaluation) FPIR(t float64) float64 {
	if len(e.nonMated) == 0 {
		return math.NaN()
	}
	// count of scores ≥ t in a descending slice
	k := sort.Search(len(e.nonMated), func(i int) bool { return e.nonMated[i] < t })
	return fpirFor(float64(k)/float64(len(e.nonMated)), e.GalleryN)
}

// At returns the threshold Calibrate would choose for targetFPIR and the
// FPIR and FNIR there: "FNIR at FPIR", the headline of NIST FRTE 1:N.
// Errors wrap ErrNotInitialized, ErrConfig or ErrInsufficientData.
func (e *Evaluation) At(targetFPIR float64) (DETPoint, error) {
	if len(e.nonMated) == 0 {
		return DETPoint{}, ErrNotInitialized
	}
	if !(targetFPIR > 0 && targetFPIR < 1) {
		return DETPoint{}, fmt.Errorf("%w: target FPIR %v not in (0, 1)", ErrConfig, targetFPIR)
	}
	t, err := thresholdFor(e.nonMated, targetFPIR, e.GalleryN)
	if err != nil {
		return DETPoint{}, err
	}
	return DETPoint{Threshold: t, FPIR: e.FPIR(t), FNIR: e.FNIR(t)}, nil
}

package visiontest

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetricsKnownAnswers(t *testing.T) {
	sc := Scores{Positive: []float64{0.9, 0.8, 0.4}, Negative: []float64{0.1, 0.5, 0.4, 0.3}}
	// Pairs (p > n) + ½(p = n): 0.9 beats 4, 0.8 beats 4, 0.4 beats 2 and ties 1.
	if got, want := AUC(sc), (4+4+2+0.5)/12.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC = %v, want %v", got, want)
	}
	// At FPR 0 the threshold is the top negative 0.5: two of three positives exceed it.
	if got := TPRAt(sc, 0.1); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("TPR@10%% = %v", got)
	}
	// At FPR 25 % one negative may pass: the threshold is 0.4; 0.4 does not exceed it.
	if got := TPRAt(sc, 0.25); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("TPR@25%% = %v", got)
	}
	if got := TPRAt(sc, 0.5); got != 1 {
		t.Errorf("TPR@50%% = %v", got)
	}
	want := [][2]float64{{0, 0}, {0, 1.0 / 3}, {0, 2.0 / 3}, {0.25, 2.0 / 3}, {0.5, 1}, {0.75, 1}, {1, 1}}
	if diff := cmp.Diff(want, ROC(sc)); diff != "" {
		t.Errorf("ROC (-want +got):\n%s", diff)
	}
	if !math.IsNaN(AUC(Scores{})) || !math.IsNaN(TPRAt(Scores{}, 0.01)) {
		t.Error("empty scores should give NaN")
	}
}

func TestPHash64(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			g.SetGray(x, y, color.Gray{uint8(x * 4)})
		}
	}
	h := PHash64(g)
	// A left-to-right ramp has energy only in the horizontal frequencies
	// (row u = 0 of the 8×8 block), with odd ones negative: above the median
	// are the DC term and nothing in rows u ≥ 1 except ties at zero.
	if h>>63 != 1 {
		t.Errorf("DC bit not set: %016x", h)
	}
	if h&(1<<(63-1)) != 0 {
		t.Errorf("first horizontal cosine of an increasing ramp is negative, bit set: %016x", h)
	}
	if PHash64(g) != h {
		t.Error("not deterministic")
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate(Rotate, 2, Options{Width: 96, Height: 72}, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(Rotate, 2, Options{Width: 96, Height: 72}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Refs) != 2 || len(a.Queries) != 2 || a.Family != Rotate {
		t.Fatalf("set shape %d/%d %s", len(a.Refs), len(a.Queries), a.Family)
	}
	for i := range a.Refs {
		if PHash64(a.Refs[i]) != PHash64(b.Refs[i]) || PHash64(a.Queries[i]) != PHash64(b.Queries[i]) {
			t.Error("same seed rendered different photos")
		}
	}
	if _, err := Generate(Reshot, -1, Options{}, 1); err == nil {
		t.Error("n = -1 accepted")
	}
	if _, err := Generate("nope", 1, Options{}, 1); err == nil {
		t.Error("unknown family accepted")
	}
	if _, err := Generate(Reshot, 1, Options{Width: 10, Height: 10}, 1); err == nil {
		t.Error("10×10 accepted")
	}
	if _, err := Score(Set{Refs: a.Refs, Queries: a.Queries[:1]}, PDQMethod()); err == nil {
		t.Error("unequal refs and queries accepted")
	}
	if _, err := Score(a, Method{Name: "empty"}); err == nil {
		t.Error("method without functions accepted")
	}
	if !Brightness.Photometric() || Reshot.Photometric() {
		t.Error("Photometric")
	}
}

func TestTPRAtOutOfRangeFPR(t *testing.T) {
	sc := Scores{Positive: []float64{0.9, 0.8}, Negative: []float64{0.1, 0.2, 0.3}}
	for _, fpr := range []float64{-0.1, 1.5, math.NaN(), math.Inf(-1)} {
		if got := TPRAt(sc, fpr); !math.IsNaN(got) {
			t.Errorf("TPRAt(fpr=%v) = %v, want NaN", fpr, got)
		}
	}
	if got := TPRAt(sc, 0); got != 1 {
		t.Errorf("TPRAt(fpr=0) = %v, want 1", got)
	}
}

func TestGenerateBoundsTotalPixels(t *testing.T) {
	if _, err := Generate(Reshot, 10_000, Options{Width: 8192, Height: 8192}, 1); err == nil {
		t.Fatal("a 10 000-scene 8192×8192 set was accepted")
	}
}

func TestTPRIntervalBinomial(t *testing.T) {
	// Negatives all 0, so every resample has threshold 0; 320 of 400
	// positives score above it. TPR is then binomial: 0.8 ± 1.96·0.02.
	var sc Scores
	for i := range 400 {
		sc.Negative = append(sc.Negative, 0)
		sc.Positive = append(sc.Positive, float64(min(i%5, 1)))
	}
	lo, hi := TPRInterval(sc, 0.01, 0.95, 2000, 1)
	if lo < 0.74 || lo > 0.78 || hi < 0.82 || hi > 0.86 {
		t.Errorf("95%% interval [%.3f, %.3f], want about [0.761, 0.839]", lo, hi)
	}
	if lo2, hi2 := TPRInterval(sc, 0.01, 0.95, 2000, 1); lo2 != lo || hi2 != hi {
		t.Errorf("same seed gave [%v, %v] then [%v, %v]", lo, hi, lo2, hi2)
	}
	perfect := Scores{Positive: []float64{2, 3}, Negative: []float64{0, 1}}
	if lo, hi := TPRInterval(perfect, 0.01, 0.9, 100, 1); lo != 1 || hi != 1 {
		t.Errorf("perfect separation: [%v, %v]", lo, hi)
	}
}

// TestTPRIntervalMatchesNaiveBootstrap checks the order-statistic shortcut
// for the resampled threshold against resampling the negatives outright.
func TestTPRIntervalMatchesNaiveBootstrap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var sc Scores
	for range 300 {
		sc.Negative = append(sc.Negative, r.NormFloat64())
	}
	for range 60 {
		sc.Positive = append(sc.Positive, 2+r.NormFloat64())
	}
	const n = 4000
	tprs := make([]float64, n)
	for b := range tprs {
		var rs Scores
		for range sc.Negative {
			rs.Negative = append(rs.Negative, sc.Negative[r.IntN(len(sc.Negative))])
		}
		for range sc.Positive {
			rs.Positive = append(rs.Positive, sc.Positive[r.IntN(len(sc.Positive))])
		}
		tprs[b] = TPRAt(rs, 0.05)
	}
	slices.Sort(tprs)
	wantLo, wantHi := tprs[n/20], tprs[n-n/20]
	lo, hi := TPRInterval(sc, 0.05, 0.9, n, 9)
	if math.Abs(lo-wantLo) > 0.04 || math.Abs(hi-wantHi) > 0.04 {
		t.Errorf("90%% interval [%.3f, %.3f], naive bootstrap [%.3f, %.3f]", lo, hi, wantLo, wantHi)
	}
	if p := TPRAt(sc, 0.05); p < lo || p > hi {
		t.Errorf("point estimate %.3f outside [%.3f, %.3f]", p, lo, hi)
	}
}

func TestTPRIntervalInvalid(t *testing.T) {
	sc := Scores{Positive: []float64{1}, Negative: []float64{0}}
	for _, c := range []struct {
		sc         Scores
		fpr, level float64
		n          int
	}{
		{Scores{}, 0.01, 0.95, 10},
		{sc, -0.1, 0.95, 10},
		{sc, 0.01, 0, 10},
		{sc, 0.01, 1, 10},
		{sc, 0.01, math.NaN(), 10},
		{sc, 0.01, 0.95, 0},
		{sc, 0.01, 0.95, MaxResamples + 1},
	} {
		if lo, hi := TPRInterval(c.sc, c.fpr, c.level, c.n, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("TPRInterval(%v, %v, %v, %d) = %v, %v, want NaN", c.sc, c.fpr, c.level, c.n, lo, hi)
		}
	}
}

package motion_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
	"github.com/payedge/payedge/risk"
)

func simWindow(t testing.TB, class string, seed uint64) []motion.Sample {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	s := sim.NewSubject("t", 0, rng)
	w, err := sim.Generator{}.Window(&s, class, rng)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func codes(s risk.Signal) []string {
	var c []string
	for _, r := range s.Reasons {
		c = append(c, r.Code)
	}
	return c
}

func TestAssessorClasses(t *testing.T) {
	var a motion.Assessor
	var scorer risk.Scorer[[]motion.Sample] = &a
	ctx := context.Background()
	for _, tc := range []struct {
		class     string
		lo, hi    float64
		reason    string
		hasReason bool
	}{
		{sim.Counter, 0.7, 0.81, motion.ReasonCounter, true},
		{sim.Handheld, 0.7, 0.81, motion.ReasonHandheld, true},
		{sim.Walking, 0.38, 0.5, motion.ReasonWalking, true},
		{sim.Vehicle, 0.14, 0.3, motion.ReasonVehicle, true},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			s, err := scorer.Score(ctx, simWindow(t, tc.class, seed))
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != motion.Source || s.Confidence < tc.lo || s.Confidence > tc.hi {
				t.Errorf("%s: confidence %.3f not in [%v, %v]", tc.class, s.Confidence, tc.lo, tc.hi)
			}
			if c := codes(s); tc.hasReason != slices.Contains(c, tc.reason) {
				t.Errorf("%s: reasons %v", tc.class, s.Reasons)
			}
		}
	}
}

func TestAssessorInsufficientAndCorrupt(t *testing.T) {
	a, err := motion.NewAssessor(motion.AssessorConfig{InsufficientConfidence: 0.4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := simWindow(t, sim.Counter, 9)
	for name, in := range map[string][]motion.Sample{"empty": nil, "one": w[:1], "short": w[:40]} {
		s, err := a.Score(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Confidence != 0.4 || !slices.Equal(codes(s), []string{motion.ReasonInsufficientData}) {
			t.Fatalf("%s: %+v", name, s)
		}
	}
	bad := slices.Clone(w)
	bad[10].Accel[0] = math.NaN()
	if _, err := a.Score(ctx, bad); !errors.Is(err, motion.ErrNonFinite) {
		t.Fatalf("NaN: %v", err)
	}
	bad = slices.Clone(w)
	bad[10].Accel[2] = 20 * motion.StandardGravity
	if _, err := a.Assess(ctx, bad); !errors.Is(err, motion.ErrAbsurdMagnitude) {
		t.Fatalf("20 g: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Score(cctx, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestAssessorPlausibilityConfig(t *testing.T) {
	ctx := context.Background()
	w := simWindow(t, sim.Vehicle, 4)
	m, err := motion.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	f, err := motion.Extract(w, motion.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, probs := m.Classify(f)
	strictP := map[string]float64{"vehicle": 0.01, "counter": 1, "handheld": 1, "walking": 0.5}
	lenientP := map[string]float64{"vehicle": 0.9, "counter": 1, "handheld": 1, "walking": 0.5}
	var wantStrict, wantLenient float64
	for l, p := range probs {
		wantStrict += p * strictP[l]
		wantLenient += p * lenientP[l]
	}
	s1, err1 := mustAssessor(t, motion.AssessorConfig{Plausibility: strictP}).Score(ctx, w)
	s2, err2 := mustAssessor(t, motion.AssessorConfig{Plausibility: lenientP}).Score(ctx, w)
	if err1 != nil || err2 != nil || math.Abs(s1.Confidence-wantStrict) > 1e-12 || math.Abs(s2.Confidence-wantLenient) > 1e-12 {
		t.Fatalf("strict %.4f (want %.4f) lenient %.4f (want %.4f) %v %v", s1.Confidence, wantStrict, s2.Confidence, wantLenient, err1, err2)
	}
	if probs["vehicle"] > 0.01 && !(s1.Confidence < s2.Confidence) {
		t.Fatalf("stricter vehicle plausibility did not lower confidence: %.4f vs %.4f", s1.Confidence, s2.Confidence)
	}
	// Classes missing from the map use UnknownPlausibility.
	partial := mustAssessor(t, motion.AssessorConfig{Plausibility: map[string]float64{}, UnknownPlausibility: 0.3})
	if s, _ := partial.Score(ctx, w); math.Abs(s.Confidence-0.3) > 1e-9 {
		t.Fatalf("unknown plausibility: %.4f", s.Confidence)
	}
	for _, c := range []motion.AssessorConfig{
		{Plausibility: map[string]float64{"vehicle": 1.5}},
		{UnknownPlausibility: -1},
		{ReasonThreshold: math.NaN()},
		{Window: motion.Config{MaxAccel: -1}},
	} {
		if err := c.Validate(); !errors.Is(err, motion.ErrConfig) {
			t.Errorf("%+v: Validate %v, want ErrConfig", c, err)
		}
		if a, err := motion.NewAssessor(c, nil); !errors.Is(err, motion.ErrConfig) || a != nil {
			t.Errorf("%+v: NewAssessor %v, want ErrConfig", c, err)
		}
	}
	if _, err := motion.NewAssessor(motion.AssessorConfig{}, &motion.Model{}); !errors.Is(err, motion.ErrNotTrained) {
		t.Errorf("untrained model: %v, want ErrNotTrained", err)
	}
}

func mustAssessor(t testing.TB, c motion.AssessorConfig) *motion.Assessor {
	t.Helper()
	a, err := motion.NewAssessor(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAssessorConcurrent(t *testing.T) {
	a := &motion.Assessor{}
	ctx := context.Background()
	wins := [][]motion.Sample{simWindow(t, sim.Counter, 1), simWindow(t, sim.Walking, 2), simWindow(t, sim.Vehicle, 3)}
	want := make([]float64, len(wins))
	for i, w := range wins {
		s, err := a.Score(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = s.Confidence
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 20 {
				i := (g + k) % len(wins)
				s, err := a.Score(ctx, wins[i])
				if err != nil || s.Confidence != want[i] {
					t.Errorf("goroutine %d: %v %v", g, s.Confidence, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestAssessorNeutralCalibration: under the neutral-0.5 contract of
// risk.Signal, a window too short to judge is exactly 0.5 (no evidence),
// and any judged window is a mixture of the class confidences, so its
// likelihood ratio lies between the classes' extremes.
func TestAssessorNeutralCalibration(t *testing.T) {
	ctx := context.Background()
	a := mustAssessor(t, motion.AssessorConfig{})
	w := simWindow(t, sim.Counter, 3)
	s, err := a.Score(ctx, w[:20])
	if err != nil || s.Confidence != 0.5 {
		t.Fatalf("short window: %+v %v, want exactly 0.5", s, err)
	}
	lo, hi := 1.0, 0.0
	for _, p := range motion.DefaultPlausibility() {
		lo, hi = min(lo, p), max(hi, p)
	}
	if !(lo < 0.5 && hi > 0.5) {
		t.Fatalf("default plausibilities %v do not straddle the neutral 0.5", motion.DefaultPlausibility())
	}
	for seed := uint64(1); seed <= 8; seed++ {
		for _, class := range sim.Classes() {
			s, err := a.Score(ctx, simWindow(t, class, seed))
			if err != nil {
				t.Fatal(err)
			}
			if s.Confidence < lo-1e-12 || s.Confidence > hi+1e-12 {
				t.Errorf("%s seed %d: confidence %v outside [%v, %v]", class, seed, s.Confidence, lo, hi)
			}
		}
	}
}

// TestAssessorDeprecatedFields: a struct-literal Assessor (the shape before
// NewAssessor) is configured by its fields, as before.
func TestAssessorDeprecatedFields(t *testing.T) {
	ctx := context.Background()
	w := simWindow(t, sim.Counter, 9)
	a := &motion.Assessor{InsufficientConfidence: 0.4}
	if s, err := a.Score(ctx, w[:20]); err != nil || s.Confidence != 0.4 {
		t.Fatalf("short window: %+v %v", s, err)
	}
	m, err := motion.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	b := &motion.Assessor{Model: m, Plausibility: map[string]float64{}, UnknownPlausibility: 0.3}
	if s, err := b.Score(ctx, w); err != nil || math.Abs(s.Confidence-0.3) > 1e-9 {
		t.Fatalf("plausibility fields: %+v %v", s, err)
	}
	if _, err := (&motion.Assessor{ReasonThreshold: 2}).Score(ctx, w); !errors.Is(err, motion.ErrConfig) {
		t.Fatalf("bad field: %v, want ErrConfig", err)
	}
}

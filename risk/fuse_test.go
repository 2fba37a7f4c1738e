package risk_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/payedge/payedge/risk"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

func TestFuseKnownAnswers(t *testing.T) {
	sig := func(src string, c float64) risk.Signal { return risk.Signal{Source: src, Confidence: c} }
	tests := []struct {
		name    string
		prior   float64
		signals []risk.Signal
		want    float64
	}{
		{"no signals returns prior", 0.7, nil, 0.7},
		{"one signal at even prior returns it", 0.5, []risk.Signal{sig("a", 0.9)}, 0.9},
		// prior 0.2 (logit −ln 4); a 0.8 signal (LR 4) adds +ln 4 → even odds.
		{"one signal adds its log-LR to the prior", 0.2, []risk.Signal{sig("a", 0.8)}, 0.5},
		{"a 0.5 signal leaves the prior", 0.2, []risk.Signal{sig("a", 0.5)}, 0.2},
		// logit = 2·ln 9 → 81/82.
		{"two independent 0.9 at 0.5", 0.5, []risk.Signal{sig("a", 0.9), sig("b", 0.9)}, 81.0 / 82.0},
		// Opposite evidence of equal strength cancels.
		{"cancel", 0.5, []risk.Signal{sig("a", 0.8), sig("b", 0.2)}, 0.5},
		// Issue 17: under the old reading (each cᵢ a posterior at the
		// prior) two neutral signals moved a 0.2 prior to 0.8.
		{"neutral signals leave a low prior", 0.2, []risk.Signal{sig("a", 0.5), sig("b", 0.5)}, 0.2},
		// prior 0.99 (LR 99) and a 0.98 signal (LR 49): odds 4851 → 4851/4852.
		{"strong evidence at a high prior", 0.99, []risk.Signal{sig("a", 0.98), sig("b", 0.5)}, 4851.0 / 4852.0},
		{"clamped certainty", 0.5, []risk.Signal{sig("a", 1)}, 1 - risk.DefaultEpsilon},
		{"clamped impossibility", 0.5, []risk.Signal{sig("a", 0)}, risk.DefaultEpsilon},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := risk.Fuse(tc.prior, tc.signals...); !near(got, tc.want, 1e-12) {
				t.Errorf("Fuse = %.15f, want %.15f", got, tc.want)
			}
		})
	}
}

func TestFuseCertaintyNeedsConfig(t *testing.T) {
	// Default: two certain-looking signals still leave doubt.
	if got := risk.Fuse(0.5, risk.Signal{Confidence: 1}, risk.Signal{Confidence: 1}); got > 1-1e-6 {
		t.Errorf("default fusion reached %v", got)
	}
	f, err := risk.NewFuser(risk.FuseConfig{Epsilon: 1e-15})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Fuse(0.5, risk.Signal{Confidence: 1}); got < 1-1e-14 {
		t.Errorf("configured fusion = %v, want ≈1", got)
	}
}

func TestFuseNaN(t *testing.T) {
	if got := risk.Fuse(math.NaN(), risk.Signal{Confidence: 0.9}); !math.IsNaN(got) {
		t.Errorf("NaN prior: got %v", got)
	}
	if got := risk.Fuse(0.5, risk.Signal{Confidence: math.NaN()}); !math.IsNaN(got) {
		t.Errorf("NaN confidence: got %v", got)
	}
}

func TestFuserWeights(t *testing.T) {
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"cam1": 0.5, "cam2": 0.5, "off": 0}})
	if err != nil {
		t.Fatal(err)
	}
	cams := f.Fuse(0.5, risk.Signal{Source: "cam1", Confidence: 0.9}, risk.Signal{Source: "cam2", Confidence: 0.9})
	if !near(cams, 0.9, 1e-12) {
		t.Errorf("two half-weighted correlated sources = %v, want 0.9", cams)
	}
	if got := f.Fuse(0.3, risk.Signal{Source: "off", Confidence: 0.99}); !near(got, 0.3, 1e-12) {
		t.Errorf("zero-weight source moved result to %v", got)
	}
	if f.Weight("other") != 1 || f.Weight("cam1") != 0.5 {
		t.Errorf("Weight lookup wrong")
	}
}

func TestFuseConfigValidate(t *testing.T) {
	bad := []risk.FuseConfig{
		{Epsilon: -1},
		{Epsilon: 0.5},
		{Epsilon: math.NaN()},
		{Epsilon: 1e-20},
		{Weights: map[string]float64{"a": -1}},
		{Weights: map[string]float64{"a": math.Inf(1)}},
		{Weights: map[string]float64{"a": math.NaN()}},
	}
	for i, c := range bad {
		_, err := risk.NewFuser(c)
		if !errors.Is(err, risk.ErrConfig) && !errors.Is(err, risk.ErrWeight) {
			t.Errorf("%d: err = %v, want ErrConfig or ErrWeight", i, err)
		}
	}
}

func TestExplain(t *testing.T) {
	f, _ := risk.NewFuser(risk.FuseConfig{})
	sigs := []risk.Signal{
		{Source: "vision", Confidence: 0.6},
		{Source: "neighbors", Confidence: 0.05, Reasons: []risk.Reason{{Code: "neighbors.few_known"}}},
		{Source: "geo", Confidence: 0.9},
	}
	r, err := f.Explain(0.5, sigs...)
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Confidence, risk.Fuse(0.5, sigs...), 1e-15) {
		t.Errorf("Explain %v != Fuse %v", r.Confidence, risk.Fuse(0.5, sigs...))
	}
	got := []string{}
	for _, c := range r.Contributions {
		got = append(got, c.Source)
	}
	if want := []string{"neighbors", "geo", "vision"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if top := r.Top(1); len(top) != 1 || top[0].LogLR >= 0 || top[0].Reasons[0].Code != "neighbors.few_known" {
		t.Errorf("Top(1) = %+v", top)
	}
	if fs := r.Signal("fused"); fs.Source != "fused" || fs.Confidence != r.Confidence || len(fs.Reasons) != 1 {
		t.Errorf("Signal = %+v", fs)
	}
	if len(r.Top(10)) != 3 || len(r.Top(-1)) != 0 {
		t.Errorf("Top bounds")
	}
	var sum float64
	for _, c := range r.Contributions {
		sum += c.LogLR
	}
	if !near(r.LogOdds, sum, 1e-12) || !near(r.LogOdds, logit(r.Confidence), 1e-9) {
		t.Errorf("LogOdds %v, Σ LogLR %v", r.LogOdds, sum)
	}
}

func TestExplainErrors(t *testing.T) {
	f, _ := risk.NewFuser(risk.FuseConfig{})
	for _, p := range []float64{math.NaN(), -0.1, 1.1} {
		if _, err := f.Explain(p); !errors.Is(err, risk.ErrConfidence) {
			t.Errorf("prior %v: err = %v", p, err)
		}
	}
	for _, c := range []float64{math.NaN(), -0.01, 1.01, math.Inf(1)} {
		_, err := f.Explain(0.5, risk.Signal{Source: "ok", Confidence: 0.5}, risk.Signal{Source: "bad", Confidence: c})
		se, ok := errors.AsType[*risk.SignalError](err)
		if !ok || !errors.Is(err, risk.ErrConfidence) || se.Index != 1 || se.Source != "bad" {
			t.Errorf("confidence %v: err = %v", c, err)
		}
	}
}

func randSignals(rng *rand.Rand, n int) []risk.Signal {
	srcs := []string{"vision", "motion", "geo", "neighbors", "biometric"}
	out := make([]risk.Signal, n)
	for i := range out {
		out[i] = risk.Signal{Source: srcs[rng.IntN(len(srcs))], Confidence: rng.Float64()}
	}
	return out
}

// Property tests: monotone in every confidence, symmetric in order,
// identity for a missing (or zero-weight) signal.
func TestFuseProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	f, _ := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"vision": 0.5, "geo": 2, "motion": 0}})
	fusers := []func(float64, ...risk.Signal) float64{risk.Fuse, f.Fuse}
	for iter := 0; iter < 2000; iter++ {
		fuse := fusers[iter%2]
		prior := 0.01 + 0.98*rng.Float64()
		sigs := randSignals(rng, 1+rng.IntN(6))
		base := fuse(prior, sigs...)

		// Monotone: raising any confidence never lowers the result.
		i := rng.IntN(len(sigs))
		up := slices.Clone(sigs)
		up[i].Confidence = sigs[i].Confidence + (1-sigs[i].Confidence)*rng.Float64()
		if got := fuse(prior, up...); got < base-1e-12 {
			t.Fatalf("not monotone: raising %s %v→%v lowered %v→%v", sigs[i].Source, sigs[i].Confidence, up[i].Confidence, base, got)
		}
		// Symmetric: any permutation gives the same result.
		perm := slices.Clone(sigs)
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		if got := fuse(prior, perm...); !near(got, base, 1e-12) {
			t.Fatalf("order matters: %v vs %v", got, base)
		}
		// Identity: removing a signal equals fusing without it; a 0.5
		// signal is no evidence.
		without := slices.Delete(slices.Clone(sigs), i, i+1)
		with := append(slices.Clone(without), risk.Signal{Source: "x", Confidence: 0.5})
		if a, b := fuse(prior, without...), fuse(prior, with...); !near(a, b, 1e-12) {
			t.Fatalf("a signal at the prior moved result %v→%v", a, b)
		}
		// Output stays a probability strictly inside (0, 1).
		if !(base > 0 && base < 1) {
			t.Fatalf("result %v out of (0,1)", base)
		}
	}
}

// The fusion contract of DESIGN.md ("The shared verdict"), at any prior
// and any weights: adding a 0.5 signal never changes the result, and the
// result never falls when the prior rises. Both failed on the old reading
// of confidences as posteriors at the prior.
func TestFuseNeutralSignalAndPriorMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"vision": 0.5, "geo": 3, "motion": 0}})
	if err != nil {
		t.Fatal(err)
	}
	priors := []float64{0, 1e-9, 0.01, 0.2, 0.5, 0.9, 0.99, 1 - 1e-9, 1}
	for iter := range 3000 {
		fuse := risk.Fuse
		if iter%2 == 1 {
			fuse = f.Fuse
		}
		sigs := randSignals(rng, rng.IntN(6))
		prior := rng.Float64()
		if iter%3 == 0 {
			prior = priors[rng.IntN(len(priors))]
		}
		base := fuse(prior, sigs...)
		for _, src := range []string{"vision", "geo", "neighbors", "new"} {
			with := append(slices.Clone(sigs), risk.Signal{Source: src, Confidence: 0.5})
			rng.Shuffle(len(with), func(a, b int) { with[a], with[b] = with[b], with[a] })
			if got := fuse(prior, with...); !near(got, base, 1e-12) {
				t.Fatalf("prior %v: adding a 0.5 %s signal moved %v → %v (signals %v)", prior, src, base, got, sigs)
			}
		}
		higher := prior + (1-prior)*rng.Float64()
		if got := fuse(higher, sigs...); got < base-1e-12 {
			t.Fatalf("prior %v → %v lowered the result %v → %v (signals %v)", prior, higher, base, got, sigs)
		}
	}
	// The case issue 17 measured: 0.331 under the old reading.
	if got := risk.Fuse(0.99, risk.Signal{Confidence: 0.98}, risk.Signal{Confidence: 0.5}); !(got > 0.99) {
		t.Errorf("Fuse(0.99, 0.98, 0.5) = %v, want > 0.99", got)
	}
}

// A zero-weight source is ignored by Fuse and Explain alike, even when its
// confidence is invalid.
func TestFuseZeroWeightIgnoresInvalid(t *testing.T) {
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"off": 0}})
	if err != nil {
		t.Fatal(err)
	}
	want := f.Fuse(0.5, risk.Signal{Source: "on", Confidence: 0.8})
	for _, bad := range []float64{math.NaN(), math.Inf(1), 7} {
		sigs := []risk.Signal{{Source: "on", Confidence: 0.8}, {Source: "off", Confidence: bad}}
		if got := f.Fuse(0.5, sigs...); got != want {
			t.Errorf("zero-weight %v changed fusion: %v, want %v", bad, got, want)
		}
		r, err := f.Explain(0.5, sigs...)
		if err != nil || r.Confidence != want || len(r.Contributions) != 2 || r.Contributions[1].LogLR != 0 {
			t.Errorf("Explain with zero-weight %v: %+v, %v", bad, r, err)
		}
	}
}

// Issue 20 point 3: a non-finite or out-of-range confidence or prior never
// raises the result. Fuse and Explain reject the same inputs (NaN from
// Fuse, a *SignalError from Explain), and the policy turns the NaN into an
// error and the fail-closed Decline. Old code: Fuse(0.5, +Inf) = 0.999.
func TestFuseRejectsInvalidConfidence(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1e-9, -0.5, 1 + 1e-9, 2, 7, math.MaxFloat64, -math.MaxFloat64}
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"vision": 0.5, "geo": 2}})
	if err != nil {
		t.Fatal(err)
	}
	var zero risk.Fuser
	pol := risk.PSD2Policy()
	tx := risk.Transaction{Amount: eur(5_00)}
	for iter := range 2000 {
		fu := []*risk.Fuser{f, &zero, nil}[iter%3]
		sigs := randSignals(rng, rng.IntN(5))
		i := rng.IntN(len(sigs) + 1)
		b := bad[rng.IntN(len(bad))]
		sigs = slices.Insert(sigs, i, risk.Signal{Source: "neighbors", Confidence: b})
		prior := rng.Float64()
		for _, p := range []float64{fu.Fuse(prior, sigs...), risk.Fuse(prior, sigs...)} {
			if !math.IsNaN(p) {
				t.Fatalf("confidence %v at %d: Fuse = %v, want NaN", b, i, p)
			}
		}
		_, err := fu.Explain(prior, sigs...)
		se, ok := errors.AsType[*risk.SignalError](err)
		if !ok || se.Index != i || !errors.Is(err, risk.ErrConfidence) {
			t.Fatalf("confidence %v at %d: Explain err = %v", b, i, err)
		}
		o, err := pol.Evaluate(fu.Fuse(prior, sigs...), tx)
		if !errors.Is(err, risk.ErrConfidence) || o.Decision != risk.Decline {
			t.Fatalf("confidence %v: policy %v, %v", b, o.Decision, err)
		}
		// An invalid prior likewise.
		if p := fu.Fuse(b, sigs[:i]...); !math.IsNaN(p) {
			t.Fatalf("prior %v: Fuse = %v, want NaN", b, p)
		}
		if _, err := fu.Explain(b, sigs[:i]...); !errors.Is(err, risk.ErrConfidence) {
			t.Fatalf("prior %v: Explain err = %v", b, err)
		}
	}
}

// Contributions of equal influence keep argument order.
func TestExplainTiesKeepOrder(t *testing.T) {
	f, _ := risk.NewFuser(risk.FuseConfig{})
	r, err := f.Explain(0.5,
		risk.Signal{Source: "up", Confidence: 0.8},
		risk.Signal{Source: "none", Confidence: 0.5},
		risk.Signal{Source: "down", Confidence: 0.1},
		risk.Signal{Source: "up2", Confidence: 0.8},
	)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Contributions {
		got = append(got, c.Source)
	}
	if want := []string{"down", "up", "up2", "none"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	// logit = 2·ln 4 − ln 9 → 16/25.
	if !near(r.Confidence, 16.0/25, 1e-12) {
		t.Errorf("confidence %v, want 0.64", r.Confidence)
	}
}

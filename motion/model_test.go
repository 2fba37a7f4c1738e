package motion

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// gaussianExamples draws examples from well-separated Gaussian clusters on
// a few features, one cluster per label, for subjects s0…s(subjects-1);
// 16 features are noise and the rest constant.
func gaussianExamples(labels []string, subjects, per int, r *rand.Rand) []Example {
	var out []Example
	for s := range subjects {
		for c, l := range labels {
			for range per {
				var f Features
				for j := range 16 {
					f[j] = r.NormFloat64()
				}
				f[NumFeatures-1-c] = r.NormFloat64()
				f[c] += 4
				f[NumFeatures-1-c] -= 3
				out = append(out, Example{Features: f, Label: l, Subject: fmt.Sprintf("s%d", s)})
			}
		}
	}
	return out
}

func TestTrainAnyLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	labels := []string{"sitting", "standing", "läuft", "🚲"}
	ex := gaussianExamples(labels, 6, 10, r)
	train, test := LeaveSubjectsOut(ex, []string{"s4", "s5"})
	m, err := Train(train, TrainConfig{L2: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Labels(); strings.Join(got, ",") != "läuft,sitting,standing,🚲" {
		t.Fatalf("labels %v", got)
	}
	ev, err := Evaluate(m, test)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Accuracy < 0.97 || ev.N != len(test) {
		t.Fatalf("accuracy %.3f on separable clusters\n%s", ev.Accuracy, ev)
	}
	for _, e := range test[:5] {
		label, probs := m.Classify(e.Features)
		var sum float64
		for _, p := range probs {
			sum += p
		}
		if len(probs) != 4 || math.Abs(sum-1) > 1e-12 || probs[label] < 0.25 {
			t.Fatalf("Classify = %q %v", label, probs)
		}
	}
	// Non-finite features are replaced by the training mean, not propagated.
	var f Features
	for j := range f {
		f[j] = math.NaN()
	}
	if l, p := m.Classify(f); l == "" || math.IsNaN(p[l]) {
		t.Fatalf("NaN features: %q %v", l, p)
	}
}

func TestTrainBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ok := gaussianExamples([]string{"a", "b"}, 2, 3, r)
	nan := append([]Example(nil), ok...)
	nan[2].Features[5] = math.Inf(-1)
	many := make([]Example, MaxClasses+1)
	for i := range many {
		many[i].Label = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		name string
		ex   []Example
		cfg  TrainConfig
		want error
	}{
		{"none", nil, TrainConfig{}, ErrNoExamples},
		{"one class", gaussianExamples([]string{"only"}, 2, 5, r), TrainConfig{}, ErrOneClass},
		{"empty label", []Example{{Label: "a"}, {Label: ""}}, TrainConfig{}, ErrLabel},
		{"long label", []Example{{Label: "a"}, {Label: strings.Repeat("x", MaxLabelLen+1)}}, TrainConfig{}, ErrLabel},
		{"bad utf-8", []Example{{Label: "a"}, {Label: "\xff"}}, TrainConfig{}, ErrLabel},
		{"non-finite", nan, TrainConfig{}, ErrBadFeatures},
		{"too many classes", many, TrainConfig{}, ErrTooManyClasses},
		{"bad feature config", ok, TrainConfig{Features: Config{Rate: -5}}, ErrConfig},
	} {
		if _, err := Train(tc.ex, tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestModelMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ex := gaussianExamples([]string{"x", "y", "z"}, 3, 8, r)
	m, err := Train(ex, TrainConfig{Features: Config{Rate: 40, GravityCutoff: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m2 Model
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	if c := m2.FeatureConfig(); c.Rate != 40 || c.GravityCutoff != 0.5 {
		t.Fatalf("feature config %+v", c)
	}
	for _, e := range ex {
		l1, p1 := m.Classify(e.Features)
		l2, p2 := m2.Classify(e.Features)
		if l1 != l2 || p1[l1] != p2[l2] {
			t.Fatal("decoded model classifies differently")
		}
	}
	if _, err := new(Model).MarshalBinary(); !errors.Is(err, ErrNotTrained) {
		t.Fatal(err)
	}
	if l, p := new(Model).Classify(Features{}); l != "" || p != nil {
		t.Fatal("untrained model classified")
	}
}

func TestModelUnmarshalRejects(t *testing.T) {
	good := DefaultModelBytes()
	// Offsets: magic 8, version 1, layout 8, count 4, rate 8, cutoff 8, classes 1.
	const (
		offLayout  = 9
		offCount   = 17
		offRate    = 21
		offClasses = 37
	)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrModel},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrModel},
		{"version", edit(func(b []byte) []byte { b[8] = 9; return b }), ErrModel},
		{"layout", edit(func(b []byte) []byte { b[offLayout] ^= 1; return b }), ErrLayout},
		{"feature count", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[offCount:], NumFeatures+1)
			return b
		}), ErrLayout},
		{"rate NaN", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[offRate:], math.Float64bits(math.NaN()))
			return b
		}), ErrModel},
		{"one class", edit(func(b []byte) []byte { b[offClasses] = 1; return b }), ErrModel},
		{"255 classes", edit(func(b []byte) []byte { b[offClasses] = 255; return b }), ErrModel},
		{"duplicate label", edit(func(b []byte) []byte {
			// The labels are counter, handheld, …: make the second "counter".
			copy(b[offClasses+1+1+7+1:], "counter\x00")
			b[offClasses+1+7+1] = 7
			return b
		}), ErrModel},
		{"truncated", good[:len(good)-1], ErrModel},
		{"trailing", append(bytes.Clone(good), 0), ErrModel},
		{"huge intercept", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-8:], math.Float64bits(1e7))
			return b
		}), ErrModel},
		{"NaN weight", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-8:], math.Float64bits(math.NaN()))
			return b
		}), ErrModel},
	} {
		var m Model
		if err := m.UnmarshalBinary(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEvaluateAndSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ex := gaussianExamples([]string{"a", "b"}, 5, 4, r)
	train, test, err := SplitBySubject(ex, 0.4, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range train {
		seen[e.Subject] = true
	}
	for _, e := range test {
		if seen[e.Subject] {
			t.Fatalf("subject %s on both sides", e.Subject)
		}
	}
	if len(Subjects(test)) != 2 || len(train)+len(test) != len(ex) {
		t.Fatalf("split %d/%d subjects %v", len(train), len(test), Subjects(test))
	}
	folds, err := SubjectFolds(ex, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil || len(folds) != 5 || len(folds[0]) != 1 {
		t.Fatalf("folds %v %v", folds, err)
	}
	if _, err := SubjectFolds(ex, 6, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("6 folds of 5 subjects accepted")
	}
	if _, err := SubjectFolds(ex, 6, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrTooFewSubjects) || !errors.Is(err, ErrConfig) {
		t.Errorf("6 folds: %v, want ErrTooFewSubjects and ErrConfig", err)
	}
	if _, err := SubjectFolds(ex, 3, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil rng: %v, want ErrConfig", err)
	}
	if _, _, err := SplitBySubject(ex, 0.5, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil rng: %v, want ErrConfig", err)
	}
	if _, _, err := SplitBySubject(ex[:1], 0.5, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrTooFewSubjects) {
		t.Fatal("split of one subject accepted")
	}
	if _, _, err := SplitBySubject(ex, 1, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Fatal("test fraction 1 accepted")
	}
	m, err := Train(train, TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Evaluate(m, test)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, row := range ev.Confusion {
		for _, c := range row {
			total += c
		}
		if ev.PerClass[i].Support != ev.Confusion[i][0]+ev.Confusion[i][1] {
			t.Fatal("support mismatch")
		}
	}
	if total != len(test) || ev.ECE < 0 || ev.ECE > 1 || ev.LogLoss < 0 {
		t.Fatalf("evaluation %+v", ev)
	}
	if !strings.Contains(ev.String(), "accuracy") {
		t.Fatal(ev.String())
	}
	if _, err := Evaluate(m, []Example{{Label: "zzz"}}); !errors.Is(err, ErrUnknownLabel) {
		t.Fatal(err)
	}
	if _, err := Evaluate(m, nil); !errors.Is(err, ErrNoExamples) {
		t.Fatal(err)
	}
	if _, err := Evaluate(nil, test); !errors.Is(err, ErrNotTrained) {
		t.Fatal(err)
	}
}

func TestCrossValidate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ex := gaussianExamples([]string{"a", "b", "c"}, 6, 5, r)
	ev, err := CrossValidate(ex, 3, TrainConfig{L2: 0.01}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if ev.N != len(ex) || ev.Accuracy < 0.95 || len(ev.Labels) != 3 {
		t.Fatalf("cross-validation:\n%s", ev)
	}
	if _, err := CrossValidate(ex, 7, TrainConfig{}, rand.New(rand.NewPCG(1, 2))); !errors.Is(err, ErrConfig) {
		t.Fatalf("7 folds of 6 subjects: %v", err)
	}
	// A fold whose training set has one class fails with ErrOneClass.
	one := gaussianExamples([]string{"a"}, 2, 3, r)
	one = append(one, Example{Features: one[0].Features, Label: "b", Subject: "s0"})
	if _, err := CrossValidate(one, 2, TrainConfig{}, rand.New(rand.NewPCG(1, 2))); !errors.Is(err, ErrOneClass) {
		t.Fatalf("one-class fold: %v", err)
	}
}

// Perfectly confident wrong predictions give ECE 1; matching confidence
// and accuracy give ECE 0.
func TestECEKnownValues(t *testing.T) {
	m := &Model{labels: []string{"a", "b"}, rate: 50, cutoff: 0.3}
	for j := range m.tau {
		m.tau[j], m.invScale[j] = 1, 1
	}
	m.w = make([]float64, 2*NumFeatures)
	m.b = []float64{40, 0} // always "a" with probability ≈ 1
	ev, err := Evaluate(m, []Example{{Label: "b"}, {Label: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ev.ECE-1) > 1e-9 || ev.Accuracy != 0 {
		t.Fatalf("ECE %v accuracy %v", ev.ECE, ev.Accuracy)
	}
	if rb := ev.Reliability[ECEBins-1]; len(ev.Reliability) != ECEBins || rb.N != 2 || rb.Accuracy != 0 || rb.Confidence < 0.999 || rb.Hi != 1 {
		t.Fatalf("reliability %+v", ev.Reliability)
	}
	ev, _ = Evaluate(m, []Example{{Label: "a"}, {Label: "a"}})
	if ev.ECE > 1e-9 || ev.Accuracy != 1 {
		t.Fatalf("ECE %v accuracy %v", ev.ECE, ev.Accuracy)
	}
}

func TestModelConcurrentClassify(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Extract(benchWindow(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Classify(f)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if got, _ := m.Classify(f); got != want {
					t.Errorf("got %q want %q", got, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestSlog1p(t *testing.T) {
	for _, y := range []float64{0, 1e-9, 0.3, 1, 2.5, 1e3, 1e200, -0.5, -7e5} {
		want := math.Copysign(math.Log1p(math.Abs(y)), y)
		if got := slog1p(y); math.Abs(got-want) > 5e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("slog1p(%g) = %g, want %g", y, got, want)
		}
	}
}

// An untrained model classifies nothing instead of panicking.
func TestUntrainedModelClassify(t *testing.T) {
	var f Features
	probs := make([]float64, MaxClasses)
	for _, m := range []*Model{nil, {}} {
		if got := m.ClassifyInto(&f, probs); got != -1 {
			t.Errorf("ClassifyInto = %d, want -1", got)
		}
		if l, p := m.Classify(f); l != "" || p != nil {
			t.Errorf("Classify = %q, %v", l, p)
		}
		if _, err := m.MarshalBinary(); !errors.Is(err, ErrNotTrained) {
			t.Errorf("MarshalBinary: %v", err)
		}
	}
}

// TestAccelOnlyAndCompanion: an AccelOnly model ignores every gyroscope
// feature; a model with a companion hands windows without gyroscope to it;
// both survive a marshal round trip, and a tampered companion is rejected.
func TestAccelOnlyAndCompanion(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ex := gaussianExamples([]string{"a", "b"}, 3, 10, r)
	gi := FeatureIndex("gyro_mag.mean")
	hg := FeatureIndex("has_gyro")
	for i := range ex {
		ex[i].Features[hg] = 1
		ex[i].Features[gi] = float64(len(ex[i].Label)) + r.NormFloat64() // noise the gyro-free model must not see
	}
	acc, err := Train(ex, TrainConfig{AccelOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !acc.AccelOnly() || acc.AccelCompanion() != nil {
		t.Fatal("AccelOnly model flags")
	}
	f := ex[0].Features
	_, p1 := acc.Classify(f)
	f[gi], f[hg] = 1e6, 0
	if _, p2 := acc.Classify(f); p1["a"] != p2["a"] {
		t.Fatalf("accelerometer-only model reads gyroscope features: %v vs %v", p1, p2)
	}
	full, err := Train(ex, TrainConfig{AccelCompanion: true})
	if err != nil {
		t.Fatal(err)
	}
	comp := full.AccelCompanion()
	if comp == nil || !comp.AccelOnly() || full.AccelOnly() {
		t.Fatal("companion missing")
	}
	noGyro := ex[1].Features
	noGyro[hg] = 0
	_, pf := full.Classify(noGyro)
	_, pc := comp.Classify(noGyro)
	if pf["a"] != pc["a"] {
		t.Fatalf("window without gyroscope not handed to the companion: %v vs %v", pf, pc)
	}
	b, err := full.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if b2, _ := back.MarshalBinary(); !bytes.Equal(b, b2) || back.AccelCompanion() == nil {
		t.Fatal("companion lost in the round trip")
	}
	// Flip the companion's accelerometer-only flag (its last byte).
	bad := bytes.Clone(b)
	bad[len(bad)-1] ^= 1
	if err := new(Model).UnmarshalBinary(bad); !errors.Is(err, ErrModel) {
		t.Fatalf("companion without AccelOnly accepted: %v", err)
	}
	// Truncate inside the companion.
	if err := new(Model).UnmarshalBinary(b[:len(b)-9]); !errors.Is(err, ErrModel) {
		t.Fatalf("truncated companion accepted: %v", err)
	}
}

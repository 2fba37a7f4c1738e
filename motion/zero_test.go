package motion_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/motion"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value. Each works (the zero configurations stand for the
// defaults; the zero Extractor and Assessor use them) or returns one clear
// error (ErrNotTrained for the zero Model); none panics or misleads.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	win := sineWindow(128, 50)
	cases := map[string]func(t *testing.T){
		"Config": func(t *testing.T) {
			var c motion.Config
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		},
		"CSVConfig": func(t *testing.T) {
			var c motion.CSVConfig
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := motion.DefaultCSVConfig(); d.MaxRows != 1_000_000 || d.MaxLineBytes != 4096 || d.TimeUnit <= 0 {
				t.Fatalf("defaults %+v", d)
			}
			if err := (motion.CSVConfig{MaxLineBytes: 4}).Validate(); !errors.Is(err, motion.ErrConfig) {
				t.Fatalf("MaxLineBytes 4: %v", err)
			}
		},
		"TrainConfig": func(t *testing.T) {
			var c motion.TrainConfig
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := motion.DefaultTrainConfig(); d.MaxIterations <= 0 || d.L2 <= 0 {
				t.Fatalf("defaults %+v", d)
			}
			if err := (motion.TrainConfig{L2: math.NaN()}).Validate(); !errors.Is(err, motion.ErrConfig) {
				t.Fatalf("NaN L2: %v", err)
			}
		},
		"AssessorConfig": func(t *testing.T) {
			var c motion.AssessorConfig
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := motion.DefaultAssessorConfig(); d.InsufficientConfidence != 0.5 || d.Plausibility == nil {
				t.Fatalf("defaults %+v", d)
			}
		},
		"Assessor": func(t *testing.T) {
			var a motion.Assessor
			if _, err := a.Score(ctx, win); err != nil {
				t.Fatal(err)
			}
			var b motion.Assessor
			if _, err := b.Assess(ctx, win); err != nil {
				t.Fatal(err)
			}
			var c motion.Assessor
			if r, err := c.Classify(ctx, win); err != nil || r.Label == "" {
				t.Fatal(r, err)
			}
			var d motion.Assessor
			if _, err := d.ScoreFeatures(motion.Features{}); err != nil {
				t.Fatal(err)
			}
			var e motion.Assessor
			if e.Config().InsufficientConfidence != 0.5 {
				t.Fatal("zero Assessor's Config lacks defaults")
			}
		},
		"Extractor": func(t *testing.T) {
			var e motion.Extractor
			if e.Config() != motion.DefaultConfig() {
				t.Fatalf("Config %+v", e.Config())
			}
			_ = e.Info()
			if _, err := e.Extract(win); err != nil {
				t.Fatalf("Extract: %v", err)
			}
			var e2 motion.Extractor
			var f motion.Features
			if err := e2.ExtractInto(&f, win); err != nil {
				t.Fatalf("ExtractInto: %v", err)
			}
			if e2.Info().N != len(win) {
				t.Fatalf("Info %+v", e2.Info())
			}
		},
		"Model": func(t *testing.T) {
			var m motion.Model
			if l := m.Labels(); len(l) != 0 {
				t.Fatal(l)
			}
			if m.FeatureConfig() != motion.DefaultConfig() || m.Iterations() != 0 {
				t.Fatal("zero model config")
			}
			var f motion.Features
			if got := m.ClassifyInto(&f, make([]float64, 4)); got != -1 {
				t.Fatalf("ClassifyInto = %d, want -1", got)
			}
			if l, p := m.Classify(f); l != "" || p != nil {
				t.Fatalf("Classify = %q %v", l, p)
			}
			if _, _, err := m.Predict(f); !errors.Is(err, motion.ErrNotTrained) {
				t.Fatalf("Predict: %v", err)
			}
			if _, err := m.MarshalBinary(); !errors.Is(err, motion.ErrNotTrained) {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if err := m.UnmarshalBinary(nil); !errors.Is(err, motion.ErrModel) {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
		},
		"Features": func(t *testing.T) {
			var f motion.Features
			if len(f.Names()) != motion.NumFeatures {
				t.Fatal("Names")
			}
			if _, ok := f.Get("acc_mag.mean"); !ok {
				t.Fatal("Get")
			}
			if !strings.Contains(f.String(), "acc_mag.mean=0") {
				t.Fatal("String")
			}
		},
		"Evaluation": func(t *testing.T) {
			var ev motion.Evaluation
			if !strings.Contains(ev.String(), "n=0") {
				t.Fatal(ev.String())
			}
		},
		"WindowError": func(t *testing.T) {
			var e motion.WindowError
			if e.Error() == "" || e.Unwrap() != nil {
				t.Fatal(e.Error())
			}
		},
		"CSVError": func(t *testing.T) {
			var e motion.CSVError
			if !errors.Is(&e, motion.ErrCSV) || e.Error() == "" {
				t.Fatal(e.Error())
			}
		},
		"HAPTConfig": func(t *testing.T) {
			var c motion.HAPTConfig
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := motion.DefaultHAPTConfig(); d.MaxFileBytes <= 0 || d.MaxFiles <= 0 {
				t.Fatalf("defaults %+v", d)
			}
			if _, err := motion.ReadHAPT(nil, c); !errors.Is(err, motion.ErrConfig) {
				t.Fatalf("nil fs: %v", err)
			}
		},
		"HAPTError": func(t *testing.T) {
			var e motion.HAPTError
			if !errors.Is(&e, motion.ErrHAPT) || e.Error() == "" {
				t.Fatal(e.Error())
			}
		},
		"Recording": func(t *testing.T) {
			var r motion.Recording
			if w, err := r.Windows(motion.DefaultWindow, motion.DefaultHop); err != nil || len(w) != 0 {
				t.Fatal(w, err)
			}
		},
	}
	names := make([]string, 0, len(cases))
	for name, f := range cases {
		names = append(names, name)
		t.Run(name, f)
	}
	zerotest.Covered(t, names...)
}

// sineWindow is n samples at rate Hz of a terminal rocking gently at 1.5 Hz.
func sineWindow(n int, rate float64) []motion.Sample {
	w := make([]motion.Sample, n)
	for i := range w {
		t := float64(i) / rate
		w[i].T = time.Duration(t * float64(time.Second))
		w[i].Accel = [3]float64{0.3 * math.Sin(2*math.Pi*1.5*t), 0.1, motion.StandardGravity + 0.2*math.Cos(2*math.Pi*1.5*t)}
		w[i].Gyro = [3]float64{0.05 * math.Sin(2*math.Pi*1.5*t), 0, 0}
	}
	return w
}

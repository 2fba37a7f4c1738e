package motion

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchWindow is a 2.56 s, 50 Hz, 6-axis window of a walking-like signal
// with noise.
func benchWindow() []Sample {
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]Sample, 128)
	for i := range s {
		t := float64(i) / 50
		s[i].T = time.Duration(i) * 20 * time.Millisecond
		s[i].Accel = [3]float64{
			0.8*math.Sin(2*math.Pi*1.8*t) + 0.05*r.NormFloat64(),
			3 + 0.5*math.Sin(2*math.Pi*0.9*t) + 0.05*r.NormFloat64(),
			9 + 2*math.Sin(2*math.Pi*1.8*t+1) + 0.05*r.NormFloat64(),
		}
		s[i].Gyro = [3]float64{
			0.3 * math.Sin(2*math.Pi*0.9*t), 0.2 * math.Cos(2*math.Pi*1.8*t), 0.01 * r.NormFloat64(),
		}
	}
	return s
}

func BenchmarkExtract(b *testing.B) {
	e, err := NewExtractor(Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := benchWindow()
	var f Features
	if err := e.ExtractInto(&f, w); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.ExtractInto(&f, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractJittered is Extract on a window whose timestamps jitter by
// ±20 % of the period, as real phones deliver them.
func BenchmarkExtractJittered(b *testing.B) {
	e, err := NewExtractor(Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := benchWindow()
	r := rand.New(rand.NewPCG(5, 6))
	for i := 1; i < len(w); i++ {
		w[i].T += time.Duration((r.Float64() - 0.5) * 8e6)
	}
	var f Features
	if err := e.ExtractInto(&f, w); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.ExtractInto(&f, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassify is the public Classify, including its result map.
func BenchmarkClassify(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	f, err := Extract(benchWindow(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Classify(f)
	}
}

// BenchmarkClassifyInto is the allocation-free form.
func BenchmarkClassifyInto(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	f, err := Extract(benchWindow(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	probs := make([]float64, len(m.Labels()))
	b.ReportAllocs()
	for b.Loop() {
		m.ClassifyInto(&f, probs)
	}
}

// BenchmarkAssessorScore is the whole path from samples to risk.Signal.
func BenchmarkAssessorScore(b *testing.B) {
	a := &Assessor{}
	w := benchWindow()
	ctx := context.Background()
	if _, err := a.Score(ctx, w); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Score(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
}

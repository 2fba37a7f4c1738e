package motion

import (
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

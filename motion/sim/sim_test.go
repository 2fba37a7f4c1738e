package sim

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/payedge/payedge/motion"
)

func TestDeterministic(t *testing.T) {
	gen := func() []Window {
		ws, err := Dataset(DatasetConfig{Subjects: 3, WindowsPerClass: 2}, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	a, b := gen(), gen()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different data")
	}
	if len(a) != 3*2*4 {
		t.Fatalf("%d windows", len(a))
	}
}

func TestWindowsValidAndPhysical(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	e, err := motion.NewExtractor(motion.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		s := NewSubject("p", 0.5, rng)
		for _, c := range Classes() {
			w, err := Generator{}.Window(&s, c, rng)
			if err != nil {
				t.Fatal(err)
			}
			f, err := e.Extract(w)
			if err != nil {
				t.Fatalf("subject %d %s: %v", i, c, err)
			}
			get := func(n string) float64 { v, _ := f.Get(n); return v }
			// A 2.56 s window holds only a few gait cycles, so the low-pass
			// keeps some of a vigorous walk; a car's sustained lateral and
			// longitudinal accelerations (to 4 m/s²) add to gravity.
			tol := 0.3
			if c == Walking || c == Vehicle {
				tol = 1.5
			}
			if g := get("gravity"); math.Abs(g-motion.StandardGravity) > tol {
				t.Errorf("%s: gravity estimate %.3f", c, g)
			}
			if hg := get("has_gyro"); (hg == 1) != s.HasGyro {
				t.Errorf("%s: has_gyro %v, device %v", c, hg, s.HasGyro)
			}
			switch c {
			case Counter:
				if tl := get("tilt"); tl > 0.65 && tl < math.Pi-0.65 { // up to 35° on a stand
					t.Errorf("counter tilt %.2f rad", tl)
				}
			case Handheld:
				if tl := get("tilt"); tl < 0.25 || tl > 1.5 {
					t.Errorf("handheld tilt %.2f rad", tl)
				}
			case Walking:
				// The autocorrelation peaks at the step or the stride (two
				// steps) period.
				p := get("acc_mag.ac_period")
				if math.Abs(1/p-s.StepFreq) > 0.2*s.StepFreq && math.Abs(2/p-s.StepFreq) > 0.2*s.StepFreq {
					t.Errorf("walking: step period %.3f s for step frequency %.2f Hz", p, s.StepFreq)
				}
				if sd := get("acc_mag.std"); sd < 0.4 {
					t.Errorf("walking: acc_mag std %.3f", sd)
				}
			case Vehicle:
				// A device sampling below 40 Hz cannot see most of the
				// 8–24 Hz road and engine vibration.
				if b := get("body_mag.band_7_13hz") + get("body_mag.band_13hz_up"); b < 0.015 && s.Rate >= 40 {
					t.Errorf("vehicle: only %.3f of body power above 7 Hz", b)
				}
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := NewSubject("x", 0, rng)
	if _, err := (Generator{}).Window(&s, "flying", rng); err == nil {
		t.Fatal("unknown class accepted")
	}
	if _, err := Dataset(DatasetConfig{Subjects: 1e6}, rng); err == nil {
		t.Fatal("a million subjects accepted")
	}
	if _, err := Dataset(DatasetConfig{Classes: []string{"flying"}, Subjects: 1, WindowsPerClass: 1}, rng); err == nil {
		t.Fatal("unknown class accepted by Dataset")
	}
	if _, err := Examples(nil, motion.Config{Rate: -1}); err == nil {
		t.Fatal("bad config accepted")
	}
}

func TestWindowDurationBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewSubject("s", 0, rng)
	if _, err := (Generator{Duration: MaxDuration + 1}).Window(&s, Counter, rng); err == nil {
		t.Fatal("a window longer than MaxDuration was generated")
	}
	if _, err := (Generator{Duration: 3 * time.Second}).Window(&s, Counter, rng); err != nil {
		t.Fatal(err)
	}
}

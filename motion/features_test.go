package motion

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// window builds a regular 50 Hz window of n samples from accel and gyro
// functions of time in seconds.
func window(n int, rate float64, acc, gyr func(t float64) [3]float64) []Sample {
	s := make([]Sample, n)
	for i := range s {
		t := float64(i) / rate
		s[i].T = time.Duration(math.Round(t * 1e9))
		s[i].Accel = acc(t)
		if gyr != nil {
			s[i].Gyro = gyr(t)
		}
	}
	return s
}

func feat(t *testing.T, f *Features, name string) float64 {
	t.Helper()
	v, ok := f.Get(name)
	if !ok {
		t.Fatalf("no feature %q", name)
	}
	return v
}

func near(t *testing.T, f *Features, name string, want, tol float64) {
	t.Helper()
	if got := feat(t, f, name); !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.6g, want %.6g ± %.3g", name, got, want, tol)
	}
}

func TestFeatureNamesLayout(t *testing.T) {
	var f Features
	names := f.Names()
	if len(names) != NumFeatures {
		t.Fatalf("%d names for %d features", len(names), NumFeatures)
	}
	seen := map[string]bool{}
	for i, n := range names {
		if n == "" || seen[n] {
			t.Fatalf("name %d %q empty or repeated", i, n)
		}
		seen[n] = true
		if FeatureIndex(n) != i {
			t.Fatalf("FeatureIndex(%q) = %d, want %d", n, FeatureIndex(n), i)
		}
	}
	names[0] = "changed"
	if f.Names()[0] == "changed" {
		t.Fatal("Names exposes internal state")
	}
	if FeatureIndex("nope") != -1 {
		t.Fatal("unknown name found")
	}
}

// A sine on the axis aligned with gravity: acc_mag = g + A·sin(2πft)
// exactly, body_z ≈ A·sin (the 0.3 Hz low-pass removes < 0.1 % at 2 Hz).
func TestFeaturesPureSine(t *testing.T) {
	const A = 1.5
	for _, tc := range []struct {
		name   string
		f      float64
		band   string
		tol    float64
		period bool // whole periods in the window, phases well spread
	}{
		{"on-bin 2.34375 Hz", 6 * 50.0 / 128, "acc_mag.band_1_3hz", 0.01, true},
		{"on-bin 5.078125 Hz", 13 * 50.0 / 128, "acc_mag.band_3_7hz", 0.01, true},
		{"off-bin 1.8 Hz", 1.8, "acc_mag.band_1_3hz", 0.03, false},
		{"tremor 10.3 Hz", 10.3, "acc_mag.band_7_13hz", 0.03, false},
		{"vibration 18.2 Hz", 18.2, "acc_mag.band_13hz_up", 0.03, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := window(128, 50, func(x float64) [3]float64 {
				return [3]float64{0, 0, StandardGravity + A*math.Sin(2*math.Pi*tc.f*x)}
			}, nil)
			f, err := Extract(s, Config{})
			if err != nil {
				t.Fatal(err)
			}
			near(t, &f, "acc_mag.dom_freq", tc.f, tc.tol)
			near(t, &f, tc.band, 1, 0.02)
			near(t, &f, "acc_mag.spectral_entropy", 0, 0.35)
			near(t, &f, "has_gyro", 0, 0)
			near(t, &f, "tilt", 0, 0.01)
			if !tc.period {
				return
			}
			near(t, &f, "acc_mag.mean", StandardGravity, 0.05)
			near(t, &f, "acc_mag.std", A/math.Sqrt2, 0.03)
			near(t, &f, "acc_mag.energy", StandardGravity*StandardGravity+A*A/2, 0.5)
			near(t, &f, "acc_mag.kurtosis", -1.5, 0.1) // a sine's excess kurtosis
			near(t, &f, "acc_mag.skewness", 0, 0.1)
			near(t, &f, "acc_mag.mcr", 2*tc.f, 0.5)
			near(t, &f, "acc_mag.iqr", A*math.Sqrt2, 0.1) // 2·A·sin(π/4)
			near(t, &f, "acc_mag.mad", A*math.Sqrt2/2, 0.1)
			near(t, &f, "acc_mag.max", StandardGravity+A, 0.05)
			near(t, &f, "acc_mag.min", StandardGravity-A, 0.05)
			near(t, &f, "body_z.std", A/math.Sqrt2, 0.05)
		})
	}
}

// Constant gravity at a tilt θ about the x axis: tilt = θ, no motion.
func TestFeaturesConstantTilt(t *testing.T) {
	for _, deg := range []float64{0, 10, 35, 90, 135, 180} {
		th := deg * math.Pi / 180
		s := window(150, 50, func(float64) [3]float64 {
			return [3]float64{0, StandardGravity * math.Sin(th), StandardGravity * math.Cos(th)}
		}, nil)
		f, err := Extract(s, Config{})
		if err != nil {
			t.Fatal(err)
		}
		near(t, &f, "tilt", th, 1e-6)
		near(t, &f, "tilt_std", 0, 1e-6)
		near(t, &f, "tilt_max", 0, 1e-6)
		near(t, &f, "tilt_rate", 0, 1e-6)
		near(t, &f, "gravity", StandardGravity, 1e-9)
		near(t, &f, "body_mag.max", 0, 1e-9)
		near(t, &f, "acc_mag.std", 0, 1e-9)
		near(t, &f, "acc_mag.dom_freq", 0, 0)
		near(t, &f, "acc_mag.entropy", 0, 0)
		near(t, &f, "acc_mag.ac_peak", 0, 0)
		for i, n := range f.Names() {
			if strings.HasPrefix(n, "gyro_") && f[i] != 0 {
				t.Errorf("%s = %v without a gyroscope", n, f[i])
			}
		}
	}
}

// Gravity rotating at ω rad/s about x: tilt_rate = ω, and the deviation from
// the mean direction reaches about ω·T/2 at the window ends.
func TestFeaturesRotatingGravity(t *testing.T) {
	const w = 0.3
	s := window(128, 50, func(x float64) [3]float64 {
		a := w * x
		return [3]float64{0, StandardGravity * math.Sin(a), StandardGravity * math.Cos(a)}
	}, func(float64) [3]float64 { return [3]float64{w, 0, 0} })
	f, err := Extract(s, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, &f, "tilt_rate", w, 0.03)
	near(t, &f, "tilt_max", w*2.54/2, 0.05)
	near(t, &f, "tilt", w*2.54/2, 0.02)
	near(t, &f, "gyro_x.mean", w, 1e-12)
	near(t, &f, "has_gyro", 1, 0)
}

// White noise has a flat spectrum: band fractions proportional to the number
// of FFT bins in each band, high spectral entropy.
func TestFeaturesWhiteNoiseFlatSpectrum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	e, err := NewExtractor(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// Bins k = 1…64 at k·50/128 Hz: 2 below 1 Hz, 5 in 1–3, 10 in 3–7, 16 in
	// 7–13 and 31 at 13 Hz and above.
	want := map[string]float64{"band_0_1hz": 2.0 / 64, "band_1_3hz": 5.0 / 64, "band_3_7hz": 10.0 / 64,
		"band_7_13hz": 16.0 / 64, "band_13hz_up": 31.0 / 64}
	mean := map[string]float64{}
	var ent float64
	const trials = 200
	for range trials {
		s := window(128, 50, func(float64) [3]float64 {
			return [3]float64{0, 0, StandardGravity + 0.2*r.NormFloat64()}
		}, nil)
		f, err := e.Extract(s)
		if err != nil {
			t.Fatal(err)
		}
		for b := range want {
			mean[b] += feat(t, &f, "acc_mag."+b) / trials
		}
		ent += feat(t, &f, "acc_mag.spectral_entropy") / trials
	}
	for b, w := range want {
		if math.Abs(mean[b]-w) > 0.015 {
			t.Errorf("%s = %.4f, want %.4f", b, mean[b], w)
		}
	}
	if ent < 0.75 {
		t.Errorf("spectral entropy of white noise %.3f < 0.75", ent)
	}
}

// A periodic gait-like acceleration magnitude with period 0.55 s.
func TestFeaturesAutocorrelationStepPeriod(t *testing.T) {
	const period = 0.55
	s := window(128, 50, func(x float64) [3]float64 {
		ph := 2 * math.Pi * x / period
		return [3]float64{0, 0, StandardGravity + 2*math.Sin(ph) + 0.6*math.Sin(2*ph+1)}
	}, nil)
	f, err := Extract(s, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, &f, "acc_mag.ac_period", period, 0.021)
	if p := feat(t, &f, "acc_mag.ac_peak"); p < 0.9 {
		t.Errorf("ac_peak %.3f < 0.9 for a periodic signal", p)
	}
	near(t, &f, "acc_mag.dom_freq", 1/period, 0.05)
}

// Gyro tremor: a 10 Hz sine on one axis; its magnitude is rectified, so
// gyro_mag's dominant frequency is 20 Hz.
func TestFeaturesGyroTremor(t *testing.T) {
	const w0 = 0.1
	s := window(128, 50, func(float64) [3]float64 { return [3]float64{0, 0, StandardGravity} },
		func(x float64) [3]float64 { return [3]float64{w0 * math.Sin(2*math.Pi*10*x), 0, 0} })
	f, err := Extract(s, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, &f, "gyro_x.std", w0/math.Sqrt2, 0.003)
	near(t, &f, "gyro_x.energy", w0*w0/2, 2e-4)
	near(t, &f, "gyro_mag.mean", 2*w0/math.Pi, 0.003)
	near(t, &f, "gyro_mag.dom_freq", 20, 0.1)
	// |sin| at 10 Hz: the 20 Hz line and its 40 Hz harmonic, which aliases
	// to 10 Hz and holds 4 % of the power (Fourier series of |sin|).
	near(t, &f, "gyro_mag.band_13hz_up", 0.95, 0.05)
	near(t, &f, "has_gyro", 1, 0)
}

// Jittered timestamps of a sine are resampled onto the grid and give nearly
// the features of the regular window.
func TestFeaturesJitterResampled(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	acc := func(x float64) [3]float64 {
		return [3]float64{0.3 * math.Sin(2*math.Pi*1.9*x), 0, StandardGravity + math.Sin(2*math.Pi*1.9*x)}
	}
	reg := window(128, 50, acc, nil)
	jit := make([]Sample, 0, 140)
	for x := 0.0; x <= 2.56; x += 0.02 * (1 + 0.2*(r.Float64()-0.5)) {
		jit = append(jit, Sample{T: time.Duration(x * 1e9), Accel: acc(x)})
	}
	fr, err := Extract(reg, Config{})
	if err != nil {
		t.Fatal(err)
	}
	fj, err := Extract(jit, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"acc_mag.dom_freq", "acc_mag.std", "body_x.std", "acc_mag.band_1_3hz"} {
		if a, b := feat(t, &fr, n), feat(t, &fj, n); math.Abs(a-b) > 0.05*math.Max(1, math.Abs(a)) {
			t.Errorf("%s: regular %.4f, jittered %.4f", n, a, b)
		}
	}
}

func TestExtractorZeroAllocs(t *testing.T) {
	e, err := NewExtractor(Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := benchWindow()
	var f Features
	if err := e.ExtractInto(&f, w); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = e.ExtractInto(&f, w) }); n != 0 {
		t.Fatalf("ExtractInto allocates %v times per window", n)
	}
	// A bad window allocates its error but must not disturb the next one.
	if err := e.ExtractInto(&f, w[:1]); err == nil {
		t.Fatal("1-sample window accepted")
	}
	g, err := e.Extract(w)
	if err != nil || g != f {
		t.Fatalf("extractor state disturbed: %v", err)
	}
	// Longer windows resize the buffers.
	long := window(400, 50, func(x float64) [3]float64 { return [3]float64{0, 0, StandardGravity + math.Sin(5*x)} }, nil)
	if _, err := e.Extract(long); err != nil {
		t.Fatal(err)
	}
	if g2, _ := e.Extract(w); g2 != f {
		t.Fatal("features differ after resizing")
	}
}

// TestOrderStatisticsMatchSorting checks the IQR and MAD that the bucket
// partition and the MAD candidate filter produce against sorting, on
// distributions that stress them: ties, skew, outliers, two values, a constant.
func TestOrderStatisticsMatchSorting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	q7 := func(s []float64, q float64) float64 {
		h := float64(len(s)-1) * q
		l := int(h)
		if l+1 < len(s) {
			return s[l] + (h-float64(l))*(s[l+1]-s[l])
		}
		return s[l]
	}
	gens := map[string]func(i int) float64{
		"ties":     func(int) float64 { return math.Round(r.NormFloat64() * 4) },
		"normal":   func(int) float64 { return 9.8 + r.NormFloat64() },
		"skewed":   func(int) float64 { return r.ExpFloat64() * r.ExpFloat64() },
		"outlier":  func(i int) float64 { return r.Float64() + float64(i%37/36)*1e6 },
		"twovalue": func(i int) float64 { return float64(i % 2) },
		"constant": func(int) float64 { return 3 },
		"tiny":     func(int) float64 { return 1 + 1e-300*r.Float64() },
	}
	e, err := NewExtractor(Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, numTimeStats)
	for name, gen := range gens {
		for n := 2; n < 300; n += 1 + n/20 {
			e.size(n)
			e.scratch = make([]float64, n)
			x := make([]float64, n)
			for i := range x {
				x[i] = gen(i)
			}
			s := slices.Sorted(slices.Values(x))
			med := q7(s, 0.5)
			dev := make([]float64, n)
			for i, v := range x {
				dev[i] = math.Abs(v - med)
			}
			slices.Sort(dev)
			e.signalFeatures(out, x)
			if iqr := q7(s, 0.75) - q7(s, 0.25); out[stIQR] != iqr {
				t.Fatalf("%s n=%d: IQR %v, want %v", name, n, out[stIQR], iqr)
			}
			if mad := q7(dev, 0.5); out[stMAD] != mad {
				t.Fatalf("%s n=%d: MAD %v, want %v", name, n, out[stMAD], mad)
			}
			if got := quantileSelect(slices.Clone(x), 0.9); got != q7(s, 0.9) {
				t.Fatalf("%s n=%d: q0.9 %v want %v", name, n, got, q7(s, 0.9))
			}
		}
	}
}

// TestExtremeValuesGiveFiniteFeatures drives every signal to the largest
// magnitudes a valid Config admits, alternating in sign at the highest rate:
// every feature must stay finite, and a looser limit must be rejected.
func TestExtremeValuesGiveFiniteFeatures(t *testing.T) {
	const big = 1e6
	cfg := Config{MaxAccel: big, MaxGyro: big, Rate: 10000, MinDuration: time.Second,
		MaxDuration: 1500 * time.Millisecond, MaxGap: time.Millisecond, MaxSamples: 16000}
	s := regular(12000, 10000)
	for i := range s {
		sg := float64(1 - 2*(i%2))
		s[i].Accel = [3]float64{big * sg, -big * sg, big}
		s[i].Gyro = [3]float64{big, -big * sg, big * sg}
	}
	f, err := Extract(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range f {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s = %v", featureNames[j], v)
		}
	}
	for _, c := range []Config{{MaxAccel: 1e7}, {MaxGyro: math.MaxFloat64}, {MaxAccel: math.Inf(1)}} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate = %v, want ErrConfig", c, err)
		}
	}
}

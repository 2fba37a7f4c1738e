package motion

import (
	"errors"
	"math"
	"testing"
	"time"
)

func regular(n int, rate float64) []Sample {
	return window(n, rate, func(x float64) [3]float64 {
		return [3]float64{0.1 * math.Sin(3*x), 0, StandardGravity}
	}, func(x float64) [3]float64 { return [3]float64{0.01, 0, 0} })
}

func TestValidateWindowDefects(t *testing.T) {
	mod := func(f func(s []Sample) []Sample) []Sample { return f(regular(128, 50)) }
	for _, tc := range []struct {
		name  string
		s     []Sample
		cfg   Config
		want  error
		index int
	}{
		{"empty", nil, Config{}, ErrTooFewSamples, -1},
		{"one sample", regular(1, 50), Config{}, ErrTooFewSamples, -1},
		{"NaN accel", mod(func(s []Sample) []Sample { s[7].Accel[1] = math.NaN(); return s }), Config{}, ErrNonFinite, 7},
		{"+Inf gyro", mod(func(s []Sample) []Sample { s[9].Gyro[2] = math.Inf(1); return s }), Config{}, ErrNonFinite, 9},
		{"17 g", mod(func(s []Sample) []Sample { s[3].Accel[0] = 17 * StandardGravity; return s }), Config{}, ErrAbsurdMagnitude, 3},
		{"-17 g", mod(func(s []Sample) []Sample { s[4].Accel[2] = -17 * StandardGravity; return s }), Config{}, ErrAbsurdMagnitude, 4},
		{"gyro 40 rad/s", mod(func(s []Sample) []Sample { s[5].Gyro[1] = 40; return s }), Config{}, ErrAbsurdMagnitude, 5},
		{"backwards", mod(func(s []Sample) []Sample { s[50].T = s[48].T; return s }), Config{}, ErrNonMonotonic, 50},
		{"duplicate", mod(func(s []Sample) []Sample { s[60].T = s[59].T; return s }), Config{}, ErrDuplicate, 60},
		{"gap", mod(func(s []Sample) []Sample {
			for i := 70; i < len(s); i++ {
				s[i].T += 200 * time.Millisecond
			}
			return s
		}), Config{}, ErrGap, 70},
		{"too short", regular(50, 50), Config{}, ErrTooShort, -1},
		{"too long", regular(2000, 50), Config{}, ErrTooLong, -1},
		{"overflowing gap", []Sample{{T: math.MaxInt64 - 5}, {T: math.MinInt64 + 5}}, Config{}, ErrNonMonotonic, 1},
		{"overflowing span", []Sample{{T: math.MinInt64}, {T: math.MaxInt64}}, Config{}, ErrGap, 1},
		{"too many", regular(300, 50), Config{MaxSamples: 200}, ErrTooManySamples, -1},
		{"rate too low", regular(30, 10), Config{MaxGap: time.Second}, ErrRateTooLow, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateWindow(tc.s, tc.cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			we, ok := errors.AsType[*WindowError](err)
			if !ok {
				t.Fatalf("%T is not a *WindowError", err)
			}
			if we.Index != tc.index {
				t.Fatalf("index %d, want %d (%v)", we.Index, tc.index, err)
			}
			if _, err2 := Extract(tc.s, tc.cfg); !errors.Is(err2, tc.want) {
				t.Fatalf("Extract: %v, want %v", err2, tc.want)
			}
		})
	}
}

func TestIsInsufficient(t *testing.T) {
	for err, want := range map[error]bool{
		&WindowError{Err: ErrTooShort}: true, &WindowError{Err: ErrGap}: true,
		&WindowError{Err: ErrTooFewSamples}: true, &WindowError{Err: ErrRateTooLow}: true,
		&WindowError{Err: ErrNonFinite}: false, &WindowError{Err: ErrNonMonotonic}: false,
		&WindowError{Err: ErrAbsurdMagnitude}: false,
	} {
		if IsInsufficient(err) != want {
			t.Errorf("IsInsufficient(%v) != %v", err, want)
		}
	}
}

func TestValidateWindowInfo(t *testing.T) {
	s := regular(128, 50)
	info, err := ValidateWindow(s, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if info.N != 128 || info.Duration != 2540*time.Millisecond || math.Abs(info.Rate-50) > 1e-9 ||
		info.Jitter > 1e-9 || !info.HasGyro || info.Resampled != 128 || info.MaxInterval != 20*time.Millisecond {
		t.Fatalf("info %+v", info)
	}
	for i := range s {
		s[i].Gyro = [3]float64{}
	}
	if info, _ := ValidateWindow(s, Config{}); info.HasGyro {
		t.Fatal("all-zero gyro reported as present")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	for _, c := range []Config{
		{Rate: -1}, {Rate: math.NaN()}, {Rate: 1e6}, {MinDuration: 5 * time.Second, MaxDuration: time.Second},
		{MaxDuration: time.Hour}, {MinDuration: time.Millisecond}, {MaxSamples: 1}, {MaxGap: -1},
		{MaxAccel: math.Inf(1)}, {MaxGyro: -3}, {MinRateRatio: 2}, {GravityCutoff: 30},
		{MaxGap: time.Minute}, {Rate: 0.01, MaxDuration: 48 * time.Hour, MinDuration: time.Hour},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
		if _, err := NewExtractor(c); !errors.Is(err, ErrConfig) {
			t.Errorf("NewExtractor(%+v): %v", c, err)
		}
		if _, err := ValidateWindow(regular(128, 50), c); !errors.Is(err, ErrConfig) {
			t.Errorf("ValidateWindow(%+v): %v", c, err)
		}
	}
}

// Linear interpolation reproduces a linear signal exactly on any grid.
func TestResampleLinearExact(t *testing.T) {
	var s []Sample
	tt := time.Duration(0)
	for i := 0; i < 40; i++ {
		x := tt.Seconds()
		s = append(s, Sample{T: tt, Accel: [3]float64{2 * x, -x + 1, 3}, Gyro: [3]float64{x, 0, 0}})
		tt += time.Duration(15+(i*7)%11) * time.Millisecond
	}
	out, err := Resample(nil, s, 50)
	if err != nil {
		t.Fatal(err)
	}
	last := s[len(s)-1].T
	if want := int(last.Seconds()*50) + 1; len(out) != want {
		t.Fatalf("%d samples, want %d", len(out), want)
	}
	for k, o := range out {
		if o.T != time.Duration(k)*20*time.Millisecond {
			t.Fatalf("sample %d at %v", k, o.T)
		}
		x := o.T.Seconds()
		if math.Abs(o.Accel[0]-2*x) > 1e-12 || math.Abs(o.Accel[1]-(1-x)) > 1e-12 || o.Accel[2] != 3 || math.Abs(o.Gyro[0]-x) > 1e-12 {
			t.Fatalf("sample %d = %+v", k, o)
		}
	}
	if _, err := Resample(nil, s[:1], 50); !errors.Is(err, ErrTooFewSamples) {
		t.Fatal(err)
	}
	s[3].T = s[2].T
	if _, err := Resample(nil, s, 50); !errors.Is(err, ErrNonMonotonic) {
		t.Fatal(err)
	}
	if _, err := Resample(nil, s[:2], 0); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
	for _, big := range [][]Sample{{{T: 0}, {T: time.Hour}}, {{T: -9e18}, {T: 9e18}}, {{T: math.MinInt64}, {T: math.MaxInt64}}} {
		if _, err := Resample(nil, big, 50); !errors.Is(err, ErrConfig) {
			t.Fatalf("%v: %v", big, err)
		}
	}
}

// TestResampleTinyRate: a rate so low that the grid step overflows still
// yields the first sample's time, not a wrapped-around one.
func TestResampleTinyRate(t *testing.T) {
	s := regular(120, 50)
	for _, r := range []float64{5e-324, 1e-310, 1e-20} {
		out, err := Resample(nil, s, r)
		if err != nil {
			t.Fatalf("rate %g: %v", r, err)
		}
		if len(out) != 1 || out[0] != s[0] {
			t.Fatalf("rate %g: %d samples, first %+v, want the first input sample", r, len(out), out[0])
		}
	}
}

// A WindowError built without a sentinel still prints (no nil dereference).
func TestWindowErrorZero(t *testing.T) {
	if got := (&WindowError{Index: 3}).Error(); got != "motion: defective window at sample 3" {
		t.Fatalf("got %q", got)
	}
}

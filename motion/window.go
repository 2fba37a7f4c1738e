package motion

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// StandardGravity is g₀ in m/s² (CGPM 1901, ISO 80000-3).
const StandardGravity = 9.80665

// Default analysis geometry: windows are resampled to DefaultRate, and a
// recording is cut into windows of DefaultWindow every DefaultHop (128
// samples with 50 % overlap, as UCI-HAR). Config's zero Rate stands for
// DefaultRate; RecordingExamples and the Assessor's multi-window inputs use
// DefaultWindow and DefaultHop.
const (
	DefaultRate   = 50.0
	DefaultWindow = 2560 * time.Millisecond
	DefaultHop    = 1280 * time.Millisecond
)

// Sample is one reading of a terminal's inertial sensors.
//
// T is the time since an arbitrary origin (only differences matter). Accel is
// the accelerometer's specific force in m/s² in the device frame, gravity
// included, as Android's TYPE_ACCELEROMETER and iOS's CMAccelerometerData×g
// report it. Gyro is the angular rate in rad/s in the device frame; a device
// without a gyroscope leaves it zero (see WindowInfo.HasGyro and the
// has_gyro feature).
type Sample struct {
	T     time.Duration
	Accel [3]float64
	Gyro  [3]float64
}

// Sentinel errors for defective windows. Validation wraps them in a
// *WindowError that names the offending sample.
var (
	ErrTooFewSamples   = errors.New("motion: window has fewer than 2 samples")
	ErrTooManySamples  = errors.New("motion: window has too many samples")
	ErrNonFinite       = errors.New("motion: sample value is NaN or infinite")
	ErrAbsurdMagnitude = errors.New("motion: sample magnitude beyond the sensor's range")
	ErrNonMonotonic    = errors.New("motion: timestamps go backwards")
	ErrDuplicate       = errors.New("motion: duplicate timestamp")
	ErrGap             = errors.New("motion: gap between samples")
	ErrTooShort        = errors.New("motion: window shorter than the minimum duration")
	ErrTooLong         = errors.New("motion: window longer than the maximum duration")
	ErrRateTooLow      = errors.New("motion: sample rate below the analysis rate")
	ErrConfig          = errors.New("motion: invalid configuration")
)

// WindowError reports a defective window: which defect (Err, one of the
// Err… sentinels) and at which sample index (-1 when the defect concerns the
// whole window).
type WindowError struct {
	Err    error  // one of the Err… sentinels
	Index  int    // offending sample, or -1
	Detail string // human-readable specifics, may change between releases
}

// Error names the defect and the sample.
func (e *WindowError) Error() string {
	s := "motion: defective window"
	if e.Err != nil {
		s = e.Err.Error()
	}
	if e.Index >= 0 {
		s += fmt.Sprintf(" at sample %d", e.Index)
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the sentinel so that errors.Is works.
func (e *WindowError) Unwrap() error { return e.Err }

// IsInsufficient reports whether err says the window holds too little usable
// data (too few samples, too short, a gap, too low a rate) as opposed to
// corrupt data (NaN, absurd magnitudes, timestamps going backwards).
func IsInsufficient(err error) bool {
	return errors.Is(err, ErrTooFewSamples) || errors.Is(err, ErrTooShort) ||
		errors.Is(err, ErrGap) || errors.Is(err, ErrRateTooLow)
}

// Config controls window validation, resampling and feature extraction.
// The zero value is usable: every zero field takes the default documented on
// it (DefaultConfig returns them filled in).
type Config struct {
	// Rate is the analysis sample rate in Hz that windows are resampled to.
	// Default 50.
	Rate float64
	// MinDuration is the shortest acceptable window. Default 2 s.
	MinDuration time.Duration
	// MaxDuration is the longest acceptable window, at most 24 h. Default 30 s.
	MaxDuration time.Duration
	// MaxSamples bounds the number of input samples. Default 8192.
	MaxSamples int
	// MaxGap is the longest acceptable interval between consecutive samples,
	// at most MaxDuration. Default 7.5 analysis periods (150 ms at 50 Hz:
	// three periods of a 20 Hz input, which Android delivers late under
	// load).
	MaxGap time.Duration
	// MaxAccel is the largest acceptable accelerometer component in m/s².
	// Default 16 g, the widest range of common MEMS accelerometers; at most
	// 1e6.
	MaxAccel float64
	// MaxGyro is the largest acceptable gyroscope component in rad/s.
	// Default 2000 °/s ≈ 34.9 rad/s; at most 1e6.
	MaxGyro float64
	// MinRateRatio is the lowest acceptable ratio of the estimated input rate
	// to Rate. Default 0.35: at the default 50 Hz, input from 17.5 Hz up is
	// resampled and classified, so a nominal 20 Hz sensor passes with its
	// late samples (phones and terminals deliver 20–200 Hz).
	// Interpolation cannot invent content above half the input rate, so a
	// 20 Hz window has no energy above 10 Hz; the features most affected
	// (band_13hz_up, the tremor band) are those of vibration, and the
	// default model is trained with the simulator's 20–100 Hz devices.
	MinRateRatio float64
	// GravityCutoff is the corner frequency in Hz of the low-pass filter that
	// separates gravity from body acceleration. Default 0.3 Hz (as UCI-HAR).
	GravityCutoff float64
}

// DefaultConfig returns the configuration the zero Config stands for.
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.MinDuration == 0 {
		c.MinDuration = 2 * time.Second
	}
	if c.MaxDuration == 0 {
		c.MaxDuration = 30 * time.Second
	}
	if c.MaxSamples == 0 {
		c.MaxSamples = 8192
	}
	if c.MaxGap == 0 && c.Rate > 0 && !math.IsInf(c.Rate, 0) {
		c.MaxGap = time.Duration(7.5 * float64(time.Second) / c.Rate)
	}
	if c.MaxAccel == 0 {
		c.MaxAccel = 16 * StandardGravity
	}
	if c.MaxGyro == 0 {
		c.MaxGyro = 2000 * math.Pi / 180
	}
	if c.MinRateRatio == 0 {
		c.MinRateRatio = 0.35
	}
	if c.GravityCutoff == 0 {
		c.GravityCutoff = 0.3
	}
	return c
}

// maxSensorValue bounds MaxAccel and MaxGyro: far beyond any inertial
// sensor (1e6 m/s² ≈ 10⁵ g), and small enough that fourth powers of jerk
// and deviations stay finite, so every feature of an accepted window is
// finite.
const maxSensorValue = 1e6

// maxAnalysisSamples bounds the resampled window length (and so the memory
// an Extractor holds).
const maxAnalysisSamples = 1 << 14

// Validate reports whether the configuration (after defaults) is coherent;
// errors wrap ErrConfig.
func (c Config) Validate() error {
	d := c.withDefaults()
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...))
	}
	switch {
	case !(d.Rate > 0) || d.Rate > 10000:
		return bad("Rate %v Hz not in (0, 10000]", d.Rate)
	case d.MinDuration < 0 || d.MaxDuration <= 0 || d.MinDuration > d.MaxDuration || d.MaxDuration > 24*time.Hour:
		return bad("durations min %v max %v (max ≤ 24 h)", d.MinDuration, d.MaxDuration)
	case d.MaxDuration.Seconds()*d.Rate+1 > maxAnalysisSamples:
		return bad("MaxDuration×Rate exceeds %d analysis samples", maxAnalysisSamples)
	case d.MinDuration.Seconds()*d.Rate < 4:
		return bad("MinDuration×Rate gives fewer than 4 analysis samples")
	case d.MaxSamples < 2 || d.MaxSamples > 1<<20:
		return bad("MaxSamples %d not in [2, 2^20]", d.MaxSamples)
	case d.MaxGap <= 0 || d.MaxGap > d.MaxDuration:
		return bad("MaxGap %v not in (0, MaxDuration]", d.MaxGap)
	case !(d.MaxAccel > 0) || d.MaxAccel > maxSensorValue:
		return bad("MaxAccel %v not in (0, %g]", d.MaxAccel, maxSensorValue)
	case !(d.MaxGyro > 0) || d.MaxGyro > maxSensorValue:
		return bad("MaxGyro %v not in (0, %g]", d.MaxGyro, maxSensorValue)
	case !(d.MinRateRatio > 0) || d.MinRateRatio > 1:
		return bad("MinRateRatio %v not in (0, 1]", d.MinRateRatio)
	case !(d.GravityCutoff > 0) || d.GravityCutoff >= d.Rate/2:
		return bad("GravityCutoff %v Hz not in (0, Rate/2)", d.GravityCutoff)
	}
	return nil
}

// WindowInfo describes a validated window.
type WindowInfo struct {
	// N is the number of input samples.
	N int
	// Duration is the time from the first to the last sample.
	Duration time.Duration
	// Rate is the mean input sample rate in Hz, (N−1)/Duration.
	Rate float64
	// Jitter is the standard deviation of the sampling intervals divided by
	// their mean (0 for perfectly regular sampling).
	Jitter float64
	// MaxInterval is the longest interval between consecutive samples.
	MaxInterval time.Duration
	// HasGyro is false when every gyroscope component of every sample is
	// exactly zero, which is how a device without a gyroscope reports.
	HasGyro bool
	// Resampled is the number of samples after resampling to Config.Rate.
	Resampled int
}

// ValidateWindow checks a window against cfg and describes it. The checks, in
// order: sample count, finite values, magnitudes, monotonic and distinct
// timestamps, gaps, duration, rate. It does not allocate unless it fails.
func ValidateWindow(samples []Sample, cfg Config) (WindowInfo, error) {
	if err := cfg.Validate(); err != nil {
		return WindowInfo{}, err
	}
	return validateWindow(samples, cfg.withDefaults())
}

func validateWindow(s []Sample, c Config) (WindowInfo, error) {
	info := WindowInfo{N: len(s)}
	if len(s) < 2 {
		return info, &WindowError{Err: ErrTooFewSamples, Index: -1, Detail: fmt.Sprintf("%d samples", len(s))}
	}
	if len(s) > c.MaxSamples {
		return info, &WindowError{Err: ErrTooManySamples, Index: -1, Detail: fmt.Sprintf("%d > %d", len(s), c.MaxSamples)}
	}
	for i := range s {
		for k := 0; k < 3; k++ {
			a, g := s[i].Accel[k], s[i].Gyro[k]
			// One comparison each rejects NaN, ±Inf and absurd values;
			// the slow path says which.
			if !(math.Abs(a) <= c.MaxAccel) || !(math.Abs(g) <= c.MaxGyro) {
				return info, sampleValueError(i, a, g, c)
			}
			if g != 0 {
				info.HasGyro = true
			}
		}
	}
	for i := 1; i < len(s); i++ {
		switch {
		case s[i].T < s[i-1].T:
			return info, &WindowError{Err: ErrNonMonotonic, Index: i, Detail: fmt.Sprintf("%v after %v", s[i].T, s[i-1].T)}
		case s[i].T == s[i-1].T:
			return info, &WindowError{Err: ErrDuplicate, Index: i, Detail: s[i].T.String()}
		}
		// d < 0 only when the difference overflows: a gap of centuries.
		if d := s[i].T - s[i-1].T; d < 0 || d > c.MaxGap {
			return info, &WindowError{Err: ErrGap, Index: i, Detail: fmt.Sprintf("%v after %v", s[i].T, s[i-1].T)}
		} else if d > info.MaxInterval {
			info.MaxInterval = d
		}
		// The span so far is ≤ MaxDuration + MaxGap ≤ 48 h: no overflow.
		if span := s[i].T - s[0].T; span > c.MaxDuration {
			return info, &WindowError{Err: ErrTooLong, Index: -1, Detail: fmt.Sprintf("more than %v", c.MaxDuration)}
		}
	}
	info.Duration = s[len(s)-1].T - s[0].T
	if info.Duration < c.MinDuration {
		return info, &WindowError{Err: ErrTooShort, Index: -1, Detail: fmt.Sprintf("%v < %v", info.Duration, c.MinDuration)}
	}
	n := float64(len(s) - 1)
	mean := info.Duration.Seconds() / n
	var sum2 float64
	for i := 1; i < len(s); i++ {
		d := (s[i].T - s[i-1].T).Seconds() - mean
		sum2 += d * d
	}
	info.Rate = 1 / mean
	info.Jitter = math.Sqrt(sum2/n) / mean
	if info.Rate < c.MinRateRatio*c.Rate {
		return info, &WindowError{Err: ErrRateTooLow, Index: -1, Detail: fmt.Sprintf("%.3g Hz < %.3g×%.3g Hz", info.Rate, c.MinRateRatio, c.Rate)}
	}
	info.Resampled = resampledLen(info.Duration, c.Rate)
	return info, nil
}

func sampleValueError(i int, a, g float64, c Config) error {
	switch {
	case math.IsNaN(a) || math.IsInf(a, 0) || math.IsNaN(g) || math.IsInf(g, 0):
		return &WindowError{Err: ErrNonFinite, Index: i}
	case math.Abs(a) > c.MaxAccel:
		return &WindowError{Err: ErrAbsurdMagnitude, Index: i, Detail: fmt.Sprintf("accel %.4g m/s² > %.4g", a, c.MaxAccel)}
	default:
		return &WindowError{Err: ErrAbsurdMagnitude, Index: i, Detail: fmt.Sprintf("gyro %.4g rad/s > %.4g", g, c.MaxGyro)}
	}
}

// resampledLen is the number of grid points t0 + k/rate, k ≥ 0, up to the last
// sample's time.
func resampledLen(d time.Duration, rate float64) int {
	// A tiny tolerance keeps 2.54 s at 50 Hz at 128 points despite rounding.
	return int(math.Floor(d.Seconds()*rate+1e-6)) + 1
}

// Resample interpolates samples linearly onto a regular grid of rate Hz that
// starts at the first sample's time and ends at or before the last one's,
// appending to dst[:0] and returning it. It does not low-pass filter: input
// sampled much faster than rate should come from a sensor whose digital
// low-pass filter (set by its output data rate) already removed content above
// rate/2, as phone sensor stacks do. samples must be validated (at least
// two, strictly increasing times); Resample returns ErrTooFewSamples or
// ErrNonMonotonic otherwise, and ErrConfig for a rate that is not positive or
// would produce more than 2^14 samples.
func Resample(dst, samples []Sample, rate float64) ([]Sample, error) {
	if len(samples) < 2 {
		return dst[:0], &WindowError{Err: ErrTooFewSamples, Index: -1}
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].T <= samples[i-1].T {
			return dst[:0], &WindowError{Err: ErrNonMonotonic, Index: i}
		}
	}
	if !(rate > 0) || math.IsInf(rate, 0) {
		return dst[:0], fmt.Errorf("%w: rate %v", ErrConfig, rate)
	}
	d := samples[len(samples)-1].T - samples[0].T
	if d < 0 || d.Seconds()*rate+1 > maxAnalysisSamples { // d < 0: the span overflows
		return dst[:0], fmt.Errorf("%w: %v at %v Hz exceeds %d samples", ErrConfig, d, rate, maxAnalysisSamples)
	}
	m := resampledLen(d, rate)
	dst = slices.Grow(dst[:0], m)[:m]
	resampleInto(dst, samples, rate)
	return dst, nil
}

// resampleInto fills dst (len m) by linear interpolation. Preconditions as
// Resample.
func resampleInto(dst, s []Sample, rate float64) {
	t0 := s[0].T
	step := float64(time.Second) / rate
	j := 0
	for k := range dst {
		t := t0
		if k > 0 { // k·step is NaN for k = 0 and a subnormal rate
			t += time.Duration(math.Round(float64(k) * step))
		}
		if t > s[len(s)-1].T {
			t = s[len(s)-1].T
		}
		for j < len(s)-2 && s[j+1].T < t {
			j++
		}
		a, b := &s[j], &s[j+1]
		u := float64(t-a.T) / float64(b.T-a.T)
		u = min(max(u, 0), 1)
		out := &dst[k]
		out.T = t
		for i := 0; i < 3; i++ {
			out.Accel[i] = a.Accel[i] + u*(b.Accel[i]-a.Accel[i])
			out.Gyro[i] = a.Gyro[i] + u*(b.Gyro[i]-a.Gyro[i])
		}
	}
}

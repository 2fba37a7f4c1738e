package motion

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The analysed signals, each resampled to Config.Rate. Body acceleration is
// the accelerometer minus its low-pass (gravity) component, jerk is the time
// derivative of body acceleration, magnitudes are Euclidean norms. The
// vertical body acceleration is its component along the gravity estimate
// (positive up), the horizontal one the magnitude of the rest: both are
// independent of how the device is oriented.
const (
	sigAccMag = iota
	sigBodyMag
	sigGyroMag
	// Signals before numSpectral get time- and frequency-domain features,
	// the others time-domain features only. The device's orientation is
	// arbitrary, so per-axis spectra mostly repeat the magnitudes'; the jerk
	// spectrum is the body spectrum tilted towards high frequencies. Each
	// FFT costs about a tenth of the extraction budget.
	sigJerkMag
	sigVert
	sigHoriz
	sigBodyX
	sigBodyY
	sigBodyZ
	sigGyroX
	sigGyroY
	sigGyroZ
	numSignals
	numSpectral = sigJerkMag
)

var signalNames = [numSignals]string{
	"acc_mag", "body_mag", "gyro_mag", "jerk_mag", "body_vert", "body_horiz",
	"body_x", "body_y", "body_z", "gyro_x", "gyro_y", "gyro_z",
}

// Per-signal features, in layout order.
const (
	stMean = iota
	stStd
	stMAD
	stMin
	stMax
	stIQR
	stEnergy
	stEntropy
	stSkew
	stKurt
	stMCR
	stDomFreq
	stBand0
	stBand1
	stBand2
	stBand3
	stBand4
	stSpecEntropy
	perSignal
)

// numTimeStats counts the time-domain features, which come first.
const numTimeStats = stDomFreq

var statNames = [perSignal]string{
	"mean", "std", "mad", "min", "max", "iqr", "energy", "entropy",
	"skewness", "kurtosis", "mcr", "dom_freq",
	"band_0_1hz", "band_1_3hz", "band_3_7hz", "band_7_13hz", "band_13hz_up",
	"spectral_entropy",
}

// bandEdges are the spectral band boundaries in Hz: sway and vehicle body
// motion below 1 Hz, gait 1–3 Hz (steps at 1.5–2.2 Hz), gait harmonics 3–7 Hz,
// physiological hand tremor 7–13 Hz (8–12 Hz, Elble 1986), and engine and
// road vibration above.
var bandEdges = [...]float64{0, 1, 3, 7, 13, math.Inf(1)}

// signalOffset is where signal s's block starts in the feature vector.
func signalOffset(s int) int {
	if s < numSpectral {
		return s * perSignal
	}
	return numSpectral*perSignal + (s-numSpectral)*numTimeStats
}

// Window-level features after the per-signal blocks.
const (
	fACPeak = numSpectral*perSignal + (numSignals-numSpectral)*numTimeStats + iota
	fACPeriod
	fTilt
	fTiltStd
	fTiltMax
	fTiltRate
	fGravity
	fGravX
	fGravY
	fGravZ
	fHasGyro
	// NumFeatures is the length of the feature vector.
	NumFeatures
)

var extraNames = [NumFeatures - fACPeak]string{
	"acc_mag.ac_peak", "acc_mag.ac_period", "tilt", "tilt_std", "tilt_max",
	"tilt_rate", "gravity", "grav_x", "grav_y", "grav_z", "has_gyro",
}

// featureNames is computed once from the constant tables above and never
// modified; Names hands out copies.
var featureNames = buildNames()

func buildNames() [NumFeatures]string {
	var n [NumFeatures]string
	for s := range numSignals {
		k := perSignal
		if s >= numSpectral {
			k = numTimeStats
		}
		for j := range k {
			n[signalOffset(s)+j] = signalNames[s] + "." + statNames[j]
		}
	}
	copy(n[fACPeak:], extraNames[:])
	return n
}

// layoutID fingerprints the feature layout (FNV-1a over the names) so that a
// serialised model trained on another layout is rejected.
func layoutID() uint64 {
	h := uint64(14695981039346656037)
	for _, s := range featureNames {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// Features is the fixed-layout feature vector of one window. Names gives the
// name of each position; the layout only ever changes with a new layout
// fingerprint, which invalidates serialised models (UnmarshalBinary fails with
// ErrLayout).
//
// Per signal (acc_mag, body_mag, gyro_mag, then jerk_mag, body_x, body_y,
// body_z, gyro_x, gyro_y, gyro_z) in this order: mean, std, mad (median absolute
// deviation), min, max, iqr, energy (mean square), entropy (of a 10-bin
// histogram, normalised to [0,1]), skewness, kurtosis (excess), mcr
// (mean-crossing rate, Hz), dom_freq (Hz), five band-power fractions
// (0–1, 1–3, 3–7, 7–13, ≥13 Hz) and spectral_entropy (Rényi order 2,
// normalised to [0,1]); the last seven for the first three signals only.
// Then: acc_mag.ac_peak and acc_mag.ac_period (highest normalised
// autocorrelation for lags 0.25–1 s and its lag in s: step periodicity), tilt
// (rad between mean gravity and the device z axis), tilt_std, tilt_max (rad of
// gravity-direction deviation from its mean), tilt_rate (rad/s of
// gravity-direction change), gravity (mean low-pass magnitude, m/s²),
// grav_x, grav_y, grav_z (the mean gravity direction as a unit vector in the
// device frame: how the device is held or lies) and has_gyro (1 or 0).
type Features [NumFeatures]float64

// Names returns the feature names in layout order (a fresh copy).
func (Features) Names() []string { return slices.Clone(featureNames[:]) }

// Get returns the feature called name.
func (f *Features) Get(name string) (float64, bool) {
	i := FeatureIndex(name)
	if i < 0 {
		return 0, false
	}
	return f[i], true
}

// FeatureIndex returns the position of the named feature, or -1.
func FeatureIndex(name string) int {
	for i, n := range featureNames {
		if n == name {
			return i
		}
	}
	return -1
}

// String lists the features as name=value, one a line.
func (f *Features) String() string {
	var b strings.Builder
	for i, n := range featureNames {
		fmt.Fprintf(&b, "%s=%.6g\n", n, f[i])
	}
	return b.String()
}

package motion

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
)

// The analysed signals, each resampled to Config.Rate. Body acceleration is
// the accelerometer minus its low-pass (gravity) component, jerk is the time
// derivative of body acceleration, magnitudes are Euclidean norms.
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
	"acc_mag", "body_mag", "gyro_mag", "jerk_mag",
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
	fHasGyro
	// NumFeatures is the length of the feature vector.
	NumFeatures
)

var extraNames = [NumFeatures - fACPeak]string{
	"acc_mag.ac_peak", "acc_mag.ac_period", "tilt", "tilt_std", "tilt_max",
	"tilt_rate", "gravity", "has_gyro",
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
// gravity-direction change), gravity (mean low-pass magnitude, m/s²) and
// has_gyro (1 or 0).
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

// Extract validates a window, resamples it to cfg.Rate and computes its
// features. It allocates its working memory; to extract many windows without
// allocating, reuse an Extractor. An invalid cfg is an error wrapping
// ErrConfig; a bad window is a *WindowError as from Extractor.Extract.
func Extract(samples []Sample, cfg Config) (Features, error) {
	e, err := NewExtractor(cfg)
	if err != nil {
		return Features{}, err
	}
	return e.Extract(samples)
}

// Extractor computes Features with reusable buffers: after the first window
// of a given resampled length it does not allocate. An Extractor is not safe
// for concurrent use; use one per goroutine (or a sync.Pool).
type Extractor struct {
	cfg            Config
	b0, b1, b2     float64 // gravity low-pass (2nd-order Butterworth)
	a1, a2         float64
	m              int // analysis length the buffers are sized for
	fft            *fourier.FFT
	hann           []float64
	sig            [numSignals][]float64
	grav           [3][]float64
	ext            [3][]float64 // decimated, odd-extended accelerometer axes
	pad, dec       int
	work, scratch  []float64
	spec           []complex128
	clnc           []float64         // c·ln c for histogram entropies
	logN           float64           // ln m
	bins           []uint8           // each sample's fine histogram bin
	cand           []float64         // MAD candidates
	cum            [histBins + 1]int // a[cum[b]:cum[b+1]] hold fine bin b
	gBlock         []int32           // block left of each sample (gravity interpolation)
	gFrac          []float64         // its interpolation weight
	bandOf         []uint8           // spectral band of each FFT bin
	lagMin, lagMax int
	info           WindowInfo
}

// NewExtractor returns an Extractor for cfg (zero fields take defaults). An
// invalid cfg is an error wrapping ErrConfig (see Config.Validate).
func NewExtractor(cfg Config) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	e := &Extractor{cfg: c}
	// The gravity filter runs on block means of dec samples, a decimated
	// rate of at least 50×GravityCutoff (16.7 Hz by default). The block
	// mean's response has its nulls exactly at the multiples of the
	// decimated rate, which is where content would alias onto the gravity
	// band; everything else aliases well above the cutoff and is filtered.
	e.dec = max(1, int(c.Rate/(50*c.GravityCutoff)))
	rd := c.Rate / float64(e.dec)
	// Bilinear-transform Butterworth low-pass with pre-warping
	// (Oppenheim & Schafer, Discrete-Time Signal Processing, §7.1).
	k := math.Tan(math.Pi * c.GravityCutoff / rd)
	norm := 1 / (1 + math.Sqrt2*k + k*k)
	e.b0 = k * k * norm
	e.b1 = 2 * e.b0
	e.b2 = e.b0
	e.a1 = 2 * (k*k - 1) * norm
	e.a2 = (1 - math.Sqrt2*k + k*k) * norm
	e.lagMin = max(1, int(math.Round(0.25*c.Rate)))
	e.lagMax = int(math.Round(1.0 * c.Rate))
	return e, nil
}

// Config returns the extractor's configuration with defaults filled in.
func (e *Extractor) Config() Config { return e.cfg }

// Info describes the window most recently passed to Extract (valid after a
// successful call).
func (e *Extractor) Info() WindowInfo { return e.info }

func (e *Extractor) size(m int) {
	if m == e.m {
		return
	}
	e.m = m
	if e.fft == nil {
		e.fft = fourier.NewFFT(m)
	} else {
		e.fft.Reset(m)
	}
	e.hann = make([]float64, m)
	for i := range e.hann {
		// Periodic Hann window (Harris 1978).
		e.hann[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(m))
	}
	for i := range e.sig {
		e.sig[i] = make([]float64, m)
	}
	for i := range e.grav {
		e.grav[i] = make([]float64, m)
	}
	e.work = make([]float64, m)
	// Odd-extension length: two time constants of the low-pass at the
	// decimated rate.
	md := (m + e.dec - 1) / e.dec
	e.pad = int(math.Ceil(e.cfg.Rate / float64(e.dec) / (math.Pi * e.cfg.GravityCutoff)))
	e.gBlock, e.gFrac = gravityInterp(m, e.dec)
	for i := range e.ext {
		e.ext[i] = make([]float64, md+2*min(md-1, e.pad))
	}
	e.bins = make([]uint8, m)
	e.cand = make([]float64, m)
	e.logN = math.Log(float64(m))
	e.clnc = make([]float64, m+1)
	for c := 1; c <= m; c++ {
		e.clnc[c] = float64(c) * math.Log(float64(c))
	}
	e.spec = make([]complex128, m/2+1)
	e.bandOf = make([]uint8, m/2+1)
	band := 0
	for k := range e.bandOf {
		for float64(k)*e.cfg.Rate/float64(m) >= bandEdges[band+1] {
			band++
		}
		e.bandOf[k] = uint8(band)
	}
}

// Extract validates and analyses one window. Errors are *WindowError values
// wrapping one of the Err… sentinels.
func (e *Extractor) Extract(samples []Sample) (Features, error) {
	var f Features
	err := e.ExtractInto(&f, samples)
	return f, err
}

// ExtractInto is Extract writing into *f.
func (e *Extractor) ExtractInto(f *Features, samples []Sample) error {
	info, err := validateWindow(samples, e.cfg)
	e.info = info
	if err != nil {
		return err
	}
	m := info.Resampled
	e.size(m)
	if cap(e.scratch) < m {
		e.scratch = make([]float64, m)
	}
	e.resampleSignals(samples)
	rate := e.cfg.Rate

	// Gravity separation and derived signals.
	e.gravity()
	bx, by, bz := e.sig[sigBodyX][:m], e.sig[sigBodyY][:m], e.sig[sigBodyZ][:m]
	gx, gy, gz := e.grav[0][:m], e.grav[1][:m], e.grav[2][:m]
	bodyMag, jerkMag := e.sig[sigBodyMag][:m], e.sig[sigJerkMag][:m]
	for i := range bx {
		bx[i] -= gx[i]
		by[i] -= gy[i]
		bz[i] -= gz[i]
		bodyMag[i] = math.Sqrt(bx[i]*bx[i] + by[i]*by[i] + bz[i]*bz[i])
		if i > 0 {
			jx, jy, jz := bx[i]-bx[i-1], by[i]-by[i-1], bz[i]-bz[i-1]
			jerkMag[i] = rate * math.Sqrt(jx*jx+jy*jy+jz*jz)
		}
	}
	e.sig[sigJerkMag][0] = e.sig[sigJerkMag][min(1, m-1)]

	var accMean, accVar float64
	for s := range numSignals {
		o := signalOffset(s)
		isGyro := s == sigGyroMag || s == sigGyroX || s == sigGyroY || s == sigGyroZ
		if isGyro && !info.HasGyro {
			// An all-zero signal: every feature is 0.
			end := o + numTimeStats
			if s < numSpectral {
				end = o + perSignal
			}
			clear(f[o:end])
			continue
		}
		end := o + numTimeStats
		if s < numSpectral {
			end = o + perSignal
		}
		mean, variance := e.signalFeatures(f[o:end], e.sig[s])
		if s == sigAccMag {
			accMean, accVar = mean, variance
		}
	}
	f[fACPeak], f[fACPeriod] = e.autocorrPeak(e.sig[sigAccMag], accMean, accVar)
	e.tiltFeatures(f)
	if info.HasGyro {
		f[fHasGyro] = 1
	} else {
		f[fHasGyro] = 0
	}
	return nil
}

// resampleSignals interpolates s linearly onto the analysis grid (as
// resampleInto) straight into the signal arrays: the accelerometer axes
// into the body signals (gravity is removed later), the gyroscope axes, and
// both magnitudes.
func (e *Extractor) resampleSignals(s []Sample) {
	ax, ay, az := e.sig[sigBodyX], e.sig[sigBodyY], e.sig[sigBodyZ]
	gx, gy, gz := e.sig[sigGyroX], e.sig[sigGyroY], e.sig[sigGyroZ]
	am, gm := e.sig[sigAccMag], e.sig[sigGyroMag]
	m := e.m
	ax, ay, az, gx, gy, gz, am, gm = ax[:m], ay[:m], az[:m], gx[:m], gy[:m], gz[:m], am[:m], gm[:m]
	t0, last := s[0].T, s[len(s)-1].T
	step := float64(time.Second) / e.cfg.Rate
	j := 0
	for k := range ax {
		t := t0
		if k > 0 {
			t += time.Duration(math.Round(float64(k) * step))
		}
		if t > last {
			t = last
		}
		for j < len(s)-2 && s[j+1].T < t {
			j++
		}
		a, b := &s[j], &s[j+1]
		u := float64(t-a.T) / float64(b.T-a.T)
		u = min(max(u, 0), 1)
		x := a.Accel[0] + u*(b.Accel[0]-a.Accel[0])
		y := a.Accel[1] + u*(b.Accel[1]-a.Accel[1])
		z := a.Accel[2] + u*(b.Accel[2]-a.Accel[2])
		ax[k], ay[k], az[k] = x, y, z
		am[k] = math.Sqrt(x*x + y*y + z*z)
		x = a.Gyro[0] + u*(b.Gyro[0]-a.Gyro[0])
		y = a.Gyro[1] + u*(b.Gyro[1]-a.Gyro[1])
		z = a.Gyro[2] + u*(b.Gyro[2]-a.Gyro[2])
		gx[k], gy[k], gz[k] = x, y, z
		gm[k] = math.Sqrt(x*x + y*y + z*z)
	}
}

// gravity estimates the gravity component of the three accelerometer axes
// (held in the body signals) into e.grav. The low-pass (GravityCutoff, far
// below the analysis rate) runs on block means of e.dec samples, which is an
// anti-aliasing decimation that costs nothing at these frequencies and
// divides the filtering work by e.dec, and is interpolated back linearly.
// The filter runs forwards and backwards (zero phase); as in SciPy's filtfilt
// each end is extended by an odd reflection about the end value, so that
// linear trends pass without edge transients, and each pass starts in the
// steady state of its first input, so that a constant passes unchanged. The
// reflection's centre is not the end sample itself, which would carry
// whatever vibration or gait phase happens to be there into the gravity
// estimate, but a least-squares line through the first (last) third of the
// blocks evaluated at the end: exact for linear trends, robust to ripple.
func (e *Extractor) gravity() {
	n := len(e.grav[0])
	d := e.dec
	md := (n + d - 1) / d
	p := min(md-1, e.pad)
	var ext [3][]float64
	for k := range 3 {
		x := e.sig[sigBodyX+k][:n]
		b := e.ext[k][:md+2*p]
		for j := range md {
			lo, hi := j*d, min((j+1)*d, n)
			var s float64
			for _, v := range x[lo:hi] {
				s += v
			}
			b[p+j] = s / float64(hi-lo)
		}
		l0, l1 := endLevels(b[p : p+md])
		for i := 1; i <= p; i++ {
			b[p-i] = 2*l0 - b[p+i]
			b[p+md-1+i] = 2*l1 - b[p+md-1-i]
		}
		ext[k] = b
	}
	e.iir(ext[0], ext[1], ext[2])
	if md == 1 {
		for k := range 3 {
			for i := range e.grav[k] {
				e.grav[k][i] = ext[k][p]
			}
		}
		return
	}
	x0, y0, z0 := ext[0][p:p+md], ext[1][p:p+md], ext[2][p:p+md]
	gx, gy, gz := e.grav[0][:n], e.grav[1][:n], e.grav[2][:n]
	blk, frac := e.gBlock[:n], e.gFrac[:n]
	for i := range n {
		j, u := int(blk[i]), frac[i]
		gx[i] = x0[j] + u*(x0[j+1]-x0[j])
		gy[i] = y0[j] + u*(y0[j+1]-y0[j])
		gz[i] = z0[j] + u*(z0[j+1]-z0[j])
	}
}

// gravityInterp returns, for each of n samples, the block j whose mean (of d
// samples) lies at or left of it, and the linear interpolation weight
// between the means of blocks j and j+1. Block j's mean sits at sample
// c_j = j·d + (len_j − 1)/2; the first and last blocks extrapolate.
func gravityInterp(n, d int) ([]int32, []float64) {
	md := (n + d - 1) / d
	blk, frac := make([]int32, n), make([]float64, n)
	if md < 2 {
		return blk, frac // gravity handles a single block itself
	}
	center := func(j int) float64 {
		return float64(j*d) + float64(min((j+1)*d, n)-j*d-1)/2
	}
	j := 0
	for i := range n {
		fi := float64(i)
		for j < md-2 && fi > center(j+1) {
			j++
		}
		c0, c1 := center(j), center(j+1)
		blk[i] = int32(j)
		frac[i] = (fi - c0) / (c1 - c0)
	}
	return blk, frac
}

// endLevels fits least-squares lines to the first and the last third of b
// (at least two points each) and returns their values at the two ends.
func endLevels(b []float64) (first, last float64) {
	n := len(b)
	if n < 3 {
		return b[0], b[n-1]
	}
	l := max(2, n/3)
	fit := func(seg []float64, at float64) float64 {
		// Points (i, seg[i]), i = 0…len−1.
		m := float64(len(seg))
		mx := (m - 1) / 2
		var my, sxy, sxx float64
		for _, v := range seg {
			my += v
		}
		my /= m
		for i, v := range seg {
			dx := float64(i) - mx
			sxy += dx * (v - my)
			sxx += dx * dx
		}
		return my + sxy/sxx*(at-mx)
	}
	return fit(b[:l], 0), fit(b[n-l:], float64(l-1))
}

// iir filters x, y and z in place forwards, then backwards.
func (e *Extractor) iir(x, y, z []float64) {
	b0, b1, b2, a1, a2 := e.b0, e.b1, e.b2, e.a1, e.a2
	n := len(x)
	y, z = y[:n], z[:n]
	var s1, s2 [3]float64
	start := func(v0, v1, v2 float64) {
		for k, v := range [3]float64{v0, v1, v2} {
			s2[k] = (b2 - a2) * v
			s1[k] = (b1-a1)*v + s2[k]
		}
	}
	start(x[0], y[0], z[0])
	for i := 0; i < n; i++ {
		xi, yi, zi := x[i], y[i], z[i]
		ox := b0*xi + s1[0]
		oy := b0*yi + s1[1]
		oz := b0*zi + s1[2]
		s1[0] = b1*xi - a1*ox + s2[0]
		s1[1] = b1*yi - a1*oy + s2[1]
		s1[2] = b1*zi - a1*oz + s2[2]
		s2[0] = b2*xi - a2*ox
		s2[1] = b2*yi - a2*oy
		s2[2] = b2*zi - a2*oz
		x[i], y[i], z[i] = ox, oy, oz
	}
	start(x[n-1], y[n-1], z[n-1])
	for i := n - 1; i >= 0; i-- {
		xi, yi, zi := x[i], y[i], z[i]
		ox := b0*xi + s1[0]
		oy := b0*yi + s1[1]
		oz := b0*zi + s1[2]
		s1[0] = b1*xi - a1*ox + s2[0]
		s1[1] = b1*yi - a1*oy + s2[1]
		s1[2] = b1*zi - a1*oz + s2[2]
		s2[0] = b2*xi - a2*ox
		s2[1] = b2*yi - a2*oy
		s2[2] = b2*zi - a2*oz
		x[i], y[i], z[i] = ox, oy, oz
	}
}

// Histogram bins. The value range [min, max] of a signal is cut into
// histBins equal fine bins, which order the values for the quantiles
// (a bucket partition: an order statistic is then selected within one small
// bin instead of the whole window); entropyBins coarse bins, each
// histBins/entropyBins fine ones, give the histogram entropy.
const (
	entropyBins = 10
	histBins    = 4 * entropyBins
)

// signalFeatures fills out (perSignal values, or numTimeStats for a
// time-domain-only signal) for signal x.
//
// Three passes over x: sums and range; central moments, crossings, the
// windowed copy for the FFT and the fine histogram; the bucket partition.
// The order statistics come from the partition, the MAD from the values
// whose distance to the median lies between the two half-IQRs (see mad).
//
// It returns x's mean and (population) variance.
func (e *Extractor) signalFeatures(out, x []float64) (mean, variance float64) {
	n := len(x)
	fn := float64(n)
	spectral := len(out) >= perSignal
	var sum, sq float64
	lo, hi := x[0], x[0]
	for _, v := range x {
		sum += v
		sq += v * v
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	mean = sum / fn
	// The fine bin is ⌊(v−lo)·10/(hi−lo)·4⌋: the factor 4 is exact, so the
	// coarse bin ⌊fine/4⌋ equals ⌊(v−lo)·10/(hi−lo)⌋ exactly. A zero or
	// subnormal range gives scale +Inf and u NaN (or +Inf): the last bin,
	// like any u beyond the top.
	scale := entropyBins / (hi - lo)
	var cnt [histBins]int
	bins := e.bins[:n]
	var w, hann []float64
	if spectral {
		w, hann = e.work[:n], e.hann[:n] // the windowed signal for the FFT
	}
	var m2, m3, m4 float64
	cross := 0
	prev := x[0] >= mean
	for i, v := range x {
		d := v - mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		m4 += d2 * d2
		if cur := v >= mean; cur != prev {
			cross++
			prev = cur
		}
		if spectral {
			w[i] = d * hann[i]
		}
		u := (v - lo) * scale * (histBins / entropyBins)
		b := histBins - 1
		if u < histBins-1 {
			b = int(u)
		}
		bins[i] = uint8(b)
		cnt[b]++
	}
	m2 /= fn
	m3 /= fn
	m4 /= fn
	variance = m2
	std := math.Sqrt(m2)
	out[stMean] = mean
	out[stStd] = std
	out[stMin] = lo
	out[stMax] = hi
	out[stEnergy] = sq / fn
	out[stSkew], out[stKurt], out[stMCR], out[stEntropy] = 0, 0, 0, 0
	flat := !(m2 > 1e-24*(1+mean*mean))
	if !flat {
		out[stSkew] = m3 / (m2 * std)
		out[stKurt] = m4/(m2*m2) - 3
		out[stMCR] = float64(cross) * e.cfg.Rate / float64(max(n-1, 1))
		out[stEntropy] = e.histEntropy(&cnt, n)
	}

	// Bucket partition: a holds x's values bin by bin.
	a := e.scratch[:n]
	cum := &e.cum
	pos := 0
	for b, c := range cnt {
		cum[b] = pos
		cnt[b] = pos // from here on the next free slot of bin b
		pos += c
	}
	cum[histBins] = n
	for i, v := range x {
		b := bins[i]
		a[cnt[b]] = v
		cnt[b]++
	}
	q1 := binnedQuantile(a, cum, 0.25)
	med := binnedQuantile(a, cum, 0.5)
	q3 := binnedQuantile(a, cum, 0.75)
	out[stIQR] = q3 - q1
	out[stMAD] = e.mad(x, med, q1, q3)

	if !spectral {
		return mean, variance
	}
	// Spectrum of the Hann-windowed, mean-removed signal.
	spec := e.fft.Coefficients(e.spec, w)
	for b := stBand0; b <= stBand4; b++ {
		out[b] = 0
	}
	out[stDomFreq], out[stSpecEntropy] = 0, 0
	if flat || len(spec) < 2 {
		return mean, variance
	}
	df := e.cfg.Rate / fn
	// Power per bin into w (reusing the buffer), per band, total, Σp² and
	// arg-max in one pass; e.bandOf maps bins to bands.
	p := w[:len(spec)]
	bandOf := e.bandOf[:len(spec)]
	var total, sumsq float64
	var bands [stBand4 - stBand0 + 1]float64
	best := 1
	for k := 1; k < len(spec); k++ {
		c := spec[k]
		pk := real(c)*real(c) + imag(c)*imag(c)
		p[k] = pk
		total += pk
		sumsq += pk * pk
		bands[bandOf[k]] += pk
		if pk > p[best] {
			best = k
		}
	}
	if !(total > 0) {
		return mean, variance
	}
	for b, v := range bands {
		out[stBand0+b] = v / total
	}
	if kk := len(spec) - 1; kk > 1 {
		// Rényi order-2 (collision) entropy of the normalised spectrum,
		// −ln Σq², over its maximum ln K: one logarithm instead of K.
		out[stSpecEntropy] = -math.Log(sumsq/(total*total)) / math.Log(float64(kk))
	}
	// Gaussian (log-parabolic) interpolation of the peak (Gasior & Gonzalez,
	// CERN AB-Note-2004-021): exact for a Gaussian-shaped main lobe, a good
	// approximation for the Hann window's.
	pos2 := float64(best)
	if best > 1 && best < len(spec)-1 && p[best-1] > 0 && p[best+1] > 0 {
		l, c, r := math.Log(p[best-1]), math.Log(p[best]), math.Log(p[best+1])
		if den := l - 2*c + r; den < 0 {
			pos2 += 0.5 * (l - r) / den
		}
	}
	out[stDomFreq] = pos2 * df
	return mean, variance
}

// histEntropy is the Shannon entropy of the entropyBins-bin histogram whose
// fine counts are cnt (n values), divided by ln entropyBins so that it lies
// in [0, 1]. With coarse counts c_b, H = ln n − Σ c_b ln c_b / n, read from
// the clnc table.
func (e *Extractor) histEntropy(cnt *[histBins]int, n int) float64 {
	const k = histBins / entropyBins
	var s float64
	for b := 0; b < histBins; b += k {
		c := 0
		for _, v := range cnt[b : b+k] {
			c += v
		}
		s += e.clnc[c]
	}
	logN := e.logN
	if n != e.m {
		logN = math.Log(float64(n))
	}
	return (logN - s/float64(n)) / math.Ln10
}

// binnedQuantile returns the type-7 q-quantile (Hyndman & Fan 1996, linear
// interpolation between order statistics, as R's and NumPy's default) of a,
// whose values are grouped in ascending bins a[cum[b]:cum[b+1]]. It reorders
// values within their bins only.
func binnedQuantile(a []float64, cum *[histBins + 1]int, q float64) float64 {
	n := len(a)
	h := float64(n-1) * q
	l := int(h)
	b := 0
	for cum[b+1] <= l {
		b++
	}
	lo, hi := cum[b], cum[b+1]
	v := selectK(a[lo:hi], l-lo)
	if f := h - float64(l); f > 0 && l+1 < n {
		var next float64
		if l+1 < hi {
			next = minOf(a[l+1 : hi])
		} else {
			for cum[b+1] <= l+1 {
				b++
			}
			next = minOf(a[cum[b]:cum[b+1]])
		}
		v += f * (next - v)
	}
	return v
}

// mad returns the median absolute deviation of x from med (type-7 median of
// |x−med|), given x's quartiles. With d₁ = med−q1 and d₃ = q3−med, about a
// quarter of the values lie within d₁ below the median and a quarter within
// d₃ above it, so the median distance lies between min(d₁, d₃) and
// max(d₁, d₃): one pass counts the distances below that interval and
// collects those inside it, and the selection runs on the (for a symmetric
// signal, few) collected ones. Should the median fall outside the interval
// after all, mad selects among all distances.
func (e *Extractor) mad(x []float64, med, q1, q3 float64) float64 {
	n := len(x)
	dlo, dhi := med-q1, q3-med
	if dlo > dhi {
		dlo, dhi = dhi, dlo
	}
	cand := e.cand[:n]
	below, c := 0, 0
	for _, v := range x {
		d := math.Abs(v - med)
		if d < dlo {
			below++
		}
		cand[c] = d
		if d >= dlo && d <= dhi {
			c++
		}
	}
	h := float64(n-1) * 0.5
	l := int(h)
	f := h - float64(l)
	need := l // highest rank needed
	if f > 0 && l+1 < n {
		need = l + 1
	}
	if below <= l && need < below+c {
		k := l - below
		v := selectK(cand[:c], k)
		if need > l {
			v += f * (minOf(cand[k+1:c]) - v)
		}
		return v
	}
	for i, v := range x {
		cand[i] = math.Abs(v - med)
	}
	return quantileSelect(cand, 0.5)
}

// autocorrPeak returns the largest local maximum of the normalised
// autocorrelation of x (mean removed, unbiased per-lag normalisation) for lags
// in [0.25 s, 1 s], and that lag in seconds; (0, 0) when there is none.
// mean and v0 are x's mean and variance.
func (e *Extractor) autocorrPeak(x []float64, mean, v0 float64) (peak, period float64) {
	n := len(x)
	d := e.scratch[:n]
	for i, v := range x {
		d[i] = v - mean
	}
	if !(v0 > 1e-24) {
		return 0, 0
	}
	lagMax := min(e.lagMax+1, n/2)
	prev2, prev := math.Inf(-1), math.Inf(-1)
	bestLag := 0
	best := math.Inf(-1)
	for lag := e.lagMin - 1; lag <= lagMax; lag++ {
		if lag < 1 {
			continue
		}
		s := dot4(d[:n-lag], d[lag:])
		r := s / float64(n-lag) / v0
		// prev is a local maximum inside [lagMin, lagMax].
		if l := lag - 1; l >= e.lagMin && l <= e.lagMax && prev > prev2 && prev >= r && prev > best {
			best, bestLag = prev, l
		}
		prev2, prev = prev, r
	}
	if bestLag == 0 {
		return 0, 0
	}
	return best, float64(bestLag) / e.cfg.Rate
}

// dot4 returns Σ a[i]·b[i] with four accumulators, which breaks the
// floating-point add dependency chain (len(b) ≥ len(a)).
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// tiltFeatures computes orientation features from the gravity estimate.
func (e *Extractor) tiltFeatures(f *Features) {
	gx, gy, gz := e.grav[0], e.grav[1], e.grav[2]
	n := len(gx)
	var mx, my, mz, gmag float64
	for i := range gx {
		mx += gx[i]
		my += gy[i]
		mz += gz[i]
		gmag += math.Sqrt(gx[i]*gx[i] + gy[i]*gy[i] + gz[i]*gz[i])
	}
	f[fGravity] = gmag / float64(n)
	norm := math.Sqrt(mx*mx + my*my + mz*mz)
	f[fTilt], f[fTiltStd], f[fTiltMax], f[fTiltRate] = 0, 0, 0, 0
	if !(norm > 0) {
		return
	}
	mx, my, mz = mx/norm, my/norm, mz/norm
	f[fTilt] = math.Acos(min(max(mz, -1), 1))
	// The gravity estimate is band-limited to GravityCutoff, so it is
	// examined at about 10 Hz, which is plenty for a 0.3 Hz signal.
	stride := max(1, int(e.cfg.Rate/10))
	var sumc2, maxc, path float64
	var px, py, pz float64
	cnt := 0
	for i := 0; i < n; i += stride {
		l := math.Sqrt(gx[i]*gx[i] + gy[i]*gy[i] + gz[i]*gz[i])
		if l == 0 {
			continue
		}
		ux, uy, uz := gx[i]/l, gy[i]/l, gz[i]/l
		dx, dy, dz := ux-mx, uy-my, uz-mz
		c2 := dx*dx + dy*dy + dz*dz
		sumc2 += c2
		cnt++
		if c2 > maxc {
			maxc = c2
		}
		if i > 0 {
			dx, dy, dz = ux-px, uy-py, uz-pz
			c := math.Sqrt(dx*dx + dy*dy + dz*dz)
			// Angle from chord: 2·asin(c/2) = c + c³/24 + O(c⁵).
			path += c + c*c*c/24
		}
		px, py, pz = ux, uy, uz
	}
	chordAngle := func(c float64) float64 { return 2 * math.Asin(min(c/2, 1)) }
	last := (n - 1) / stride * stride
	f[fTiltStd] = chordAngle(math.Sqrt(sumc2 / float64(cnt)))
	f[fTiltMax] = chordAngle(math.Sqrt(maxc))
	if last > 0 {
		f[fTiltRate] = path * e.cfg.Rate / float64(last)
	}
}

package motion

import (
	"math"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
)

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
// for concurrent use; use one per goroutine (or a sync.Pool). The zero
// Extractor is usable and stands for NewExtractor(Config{}) (the defaults).
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
	e := &Extractor{}
	e.init(cfg.withDefaults())
	return e, nil
}

// init sets up e for the valid, defaults-filled c.
func (e *Extractor) init(c Config) {
	e.cfg = c
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
}

// ready initialises a zero Extractor with the default configuration.
func (e *Extractor) ready() {
	if e.cfg.Rate == 0 {
		e.init(DefaultConfig())
	}
}

// Config returns the extractor's configuration with defaults filled in.
func (e *Extractor) Config() Config {
	if e.cfg.Rate == 0 {
		return DefaultConfig()
	}
	return e.cfg
}

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
	e.ready()
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
	vert, horiz := e.sig[sigVert][:m], e.sig[sigHoriz][:m]
	for i := range bx {
		bx[i] -= gx[i]
		by[i] -= gy[i]
		bz[i] -= gz[i]
		b2 := bx[i]*bx[i] + by[i]*by[i] + bz[i]*bz[i]
		bodyMag[i] = math.Sqrt(b2)
		v := 0.0
		if g2 := gx[i]*gx[i] + gy[i]*gy[i] + gz[i]*gz[i]; g2 > 0 {
			v = (bx[i]*gx[i] + by[i]*gy[i] + bz[i]*gz[i]) / math.Sqrt(g2)
		}
		vert[i] = v
		horiz[i] = math.Sqrt(max(b2-v*v, 0))
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

package motion

import (
	"math"
)

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

package motion

import (
	"math"
)

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
	f[fGravX], f[fGravY], f[fGravZ] = 0, 0, 0
	if !(norm > 0) {
		return
	}
	mx, my, mz = mx/norm, my/norm, mz/norm
	f[fGravX], f[fGravY], f[fGravZ] = mx, my, mz
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

package geo

import (
	"fmt"
	"math"
)

// WGS84 ellipsoid (NIMA TR8350.2).
const (
	wgs84A = 6378137.0               // equatorial radius, metres
	wgs84F = 1 / 298.257223563       // flattening
	wgsF1  = 1 - wgs84F              // 1 − f
	wgsB   = wgs84A * wgsF1          // polar semi-axis, metres
	wgsE2  = wgs84F * (2 - wgs84F)   // first eccentricity squared
	wgsEp2 = wgsE2 / (wgsF1 * wgsF1) // second eccentricity squared
	wgsN   = wgs84F / (2 - wgs84F)   // third flattening
)

// Numerical tolerances for the inverse solution (Karney 2013, §5).
const (
	gTol0    = 2.220446049250313e-16 // machine epsilon
	gTol1    = 200 * gTol0
	gTol2    = 1.4901161193847656e-08 // sqrt(tol0)
	gTolB    = gTol0 * gTol2
	gXThresh = 1000 * gTol2
	gTiny    = 1.4916681462400413e-154 // sqrt(smallest normal)
	gMaxIt1  = 20
	gMaxIt2  = gMaxIt1 + 53 + 10
)

// gEtol2 bounds the short-line shortcut (a function of f only).
var gEtol2 = 0.1 * gTol2 / math.Sqrt(math.Max(0.001, math.Abs(wgs84F))*math.Min(1, 1-wgs84F/2)/2)

// Coefficients of A3 and C3 (Karney 2013, eqs. 24–25) as polynomials in ε
// with the n-dependence folded into constants for WGS84.
const (
	a3c1 = 1.0/2 - wgsN/2
	a3c2 = 1.0/4 + wgsN/8 - 3*wgsN*wgsN/8
	a3c3 = 1.0/16 + 3*wgsN/16 + wgsN*wgsN/16
	a3c4 = 3.0/64 + wgsN/32
	a3c5 = 3.0 / 128

	c31e1 = 1.0/4 - wgsN/4
	c31e2 = 1.0/8 - wgsN*wgsN/8
	c31e3 = 3.0/64 + 3*wgsN/64 - wgsN*wgsN/64
	c31e4 = 5.0/128 + wgsN/64
	c31e5 = 3.0 / 128
	c32e2 = 1.0/16 - 3*wgsN/32 + wgsN*wgsN/32
	c32e3 = 3.0/64 - wgsN/32 - 3*wgsN*wgsN/64
	c32e4 = 3.0/128 + wgsN/128
	c32e5 = 5.0 / 256
	c33e3 = 5.0/192 - 3*wgsN/64 + 5*wgsN*wgsN/192
	c33e4 = 3.0/128 - 5*wgsN/192
	c33e5 = 7.0 / 512
	c34e4 = 7.0/512 - 7*wgsN/256
	c34e5 = 7.0 / 512
	c35e5 = 21.0 / 2560
)

// Geodesic returns the length in metres of the shortest geodesic between a
// and b on the WGS84 ellipsoid, solving the inverse geodesic problem with
// the method of C. F. F. Karney, "Algorithms for geodesics", J. Geodesy 87,
// 43–55 (2013): series expansions to sixth order in the third flattening,
// Newton's method on the azimuth with a bisection safeguard, and the astroid
// starting guess for nearly antipodal points, so it converges for every pair
// (unlike Vincenty's formulae). The error is a few nanometres, far below the
// 1 mm requirement. It returns NaN if either point is invalid and does not
// allocate. GeodesicInverse also returns the azimuths.
func Geodesic(a, b LatLng) float64 {
	if !a.valid() || !b.valid() {
		return math.NaN()
	}
	s12, _, _, _, _ := inverse(a, b)
	return s12
}

// GeodesicInverse solves the inverse geodesic problem on the WGS84
// ellipsoid (Karney 2013): the length s12M in metres of the shortest
// geodesic from a to b, its azimuth azi1Deg at a and its forward azimuth
// azi2Deg at b, both in degrees clockwise from north in (−180, 180].
// Where the shortest path is not unique (coincident or exactly antipodal
// points, a pole) the azimuths are those of one of the shortest paths.
// It returns an error wrapping ErrInvalidLatLng if either point is
// invalid, and does not allocate.
func GeodesicInverse(a, b LatLng) (s12M, azi1Deg, azi2Deg float64, err error) {
	if err := a.Validate(); err != nil {
		return 0, 0, 0, err
	}
	if err := b.Validate(); err != nil {
		return 0, 0, 0, err
	}
	s12, salp1, calp1, salp2, calp2 := inverse(a, b)
	return s12, atan2d(salp1, calp1), atan2d(salp2, calp2), nil
}

// atan2d returns atan2(y, x) in degrees, in (−180, 180].
func atan2d(y, x float64) float64 {
	if y == 0 {
		y = 0 // −0 would give −180 for x < 0
	}
	return math.Atan2(y, x) / deg
}

// inverse solves the inverse problem for valid points and returns the
// length and the sines and cosines of both azimuths (Karney 2013, §4–5).
func inverse(a, b LatLng) (s12, salp1, calp1, salp2, calp2 float64) {
	lat1, lat2 := angRound(a.Lat), angRound(b.Lat)
	lon12s := b.Lng - a.Lng // in [−360, 360]; reduce to [−180, 180]
	if lon12s > 180 {
		lon12s -= 360
	} else if lon12s < -180 {
		lon12s += 360
	}
	lon12s = angRound(lon12s)
	// Canonical configuration: λ12 ≥ 0, |lat1| ≥ |lat2| and lat1 ≤ 0; the
	// signs undo it for the azimuths at the end.
	lonsign := 1.0
	if math.Signbit(lon12s) {
		lonsign = -1
	}
	lon12 := math.Abs(lon12s)
	swapp := 1.0
	if math.Abs(lat1) < math.Abs(lat2) {
		swapp, lonsign = -1, -lonsign
		lat1, lat2 = lat2, lat1
	}
	latsign := 1.0
	if lat1 > 0 {
		latsign = -1
		lat1, lat2 = -lat1, -lat2
	}
	s12, salp1, calp1, salp2, calp2 = inverseCanonical(lat1, lat2, lon12)
	if swapp < 0 {
		salp1, salp2 = salp2, salp1
		calp1, calp2 = calp2, calp1
	}
	salp1 *= swapp * lonsign
	calp1 *= swapp * latsign
	salp2 *= swapp * lonsign
	calp2 *= swapp * latsign
	return s12, salp1, calp1, salp2, calp2
}

// inverseCanonical solves the inverse problem for lat1 ≤ 0,
// |lat2| ≤ |lat1| and 0 ≤ lon12 ≤ 180 (degrees).
func inverseCanonical(lat1, lat2, lon12 float64) (s12, salp1, calp1, salp2, calp2 float64) {
	sameAbs := math.Abs(lat1) == math.Abs(lat2)

	sbet1, cbet1 := reducedLat(lat1)
	sbet2, cbet2 := reducedLat(lat2)
	if sameAbs { // make β2 = ±β1 exactly
		cbet2 = cbet1
		if lat2 < 0 {
			sbet2 = sbet1
		} else {
			sbet2 = -sbet1
		}
	}
	dn1 := math.Sqrt(1 + wgsEp2*sbet1*sbet1)
	dn2 := math.Sqrt(1 + wgsEp2*sbet2*sbet2)
	lam12 := lon12 * deg
	slam12, clam12 := sincosd(lon12)

	// Meridional geodesics (and a start at the pole).
	if lat1 == -90 || slam12 == 0 {
		// α1 = λ12 (0 or 180°), α2 = 0.
		salp1, calp1, salp2, calp2 = slam12, clam12, 0, 1
		ssig1, csig1 := sbet1, clam12*cbet1
		ssig2, csig2 := sbet2, cbet2
		sig12 := math.Atan2(math.Max(0, csig1*ssig2-ssig1*csig2), csig1*csig2+ssig1*ssig2)
		s12b, m12b := lengths(wgsN, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, true)
		if sig12 < 1 || m12b >= 0 {
			if sig12 < 3*gTiny {
				return 0, salp1, calp1, salp2, calp2
			}
			return wgsB * s12b, salp1, calp1, salp2, calp2
		}
		// Otherwise the meridian is not the shortest path: fall through.
	}

	// Equatorial geodesics (β1 = β2 = 0) shorter than (1 − f)π.
	if sbet1 == 0 && lam12 <= (1-wgs84F)*math.Pi {
		return wgs84A * lam12, 1, 0, 1, 0
	}

	sig12, dnm := 0.0, 0.0
	sig12, salp1, calp1, salp2, calp2, dnm = inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12)
	if sig12 >= 0 { // short line solved on the auxiliary sphere
		return sig12 * wgsB * dnm, salp1, calp1, salp2, calp2
	}

	// Newton's method on α1 with a bracketing bisection fallback.
	var ssig1, csig1, ssig2, csig2, eps, s12b float64
	salp1a, calp1a := gTiny, 1.0
	salp1b, calp1b := gTiny, -1.0
	tripn, tripb := false, false
	for numit := 0; numit < gMaxIt2; numit++ {
		var v, dv float64
		v, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dv, s12b = lambda12(sbet1, cbet1, dn1, sbet2, cbet2, dn2,
			salp1, calp1, slam12, clam12, numit < gMaxIt1)
		tol := gTol0
		if tripn {
			tol *= 8
		}
		if tripb || !(math.Abs(v) >= tol) {
			break
		}
		if v > 0 && (numit > gMaxIt1 || calp1/salp1 > calp1b/salp1b) {
			salp1b, calp1b = salp1, calp1
		} else if v < 0 && (numit > gMaxIt1 || calp1/salp1 < calp1a/salp1a) {
			salp1a, calp1a = salp1, calp1
		}
		if numit < gMaxIt1 && dv > 0 {
			dalp1 := -v / dv
			if math.Abs(dalp1) < math.Pi {
				sdalp1, cdalp1 := math.Sincos(dalp1)
				nsalp1 := salp1*cdalp1 + calp1*sdalp1
				if nsalp1 > 0 {
					calp1 = calp1*cdalp1 - salp1*sdalp1
					salp1 = nsalp1
					salp1, calp1 = norm2(salp1, calp1)
					tripn = math.Abs(v) <= 16*gTol0
					continue
				}
			}
		}
		// Bisection keeps the solution bracketed when Newton misbehaves.
		salp1, calp1 = norm2((salp1a+salp1b)/2, (calp1a+calp1b)/2)
		tripn = false
		tripb = math.Abs(salp1a-salp1)+(calp1a-calp1) < gTolB ||
			math.Abs(salp1-salp1b)+(calp1-calp1b) < gTolB
	}
	if s12b < 0 { // the last evaluation did not compute the length
		s12b, _ = lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, false)
	}
	return wgsB * s12b, salp1, calp1, salp2, calp2
}

// angRound rounds angles (degrees) below about 1e-18 to zero, keeping the
// rest exact to 1/16 ulp at 1/16°, so that underflow in the reduced
// latitude or azimuth cannot reach the solvers (Karney's AngRound; without
// it a latitude of 1e-301° made the inverse return NaN).
func angRound(x float64) float64 {
	const z = 1.0 / 16
	y := math.Abs(x)
	if y < z {
		y = z - (z - y)
	}
	return math.Copysign(y, x)
}

// reducedLat returns sin β, cos β of the reduced latitude, tan β = (1−f) tan φ.
func reducedLat(lat float64) (sbet, cbet float64) {
	s, c := sincosd(lat)
	sbet, cbet = norm2(wgsF1*s, c)
	return sbet, math.Max(gTiny, cbet)
}

// sincosd returns sin and cos of x degrees, exact at multiples of 90°.
func sincosd(x float64) (s, c float64) {
	r := x
	if r < -180 || r > 180 {
		r = math.Remainder(x, 360)
	}
	q := math.Round(r / 90)
	r -= 90 * q
	s, c = math.Sincos(r * deg)
	switch int(q) & 3 {
	case 0:
	case 1:
		s, c = c, -s
	case 2:
		s, c = -s, -c
	default:
		s, c = -c, s
	}
	if s == 0 {
		s = 0 // no negative zero
	}
	return s, c
}

// norm2 scales (x, y) to unit length. Arguments are sines and cosines
// (magnitude ≤ ~2), so the plain square root cannot overflow.
func norm2(x, y float64) (float64, float64) {
	r := math.Sqrt(x*x + y*y)
	return x / r, y / r
}

// sinSeries evaluates Σ_{l=1..len(c)} c[l-1]·sin(2lσ) by Clenshaw summation
// given sin σ and cos σ.
func sinSeries(sx, cx float64, c []float64) float64 {
	ar := 2 * (cx - sx) * (cx + sx) // 2 cos 2σ
	var b1, b2 float64
	for k := len(c) - 1; k >= 0; k-- {
		b1, b2 = ar*b1-b2+c[k], b1
	}
	return 2 * sx * cx * b1
}

// a1m1 returns A1 − 1 (Karney 2013, eq. 17).
func a1m1(eps float64) float64 {
	e2 := eps * eps
	t := e2 * (e2*(e2+4) + 64) / 256
	return (t + eps) / (1 - eps)
}

// c1 fills the C1l coefficients (Karney 2013, eq. 18).
func c1(eps float64, c *[6]float64) {
	e2 := eps * eps
	d := eps
	c[0] = d * (e2*(6-e2) - 16) / 32
	d *= eps
	c[1] = d * (-1.0/16 + e2/32 - 9*e2*e2/2048)
	d *= eps
	c[2] = d * (-1.0/48 + 3*e2/256)
	d *= eps
	c[3] = d * (-5.0/512 + 3*e2/1024)
	d *= eps
	c[4] = d * (-7.0 / 1280)
	d *= eps
	c[5] = d * (-7.0 / 2048)
}

// a2m1 returns A2 − 1 (Karney 2013, eq. 42).
func a2m1(eps float64) float64 {
	e2 := eps * eps
	t := -e2 * (192 + e2*(28+11*e2)) / 256
	return (t - eps) / (1 + eps)
}

// c2 fills the C2l coefficients (Karney 2013, eq. 43).
func c2(eps float64, c *[6]float64) {
	e2 := eps * eps
	d := eps
	c[0] = d * (1.0/2 + e2/16 + e2*e2/32)
	d *= eps
	c[1] = d * (3.0/16 + e2/32 + 35*e2*e2/1024)
	d *= eps
	c[2] = d * (5.0/48 + 5*e2/256)
	d *= eps
	c[3] = d * (35.0/512 + 7*e2/512)
	d *= eps
	c[4] = d * (63.0 / 1280)
	d *= eps
	c[5] = d * (77.0 / 2048)
}

// a3 returns A3 (Karney 2013, eq. 24).
func a3(eps float64) float64 {
	return 1 - eps*(a3c1+eps*(a3c2+eps*(a3c3+eps*(a3c4+eps*a3c5))))
}

// c3 fills the C3l coefficients (Karney 2013, eq. 25).
func c3(eps float64, c *[5]float64) {
	e2 := eps * eps
	e3 := e2 * eps
	e4 := e3 * eps
	e5 := e4 * eps
	c[0] = eps*c31e1 + e2*c31e2 + e3*c31e3 + e4*c31e4 + e5*c31e5
	c[1] = e2*c32e2 + e3*c32e3 + e4*c32e4 + e5*c32e5
	c[2] = e3*c33e3 + e4*c33e4 + e5*c33e5
	c[3] = e4*c34e4 + e5*c34e5
	c[4] = e5 * c35e5
}

// lengths returns s12/b and, when wantM, m12/b (reduced length), for the
// arc σ1→σ2 of a geodesic with parameter ε (Karney 2013, eqs. 7, 38–41).
func lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2 float64, wantM bool) (s12b, m12b float64) {
	var ca, cb [6]float64
	c1(eps, &ca)
	am1 := a1m1(eps)
	b1 := sinSeries(ssig2, csig2, ca[:]) - sinSeries(ssig1, csig1, ca[:])
	s12b = (1 + am1) * (sig12 + b1)
	if !wantM {
		return s12b, 0
	}
	c2(eps, &cb)
	am2 := a2m1(eps)
	b2 := sinSeries(ssig2, csig2, cb[:]) - sinSeries(ssig1, csig1, cb[:])
	j12 := (am1-am2)*sig12 + ((1+am1)*b1 - (1+am2)*b2)
	m12b = dn2*(csig1*ssig2) - dn1*(ssig1*csig2) - csig1*csig2*j12
	return s12b, m12b
}

// inverseStart returns a starting guess for α1; for short lines it solves
// the problem outright and returns sig12 ≥ 0 with the scale dnm
// (Karney 2013, §5 and eqs. 55–64 for the astroid guess).
func inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12 float64) (sig12, salp1, calp1, salp2, calp2, dnm float64) {
	sig12 = -1
	sbet12 := sbet2*cbet1 - cbet2*sbet1
	cbet12 := cbet2*cbet1 + sbet2*sbet1
	sbet12a := sbet2*cbet1 + cbet2*sbet1
	shortline := cbet12 >= 0 && sbet12 < 0.5 && cbet2*lam12 < 0.5
	somg12, comg12 := slam12, clam12
	if shortline {
		sbetm2 := (sbet1 + sbet2) * (sbet1 + sbet2)
		sbetm2 /= sbetm2 + (cbet1+cbet2)*(cbet1+cbet2)
		dnm = math.Sqrt(1 + wgsEp2*sbetm2)
		somg12, comg12 = math.Sincos(lam12 / (wgsF1 * dnm))
	}
	salp1 = cbet2 * somg12
	if comg12 >= 0 {
		calp1 = sbet12 + cbet2*sbet1*somg12*somg12/(1+comg12)
	} else {
		calp1 = sbet12a - cbet2*sbet1*somg12*somg12/(1-comg12)
	}
	ssig12 := math.Sqrt(salp1*salp1 + calp1*calp1)
	csig12 := sbet1*sbet2 + cbet1*cbet2*comg12

	switch {
	case shortline && ssig12 < gEtol2:
		sig12 = math.Atan2(ssig12, csig12)
		salp2 = cbet1 * somg12
		if comg12 >= 0 {
			calp2 = sbet12 - cbet1*sbet2*somg12*somg12/(1+comg12)
		} else {
			calp2 = sbet12 - cbet1*sbet2*(1-comg12)
		}
		salp2, calp2 = norm2(salp2, calp2)
	case math.Abs(wgsN) > 0.1 || csig12 >= 0 || ssig12 >= 6*math.Abs(wgsN)*math.Pi*cbet1*cbet1:
		// The spherical guess is good enough.
	default:
		// Nearly antipodal: scale to the astroid problem.
		lam12x := math.Atan2(-slam12, -clam12) // λ12 − π
		k2 := sbet1 * sbet1 * wgsEp2
		eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)
		lamscale := wgs84F * cbet1 * a3(eps) * math.Pi
		betscale := lamscale * cbet1
		x := lam12x / lamscale
		y := sbet12a / betscale
		if y > -gTol1 && x > -1-gXThresh {
			salp1 = math.Min(1, -x)
			calp1 = -math.Sqrt(1 - salp1*salp1)
		} else {
			k := astroid(x, y)
			omg12a := lamscale * (-x * k / (1 + k))
			somg12, comg12 = math.Sincos(omg12a)
			comg12 = -comg12
			salp1 = cbet2 * somg12
			calp1 = sbet12a - cbet2*sbet1*somg12*somg12/(1-comg12)
		}
	}
	if salp1 > 0 {
		salp1, calp1 = norm2(salp1, calp1)
	} else {
		salp1, calp1 = 1, 0
	}
	return sig12, salp1, calp1, salp2, calp2, dnm
}

// astroid returns the positive root k of
// k⁴ + 2k³ − (x² + y² − 1)k² − 2y²k − y² = 0 (Karney 2013, eq. 55).
func astroid(x, y float64) float64 {
	p, q := x*x, y*y
	r := (p + q - 1) / 6
	if q == 0 && r <= 0 {
		return 0
	}
	s := p * q / 4
	r2 := r * r
	r3 := r * r2
	disc := s * (s + 2*r3)
	u := r
	if disc >= 0 {
		t3 := s + r3
		if t3 < 0 {
			t3 -= math.Sqrt(disc)
		} else {
			t3 += math.Sqrt(disc)
		}
		t := math.Cbrt(t3)
		u += t
		if t != 0 {
			u += r2 / t
		}
	} else {
		ang := math.Atan2(math.Sqrt(-disc), -(s + r3))
		u += 2 * r * math.Cos(ang/3)
	}
	v := math.Sqrt(u*u + q)
	var uv float64
	if u < 0 {
		uv = q / (v - u)
	} else {
		uv = u + v
	}
	w := (uv - q) / (2 * v)
	return uv / (math.Sqrt(uv+w*w) + w)
}

// lambda12 solves the "hybrid" problem for azimuth α1 and returns
// v = λ12(α1) − λ12 together with α2, the arc and, when diffp, dλ12/dα1 and
// s12/b (s12b is −1 when not computed) (Karney 2013, §5, eqs. 5, 8, 46).
func lambda12(sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam120, clam120 float64, diffp bool) (v, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dlam12, s12b float64) {
	if sbet1 == 0 && calp1 == 0 {
		calp1 = -gTiny // break the degeneracy of equatorial lines
	}
	salp0 := salp1 * cbet1
	calp0 := math.Sqrt(calp1*calp1 + salp1*sbet1*salp1*sbet1)
	ssig1 = sbet1
	somg1 := salp0 * sbet1
	csig1 = calp1 * cbet1
	comg1 := csig1
	ssig1, csig1 = norm2(ssig1, csig1)

	// tan α0 = cos σ2 tan α2 (Clairaut).
	if cbet2 != cbet1 {
		salp2 = salp0 / cbet2
	} else {
		salp2 = salp1
	}
	if cbet2 != cbet1 || math.Abs(sbet2) != -sbet1 {
		var t float64
		if cbet1 < -sbet1 {
			t = (cbet2 - cbet1) * (cbet1 + cbet2)
		} else {
			t = (sbet1 - sbet2) * (sbet1 + sbet2)
		}
		calp2 = math.Sqrt(calp1*cbet1*calp1*cbet1+t) / cbet2
	} else {
		calp2 = math.Abs(calp1)
	}
	ssig2 = sbet2
	somg2 := salp0 * sbet2
	csig2 = calp2 * cbet2
	comg2 := csig2
	ssig2, csig2 = norm2(ssig2, csig2)

	sig12 = math.Atan2(max(0, csig1*ssig2-ssig1*csig2), csig1*csig2+ssig1*ssig2)
	somg12 := max(0, comg1*somg2-somg1*comg2)
	comg12 := comg1*comg2 + somg1*somg2
	eta := math.Atan2(somg12*clam120-comg12*slam120, comg12*clam120+somg12*slam120)

	k2 := calp0 * calp0 * wgsEp2
	eps = k2 / (2*(1+math.Sqrt(1+k2)) + k2)
	var cc [5]float64
	c3(eps, &cc)
	b312 := sinSeries(ssig2, csig2, cc[:]) - sinSeries(ssig1, csig1, cc[:])
	domg12 := -wgs84F * a3(eps) * salp0 * (sig12 + b312)
	v = eta + domg12

	s12b = -1
	if diffp {
		if calp2 == 0 {
			dlam12 = -2 * wgsF1 * dn1 / sbet1
		} else {
			var m12b float64
			s12b, m12b = lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, true)
			dlam12 = m12b * wgsF1 / (calp2 * cbet2)
		}
	}
	return v, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dlam12, s12b
}

// c1p fills the C′1l coefficients of the inverse series σ = τ + Σ C′1l sin 2lτ
// (Karney 2013, eq. 21).
func c1p(eps float64, c *[6]float64) {
	e2 := eps * eps
	d := eps
	c[0] = d * (205*e2*e2 - 432*e2 + 768) / 1536
	d *= eps
	c[1] = d * (4005*e2*e2 - 4736*e2 + 3840) / 12288
	d *= eps
	c[2] = d * (116 - 225*e2) / 384
	d *= eps
	c[3] = d * (2695 - 7173*e2) / 7680
	d *= eps
	c[4] = d * 3467 / 7680
	d *= eps
	c[5] = d * 38081 / 61440
}

// GeodesicDirect solves the direct geodesic problem on the WGS84 ellipsoid
// (Karney 2013, §3): starting at p with azimuth azi1Deg (degrees clockwise
// from north) and travelling s12M metres along the geodesic (negative goes
// backwards), it returns the end point, longitude reduced to [−180, 180],
// and the forward azimuth azi2Deg there, in (−180, 180]. The error is a
// few nanometres for |s12M| up to the half circumference. It returns an
// error wrapping ErrInvalidLatLng if p is invalid or azi1Deg or s12M is not
// finite, and does not allocate. Destination is the spherical
// approximation.
func GeodesicDirect(p LatLng, azi1Deg, s12M float64) (q LatLng, azi2Deg float64, err error) {
	if err := p.Validate(); err != nil {
		return LatLng{}, 0, err
	}
	if math.IsNaN(azi1Deg) || math.IsInf(azi1Deg, 0) || math.IsNaN(s12M) || math.IsInf(s12M, 0) {
		return LatLng{}, 0, fmt.Errorf("%w: azimuth %v / distance %v not finite", ErrInvalidLatLng, azi1Deg, s12M)
	}
	salp1, calp1 := sincosd(angRound(azi1Deg))
	sbet1, cbet1 := reducedLat(angRound(p.Lat))
	salp0 := salp1 * cbet1 // α0 in [0, π/2 − |β1|]
	calp0 := math.Hypot(calp1, salp1*sbet1)
	ssig1, somg1 := sbet1, salp0*sbet1
	csig1 := 1.0
	if sbet1 != 0 || calp1 != 0 {
		csig1 = cbet1 * calp1
	}
	comg1 := csig1
	ssig1, csig1 = norm2(ssig1, csig1)

	k2 := calp0 * calp0 * wgsEp2
	eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)
	am1 := a1m1(eps)
	var ca, cp [6]float64
	c1(eps, &ca)
	c1p(eps, &cp)
	b11 := sinSeries(ssig1, csig1, ca[:])
	sb, cb := math.Sincos(b11)
	stau1, ctau1 := ssig1*cb+csig1*sb, csig1*cb-ssig1*sb // τ1 = σ1 + B11

	// Distance to arc: τ12 = s12/(b·A1), then σ from τ by the inverse series.
	tau12 := s12M / (wgsB * (1 + am1))
	st, ct := math.Sincos(tau12)
	b12 := -sinSeries(stau1*ct+ctau1*st, ctau1*ct-stau1*st, cp[:])
	sig12 := tau12 - (b12 - b11)
	ssig12, csig12 := math.Sincos(sig12)
	ssig2 := ssig1*csig12 + csig1*ssig12
	csig2 := csig1*csig12 - ssig1*ssig12

	sbet2 := calp0 * ssig2
	cbet2 := math.Hypot(salp0, calp0*csig2)
	if cbet2 == 0 { // salp0 = 0 and csig2 = 0: break the degeneracy
		cbet2, csig2 = gTiny, gTiny
	}
	salp2, calp2 := salp0, calp0*csig2
	somg2, comg2 := salp0*ssig2, csig2
	omg12 := math.Atan2(somg2*comg1-comg2*somg1, comg2*comg1+somg2*somg1)
	var cc [5]float64
	c3(eps, &cc)
	lam12 := omg12 - wgs84F*salp0*a3(eps)*(sig12+(sinSeries(ssig2, csig2, cc[:])-sinSeries(ssig1, csig1, cc[:])))

	q.Lat = math.Atan2(sbet2, wgsF1*cbet2) / deg
	q.Lng = normLng(normLng(p.Lng) + normLng(lam12/deg))
	return q, atan2d(salp2, calp2), nil
}

package geo

import (
	"bufio"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

type geodVector struct {
	line             int
	lat1, lon1, lat2 float64
	lon2, s12        float64
}

// loadGeodTest reads testdata/geodtest_sample.dat: lines of GeographicLib's
// published geodesic test set GeodTest-short.dat (C. F. F. Karney,
// https://geographiclib.sourceforge.io/C++/doc/geodesic.html#testgeod).
func loadGeodTest(t testing.TB) []geodVector {
	t.Helper()
	f, err := os.Open("testdata/geodtest_sample.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []geodVector
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 10 {
			t.Fatalf("line %d: %d fields", n, len(fs))
		}
		num := func(i int) float64 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			return v
		}
		out = append(out, geodVector{n, num(0), num(1), num(3), num(4), num(6)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("only %d vectors", len(out))
	}
	return out
}

func TestGeodesicGeodTest(t *testing.T) {
	const tol = 1e-6 // metres; the issue asks for 1 mm, the method gives nm
	worst := 0.0
	over := 0
	vs := loadGeodTest(t)
	for _, v := range vs {
		a := LatLng{v.lat1, v.lon1}
		b := LatLng{v.lat2, v.lon2}
		// Every symmetry of the problem must give the same length.
		variants := []struct {
			name string
			a, b LatLng
		}{
			{"as-is", a, b},
			{"swapped", b, a},
			{"mirrored", LatLng{-a.Lat, a.Lng}, LatLng{-b.Lat, b.Lng}},
			{"lng-negated", LatLng{a.Lat, -a.Lng}, LatLng{b.Lat, -b.Lng}},
			{"shifted", LatLng{a.Lat, a.Lng - 170}, LatLng{b.Lat, normLng(b.Lng - 170)}},
		}
		for _, vv := range variants {
			got := Geodesic(vv.a, vv.b)
			d := math.Abs(got - v.s12)
			worst = math.Max(worst, d)
			if !(d <= tol) {
				t.Errorf("line %d %s: Geodesic(%v, %v) = %.7f, want %.7f (err %.3g m)", v.line, vv.name, vv.a, vv.b, got, v.s12, d)
			}
		}
		// Haversine on the mean sphere stays within 0.5 % of the ellipsoid
		// except for north–south arcs near the equator, where the meridian's
		// radius of curvature a(1−e²) = 6335.4 km is 0.56 % below R₁; that is
		// the sphere's true worst case, so the bound checked is 0.57 %.
		h := Haversine(a, b)
		rel := math.Abs(h-v.s12) / v.s12
		if rel > 0.005 {
			over++
		}
		if rel > 0.0057 {
			t.Errorf("line %d: Haversine %.1f vs geodesic %.1f: %.3f %% off", v.line, h, v.s12, 100*rel)
		}
	}
	t.Logf("worst Geodesic error over GeodTest sample: %.3g m", worst)
	if over > len(vs)/10 {
		t.Errorf("Haversine beyond 0.5 %% for %d of %d vectors", over, len(vs))
	}
}

// Further published values.
func TestGeodesicPublished(t *testing.T) {
	tests := []struct {
		name string
		a, b LatLng
		want float64
		tol  float64
	}{
		// Karney (2013), "Algorithms for geodesics", §9 worked inverse example
		// (nearly antipodal, where Vincenty's method fails).
		{"karney2013", LatLng{-30, 0}, LatLng{29.9, 179.8}, 19989832.82761, 1e-5},
		// GeographicLib documentation, geodesic.html: (0,0)→(0.5,179.5).
		{"equator-0.5-179.5", LatLng{0, 0}, LatLng{0.5, 179.5}, 19936288.578965, 1e-5},
		// GeographicLib test suite, GeodSolve33 (values to 0.5 m).
		{"geodsolve33-179", LatLng{0, 0}, LatLng{0, 179}, 19926189, 0.5},
		{"geodsolve33-179.5", LatLng{0, 0}, LatLng{0, 179.5}, 19980862, 0.5},
		{"geodsolve33-180", LatLng{0, 0}, LatLng{0, 180}, 20003931, 0.5},
		{"geodsolve33-1-180", LatLng{0, 0}, LatLng{1, 180}, 19893357, 0.5},
		// Quarter meridian (pole to equator), twice: 10001965.729 m.
		{"meridian-pole", LatLng{-90, 0}, LatLng{90, 0}, 20003931.4586, 1e-3},
		{"same-point", LatLng{12.5, 77.25}, LatLng{12.5, 77.25}, 0, 0},
		{"poles-any-lng", LatLng{90, 10}, LatLng{90, -100}, 0, 1e-9},
	}
	for _, tt := range tests {
		got := Geodesic(tt.a, tt.b)
		if math.Abs(got-tt.want) > tt.tol {
			t.Errorf("%s: Geodesic = %.6f, want %.6f ± %g", tt.name, got, tt.want, tt.tol)
		}
	}
}

// Nearly antipodal sweep: must converge (finite, symmetric, not longer than
// half the meridian ellipse) everywhere.
func TestGeodesicAntipodalSweep(t *testing.T) {
	const halfMeridian = 20003931.4586
	for lat := -2.0; lat <= 2.0; lat += 0.25 {
		for dl := 178.0; dl <= 180.0; dl += 0.05 {
			a := LatLng{lat, 0}
			b := LatLng{-lat + 0.1*math.Sin(dl), dl}
			g := Geodesic(a, b)
			if math.IsNaN(g) || g <= 0 || g > halfMeridian+1e-6 {
				t.Fatalf("Geodesic(%v, %v) = %v", a, b, g)
			}
			if r := Geodesic(b, a); math.Abs(r-g) > 1e-6 {
				t.Fatalf("asymmetric: %v vs %v", g, r)
			}
		}
	}
}

// Random pairs (incl. near-coincident and near-antipodal ones): Geodesic is
// finite, symmetric and within the sphere's 0.56 % of Haversine.
func TestGeodesicRandom(t *testing.T) {
	rng := newTestRand(9)
	for i := range 20000 {
		a := LatLng{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180}
		var b LatLng
		switch i % 3 {
		case 0:
			b = LatLng{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180}
		case 1: // nearly antipodal
			b = LatLng{Lat: math.Max(-90, math.Min(90, -a.Lat+rng.NormFloat64()*0.3)), Lng: normLng(a.Lng + 180 + rng.NormFloat64()*0.3)}
		default: // within a few km
			b = LatLng{Lat: math.Max(-90, math.Min(90, a.Lat+rng.NormFloat64()*0.01)), Lng: normLng(a.Lng + rng.NormFloat64()*0.01)}
		}
		g, h := Geodesic(a, b), Haversine(a, b)
		if math.IsNaN(g) || g < 0 || g > 20003931.4586+1e-6 {
			t.Fatalf("Geodesic(%v, %v) = %v", a, b, g)
		}
		if r := Geodesic(b, a); math.Abs(r-g) > 1e-6 {
			t.Fatalf("Geodesic(%v, %v) asymmetric: %v vs %v", a, b, g, r)
		}
		if h > 1 && math.Abs(g-h)/h > 0.0057 {
			t.Fatalf("Geodesic(%v, %v) = %v vs Haversine %v", a, b, g, h)
		}
	}
}

type geodFull struct {
	line                       int
	lat1, lon1, azi1           float64
	lat2, lon2, azi2, s12, a12 float64
}

// loadGeodFull reads every column of the GeodTest sample.
func loadGeodFull(t testing.TB) []geodFull {
	t.Helper()
	f, err := os.Open("testdata/geodtest_sample.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []geodFull
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		var v [8]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(fs[i], 64); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
		}
		out = append(out, geodFull{n, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]})
	}
	return out
}

// angDiff returns |a − b| in degrees modulo 360.
func angDiff(a, b float64) float64 { return math.Abs(math.Remainder(a-b, 360)) }

// TestGeodesicDirectGeodTest solves the direct problem of every GeodTest
// line (lat1, lon1, azi1, s12 → lat2, lon2, azi2) and its reverse.
func TestGeodesicDirectGeodTest(t *testing.T) {
	const tolDeg = 1e-11 // ≈ 1 µm on the ground
	worst := 0.0
	for _, v := range loadGeodFull(t) {
		q, azi2, err := GeodesicDirect(LatLng{v.lat1, v.lon1}, v.azi1, v.s12)
		if err != nil {
			t.Fatalf("line %d: %v", v.line, err)
		}
		e := max(math.Abs(q.Lat-v.lat2), angDiff(q.Lng, v.lon2)*math.Cos(v.lat2*deg), angDiff(azi2, v.azi2)*math.Cos(v.lat2*deg))
		worst = max(worst, e)
		if !(e <= tolDeg) {
			t.Errorf("line %d: direct → (%.15f, %.15f) az %.15f, want (%.15f, %.15f) az %.15f", v.line, q.Lat, q.Lng, azi2, v.lat2, v.lon2, v.azi2)
		}
		// Backwards from the end point returns to the start.
		p, azi1, err := GeodesicDirect(LatLng{v.lat2, v.lon2}, v.azi2, -v.s12)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.Lat-v.lat1) > tolDeg || angDiff(p.Lng, v.lon1)*math.Cos(v.lat1*deg) > tolDeg || angDiff(azi1, v.azi1)*math.Cos(v.lat1*deg) > 1e-10 {
			t.Errorf("line %d: reverse → %v az %v, want (%v, %v) az %v", v.line, p, azi1, v.lat1, v.lon1, v.azi1)
		}
	}
	t.Logf("worst direct error %.3g°", worst)
}

// TestGeodesicInverseAzimuths checks the azimuths of the inverse solution
// against GeodTest and under the problem's symmetries.
func TestGeodesicInverseAzimuths(t *testing.T) {
	worst := 0.0
	for _, v := range loadGeodFull(t) {
		s12, azi1, azi2, err := GeodesicInverse(LatLng{v.lat1, v.lon1}, LatLng{v.lat2, v.lon2})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s12-v.s12) > 1e-6 {
			t.Errorf("line %d: s12 %v want %v", v.line, s12, v.s12)
		}
		// Following the computed azimuth for s12 must land on the end point
		// (within 1e-9°, 0.1 mm). This is the meaningful test near the
		// antipode, where the end point's reduced length m12 is ~0 and many
		// azimuths (or a whole family of shortest paths) reach it.
		q, _, _ := GeodesicDirect(LatLng{v.lat1, v.lon1}, azi1, s12)
		if math.Abs(q.Lat-v.lat2) > 1e-9 || angDiff(q.Lng, v.lon2)*math.Cos(v.lat2*deg) > 1e-9 {
			t.Errorf("line %d: azimuth %.12f leads to %v, want (%v, %v)", v.line, azi1, q, v.lat2, v.lon2)
		}
		if v.a12 > 179 {
			continue
		}
		// Away from it the azimuths themselves are well conditioned.
		e := max(angDiff(azi1, v.azi1)*math.Cos(v.lat1*deg), angDiff(azi2, v.azi2)*math.Cos(v.lat2*deg))
		worst = max(worst, e)
		if !(e <= 1e-9) { // 29 m lines (really short, §6) agree to 2e-10°
			t.Errorf("line %d: azimuths %.12f %.12f, want %.12f %.12f", v.line, azi1, azi2, v.azi1, v.azi2)
		}
		// Swapping the ends reverses the path: α1' = α2 + 180°, α2' = α1 + 180°.
		_, r1, r2, _ := GeodesicInverse(LatLng{v.lat2, v.lon2}, LatLng{v.lat1, v.lon1})
		if angDiff(r1, v.azi2+180)*math.Cos(v.lat2*deg) > 1e-9 || angDiff(r2, v.azi1+180)*math.Cos(v.lat1*deg) > 1e-9 {
			t.Errorf("line %d: swapped azimuths %v %v", v.line, r1, r2)
		}
	}
	t.Logf("worst inverse azimuth error %.3g° (arcs < 179°)", worst)
	for _, c := range []struct {
		a, b       LatLng
		az1, az2   float64
		wantLength float64
	}{
		{LatLng{0, 0}, LatLng{0, 10}, 90, 90, wgs84A * 10 * deg},
		{LatLng{0, 10}, LatLng{0, 0}, -90, -90, wgs84A * 10 * deg},
		{LatLng{10, 5}, LatLng{20, 5}, 0, 0, -1},
		{LatLng{20, 5}, LatLng{10, 5}, 180, 180, -1},
		{LatLng{-90, 0}, LatLng{90, 0}, 0, 0, 20003931.4586},
	} {
		s, a1, a2, err := GeodesicInverse(c.a, c.b)
		if err != nil || angDiff(a1, c.az1) > 1e-12 || angDiff(a2, c.az2) > 1e-12 || (c.wantLength >= 0 && math.Abs(s-c.wantLength) > 1e-3) {
			t.Errorf("GeodesicInverse(%v, %v) = %v, %v, %v, %v", c.a, c.b, s, a1, a2, err)
		}
	}
	if _, _, _, err := GeodesicInverse(LatLng{91, 0}, LatLng{}); !errors.Is(err, ErrInvalidLatLng) {
		t.Errorf("bad point: %v", err)
	}
	for _, bad := range [][2]float64{{math.NaN(), 1}, {1, math.Inf(1)}} {
		if _, _, err := GeodesicDirect(LatLng{}, bad[0], bad[1]); !errors.Is(err, ErrInvalidLatLng) {
			t.Errorf("GeodesicDirect(%v): %v", bad, err)
		}
	}
}

// TestGeodesicDirectInverseRoundTrip: random starts, azimuths and lengths
// up to the half circumference; the inverse of the direct solution gives
// back the length (it is the shortest path unless nearly antipodal).
func TestGeodesicDirectInverseRoundTrip(t *testing.T) {
	rng := newTestRand(21)
	for range 3000 {
		p := LatLng{Lat: rng.Float64()*180 - 90, Lng: rng.Float64()*360 - 180}
		az := rng.Float64()*360 - 180
		s := rng.Float64() * 1.5e7 // shorter than the nearly antipodal zone
		q, _, err := GeodesicDirect(p, az, s)
		if err != nil || q.Validate() != nil {
			t.Fatalf("GeodesicDirect(%v, %v, %v) = %v, %v", p, az, s, q, err)
		}
		if g := Geodesic(p, q); math.Abs(g-s) > 1e-6 {
			t.Fatalf("GeodesicDirect(%v, %v, %v) = %v; Geodesic back = %v", p, az, s, q, g)
		}
		if _, a1, _, _ := GeodesicInverse(p, q); math.Abs(p.Lat) < 89.9 && angDiff(a1, az) > 1e-7 {
			t.Fatalf("azimuth %v back as %v (p %v, s %v)", az, a1, p, s)
		}
	}
}

func BenchmarkGeodesicDirect(b *testing.B) {
	p := LatLng{52.52, 13.40}
	b.ReportAllocs()
	for b.Loop() {
		q, _, _ := GeodesicDirect(p, 37.5, 12345678)
		sink += q.Lat
	}
}

package geo

import (
	"bufio"
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

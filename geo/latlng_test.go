package geo

import (
	"errors"
	"math"
	"testing"
)

func TestLatLngValidate(t *testing.T) {
	good := []LatLng{{0, 0}, {90, 180}, {-90, -180}, {52.52, 13.4}}
	for _, p := range good {
		if err := p.Validate(); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
	bad := []LatLng{{90.0001, 0}, {-91, 0}, {0, 180.5}, {0, -181}, {math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(-1)}}
	for _, p := range bad {
		if err := p.Validate(); !errors.Is(err, ErrInvalidLatLng) {
			t.Errorf("%v: err %v", p, err)
		}
		if !math.IsNaN(Haversine(p, LatLng{})) || !math.IsNaN(Geodesic(LatLng{}, p)) || !math.IsNaN(Bearing(p, LatLng{})) {
			t.Errorf("%v: distance functions accepted an invalid point", p)
		}
		if _, err := Destination(p, 0, 1); !errors.Is(err, ErrInvalidLatLng) {
			t.Errorf("Destination(%v): %v", p, err)
		}
	}
	if _, err := Destination(LatLng{}, math.NaN(), 1); err == nil {
		t.Error("NaN bearing accepted")
	}
	if _, err := Destination(LatLng{}, 0, math.Inf(1)); err == nil {
		t.Error("infinite distance accepted")
	}
}

func TestBearingDestination(t *testing.T) {
	tests := []struct {
		a, b LatLng
		brg  float64
	}{
		{LatLng{0, 0}, LatLng{10, 0}, 0},
		{LatLng{0, 0}, LatLng{0, 10}, 90},
		{LatLng{0, 0}, LatLng{-10, 0}, 180},
		{LatLng{0, 0}, LatLng{0, -10}, 270},
		{LatLng{0, 179}, LatLng{0, -179}, 90}, // across the antimeridian
		{LatLng{12, 34}, LatLng{12, 34}, 0},
	}
	for _, tt := range tests {
		if got := Bearing(tt.a, tt.b); math.Abs(got-tt.brg) > 1e-9 {
			t.Errorf("Bearing(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.brg)
		}
	}
	// Round trip: Destination along Bearing for Haversine distance.
	pairs := [][2]LatLng{{{52.52, 13.40}, {48.14, 11.58}}, {{-33.9, 151.2}, {51.5, -0.13}}, {{10, 179.9}, {-5, -170}}, {{89, 0}, {89, 180}}}
	for _, pr := range pairs {
		d := Haversine(pr[0], pr[1])
		got, err := Destination(pr[0], Bearing(pr[0], pr[1]), d)
		if err != nil {
			t.Fatal(err)
		}
		if e := Haversine(got, pr[1]); e > 1e-3 {
			t.Errorf("Destination round trip %v→%v misses by %.3g m", pr[0], pr[1], e)
		}
		if got.Validate() != nil {
			t.Errorf("Destination returned invalid %v", got)
		}
	}
	// Known value: one degree of arc on the mean sphere.
	if d := Haversine(LatLng{0, 0}, LatLng{1, 0}); math.Abs(d-EarthRadiusM*math.Pi/180) > 1e-6 {
		t.Errorf("1° arc = %v", d)
	}
}

package geo

import (
	"errors"
	"fmt"
	"math"
)

// EarthRadiusM is the mean Earth radius R₁ = (2a + b)/3 of the WGS84
// ellipsoid in metres (IUGG value, Moritz, "Geodetic Reference System 1980").
// Haversine, Bearing and Destination use a sphere of this radius.
const EarthRadiusM = 6371008.8

// ErrInvalidLatLng reports a coordinate that is NaN, infinite or outside
// [-90, 90] latitude / [-180, 180] longitude.
var ErrInvalidLatLng = errors.New("geo: invalid latitude/longitude")

// LatLng is a geographic position in degrees on WGS84. Lat is in [-90, 90]
// (positive north) and Lng in [-180, 180] (positive east).
type LatLng struct {
	Lat, Lng float64
}

// Validate returns an error wrapping ErrInvalidLatLng when p is not a valid
// position.
func (p LatLng) Validate() error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lng, 0) {
		return fmt.Errorf("%w: (%v, %v) is not finite", ErrInvalidLatLng, p.Lat, p.Lng)
	}
	if p.Lat < -90 || p.Lat > 90 {
		return fmt.Errorf("%w: latitude %v outside [-90, 90]", ErrInvalidLatLng, p.Lat)
	}
	if p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("%w: longitude %v outside [-180, 180]", ErrInvalidLatLng, p.Lng)
	}
	return nil
}

// valid is the allocation-free form of Validate.
func (p LatLng) valid() bool {
	// NaN fails every comparison, so it is rejected here too.
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180
}

// String formats p as "lat,lng" with 6 decimals (about 0.1 m).
func (p LatLng) String() string { return fmt.Sprintf("%.6f,%.6f", p.Lat, p.Lng) }

const deg = math.Pi / 180

// Haversine returns the great-circle distance in metres between a and b on a
// sphere of radius EarthRadiusM. It differs from the ellipsoidal Geodesic by
// at most 0.56 % (north–south arcs near the equator) and usually by less than
// 0.3 %. It returns NaN if either point is invalid. It does not allocate.
func Haversine(a, b LatLng) float64 {
	if !a.valid() || !b.valid() {
		return math.NaN()
	}
	return EarthRadiusM * centralAngle(a, b)
}

// centralAngle is the haversine central angle in radians between valid points.
func centralAngle(a, b LatLng) float64 {
	sdlat := math.Sin((b.Lat - a.Lat) * deg / 2)
	sdlng := math.Sin((b.Lng - a.Lng) * deg / 2)
	h := sdlat*sdlat + math.Cos(a.Lat*deg)*math.Cos(b.Lat*deg)*sdlng*sdlng
	if h > 1 {
		h = 1
	}
	// atan2 keeps full precision for both tiny and nearly antipodal angles.
	return 2 * math.Atan2(math.Sqrt(h), math.Sqrt(1-h))
}

// Bearing returns the initial great-circle bearing from a to b in degrees
// clockwise from true north, in [0, 360), on the sphere of radius
// EarthRadiusM (within a few tenths of a degree of the ellipsoid; use
// GeodesicInverse for the WGS84 azimuth). It returns 0 when a and b
// coincide and NaN if either point is invalid.
func Bearing(a, b LatLng) float64 {
	if !a.valid() || !b.valid() {
		return math.NaN()
	}
	lat1, lat2 := a.Lat*deg, b.Lat*deg
	dlng := (b.Lng - a.Lng) * deg
	y := math.Sin(dlng) * math.Cos(lat2)
	x := math.Cos(lat1)*math.Sin(lat2) - math.Sin(lat1)*math.Cos(lat2)*math.Cos(dlng)
	if x == 0 && y == 0 {
		return 0
	}
	brg := math.Atan2(y, x) / deg
	if brg < 0 {
		brg += 360
	}
	if brg >= 360 {
		brg -= 360
	}
	return brg
}

// Destination returns the point reached by travelling distanceM metres from p
// along the great circle that starts with the given bearing (degrees clockwise
// from north), on a sphere of radius EarthRadiusM. Longitude is normalised to
// [-180, 180]. It is off by up to 0.56 % of the distance from the WGS84
// answer, which GeodesicDirect gives. It returns an error wrapping
// ErrInvalidLatLng if p is invalid or bearing/distance are not finite.
func Destination(p LatLng, bearingDeg, distanceM float64) (LatLng, error) {
	if err := p.Validate(); err != nil {
		return LatLng{}, err
	}
	if math.IsNaN(bearingDeg) || math.IsInf(bearingDeg, 0) || math.IsNaN(distanceM) || math.IsInf(distanceM, 0) {
		return LatLng{}, fmt.Errorf("%w: bearing %v / distance %v not finite", ErrInvalidLatLng, bearingDeg, distanceM)
	}
	d := distanceM / EarthRadiusM
	th := bearingDeg * deg
	lat1, lng1 := p.Lat*deg, p.Lng*deg
	slat := math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(th)
	slat = math.Max(-1, math.Min(1, slat))
	lat2 := math.Asin(slat)
	lng2 := lng1 + math.Atan2(math.Sin(th)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*slat)
	return LatLng{Lat: lat2 / deg, Lng: normLng(lng2 / deg)}, nil
}

// normLng reduces a longitude in degrees to [-180, 180].
func normLng(x float64) float64 {
	x = math.Remainder(x, 360)
	if x == -180 {
		return 180
	}
	return x
}

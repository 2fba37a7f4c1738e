package vision

import "math/rand/v2"

// Test-only access to the local features behind a Fingerprint, for the
// ground-truth diagnostics in diag_test.go.

// DiagFeature is one local feature as the diagnostics see it.
type DiagFeature struct {
	X, Y  float64
	Level int
	Angle float64
	Desc  [4]uint64
}

// DiagFeatures returns f's local features.
func DiagFeatures(f *Fingerprint) []DiagFeature {
	out := make([]DiagFeature, len(f.features))
	for i, ft := range f.features {
		out[i] = DiagFeature{X: float64(ft.x), Y: float64(ft.y), Level: int(ft.level), Angle: float64(ft.angle), Desc: ft.desc}
	}
	return out
}

// DiagMatches returns the strict and loose descriptor matches between a and b
// as (index in a, index in b) pairs.
func DiagMatches(a, b *Fingerprint) (strict, loose [][2]int) {
	s, l := matchFeatures(a.features, b.features)
	for _, m := range s {
		strict = append(strict, [2]int{m.a, m.b})
	}
	for _, m := range l {
		loose = append(loose, [2]int{m.a, m.b})
	}
	return strict, loose
}

// DiagLevelScale is the side ratio between pyramid levels.
var DiagLevelScale = defaultORB.scale

// DiagGuided runs guided matching of a against b under the pixel
// homography hab (a's pixel centres to b's, +0.5 convention) and returns
// the matches as index pairs, and the inlier count of a homography fitted to them.
func DiagGuided(a, b *Fingerprint, hab [9]float64, radius float64) (ms [][2]int, inliers int) {
	na := float64(max(a.Width, a.Height, 1))
	nb := float64(max(b.Width, b.Height, 1))
	// Index coordinates: x_idx = x − 0.5 on both sides; then normalise.
	t := func(p, q [9]float64) (r [9]float64) {
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					r[3*i+j] += p[3*i+k] * q[3*k+j]
				}
			}
		}
		return r
	}
	h := t(t([9]float64{1 / nb, 0, -0.5 / nb, 0, 1 / nb, -0.5 / nb, 0, 0, 1}, hab), [9]float64{na, 0, 0.5, 0, na, 0.5, 0, 0, 1})
	for k := range h {
		h[k] /= h[8]
	}
	hh := homography(h)
	gm := guidedMatches(a.features, b.features, na, nb, &hh, radius, a.colour && b.colour)
	for _, m := range gm {
		ms = append(ms, [2]int{m.a, m.b})
	}
	g := ransacHomography(gm, a.features, b.features, na, nb, ransacThresh, rand.New(rand.NewPCG(1, 2)))
	return ms, g.inliers
}

// DiagGuideRadius is guided matching's search radius.
const DiagGuideRadius = guideRadius

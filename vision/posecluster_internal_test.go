package vision

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSimilaritySupport checks pose clustering on synthetic features: the
// matches that follow one similarity transform (rotation, scale by two
// pyramid levels, shift) form the cluster and its transform is recovered,
// while matches with random positions, or consistent positions but
// contradicting orientation or level, are not counted.
func TestSimilaritySupport(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 480.0
	th, s := 0.3, math.Pow(defaultORB.scale, 2)
	co, si := s*math.Cos(th), s*math.Sin(th)
	var fa, fb []feature
	var ms []match
	add := func(ax, ay, bx, by float64, da float32, dl int) {
		la := uint8(1 + r.IntN(2))
		a := r.Float32() * 2
		fa = append(fa, feature{x: float32(ax), y: float32(ay), level: la, angle: a})
		fb = append(fb, feature{x: float32(bx), y: float32(by), level: uint8(int(la) + dl), angle: a + da})
		ms = append(ms, match{a: len(fa) - 1, b: len(fb) - 1, dist: r.IntN(60)})
	}
	const inliers = 7
	for range inliers {
		x, y := 100+r.Float64()*120, 80+r.Float64()*100
		add(x, y, co*x-si*y+60, si*x+co*y+20, float32(th), 2)
	}
	// Right place, wrong orientation; right place, wrong level.
	x, y := 150.0, 120.0
	add(x, y, co*x-si*y+60, si*x+co*y+20, float32(th+1.5), 2)
	add(x+20, y, co*(x+20)-si*y+60, si*(x+20)+co*y+20, float32(th), -1)
	for range 30 {
		add(r.Float64()*n, r.Float64()*360, r.Float64()*n, r.Float64()*360, r.Float32()*6-3, r.IntN(5)-2)
	}
	got, h := similaritySupport(ms, fa, fb, n, n, defaultORB.scale)
	if got != inliers {
		t.Fatalf("support %d, want %d", got, inliers)
	}
	u, v, ok := h.apply(200/n, 150/n)
	wu, wv := (co*200-si*150+60)/n, (si*200+co*150+20)/n
	if !ok || math.Hypot(u-wu, v-wv) > 1e-6 {
		t.Fatalf("transform maps to (%v, %v), want (%v, %v)", u, v, wu, wv)
	}
	// Random matches alone form no cluster beyond chance.
	got, _ = similaritySupport(ms[inliers+2:], fa, fb, n, n, defaultORB.scale)
	if got > 3 {
		t.Fatalf("random support %d", got)
	}
	// Degenerate inputs.
	if got, _ := similaritySupport(nil, nil, nil, n, n, defaultORB.scale); got != 0 {
		t.Fatalf("empty: %d", got)
	}
	if got, _ := similaritySupport(ms[:1], fa, fb, n, n, defaultORB.scale); got != 1 {
		t.Fatalf("one match: %d", got)
	}
}

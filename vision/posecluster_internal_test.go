package vision

import (
	"math"
	"math/rand/v2"
	"slices"
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

// TestPoseClusters checks that poseClusters returns the transforms of
// distinct clusters, largest first: a pair whose largest cluster is
// repeated structure still offers the smaller true pose.
func TestPoseClusters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 480.0
	var fa, fb []feature
	var ms []match
	type pose struct{ th, s, tx, ty float64 }
	add := func(p pose, x, y float64) {
		co, si := p.s*math.Cos(p.th), p.s*math.Sin(p.th)
		dl := int(math.Round(math.Log(p.s) / math.Log(defaultORB.scale)))
		a := r.Float32() * 2
		fa = append(fa, feature{x: float32(x), y: float32(y), level: 2, angle: a})
		fb = append(fb, feature{x: float32(co*x - si*y + p.tx), y: float32(si*x + co*y + p.ty), level: uint8(2 + dl), angle: a + float32(p.th)})
		ms = append(ms, match{a: len(fa) - 1, b: len(fb) - 1, dist: r.IntN(60)})
	}
	big := pose{0, 1, 40, 10}
	small := pose{0.5, math.Pow(defaultORB.scale, -1), -100, 60}
	for range 6 {
		add(big, 20+r.Float64()*200, 20+r.Float64()*150)
	}
	for range 3 {
		add(small, 250+r.Float64()*200, 180+r.Float64()*150)
	}
	for range 20 {
		fa = append(fa, feature{x: r.Float32() * n, y: r.Float32() * 360, level: uint8(r.IntN(4)), angle: r.Float32()*6 - 3})
		fb = append(fb, feature{x: r.Float32() * n, y: r.Float32() * 360, level: uint8(r.IntN(4)), angle: r.Float32()*6 - 3})
		ms = append(ms, match{a: len(fa) - 1, b: len(fb) - 1, dist: r.IntN(60)})
	}
	best, _, hyps := poseClusters(ms, fa, fb, n, n, defaultORB.scale, maxPoseHyps)
	if best != 6 {
		t.Fatalf("largest cluster %d, want 6", best)
	}
	maps := func(h homography, p pose) bool {
		x, y := 300.0, 250.0
		co, si := p.s*math.Cos(p.th), p.s*math.Sin(p.th)
		u, v, ok := h.apply(x/n, y/n)
		return ok && math.Hypot(u-(co*x-si*y+p.tx)/n, v-(si*x+co*y+p.ty)/n) < 1e-6
	}
	if len(hyps) < 2 || !maps(hyps[0], big) || !slices.ContainsFunc(hyps[1:], func(h homography) bool { return maps(h, small) }) {
		t.Fatalf("%d hypotheses, want the 6-match pose first and the 3-match pose among the rest", len(hyps))
	}
	if _, _, hyps := poseClusters(ms, fa, fb, n, n, defaultORB.scale, 0); hyps != nil {
		t.Fatal("hypotheses returned for maxHyps 0")
	}
}

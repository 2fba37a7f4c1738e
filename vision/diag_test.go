package vision_test

import (
	"cmp"
	"flag"
	"math"
	"math/bits"
	"slices"
	"testing"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

var diagFlag = flag.Bool("vision.diag", false, "run the ground-truth feature diagnostics of reshot_hard (slow; prints per-pair numbers)")

// apply3 maps (x, y) by the row-major homography h.
func apply3(h [9]float64, x, y float64) (float64, float64) {
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// inv3 inverts a 3×3 matrix by cofactors.
func inv3(m [9]float64) [9]float64 {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return [9]float64{A / det, -(b*i - c*h) / det, (b*f - c*e) / det, B / det, (a*i - c*g) / det, -(a*f - c*d) / det, C / det, -(a*h - b*g) / det, (a*e - b*d) / det}
}

func mul3(p, q [9]float64) [9]float64 {
	var r [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[3*i+j] += p[3*i+k] * q[3*k+j]
			}
		}
	}
	return r
}

func hamming4(a, b [4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) + bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// pairTruth measures one positive pair against its true homography hab
// (reference pixel → query pixel, pixel centres at +0.5).
type pairTruth struct {
	overlap    float64 // fraction of the reference frame seen in the query
	scale      float64 // query/reference scale at the reference centre
	inFrame    int     // reference keypoints projecting inside the query frame
	repeat     int     // … with a query keypoint within 3 px at a compatible level
	repeatAny  int     // … within 3 px at any level
	nn         int     // repeatable and the descriptor NN over all query features is a true partner
	ratio      int     // … and passes the ratio test 0.8
	mutual     int     // … and mutual NN with ratio in both directions (a strict match)
	strictTrue int     // strict matches that are correct (≤ 5 px)
	strict     int
	looseTrue  int
	loose      int
	trueDist   []int     // Hamming distance of the best true partner, for repeatable keypoints
	angErr     []float64 // |angle error| in degrees of the best true partner
	guided     int       // guided matches under the true homography
	guidedTrue int       // … of which correct
	guidedInl  int       // inliers of a homography fitted to them
}

func measurePair(a, b *vision.Fingerprint, hab [9]float64) pairTruth {
	var t pairTruth
	fa, fb := vision.DiagFeatures(a), vision.DiagFeatures(b)
	w, h := float64(b.Width), float64(b.Height)
	// Overlap on a grid.
	var in, all int
	for y := 0.5; y < float64(a.Height); y += 8 {
		for x := 0.5; x < float64(a.Width); x += 8 {
			all++
			u, v := apply3(hab, x, y)
			if u >= 0 && v >= 0 && u < w && v < h {
				in++
			}
		}
	}
	t.overlap = float64(in) / float64(all)
	cx, cy := float64(a.Width)/2, float64(a.Height)/2
	u0, v0 := apply3(hab, cx, cy)
	u1, v1 := apply3(hab, cx+1, cy)
	u2, v2 := apply3(hab, cx, cy+1)
	t.scale = math.Sqrt(math.Abs((u1-u0)*(v2-v0) - (v1-v0)*(u2-u0)))
	lnS := math.Log(vision.DiagLevelScale)
	proj := func(i int) (float64, float64) {
		u, v := apply3(hab, fa[i].X+0.5, fa[i].Y+0.5)
		return u - 0.5, v - 0.5
	}
	partners := func(i int, anyLevel bool) []int {
		u, v := proj(i)
		// Local scale of hab at the keypoint.
		ux, vx := apply3(hab, fa[i].X+1.5, fa[i].Y+0.5)
		uy, vy := apply3(hab, fa[i].X+0.5, fa[i].Y+1.5)
		u0, v0 := apply3(hab, fa[i].X+0.5, fa[i].Y+0.5)
		s := math.Sqrt(math.Abs((ux-u0)*(vy-v0) - (vx-v0)*(uy-u0)))
		want := float64(fa[i].Level) + math.Log(s)/lnS
		var out []int
		for j, g := range fb {
			tol := 3 * math.Max(1, math.Pow(vision.DiagLevelScale, float64(g.Level))/2)
			if (g.X-u)*(g.X-u)+(g.Y-v)*(g.Y-v) > tol*tol {
				continue
			}
			if !anyLevel && math.Abs(float64(g.Level)-want) > 1 {
				continue
			}
			out = append(out, j)
		}
		return out
	}
	strict, loose := vision.DiagMatches(a, b)
	correct := func(m [2]int) bool {
		u, v := proj(m[0])
		g := fb[m[1]]
		return (g.X-u)*(g.X-u)+(g.Y-v)*(g.Y-v) <= 25
	}
	isStrict := map[[2]int]bool{}
	for _, m := range strict {
		t.strict++
		isStrict[m] = true
		if correct(m) {
			t.strictTrue++
		}
	}
	for _, m := range loose {
		t.loose++
		if correct(m) {
			t.looseTrue++
		}
	}
	gm, gi := vision.DiagGuided(a, b, hab, vision.DiagGuideRadius)
	t.guided, t.guidedInl = len(gm), gi
	for _, m := range gm {
		if correct(m) {
			t.guidedTrue++
		}
	}
	for i := range fa {
		u, v := proj(i)
		if u < 0 || v < 0 || u >= w || v >= h {
			continue
		}
		t.inFrame++
		if len(partners(i, true)) > 0 {
			t.repeatAny++
		}
		ps := partners(i, false)
		if len(ps) == 0 {
			continue
		}
		t.repeat++
		best, bj0 := 257, -1
		for _, j := range ps {
			if d := hamming4(fa[i].Desc, fb[j].Desc); d < best {
				best, bj0 = d, j
			}
		}
		{
			x, y := fa[i].X+0.5, fa[i].Y+0.5
			u0, v0 := apply3(hab, x, y)
			u1, v1 := apply3(hab, x+math.Cos(fa[i].Angle), y+math.Sin(fa[i].Angle))
			want := math.Atan2(v1-v0, u1-u0)
			d := math.Abs(math.Remainder(fb[bj0].Angle-want, 2*math.Pi))
			t.angErr = append(t.angErr, d*180/math.Pi)
		}
		t.trueDist = append(t.trueDist, best)
		// NN over all of b.
		d1, d2, bj := 257, 257, -1
		for j := range fb {
			d := hamming4(fa[i].Desc, fb[j].Desc)
			if d < d1 {
				d2, d1, bj = d1, d, j
			} else if d < d2 {
				d2 = d
			}
		}
		if !slices.Contains(ps, bj) {
			continue
		}
		t.nn++
		if float64(d1) < 0.8*float64(d2) {
			t.ratio++
		}
		if isStrict[[2]int{i, bj}] {
			t.mutual++
		}
	}
	return t
}

// TestDiagReshotHard prints, per reshot_hard positive pair, the overlap,
// detector repeatability and descriptor matchability against the
// generator's ground truth. Run with
// go test ./vision -run TestDiagReshotHard -vision.diag -v.
func TestDiagReshotHard(t *testing.T) {
	if !*diagFlag {
		t.Skip("diagnostics: pass -vision.diag")
	}
	for _, seed := range []uint64{2026, 7} {
		set, err := visiontest.Generate(visiontest.ReshotHard, 40, visiontest.Options{Width: 480, Height: 360}, seed)
		if err != nil {
			t.Fatal(err)
		}
		fr := make([]*vision.Fingerprint, len(set.Refs))
		fq := make([]*vision.Fingerprint, len(set.Refs))
		for i := range set.Refs {
			if fr[i], err = vision.Extract(set.Refs[i]); err != nil {
				t.Fatal(err)
			}
			if fq[i], err = vision.Extract(set.Queries[i]); err != nil {
				t.Fatal(err)
			}
		}
		// Negative scores for the 1 % FPR threshold.
		var neg []float64
		var negE []vision.Evidence
		for i := range fr {
			for j := range fq {
				if i != j {
					e := fr[i].Compare(fq[j])
					neg = append(neg, e.Score)
					negE = append(negE, e)
				}
			}
		}
		slices.Sort(neg)
		slices.SortFunc(negE, func(a, b vision.Evidence) int { return cmp.Compare(b.Score, a.Score) })
		for _, e := range negE[:20] {
			t.Logf("seed %d top negative: matches %d inliers %d consistent %d pdq %d layout %.0f score %.3f", seed, e.Matches, e.Inliers, e.Consistent, e.PDQDistance, e.LayoutDistance, e.Score)
		}
		thr := neg[len(neg)-1-len(neg)/100]
		var sum pairTruth
		var sumOverlap float64
		var dists []int
		var angs []float64
		missed := 0
		for i := range fr {
			hab := mul3(inv3(set.Views[i][1]), set.Views[i][0])
			m := measurePair(fr[i], fq[i], hab)
			e := fr[i].Compare(fq[i])
			hit := e.Score > thr
			if !hit {
				missed++
			}
			t.Logf("seed %d pair %2d: overlap %.2f scale %.2f | inFrame %3d repeat %3d (any lvl %3d) NN %3d ratio %3d strict %3d | strict %3d/%3d loose %3d/%3d | guided %3d/%3d inl %3d | inl %2d cons %2d score %.3f hit %v",
				seed, i, m.overlap, m.scale, m.inFrame, m.repeat, m.repeatAny, m.nn, m.ratio, m.mutual, m.strictTrue, m.strict, m.looseTrue, m.loose, m.guidedTrue, m.guided, m.guidedInl, e.Inliers, e.Consistent, e.Score, hit)
			sumOverlap += m.overlap
			sum.inFrame += m.inFrame
			sum.repeat += m.repeat
			sum.repeatAny += m.repeatAny
			sum.nn += m.nn
			sum.ratio += m.ratio
			sum.mutual += m.mutual
			sum.strictTrue += m.strictTrue
			sum.strict += m.strict
			sum.looseTrue += m.looseTrue
			sum.loose += m.loose
			dists = append(dists, m.trueDist...)
			angs = append(angs, m.angErr...)
		}
		slices.Sort(dists)
		q := func(p float64) int { return dists[int(p*float64(len(dists)-1))] }
		n := float64(len(fr))
		t.Logf("seed %d totals per pair: overlap %.2f inFrame %.1f repeat %.1f (any level %.1f) NN %.1f ratio %.1f strict-true %.1f | strict %.1f/%.1f loose %.1f/%.1f | missed at 1%% FPR: %d (threshold %.3f)",
			seed, sumOverlap/n, float64(sum.inFrame)/n, float64(sum.repeat)/n, float64(sum.repeatAny)/n, float64(sum.nn)/n, float64(sum.ratio)/n, float64(sum.mutual)/n,
			float64(sum.strictTrue)/n, float64(sum.strict)/n, float64(sum.looseTrue)/n, float64(sum.loose)/n, missed, thr)
		// With the true homographies, a fair share of the keypoints must
		// reappear in the other photo: a smaller share means wrong ground
		// truth or a broken detector.
		if sum.repeat*6 < sum.inFrame {
			t.Errorf("seed %d: %d of %d keypoints repeatable", seed, sum.repeat, sum.inFrame)
		}
		slices.Sort(angs)
		qa := func(p float64) float64 { return angs[int(p*float64(len(angs)-1))] }
		t.Logf("seed %d true-partner angle error quartiles: %.1f %.1f %.1f, 90%% %.1f", seed, qa(0.25), qa(0.5), qa(0.75), qa(0.9))
		t.Logf("seed %d true-partner Hamming distance quartiles: %d %d %d, 90%% %d", seed, q(0.25), q(0.5), q(0.75), q(0.9))
	}
}

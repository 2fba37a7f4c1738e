package vision

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// match is a putative correspondence between feature a of one set and b of another.
type match struct {
	a, b int
	dist int
}

const (
	maxMatchDist = 64  // of 256 bits
	ratioTest    = 0.8 // Lowe's ratio (Lowe, IJCV 2004), on Hamming distances
)

// matchFeatures matches descriptors by Hamming distance. A pair (i, j) is
// kept when j is i's nearest neighbour and i is j's (cross-check), the
// distance is within maxMatchDist, and the nearest neighbour is clearly
// better than the second on both sides (Lowe's ratio test, applied in both
// directions so that the match set does not depend on argument order).
//
// From the same nearest-neighbour search it also returns a looser
// candidate set (cross-checked, within looseMaxDist, ratio looseRatio) for
// similaritySupport; strict is a subset of loose.
func matchFeatures(fa, fb []feature) (strict, loose []match) {
	if len(fa) == 0 || len(fb) == 0 {
		return nil, nil
	}
	type nn struct {
		j      int32
		d1, d2 int16
	}
	fromA := make([]nn, len(fa))
	fromB := make([]nn, len(fb))
	for j := range fromB {
		fromB[j] = nn{j: -1, d1: 257, d2: 257}
	}
	// Contiguous copies of b's descriptors keep the inner loop in cache.
	db := make([][4]uint64, len(fb))
	for j := range fb {
		db[j] = fb[j].desc
	}
	for i := range fa {
		da := fa[i].desc
		b1, b2, bj := int16(257), int16(257), int32(-1)
		for j := range db {
			dj := &db[j]
			d := int16(bits.OnesCount64(da[0]^dj[0]) + bits.OnesCount64(da[1]^dj[1]) +
				bits.OnesCount64(da[2]^dj[2]) + bits.OnesCount64(da[3]^dj[3]))
			if d < b1 {
				b2, b1, bj = b1, d, int32(j)
			} else if d < b2 {
				b2 = d
			}
			nb := &fromB[j]
			if d < nb.d1 {
				nb.d2, nb.d1, nb.j = nb.d1, d, int32(i)
			} else if d < nb.d2 {
				nb.d2 = d
			}
		}
		fromA[i] = nn{j: bj, d1: b1, d2: b2}
	}
	for i, c := range fromA {
		if c.j < 0 || int(c.d1) > looseMaxDist || float64(c.d1) >= looseRatio*float64(c.d2) {
			continue
		}
		nb := fromB[c.j]
		if nb.j != int32(i) || float64(nb.d1) >= looseRatio*float64(nb.d2) {
			continue
		}
		m := match{a: i, b: int(c.j), dist: int(c.d1)}
		loose = append(loose, m)
		if int(c.d1) <= maxMatchDist && float64(c.d1) < ratioTest*float64(c.d2) && float64(nb.d1) < ratioTest*float64(nb.d2) {
			strict = append(strict, m)
		}
	}
	return strict, loose
}

// homography is a 3×3 projective transform, row-major, h[8] = 1.
type homography [9]float64

func (h *homography) apply(x, y float64) (float64, float64, bool) {
	w := h[6]*x + h[7]*y + h[8]
	if math.Abs(w) < 1e-9 {
		return 0, 0, false
	}
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w, true
}

// fitHomography solves the DLT normal equations for n ≥ 4 correspondences
// (Hartley & Zisserman, Multiple View Geometry, 2nd ed., §4.1) with h33 = 1,
// on points already normalised to about unit scale.
func fitHomography(src, dst [][2]float64) (homography, bool) {
	var ata [8][8]float64
	var atb [8]float64
	for k := range src {
		x, y := src[k][0], src[k][1]
		u, v := dst[k][0], dst[k][1]
		r1 := [8]float64{x, y, 1, 0, 0, 0, -u * x, -u * y}
		r2 := [8]float64{0, 0, 0, x, y, 1, -v * x, -v * y}
		for i := range 8 {
			for j := range 8 {
				ata[i][j] += r1[i]*r1[j] + r2[i]*r2[j]
			}
			atb[i] += r1[i]*u + r2[i]*v
		}
	}
	sol, ok := solve8(ata, atb)
	if !ok {
		return homography{}, false
	}
	var h homography
	copy(h[:8], sol[:])
	h[8] = 1
	return h, true
}

// solve8 solves A x = b by Gaussian elimination with partial pivoting.
func solve8(a [8][8]float64, b [8]float64) ([8]float64, bool) {
	const n = 8
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return b, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			if f == 0 {
				continue
			}
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [8]float64
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}

// plausible rejects homographies no hand-held re-shot produces: orientation
// reversal (mirror), extreme scale change or strong perspective, judged on
// the normalised coordinates.
func (h *homography) plausible() bool {
	det := h[0]*h[4] - h[1]*h[3]
	if det <= 0.04 || det > 25 {
		return false
	}
	if math.Abs(h[6]) > 1.5 || math.Abs(h[7]) > 1.5 {
		return false
	}
	return true
}

// geometry is the outcome of robust verification: the inlier count of
// the best plausible homography h (valid when ok) among matches.
type geometry struct {
	inliers int
	matches int
	h       homography
	ok      bool
}

// ransacHomography finds the largest set of matches consistent with one
// plausible homography (Fischler & Bolles, CACM 1981), then re-fits on the
// inliers and recounts. Coordinates are normalised by the working sizes;
// thresh is the reprojection tolerance in that normalised unit.
//
// A match is an inlier when the homography maps its first point to within
// thresh of the second and, like a pose cluster (Lowe 2004, §7.3), also
// predicts its features' orientation and scale: the rotation and scale of
// the homography's local similarity at that point must agree with the
// matched features' angle difference within poseAngleTol and their
// pyramid-level difference within simLevelTol. Chance matches between
// unrelated photos fit a homography's position often enough (eight
// numbers from a handful of matches), but their orientations and scales
// do not follow it.
func ransacHomography(ms []match, fa, fb []feature, na, nb float64, thresh float64, rng *rand.Rand) geometry {
	g := geometry{matches: len(ms)}
	if len(ms) < 5 {
		return g
	}
	src := make([][2]float64, len(ms))
	dst := make([][2]float64, len(ms))
	// Per match: the unit vector of the feature rotation b.angle − a.angle,
	// and the range of |det J| (J the homography's Jacobian in normalised
	// units) that the pyramid levels allow: √|det J| within simLevelTol
	// levels of levelScale^(level_b − level_a)·na/nb.
	type poseOf struct{ c, s, dlo, dhi float64 }
	pose := make([]poseOf, len(ms))
	lnS := math.Log(defaultORB.scale)
	for k, m := range ms {
		a, b := &fa[m.a], &fb[m.b]
		src[k] = [2]float64{float64(a.x) / na, float64(a.y) / na}
		dst[k] = [2]float64{float64(b.x) / nb, float64(b.y) / nb}
		rot := float64(b.angle - a.angle)
		lv := float64(int(b.level)-int(a.level)) + math.Log(na/nb)/lnS
		pose[k] = poseOf{c: math.Cos(rot), s: math.Sin(rot),
			dlo: math.Exp(2 * (lv - simLevelTol) * lnS), dhi: math.Exp(2 * (lv + simLevelTol) * lnS)}
	}
	t2 := thresh * thresh
	cos2Tol := math.Cos(poseAngleTol) * math.Cos(poseAngleTol)
	// agrees reports whether h's local similarity at src[k] (mapped to
	// (u, v) with denominator w) predicts match k's rotation and scale.
	agrees := func(h *homography, k int, u, v, w float64) bool {
		j00, j01 := (h[0]-u*h[6])/w, (h[1]-u*h[7])/w
		j10, j11 := (h[3]-v*h[6])/w, (h[4]-v*h[7])/w
		det := j00*j11 - j01*j10
		p := &pose[k]
		if det < p.dlo || det > p.dhi {
			return false
		}
		// Nearest similarity: (a, b) = (j00 + j11, j10 − j01)/2 is s·(cos θ, sin θ).
		ra, rb := j00+j11, j10-j01
		dot := ra*p.c + rb*p.s
		return dot > 0 && dot*dot >= cos2Tol*(ra*ra+rb*rb)
	}
	count := func(h *homography, mark []bool) int {
		n := 0
		for k := range src {
			x, y := src[k][0], src[k][1]
			w := h[6]*x + h[7]*y + h[8]
			in := false
			if math.Abs(w) >= 1e-9 {
				u, v := (h[0]*x+h[1]*y+h[2])/w, (h[3]*x+h[4]*y+h[5])/w
				in = (u-dst[k][0])*(u-dst[k][0])+(v-dst[k][1])*(v-dst[k][1]) < t2 && agrees(h, k, u, v, w)
			}
			if in {
				n++
			}
			if mark != nil {
				mark[k] = in
			}
		}
		return n
	}
	best := 0
	var bestH homography
	const maxIter = 300
	need := float64(maxIter)
	var s4, d4 [4][2]float64
	n := len(ms)
	for it := 0; it < maxIter; it++ {
		var idx [4]int
		for k := range 4 {
		again:
			idx[k] = rng.IntN(n)
			for j := range k {
				if idx[j] == idx[k] {
					goto again
				}
			}
			s4[k], d4[k] = src[idx[k]], dst[idx[k]]
		}
		if degenerate(s4) || degenerate(d4) {
			continue
		}
		h, ok := fitHomography(s4[:], d4[:])
		if !ok || !h.plausible() {
			continue
		}
		c := count(&h, nil)
		if c > best {
			best, bestH = c, h
			// Adaptive stop at 99.9 % confidence of an all-inlier sample.
			w := float64(c) / float64(n)
			need = math.Log(0.001) / math.Log(1-w*w*w*w+1e-12)
		}
		if float64(it) > need && it > 20 {
			break
		}
	}
	if best < 4 {
		return g
	}
	mark := make([]bool, n)
	count(&bestH, mark)
	for range 2 {
		var ss, dd [][2]float64
		for k, in := range mark {
			if in {
				ss = append(ss, src[k])
				dd = append(dd, dst[k])
			}
		}
		h, ok := fitHomography(ss, dd)
		if !ok || !h.plausible() {
			break
		}
		if c := count(&h, nil); c >= best {
			best, bestH = c, h
			count(&bestH, mark)
		} else {
			break
		}
	}
	g.inliers, g.h, g.ok = best, bestH, true
	return g
}

// Guided matching (Hartley & Zisserman, §11.9 "guided matching"): once a
// homography is found, each feature of one photo is matched only against
// the features of the other within guideRadius (normalised units) of its
// projection. The global ratio test rejects true matches on repeated
// texture (shelves of like products, tiled walls) because their second
// neighbour is as good as the first; among the few features near the
// projection the true match usually stands alone. Candidates must also
// have the orientation (within poseAngleTol) and pyramid level (within
// simLevelTol) that the homography predicts at that point, which removes
// most look-alike neighbours before the ratio test.
const (
	guideRadius  = 2 * ransacThresh
	guideMaxDist = 56
	guideRatio   = 0.8
)

// guidedMatches returns the cross-checked matches between fa and fb whose
// positions agree with h (fa → fb, coordinates normalised by na and nb).
// fb's features are bucketed on a grid of guideRadius cells, so each
// projection is compared with the features of the 3×3 cells around it only.
// radius is the search radius in normalised units.
func guidedMatches(fa, fb []feature, na, nb float64, h *homography, radius float64, colour bool) []match {
	type best struct {
		j      int
		d1, d2 int
	}
	// Bucket fb by cell (counting sort): cell c holds order[first[c]:first[c+1]].
	cell := radius
	gw, gh := 1, 1
	for _, f := range fb {
		gw = max(gw, int(float64(f.x)/nb/cell)+1)
		gh = max(gh, int(float64(f.y)/nb/cell)+1)
	}
	// Stored fingerprints may hold coordinates slightly outside the frame
	// (UnmarshalBinary accepts −1 ≤ x ≤ width): clamp them to the grid.
	cellOf := func(x, y float64) (int, int) {
		return min(max(int(x/cell), 0), gw-1), min(max(int(y/cell), 0), gh-1)
	}
	first := make([]int32, gw*gh+1)
	bx := make([][2]float64, len(fb))
	for j, f := range fb {
		bx[j] = [2]float64{float64(f.x) / nb, float64(f.y) / nb}
		cx, cy := cellOf(bx[j][0], bx[j][1])
		first[cy*gw+cx+1]++
	}
	for c := 1; c < len(first); c++ {
		first[c] += first[c-1]
	}
	order := make([]int32, len(fb))
	fill := append([]int32(nil), first[:gw*gh]...)
	for j := range fb {
		cx, cy := cellOf(bx[j][0], bx[j][1])
		c := cy*gw + cx
		order[fill[c]] = int32(j)
		fill[c]++
	}

	r2 := radius * radius
	lnS := math.Log(defaultORB.scale)
	fromA := make([]best, len(fa))
	fromB := make([]best, len(fb))
	for j := range fromB {
		fromB[j] = best{j: -1, d1: 257, d2: 257}
	}
	for i := range fa {
		fromA[i] = best{j: -1, d1: 257, d2: 257}
		x, y := float64(fa[i].x)/na, float64(fa[i].y)/na
		w := h[6]*x + h[7]*y + h[8]
		if math.Abs(w) < 1e-9 {
			continue
		}
		u, v := (h[0]*x+h[1]*y+h[2])/w, (h[3]*x+h[4]*y+h[5])/w
		if !(u >= -cell && v >= -cell && u <= float64(gw+1)*cell && v <= float64(gh+1)*cell) {
			continue
		}
		// The orientation and pyramid level that h predicts for i's partner.
		j00, j01 := (h[0]-u*h[6])/w, (h[1]-u*h[7])/w
		j10, j11 := (h[3]-v*h[6])/w, (h[4]-v*h[7])/w
		det := j00*j11 - j01*j10
		if det <= 0 {
			continue
		}
		wantRot := math.Atan2(j10-j01, j00+j11)
		wantLevel := float64(fa[i].level) + (0.5*math.Log(det)-math.Log(na/nb))/lnS
		cu, cv := int(math.Floor(u/cell)), int(math.Floor(v/cell))
		for cy := max(cv-1, 0); cy <= min(cv+1, gh-1); cy++ {
			for cx := max(cu-1, 0); cx <= min(cu+1, gw-1); cx++ {
				c := cy*gw + cx
				for _, j32 := range order[first[c]:first[c+1]] {
					j := int(j32)
					dx, dy := bx[j][0]-u, bx[j][1]-v
					if dx*dx+dy*dy >= r2 {
						continue
					}
					if math.Abs(float64(fb[j].level)-wantLevel) > simLevelTol ||
						math.Abs(math.Remainder(float64(fb[j].angle-fa[i].angle)-wantRot, 2*math.Pi)) > poseAngleTol ||
						colour && !colourAgrees(&fa[i], &fb[j]) {
						continue
					}
					d := hamming(&fa[i].desc, &fb[j].desc)
					if a := &fromA[i]; d < a.d1 {
						a.d2, a.d1, a.j = a.d1, d, j
					} else if d < a.d2 {
						a.d2 = d
					}
					if b := &fromB[j]; d < b.d1 {
						b.d2, b.d1, b.j = b.d1, d, i
					} else if d < b.d2 {
						b.d2 = d
					}
				}
			}
		}
	}
	var out []match
	for i, a := range fromA {
		if a.j < 0 || a.d1 > guideMaxDist || float64(a.d1) >= guideRatio*float64(a.d2) {
			continue
		}
		if b := fromB[a.j]; b.j != i || float64(b.d1) >= guideRatio*float64(b.d2) {
			continue
		}
		out = append(out, match{a: i, b: a.j, dist: a.d1})
	}
	return out
}

func hamming(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// degenerate reports whether any three of the four points are nearly collinear.
func degenerate(p [4][2]float64) bool {
	for i := range 4 {
		for j := i + 1; j < 4; j++ {
			for k := j + 1; k < 4; k++ {
				a := (p[j][0]-p[i][0])*(p[k][1]-p[i][1]) - (p[j][1]-p[i][1])*(p[k][0]-p[i][0])
				if math.Abs(a) < 1e-4 {
					return true
				}
			}
		}
	}
	return false
}

// Similarity-consistent support (Lowe, IJCV 2004, §7.3: clusters of
// features that agree on one pose). When two photos share little or see
// it at very different scales, the ratio test leaves too few matches for
// a homography — four correct ones fit no better than four random ones.
// Each ORB feature, though, carries an orientation and a pyramid level,
// so a correct match also predicts the rotation and scale between the
// photos. Two loosely matched pairs define a similarity transform; the
// support of that transform counts the matches that it maps to within
// simTol of their partner and whose own rotation and scale agree with it.
// A random match agrees in position, angle and level by chance only
// rarely, so even three or four agreeing matches are evidence.
const (
	looseRatio   = 0.95 // ratio test for the candidate set
	looseMaxDist = 72
	simTol       = 0.025              // position tolerance, fraction of the longer side
	simAngleTol  = 15 * math.Pi / 180 // rotation agreement
	simLevelTol  = 1.0                // scale agreement, in pyramid levels
	simMaxCands  = 96                 // best candidates kept, by distance
	simMaxPairs  = 1000               // hypotheses tried
	poseAngleTol = 25 * math.Pi / 180 // rotation agreement of a homography inlier
)

// similaritySupport returns the largest number of candidate matches that
// agree with one similarity transform from fa to fb (coordinates
// normalised by na and nb), counting the two matches that define it, and
// that transform as a homography (valid when the count is at least 2).
func similaritySupport(ms []match, fa, fb []feature, na, nb float64, levelScale float64) (int, homography) {
	n, bestH, _ := poseClusters(ms, fa, fb, na, nb, levelScale, 0)
	return n, bestH
}

// Pose hypotheses for guided matching. A photo pair with little overlap or
// a large scale change may have no homography among its ratio-tested
// matches and its largest pose cluster may be a coincidence on repeated
// structure, while a smaller cluster holds the true pose. Compare therefore
// guides by each of the maxPoseHyps largest distinct clusters of at least
// poseHypMin members. Two-member clusters are not used: almost any pair
// of photos has some (two loose matches that happen to agree), and guiding
// by them lets unrelated photos find as many inliers as weak re-shots.
const (
	maxPoseHyps = 4
	poseHypMin  = 3
)

// poseClusters returns the size of the largest pose cluster among the
// candidate matches ms and its transform, as similaritySupport does, and,
// when maxHyps > 0, the transforms of up to maxHyps distinct clusters
// (different member sets) of at least poseHypMin members, largest first:
// each the least-squares similarity over its members, steadier than the
// transform of the two matches that found it.
func poseClusters(ms []match, fa, fb []feature, na, nb float64, levelScale float64, maxHyps int) (int, homography, []homography) {
	var bestH homography
	if len(ms) < 2 {
		return len(ms), bestH, nil
	}
	if len(ms) > simMaxCands {
		ms = append([]match(nil), ms...)
		slices.SortFunc(ms, func(a, b match) int { return a.dist - b.dist })
		ms = ms[:simMaxCands]
	}
	n := len(ms)
	type cand struct {
		ax, ay, bx, by float64
		rot            float64 // angle_b − angle_a
		lsc            float64 // level_b − level_a, with the normalisation folded in
	}
	lnS := math.Log(levelScale)
	norm := math.Log(na/nb) / lnS // feature scale in normalised units: levelScale^level / n
	cs := make([]cand, n)
	for k, m := range ms {
		a, b := &fa[m.a], &fb[m.b]
		cs[k] = cand{
			ax: float64(a.x) / na, ay: float64(a.y) / na,
			bx: float64(b.x) / nb, by: float64(b.y) / nb,
			rot: float64(b.angle - a.angle),
			lsc: float64(int(b.level)-int(a.level)) + norm,
		}
	}
	// Angles lie in [−π, π] (stored ones in [−4, 4]), so one wrap suffices
	// for differences up to 8 < 3π.
	angDiff := func(x, y float64) float64 {
		d := math.Abs(x - y)
		if d > math.Pi {
			d = math.Abs(d - 2*math.Pi)
		}
		if d > math.Pi {
			d = math.Abs(d - 2*math.Pi)
		}
		return d
	}
	best := 1
	tol2 := simTol * simTol
	tried := 0
	// Pairs drawn from the best cluster so far would only find it again
	// (in a re-shot most candidates are in it): skip them.
	inBest := make([]bool, n)
	mark := make([]bool, n)
	// Distinct clusters of at least poseHypMin members, told apart by a
	// hash of their member set; members holds each one's candidate indices.
	type cluster struct {
		key        uint64
		start, end int
	}
	var clusters []cluster
	var members []int32
	for i := 0; i < n && tried < simMaxPairs; i++ {
		for j := i + 1; j < n && tried < simMaxPairs; j++ {
			if inBest[i] && inBest[j] {
				continue
			}
			ci, cj := &cs[i], &cs[j]
			if angDiff(ci.rot, cj.rot) > 2*simAngleTol || math.Abs(ci.lsc-cj.lsc) > 2*simLevelTol {
				continue
			}
			dax, day := cj.ax-ci.ax, cj.ay-ci.ay
			dbx, dby := cj.bx-ci.bx, cj.by-ci.by
			la := dax*dax + day*day
			if la < 0.0025 { // points closer than 5 % of the side pin no pose
				continue
			}
			tried++
			// b = s·R·a + t as a complex product: (p + iq)·(dax + i·day) = dbx + i·dby.
			p := (dbx*dax + dby*day) / la
			q := (dby*dax - dbx*day) / la
			rot := math.Atan2(q, p)
			// Scale of the transform in pyramid levels, comparable with
			// each candidate's normalised level difference.
			lsc := math.Log(math.Hypot(p, q)) / lnS
			if angDiff(rot, ci.rot) > simAngleTol || angDiff(rot, cj.rot) > simAngleTol ||
				math.Abs(lsc-ci.lsc) > simLevelTol || math.Abs(lsc-cj.lsc) > simLevelTol {
				continue
			}
			tx := ci.bx - (p*ci.ax - q*ci.ay)
			ty := ci.by - (q*ci.ax + p*ci.ay)
			c := 0
			for k := range cs {
				ck := &cs[k]
				du := p*ck.ax - q*ck.ay + tx - ck.bx
				dv := q*ck.ax + p*ck.ay + ty - ck.by
				in := du*du+dv*dv < tol2 && math.Abs(lsc-ck.lsc) <= simLevelTol && angDiff(rot, ck.rot) <= simAngleTol
				mark[k] = in
				if in {
					c++
				}
			}
			if maxHyps > 0 && c >= poseHypMin {
				var key uint64
				for k, in := range mark {
					if in {
						key += mix64(uint64(k))
					}
				}
				if !slices.ContainsFunc(clusters, func(o cluster) bool { return o.key == key }) {
					start := len(members)
					for k, in := range mark {
						if in {
							members = append(members, int32(k))
						}
					}
					clusters = append(clusters, cluster{key, start, len(members)})
				}
			}
			if c > best {
				best = c
				bestH = homography{p, -q, tx, q, p, ty, 0, 0, 1}
				inBest, mark = mark, inBest
			}
		}
	}
	if len(clusters) == 0 {
		return best, bestH, nil
	}
	slices.SortStableFunc(clusters, func(a, b cluster) int { return (b.end - b.start) - (a.end - a.start) })
	hyps := make([]homography, 0, min(len(clusters), maxHyps))
	for _, cl := range clusters[:min(len(clusters), maxHyps)] {
		mem := members[cl.start:cl.end]
		// Least-squares similarity b = (p + iq)·a + t over the members,
		// about their centroids.
		var mx, my, mu, mv float64
		for _, k := range mem {
			c := &cs[k]
			mx, my, mu, mv = mx+c.ax, my+c.ay, mu+c.bx, mv+c.by
		}
		m := float64(len(mem))
		mx, my, mu, mv = mx/m, my/m, mu/m, mv/m
		var sp, sq, sa float64
		for _, k := range mem {
			c := &cs[k]
			ax, ay, bx, by := c.ax-mx, c.ay-my, c.bx-mu, c.by-mv
			sp += ax*bx + ay*by
			sq += ax*by - ay*bx
			sa += ax*ax + ay*ay
		}
		if sa <= 0 {
			continue
		}
		p, q := sp/sa, sq/sa
		tx, ty := mu-(p*mx-q*my), mv-(q*mx+p*my)
		hyps = append(hyps, homography{p, -q, tx, q, p, ty, 0, 0, 1})
	}
	return best, bestH, hyps
}

// mix64 is the SplitMix64 finaliser (Steele et al., OOPSLA 2014): a
// bijective scramble, so sums of mix64 over index sets rarely collide.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// colourFilter returns the matches of ms whose features agree in colour
// (colourAgrees), in a new slice.
func colourFilter(ms []match, fa, fb []feature) []match {
	var out []match
	for _, m := range ms {
		if colourAgrees(&fa[m.a], &fb[m.b]) {
			out = append(out, m)
		}
	}
	return out
}

package vision

import (
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// ORB-style local features (Rublee, Rabaud, Konolige, Bradski, "ORB: an
// efficient alternative to SIFT or SURF", ICCV 2011): FAST-9 corners
// (Rosten & Drummond, ECCV 2006) on a small image pyramid, ranked by the
// Harris measure (Harris & Stephens 1988), oriented by the intensity
// centroid (Rosin 1999), described by BRIEF-256 binary tests (Calonder et
// al., ECCV 2010) steered by that orientation on a smoothed image (5×5 box means from an integral image, as ORB does).
//
// The luma is smoothed by a σ = 1 binomial filter before detection (as
// SIFT presmooths its base level, Lowe 2004 §3.3): two photos of one place
// rarely share the same blur, and FAST corners and BRIEF tests on the
// sharper one otherwise respond to detail the blurred one lacks. The FAST
// threshold is low (8 grey levels on the smoothed image) so that dim,
// low-gain photos still fill their quota; the Harris ranking, which is
// invariant to a global gain, then chooses among the corners.

// feature is one keypoint with its descriptor. X and Y are in the pixel
// coordinates of the working image (pyramid level 0).
type feature struct {
	x, y  float32
	level uint8
	angle float32 // radians
	desc  [4]uint64
	// cb, cr are the mean chroma around the keypoint (see featureColours).
	cb, cr int8
}

// orbConfig controls feature extraction.
type orbConfig struct {
	nFeatures  int     // total keypoints kept over all levels
	levels     int     // pyramid levels
	scale      float64 // side ratio between levels
	fastThresh int     // FAST intensity threshold (0..255)
}

var defaultORB = orbConfig{nFeatures: 500, levels: 5, scale: 1.3, fastThresh: 8}

const (
	patchRadius = 15 // orientation patch radius (31×31 patch)
	briefClip   = 13 // BRIEF test coordinates lie in [-13, 13]
	edgeBorder  = 21 // ≥ briefClip·√2 + smoothing radius
	angleBins   = 30 // steering quantisation: 12° per bin
)

// briefPattern holds the 256 BRIEF test pairs (x1, y1, x2, y2), drawn once
// from an isotropic Gaussian with σ = patch/5 (Calonder et al.'s G II), from a
// fixed PCG seed so every build describes the same way, and pre-rotated to
// angleBins orientations. It is read-only after package initialisation.
var briefPattern = func() (p [angleBins][256][4]int8) {
	r := rand.New(rand.NewPCG(0x5eed0b5, 0x0b5eed))
	var base [256][4]float64
	for i := range base {
		for k := range 4 {
			for {
				v := r.NormFloat64() * 31 / 5
				if math.Abs(v) <= briefClip {
					base[i][k] = v
					break
				}
			}
		}
	}
	for b := range angleBins {
		a := 2 * math.Pi * float64(b) / angleBins
		c, s := math.Cos(a), math.Sin(a)
		for i, q := range base {
			for k := 0; k < 4; k += 2 {
				x, y := q[k], q[k+1]
				p[b][i][k] = int8(math.Round(c*x - s*y))
				p[b][i][k+1] = int8(math.Round(s*x + c*y))
			}
		}
	}
	return p
}()

// fastCircle is the 16-pixel Bresenham circle of radius 3, clockwise from 12 o'clock.
var fastCircle = [16][2]int{
	{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
	{0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3},
}

// gray8 is an 8-bit single-channel image.
type gray8 struct {
	w, h int
	p    []uint8
}

// grayOf returns the 8-bit Rec. 601 luma of an opaque RGBA image, in
// integer arithmetic.
func grayOf(m *image.RGBA) gray8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	g := gray8{w: w, h: h, p: make([]uint8, w*h)}
	for y := range h {
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		out := g.p[y*w : (y+1)*w]
		for x := range out {
			r, gg, b := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2])
			out[x] = uint8((19595*r + 38470*gg + 7471*b + 1<<15) >> 16)
		}
	}
	return g
}

// resizeGray box-resamples g to dw×dh.
func resizeGray(g gray8, dw, dh int) gray8 {
	out := gray8{w: dw, h: dh, p: make([]uint8, dw*dh)}
	resizeChannels(out.p, g.p, 0, g.w, g.w, g.h, 1, dw, dh)
	return out
}

// integral is a summed-area table with a zero first row and column:
// sum of g over [x0, x1) × [y0, y1) is
// s[y1*(w+1)+x1] − s[y0*(w+1)+x1] − s[y1*(w+1)+x0] + s[y0*(w+1)+x0].
type integral struct {
	w int // g's width; the table is (w+1) wide
	s []int32
}

func newIntegral(g gray8) integral {
	w1 := g.w + 1
	s := make([]int32, w1*(g.h+1))
	for y := range g.h {
		var run int32
		prev := s[y*w1 : (y+1)*w1]
		cur := s[(y+1)*w1 : (y+2)*w1]
		for x, v := range g.p[y*g.w : (y+1)*g.w] {
			run += int32(v)
			cur[x+1] = prev[x+1] + run
		}
	}
	return integral{w: g.w, s: s}
}

// box5 returns the sum of the 5×5 box centred on (x, y); callers keep it
// inside the image.
func (t *integral) box5(x, y int) int32 {
	w1 := t.w + 1
	x0, x1, y0, y1 := x-2, x+3, y-2, y+3
	return t.s[y1*w1+x1] - t.s[y0*w1+x1] - t.s[y1*w1+x0] + t.s[y0*w1+x0]
}

type corner struct {
	x, y  int
	score float32
}

// fast9 returns FAST-9 corners with threshold t at least border pixels from
// the edge, after 3×3 non-maximum suppression on the FAST score.
//
// scratch, if at least w×h long, is used (and cleared) for the score map.
func fast9(g gray8, t, border int, scratch []float32) []corner {
	w, h := g.w, g.h
	if w < 2*border+1 || h < 2*border+1 {
		return nil
	}
	var off [16]int
	for i, c := range fastCircle {
		off[i] = c[1]*w + c[0]
	}
	var score []float32
	if len(scratch) >= w*h {
		score = scratch[:w*h]
		clear(score)
	} else {
		score = make([]float32, w*h)
	}
	var cands []corner
	for y := border; y < h-border; y++ {
		for x := border; x < w-border; x++ {
			i := y*w + x
			p := int(g.p[i])
			hi, lo := p+t, p-t
			// Any arc of 9 of the 16 contains pixel 0 or 8, and pixel 4 or 12.
			c0, c8 := int(g.p[i+off[0]]), int(g.p[i+off[8]])
			b08 := c0 > hi || c8 > hi
			d08 := c0 < lo || c8 < lo
			if !b08 && !d08 {
				continue
			}
			c4, c12 := int(g.p[i+off[4]]), int(g.p[i+off[12]])
			if !(b08 && (c4 > hi || c12 > hi)) && !(d08 && (c4 < lo || c12 < lo)) {
				continue
			}
			var bm, dm uint32
			for k := range 16 {
				v := int(g.p[i+off[k]])
				if v > hi {
					bm |= 1 << k
				} else if v < lo {
					dm |= 1 << k
				}
			}
			var s int
			switch {
			case hasArc9(bm):
				for k := range 16 {
					if bm>>k&1 == 1 {
						s += int(g.p[i+off[k]]) - hi
					}
				}
			case hasArc9(dm):
				for k := range 16 {
					if dm>>k&1 == 1 {
						s += lo - int(g.p[i+off[k]])
					}
				}
			default:
				continue
			}
			score[i] = float32(s + 1)
			cands = append(cands, corner{x: x, y: y, score: float32(s + 1)})
		}
	}
	out := cands[:0]
	for _, c := range cands {
		i := c.y*w + c.x
		s := score[i]
		if s >= score[i-1] && s > score[i+1] && s >= score[i-w-1] && s >= score[i-w] &&
			s >= score[i-w+1] && s > score[i+w-1] && s > score[i+w] && s > score[i+w+1] {
			out = append(out, c)
		}
	}
	return out
}

// hasArc9 reports whether the circular 16-bit mask has 9 contiguous ones.
func hasArc9(m uint32) bool {
	if bits.OnesCount32(m) < 9 {
		return false
	}
	d := m | m<<16
	r := d
	for k := 1; k < 9; k++ {
		r &= d >> k
	}
	return r&0xFFFF != 0
}

// harris returns the Harris corner measure det(M) − 0.04·trace(M)² over a
// 7×7 window of Sobel gradients centred on (x, y).
func harris(g gray8, x, y int) float32 {
	w := g.w
	var sxx, syy, sxy float32
	for dy := -3; dy <= 3; dy++ {
		for dx := -3; dx <= 3; dx++ {
			i := (y+dy)*w + x + dx
			p := g.p
			ix := float32(int(p[i-w+1]) + 2*int(p[i+1]) + int(p[i+w+1]) - int(p[i-w-1]) - 2*int(p[i-1]) - int(p[i+w-1]))
			iy := float32(int(p[i+w-1]) + 2*int(p[i+w]) + int(p[i+w+1]) - int(p[i-w-1]) - 2*int(p[i-w]) - int(p[i-w+1]))
			sxx += ix * ix
			syy += iy * iy
			sxy += ix * iy
		}
	}
	tr := sxx + syy
	return sxx*syy - sxy*sxy - 0.04*tr*tr
}

// circleSpan[dy+r] is the half-width of the disc of radius patchRadius at row dy.
var circleSpan = func() (s [2*patchRadius + 1]int) {
	for dy := -patchRadius; dy <= patchRadius; dy++ {
		s[dy+patchRadius] = int(math.Sqrt(float64(patchRadius*patchRadius - dy*dy)))
	}
	return s
}()

// centroidAngle is the intensity-centroid orientation atan2(m01, m10) over
// the disc of radius patchRadius.
func centroidAngle(g gray8, x, y int) float32 {
	var m10, m01 int
	for dy := -patchRadius; dy <= patchRadius; dy++ {
		hw := circleSpan[dy+patchRadius]
		row := g.p[(y+dy)*g.w:]
		var rs int
		for dx := -hw; dx <= hw; dx++ {
			v := int(row[x+dx])
			m10 += dx * v
			rs += v
		}
		m01 += dy * rs
	}
	return float32(math.Atan2(float64(m01), float64(m10)))
}

// brief computes the steered BRIEF-256 descriptor at (x, y): each test
// compares two 5×5 box means (ORB's smoothing, from the integral image) at
// the pattern points rotated by the keypoint's angle.
func brief(t *integral, x, y int, angle float32) [4]uint64 {
	b := int(math.Round(float64(angle) / (2 * math.Pi) * angleBins))
	b = ((b % angleBins) + angleBins) % angleBins
	pat := &briefPattern[b]
	var d [4]uint64
	for i, q := range pat {
		if t.box5(x+int(q[0]), y+int(q[1])) < t.box5(x+int(q[2]), y+int(q[3])) {
			d[i>>6] |= 1 << (i & 63)
		}
	}
	return d
}

// detectORB extracts up to cfg.nFeatures ORB features from a luma image.
func detectORB(l gray8, cfg orbConfig) []feature {
	// Per-level quotas form a geometric series, as in ORB, but with ratio
	// 1/scale rather than 1/scale² (per unit of side, not of area): the
	// coarse levels keep enough features to match a photo taken from
	// twice as far away.
	f := 1 / cfg.scale
	quota := make([]int, cfg.levels)
	den := (1 - math.Pow(f, float64(cfg.levels))) / (1 - f)
	left := cfg.nFeatures
	for i := range quota {
		quota[i] = int(math.Round(float64(cfg.nFeatures) * math.Pow(f, float64(i)) / den))
		if i == cfg.levels-1 {
			quota[i] = max(left, 0)
		}
		left -= quota[i]
	}
	var out []feature
	cur := l
	scratch := make([]float32, l.w*l.h)
	for lv := range cfg.levels {
		if lv > 0 {
			s := math.Pow(cfg.scale, float64(lv))
			dw, dh := int(float64(l.w)/s+0.5), int(float64(l.h)/s+0.5)
			if dw < 2*edgeBorder+8 || dh < 2*edgeBorder+8 {
				break
			}
			// Each level is box-resampled from the previous one.
			cur = resizeGray(cur, dw, dh)
		}
		g := cur
		cs := fast9(g, cfg.fastThresh, edgeBorder, scratch)
		if len(cs) == 0 {
			continue
		}
		for i := range cs {
			cs[i].score = harris(g, cs[i].x, cs[i].y)
		}
		cs = spreadTop(cs, quota[lv], g.w, g.h)
		ii := newIntegral(g)
		sx := float32(l.w) / float32(g.w)
		sy := float32(l.h) / float32(g.h)
		for _, c := range cs {
			a := centroidAngle(g, c.x, c.y)
			out = append(out, feature{
				x: (float32(c.x)+0.5)*sx - 0.5, y: (float32(c.y)+0.5)*sy - 0.5,
				level: uint8(lv), angle: a, desc: brief(&ii, c.x, c.y, a),
			})
		}
	}
	return out
}

// spreadTop keeps the n strongest corners, capping each cell of a 8×6 grid
// at 6n/48 (twice its even share) so that features do not all sit on one
// textured spot; leftover quota is then filled by the strongest remaining
// corners. A tighter cap (3n/48) spread the features wider but filled
// flat cells with weak corners (noise, soft shading) that seldom repeat in
// another photo: on reshot_hard 91 keypoints per pair repeated in the
// other photo instead of 100 (seed 2026).
func spreadTop(cs []corner, n, w, h int) []corner {
	if n <= 0 {
		return nil
	}
	slices.SortFunc(cs, func(a, b corner) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		if a.y != b.y {
			return a.y - b.y
		}
		return a.x - b.x
	})
	if len(cs) <= n {
		return cs
	}
	const gx, gy = 8, 6
	limit := max(6*n/(gx*gy), 1)
	var cnt [gx * gy]int
	kept := make([]corner, 0, n)
	rest := make([]corner, 0, len(cs))
	for _, c := range cs {
		cell := min(c.y*gy/h, gy-1)*gx + min(c.x*gx/w, gx-1)
		if cnt[cell] < limit && len(kept) < n {
			cnt[cell]++
			kept = append(kept, c)
		} else {
			rest = append(rest, c)
		}
	}
	for _, c := range rest {
		if len(kept) >= n {
			break
		}
		kept = append(kept, c)
	}
	return kept
}

// smooth5 convolves g with the separable binomial kernel [1 4 6 4 1]/16
// (a Gaussian of σ = 1), replicating the border.
func smooth5(g gray8) gray8 {
	w, h := g.w, g.h
	tmp := make([]uint16, w*h)
	for y := range h {
		row := g.p[y*w : (y+1)*w]
		out := tmp[y*w : (y+1)*w]
		for x := range w {
			xm2, xm1, xp1, xp2 := max(x-2, 0), max(x-1, 0), min(x+1, w-1), min(x+2, w-1)
			out[x] = uint16(row[xm2]) + 4*uint16(row[xm1]) + 6*uint16(row[x]) + 4*uint16(row[xp1]) + uint16(row[xp2])
		}
	}
	o := gray8{w: w, h: h, p: make([]uint8, w*h)}
	for y := range h {
		r0, r1, r3, r4 := tmp[max(y-2, 0)*w:], tmp[max(y-1, 0)*w:], tmp[min(y+1, h-1)*w:], tmp[min(y+2, h-1)*w:]
		r2 := tmp[y*w:]
		out := o.p[y*w : (y+1)*w]
		for x := range out {
			s := uint32(r0[x]) + 4*uint32(r1[x]) + 6*uint32(r2[x]) + 4*uint32(r3[x]) + uint32(r4[x])
			out[x] = uint8((s + 128) >> 8)
		}
	}
	return o
}

// colourRadius is the half-side, in pixels of the feature's pyramid level,
// of the square whose mean chroma describes a feature's colour.
const colourRadius = 8

// featureColours sets each feature's cb, cr to the mean chroma over the
// (2·colourRadius+1)² square around it at its pyramid level, sampled every
// second level pixel (a 9×9 grid) and clipped to the w×h working frame.
func featureColours(fs []feature, w, h int, chroma func(x, y int) (int32, int32)) {
	var step [256]float32
	for lv := range step {
		step[lv] = float32(2 * math.Pow(defaultORB.scale, float64(lv)))
	}
	const n2 = colourRadius / 2
	for k := range fs {
		f := &fs[k]
		st := step[f.level]
		var sb, sr, n int32
		for dy := -n2; dy <= n2; dy++ {
			y := int(f.y + float32(dy)*st + 0.5)
			if y < 0 || y >= h {
				continue
			}
			for dx := -n2; dx <= n2; dx++ {
				x := int(f.x + float32(dx)*st + 0.5)
				if x < 0 || x >= w {
					continue
				}
				b, r := chroma(x, y)
				sb += b
				sr += r
				n++
			}
		}
		if n > 0 {
			f.cb = int8(max(min(sb/n, 127), -128))
			f.cr = int8(max(min(sr/n, 127), -128))
		}
	}
}

// Colour agreement of matched features. Chroma is scaled by exposure and
// shifted by a colour cast, but its direction (hue) survives both unless
// the colour is nearly grey; a pair is judged only when both features'
// chroma exceeds colourMinSat.
const (
	colourMinSat = 6
	colourHueTol = 35 * math.Pi / 180
)

// colourAgrees reports whether features a and b may show the same surface:
// true when either is too grey to judge or their hues are within colourHueTol.
func colourAgrees(a, b *feature) bool {
	ab, ar, bb, br := float64(a.cb), float64(a.cr), float64(b.cb), float64(b.cr)
	na, nb := ab*ab+ar*ar, bb*bb+br*br
	const m2 = colourMinSat * colourMinSat
	if na < m2 || nb < m2 {
		return true
	}
	dot := ab*bb + ar*br
	c := math.Cos(colourHueTol)
	return dot > 0 && dot*dot >= c*c*na*nb
}

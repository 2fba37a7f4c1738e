package vision

import (
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
// al., ECCV 2010) steered by that orientation on a smoothed image.

// feature is one keypoint with its descriptor. X and Y are in the pixel
// coordinates of the working image (pyramid level 0).
type feature struct {
	x, y  float32
	level uint8
	angle float32 // radians
	desc  [4]uint64
}

// orbConfig controls feature extraction.
type orbConfig struct {
	nFeatures  int     // total keypoints kept over all levels
	levels     int     // pyramid levels
	scale      float64 // side ratio between levels
	fastThresh int     // FAST intensity threshold (0..255)
}

var defaultORB = orbConfig{nFeatures: 500, levels: 4, scale: 1.3, fastThresh: 16}

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

func toGray8(l plane) gray8 {
	g := gray8{w: l.w, h: l.h, p: make([]uint8, len(l.p))}
	for i, v := range l.p {
		g.p[i] = clamp8(v)
	}
	return g
}

// resizePlane box-resamples a float plane.
func resizePlane(src plane, dw, dh int) plane {
	xs := boxSpans(src.w, dw)
	ys := boxSpans(src.h, dh)
	tmp := make([]float32, dw*src.h)
	for y := 0; y < src.h; y++ {
		row := src.p[y*src.w : (y+1)*src.w]
		t := tmp[y*dw : (y+1)*dw]
		for x, sp := range xs {
			var a float32
			for k, wt := range sp.w {
				a += wt * row[sp.start+k]
			}
			t[x] = a
		}
	}
	out := newPlane(dw, dh)
	for y, sp := range ys {
		o := out.p[y*dw : (y+1)*dw]
		for k, wt := range sp.w {
			t := tmp[(sp.start+k)*dw : (sp.start+k+1)*dw]
			for x, v := range t {
				o[x] += wt * v
			}
		}
	}
	return out
}

// boxSmooth5 returns g smoothed by a 5×5 box, the smoothing ORB applies
// before its binary tests. Borders (2 pixels) are copied unsmoothed: no
// descriptor samples there.
func boxSmooth5(g gray8) gray8 {
	w, h := g.w, g.h
	out := gray8{w: w, h: h, p: make([]uint8, w*h)}
	copy(out.p, g.p)
	if w < 5 || h < 5 {
		return out
	}
	// Horizontal 5-sums, then vertical running sums over rows.
	hs := make([]uint16, w*h)
	for y := range h {
		row := g.p[y*w : (y+1)*w]
		hr := hs[y*w : (y+1)*w]
		s := uint16(row[0]) + uint16(row[1]) + uint16(row[2]) + uint16(row[3]) + uint16(row[4])
		hr[2] = s
		for x := 3; x < w-2; x++ {
			s += uint16(row[x+2]) - uint16(row[x-3])
			hr[x] = s
		}
	}
	col := make([]uint32, w)
	for y := range 5 {
		for x, v := range hs[y*w : (y+1)*w] {
			col[x] += uint32(v)
		}
	}
	for y := 2; y < h-2; y++ {
		if y > 2 {
			add := hs[(y+2)*w : (y+3)*w]
			sub := hs[(y-3)*w : (y-2)*w]
			for x := range col {
				col[x] += uint32(add[x]) - uint32(sub[x])
			}
		}
		o := out.p[y*w : (y+1)*w]
		for x := 2; x < w-2; x++ {
			o[x] = uint8((col[x] + 12) / 25)
		}
	}
	return out
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

// brief computes the steered BRIEF-256 descriptor at (x, y) on the smoothed image.
func brief(s gray8, x, y int, angle float32) [4]uint64 {
	b := int(math.Round(float64(angle) / (2 * math.Pi) * angleBins))
	b = ((b % angleBins) + angleBins) % angleBins
	pat := &briefPattern[b]
	c := y*s.w + x
	var d [4]uint64
	for i, q := range pat {
		a := s.p[c+int(q[1])*s.w+int(q[0])]
		bb := s.p[c+int(q[3])*s.w+int(q[2])]
		if a < bb {
			d[i>>6] |= 1 << (i & 63)
		}
	}
	return d
}

// detectORB extracts up to cfg.nFeatures ORB features from a luma plane.
func detectORB(l plane, cfg orbConfig) []feature {
	// Per-level quotas form a geometric series, as in ORB.
	f := 1 / cfg.scale / cfg.scale
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
			cur = resizePlane(cur, dw, dh)
		}
		g := toGray8(cur)
		cs := fast9(g, cfg.fastThresh, edgeBorder, scratch)
		if len(cs) == 0 {
			continue
		}
		for i := range cs {
			cs[i].score = harris(g, cs[i].x, cs[i].y)
		}
		cs = spreadTop(cs, quota[lv], g.w, g.h)
		sm := boxSmooth5(g)
		sx := float32(l.w) / float32(g.w)
		sy := float32(l.h) / float32(g.h)
		for _, c := range cs {
			a := centroidAngle(g, c.x, c.y)
			out = append(out, feature{
				x: (float32(c.x)+0.5)*sx - 0.5, y: (float32(c.y)+0.5)*sy - 0.5,
				level: uint8(lv), angle: a, desc: brief(sm, c.x, c.y, a),
			})
		}
	}
	return out
}

// spreadTop keeps the n strongest corners, capping each cell of a 8×6 grid
// at 3n/48 so that features cover the frame instead of one textured spot;
// leftover quota is then filled by the strongest remaining corners.
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
	limit := max(3*n/(gx*gy), 1)
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

func hamming(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

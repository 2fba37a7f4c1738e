package vision

import (
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
)

// Fingerprint summarises one photo for place matching: PDQ hashes of the
// eight dihedral variants, an MPEG-7-style colour layout, and up to
// MaxFeatures ORB features, each with the mean colour around it. It is immutable once built and safe for
// concurrent use.
type Fingerprint struct {
	// PDQ holds the PDQ hash of each dihedral variant, indexed by Dihedral;
	// PDQ[Original] is the hash of the photo as taken.
	PDQ [8]Hash
	// PDQQuality is PDQ's quality metric (0..100).
	PDQQuality int
	// Layout is the colour layout descriptor (ISO/IEC 15938-3 §10.3 style):
	// the 8×8 grid of mean Y, Cb, Cr, transformed by a 2-D DCT, keeping
	// the 6 lowest-frequency Y and 3 lowest Cb and Cr coefficients in
	// zig-zag order.
	Layout [12]int8
	// Width and Height are the working-image size, in pixels, at which
	// features were found.
	Width, Height int

	features []feature
	colour   bool // features carry their colour (not in format version 1)
}

// MaxFeatures bounds the number of local features in a Fingerprint.
// Extract keeps at most 500; UnmarshalBinary refuses more than MaxFeatures,
// which bounds the cost of Similarity on any stored fingerprint (descriptor
// matching is quadratic: about 1 ms at 512 against 512 features, 13 ms at
// 2048 against 2048).
const MaxFeatures = 512

// NumFeatures returns the number of local features (0 for a nil f).
func (f *Fingerprint) NumFeatures() int {
	if f == nil {
		return 0
	}
	return len(f.features)
}

// Extract computes the Fingerprint of img at the working size (longer side at
// most DefaultWorkSide pixels, box-downscaled once). It returns ErrNilImage
// for a nil image, ErrTooSmall when a side is under 32 pixels and
// ErrTooLarge above MaxImagePixels.
func Extract(img image.Image) (*Fingerprint, error) {
	if img == nil {
		return nil, ErrNilImage
	}
	b := img.Bounds()
	if b.Dx() < 32 || b.Dy() < 32 {
		return nil, fmt.Errorf("%w: %d×%d, minimum side 32", ErrTooSmall, b.Dx(), b.Dy())
	}
	if oversized(b) {
		return nil, fmt.Errorf("%w: %d×%d image, more than %d pixels", ErrTooLarge, b.Dx(), b.Dy(), MaxImagePixels)
	}
	if m, ok := img.(*image.YCbCr); ok {
		return extractYCbCr(m), nil
	}
	return extractWorking(working(img, DefaultWorkSide)), nil
}

func extractWorking(work *image.RGBA) *Fingerprint {
	pix, stride := work.Pix, work.Stride
	chroma := func(x, y int) (int32, int32) {
		i := y*stride + 4*x
		r, g, b := int32(pix[i]), int32(pix[i+1]), int32(pix[i+2])
		// Rec. 601 Cb, Cr (JFIF), in 1/65536 units.
		return (-11059*r - 21709*g + 32768*b) >> 16, (32768*r - 27439*g - 5329*b) >> 16
	}
	return extractFrom(grayOf(work), colourLayout(work), chroma)
}

// extractYCbCr fingerprints a YCbCr image (what image/jpeg returns) without
// building an RGB image: the luma is the box-downscaled Y plane and the
// colour layout is taken from the Y, Cb and Cr planes directly.
func extractYCbCr(m *image.YCbCr) *Fingerprint {
	b := m.Rect
	sw, sh := b.Dx(), b.Dy()
	dw, dh := fitSize(sw, sh, DefaultWorkSide)
	l := gray8{w: dw, h: dh, p: make([]uint8, dw*dh)}
	resizeChannels(l.p, m.Y, m.YOffset(b.Min.X, b.Min.Y), m.YStride, sw, sh, 1, dw, dh)
	cw, ch := chromaSize(m.SubsampleRatio, b)
	coff := m.COffset(b.Min.X, b.Min.Y)
	grid := [3][8][8]float64{
		cellMeans(l.p, dw, dw, dh, 0),
		cellMeans(m.Cb[coff:], m.CStride, cw, ch, 128),
		cellMeans(m.Cr[coff:], m.CStride, cw, ch, 128),
	}
	// Working pixel (x, y) covers source pixels from x·sw/dw; its chroma
	// is read at the centre of that span.
	chroma := func(x, y int) (int32, int32) {
		sx := b.Min.X + min((2*x+1)*sw/(2*dw), sw-1)
		sy := b.Min.Y + min((2*y+1)*sh/(2*dh), sh-1)
		i := m.COffset(sx, sy)
		return int32(m.Cb[i]) - 128, int32(m.Cr[i]) - 128
	}
	return extractFrom(l, layoutFromGrid(&grid), chroma)
}

// extractFrom fingerprints the working luma l; chroma returns the Cb, Cr
// (centred on 0) of working pixel (x, y).
func extractFrom(l gray8, layout [12]int8, chroma func(x, y int) (int32, int32)) *Fingerprint {
	fp := &Fingerprint{Width: l.w, Height: l.h, Layout: layout, colour: true}
	fp.features = detectORB(smooth5(l), defaultORB) // PDQ hashes the unsmoothed luma
	featureColours(fp.features, l.w, l.h, chroma)
	fp.PDQ, fp.PDQQuality = pdqDihedralFromRows(l.w, l.h, lumaSource{u8: func(y int) []uint8 { return l.p[y*l.w : (y+1)*l.w] }})
	return fp
}

// zigzag8 lists the first coefficients of the 8×8 zig-zag scan as (row, col).
var zigzag8 = [6][2]int{{0, 0}, {0, 1}, {1, 0}, {2, 0}, {1, 1}, {0, 2}}

func colourLayout(m *image.RGBA) [12]int8 {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	// Mean R, G, B per cell from integer sums; Y, Cb, Cr are linear in
	// R, G, B, so converting the means equals averaging the conversions.
	var sums [8][8][3]uint64
	var cnt [8][8]float64
	bound := cellBounds(w)
	for y := 0; y < h; y++ {
		gy := y * 8 / h
		row := m.Pix[y*m.Stride : y*m.Stride+4*w]
		for gx := range 8 {
			var r, g, b uint64
			for x := bound[gx]; x < bound[gx+1]; x++ {
				r += uint64(row[4*x])
				g += uint64(row[4*x+1])
				b += uint64(row[4*x+2])
				cnt[gy][gx]++
			}
			sums[gy][gx][0] += r
			sums[gy][gx][1] += g
			sums[gy][gx][2] += b
		}
	}
	var grid [3][8][8]float64
	for i := range 8 {
		for j := range 8 {
			if cnt[i][j] == 0 {
				continue
			}
			r := float64(sums[i][j][0]) / cnt[i][j]
			g := float64(sums[i][j][1]) / cnt[i][j]
			b := float64(sums[i][j][2]) / cnt[i][j]
			grid[0][i][j] = lumaR*r + lumaG*g + lumaB*b
			grid[1][i][j] = -0.168736*r - 0.331264*g + 0.5*b
			grid[2][i][j] = 0.5*r - 0.418688*g - 0.081312*b
		}
	}
	return layoutFromGrid(&grid)
}

// cellMeans returns the mean of an 8-bit plane (w×h at p with stride)
// over each cell of an 8×8 grid, minus offset.
func cellMeans(p []uint8, stride, w, h int, offset float64) (g [8][8]float64) {
	var sums [8][8]uint64
	var cnt [8][8]uint64
	bound := cellBounds(w)
	for y := range h {
		gy := y * 8 / h
		row := p[y*stride : y*stride+w]
		for gx := range 8 {
			var s uint32
			for _, v := range row[bound[gx]:bound[gx+1]] {
				s += uint32(v)
			}
			sums[gy][gx] += uint64(s)
			cnt[gy][gx] += uint64(bound[gx+1] - bound[gx])
		}
	}
	for i := range 8 {
		for j := range 8 {
			if cnt[i][j] > 0 {
				g[i][j] = float64(sums[i][j])/float64(cnt[i][j]) - offset
			}
		}
	}
	return g
}

// cellBounds returns the first column of each of 8 cells across w columns
// (x belongs to cell x*8/w), with bound[8] = w.
func cellBounds(w int) (b [9]int) {
	for g := range 9 {
		b[g] = min((g*w+7)/8, w)
	}
	return b
}

// layoutFromGrid turns 8×8 cell means of Y (0..255) and Cb, Cr (centred on
// 0) into the colour layout descriptor.
func layoutFromGrid(grid *[3][8][8]float64) [12]int8 {
	var out [12]int8
	k := 0
	for c := range 3 {
		n := 6
		if c > 0 {
			n = 3
		}
		for z := range n {
			u, v := zigzag8[z][0], zigzag8[z][1]
			var s float64
			for i := range 8 {
				for j := range 8 {
					s += grid[c][i][j] * math.Cos(float64(2*i+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*j+1)*float64(v)*math.Pi/16)
				}
			}
			// Orthonormal 2-D DCT-II: DC = 8·mean.
			cu, cv := 0.5, 0.5
			if u == 0 {
				cu = math.Sqrt(1.0 / 8)
			}
			if v == 0 {
				cv = math.Sqrt(1.0 / 8)
			}
			s *= cu * cv
			if z == 0 {
				s /= 8 // mean
				if c == 0 {
					s -= 128 // centre Y
				}
			} else {
				s /= 4
			}
			out[k] = int8(max(min(math.Round(s), 127), -128))
			k++
		}
	}
	return out
}

// layoutDistance is the weighted Euclidean distance of MPEG-7 colour
// layout matching, per channel, summed.
func layoutDistance(a, b [12]int8) float64 {
	wy := [6]float64{2, 2, 2, 1, 1, 1}
	wc := [3]float64{2, 1, 1}
	var dy, dcb, dcr float64
	for i := range 6 {
		d := float64(a[i]) - float64(b[i])
		dy += wy[i] * d * d
	}
	for i := range 3 {
		d := float64(a[6+i]) - float64(b[6+i])
		dcb += wc[i] * d * d
		d = float64(a[9+i]) - float64(b[9+i])
		dcr += wc[i] * d * d
	}
	return math.Sqrt(dy) + math.Sqrt(dcb) + math.Sqrt(dcr)
}

// Evidence is the breakdown behind a Similarity score.
type Evidence struct {
	// Matches is the number of cross-checked descriptor matches passing the ratio test.
	Matches int
	// Inliers is the size of the largest subset of Matches consistent with
	// one homography in position and in the orientation and scale of the
	// matched features. Matches whose features differ in hue (both
	// clearly coloured, hues more than 35° apart) are not counted, unless
	// either fingerprint was stored in format version 1, without colour.
	Inliers int
	// Consistent is the largest number of loosely matched features (of
	// agreeing hue) that agree with one similarity transform in position,
	// rotation and scale
	// (a pose cluster, counting the two matches that define it); it
	// recognises pairs with too little overlap or too large a scale change
	// for a homography.
	Consistent int
	// PDQDistance is the Hamming distance between the original-orientation PDQ hashes.
	PDQDistance int
	// PDQDihedralDistance is the smallest distance between the first
	// photo's PDQ hash and any of the eight dihedral hashes of the second:
	// small for an edited copy even when it was rotated by a multiple of
	// 90° or mirrored (a selfie camera).
	PDQDihedralDistance int
	// LayoutDistance is the colour layout distance (0 for identical layouts).
	LayoutDistance float64
	// Score is the calibrated similarity in [0,1], as returned by Similarity.
	Score float64
}

// Similarity returns a calibrated score in [0,1] that f and o show the same
// place: near 1 for re-shots of the same scene (other viewpoint, light,
// clutter) and for edited copies, near 0 for unrelated scenes. It is
// symmetric up to the randomised robust fit, deterministic, and returns 0
// when either fingerprint is nil.
func (f *Fingerprint) Similarity(o *Fingerprint) float64 {
	return f.Compare(o).Score
}

// Compare returns the evidence behind Similarity.
func (f *Fingerprint) Compare(o *Fingerprint) Evidence {
	var e Evidence
	if f == nil || o == nil {
		return e
	}
	ms, loose := matchFeatures(f.features, o.features)
	col := f.colour && o.colour
	if col {
		ms, loose = colourFilter(ms, f.features, o.features), colourFilter(loose, f.features, o.features)
	}
	e.Matches = len(ms)
	na := float64(max(f.Width, f.Height, 1))
	nb := float64(max(o.Width, o.Height, 1))
	// The robust fit draws from a fixed-seed generator so that the score is
	// a pure function of the two fingerprints.
	na0, nb0 := uint64(len(f.features)), uint64(len(o.features))
	rng := rand.New(rand.NewPCG(min(na0, nb0)<<32|max(na0, nb0), 0x9e3779b97f4a7c15))
	g := ransacHomography(ms, f.features, o.features, na, nb, ransacThresh, rng)
	if g.ok && g.inliers >= guideMinInliers {
		e.Consistent, _ = similaritySupport(loose, f.features, o.features, na, nb, defaultORB.scale)
		gm := guidedMatches(f.features, o.features, na, nb, &g.h, guideRadius, col)
		if g2 := ransacHomography(gm, f.features, o.features, na, nb, ransacThresh, rng); g2.inliers > g.inliers {
			g = g2
			e.Matches = len(gm)
		}
	} else {
		// No homography to guide by: guide by each of the largest pose
		// clusters' similarity transforms, and confirm what that finds by
		// guiding again with its homography (a coincidental pose on
		// repeated structure rarely survives the narrower,
		// perspective-aware search).
		var hyps []homography
		e.Consistent, _, hyps = poseClusters(loose, f.features, o.features, na, nb, defaultORB.scale, maxPoseHyps)
		for _, hs := range hyps {
			gm := guidedMatches(f.features, o.features, na, nb, &hs, simGuideRadius, col)
			g1 := ransacHomography(gm, f.features, o.features, na, nb, ransacThresh, rng)
			if !g1.ok {
				continue
			}
			gm = guidedMatches(f.features, o.features, na, nb, &g1.h, guideRadius, col)
			if g2 := ransacHomography(gm, f.features, o.features, na, nb, ransacThresh, rng); g2.inliers > g.inliers {
				g = g2
				e.Matches = len(gm)
			}
		}
	}
	e.Inliers = g.inliers
	e.PDQDistance = f.PDQ[Original].Distance(o.PDQ[Original])
	e.PDQDihedralDistance = e.PDQDistance
	for _, h := range o.PDQ[1:] {
		e.PDQDihedralDistance = min(e.PDQDihedralDistance, f.PDQ[Original].Distance(h))
	}
	e.LayoutDistance = layoutDistance(f.Layout, o.Layout)
	e.Score = calibrate(e, min(f.PDQQuality, o.PDQQuality))
	return e
}

// ransacThresh is the reprojection tolerance as a fraction of the longer side.
const ransacThresh = 0.012

// simGuideRadius is the search radius of guided matching around a pose
// cluster's similarity transform, which ignores perspective: wider than
// guideRadius.
const simGuideRadius = 1.5 * guideRadius

// guideMinInliers is the smallest first-round inlier set whose homography
// seeds guided matching.
const guideMinInliers = 6

// Calibration of the combined score: a logistic model of P(same place)
// under equal priors — risk.Signal's neutral reference, so the score
// carries the likelihood ratio s/(1−s) — on x₁ = ln(1 + max(inliers − 4, 0))
// (four inliers are what any random sample fits), x₂ = (PDQ distance −
// 128)/64, x₃ = layout distance/100 and x₄ = ln(1 + max(Consistent − 2,
// 0)) (the pose cluster beyond the two matches that define it). The
// weights were fitted by
// class-balanced, L2-regularised (λ = 0.002) logistic regression on every
// family of visiontest.Generate except the reshot_hard stress test (16
// scenes each, 480×360, seed 1: 112 positive and 1680 negative pairs), with
// guided matching from the homography or from up to maxPoseHyps pose
// clusters; run
// `go run ./examples/vision -fit -n 16 -w 480 -h 360` to repeat the fit.
const (
	calibB0   = -6.510
	calibIn   = 1.478
	calibPDQ  = -0.105
	calibLay  = -0.110
	calibCons = 1.313
)

// Near-duplicate evidence. PDQ hashes of quality ≥ nearDupQuality within
// 31 bits are Meta's recommended match threshold (ThreatExchange
// pdq/README.md), and hashes of different photos sit near 128 ± 8 bits, so
// a small distance in any dihedral orientation is strong evidence that
// one photo is an edited copy of the other — even when the copy is too
// small or too blurred for local features (Meta's bridge-mods: a 160×100
// shrink, a 128×128 square crop). It adds nearDupSlope log-odds per bit
// below nearDupZero bits (+8 at 31 bits) and nothing above: a large
// distance is no evidence against a re-shot, whose hashes are unrelated.
const (
	nearDupZero    = 63
	nearDupSlope   = 0.25
	nearDupQuality = 50
)

func calibrate(e Evidence, quality int) float64 {
	in := float64(max(e.Inliers-4, 0))
	cons := float64(max(e.Consistent-2, 0))
	z := calibB0 + calibIn*math.Log1p(in) + calibPDQ*float64(e.PDQDistance-128)/64 + calibLay*e.LayoutDistance/100 +
		calibCons*math.Log1p(cons)
	if quality >= nearDupQuality {
		z += nearDupSlope * float64(max(nearDupZero-e.PDQDihedralDistance, 0))
	}
	return 1 / (1 + math.Exp(-z))
}

// Binary format (all integers big-endian):
//
//	magic "PEVF", version (1 or 2)
//	8 × 32-byte PDQ hashes, quality (1 byte)
//	12 colour-layout bytes
//	width, height (uint16 each)
//	n (uint16) features, each: x, y (float32), level (1 byte), angle (float32), 32-byte descriptor,
//	and in version 2 the feature's mean Cb, Cr (1 signed byte each)
const (
	fpMagic         = "PEVF"
	fpVersion1      = 1
	fpVersion       = 2
	fpHeaderSize    = 4 + 1 + 8*32 + 1 + 12 + 2 + 2 + 2
	fpFeatureSizeV1 = 4 + 4 + 1 + 4 + 32
	fpFeatureSize   = fpFeatureSizeV1 + 2
	fpMaxSide       = 1 << 15
)

// MarshalBinary encodes f in a versioned big-endian binary format: magic
// "PEVF", version 2, the eight 32-byte PDQ hashes, PDQ quality (1 byte),
// the 12 colour-layout bytes, width and height (uint16 each), the feature
// count n (uint16) and n features of 47 bytes each (x, y as float32,
// pyramid level as 1 byte, angle as float32, 32-byte ORB descriptor, mean
// Cb and Cr as signed bytes). A fingerprint decoded from version 1, whose
// features have no colour, is written in version 1 again (45 bytes per
// feature, without Cb and Cr). Hosts store the result in their own SceneStore
// and read it back with UnmarshalBinary. It returns an error wrapping
// ErrBadFingerprint for a nil f, more than MaxFeatures features or a side of
// 2¹⁵ pixels or more.
func (f *Fingerprint) MarshalBinary() ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil fingerprint", ErrBadFingerprint)
	}
	if len(f.features) > MaxFeatures {
		return nil, fmt.Errorf("%w: %d features, max %d", ErrBadFingerprint, len(f.features), MaxFeatures)
	}
	if f.Width < 0 || f.Height < 0 || f.Width >= fpMaxSide || f.Height >= fpMaxSide {
		return nil, fmt.Errorf("%w: size %d×%d", ErrBadFingerprint, f.Width, f.Height)
	}
	version, size := byte(fpVersion), fpFeatureSize
	if !f.colour {
		version, size = fpVersion1, fpFeatureSizeV1
	}
	b := make([]byte, 0, fpHeaderSize+size*len(f.features))
	b = append(b, fpMagic...)
	b = append(b, version)
	for _, h := range f.PDQ {
		b = append(b, h[:]...)
	}
	b = append(b, byte(min(max(f.PDQQuality, 0), 100)))
	for _, v := range f.Layout {
		b = append(b, byte(v))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(f.Width))
	b = binary.BigEndian.AppendUint16(b, uint16(f.Height))
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.features)))
	for _, ft := range f.features {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(ft.x))
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(ft.y))
		b = append(b, ft.level)
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(ft.angle))
		for _, w := range ft.desc {
			b = binary.BigEndian.AppendUint64(b, w)
		}
		if f.colour {
			b = append(b, byte(ft.cb), byte(ft.cr))
		}
	}
	return b, nil
}

// UnmarshalBinary decodes data produced by MarshalBinary, in format
// version 2 or the earlier version 1 (features without colour, which
// Similarity then compares without the colour test). It rejects wrong
// magic or version, inconsistent lengths, more than MaxFeatures features and
// non-finite or out-of-frame coordinates with an error wrapping
// ErrBadFingerprint (also for a nil f); f is unchanged on error.
func (f *Fingerprint) UnmarshalBinary(data []byte) error {
	if f == nil {
		return fmt.Errorf("%w: UnmarshalBinary into a nil *Fingerprint", ErrBadFingerprint)
	}
	if len(data) < fpHeaderSize {
		return fmt.Errorf("%w: %d bytes, header needs %d", ErrBadFingerprint, len(data), fpHeaderSize)
	}
	if string(data[:4]) != fpMagic {
		return fmt.Errorf("%w: bad magic", ErrBadFingerprint)
	}
	var g Fingerprint
	size := fpFeatureSize
	switch data[4] {
	case fpVersion:
		g.colour = true
	case fpVersion1:
		size = fpFeatureSizeV1
	default:
		return fmt.Errorf("%w: unsupported version %d", ErrBadFingerprint, data[4])
	}
	p := 5
	for k := range g.PDQ {
		copy(g.PDQ[k][:], data[p:p+32])
		p += 32
	}
	g.PDQQuality = int(data[p])
	if g.PDQQuality > 100 {
		return fmt.Errorf("%w: quality %d", ErrBadFingerprint, g.PDQQuality)
	}
	p++
	for k := range g.Layout {
		g.Layout[k] = int8(data[p])
		p++
	}
	g.Width = int(binary.BigEndian.Uint16(data[p:]))
	g.Height = int(binary.BigEndian.Uint16(data[p+2:]))
	n := int(binary.BigEndian.Uint16(data[p+4:]))
	p += 6
	if g.Width >= fpMaxSide || g.Height >= fpMaxSide {
		return fmt.Errorf("%w: size %d×%d", ErrBadFingerprint, g.Width, g.Height)
	}
	if n > MaxFeatures {
		return fmt.Errorf("%w: %d features, max %d", ErrBadFingerprint, n, MaxFeatures)
	}
	if len(data)-p != n*size {
		return fmt.Errorf("%w: %d feature bytes for %d features", ErrBadFingerprint, len(data)-p, n)
	}
	if n > 0 {
		g.features = make([]feature, n)
	}
	for i := range g.features {
		ft := &g.features[i]
		ft.x = math.Float32frombits(binary.BigEndian.Uint32(data[p:]))
		ft.y = math.Float32frombits(binary.BigEndian.Uint32(data[p+4:]))
		ft.level = data[p+8]
		ft.angle = math.Float32frombits(binary.BigEndian.Uint32(data[p+9:]))
		p += 13
		for k := range ft.desc {
			ft.desc[k] = binary.BigEndian.Uint64(data[p:])
			p += 8
		}
		if g.colour {
			ft.cb, ft.cr = int8(data[p]), int8(data[p+1])
			p += 2
		}
		if !(ft.x >= -1 && ft.x <= float32(g.Width) && ft.y >= -1 && ft.y <= float32(g.Height)) ||
			!(ft.angle >= -4 && ft.angle <= 4) {
			return fmt.Errorf("%w: feature %d out of frame", ErrBadFingerprint, i)
		}
	}
	*f = g
	return nil
}

// FingerprintHeaderSize is the size in bytes of an encoded Fingerprint
// with no features; each feature adds 47 bytes (45 in format version 1).
const FingerprintHeaderSize = fpHeaderSize

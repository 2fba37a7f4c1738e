package vision

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"math/bits"
	"slices"
)

// Hash is a 256-bit PDQ hash. Bit k (0 ≤ k < 256) is set when DCT coefficient
// (k/16, k%16) exceeds the median. The byte layout follows PDQ's reference
// implementation: 16 words of 16 bits, word i holding row i, printed from word
// 15 down to word 0, so Hash[0:2] is word 15 big-endian and Hash[30:32] is word 0.
type Hash [32]byte

// Distance returns the Hamming distance between h and o, in bits (0..256).
func (h Hash) Distance(o Hash) int {
	n := 0
	for i := 0; i < 32; i += 8 {
		a := uint64(h[i])<<56 | uint64(h[i+1])<<48 | uint64(h[i+2])<<40 | uint64(h[i+3])<<32 |
			uint64(h[i+4])<<24 | uint64(h[i+5])<<16 | uint64(h[i+6])<<8 | uint64(h[i+7])
		b := uint64(o[i])<<56 | uint64(o[i+1])<<48 | uint64(o[i+2])<<40 | uint64(o[i+3])<<32 |
			uint64(o[i+4])<<24 | uint64(o[i+5])<<16 | uint64(o[i+6])<<8 | uint64(o[i+7])
		n += bits.OnesCount64(a ^ b)
	}
	return n
}

// Bit reports whether bit k (0..255, as defined on Hash) is set.
func (h Hash) Bit(k int) bool {
	k &= 255
	word, bit := k>>4, k&15
	// Word w is stored big-endian at byte offset 2*(15-w).
	off := 2 * (15 - word)
	v := uint16(h[off])<<8 | uint16(h[off+1])
	return v>>bit&1 == 1
}

func (h *Hash) setBit(k int) {
	word, bit := k>>4, k&15
	off := 2 * (15 - word)
	v := uint16(h[off])<<8 | uint16(h[off+1])
	v |= 1 << bit
	h[off], h[off+1] = byte(v>>8), byte(v)
}

// String returns the 64-digit lowercase hexadecimal form used by PDQ tools.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash parses the 64-digit hexadecimal form produced by String.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("%w: want 64 hex digits, got %d characters", ErrBadHash, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrBadHash, err)
	}
	return h, nil
}

// Dihedral names the eight symmetries of the square, in the order
// PDQDihedral returns them.
type Dihedral int

// The eight dihedral transforms of an image, named as in PDQ's reference
// implementation. FlipX mirrors top-bottom (about the horizontal axis),
// FlipY mirrors left-right, FlipPlus1 is the transpose and FlipMinus1 the
// anti-transpose. Rotations are counter-clockwise.
const (
	Original Dihedral = iota
	Rotate90
	Rotate180
	Rotate270
	FlipX
	FlipY
	FlipPlus1
	FlipMinus1
)

// minHashableSide is PDQ's minimum side; smaller images hash to zero with quality 0.
const minHashableSide = 5

// PDQ computes the 256-bit PDQ hash of img and its quality (0..100), following
// Meta's published algorithm (ThreatExchange pdq/README.md and "The TMK+PDQF
// Video-Hashing Algorithm and the PDQ Image Hashing Algorithm", hashing.pdf):
// Rec. 601 luma, two passes of Jarosz box filters in each axis with window
// ceil(side/128), decimation to 64×64 at cell centres, the 16×16 block of DCT
// coefficients 1..16 in each axis, and a threshold at the median. Quality is
// the reference gradient-sum heuristic; hashes of quality below about 50 are
// unreliable. A nil image, one with a side below 5 pixels or one with more
// than MaxImagePixels pixels hashes to the zero Hash with quality 0.
//
// PDQ follows the C++ reference hasher (pdq-photo-hasher) whose outputs
// Meta publishes in pdq/sql/README.md: the whole image at full resolution,
// with the box window along each row taken from the image height and the
// window down each column from the width (the two agree for square
// images). On Meta's sample images of quality ≥ 80 it reproduces those
// hashes within 0–2 bits when given the pixels the reference decoded (0
// on the PNG and on the bridge photos in all eight orientations; Go's
// image/jpeg differs from libjpeg by a level on some samples, which moves
// up to 10 bits on 256×256 photos). The current C++ source takes the row
// window from the width instead, and the Python reference hashes a
// 512-pixel thumbnail; both land 2–10 bits away from the published C++
// hashes of non-square photos.
func PDQ(img image.Image) (Hash, int) {
	var d dct16
	q, ok := pdqDCT(img, &d)
	if !ok {
		return Hash{}, 0
	}
	return d.hash(), q
}

// PDQDihedral returns the PDQ hashes of the eight dihedral transforms of img,
// indexed by Dihedral, and the quality of the original. Each hash is the
// one PDQ gives the transformed image itself: transposition commutes with
// PDQ's filter and decimation, but a mirror does not quite (the decimation
// grid and the box windows of even width are not symmetric), so the image
// is filtered four times — as is and mirrored in x, in y and in both — and
// each of the eight hashes is one of those four DCTs, transposed or not.
// Deriving all eight from one DCT by the sign identities of the reference
// implementation instead lands up to 8 bits from the hashes of the
// transformed files (Meta's bridge photos).
func PDQDihedral(img image.Image) ([8]Hash, int) {
	if img == nil {
		return [8]Hash{}, 0
	}
	b := img.Bounds()
	if b.Dx() < minHashableSide || b.Dy() < minHashableSide || oversized(b) {
		return [8]Hash{}, 0
	}
	return pdqDihedralFromRows(b.Dx(), b.Dy(), lumaRows(img))
}

// dihedralMirror gives, for each Dihedral, the mirror image whose DCT it
// uses (bit 0: columns mirrored, bit 1: rows mirrored) and whether that DCT
// is transposed. It follows from the reference's sign identities: negating
// the odd frequencies along an axis is mirroring along it.
var dihedralMirror = [8]struct {
	mirror    int
	transpose bool
}{
	Original: {0, false}, Rotate90: {1, true}, Rotate180: {3, false}, Rotate270: {2, true},
	FlipX: {2, false}, FlipY: {1, false}, FlipPlus1: {0, true}, FlipMinus1: {3, true},
}

// pdqDihedralFromRows is PDQDihedral on a w×h luma image delivered row by row.
func pdqDihedralFromRows(w, h int, src lumaSource) ([8]Hash, int) {
	var d [4]dct16
	q := pdqFromRowsMirrored(w, h, src, &d[0], false, false)
	for m := 1; m < 4; m++ {
		pdqFromRowsMirrored(w, h, src, &d[m], m&1 != 0, m&2 != 0)
	}
	var out [8]Hash
	for k, dm := range dihedralMirror {
		if dm.transpose {
			t := d[dm.mirror].transposed()
			out[k] = t.hash()
		} else {
			out[k] = d[dm.mirror].hash()
		}
	}
	return out, q
}

// transposed returns the DCT of the transposed image.
func (d *dct16) transposed() dct16 {
	var o dct16
	for i := range 16 {
		for j := range 16 {
			o[j][i] = d[i][j]
		}
	}
	return o
}

type dct16 [16][16]float32

func pdqDCT(img image.Image, d *dct16) (int, bool) {
	if img == nil {
		return 0, false
	}
	b := img.Bounds()
	if b.Dx() < minHashableSide || b.Dy() < minHashableSide || oversized(b) {
		return 0, false
	}
	return pdqFromRows(b.Dx(), b.Dy(), lumaRows(img), d), true
}

// lumaSource delivers a luma image row by row: as 8-bit rows when u8 is
// set (the rows may be longer than the width), else through f32.
type lumaSource struct {
	u8  func(y int) []uint8
	f32 func(y int, buf []float32)
}

// pdqFromRows runs PDQ on a w×h luma image delivered row by row.
func pdqFromRows(w, h int, src lumaSource, d *dct16) int {
	return pdqFromRowsMirrored(w, h, src, d, false, false)
}

// pdqFromRowsMirrored runs PDQ on the image mirrored left-right (mx) and
// top-bottom (my), without building the mirrored image.
func pdqFromRowsMirrored(w, h int, src lumaSource, d *dct16, mx, my bool) int {
	var a [64][64]float32
	if w == 64 && h == 64 {
		for i := range 64 {
			if src.u8 != nil {
				for x, v := range src.u8(i)[:64] {
					a[i][x] = float32(v)
				}
			} else {
				src.f32(i, a[i][:])
			}
		}
		mirror64(&a, mx, my)
	} else {
		jaroszDecimate(w, h, src, &a, mx, my)
	}
	q := pdqQuality(&a)
	dct64To16(&a, d)
	return q
}

// lumaRows returns the Rec. 601 luma rows of img. JFIF defines Y with the
// same weights, so a YCbCr image's Y plane is used directly.
func lumaRows(img image.Image) lumaSource {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.YCbCr:
		return lumaSource{u8: func(y int) []uint8 { return m.Y[m.YOffset(b.Min.X, b.Min.Y+y):] }}
	case *image.Gray:
		return lumaSource{u8: func(y int) []uint8 { return m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):] }}
	case *image.RGBA:
		return lumaSource{f32: func(y int, buf []float32) {
			lumaInterleaved(buf, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y+y), w, 1)
		}}
	case *image.NRGBA:
		// Straight alpha goes through the generic path, which composites
		// over black.
		if m.Opaque() {
			return lumaSource{f32: func(y int, buf []float32) {
				lumaInterleaved(buf, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y+y), w, 1)
			}}
		}
	}
	return lumaSource{f32: func(y int, buf []float32) {
		lumaGeneric(buf[:w], img, b.Min.Y+y)
	}}
}

// jaroszDecimate computes the reference's X,Y,X,Y box-filter passes and
// samples the 64×64 cell centres into a. The passes are linear and
// separable, so they commute: both horizontal passes together weight the
// row around each sample column by a fixed kernel (a tent, the convolution
// of two boxes, renormalised where a window is clipped at the border), and
// both vertical passes likewise weight the rows around each sample row.
// Each needed row is therefore reduced to its 64 horizontal samples by
// short dot products, and each such row is folded straight into the sample
// rows whose vertical kernel covers it; rows outside every kernel are never
// read. For 8-bit sources the dot products of unclipped kernels run on
// integer tent counts (exact), scaled once at the end; clipped kernels and
// float sources use float64 weights. Results differ from filtering the
// whole image pass by pass only by float rounding.
//
// With mx or my set it returns the samples of the image mirrored
// left-right or top-bottom: the kernels are those of the mirrored image
// mapped back onto this one (see axisKernels), and the result is reversed
// along the mirrored axes.
func jaroszDecimate(w, h int, src lumaSource, a *[64][64]float32, mx, my bool) {
	defer mirror64(a, mx, my)
	// The window along each row comes from the row count and the window
	// down each column from the column count, as in the C++ reference
	// whose published hashes (pdq/sql/README.md) PDQ reproduces; see
	// the PDQ doc comment.
	wr := min(jaroszWindow(h, 64), w)
	wc := min(jaroszWindow(w, 64), h)
	var kx, ky [64]kernel
	// Integer tent sums stay below 255·wr² < 2³² for every window up to
	// 4096 (rows up to about 524 000 pixels); wider rows use floats.
	var cx []uint32
	if wr <= 4096 {
		cx = tentCounts(wr)
	}
	tx := tentWeights(wr, cx != nil)
	var pool []float64 // backing storage of the clipped kernels' weights
	kx, pool = axisKernels(w, wr, mx, tx, cx != nil, pool)
	if src.u8 != nil && wc <= maxPackedWindow {
		decimateColumnsFirst(w, h, wc, src.u8, &kx, a, my)
		return
	}
	ty := tentWeights(wc, false)
	ky, _ = axisKernels(h, wc, my, ty, false, pool)
	var acc [64][64]float64
	var row [64]float64
	var buf []float32
	if src.u8 == nil {
		buf = make([]float32, w)
	}
	first := 0 // first sample row whose kernel may still cover y
	for y := ky[0].start; y < h && first < 64; y++ {
		for first < 64 && ky[first].start+len(ky[first].w) <= y {
			first++
		}
		if first == 64 || y < ky[first].start {
			continue
		}
		if src.u8 != nil {
			rowSamplesU8(src.u8(y)[:w], &kx, cx, &row)
		} else {
			src.f32(y, buf)
			rowSamplesF32(buf, &kx, &row)
		}
		for i := first; i < 64 && ky[i].start <= y; i++ {
			wy := ky[i].w[y-ky[i].start]
			ai := &acc[i]
			for k, v := range row {
				ai[k] += wy * v
			}
		}
	}
	for i := range 64 {
		for k := range 64 {
			a[i][k] = float32(acc[i][k] * kx[k].scale)
		}
	}
}

// maxPackedWindow is the largest vertical window for which a whole
// vertical tent sum of 8-bit pixels, at most 255·window², fits a 16-bit
// lane (images up to 2048 columns, which set the vertical window).
const maxPackedWindow = 16

// decimateColumnsFirst is jaroszDecimate for 8-bit images of at most 2048
// columns: both vertical passes first, then both horizontal ones. For each
// sample row, the rows under its vertical kernel are summed with their
// integer tent counts four columns to a uint64 (16-bit lanes, even and odd
// bytes of each 8-byte word apart), then the 64 horizontal kernels are
// applied to that one row of column sums. Clipped vertical kernels (at the
// top and bottom) are summed in float64 instead.
func decimateColumnsFirst(w, h, wc int, row func(int) []uint8, kx *[64]kernel, a *[64][64]float32, my bool) {
	ty := tentWeights(wc, true)
	ky, _ := axisKernels(h, wc, my, ty, true, nil)
	const lanes = 0x00ff00ff00ff00ff
	nw := w / 8
	even := make([]uint64, nw)
	odd := make([]uint64, nw)
	col := make([]float64, w)
	for i := range 64 {
		kr := &ky[i]
		if kr.integer {
			clear(even)
			clear(odd)
			var tail [8]uint32
			// Two rows per sweep halve the accumulator traffic.
			t := 0
			for ; t+2 <= len(kr.w); t += 2 {
				c, c2 := uint64(kr.w[t]), uint64(kr.w[t+1])
				px, px2 := row(kr.start + t)[:w], row(kr.start + t + 1)[:w]
				for j := range nw {
					x := binary.LittleEndian.Uint64(px[8*j : 8*j+8])
					x2 := binary.LittleEndian.Uint64(px2[8*j : 8*j+8])
					even[j] += c*(x&lanes) + c2*(x2&lanes)
					odd[j] += c*(x>>8&lanes) + c2*(x2>>8&lanes)
				}
				for x := 8 * nw; x < w; x++ {
					tail[x-8*nw] += uint32(c)*uint32(px[x]) + uint32(c2)*uint32(px2[x])
				}
			}
			if t < len(kr.w) {
				c := uint64(kr.w[t])
				px := row(kr.start + t)[:w]
				for j := range nw {
					x := binary.LittleEndian.Uint64(px[8*j : 8*j+8])
					even[j] += c * (x & lanes)
					odd[j] += c * (x >> 8 & lanes)
				}
				for x := 8 * nw; x < w; x++ {
					tail[x-8*nw] += uint32(c) * uint32(px[x])
				}
			}
			for j := range nw {
				e, o := even[j], odd[j]
				d := col[8*j : 8*j+8]
				d[0], d[1] = float64(e&0xffff), float64(o&0xffff)
				d[2], d[3] = float64(e>>16&0xffff), float64(o>>16&0xffff)
				d[4], d[5] = float64(e>>32&0xffff), float64(o>>32&0xffff)
				d[6], d[7] = float64(e>>48), float64(o>>48)
			}
			for x := 8 * nw; x < w; x++ {
				col[x] = float64(tail[x-8*nw])
			}
		} else {
			clear(col)
			for t, wv := range kr.w {
				for x, v := range row(kr.start + t)[:w] {
					col[x] += wv * float64(v)
				}
			}
		}
		for k := range kx {
			kk := &kx[k]
			var s float64
			for t, v := range col[kk.start : kk.start+len(kk.w)] {
				s += kk.w[t] * v
			}
			a[i][k] = float32(s * kk.scale * kr.scale)
		}
	}
}

// kernel is the combined weight of two box passes for one output sample:
// input start+t has weight w[t]·scale. When integer is set the kernel is
// unclipped, w holds the tent counts, and the dot product may be taken on
// integers before scaling.
type kernel struct {
	start   int
	w       []float64
	scale   float64
	integer bool
}

// tentCounts returns the weights 1, 2, …, full, …, 2, 1 of two unclipped
// boxes of width full, as integers.
func tentCounts(full int) []uint32 {
	c := make([]uint32, 2*full-1)
	for t := range c {
		c[t] = uint32(min(t+1, 2*full-1-t))
	}
	return c
}

// tentWeights returns the weights of an unclipped kernel of two boxes of
// width full: the tent counts, divided by full² unless integer is set.
func tentWeights(full int, integer bool) []float64 {
	inv := 1 / (float64(full) * float64(full))
	if integer {
		inv = 1
	}
	t := make([]float64, 2*full-1)
	for i := range t {
		t[i] = float64(min(i+1, len(t)-i)) * inv
	}
	return t
}

// makeKernel returns the combined kernel of two box1D passes of width full
// over n samples, evaluated at output s. An unclipped kernel shares tent
// (tentWeights(full, integer)); a clipped one takes its weights from pool,
// which is returned, possibly regrown.
func makeKernel(n, full, s int, tent []float64, integer bool, pool []float64) (kernel, []float64) {
	lo2, hi2 := boxWindow(s, n, full)
	start, _ := boxWindow(lo2, n, full)
	_, end := boxWindow(hi2, n, full)
	size := end - start + 1
	// Windows are clipped only at the ends, so the kernel is the plain
	// tent when its outer windows have their full width.
	if hi2-lo2+1 == full && size == len(tent) {
		k := kernel{start: start, w: tent, scale: 1}
		if integer {
			k.integer, k.scale = true, 1/(float64(full)*float64(full))
		}
		return k, pool
	}
	if len(pool) < size {
		pool = make([]float64, max(size, 4*size))
	}
	wt := pool[:size:size]
	pool = pool[size:]
	clear(wt)
	n2 := hi2 - lo2 + 1
	for x := lo2; x <= hi2; x++ {
		lo1, hi1 := boxWindow(x, n, full)
		v := 1 / (float64(hi1-lo1+1) * float64(n2))
		for y := lo1; y <= hi1; y++ {
			wt[y-start] += v
		}
	}
	return kernel{start: start, w: wt, scale: 1}, pool
}

// axisKernels returns the 64 kernels of one axis of n samples with box
// window full, sampled at the cell centres, in ascending order of
// position. With mirror set they are the kernels of the mirrored axis
// (whose sample x is sample n−1−x here), mapped back onto this axis: entry
// j then belongs to the mirrored image's sample 63−j, so the caller
// reverses its output along the axis (mirror64).
func axisKernels(n, full int, mirror bool, tent []float64, integer bool, pool []float64) ([64]kernel, []float64) {
	var ks [64]kernel
	for i := range 64 {
		k, p := makeKernel(n, full, int((float64(i)+0.5)*float64(n)/64), tent, integer, pool)
		pool = p
		if !mirror {
			ks[i] = k
			continue
		}
		k.start = n - k.start - len(k.w)
		// An unclipped kernel shares the symmetric tent; a clipped one
		// owns its weights and is reversed in place.
		if len(k.w) > 0 && len(tent) > 0 && &k.w[0] != &tent[0] {
			slices.Reverse(k.w)
		}
		ks[63-i] = k
	}
	return ks, pool
}

// mirror64 reverses a along its columns (mx) and rows (my).
func mirror64(a *[64][64]float32, mx, my bool) {
	if mx {
		for i := range a {
			slices.Reverse(a[i][:])
		}
	}
	if my {
		slices.Reverse(a[:])
	}
}

// rowSamplesU8 applies the 64 horizontal kernels to an 8-bit row. Unclipped
// kernels use the integer tent counts (the result is scaled later by the
// kernel's scale); clipped ones their float weights.
func rowSamplesU8(px []uint8, kx *[64]kernel, counts []uint32, out *[64]float64) {
	for k := range kx {
		kr := &kx[k]
		if !kr.integer {
			var s float64
			for t, v := range px[kr.start : kr.start+len(kr.w)] {
				s += kr.w[t] * float64(v)
			}
			out[k] = s
			continue
		}
		// The tent is symmetric: pair input t with input L-1-t.
		p := px[kr.start : kr.start+len(counts)]
		c := counts[:len(p)]
		m := len(p) / 2
		q := p[len(p)-m:]
		var s0, s1, s2, s3 uint32
		t := 0
		for ; t+2 <= m; t += 2 {
			s0 += c[t] * (uint32(p[t]) + uint32(q[m-1-t]))
			s1 += c[t+1] * (uint32(p[t+1]) + uint32(q[m-2-t]))
		}
		for ; t < m; t++ {
			s2 += c[t] * (uint32(p[t]) + uint32(q[m-1-t]))
		}
		s3 = c[m] * uint32(p[m])
		out[k] = float64(uint64(s0) + uint64(s1) + uint64(s2) + uint64(s3))
	}
}

// rowSamplesF32 applies the 64 horizontal kernels to a float row; the
// integer kernels' weights are their counts, scaled later.
func rowSamplesF32(px []float32, kx *[64]kernel, out *[64]float64) {
	for k := range kx {
		kr := &kx[k]
		var s float64
		for t, v := range px[kr.start : kr.start+len(kr.w)] {
			s += kr.w[t] * float64(v)
		}
		out[k] = s
	}
}

// boxWindow returns the inclusive input range box1D averages for output o.
func boxWindow(o, n, full int) (int, int) {
	half := (full + 2) / 2
	return max(o+half-full, 0), min(o+half-1, n-1)
}

// jaroszWindow is ceil(old / (2*new)): two passes of this window give a tent
// filter about one output cell wide (Jarosz, "Fast Image Convolutions", 2001).
func jaroszWindow(old, new int) int { return (old + 2*new - 1) / (2 * new) }

// pdqQuality is the reference image-domain quality heuristic: the sum of
// quantised absolute differences between neighbours of the 64×64
// downsample, divided by 90 and capped at 100.
func pdqQuality(a *[64][64]float32) int {
	sum := 0
	for i := range 63 {
		for j := range 64 {
			d := int((a[i][j] - a[i+1][j]) * 100 / 255)
			sum += abs(d)
		}
	}
	for i := range 64 {
		for j := range 63 {
			d := int((a[i][j] - a[i][j+1]) * 100 / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dctMatrix holds rows 1..16 of the 64-point DCT-II basis, scaled by sqrt(2/64).
var dctMatrix = func() (m [16][64]float32) {
	s := math.Sqrt(2.0 / 64)
	for i := range 16 {
		for j := range 64 {
			m[i][j] = float32(s * math.Cos(math.Pi/128*float64(i+1)*float64(2*j+1)))
		}
	}
	return m
}()

// dct64To16 computes B = D A Dᵀ with D the 16×64 matrix above.
func dct64To16(a *[64][64]float32, b *dct16) {
	var t [16][64]float32
	for i := range 16 {
		di := &dctMatrix[i]
		for k := range 64 {
			c := di[k]
			ak := &a[k]
			ti := &t[i]
			for j := range 64 {
				ti[j] += c * ak[j]
			}
		}
	}
	for i := range 16 {
		for j := range 16 {
			var s float32
			dj := &dctMatrix[j]
			for k := range 64 {
				s += t[i][k] * dj[k]
			}
			b[i][j] = s
		}
	}
}

// hash thresholds the coefficients at their median: the 128th smallest of
// the 256, as Torben's median selection in the reference returns.
func (d *dct16) hash() Hash {
	var vals [256]float32
	for i := range 16 {
		copy(vals[i*16:], d[i][:])
	}
	s := vals
	slices.Sort(s[:])
	med := s[127]
	var h Hash
	for i := range 16 {
		for j := range 16 {
			if d[i][j] > med {
				h.setBit(i*16 + j)
			}
		}
	}
	return h
}

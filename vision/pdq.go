package vision

import (
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
// unreliable. A nil image or one with a side below 5 pixels hashes to the zero
// Hash with quality 0.
func PDQ(img image.Image) (Hash, int) {
	var d dct16
	q, ok := pdqDCT(img, &d)
	if !ok {
		return Hash{}, 0
	}
	return d.hash(), q
}

// PDQDihedral returns the PDQ hashes of the eight dihedral transforms of img,
// indexed by Dihedral, all derived from one DCT (the reference
// implementation's sign and transpose identities), and the quality.
func PDQDihedral(img image.Image) ([8]Hash, int) {
	var out [8]Hash
	var d dct16
	q, ok := pdqDCT(img, &d)
	if !ok {
		return out, 0
	}
	for k := range out {
		t := d.transform(Dihedral(k))
		out[k] = t.hash()
	}
	return out, q
}

type dct16 [16][16]float32

func pdqDCT(img image.Image, d *dct16) (int, bool) {
	if img == nil {
		return 0, false
	}
	b := img.Bounds()
	if b.Dx() < minHashableSide || b.Dy() < minHashableSide {
		return 0, false
	}
	return pdqFromLuma(lumaPlane(img), d), true
}

// pdqFromLuma runs PDQ on a luma plane (which it overwrites).
func pdqFromLuma(l plane, d *dct16) int {
	var a [64][64]float32
	if l.w == 64 && l.h == 64 {
		for i := range 64 {
			copy(a[i][:], l.p[i*64:(i+1)*64])
		}
	} else {
		jaroszDecimate(l, &a)
	}
	q := pdqQuality(&a)
	dct64To16(&a, d)
	return q
}

// jaroszDecimate applies the reference's X,Y,X,Y box-filter passes and
// samples the 64×64 cell centres into a, overwriting l. The first two passes
// run over the whole plane; the last two are evaluated only where the
// decimation reads them (64 columns of the needed rows, then 64×64 points),
// which gives the same values as filtering everything.
func jaroszDecimate(l plane, a *[64][64]float32) {
	w, h := l.w, l.h
	wr := min(jaroszWindow(w, 64), w)
	wc := min(jaroszWindow(h, 64), h)
	tmp := make([]float32, len(l.p))
	boxRows(l.p, tmp, w, h, wr)
	boxCols(tmp, l.p, w, h, wc)
	var sc, sr [64]int
	for k := range 64 {
		sc[k] = int((float64(k) + 0.5) * float64(w) / 64)
		sr[k] = int((float64(k) + 0.5) * float64(h) / 64)
	}
	// Rows needed by the last (vertical) pass.
	need := make([]bool, h)
	for _, r := range sr {
		lo, hi := boxWindow(r, h, wc)
		for y := lo; y <= hi; y++ {
			need[y] = true
		}
	}
	// Third pass (horizontal) at the 64 sample columns of the needed rows.
	var clo, chi [64]int
	for k, c := range sc {
		clo[k], chi[k] = boxWindow(c, w, wr)
	}
	r2 := make([]float32, h*64)
	for y := range h {
		if !need[y] {
			continue
		}
		row := l.p[y*w : (y+1)*w]
		for k := range 64 {
			var s float32
			for _, v := range row[clo[k] : chi[k]+1] {
				s += v
			}
			r2[y*64+k] = s / float32(chi[k]-clo[k]+1)
		}
	}
	// Fourth pass (vertical) at the 64×64 sample points.
	for i, r := range sr {
		lo, hi := boxWindow(r, h, wc)
		for k := range 64 {
			var s float32
			for y := lo; y <= hi; y++ {
				s += r2[y*64+k]
			}
			a[i][k] = s / float32(hi-lo+1)
		}
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

// box1D is PDQ's one-dimensional box filter: a window of size full centred
// on each sample (the extra sample of an even window on the right), shrunk
// at the ends, the sum divided by the number of samples in the window.
func box1D(in, out []float32, n, stride, full int) {
	half := (full + 2) / 2
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	for range half - 1 {
		sum += in[ri]
		cnt++
		ri += stride
	}
	for range full - half + 1 {
		sum += in[ri]
		cnt++
		out[oi] = sum / float32(cnt)
		ri += stride
		oi += stride
	}
	for range n - full {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cnt)
		li += stride
		ri += stride
		oi += stride
	}
	for range half - 1 {
		sum -= in[li]
		cnt--
		out[oi] = sum / float32(cnt)
		li += stride
		oi += stride
	}
}

func boxRows(in, out []float32, w, h, full int) {
	if full > w {
		full = w
	}
	for y := 0; y < h; y++ {
		box1D(in[y*w:(y+1)*w], out[y*w:(y+1)*w], w, 1, full)
	}
}

// boxCols is box1D down every column, computed row by row with a vector of
// running sums so memory is read sequentially.
func boxCols(in, out []float32, w, h, full int) {
	if full > h {
		full = h
	}
	half := (full + 2) / 2
	sum := make([]float32, w)
	cnt := 0
	ri, li, oi := 0, 0, 0
	add := func(r int) {
		row := in[r*w : (r+1)*w]
		for x, v := range row {
			sum[x] += v
		}
	}
	sub := func(r int) {
		row := in[r*w : (r+1)*w]
		for x, v := range row {
			sum[x] -= v
		}
	}
	emit := func(r int) {
		row := out[r*w : (r+1)*w]
		c := 1 / float32(cnt)
		for x := range row {
			row[x] = sum[x] * c
		}
	}
	for range half - 1 {
		add(ri)
		cnt++
		ri++
	}
	for range full - half + 1 {
		add(ri)
		cnt++
		emit(oi)
		ri++
		oi++
	}
	for range h - full {
		add(ri)
		sub(li)
		emit(oi)
		li++
		ri++
		oi++
	}
	for range half - 1 {
		sub(li)
		cnt--
		emit(oi)
		li++
		oi++
	}
}

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

// transform returns the DCT of the dihedral transform t of the image.
// A mirror negates the odd-frequency coefficients along its axis (our index
// i holds frequency i+1) and a transpose swaps the axes.
func (d *dct16) transform(t Dihedral) dct16 {
	var o dct16
	for i := range 16 {
		for j := range 16 {
			v := d[i][j]
			switch t {
			case Original:
				o[i][j] = v
			case Rotate90:
				if j&1 == 0 {
					v = -v
				}
				o[j][i] = v
			case Rotate180:
				if (i+j)&1 == 1 {
					v = -v
				}
				o[i][j] = v
			case Rotate270:
				if i&1 == 0 {
					v = -v
				}
				o[j][i] = v
			case FlipX:
				if i&1 == 0 {
					v = -v
				}
				o[i][j] = v
			case FlipY:
				if j&1 == 0 {
					v = -v
				}
				o[i][j] = v
			case FlipPlus1:
				o[j][i] = v
			case FlipMinus1:
				if (i+j)&1 == 1 {
					v = -v
				}
				o[j][i] = v
			}
		}
	}
	return o
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

package vision_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

// testPhoto returns photo i of a generated frontal shop scene (JPEG-decoded).
func testPhoto(t testing.TB, seed uint64, w, h int) image.Image {
	t.Helper()
	s, err := visiontest.Generate(visiontest.JPEGFamily, 1, visiontest.Options{Width: w, Height: h}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s.Refs[0]
}

func TestHashStringBitOrder(t *testing.T) {
	// PDQ's reference prints 16 words of 16 bits from word 15 down to word
	// 0 (Hash256::format in ThreatExchange pdq/cpp/common/pdqhashtypes.cpp),
	// bit k living in word k/16 at bit k%16.
	var h vision.Hash
	h[31] = 1 // word 0, bit 0
	if !h.Bit(0) || h.Bit(1) || h.Bit(255) {
		t.Fatalf("bit 0 layout wrong: %s", h)
	}
	if got, want := h.String(), strings.Repeat("0", 63)+"1"; got != want {
		t.Fatalf("String = %s, want %s", got, want)
	}
	var g vision.Hash
	g[0] = 0x80 // word 15, bit 15
	if !g.Bit(255) {
		t.Fatal("bit 255 not at the first hex digit")
	}
	if d := h.Distance(g); d != 2 {
		t.Fatalf("Distance = %d, want 2", d)
	}
	p, err := vision.ParseHash(g.String())
	if err != nil || p != g {
		t.Fatalf("ParseHash round trip: %v %v", p, err)
	}
	for _, bad := range []string{"", "00", strings.Repeat("g", 64), strings.Repeat("0", 65)} {
		if _, err := vision.ParseHash(bad); !errors.Is(err, vision.ErrBadHash) {
			t.Errorf("ParseHash(%q) error %v, want ErrBadHash", bad, err)
		}
	}
}

// refPDQ is a direct, slow transcription of the steps of hashing.pdf
// §"PDQ" in float64: luma, two X/Y passes of PDQ's box filter with window
// ceil(side/128) computed by definition, decimation at cell centres, the
// 16×16 DCT block B = D A Dᵀ, median threshold, and the gradient quality.
func refPDQ(g *image.Gray) (vision.Hash, int) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	a := make([]float64, w*h)
	for i := range a {
		a[i] = float64(g.GrayAt(g.Rect.Min.X+i%w, g.Rect.Min.Y+i/w).Y)
	}
	return refPDQLuma(w, h, a)
}

// refLuma returns the Rec. 601 luma of img pixel by pixel, as PDQ defines
// it: the Y plane of a YCbCr image (JFIF's Y uses the same weights), the
// grey level of a Gray image, and 0.299 R + 0.587 G + 0.114 B of the
// premultiplied colour (composited over black) otherwise.
func refLuma(img image.Image) (int, int, []float64) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	a := make([]float64, w*h)
	for y := range h {
		for x := range w {
			px, py := b.Min.X+x, b.Min.Y+y
			var v float64
			switch m := img.(type) {
			case *image.YCbCr:
				v = float64(m.Y[m.YOffset(px, py)])
			case *image.Gray:
				v = float64(m.GrayAt(px, py).Y)
			default:
				r, g, bb, _ := m.At(px, py).RGBA()
				v = (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bb)) / 257
			}
			a[y*w+x] = v
		}
	}
	return w, h, a
}

// refPDQLuma is refPDQ on a w×h luma array (row-major); it overwrites a.
func refPDQLuma(w, h int, a []float64) (vision.Hash, int) {
	box := func(n, full int, get func(int) float64) []float64 {
		half := (full + 2) / 2
		out := make([]float64, n)
		for o := range n {
			lo, hi := max(o+half-full, 0), min(o+half-1, n-1)
			var s float64
			for k := lo; k <= hi; k++ {
				s += get(k)
			}
			out[o] = s / float64(hi-lo+1)
		}
		return out
	}
	// Window along rows from the height, down columns from the width: the
	// convention of the C++ reference's published hashes (see PDQ).
	wr, wc := (h+127)/128, (w+127)/128
	for range 2 {
		for y := range h {
			r := box(w, wr, func(k int) float64 { return a[y*w+k] })
			copy(a[y*w:], r)
		}
		for x := range w {
			c := box(h, wc, func(k int) float64 { return a[k*w+x] })
			for y := range h {
				a[y*w+x] = c[y]
			}
		}
	}
	var d [64][64]float64
	for i := range 64 {
		for j := range 64 {
			d[i][j] = a[int((float64(i)+0.5)*float64(h)/64)*w+int((float64(j)+0.5)*float64(w)/64)]
		}
	}
	sum := 0
	for i := range 64 {
		for j := range 64 {
			if i < 63 {
				sum += int(math.Abs(float64(int((d[i][j] - d[i+1][j]) * 100 / 255))))
			}
			if j < 63 {
				sum += int(math.Abs(float64(int((d[i][j] - d[i][j+1]) * 100 / 255))))
			}
		}
	}
	q := min(sum/90, 100)
	D := func(i, j int) float64 { return math.Sqrt(2.0/64) * math.Cos(math.Pi/128*float64(i+1)*float64(2*j+1)) }
	var b [16][16]float64
	for i := range 16 {
		for j := range 16 {
			var s float64
			for k := range 64 {
				for l := range 64 {
					s += D(i, k) * d[k][l] * D(j, l)
				}
			}
			b[i][j] = s
		}
	}
	var all []float64
	for i := range 16 {
		all = append(all, b[i][:]...)
	}
	slices.Sort(all)
	med := all[127]
	var hs [16]uint16
	for i := range 16 {
		for j := range 16 {
			if b[i][j] > med {
				hs[i] |= 1 << j
			}
		}
	}
	var out vision.Hash
	for wd := range 16 {
		out[2*(15-wd)] = byte(hs[wd] >> 8)
		out[2*(15-wd)+1] = byte(hs[wd])
	}
	return out, q
}

func toGray(m image.Image) *image.Gray {
	b := m.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Set(x, y, color.GrayModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)))
		}
	}
	return g
}

// TestPDQMatchesAlgorithmDescription checks the optimised implementation
// (combined filter kernels, sampled outputs only) against refPDQ on sizes that
// exercise odd windows, non-square images and the 64×64 shortcut.
func TestPDQMatchesAlgorithmDescription(t *testing.T) {
	t.Parallel()
	for _, sz := range [][2]int{{64, 64}, {50, 70}, {5, 300}, {97, 203}, {333, 251}} {
		big := toGray(testPhoto(t, uint64(sz[0]), max(sz[0], 64), max(sz[1], 48)))
		g := big.SubImage(image.Rect(0, 0, sz[0], sz[1])).(*image.Gray)
		want, wq := refPDQ(g)
		got, q := vision.PDQ(g)
		if d := got.Distance(want); d > 2 || q != wq {
			t.Errorf("%v: distance to reference steps %d (quality %d, want %d)\n got %s\nwant %s", sz, d, q, wq, got, want)
		}
	}
}

// TestPDQFastPathAgreesWithSlow checks the fast luma extraction and
// decimation against refLuma + refPDQLuma on every image type with a fast
// path and the generic one, at odd sizes (clipped filter windows at both
// borders), with non-zero origins and as sub-images of larger images.
func TestPDQFastPathAgreesWithSlow(t *testing.T) {
	t.Parallel()
	// Under -race (pixel loops twenty times slower) and -short every case
	// keeps its path, odd size and offset at about half the side; the wide
	// and tall cases keep their 2113 pixels, which select their path.
	small := testing.Short() || raceEnabled
	sz := func(n int) int {
		if small {
			return n / 2
		}
		return n
	}
	odd := func(n int) int { return sz(n) | 1 }
	photo := testPhoto(t, 11, sz(640), sz(480))
	pb := photo.Bounds()
	// fill sets every pixel of m (a draw.Image) from the photo, offset so
	// different images see different content.
	fill := func(m interface {
		image.Image
		Set(x, y int, c color.Color)
	}, dx, dy int) {
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				m.Set(x, y, photo.At(pb.Min.X+(x-b.Min.X+dx)%pb.Dx(), pb.Min.Y+(y-b.Min.Y+dy)%pb.Dy()))
			}
		}
	}
	ycbcr := func(r image.Rectangle, ss image.YCbCrSubsampleRatio) *image.YCbCr {
		m := image.NewYCbCr(r, ss)
		b := m.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.YCbCrModel.Convert(photo.At(pb.Min.X+(x-b.Min.X)%pb.Dx(), pb.Min.Y+(y-b.Min.Y)%pb.Dy())).(color.YCbCr)
				m.Y[m.YOffset(x, y)] = c.Y
				m.Cb[m.COffset(x, y)] = c.Cb
				m.Cr[m.COffset(x, y)] = c.Cr
			}
		}
		return m
	}
	translucent := func(r image.Rectangle) *image.NRGBA {
		m := image.NewNRGBA(r)
		fill(m, 5, 9)
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = uint8(100 + i%150)
		}
		return m
	}
	gray := image.NewGray(image.Rect(-20, 30, -20+odd(520), 30+odd(401)))
	fill(gray, sz(230), sz(170))
	rgba := image.NewRGBA(image.Rect(0, 0, odd(613), odd(389)))
	fill(rgba, 17, 3)
	cases := []struct {
		name string
		img  image.Image
	}{
		{"ycbcr420", ycbcr(image.Rect(0, 0, odd(641), odd(359)), image.YCbCrSubsampleRatio420)},
		{"ycbcr420-origin", ycbcr(image.Rect(13, 7, 13+odd(517), 7+odd(271)), image.YCbCrSubsampleRatio420)},
		{"ycbcr444", ycbcr(image.Rect(0, 0, odd(257), odd(383)), image.YCbCrSubsampleRatio444)},
		{"ycbcr420-sub", ycbcr(image.Rect(0, 0, sz(640), sz(480)), image.YCbCrSubsampleRatio420).SubImage(image.Rect(33, 21, 33+odd(401), 21+odd(263)))},
		{"ycbcr-jpeg", photo},
		{"gray-origin", gray},
		{"gray-sub", gray.SubImage(image.Rect(-7, 41, -7+129, 41+67))},
		{"gray-thin", gray.SubImage(image.Rect(0, 100, 5, 100+odd(300)))},
		// Over 2048 columns the vertical window exceeds 16 and 8-bit rows
		// take the rows-first path instead of packed column sums.
		{"gray-wide", func() image.Image { m := image.NewGray(image.Rect(0, 0, 2113, 61)); fill(m, 200, 0); return m }()},
		{"gray-tall", func() image.Image { m := image.NewGray(image.Rect(0, 0, 61, 2113)); fill(m, 200, 0); return m }()},
		{"rgba", rgba},
		{"rgba-sub", rgba.SubImage(image.Rect(sz(101), sz(55), sz(101)+odd(333), sz(55)+odd(251)))},
		{"nrgba-opaque", func() image.Image {
			m := image.NewNRGBA(image.Rect(3, 4, 3+odd(211), 4+odd(197)))
			fill(m, sz(300), sz(220))
			return m
		}()},
		{"nrgba-translucent", translucent(image.Rect(-5, -5, -5+odd(305), -5+odd(175)))},
		{"rgba64-generic", func() image.Image {
			m := image.NewRGBA64(image.Rect(0, 0, odd(199), odd(131)))
			fill(m, sz(250), sz(200))
			return m
		}()},
	}
	for _, c := range cases {
		got, q := vision.PDQ(c.img)
		want, wq := refPDQLuma(refLuma(c.img))
		d := got.Distance(want)
		t.Logf("%s %v: %d bits, quality %d (slow %d)", c.name, c.img.Bounds().Size(), d, q, wq)
		if wq < 50 {
			t.Errorf("%s: test image too flat (slow quality %d) to compare hashes", c.name, wq)
		}
		if d > 2 || q < wq-1 || q > wq+1 {
			t.Errorf("%s: fast path %d bits from the slow implementation (want ≤ 2), quality %d vs %d\n got %s\nwant %s", c.name, d, q, wq, got, want)
		}
		// The dihedral entry point shares the DCT: its Original must be
		// the same hash.
		if hs, dq := vision.PDQDihedral(c.img); hs[vision.Original] != got || dq != q {
			t.Errorf("%s: PDQDihedral Original %s (quality %d), PDQ %s (quality %d)", c.name, hs[vision.Original], dq, got, q)
		}
	}
}

// dihedral applies transform k (vision.Dihedral) to m's pixels.
func dihedral(m image.Image, k vision.Dihedral) *image.RGBA {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if k == vision.Rotate90 || k == vision.Rotate270 || k == vision.FlipPlus1 || k == vision.FlipMinus1 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var u, v int
			switch k {
			case vision.Original:
				u, v = x, y
			case vision.Rotate90: // counter-clockwise
				u, v = y, w-1-x
			case vision.Rotate180:
				u, v = w-1-x, h-1-y
			case vision.Rotate270: // clockwise
				u, v = h-1-y, x
			case vision.FlipX: // top ↔ bottom
				u, v = x, h-1-y
			case vision.FlipY: // left ↔ right
				u, v = w-1-x, y
			case vision.FlipPlus1: // transpose
				u, v = y, x
			case vision.FlipMinus1: // anti-transpose
				u, v = h-1-y, w-1-x
			}
			out.Set(u, v, m.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func TestPDQDihedralMatchesTransformedImages(t *testing.T) {
	t.Parallel()
	// PDQDihedral filters the mirrored images themselves, so each of its
	// hashes is the hash of the transformed pixels, whatever the window
	// parity and decimation grid (up to float summation order): odd
	// window, even window (mirroring would shift an even window's filter
	// by one pixel), and a non-square image whose transposes swap the
	// windows.
	testDihedral(t, testPhoto(t, 11, 320, 320), 2)
	testDihedral(t, testPhoto(t, 12, 256, 256), 2)
	testDihedral(t, testPhoto(t, 13, 301, 217), 2)
}

func testDihedral(t *testing.T, img image.Image, tol int) {
	t.Helper()
	all, q := vision.PDQDihedral(img)
	if q < 50 {
		t.Fatalf("quality %d too low for a textured photo", q)
	}
	orig, _ := vision.PDQ(img)
	if all[vision.Original] != orig {
		t.Fatal("PDQDihedral[Original] differs from PDQ")
	}
	for k := vision.Original; k <= vision.FlipMinus1; k++ {
		got, _ := vision.PDQ(dihedral(img, k))
		d := got.Distance(all[k])
		t.Logf("dihedral %d: distance %d", k, d)
		if d > tol {
			t.Errorf("dihedral %d: hash of transformed image is %d bits from the derived hash", k, d)
		}
		if k != vision.Original && got.Distance(orig) < 64 {
			t.Errorf("dihedral %d: transformed image unexpectedly close to original (%d)", k, got.Distance(orig))
		}
	}
}

func TestPDQEditsAndEdgeCases(t *testing.T) {
	t.Parallel()
	a := testPhoto(t, 21, 320, 240)
	b := testPhoto(t, 22, 320, 240)
	ha, qa := vision.PDQ(a)
	hb, _ := vision.PDQ(b)
	if qa < 50 {
		t.Errorf("quality %d", qa)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, a, &jpeg.Options{Quality: 25}); err != nil {
		t.Fatal(err)
	}
	a2, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := vision.PDQ(a2)
	if d := ha.Distance(h2); d > 31 {
		t.Errorf("JPEG q25 moved the hash %d bits, want ≤ 31 (PDQ's usual match threshold)", d)
	}
	if d := ha.Distance(hb); d < 64 {
		t.Errorf("unrelated scenes only %d bits apart", d)
	}
	// Flat image: the coefficients are rounding noise, which quality 0 flags.
	flat := image.NewGray(image.Rect(0, 0, 100, 80))
	for i := range flat.Pix {
		flat.Pix[i] = 90
	}
	if _, q := vision.PDQ(flat); q != 0 {
		t.Errorf("flat image: quality %d, want 0", q)
	}
	if h, q := vision.PDQ(nil); h != (vision.Hash{}) || q != 0 {
		t.Error("nil image should hash to zero")
	}
	if h, q := vision.PDQ(image.NewGray(image.Rect(0, 0, 4, 100))); h != (vision.Hash{}) || q != 0 {
		t.Error("4-pixel-wide image should hash to zero")
	}
	// Luma fast paths agree with the generic path.
	g := toGray(a)
	hg, _ := vision.PDQ(g)
	hr, _ := vision.PDQ(dihedral(g, vision.Original))
	if d := hg.Distance(hr); d > 2 {
		t.Errorf("Gray vs RGBA of the same pixels: %d bits", d)
	}
}

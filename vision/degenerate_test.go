package vision_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/payedge/payedge/vision"
)

// TestDegenerateImages runs every entry point on images a hostile or broken
// terminal could send: slivers, single pixels, constant frames, colour models
// without fast paths, and virtual images with enormous bounds. Nothing may
// panic, hang, allocate per virtual pixel or produce NaN.
func TestDegenerateImages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	filled := func(r image.Rectangle, v uint8) *image.Gray {
		m := image.NewGray(r)
		for i := range m.Pix {
			m.Pix[i] = v
		}
		return m
	}
	// Indices beyond the palette make image.Paletted.At panic.
	shortPalette := image.NewPaletted(image.Rect(0, 0, 64, 64), color.Palette{color.White, color.Black})
	for i := range shortPalette.Pix {
		shortPalette.Pix[i] = uint8(i * 13)
	}
	imgs := map[string]image.Image{
		"1x1":            image.NewRGBA(image.Rect(0, 0, 1, 1)),
		"1xN":            image.NewGray(image.Rect(0, 0, 1, 4000)),
		"Nx1":            image.NewYCbCr(image.Rect(0, 0, 4000, 1), image.YCbCrSubsampleRatio420),
		"2x2 offset":     image.NewNRGBA(image.Rect(-7, 3, -5, 5)),
		"32x32 black":    filled(image.Rect(0, 0, 32, 32), 0),
		"white":          filled(image.Rect(0, 0, 200, 150), 255),
		"black offset":   filled(image.Rect(-100, -100, 100, 50), 0),
		"empty rect":     image.NewRGBA(image.Rectangle{}),
		"cmyk":           image.NewCMYK(image.Rect(0, 0, 64, 64)),
		"gray16":         image.NewGray16(image.Rect(0, 0, 48, 40)),
		"alpha":          image.NewAlpha(image.Rect(0, 0, 40, 40)),
		"paletted empty": image.NewPaletted(image.Rect(0, 0, 40, 40), nil),
		"paletted short": shortPalette,
		"uniform":        image.NewUniform(color.Gray{128}), // bounds ±1e9
		"huge virtual":   virtualImage{image.Rect(0, 0, 200_000, 200_000)},
	}
	for name, m := range map[string]image.Image{"uniform": imgs["uniform"], "huge virtual": imgs["huge virtual"]} {
		if _, err := vision.Extract(m); !errors.Is(err, vision.ErrTooLarge) {
			t.Errorf("%s: Extract error %v, want ErrTooLarge", name, err)
		}
		if h, q := vision.PDQ(m); q != 0 || h != (vision.Hash{}) {
			t.Errorf("%s: PDQ %v quality %d", name, h, q)
		}
	}
	store := vision.NewMemoryStore()
	ref := image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range ref.Pix {
		ref.Pix[i] = uint8((i * 37) ^ (i / 96 * 53))
	}
	if err := store.Add(ctx, "m", mustExtract(t, ref)); err != nil {
		t.Fatal(err)
	}
	a := &vision.Assessor{Store: store}
	for name, m := range imgs {
		q := vision.Quality(m)
		for _, v := range []float64{q.Brightness, q.Contrast, q.Sharpness, q.Flatness} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("%s: quality %+v", name, q)
			}
		}
		if _, pq := vision.PDQ(m); pq < 0 || pq > 100 {
			t.Errorf("%s: PDQ quality %d", name, pq)
		}
		vision.PDQDihedral(m)
		if fp, err := vision.Extract(m); err == nil {
			for _, s := range []float64{fp.Similarity(fp), fp.Similarity(nil), mustExtract(t, ref).Similarity(fp)} {
				if !(s >= 0 && s <= 1) {
					t.Errorf("%s: similarity %v", name, s)
				}
			}
			if _, err := fp.MarshalBinary(); err != nil {
				t.Errorf("%s: marshal: %v", name, err)
			}
		}
		sig, err := a.Assess(ctx, "m", m)
		if err != nil {
			t.Errorf("%s: assess: %v", name, err)
			continue
		}
		if !(sig.Confidence >= 0 && sig.Confidence <= 1) || len(sig.Reasons) == 0 {
			t.Errorf("%s: signal %+v", name, sig)
		}
	}
}

// virtualImage computes its pixels on demand: its bounds can be far larger
// than any buffer.
type virtualImage struct{ r image.Rectangle }

func (v virtualImage) ColorModel() color.Model { return color.GrayModel }
func (v virtualImage) Bounds() image.Rectangle { return v.r }
func (v virtualImage) At(x, y int) color.Color { return color.Gray{uint8(x ^ y)} }

// TestTranslucentComposite checks that straight-alpha (NRGBA) and
// premultiplied (RGBA) forms of the same translucent picture are treated
// alike, composited over black: a fully transparent frame hiding a picture
// in its colour channels is a blank frame, not that picture.
func TestTranslucentComposite(t *testing.T) {
	t.Parallel()
	ref := image.NewNRGBA(image.Rect(0, 0, 96, 96))
	for i := 0; i < len(ref.Pix); i += 4 {
		v := uint8((i/4*37)^(i/4/96*53)) & 0xF0
		ref.Pix[i], ref.Pix[i+1], ref.Pix[i+2], ref.Pix[i+3] = v, 255-v, v/2, 0
	}
	if q := vision.Quality(ref); !q.Covered || !q.Dark {
		t.Errorf("transparent frame: %+v", q)
	}
	if h, _ := vision.PDQ(ref); h != (vision.Hash{}) {
		// All-black luma thresholds at the median: no bit exceeds it.
		t.Errorf("transparent frame hashed to %v", h)
	}
	// Half transparency: the NRGBA and its premultiplied RGBA copy agree.
	pre := image.NewRGBA(ref.Rect)
	for i := 0; i < len(ref.Pix); i += 4 {
		ref.Pix[i+3] = 128
		c := ref.NRGBAAt(i/4%96, i/4/96)
		r, g, b, a := c.RGBA()
		pre.Pix[i], pre.Pix[i+1], pre.Pix[i+2], pre.Pix[i+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), uint8(a>>8)
	}
	hn, _ := vision.PDQ(ref)
	hp, _ := vision.PDQ(pre)
	if d := hn.Distance(hp); d > 4 {
		t.Errorf("NRGBA vs RGBA PDQ distance %d", d)
	}
	qn, qp := vision.Quality(ref), vision.Quality(pre)
	if math.Abs(qn.Brightness-qp.Brightness) > 0.01 {
		t.Errorf("brightness NRGBA %.3f vs RGBA %.3f", qn.Brightness, qp.Brightness)
	}
}

// FuzzExtract fingerprints arbitrary small grey and colour images (sides 32
// to 95, so the pyramid's coarsest levels are smaller than the feature
// border): Extract must succeed, scores stay in [0,1], Quality is NaN-free
// and the fingerprint survives a binary round trip.
func FuzzExtract(f *testing.F) {
	f.Add(uint8(0), uint8(0), false, []byte{0})
	f.Add(uint8(63), uint8(1), true, []byte{0, 255, 17, 200, 3, 99, 250})
	f.Add(uint8(20), uint8(40), false, []byte("a textured little picture with some corners in it"))
	f.Fuzz(func(t *testing.T, w, h uint8, colour bool, pix []byte) {
		if len(pix) == 0 {
			return
		}
		r := image.Rect(0, 0, 32+int(w%64), 32+int(h%64))
		var m image.Image
		if colour {
			c := image.NewRGBA(r)
			for i := range c.Pix {
				c.Pix[i] = pix[i%len(pix)] ^ uint8(i/len(pix))
			}
			m = c
		} else {
			g := image.NewGray(r)
			for i := range g.Pix {
				g.Pix[i] = pix[i%len(pix)] ^ uint8(i/len(pix))
			}
			m = g
		}
		fp, err := vision.Extract(m)
		if err != nil {
			t.Fatal(err)
		}
		if s := fp.Similarity(fp); !(s >= 0 && s <= 1) {
			t.Fatalf("self-similarity %v", s)
		}
		q := vision.Quality(m)
		for _, v := range []float64{q.Brightness, q.Contrast, q.Sharpness, q.Flatness} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("quality %+v", q)
			}
		}
		data, err := fp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back vision.Fingerprint
		if err := back.UnmarshalBinary(data); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if back.Similarity(fp) != fp.Similarity(fp) {
			t.Fatal("round trip changed the score")
		}
	})
}

// TestYCbCrSubImages runs every chroma subsampling with odd-origin
// sub-images through the YCbCr fast paths, which index the planes directly:
// no index may run out of its plane, and the luma they hash must be the Y
// plane itself (compared with a Gray copy of it).
func TestYCbCrSubImages(t *testing.T) {
	t.Parallel()
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		m := image.NewYCbCr(image.Rect(-3, -5, 181, 143), ratio)
		for i := range m.Y {
			m.Y[i] = uint8((i * 7) ^ (i / 184 * 13))
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*3), uint8(255-i*5)
		}
		for _, r := range []image.Rectangle{m.Rect, image.Rect(-3, -5, 40, 40), image.Rect(1, 3, 178, 140), image.Rect(-2, -1, 34, 143)} {
			sub := m.SubImage(r).(*image.YCbCr)
			fp, err := vision.Extract(sub)
			if err != nil {
				t.Fatalf("%v %v: %v", ratio, r, err)
			}
			y := image.NewGray(r)
			for yy := r.Min.Y; yy < r.Max.Y; yy++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					y.Pix[y.PixOffset(x, yy)] = sub.Y[sub.YOffset(x, yy)]
				}
			}
			hy, _ := vision.PDQ(y)
			if h, _ := vision.PDQ(sub); h != hy {
				t.Errorf("%v %v: PDQ of YCbCr differs from PDQ of its Y plane", ratio, r)
			}
			if fp.PDQ[vision.Original] != hy {
				t.Errorf("%v %v: Extract's PDQ differs from PDQ of the Y plane", ratio, r)
			}
			if s := fp.Similarity(mustExtract(t, sub)); s < 0.99 && fp.NumFeatures() > 20 {
				t.Errorf("%v %v: not deterministic: %v", ratio, r, s)
			}
			if q := vision.Quality(sub); math.IsNaN(q.Sharpness) {
				t.Errorf("%v %v: quality %+v", ratio, r, q)
			}
		}
	}
}

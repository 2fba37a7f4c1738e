package vision_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"runtime"
	"testing"

	"github.com/payedge/payedge/vision"
)

// quadrants returns a w×h image whose top-left quadrant is red, top-right
// green, bottom-left blue, bottom-right white.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 0, 0, 255}
			switch {
			case x >= w/2 && y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2 && y >= h/2:
				c = color.RGBA{0, 0, 255, 255}
			case x >= w/2 && y >= h/2:
				c = color.RGBA{255, 255, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encPNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encGIF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withExif inserts an APP1 Exif segment carrying only the Orientation tag
// right after the JPEG's SOI marker (TIFF layout per Exif 2.32 §4.5/4.6).
func withExif(j []byte, orientation uint16, bigEndian bool) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	tiff := []byte("II")
	if bigEndian {
		bo = binary.BigEndian
		tiff = []byte("MM")
	}
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 1) // one entry
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3) // SHORT
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, orientation)
	tiff = append(tiff, 0, 0)
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// pngHeader returns a PNG signature and a valid IHDR chunk declaring w×h,
// 8-bit RGB, with nothing after it: a decompression-bomb header.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// jpegWithSize patches the SOF0 frame size of a baseline JPEG.
func jpegWithSize(t testing.TB, j []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(j)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

func TestDecodeFormats(t *testing.T) {
	t.Parallel()
	q := quadrants(800, 400)
	gray := image.NewGray(image.Rect(0, 0, 64, 48))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 40, 40))
	pal := image.NewPaletted(image.Rect(0, 0, 50, 50), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 200)
	}
	cases := []struct {
		name   string
		data   []byte
		format vision.Format
		w, h   int
	}{
		{"jpeg 800x400 downscaled", encJPEG(t, q), vision.JPEG, 640, 320},
		{"png rgba", encPNG(t, q), vision.PNG, 640, 320},
		{"png grey", encPNG(t, gray), vision.PNG, 64, 48},
		{"png grey16", encPNG(t, gray16), vision.PNG, 40, 40},
		{"gif paletted", encGIF(t, pal), vision.GIF, 50, 50},
		{"jpeg grey", encJPEG(t, gray), vision.JPEG, 64, 48},
	}
	for _, c := range cases {
		d, err := vision.DecodeInfo(bytes.NewReader(c.data), vision.Limits{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d.Format != c.format || d.Image.Rect.Dx() != c.w || d.Image.Rect.Dy() != c.h {
			t.Errorf("%s: got %s %v", c.name, d.Format, d.Image.Rect)
		}
	}
	// A GIF whose first frame covers part of its logical screen.
	frame := image.NewPaletted(image.Rect(10, 10, 60, 70), palette.Plan9)
	var gb bytes.Buffer
	if err := gif.EncodeAll(&gb, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: color.Palette(palette.Plan9), Width: 100, Height: 100}}); err != nil {
		t.Fatal(err)
	}
	if d, err := vision.DecodeInfo(bytes.NewReader(gb.Bytes()), vision.Limits{}); err != nil || d.Image.Rect.Dx() != 50 || d.Image.Rect.Dy() != 60 {
		t.Errorf("partial-frame gif: %v %v", d, err)
	}
	// The box downscale preserves the quadrant colours.
	img, err := vision.Decode(bytes.NewReader(encPNG(t, q)), vision.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := img.At(100, 100).RGBA(); r>>8 < 250 || g>>8 > 5 || b>>8 > 5 {
		t.Errorf("top-left not red after downscale: %d %d %d", r>>8, g>>8, b>>8)
	}
}

func TestDecodeOrientation(t *testing.T) {
	t.Parallel()
	j := encJPEG(t, quadrants(80, 40))
	// Where the red (top-left stored) quadrant must appear when displayed,
	// for each EXIF orientation (Exif 2.32 §4.6.5.1.1).
	type pt struct{ x, y int }
	red := map[int]pt{1: {10, 10}, 2: {70, 10}, 3: {70, 30}, 4: {10, 30}, 5: {10, 10}, 6: {30, 10}, 7: {30, 70}, 8: {10, 70}}
	for o := 1; o <= 8; o++ {
		for _, be := range []bool{false, true} {
			d, err := vision.DecodeInfo(bytes.NewReader(withExif(j, uint16(o), be)), vision.Limits{})
			if err != nil {
				t.Fatalf("orientation %d: %v", o, err)
			}
			if d.Orientation != o {
				t.Errorf("orientation %d (bigEndian=%v): parsed %d", o, be, d.Orientation)
			}
			wantW, wantH := 80, 40
			if o >= 5 {
				wantW, wantH = 40, 80
			}
			if d.Image.Rect.Dx() != wantW || d.Image.Rect.Dy() != wantH {
				t.Errorf("orientation %d: size %v", o, d.Image.Rect)
			}
			p := red[o]
			c := d.Image.RGBAAt(p.x, p.y)
			if c.R < 200 || c.G > 60 || c.B > 60 {
				t.Errorf("orientation %d: pixel %v is %v, want red", o, p, c)
			}
		}
	}
	// Hostile Exif structures are ignored: an IFD offset past the end or at
	// 2³²−1, an entry count of 65535 with one entry present, the wrong
	// type for Orientation, and an out-of-range value.
	good := withExif(j, 6, true)
	tiffAt := bytes.Index(good, []byte("MM\x00\x2a")) // TIFF header
	for name, patch := range map[string]func(b []byte){
		"ifd offset past end":      func(b []byte) { binary.BigEndian.PutUint32(b[tiffAt+4:], 60000) },
		"ifd offset max":           func(b []byte) { binary.BigEndian.PutUint32(b[tiffAt+4:], 0xFFFFFFFF) },
		"ifd offset inside header": func(b []byte) { binary.BigEndian.PutUint32(b[tiffAt+4:], 2) },
		"huge entry count": func(b []byte) {
			binary.BigEndian.PutUint16(b[tiffAt+8:], 0xFFFF)
			b[tiffAt+10] = 0x01
			b[tiffAt+11] = 0x13
		},
		"long type": func(b []byte) { binary.BigEndian.PutUint16(b[tiffAt+12:], 4) },
		"value 9":   func(b []byte) { binary.BigEndian.PutUint16(b[tiffAt+18:], 9) },
	} {
		b := bytes.Clone(good)
		patch(b)
		d, err := vision.DecodeInfo(bytes.NewReader(b), vision.Limits{})
		if err != nil || d.Orientation != 1 {
			t.Errorf("%s: %v, orientation %v", name, err, d)
		}
	}
	// A corrupt Exif block is ignored, not fatal.
	bad := withExif(j, 6, false)
	bad[12] = 'X' // break the TIFF byte-order mark
	if d, err := vision.DecodeInfo(bytes.NewReader(bad), vision.Limits{}); err != nil || d.Orientation != 1 {
		t.Errorf("corrupt exif: %v, orientation %v", err, d)
	}
}

func TestDecodeBadInput(t *testing.T) {
	t.Parallel()
	j := encJPEG(t, quadrants(64, 64))
	cases := []struct {
		name string
		data []byte
		lim  vision.Limits
		want error
	}{
		{"empty", nil, vision.Limits{}, vision.ErrUnsupportedFormat},
		{"wrong magic", []byte("BM this is a bitmap"), vision.Limits{}, vision.ErrUnsupportedFormat},
		{"truncated jpeg", j[:len(j)/2], vision.Limits{}, vision.ErrCorrupt},
		{"jpeg header only", j[:20], vision.Limits{}, vision.ErrCorrupt},
		{"png 100000x100000 header", pngHeader(100000, 100000), vision.Limits{}, vision.ErrTooLarge},
		{"png 30000x30000 over side", pngHeader(30000, 3000), vision.Limits{}, vision.ErrTooLarge},
		{"jpeg 65535x65535 header", jpegWithSize(t, j, 65535, 65535), vision.Limits{}, vision.ErrTooLarge},
		{"png 1xN", encPNG(t, image.NewGray(image.Rect(0, 0, 1, 300))), vision.Limits{}, vision.ErrTooSmall},
		{"png 0x0 header", pngHeader(0, 0), vision.Limits{}, vision.ErrCorrupt},
		{"over MaxBytes", j, vision.Limits{MaxBytes: 100}, vision.ErrTooLarge},
		{"over MaxPixels", j, vision.Limits{MaxPixels: 1000}, vision.ErrTooLarge},
	}
	for _, c := range cases {
		_, err := vision.Decode(bytes.NewReader(c.data), c.lim)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	// A JPEG repeating its scan 100 times (a CPU bomb: every scan is a pass
	// over the whole image) is refused before decoding.
	sos := bytes.Index(j, []byte{0xFF, 0xDA})
	manyScans := bytes.Clone(j[:sos])
	for range 100 {
		manyScans = append(manyScans, j[sos:len(j)-2]...)
	}
	manyScans = append(manyScans, 0xFF, 0xD9)
	if _, err := vision.Decode(bytes.NewReader(manyScans), vision.Limits{}); !errors.Is(err, vision.ErrTooLarge) {
		t.Errorf("100 scans: %v", err)
	}
	if _, err := vision.Decode(nil, vision.Limits{}); !errors.Is(err, vision.ErrNilImage) {
		t.Errorf("nil reader: %v", err)
	}
	// The largest byte limit does not overflow into "read nothing".
	if _, err := vision.Decode(bytes.NewReader(j), vision.Limits{MaxBytes: math.MaxInt64}); err != nil {
		t.Errorf("MaxBytes = MaxInt64: %v", err)
	}
	// Reader errors pass through.
	_, err := vision.Decode(io.MultiReader(bytes.NewReader(j[:10]), errReader{}), vision.Limits{})
	if !errors.Is(err, errBoom) {
		t.Errorf("reader error: %v", err)
	}
}

var errBoom = errors.New("boom")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBoom }

// FuzzDecode feeds arbitrary bytes to Decode: it must return an image
// within the limits or an error, never panic, and never decode more pixels
// than the budget allows.
func FuzzDecode(f *testing.F) {
	small := quadrants(40, 36)
	j := encJPEG(f, small)
	f.Add(j)
	f.Add(encPNG(f, small))
	f.Add(encGIF(f, image.NewPaletted(image.Rect(0, 0, 33, 33), palette.Plan9)))
	f.Add(withExif(j, 6, true))
	f.Add(j[:len(j)/3])
	f.Add(pngHeader(100000, 100000))
	f.Add(jpegWithSize(f, j, 60000, 60000))
	f.Add([]byte("GIF89a"))
	f.Add(gifBomb(3000, 3000, 3000, 3000, 10))
	f.Add(gifBomb(64, 64, 64, 64, 300)[:60])
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	lim := vision.Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 16, WorkSide: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := vision.DecodeInfo(bytes.NewReader(data), lim)
		if err != nil {
			if d != nil {
				t.Fatal("non-nil result with error")
			}
			return
		}
		if int64(d.Width)*int64(d.Height) > lim.MaxPixels {
			t.Fatalf("decoded %dx%d over budget", d.Width, d.Height)
		}
		if b := d.Image.Rect; b.Dx() > 64 || b.Dy() > 64 || b.Dx() < 1 || b.Dy() < 1 {
			t.Fatalf("working image %v", b)
		}
		if d.Orientation < 1 || d.Orientation > 8 {
			t.Fatalf("orientation %d", d.Orientation)
		}
	})
}

// gifBomb returns a GIF89a whose logical screen is sw×sh and whose first
// frame is fw×fh with n bytes of (meaningless) LZW data: a header that asks
// the decoder to allocate the frame and far too little data to fill it.
func gifBomb(sw, sh, fw, fh, n int) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, uint16(sw))
	b = binary.LittleEndian.AppendUint16(b, uint16(sh))
	b = append(b, 0x80, 0, 0)                   // 2-entry global colour table
	b = append(b, 0, 0, 0, 255, 255, 255)       // the table
	b = append(b, 0x21, 0xF9, 4, 0, 0, 0, 0, 0) // graphic control extension
	b = append(b, 0x2C, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(fw))
	b = binary.LittleEndian.AppendUint16(b, uint16(fh))
	b = append(b, 0, 2) // no local table; LZW minimum code size 2
	for n > 0 {
		k := min(n, 255)
		b = append(b, byte(k))
		b = append(b, make([]byte, k)...)
		n -= k
	}
	return append(b, 0, 0x3B)
}

// TestGIFFrameBound: a GIF whose first frame is within the pixel budget
// but whose image data cannot code that many pixels is refused before the
// frame is allocated; a real GIF of the same size still decodes.
func TestGIFFrameBound(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"no data", gifBomb(4000, 4000, 4000, 4000, 0)},
		{"short data", gifBomb(4000, 4000, 4000, 4000, 1000)},
		{"cut inside a sub-block", gifBomb(4000, 4000, 4000, 4000, 3000)[:2000]},
	}
	for _, c := range cases {
		if _, err := vision.Decode(bytes.NewReader(c.data), vision.Limits{}); !errors.Is(err, vision.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, err)
		}
	}
	// 4000×4000 = 16 M pixels need at least 16e6·3/(8·4096) ≈ 1465 bytes:
	// enough bytes pass the bound and reach the decoder, which reports the
	// meaningless data as corrupt.
	if _, err := vision.Decode(bytes.NewReader(gifBomb(4000, 4000, 4000, 4000, 1500)), vision.Limits{}); !errors.Is(err, vision.ErrCorrupt) {
		t.Errorf("1500 bytes: %v", err)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 300, 200), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 7)
	}
	if _, err := vision.Decode(bytes.NewReader(encGIF(t, pal)), vision.Limits{}); err != nil {
		t.Errorf("real gif: %v", err)
	}
}

// TestDecodeHeaderBombAllocates checks that a tiny file whose header
// declares a large image (within the pixel budget) is refused before the
// decoder allocates that image. It runs serially so that no other test's
// allocations are counted.
func TestDecodeHeaderBombAllocates(t *testing.T) {
	j := encJPEG(t, quadrants(64, 64))
	// A 7000×7000 PNG header with a 20-byte IDAT, and the 64×64 JPEG's
	// scan under a 7000×7000 frame header: 49 M pixels, within the default
	// budget, and far too little data for them.
	idat := []byte("IDAT\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01")
	bombPNG := binary.BigEndian.AppendUint32(pngHeader(7000, 7000), uint32(len(idat)-4))
	bombPNG = append(bombPNG, idat...)
	bombPNG = binary.BigEndian.AppendUint32(bombPNG, crc32.ChecksumIEEE(idat))
	for name, data := range map[string][]byte{
		"png": bombPNG, "jpeg": jpegWithSize(t, j, 7000, 7000),
		"gif": gifBomb(7000, 7000, 7000, 7000, 40),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := vision.Decode(bytes.NewReader(data), vision.Limits{})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, vision.ErrCorrupt) {
			t.Errorf("%s: error %v, want ErrCorrupt", name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
			t.Errorf("%s: %d-byte file made Decode allocate %d bytes", name, len(data), n)
		}
	}
	// A paletted GIF is resampled row by row: decoding a 2000×2000 frame
	// allocates the 4 MB frame, not also a 16 MB RGBA copy of it.
	pal := image.NewPaletted(image.Rect(0, 0, 2000, 2000), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i / 2000 % 200)
	}
	gifData := encGIF(t, pal)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d, err := vision.DecodeInfo(bytes.NewReader(gifData), vision.Limits{})
	runtime.ReadMemStats(&after)
	if err != nil || d.Image.Rect.Dx() != 640 {
		t.Fatalf("gif: %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 10<<20 {
		t.Errorf("2000×2000 gif: Decode allocated %d bytes", n)
	}
	// The most compressible real images still decode: a black 2048×2048
	// PNG deflates close to DEFLATE's 1032:1 limit.
	black := encPNG(t, image.NewGray(image.Rect(0, 0, 2048, 2048)))
	if _, err := vision.Decode(bytes.NewReader(black), vision.Limits{}); err != nil {
		t.Errorf("black 2048×2048 png (%d bytes): %v", len(black), err)
	}
	blackJPEG := encJPEG(t, image.NewGray(image.Rect(0, 0, 2048, 2048)))
	if _, err := vision.Decode(bytes.NewReader(blackJPEG), vision.Limits{}); err != nil {
		t.Errorf("black 2048×2048 jpeg (%d bytes): %v", len(blackJPEG), err)
	}
}

// TestDecodeIgnoresRegisteredFormats checks that Decode does not dispatch
// through image.RegisterFormat: a format registered elsewhere in the
// process whose DecodeConfig lies (1×1) while Decode would allocate a huge
// image is refused by magic number, and nothing is decoded.
func TestDecodeIgnoresRegisteredFormats(t *testing.T) {
	t.Parallel()
	decoded := false
	image.RegisterFormat("vision-test-liar", "LIAR",
		func(io.Reader) (image.Image, error) {
			decoded = true
			return image.NewRGBA(image.Rect(0, 0, 1, 1)), nil
		},
		func(io.Reader) (image.Config, error) { return image.Config{Width: 1, Height: 1}, nil })
	if _, format, err := image.DecodeConfig(bytes.NewReader([]byte("LIAR...."))); err != nil || format != "vision-test-liar" {
		t.Fatalf("registration: %q %v", format, err)
	}
	if _, err := vision.Decode(bytes.NewReader([]byte("LIAR...."+string(make([]byte, 100)))), vision.Limits{}); !errors.Is(err, vision.ErrUnsupportedFormat) {
		t.Errorf("registered format: %v, want ErrUnsupportedFormat", err)
	}
	if decoded {
		t.Error("Decode dispatched to a registered decoder")
	}
}

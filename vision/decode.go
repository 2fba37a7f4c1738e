package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
)

// Limits bounds what Decode accepts and sets the working size. The zero
// value is usable: each zero field takes the default shown (DefaultLimits).
// A negative field, or a MinSide above MaxSide once defaults are applied, is
// invalid: Validate and Decode report it with an error wrapping ErrConfig.
type Limits struct {
	// MaxBytes bounds the encoded size read from the reader (default 32 MiB).
	MaxBytes int64
	// MaxPixels bounds width×height as declared by the header, checked
	// before any pixel is decoded (default 50 000 000). Peak memory of a
	// decode is a few bytes per pixel (about 3 for baseline JPEG, 4 for
	// 8-bit PNG, 8 for 16-bit PNG) and up to 16 for progressive JPEG,
	// whose coefficients are held until the last scan: size it for the
	// number of concurrent decodes.
	MaxPixels int64
	// MaxSide bounds each declared side (default 20 000).
	MaxSide int
	// MinSide is the smallest accepted side (default 32).
	MinSide int
	// WorkSide is the longer side of the returned working image; larger
	// images are downscaled once with a box filter (default 640).
	WorkSide int
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 32 << 20, MaxPixels: 50_000_000, MaxSide: 20_000, MinSide: 32, WorkSide: DefaultWorkSide}
}

// DefaultWorkSide is the default longer side, in pixels, of working images.
const DefaultWorkSide = 640

// Validate reports a negative field, or a MinSide (after defaults) above
// MaxSide (after defaults), with an error wrapping ErrConfig.
func (l Limits) Validate() error {
	switch {
	case l.MaxBytes < 0:
		return fmt.Errorf("%w: Limits.MaxBytes %d is negative", ErrConfig, l.MaxBytes)
	case l.MaxPixels < 0:
		return fmt.Errorf("%w: Limits.MaxPixels %d is negative", ErrConfig, l.MaxPixels)
	case l.MaxSide < 0:
		return fmt.Errorf("%w: Limits.MaxSide %d is negative", ErrConfig, l.MaxSide)
	case l.MinSide < 0:
		return fmt.Errorf("%w: Limits.MinSide %d is negative", ErrConfig, l.MinSide)
	case l.WorkSide < 0:
		return fmt.Errorf("%w: Limits.WorkSide %d is negative", ErrConfig, l.WorkSide)
	}
	if d := l.withDefaults(); d.MinSide > d.MaxSide {
		return fmt.Errorf("%w: Limits.MinSide %d above MaxSide %d", ErrConfig, d.MinSide, d.MaxSide)
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes == 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels == 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxSide == 0 {
		l.MaxSide = d.MaxSide
	}
	if l.MinSide == 0 {
		l.MinSide = d.MinSide
	}
	if l.WorkSide == 0 {
		l.WorkSide = d.WorkSide
	}
	return l
}

// Format names an accepted encoding.
type Format string

// Accepted encodings.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
)

// Decoded is the result of DecodeInfo.
type Decoded struct {
	// Image is the working image: opaque RGBA, upright, longer side at most
	// Limits.WorkSide.
	Image *image.RGBA
	// Format is the detected encoding.
	Format Format
	// Width and Height are the encoded dimensions from the header (before
	// orientation and downscaling).
	Width, Height int
	// Orientation is the EXIF orientation applied (1..8; 1 when absent).
	Orientation int
}

// Decode reads one JPEG, PNG or GIF image from r within lim and returns the
// upright working image (an opaque *image.RGBA whose longer side is at most
// lim.WorkSide). See DecodeInfo for the steps and errors.
func Decode(r io.Reader, lim Limits) (image.Image, error) {
	d, err := DecodeInfo(r, lim)
	if err != nil {
		return nil, err
	}
	return d.Image, nil
}

// DecodeInfo reads one JPEG, PNG or GIF image from r safely: it reads at most
// MaxBytes, sniffs the format from its magic number, checks the dimensions
// declared by the header against MaxPixels, MaxSide and MinSide before
// decoding any pixel (so a decompression bomb is refused without
// allocating), refuses files too short to hold the pixels their header
// declares (so a tiny header cannot make the decoder allocate), refuses
// JPEGs with more than 64 scans (each scan is a pass
// over the image, so many tiny progressive scans are a CPU bomb), decodes, downscales once with a box filter to WorkSide, and
// applies the JPEG EXIF orientation (tag 0x0112, CIPA DC-008 / Exif 2.32).
//
// Errors wrap ErrTooLarge, ErrTooSmall, ErrUnsupportedFormat, ErrCorrupt,
// ErrConfig (invalid lim, see Limits.Validate) or (for a nil reader)
// ErrNilImage, or wrap the reader's own error.
func DecodeInfo(r io.Reader, lim Limits) (*Decoded, error) {
	if err := lim.Validate(); err != nil {
		return nil, err
	}
	lim = lim.withDefaults()
	if r == nil {
		return nil, fmt.Errorf("%w: nil reader", ErrNilImage)
	}
	data, err := io.ReadAll(io.LimitReader(r, min(lim.MaxBytes, math.MaxInt64-1)+1))
	if err != nil {
		return nil, fmt.Errorf("vision: reading image: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d encoded bytes", ErrTooLarge, lim.MaxBytes)
	}
	format, err := sniff(data)
	if err != nil {
		return nil, err
	}
	var cfg image.Config
	switch format {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case GIF:
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		return nil, corrupt(format, err)
	}
	if cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide ||
		int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return nil, fmt.Errorf("%w: %s header declares %d×%d (limits: %d pixels, %d per side)",
			ErrTooLarge, format, cfg.Width, cfg.Height, lim.MaxPixels, lim.MaxSide)
	}
	if cfg.Width < lim.MinSide || cfg.Height < lim.MinSide {
		return nil, fmt.Errorf("%w: %s is %d×%d, minimum side %d",
			ErrTooSmall, format, cfg.Width, cfg.Height, lim.MinSide)
	}
	if err := plausibleSize(format, data, cfg); err != nil {
		return nil, err
	}
	if format == JPEG {
		if n := jpegScans(data); n > maxJPEGScans {
			return nil, fmt.Errorf("%w: jpeg has %d scans, at most %d accepted", ErrTooLarge, n, maxJPEGScans)
		}
	}
	var img image.Image
	switch format {
	case JPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case PNG:
		img, err = png.Decode(bytes.NewReader(data))
	case GIF:
		img, err = gif.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, corrupt(format, err)
	}
	// A GIF's first frame may cover only part of its logical screen; no
	// format may decode to more than its header declared.
	b := img.Bounds()
	if b.Dx() > cfg.Width || b.Dy() > cfg.Height || (format != GIF && (b.Dx() != cfg.Width || b.Dy() != cfg.Height)) {
		return nil, fmt.Errorf("%w: %s decoded to %v, header said %d×%d", ErrCorrupt, format, b, cfg.Width, cfg.Height)
	}
	if b.Dx() < lim.MinSide || b.Dy() < lim.MinSide {
		return nil, fmt.Errorf("%w: %s frame is %d×%d, minimum side %d", ErrTooSmall, format, b.Dx(), b.Dy(), lim.MinSide)
	}
	out := &Decoded{Format: format, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	work := working(img, lim.WorkSide)
	if format == JPEG {
		if o := jpegOrientation(data); o > 1 {
			out.Orientation = o
			work = orient(work, o)
		}
	}
	out.Image = work
	return out, nil
}

func corrupt(f Format, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: truncated %s: %v", ErrCorrupt, f, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, f, err)
}

func sniff(b []byte) (Format, error) {
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("%w: empty input", ErrUnsupportedFormat)
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, nil
	}
	n := min(len(b), 8)
	return "", fmt.Errorf("%w: unrecognised magic % x", ErrUnsupportedFormat, b[:n])
}

// plausibleSize refuses a file too short to hold the pixels its header
// declares, before the decoder allocates them: otherwise a 60-byte PNG or
// JPEG header could make every request allocate up to MaxPixels worth of
// memory. The bounds are the formats' best possible compression: DEFLATE
// (RFC 1951) emits at most 258 bytes per 2-bit-or-longer code pair, under
// 1032:1 over a stream, and every 8×8 luma block of a JPEG scan needs at
// least one Huffman code (ITU-T T.81 F.1.2), a bit per 64 pixels. A GIF
// frame's LZW codes (GIF89a §22, appendix F) are at least 3 bits long and
// each emits at most 4096 pixels (a 12-bit code table holds strings of at
// most 4096 entries), so a frame of p pixels needs at least 3p/(8·4096)
// bytes of image data.
func plausibleSize(f Format, data []byte, cfg image.Config) error {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch f {
	case JPEG:
		blocks := int64((cfg.Width+7)/8) * int64((cfg.Height+7)/8)
		if int64(len(data))*8 < blocks {
			return fmt.Errorf("%w: truncated jpeg: %d bytes cannot code %d×%d pixels", ErrCorrupt, len(data), cfg.Width, cfg.Height)
		}
	case PNG:
		raw, idat := pngRawSize(data)
		if raw > 0 && idat*1032 < raw {
			return fmt.Errorf("%w: truncated png: %d compressed bytes cannot inflate to the %d bytes of %d pixels", ErrCorrupt, idat, raw, px)
		}
	case GIF:
		fpx, lzw, ok := gifFirstFrame(data)
		if ok && lzw*8*gifMaxPixelsPerCode < fpx*gifMinCodeBits {
			return fmt.Errorf("%w: truncated gif: %d bytes of image data cannot code a %d-pixel frame", ErrCorrupt, lzw, fpx)
		}
	}
	return nil
}

// Bounds of GIF's LZW coding: codes are at least 3 bits (minimum code size
// 2, plus one) and expand to at most 4096 pixels (the 12-bit table's
// longest string).
const (
	gifMinCodeBits      = 3
	gifMaxPixelsPerCode = 4096
)

// gifFirstFrame walks a GIF's blocks (GIF89a: header, logical screen
// descriptor, colour tables, extensions) to the first image descriptor and
// returns that frame's pixel count and the bytes of its image data
// sub-blocks present in b. ok is false when the structure is not
// understood before the first frame, leaving the decoder to report it.
func gifFirstFrame(b []byte) (pixels, lzw int64, ok bool) {
	const header = 6 + 7
	if len(b) < header {
		return 0, 0, false
	}
	i := header
	if flags := b[10]; flags&0x80 != 0 {
		i += 3 << (flags&7 + 1)
	}
	// subBlocks skips data sub-blocks from j and returns the bytes they
	// carry (only those present) and the index after the terminator.
	subBlocks := func(j int) (int64, int) {
		var n int64
		for j < len(b) {
			size := int(b[j])
			j++
			if size == 0 {
				return n, j
			}
			n += int64(min(size, len(b)-j))
			j += size
		}
		return n, j
	}
	for i < len(b) {
		switch b[i] {
		case 0x21: // extension: label, then sub-blocks
			if i+2 > len(b) {
				return 0, 0, false
			}
			_, i = subBlocks(i + 2)
		case 0x2C: // image descriptor
			if i+10 > len(b) {
				return 0, 0, false
			}
			w := int64(binary.LittleEndian.Uint16(b[i+5:]))
			h := int64(binary.LittleEndian.Uint16(b[i+7:]))
			flags := b[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW minimum code size
			if i > len(b) {
				return w * h, 0, true
			}
			n, _ := subBlocks(i)
			return w * h, n, true
		default: // trailer or garbage before any frame
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// pngRawSize returns the size of the filtered, uncompressed pixel stream a
// non-interlaced PNG of its IHDR needs (a lower bound for interlaced ones)
// and the total length of its IDAT chunks; raw is 0 when the header is not
// understood, leaving the decoder to report it.
func pngRawSize(b []byte) (raw, idat int64) {
	const sigLen = 8
	if len(b) < sigLen+8+13 || string(b[sigLen+4:sigLen+8]) != "IHDR" {
		return 0, 0
	}
	h := b[sigLen+8:]
	w, ht := int64(binary.BigEndian.Uint32(h[0:])), int64(binary.BigEndian.Uint32(h[4:]))
	depth := int64(h[8])
	channels := map[byte]int64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[h[9]]
	if channels == 0 || depth == 0 || w <= 0 || ht <= 0 || w > 1<<24 || ht > 1<<24 {
		return 0, 0
	}
	raw = ht * (1 + (w*channels*depth+7)/8)
	for i := sigLen; i+8 <= len(b); {
		n := int64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if typ == "IDAT" {
			idat += n
		}
		if typ == "IEND" {
			break
		}
		next := int64(i) + 12 + n
		if next > int64(len(b)) {
			// The last chunk is cut short: count only the bytes present.
			if typ == "IDAT" {
				idat -= next - int64(len(b))
			}
			break
		}
		i = int(next)
	}
	return raw, max(idat, 0)
}

// maxJPEGScans bounds the start-of-scan markers of a JPEG. Each scan costs
// a pass over every block of its components, and a progressive scan can be
// a few bytes long (end-of-band runs), so without a bound a file within
// MaxBytes could demand thousands of full passes. Encoders emit 1-3 scans
// for baseline and about 10 for progressive JPEG (libjpeg's default script).
const maxJPEGScans = 64

// jpegScans counts the SOS markers (FF DA) in a JPEG. Entropy-coded data
// stuffs every FF byte as FF 00, so the only other FF DA pairs can sit
// inside marker segments (an Exif thumbnail, say), which over-counts by a
// few at most.
func jpegScans(b []byte) int {
	n := 0
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte{0xFF, 0xDA})
		if k < 0 {
			return n
		}
		n++
		i += k + 2
	}
}

// jpegOrientation returns the EXIF Orientation tag (1..8) of a JPEG, or 0
// when absent or malformed. It walks the marker segments up to the first
// scan and parses the TIFF structure of an APP1 "Exif" segment; every
// offset is bounds-checked.
func jpegOrientation(b []byte) int {
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 0
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		if m == 0xDA || m == 0xD9 { // start of scan / end of image
			return 0
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return 0
		}
		seg := b[i+4 : i+2+n]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 0
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(t[:2]) {
	case "II":
		u16 = func(p []byte) int { return int(p[0]) | int(p[1])<<8 }
		u32 = func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 | int(p[3])<<24 }
	case "MM":
		u16 = func(p []byte) int { return int(p[1]) | int(p[0])<<8 }
		u32 = func(p []byte) int { return int(p[3]) | int(p[2])<<8 | int(p[1])<<16 | int(p[0])<<24 }
	default:
		return 0
	}
	if u16(t[2:]) != 42 {
		return 0
	}
	off := u32(t[4:])
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := u16(t[off:])
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if u16(t[e:]) == 0x0112 {
			// Type SHORT (3), count 1: the value sits in the first two
			// bytes of the value field.
			if u16(t[e+2:]) != 3 {
				return 0
			}
			v := u16(t[e+8:])
			if v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
	}
	return 0
}

// orient returns m transformed so that an image stored with EXIF
// orientation o displays upright. Orientation values (Exif 2.32, 4.6.5.1.1):
// 1 normal, 2 mirrored horizontally, 3 rotated 180°, 4 mirrored vertically,
// 5 transposed, 6 needs 90° clockwise rotation, 7 transversed, 8 needs 90°
// counter-clockwise rotation.
func orient(m *image.RGBA, o int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			default:
				dx, dy = x, y
			}
			si := m.PixOffset(x, y)
			di := out.PixOffset(dx, dy)
			copy(out.Pix[di:di+4], m.Pix[si:si+4])
		}
	}
	return out
}

package vision

import (
	"image"
	"image/color"
)

// plane is a single-channel float32 image, row-major, values 0..255.
type plane struct {
	w, h int
	p    []float32
}

func newPlane(w, h int) plane { return plane{w: w, h: h, p: make([]float32, w*h)} }

// Rec. 601 luma weights, as used by PDQ (and by JFIF for Y).
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// lumaPlane converts img to a luma plane at full resolution. Fast paths cover
// the types the standard decoders return; other types go through At.
func lumaPlane(img image.Image) plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := newPlane(w, h)
	switch m := img.(type) {
	case *image.YCbCr:
		// JFIF defines Y with the Rec. 601 weights, so Y is PDQ's luma
		// up to the decoder's rounding.
		for y := 0; y < h; y++ {
			row := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
			dst := out.p[y*w : (y+1)*w]
			for x := range dst {
				dst[x] = float32(row[x])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := out.p[y*w : (y+1)*w]
			for x := range dst {
				dst[x] = float32(row[x])
			}
		}
	case *image.RGBA:
		lumaInterleaved(out.p, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), w, h)
	case *image.NRGBA:
		if m.Opaque() {
			lumaInterleaved(out.p, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y), w, h)
			break
		}
		// Straight alpha: composite over black, as At's premultiplied
		// colours do.
		for y := range h {
			lumaGeneric(out.p[y*w:(y+1)*w], img, b.Min.Y+y)
		}
	default:
		for y := range h {
			lumaGeneric(out.p[y*w:(y+1)*w], img, b.Min.Y+y)
		}
	}
	return out
}

// MaxImagePixels bounds the width×height of an image.Image given to
// Extract, PDQ, PDQDihedral, Quality and Assessor.Assess. It guards against
// virtual images (such as image.Uniform, whose bounds span ±10⁹) and other
// images far larger than any camera produces, which would otherwise cost
// time or memory per pixel; 2²⁷ pixels (134 MP) exceeds every phone camera.
// Encoded images are bounded before decoding by Limits instead.
const MaxImagePixels = 1 << 27

// oversized reports whether r has more than MaxImagePixels pixels.
func oversized(r image.Rectangle) bool {
	w, h := int64(r.Dx()), int64(r.Dy())
	return w > 0 && h > 0 && w*h > MaxImagePixels
}

// rgb8 returns the 8-bit premultiplied red, green and blue of c, treating a
// nil colour (what an image.Paletted with an empty palette returns) as black.
func rgb8(c color.Color) (r, g, b uint8) {
	if c == nil {
		return 0, 0, 0
	}
	r32, g32, b32, _ := c.RGBA()
	return uint8(r32 >> 8), uint8(g32 >> 8), uint8(b32 >> 8)
}

// paletteRGB returns the opaque-over-black RGB of every palette index; an
// index beyond the palette (which image.Paletted.At would panic on) is black.
func paletteRGB(p color.Palette) (t [256][3]uint8) {
	for i, c := range p[:min(len(p), 256)] {
		t[i][0], t[i][1], t[i][2] = rgb8(c)
	}
	return t
}

// lumaGeneric writes the Rec. 601 luma of row y of img into dst (one value
// per column), without calling At on types that can panic in it.
func lumaGeneric(dst []float32, img image.Image, y int) {
	b := img.Bounds()
	if m, ok := img.(*image.Paletted); ok {
		t := paletteRGB(m.Palette)
		row := m.Pix[m.PixOffset(b.Min.X, y):]
		for x := range dst {
			c := &t[row[x]]
			dst[x] = lumaR*float32(c[0]) + lumaG*float32(c[1]) + lumaB*float32(c[2])
		}
		return
	}
	for x := range dst {
		c := img.At(b.Min.X+x, y)
		if c == nil {
			dst[x] = 0
			continue
		}
		r, g, bb, _ := c.RGBA()
		dst[x] = (lumaR*float32(r) + lumaG*float32(g) + lumaB*float32(bb)) / 257
	}
}

// rgbaRows returns a function writing row y (0-based within the bounds) of
// img into buf as opaque premultiplied RGBA, 4 bytes per pixel: colours are
// composited over black. Unlike draw.Draw it tolerates nil colours and
// out-of-palette indices.
func rgbaRows(img image.Image) func(y int, buf []uint8) {
	b := img.Bounds()
	if pal, ok := img.(*image.Paletted); ok {
		t := paletteRGB(pal.Palette)
		return func(y int, buf []uint8) {
			src := pal.Pix[pal.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range b.Dx() {
				c := &t[src[x]]
				buf[4*x], buf[4*x+1], buf[4*x+2], buf[4*x+3] = c[0], c[1], c[2], 255
			}
		}
	}
	return func(y int, buf []uint8) {
		for x := range b.Dx() {
			buf[4*x], buf[4*x+1], buf[4*x+2] = rgb8(img.At(b.Min.X+x, b.Min.Y+y))
			buf[4*x+3] = 255
		}
	}
}

// resizeRows box-resamples a sw×sh RGBA source delivered row by row into
// dst (dw×dh, 4 bytes per pixel), holding one source row at a time, so
// images without a fast path are never copied at full size.
func resizeRows(dst []uint8, row func(y int, buf []uint8), sw, sh, dw, dh int) {
	const ch = 4
	xs := boxSpans(sw, dw)
	ys := boxSpans(sh, dh)
	buf := make([]uint8, sw*ch)
	acc := make([]float32, sw*ch)
	for y, sp := range ys {
		clear(acc)
		for k, wt := range sp.w {
			row(sp.start+k, buf)
			for i, v := range buf {
				acc[i] += wt * float32(v)
			}
		}
		drow := dst[y*dw*ch : (y+1)*dw*ch]
		for x, sp := range xs {
			for c := range ch {
				var s float32
				base := sp.start*ch + c
				for k, wt := range sp.w {
					s += wt * acc[base+k*ch]
				}
				drow[x*ch+c] = clamp8(s)
			}
		}
	}
}

func lumaInterleaved(dst []float32, pix []uint8, stride, off, w, h int) {
	for y := 0; y < h; y++ {
		row := pix[off+y*stride : off+y*stride+4*w]
		d := dst[y*w : (y+1)*w]
		for x := range d {
			d[x] = lumaR*float32(row[4*x]) + lumaG*float32(row[4*x+1]) + lumaB*float32(row[4*x+2])
		}
	}
}

// span is one output sample of an area-average resampler: the source
// indices [start, start+len(w)) with their weights (summing to 1).
type span struct {
	start int
	w     []float32
}

// boxSpans returns area-coverage weights mapping n source samples to m
// output samples: output i averages the source interval [i*n/m, (i+1)*n/m).
// It is the box filter for downscaling and nearest-like for upscaling.
func boxSpans(n, m int) []span {
	out := make([]span, m)
	s := float64(n) / float64(m)
	for i := range out {
		a, b := float64(i)*s, float64(i+1)*s
		k0 := int(a)
		k1 := int(b)
		if float64(k1) == b {
			k1--
		}
		if k1 >= n {
			k1 = n - 1
		}
		if k1 < k0 {
			k1 = k0
		}
		ws := make([]float32, k1-k0+1)
		for k := k0; k <= k1; k++ {
			lo, hi := max(a, float64(k)), min(b, float64(k+1))
			ws[k-k0] = float32((hi - lo) / s)
		}
		out[i] = span{start: k0, w: ws}
	}
	return out
}

// resizeChannels box-resamples an interleaved 8-bit image with ch channels
// (stride in bytes, starting at off) to dw×dh, writing interleaved output
// with ch channels into dst (stride dw*ch). The vertical pass runs first, on
// whole rows, so the costly full-resolution pass is a contiguous
// multiply-add over each source row.
func resizeChannels(dst []uint8, src []uint8, off, stride, sw, sh, ch, dw, dh int) {
	if f := sw / dw; f > 1 && f <= 16 && sw == f*dw && sh == f*dh {
		resizeInteger(dst, src, off, stride, ch, dw, dh, f)
		return
	}
	if ch == 1 {
		resizeFixed(dst, src, off, stride, sw, sh, dw, dh)
		return
	}
	xs := boxSpans(sw, dw)
	ys := boxSpans(sh, dh)
	rowLen := sw * ch
	acc := make([]float32, rowLen)
	for y, sp := range ys {
		clear(acc)
		for k, wt := range sp.w {
			r := off + (sp.start+k)*stride
			row := src[r : r+rowLen]
			a := acc[:len(row)]
			for i, v := range row {
				a[i] += wt * float32(v)
			}
		}
		drow := dst[y*dw*ch : (y+1)*dw*ch]
		if ch == 1 {
			for x, sp := range xs {
				var s float32
				seg := acc[sp.start : sp.start+len(sp.w)]
				for k, wt := range sp.w {
					s += wt * seg[k]
				}
				drow[x] = clamp8(s)
			}
			continue
		}
		for x, sp := range xs {
			for c := 0; c < ch; c++ {
				var s float32
				base := sp.start*ch + c
				for k, wt := range sp.w {
					s += wt * acc[base+k*ch]
				}
				drow[x*ch+c] = clamp8(s)
			}
		}
	}
}

// resizeFixed is resizeChannels for one channel in 12-bit fixed point:
// weights are rounded to multiples of 1/4096 (so each output is within one
// grey level of the exact box mean) and summed in int32.
func resizeFixed(dst []uint8, src []uint8, off, stride, sw, sh, dw, dh int) {
	const one = 1 << 12
	fix := func(sp []span) ([]int, [][]int32) {
		starts := make([]int, len(sp))
		ws := make([][]int32, len(sp))
		for i, s := range sp {
			starts[i] = s.start
			ws[i] = make([]int32, len(s.w))
			for k, v := range s.w {
				ws[i][k] = int32(v*one + 0.5)
			}
		}
		return starts, ws
	}
	xst, xw := fix(boxSpans(sw, dw))
	yst, yw := fix(boxSpans(sh, dh))
	acc := make([]int32, sw)
	for y := range dh {
		clear(acc)
		for k, wt := range yw[y] {
			r := off + (yst[y]+k)*stride
			for i, v := range src[r : r+sw] {
				acc[i] += wt * int32(v)
			}
		}
		drow := dst[y*dw : (y+1)*dw]
		for x := range drow {
			var s int64
			seg := acc[xst[x] : xst[x]+len(xw[x])]
			for k, wt := range xw[x] {
				s += int64(wt) * int64(seg[k])
			}
			v := (s + one*one/2) / (one * one)
			drow[x] = uint8(min(max(v, 0), 255))
		}
	}
}

// resizeInteger is resizeChannels for an exact integer factor f: each
// output sample is the rounded mean of an f×f block, summed in integers.
func resizeInteger(dst []uint8, src []uint8, off, stride, ch, dw, dh, f int) {
	rowLen := dw * f * ch
	acc := make([]uint32, rowLen)
	n := uint32(f * f)
	for y := range dh {
		clear(acc)
		for k := range f {
			r := off + (y*f+k)*stride
			for i, v := range src[r : r+rowLen] {
				acc[i] += uint32(v)
			}
		}
		drow := dst[y*dw*ch : (y+1)*dw*ch]
		for x := range dw {
			for c := range ch {
				var s uint32
				base := x*f*ch + c
				for k := range f {
					s += acc[base+k*ch]
				}
				drow[x*ch+c] = uint8((s + n/2) / n)
			}
		}
	}
}

func clamp8(v float32) uint8 {
	v += 0.5
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v)
}

// fitSize returns the size of w×h scaled so the longer side is at most
// maxSide (never upscaled).
func fitSize(w, h, maxSide int) (int, int) {
	if maxSide <= 0 || (w <= maxSide && h <= maxSide) {
		return w, h
	}
	if w >= h {
		nh := int(float64(h)*float64(maxSide)/float64(w) + 0.5)
		return maxSide, max(nh, 1)
	}
	nw := int(float64(w)*float64(maxSide)/float64(h) + 0.5)
	return max(nw, 1), maxSide
}

// working returns img as an opaque *image.RGBA whose longer side is at most
// maxSide, downscaled once with a box (area-average) filter. Fast paths
// resample the planes of *image.YCbCr, *image.RGBA, opaque *image.NRGBA and
// *image.Gray directly; other types are converted row by row as they are
// resampled.
func working(img image.Image, maxSide int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := fitSize(sw, sh, maxSide)
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	switch m := img.(type) {
	case *image.YCbCr:
		yp := make([]uint8, dw*dh)
		resizeChannels(yp, m.Y, m.YOffset(b.Min.X, b.Min.Y), m.YStride, sw, sh, 1, dw, dh)
		// Chroma planes cover the same rectangle at their subsampled size.
		cw, chh := chromaSize(m.SubsampleRatio, b)
		cb := make([]uint8, dw*dh)
		cr := make([]uint8, dw*dh)
		coff := m.COffset(b.Min.X, b.Min.Y)
		resizeChannels(cb, m.Cb, coff, m.CStride, cw, chh, 1, dw, dh)
		resizeChannels(cr, m.Cr, coff, m.CStride, cw, chh, 1, dw, dh)
		for i := range yp {
			r, g, bb := color.YCbCrToRGB(yp[i], cb[i], cr[i])
			out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = r, g, bb, 255
		}
		return out
	case *image.Gray:
		gp := make([]uint8, dw*dh)
		resizeChannels(gp, m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, sw, sh, 1, dw, dh)
		for i, v := range gp {
			out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = v, v, v, 255
		}
		return out
	case *image.RGBA:
		resizeChannels(out.Pix, m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, sw, sh, 4, dw, dh)
	case *image.NRGBA:
		if m.Opaque() {
			resizeChannels(out.Pix, m.Pix, m.PixOffset(b.Min.X, b.Min.Y), m.Stride, sw, sh, 4, dw, dh)
			break
		}
		// Straight alpha must be premultiplied to composite over black.
		resizeRows(out.Pix, rgbaRows(img), sw, sh, dw, dh)
	default:
		resizeRows(out.Pix, rgbaRows(img), sw, sh, dw, dh)
	}
	// Every path above holds premultiplied colour (transparency composited
	// over black); make the result opaque, so later stages can read R, G, B
	// directly.
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	return out
}

func chromaSize(r image.YCbCrSubsampleRatio, b image.Rectangle) (int, int) {
	// Mirrors image.YCbCr's layout: chroma index of x is x/2 (4:2:x) etc.
	x0, y0, x1, y1 := b.Min.X, b.Min.Y, b.Max.X, b.Max.Y
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (x1+1)/2 - x0/2, y1 - y0
	case image.YCbCrSubsampleRatio420:
		return (x1+1)/2 - x0/2, (y1+1)/2 - y0/2
	case image.YCbCrSubsampleRatio440:
		return x1 - x0, (y1+1)/2 - y0/2
	case image.YCbCrSubsampleRatio411:
		return (x1+3)/4 - x0/4, y1 - y0
	case image.YCbCrSubsampleRatio410:
		return (x1+3)/4 - x0/4, (y1+1)/2 - y0/2
	}
	return x1 - x0, y1 - y0
}

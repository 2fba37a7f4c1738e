package visiontest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Family names a kind of pair.
type Family string

// The generated families. Reshot pairs are two independent photos of one
// scene; the others are a frontal photo and an edited copy of it.
const (
	Reshot        Family = "reshot"
	ReshotHard    Family = "reshot_hard"
	CropCentre    Family = "crop_centre"
	CropOffCentre Family = "crop_offcentre"
	Rotate        Family = "rotate"
	Scale         Family = "scale"
	Brightness    Family = "brightness"
	JPEGFamily    Family = "jpeg"
)

// Families lists every family in report order.
func Families() []Family {
	return []Family{Reshot, ReshotHard, CropCentre, CropOffCentre, Rotate, Scale, Brightness, JPEGFamily}
}

// Photometric reports whether f changes only pixel values, not geometry.
func (f Family) Photometric() bool { return f == Brightness || f == JPEGFamily }

// Options sizes the generated photos. The zero value is usable: it takes
// DefaultOptions.
type Options struct {
	// Width and Height of each photo in pixels (both zero for the default
	// 480×360; else at least 64×48, at most 8192×8192).
	Width, Height int
}

// DefaultOptions returns the size used for a zero Options: 480×360.
func DefaultOptions() Options { return Options{Width: 480, Height: 360} }

// ErrOptions reports an Options value out of range.
var ErrOptions = errors.New("visiontest: invalid options")

// Validate reports, with an error wrapping ErrOptions, a size outside
// 64×48 .. 8192×8192 or only one of Width and Height set.
func (o Options) Validate() error {
	if o.Width == 0 && o.Height == 0 {
		return nil
	}
	if o.Width < 64 || o.Height < 48 || o.Width > 8192 || o.Height > 8192 {
		return fmt.Errorf("%w: photo size %d×%d outside 64×48 .. 8192×8192", ErrOptions, o.Width, o.Height)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Width == 0 && o.Height == 0 {
		return DefaultOptions()
	}
	return o
}

// Re-shot pairs are two independent photos of one scene; ReshotHard widens
// the viewpoint change (coverage 40–90 %, shift ±20 %, rotation ±20°,
// perspective ±12 %) and the clutter (up to five occluders).

// Set holds n reference photos and n query photos of one family:
// Queries[i] shows the same place as Refs[i] and a different place from
// every Refs[j], j ≠ i. So a set yields n positive and n(n−1) negative pairs.
type Set struct {
	Family  Family        // how the queries were made
	Refs    []image.Image // reference (onboarding) photos, one per scene
	Queries []image.Image // query photos; Queries[i] shows Refs[i]'s scene
	// Views holds, for the re-shot families only, the ground truth of each
	// pair: Views[i][0] and Views[i][1] map a pixel position (x, y) of
	// Refs[i] and Queries[i] (pixel centres at +0.5) to the scene canvas
	// as a row-major 3×3 homography, so Views[i][1]⁻¹·Views[i][0] maps the
	// reference photo onto the query. Nil for the edit families.
	Views [][2][9]float64
}

// maxSetPixels bounds n × Width × Height in Generate: 2²⁸ pixels, for
// example 1 000 scenes at 640×420, about 2 GiB of RGBA photos.
const maxSetPixels = 1 << 28

// Generate renders a Set of n scenes (0 ≤ n ≤ 10 000) for family f. The
// same (f, n, opt, seed) always yields the same images. It fails for n or
// opt out of range (an error wrapping ErrOptions) and for an unknown family. Memory grows with
// n × Width × Height (the set holds 2n RGBA photos), which must not exceed
// 2²⁸ pixels: keep sets small.
func Generate(f Family, n int, opt Options, seed uint64) (Set, error) {
	if err := opt.Validate(); err != nil {
		return Set{}, err
	}
	opt = opt.withDefaults()
	if n < 0 || n > 10_000 {
		return Set{}, fmt.Errorf("visiontest: %d scenes outside 0 .. 10000", n)
	}
	// Each scene holds two photos and renders on a canvas four times their
	// size; bound the total so a caller cannot ask for terabytes.
	if px := int64(n) * int64(opt.Width) * int64(opt.Height); px > maxSetPixels {
		return Set{}, fmt.Errorf("visiontest: %d scenes of %d×%d exceed %d pixels in all", n, opt.Width, opt.Height, int64(maxSetPixels))
	}
	known := false
	for _, g := range Families() {
		known = known || g == f
	}
	if !known {
		return Set{}, fmt.Errorf("visiontest: unknown family %q", f)
	}
	s := Set{Family: f, Refs: make([]image.Image, n), Queries: make([]image.Image, n)}
	for i := range n {
		r := rand.New(rand.NewPCG(seed, uint64(i)*0x9e3779b97f4a7c15+familySalt(f)))
		// Canvas 2× the photo so views can move around it.
		sc := newScene(r, 2*opt.Width, 2*opt.Height)
		var err error
		if f == Reshot || f == ReshotHard {
			hard := f == ReshotHard
			if s.Views == nil {
				s.Views = make([][2][9]float64, n)
			}
			s.Views[i][0] = randomView(r, sc, opt, hard)
			a := shoot(r, sc, opt, s.Views[i][0], hard)
			s.Views[i][1] = randomView(r, sc, opt, hard)
			b := shoot(r, sc, opt, s.Views[i][1], hard)
			if s.Refs[i], err = jpegRoundTrip(a, 70+r.IntN(23)); err != nil {
				return Set{}, err
			}
			if s.Queries[i], err = jpegRoundTrip(b, 55+r.IntN(38)); err != nil {
				return Set{}, err
			}
			continue
		}
		frontal := homographyFromQuad(float64(opt.Width), float64(opt.Height),
			[4][2]float64{{0, 0}, {float64(sc.w), 0}, {float64(sc.w), float64(sc.h)}, {0, float64(sc.h)}})
		orig := sc.warp(frontal, opt.Width, opt.Height)
		if s.Refs[i], err = jpegRoundTrip(orig.toImage(), 90); err != nil {
			return Set{}, err
		}
		if s.Queries[i], err = edit(r, f, orig); err != nil {
			return Set{}, err
		}
	}
	return s, nil
}

func familySalt(f Family) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(f); i++ {
		h = (h ^ uint64(f[i])) * 1099511628211
	}
	return h
}

// randomView picks a camera pose: a quad on the canvas covering 55–85 % of
// its width, shifted up to 12 % from the centre, rotated up to ±10°, each
// corner jittered by up to 7 % for perspective (wider ranges when hard).
func randomView(r *rand.Rand, c *canvas, opt Options, hard bool) [9]float64 {
	cw, ch := float64(c.w), float64(c.h)
	lo, span, shift, rot, persp := 0.55, 0.3, 0.12, 10.0, 0.07
	if hard {
		lo, span, shift, rot, persp = 0.4, 0.5, 0.2, 20, 0.12
	}
	size := (lo + span*r.Float64()) * cw
	hw, hh := size/2, size/2*float64(opt.Height)/float64(opt.Width)
	cx := cw/2 + (r.Float64()*2-1)*shift*cw
	cy := ch/2 + (r.Float64()*2-1)*shift*ch
	th := (r.Float64()*2 - 1) * rot * math.Pi / 180
	co, si := math.Cos(th), math.Sin(th)
	corners := [4][2]float64{{-hw, -hh}, {hw, -hh}, {hw, hh}, {-hw, hh}}
	var q [4][2]float64
	for k, p := range corners {
		jx := (r.Float64()*2 - 1) * persp * size
		jy := (r.Float64()*2 - 1) * persp * size
		q[k] = [2]float64{cx + co*p[0] - si*p[1] + jx, cy + si*p[0] + co*p[1] + jy}
	}
	return homographyFromQuad(float64(opt.Width), float64(opt.Height), q)
}

// shoot renders the view and applies the conditions of one photo: exposure
// gain 0.45–1.4, gamma 0.75–1.3, colour cast ±10 %, an illumination ramp of
// up to ±25 %, up to three occluding objects (clutter, people), a box blur of
// radius 0–2 and Gaussian sensor noise of σ 0–6 grey levels.
func shoot(r *rand.Rand, sc *canvas, opt Options, h [9]float64, hard bool) *image.RGBA {
	v := sc.warp(h, opt.Width, opt.Height)
	occluders := 4
	if hard {
		occluders = 6
	}
	for range r.IntN(occluders) {
		ow := opt.Width/10 + r.IntN(opt.Width/5)
		oh := opt.Height/6 + r.IntN(opt.Height/3)
		ox, oy := r.IntN(opt.Width-ow), r.IntN(opt.Height-oh)
		col := randColour(r)
		v.rect(ox, oy, ox+ow, oy+oh, col)
		v.rect(ox+ow/4, oy+oh/5, ox+3*ow/4, oy+oh/3, shade(col, 0.6))
	}
	if rad := r.IntN(3); rad > 0 {
		v = boxBlur(v, rad)
	}
	gain := 0.45 + 0.95*r.Float64()
	gamma := 0.75 + 0.55*r.Float64()
	var cast [3]float64
	for k := range cast {
		cast[k] = 1 + (r.Float64()*2-1)*0.1
	}
	rx, ry := (r.Float64()*2-1)*0.25, (r.Float64()*2-1)*0.25
	sigma := 6 * r.Float64()
	for y := range v.h {
		for x := range v.w {
			ramp := 1 + rx*(float64(x)/float64(v.w)-0.5)*2 + ry*(float64(y)/float64(v.h)-0.5)*2
			i := 3 * (y*v.w + x)
			for k := range 3 {
				val := float64(v.p[i+k]) / 255
				val = math.Pow(max(val, 0), gamma) * gain * ramp * cast[k]
				val = val*255 + r.NormFloat64()*sigma
				v.p[i+k] = float32(val)
			}
		}
	}
	return v.toImage()
}

func boxBlur(c *canvas, rad int) *canvas {
	tmp := newCanvas(c.w, c.h)
	n := float32(2*rad + 1)
	for y := range c.h {
		for x := range c.w {
			for k := range 3 {
				var s float32
				for d := -rad; d <= rad; d++ {
					s += c.p[3*(y*c.w+min(max(x+d, 0), c.w-1))+k]
				}
				tmp.p[3*(y*c.w+x)+k] = s / n
			}
		}
	}
	out := newCanvas(c.w, c.h)
	for y := range c.h {
		for x := range c.w {
			for k := range 3 {
				var s float32
				for d := -rad; d <= rad; d++ {
					s += tmp.p[3*(min(max(y+d, 0), c.h-1)*c.w+x)+k]
				}
				out.p[3*(y*c.w+x)+k] = s / n
			}
		}
	}
	return out
}

// edit applies the classic edit of family f to the frontal photo:
// crops keep 80–90 % of each side (centred, or at a random offset),
// rotations turn 3–8° either way about the centre (black corners kept),
// scaling resizes by 0.5–1.5, brightness multiplies by 0.6–0.8 or
// 1.2–1.4, JPEG re-encodes at quality 20–50. Every output is JPEG-encoded
// (quality 85 unless the edit sets it).
func edit(r *rand.Rand, f Family, orig *canvas) (image.Image, error) {
	w, h := float64(orig.w), float64(orig.h)
	q := 85
	var out *canvas
	switch f {
	case CropCentre, CropOffCentre:
		k := 0.8 + 0.1*r.Float64()
		cw, chh := k*w, k*h
		x0, y0 := (w-cw)/2, (h-chh)/2
		if f == CropOffCentre {
			y0 = r.Float64() * (h - chh)
			// Push towards a side so it is clearly off-centre.
			if r.IntN(2) == 0 {
				x0 = (w - cw) * (0.85 + 0.15*r.Float64())
			} else {
				x0 = (w - cw) * 0.15 * r.Float64()
			}
		}
		out = orig.warp([9]float64{1, 0, x0, 0, 1, y0, 0, 0, 1}, int(cw), int(chh))
	case Rotate:
		a := (3 + 5*r.Float64()) * math.Pi / 180
		if r.IntN(2) == 0 {
			a = -a
		}
		co, si := math.Cos(a), math.Sin(a)
		cx, cy := w/2, h/2
		// Inverse map: output point → source point (rotation by −a about the centre).
		hm := [9]float64{co, si, cx - co*cx - si*cy, -si, co, cy + si*cx - co*cy, 0, 0, 1}
		out = orig.warp(hm, orig.w, orig.h)
	case Scale:
		s := 0.5 + r.Float64()
		nw, nh := int(w*s), int(h*s)
		out = orig.warp([9]float64{w / float64(nw), 0, 0, 0, h / float64(nh), 0, 0, 0, 1}, nw, nh)
	case Brightness:
		g := 0.6 + 0.2*r.Float64()
		if r.IntN(2) == 0 {
			g = 1.2 + 0.2*r.Float64()
		}
		out = newCanvas(orig.w, orig.h)
		for i, v := range orig.p {
			out.p[i] = v * float32(g)
		}
	case JPEGFamily:
		out = orig
		q = 20 + r.IntN(31)
	}
	return jpegRoundTrip(out.toImage(), q)
}

func jpegRoundTrip(m image.Image, q int) (image.Image, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	return jpeg.Decode(&b)
}

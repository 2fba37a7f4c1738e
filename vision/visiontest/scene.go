package visiontest

import (
	"image"
	"math"
	"math/rand/v2"
)

// canvas is a float RGB image, row-major, values 0..255.
type canvas struct {
	w, h int
	p    []float32 // 3 per pixel
}

func newCanvas(w, h int) *canvas { return &canvas{w: w, h: h, p: make([]float32, 3*w*h)} }

func (c *canvas) set(x, y int, col [3]float32) {
	if x < 0 || y < 0 || x >= c.w || y >= c.h {
		return
	}
	i := 3 * (y*c.w + x)
	c.p[i], c.p[i+1], c.p[i+2] = col[0], col[1], col[2]
}

func (c *canvas) rect(x0, y0, x1, y1 int, col [3]float32) {
	for y := max(y0, 0); y < min(y1, c.h); y++ {
		for x := max(x0, 0); x < min(x1, c.w); x++ {
			i := 3 * (y*c.w + x)
			c.p[i], c.p[i+1], c.p[i+2] = col[0], col[1], col[2]
		}
	}
}

func (c *canvas) disc(cx, cy, r float64, col [3]float32) {
	for y := int(cy - r); y <= int(cy+r)+1; y++ {
		for x := int(cx - r); x <= int(cx+r)+1; x++ {
			if (float64(x)-cx)*(float64(x)-cx)+(float64(y)-cy)*(float64(y)-cy) <= r*r {
				c.set(x, y, col)
			}
		}
	}
}

func (c *canvas) triangle(p [3][2]float64, col [3]float32) {
	x0 := int(math.Min(p[0][0], math.Min(p[1][0], p[2][0])))
	x1 := int(math.Max(p[0][0], math.Max(p[1][0], p[2][0]))) + 1
	y0 := int(math.Min(p[0][1], math.Min(p[1][1], p[2][1])))
	y1 := int(math.Max(p[0][1], math.Max(p[1][1], p[2][1]))) + 1
	edge := func(a, b [2]float64, x, y float64) float64 {
		return (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
	}
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			e0, e1, e2 := edge(p[0], p[1], fx, fy), edge(p[1], p[2], fx, fy), edge(p[2], p[0], fx, fy)
			if (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0) {
				c.set(x, y, col)
			}
		}
	}
}

func randColour(r *rand.Rand) [3]float32 {
	return [3]float32{float32(20 + r.IntN(220)), float32(20 + r.IntN(220)), float32(20 + r.IntN(220))}
}

func shade(col [3]float32, f float32) [3]float32 {
	return [3]float32{min(col[0]*f, 255), min(col[1]*f, 255), min(col[2]*f, 255)}
}

// valueNoise returns a smooth random field in [-1,1] sampled on a gx×gy grid.
func valueNoise(r *rand.Rand, gx, gy int) func(u, v float64) float64 {
	g := make([]float64, (gx+1)*(gy+1))
	for i := range g {
		g[i] = r.Float64()*2 - 1
	}
	return func(u, v float64) float64 {
		x, y := u*float64(gx), v*float64(gy)
		ix, iy := min(int(x), gx-1), min(int(y), gy-1)
		fx, fy := x-float64(ix), y-float64(iy)
		a := g[iy*(gx+1)+ix]*(1-fx) + g[iy*(gx+1)+ix+1]*fx
		b := g[(iy+1)*(gx+1)+ix]*(1-fx) + g[(iy+1)*(gx+1)+ix+1]*fx
		return a*(1-fy) + b*fy
	}
}

// newScene paints a synthetic shop interior seen frontally: a painted or
// tiled wall, shelves of labelled products, posters, a door and a wooden
// counter. Every element is drawn from r.
func newScene(r *rand.Rand, w, h int) *canvas {
	c := newCanvas(w, h)
	wall := randColour(r)
	noise := valueNoise(r, 6, 5)
	tiled := r.IntN(3) == 0
	tile := 16 + r.IntN(24)
	for y := range h {
		for x := range w {
			f := float32(1 + 0.12*noise(float64(x)/float64(w), float64(y)/float64(h)))
			col := shade(wall, f)
			if tiled && (x%tile == 0 || y%tile == 0) {
				col = shade(col, 0.7)
			}
			i := 3 * (y*w + x)
			c.p[i], c.p[i+1], c.p[i+2] = col[0], col[1], col[2]
		}
	}
	counterTop := h - h/5 - r.IntN(h/8)
	// Door or window.
	if r.IntN(2) == 0 {
		dw := w/8 + r.IntN(w/8)
		dx := r.IntN(w - dw)
		frame := randColour(r)
		c.rect(dx, h/8, dx+dw, counterTop, frame)
		c.rect(dx+6, h/8+6, dx+dw-6, counterTop, shade(randColour(r), 0.8))
		c.rect(dx+dw/2-2, h/8, dx+dw/2+2, counterTop, frame)
	}
	// Posters.
	for range 1 + r.IntN(3) {
		pw, ph := w/10+r.IntN(w/6), h/10+r.IntN(h/5)
		px, py := r.IntN(w-pw), r.IntN(max(counterTop-ph, 1))
		c.rect(px, py, px+pw, py+ph, randColour(r))
		for range 3 + r.IntN(6) {
			col := randColour(r)
			switch r.IntN(3) {
			case 0:
				c.disc(float64(px)+r.Float64()*float64(pw), float64(py)+r.Float64()*float64(ph), 4+r.Float64()*float64(pw)/5, col)
			case 1:
				var t [3][2]float64
				for k := range t {
					t[k] = [2]float64{float64(px) + r.Float64()*float64(pw), float64(py) + r.Float64()*float64(ph)}
				}
				c.triangle(t, col)
			default:
				x0, y0 := px+r.IntN(pw), py+r.IntN(ph)
				c.rect(x0, y0, x0+4+r.IntN(pw/3+1), y0+4+r.IntN(ph/3+1), col)
			}
		}
	}
	// Shelves with products.
	nShelves := 2 + r.IntN(3)
	sx0 := r.IntN(w / 3)
	sx1 := w - r.IntN(w/3)
	shelfCol := shade(randColour(r), 0.6)
	for s := range nShelves {
		y := h/10 + (s+1)*(counterTop-h/10)/(nShelves+1)
		c.rect(sx0, y, sx1, y+6, shelfCol)
		c.rect(sx0, y+6, sx1, y+9, shade(shelfCol, 0.5))
		for x := sx0 + 2; x < sx1-10; {
			pw := 10 + r.IntN(36)
			ph := 16 + r.IntN(max((counterTop-h/10)/(nShelves+1)-20, 8))
			if x+pw > sx1 {
				break
			}
			col := randColour(r)
			c.rect(x, y-ph, x+pw, y, col)
			lc := randColour(r)
			ly := y - ph + ph/4
			c.rect(x+2, ly, x+pw-2, ly+ph/3, lc)
			for k := range 1 + r.IntN(3) {
				tx := x + 3 + r.IntN(max(pw-10, 1))
				c.rect(tx, ly+2+4*k, tx+2+r.IntN(6), ly+4+4*k, shade(lc, 0.3))
			}
			if r.IntN(3) == 0 {
				c.disc(float64(x)+float64(pw)/2, float64(y-ph/4), float64(pw)/5, randColour(r))
			}
			x += pw + r.IntN(6)
		}
	}
	// Counter with wood grain.
	wood := [3]float32{float32(90 + r.IntN(80)), float32(50 + r.IntN(50)), float32(20 + r.IntN(30))}
	freq := 0.05 + 0.1*r.Float64()
	grain := valueNoise(r, 12, 3)
	for y := counterTop; y < h; y++ {
		for x := range w {
			g := math.Sin(float64(y)*freq*6+8*grain(float64(x)/float64(w), float64(y-counterTop)/float64(h-counterTop+1))) * 0.18
			c.set(x, y, shade(wood, float32(1+g)))
		}
	}
	c.rect(0, counterTop, w, counterTop+5, shade(wood, 1.3))
	// Things on the counter: a till, a card terminal, a jar.
	for range 2 + r.IntN(3) {
		ow, oh := 20+r.IntN(w/8), 20+r.IntN(h/8)
		ox := r.IntN(w - ow)
		col := randColour(r)
		c.rect(ox, counterTop-oh, ox+ow, counterTop+3, col)
		c.rect(ox+3, counterTop-oh+3, ox+ow-3, counterTop-oh/2, shade(col, 0.6))
		for k := 0; k+8 < ow; k += 8 {
			c.rect(ox+4+k, counterTop-oh/2+4, ox+8+k, counterTop-oh/2+8, shade(col, 1.4))
		}
	}
	return c
}

// sample returns the bilinear sample of c at (x, y), black outside.
func (c *canvas) sample(x, y float64) [3]float32 {
	x -= 0.5
	y -= 0.5
	ix, iy := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := float32(x-float64(ix)), float32(y-float64(iy))
	var out [3]float32
	for dy := 0; dy <= 1; dy++ {
		for dx := 0; dx <= 1; dx++ {
			px, py := ix+dx, iy+dy
			if px < 0 || py < 0 || px >= c.w || py >= c.h {
				continue
			}
			wx := fx
			if dx == 0 {
				wx = 1 - fx
			}
			wy := fy
			if dy == 0 {
				wy = 1 - fy
			}
			i := 3 * (py*c.w + px)
			out[0] += wx * wy * c.p[i]
			out[1] += wx * wy * c.p[i+1]
			out[2] += wx * wy * c.p[i+2]
		}
	}
	return out
}

// warp renders a w×h view in which output pixel (u, v) shows canvas point
// H·(u, v), with 2×2 supersampling.
func (c *canvas) warp(h [9]float64, w, hh int) *canvas {
	out := newCanvas(w, hh)
	offs := [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}}
	for v := range hh {
		for u := range w {
			var acc [3]float32
			for _, o := range offs {
				x, y := float64(u)+o[0], float64(v)+o[1]
				d := h[6]*x + h[7]*y + h[8]
				s := c.sample((h[0]*x+h[1]*y+h[2])/d, (h[3]*x+h[4]*y+h[5])/d)
				acc[0] += s[0] / 4
				acc[1] += s[1] / 4
				acc[2] += s[2] / 4
			}
			i := 3 * (v*w + u)
			out.p[i], out.p[i+1], out.p[i+2] = acc[0], acc[1], acc[2]
		}
	}
	return out
}

// homographyFromQuad returns H mapping the corners of the w×h rectangle
// (0,0), (w,0), (w,h), (0,h) to the quad q.
func homographyFromQuad(w, h float64, q [4][2]float64) [9]float64 {
	src := [4][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}}
	var a [8][9]float64
	for k := range 4 {
		x, y, u, v := src[k][0], src[k][1], q[k][0], q[k][1]
		a[2*k] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*k+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for col := range 8 {
		p := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		a[col], a[p] = a[p], a[col]
		for r := range 8 {
			if r == col {
				continue
			}
			f := a[r][col] / a[col][col]
			for k := col; k < 9; k++ {
				a[r][k] -= f * a[col][k]
			}
		}
	}
	var hm [9]float64
	for i := range 8 {
		hm[i] = a[i][8] / a[i][i]
	}
	hm[8] = 1
	return hm
}

// toImage converts to an opaque *image.RGBA.
func (c *canvas) toImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	for i := 0; i < c.w*c.h; i++ {
		m.Pix[4*i] = clamp(c.p[3*i])
		m.Pix[4*i+1] = clamp(c.p[3*i+1])
		m.Pix[4*i+2] = clamp(c.p[3*i+2])
		m.Pix[4*i+3] = 255
	}
	return m
}

func clamp(v float32) uint8 {
	v += 0.5
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}

package visiontest

import (
	"image"
	"math"
	"testing"
)

// TestViewsGroundTruth checks Set.Views: present for the re-shot families
// only, and right — luma sampled at corresponding points of the two photos
// of a pair (reference point mapped by Views[i][1]⁻¹·Views[i][0]) is
// strongly correlated, and much more than at points shifted by a tenth of
// the frame.
func TestViewsGroundTruth(t *testing.T) {
	t.Parallel()
	opt := Options{Width: 160, Height: 120}
	if s, err := Generate(CropCentre, 2, opt, 1); err != nil || s.Views != nil {
		t.Fatalf("crop_centre: Views %v, err %v", s.Views, err)
	}
	for _, f := range []Family{Reshot, ReshotHard} {
		s, err := Generate(f, 4, opt, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Views) != 4 {
			t.Fatalf("%s: %d views for 4 scenes", f, len(s.Views))
		}
		var sumTrue, sumShift float64
		for i := range s.Views {
			hab := mul3(inv3(s.Views[i][1]), s.Views[i][0])
			sumTrue += lumaCorrelation(s.Refs[i], s.Queries[i], hab, 0)
			sumShift += lumaCorrelation(s.Refs[i], s.Queries[i], hab, float64(opt.Width)/10)
		}
		ct, cs := sumTrue/4, sumShift/4
		t.Logf("%s: mean correlation %.2f at true correspondences, %.2f shifted", f, ct, cs)
		if ct < 0.4 || ct < cs+0.2 {
			t.Errorf("%s: correlation %.2f at true correspondences, %.2f shifted", f, ct, cs)
		}
	}
}

// lumaCorrelation is the Pearson correlation of luma at reference pixel
// centres and at their images under hab, moved right by shift pixels,
// over the points that land inside the query.
func lumaCorrelation(a, b image.Image, hab [9]float64, shift float64) float64 {
	luma := func(m image.Image, x, y int) float64 {
		r, g, bb, _ := m.At(x, y).RGBA()
		return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bb)
	}
	ba, bb := a.Bounds(), b.Bounds()
	var n, sx, sy, sxx, syy, sxy float64
	for y := ba.Min.Y; y < ba.Max.Y; y += 2 {
		for x := ba.Min.X; x < ba.Max.X; x += 2 {
			px, py := float64(x-ba.Min.X)+0.5, float64(y-ba.Min.Y)+0.5
			w := hab[6]*px + hab[7]*py + hab[8]
			u := (hab[0]*px+hab[1]*py+hab[2])/w + shift
			v := (hab[3]*px + hab[4]*py + hab[5]) / w
			qx, qy := int(math.Floor(u)), int(math.Floor(v))
			if qx < 0 || qy < 0 || qx >= bb.Dx() || qy >= bb.Dy() {
				continue
			}
			p, q := luma(a, x, y), luma(b, bb.Min.X+qx, bb.Min.Y+qy)
			n++
			sx += p
			sy += q
			sxx += p * p
			syy += q * q
			sxy += p * q
		}
	}
	if n < 10 {
		return 0
	}
	cov := sxy/n - sx/n*sy/n
	return cov / math.Sqrt((sxx/n-sx/n*sx/n)*(syy/n-sy/n*sy/n))
}

func mul3(p, q [9]float64) (r [9]float64) {
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[3*i+j] += p[3*i+k] * q[3*k+j]
			}
		}
	}
	return r
}

// inv3 inverts a 3×3 matrix by cofactors.
func inv3(m [9]float64) [9]float64 {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return [9]float64{A / det, -(b*i - c*h) / det, (b*f - c*e) / det, B / det, (a*i - c*g) / det, -(a*f - c*d) / det, C / det, -(a*h - b*g) / det, (a*e - b*d) / det}
}

package vision_test

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

// expose scales linear light by gain (with a 2.2 display gamma that is a
// scaling of the encoded values by gain^(1/2.2)) and adds Gaussian sensor
// noise of sigma grey levels, as a dim (or bright) exposure does.
func expose(m image.Image, gain, sigma float64, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, m, b.Min, draw.Src)
	f := math.Pow(gain, 1/2.2)
	for i := range out.Pix {
		if i%4 == 3 {
			out.Pix[i] = 255
			continue
		}
		v := float64(out.Pix[i])*f + r.NormFloat64()*sigma
		out.Pix[i] = uint8(min(max(math.Round(v), 0), 255))
	}
	return out
}

// blur applies a (2r+1)² box blur, separably.
func blur(m *image.RGBA, r int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	pass := func(src *image.RGBA, dx, dy int) *image.RGBA {
		out := image.NewRGBA(src.Rect)
		for y := range h {
			for x := range w {
				var s [3]int
				for k := -r; k <= r; k++ {
					xx, yy := min(max(x+k*dx, 0), w-1), min(max(y+k*dy, 0), h-1)
					i := src.PixOffset(xx, yy)
					s[0] += int(src.Pix[i])
					s[1] += int(src.Pix[i+1])
					s[2] += int(src.Pix[i+2])
				}
				n := 2*r + 1
				i := out.PixOffset(x, y)
				out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = uint8(s[0]/n), uint8(s[1]/n), uint8(s[2]/n), 255
			}
		}
		return out
	}
	return pass(pass(m, 1, 0), 0, 1)
}

func TestQualityGates(t *testing.T) {
	t.Parallel()
	// Under -race, where rendering dominates, the two re-shots every test
	// shares stand in for four freshly rendered photos.
	var s visiontest.Set
	var err error
	if raceEnabled {
		s, err = sharedReshot()
	} else {
		s, err = visiontest.Generate(visiontest.Reshot, 4, visiontest.Options{Width: 480, Height: 360}, 77)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range s.Queries {
		normal := vision.Quality(expose(m, 1, 1, uint64(i)))
		if !normal.OK() {
			t.Errorf("photo %d at normal exposure failed gates: %+v", i, normal)
		}
		// A genuine dim photo: a twentieth of the light, more sensor noise.
		dim := vision.Quality(expose(m, 0.05, 3, uint64(i)))
		if dim.Blurred || dim.Covered {
			t.Errorf("photo %d dim: %+v (a dim photo is not blurred)", i, dim)
		}
		dark := vision.Quality(expose(m, 0.004, 2, uint64(i)))
		if !dark.Dark || dark.Blurred {
			t.Errorf("photo %d very dark: %+v", i, dark)
		}
		// Out of focus: blur the optics, then add the sensor noise.
		soft := vision.Quality(expose(blur(expose(m, 1, 0, 0), 5), 1, 1, uint64(i)))
		if !soft.Blurred {
			t.Errorf("photo %d blurred: %+v", i, soft)
		}
		if normal.Sharpness <= soft.Sharpness {
			t.Errorf("photo %d: blur did not lower sharpness", i)
		}
	}
	black := image.NewRGBA(image.Rect(0, 0, 200, 150))
	for i := 3; i < len(black.Pix); i += 4 {
		black.Pix[i] = 255
	}
	q := vision.Quality(black)
	if !q.Covered || !q.Dark || q.Blurred {
		t.Errorf("black frame: %+v", q)
	}
	codes := map[string]bool{}
	for _, r := range q.Reasons() {
		codes[r.Code] = true
	}
	if !codes[vision.ReasonCovered] || !codes[vision.ReasonDark] || len(codes) != 2 {
		t.Errorf("black frame reasons %v", q.Reasons())
	}
	grey := image.NewGray(image.Rect(0, 0, 200, 150))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	if q := vision.Quality(grey); !q.Covered || q.Dark {
		t.Errorf("grey frame: %+v", q)
	}
	if q := vision.Quality(image.NewGray(image.Rect(0, 0, 32, 20000))); !q.Covered {
		t.Errorf("blank sliver: %+v", q)
	}
	if q := vision.Quality(nil); q.OK() || len(q.Reasons()) != 3 {
		t.Errorf("nil image: %+v", q)
	}
	// A finger over most of the lens: the uncovered strip does not save it.
	covered := expose(s.Queries[0], 1, 0, 0)
	for y := 0; y < covered.Rect.Dy(); y++ {
		for x := 0; x < covered.Rect.Dx()*9/10; x++ {
			covered.SetRGBA(x, y, color.RGBA{40, 20, 15, 255})
		}
	}
	if q := vision.Quality(covered); !q.Covered {
		t.Errorf("90%% covered lens: %+v", q)
	}
}

package vision

import (
	"fmt"
	"image"
	"math"

	"github.com/payedge/payedge/risk"
)

// QualityReport describes whether a photo is usable. All measures are taken
// on the luma of the image downscaled (box filter) to QualitySide on its
// longer side, so they do not depend on the camera's resolution.
type QualityReport struct {
	// Brightness is the mean luma in [0,1].
	Brightness float64
	// Contrast is the standard deviation of luma in [0,1].
	Contrast float64
	// Sharpness is the variance of the 4-neighbour Laplacian divided by the
	// luma variance. Dividing by contrast keeps a dim but sharp photo sharp
	// (both variances scale with the square of exposure).
	Sharpness float64
	// Flatness is the fraction of 16×16 blocks whose luma standard deviation
	// is below 2/255: near 1 for a covered lens or a blank frame.
	Flatness float64
	// Dark, Blurred and Covered are the failed gates.
	Dark, Blurred, Covered bool
}

// QualitySide is the longer side, in pixels, at which Quality measures.
const QualitySide = 320

// Quality gate thresholds, set on photos from package visiontest (12
// re-shot photos at 640×480, seed 77; exposure gains 0.02–1.5 in linear
// light with sensor noise): sharp photos measured Sharpness 0.084–5.9 at
// every exposure (dimmer photos measure higher, because noise is not
// divided away), while a 9×9 box blur at 640 px measured 0.009–0.036 at
// normal exposure. Brightness below 0.10 is where the darkest of those
// exposures (gain 0.02) lands.
const (
	darkBrightness   = 0.10
	blurSharpness    = 0.04
	coverFlatness    = 0.85
	coverContrast    = 0.015
	flatBlockStdDev  = 2.0 / 255
	qualityBlockSide = 16
)

// Quality measures brightness, contrast, sharpness and flatness of img and
// applies the gates. A nil image, one with a side under 3 pixels or one over
// MaxImagePixels reports everything zero and all gates failed.
func Quality(img image.Image) QualityReport {
	if img == nil || img.Bounds().Dx() < 3 || img.Bounds().Dy() < 3 || oversized(img.Bounds()) {
		return QualityReport{Dark: true, Blurred: true, Covered: true, Flatness: 1}
	}
	return qualityOfLuma(lumaPlane(working(img, QualitySide)))
}

func qualityOfLuma(l plane) QualityReport {
	var r QualityReport
	n := float64(len(l.p))
	var s, s2 float64
	for _, v := range l.p {
		f := float64(v)
		s += f
		s2 += f * f
	}
	mean := s / n
	variance := max(s2/n-mean*mean, 0)
	r.Brightness = mean / 255
	r.Contrast = math.Sqrt(variance) / 255

	var ls, ls2 float64
	m := 0
	for y := 1; y < l.h-1; y++ {
		for x := 1; x < l.w-1; x++ {
			i := y*l.w + x
			v := float64(l.p[i-1] + l.p[i+1] + l.p[i-l.w] + l.p[i+l.w] - 4*l.p[i])
			ls += v
			ls2 += v * v
			m++
		}
	}
	if m > 0 && variance > 1e-9 {
		lm := ls / float64(m)
		r.Sharpness = max(ls2/float64(m)-lm*lm, 0) / variance
	}

	flat, blocks := 0, 0
	for by := 0; by+qualityBlockSide <= l.h; by += qualityBlockSide {
		for bx := 0; bx+qualityBlockSide <= l.w; bx += qualityBlockSide {
			var bs, bs2 float64
			for y := by; y < by+qualityBlockSide; y++ {
				for _, v := range l.p[y*l.w+bx : y*l.w+bx+qualityBlockSide] {
					f := float64(v)
					bs += f
					bs2 += f * f
				}
			}
			k := float64(qualityBlockSide * qualityBlockSide)
			bm := bs / k
			sd := math.Sqrt(max(bs2/k-bm*bm, 0)) / 255
			if sd < flatBlockStdDev {
				flat++
			}
			blocks++
		}
	}
	if blocks > 0 {
		r.Flatness = float64(flat) / float64(blocks)
	} else {
		r.Flatness = 1
	}
	r.Dark = r.Brightness < darkBrightness
	r.Covered = r.Flatness > coverFlatness || r.Contrast < coverContrast
	r.Blurred = !r.Covered && r.Sharpness < blurSharpness
	return r
}

// OK reports whether every gate passed.
func (q QualityReport) OK() bool { return !q.Dark && !q.Blurred && !q.Covered }

// Reasons returns one risk.Reason per failed gate (vision.dark,
// vision.blurred, vision.covered).
func (q QualityReport) Reasons() []risk.Reason {
	var out []risk.Reason
	if q.Dark {
		out = append(out, risk.Reason{Code: ReasonDark, Detail: fmt.Sprintf("mean brightness %.3f below %.2f", q.Brightness, darkBrightness)})
	}
	if q.Blurred {
		out = append(out, risk.Reason{Code: ReasonBlurred, Detail: fmt.Sprintf("sharpness %.4f below %.3f", q.Sharpness, blurSharpness)})
	}
	if q.Covered {
		out = append(out, risk.Reason{Code: ReasonCovered, Detail: fmt.Sprintf("flatness %.2f, contrast %.4f: lens covered or blank frame", q.Flatness, q.Contrast)})
	}
	return out
}

// Reason codes produced by this package.
const (
	ReasonDark         = "vision.dark"
	ReasonBlurred      = "vision.blurred"
	ReasonCovered      = "vision.covered"
	ReasonUnknownScene = "vision.unknown_scene"
	ReasonSceneMatch   = "vision.scene_match"
)

package motion

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/payedge/payedge/motion/internal/detmath"
)

// TrainConfig controls Train. The zero value is usable.
type TrainConfig struct {
	// L2 is the ridge penalty λ on the weights (not the intercepts) in the
	// objective mean(cross-entropy) + λ/2·‖W‖². Default 2e-3 (chosen on
	// HAPT leave-subjects-out: 1e-3 → 0.9491/0.9513 per-window accuracy on
	// the two fold seeds, 2e-3 → 0.9501/0.9521, 5e-3 → 0.9487/0.9522 with
	// ECE rising to 0.035); negative means 0.
	L2 float64
	// MaxIterations bounds the L-BFGS iterations. Default 300.
	MaxIterations int
	// Tolerance stops training when the largest gradient component falls
	// below it. Default 1e-5.
	Tolerance float64
	// Features is the extraction configuration the examples' features were
	// computed with. Its Rate and GravityCutoff are stored in the model so that
	// the Assessor extracts features the same way.
	Features Config
	// AccelOnly trains on the accelerometer features alone: the gyroscope
	// features and has_gyro are ignored, so the model judges windows from
	// devices without a gyroscope on what they have rather than on zeros.
	AccelOnly bool
	// AccelCompanion also trains an accelerometer-only model on the same
	// examples (as with AccelOnly) and attaches it to the result, which then
	// hands windows without a gyroscope (has_gyro 0) to it. It doubles the
	// training time; the default model has one.
	AccelCompanion bool
}

// isGyroFeature reports whether feature j is computed from the gyroscope.
func isGyroFeature(j int) bool {
	n := featureNames[j]
	return n == "has_gyro" || strings.HasPrefix(n, "gyro_")
}

// DefaultTrainConfig returns the configuration the zero TrainConfig stands
// for.
func DefaultTrainConfig() TrainConfig { return TrainConfig{}.withDefaults() }

// Validate reports whether the configuration (after defaults) is usable:
// L2 finite, MaxIterations at most 100 000, Tolerance finite, Features
// valid. Errors wrap ErrConfig.
func (c TrainConfig) Validate() error {
	if err := c.Features.Validate(); err != nil {
		return err
	}
	d := c.withDefaults()
	switch {
	case math.IsNaN(d.L2) || math.IsInf(d.L2, 0) || d.L2 > 1e6:
		return fmt.Errorf("%w: L2 %v not finite or above 1e6", ErrConfig, c.L2)
	case d.MaxIterations > 100_000:
		return fmt.Errorf("%w: MaxIterations %d above 100000", ErrConfig, d.MaxIterations)
	case math.IsInf(d.Tolerance, 0):
		return fmt.Errorf("%w: Tolerance %v", ErrConfig, c.Tolerance)
	}
	return nil
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.L2 == 0 {
		c.L2 = 2e-3
	} else if c.L2 < 0 {
		c.L2 = 0
	}
	if c.MaxIterations <= 0 {
		c.MaxIterations = 300
	}
	if !(c.Tolerance > 0) {
		c.Tolerance = 1e-5
	}
	c.Features = c.Features.withDefaults()
	return c
}

// Train fits a Model to examples. Labels may be any non-empty strings of at
// most MaxLabelLen bytes; at least two distinct labels and at most MaxClasses
// are required. Features must be finite. Training is deterministic: the same
// examples in the same order give a bit-identical model on a given platform.
// Errors: ErrNoExamples, ErrLabel (a bad label), ErrOneClass,
// ErrTooManyClasses, ErrBadFeatures (a non-finite feature) and ErrConfig (if
// cfg.Features is invalid).
func Train(examples []Example, cfg TrainConfig) (*Model, error) {
	if len(examples) == 0 {
		return nil, ErrNoExamples
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	index := map[string]int{}
	var labels []string
	for i := range examples {
		l := examples[i].Label
		if err := checkLabel(l); err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
		if _, ok := index[l]; !ok {
			if len(labels) == MaxClasses {
				return nil, fmt.Errorf("%w: more than %d", ErrTooManyClasses, MaxClasses)
			}
			index[l] = -1
			labels = append(labels, l)
		}
		for j, v := range examples[i].Features {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: example %d, %s = %v", ErrBadFeatures, i, featureNames[j], v)
			}
		}
	}
	if len(labels) < 2 {
		return nil, fmt.Errorf("%w: only %q", ErrOneClass, labels[0])
	}
	slices.Sort(labels)
	for i, l := range labels {
		index[l] = i
	}
	m := &Model{labels: labels, rate: c.Features.Rate, cutoff: c.Features.GravityCutoff, accelOnly: c.AccelOnly}
	n := len(examples)
	y := make([]int, n)
	for i := range examples {
		y[i] = index[examples[i].Label]
	}

	// Transform parameters.
	col := make([]float64, n)
	for j := range NumFeatures {
		if c.AccelOnly && isGyroFeature(j) {
			m.tau[j] = 1 // center 0, invScale 0: z_j = 0, the feature is unused
			continue
		}
		for i := range examples {
			col[i] = math.Abs(examples[i].Features[j])
		}
		tau := quantileSelect(col, 0.5)
		if !(tau > 1e-12) {
			tau = 1
			for _, v := range col {
				if v > 0 {
					tau = min(tau, v)
				}
			}
		}
		m.tau[j] = tau
		var mean, sq float64
		for i := range examples {
			u := slog1p(examples[i].Features[j] / tau)
			col[i] = u
			mean += u
		}
		mean /= float64(n)
		for _, u := range col {
			sq += (u - mean) * (u - mean)
		}
		sd := math.Sqrt(sq / float64(n))
		m.center[j] = mean
		if sd > 1e-9 {
			m.invScale[j] = 1 / sd
		}
	}
	z := make([]float64, n*NumFeatures)
	for i := range examples {
		m.transform((*[NumFeatures]float64)(z[i*NumFeatures:]), &examples[i].Features)
	}

	k := len(labels)
	nw := k * NumFeatures
	obj := func(x, grad []float64) float64 {
		w, b := x[:nw], x[nw:]
		clear(grad)
		gw, gb := grad[:nw], grad[nw:]
		var loss float64
		var p [MaxClasses]float64
		for i := 0; i < n; i++ {
			zi := z[i*NumFeatures : (i+1)*NumFeatures]
			mx := math.Inf(-1)
			for c := 0; c < k; c++ {
				s := b[c] + dot4(w[c*NumFeatures:(c+1)*NumFeatures], zi)
				p[c] = s
				mx = max(mx, s)
			}
			var sum float64
			for c := 0; c < k; c++ {
				p[c] = detmath.Exp(p[c] - mx)
				sum += p[c]
			}
			loss += math.Log(sum) + mx - (math.Log(p[y[i]]) + mx)
			for c := 0; c < k; c++ {
				g := p[c] / sum
				if c == y[i] {
					g--
				}
				gb[c] += g
				row := gw[c*NumFeatures : (c+1)*NumFeatures]
				for j, v := range zi {
					row[j] += g * v
				}
			}
		}
		inv := 1 / float64(n)
		loss *= inv
		for i := range grad {
			grad[i] *= inv
		}
		var reg float64
		for i, v := range w {
			reg += v * v
			gw[i] += c.L2 * v
		}
		return loss + 0.5*c.L2*reg
	}
	x := make([]float64, nw+k)
	m.iterations = lbfgs(obj, x, c.MaxIterations, c.Tolerance)
	m.w = x[:nw:nw]
	m.b = x[nw:]
	if c.AccelCompanion && !c.AccelOnly {
		ac := cfg
		ac.AccelOnly, ac.AccelCompanion = true, false
		comp, err := Train(examples, ac)
		if err != nil {
			return nil, err
		}
		m.companion = comp
	}
	return m, nil
}

// slog1p returns sign(y)·ln(1+|y|) for finite y. The logarithm is split into
// exponent and mantissa m ∈ [1,2); ln m = 2·atanh(t), t = (m−1)/(m+1) ≤ 1/3,
// is summed to t⁷ (error < 3e-5), which is plenty for a feature transform
// and far cheaper than math.Log1p.
func slog1p(y float64) float64 {
	v := 1 + math.Abs(y)
	bits := math.Float64bits(v)
	e := int((bits>>52)&0x7ff) - 1023
	mant := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	t := (mant - 1) / (mant + 1)
	t2 := t * t
	l := float64(e)*math.Ln2 + 2*t*(1+t2*(1.0/3+t2*(1.0/5+t2*(1.0/7))))
	if y < 0 {
		return -l
	}
	return l
}

// lbfgs minimises f from x in place with limited-memory BFGS (Nocedal 1980;
// Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4 and 7.5) and
// a backtracking Armijo line search, returning the iterations used.
func lbfgs(f func(x, g []float64) float64, x []float64, maxIter int, tol float64) int {
	const mem = 10
	n := len(x)
	g := make([]float64, n)
	gNew := make([]float64, n)
	xNew := make([]float64, n)
	d := make([]float64, n)
	s := make([][]float64, 0, mem)
	yv := make([][]float64, 0, mem)
	rho := make([]float64, 0, mem)
	alpha := make([]float64, mem)
	dot := func(a, b []float64) float64 {
		var t float64
		for i := range a {
			t += a[i] * b[i]
		}
		return t
	}
	fx := f(x, g)
	for it := 1; it <= maxIter; it++ {
		gmax := 0.0
		for _, v := range g {
			gmax = max(gmax, math.Abs(v))
		}
		if gmax < tol {
			return it - 1
		}
		// Two-loop recursion: d = −H g.
		for i := range d {
			d[i] = -g[i]
		}
		for i := len(s) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dot(s[i], d)
			for j := range d {
				d[j] -= alpha[i] * yv[i][j]
			}
		}
		if l := len(s) - 1; l >= 0 {
			gamma := dot(s[l], yv[l]) / dot(yv[l], yv[l])
			for j := range d {
				d[j] *= gamma
			}
		}
		for i := range s {
			beta := rho[i] * dot(yv[i], d)
			for j := range d {
				d[j] += s[i][j] * (alpha[i] - beta)
			}
		}
		slope := dot(g, d)
		if !(slope < 0) {
			s, yv, rho = s[:0], yv[:0], rho[:0]
			for i := range d {
				d[i] = -g[i]
			}
			slope = dot(g, d)
		}
		step := 1.0
		if len(s) == 0 {
			step = 1 / math.Sqrt(-slope)
		}
		var fNew float64
		ok := false
		for range 50 {
			for i := range x {
				xNew[i] = x[i] + step*d[i]
			}
			fNew = f(xNew, gNew)
			if fNew <= fx+1e-4*step*slope {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			return it
		}
		var si, yi []float64
		if len(s) == mem {
			si, yi = s[0], yv[0]
			s, yv, rho = append(s[:0], s[1:]...), append(yv[:0], yv[1:]...), append(rho[:0], rho[1:]...)
		} else {
			si, yi = make([]float64, n), make([]float64, n)
		}
		for i := range x {
			si[i] = xNew[i] - x[i]
			yi[i] = gNew[i] - g[i]
		}
		if sy := dot(si, yi); sy > 1e-12 {
			s, yv, rho = append(s, si), append(yv, yi), append(rho, 1/sy)
		}
		copy(x, xNew)
		copy(g, gNew)
		conv := math.Abs(fx-fNew) <= 1e-12*max(1, math.Abs(fx))
		fx = fNew
		if conv {
			return it
		}
	}
	return maxIter
}

package motion

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/payedge/payedge/motion/internal/detmath"
)

// Errors from training, classification and model (de)serialisation.
var (
	ErrNoExamples     = errors.New("motion: no training examples")
	ErrOneClass       = errors.New("motion: training needs at least two classes")
	ErrTooManyClasses = errors.New("motion: too many classes")
	ErrLabel          = errors.New("motion: invalid label")
	ErrBadFeatures    = errors.New("motion: non-finite feature value")
	ErrModel          = errors.New("motion: malformed model encoding")
	ErrLayout         = errors.New("motion: model was trained on another feature layout")
	ErrNotTrained     = errors.New("motion: model not trained")
)

// Bounds on what a model may hold; UnmarshalBinary enforces them before
// allocating.
const (
	// MaxClasses is the largest number of classes a Model supports.
	MaxClasses = 64
	// MaxLabelLen is the longest label in bytes.
	MaxLabelLen = 64
)

// Example is one labelled window for training or evaluation.
type Example struct {
	Features Features // the window's features (Extract)
	// Label is the class, any non-empty string of at most MaxLabelLen bytes.
	Label string
	// Subject identifies the person (or device) that produced the window;
	// LeaveSubjectsOut and SplitBySubject keep each subject on one side.
	Subject string
}

// TrainConfig controls Train. The zero value is usable.
type TrainConfig struct {
	// L2 is the ridge penalty λ on the weights (not the intercepts) in the
	// objective mean(cross-entropy) + λ/2·‖W‖². Default 1e-3; negative means 0.
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
}

func (c TrainConfig) withDefaults() TrainConfig {
	if c.L2 == 0 {
		c.L2 = 1e-3
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

// Model is a multinomial logistic-regression classifier over Features with
// a per-feature variance-stabilising transform and standardisation:
//
//	u_j = sign(x_j)·ln(1 + |x_j|/τ_j),  z_j = (u_j − μ_j) / σ_j,
//	P(c|x) = softmax(W z + b)_c
//
// τ_j is the median |x_j| over the training set, μ_j and σ_j the mean and
// standard deviation of u_j. The signed logarithm is linear for small
// values and logarithmic for large ones, so that energies spanning five
// decades (a terminal on a counter versus one in a pocket) become usable by a
// linear model; it is computed with a fixed polynomial, so it is identical on
// every platform. A Model is immutable after Train or
// UnmarshalBinary and safe for concurrent use.
type Model struct {
	labels     []string
	rate       float64
	cutoff     float64
	tau        [NumFeatures]float64
	center     [NumFeatures]float64
	invScale   [NumFeatures]float64
	w          []float64 // len(labels) × NumFeatures, row-major
	b          []float64
	iterations int
}

// Labels returns the class labels in the model's order (the order of the
// probabilities ClassifyInto writes).
func (m *Model) Labels() []string { return slices.Clone(m.labels) }

// FeatureConfig returns the extraction configuration (defaults filled in)
// with the Rate and GravityCutoff the model was trained with.
func (m *Model) FeatureConfig() Config {
	return Config{Rate: m.rate, GravityCutoff: m.cutoff}.withDefaults()
}

// Iterations reports how many optimiser iterations training took (0 for a
// model decoded from bytes).
func (m *Model) Iterations() int { return m.iterations }

// transform maps raw features to the standardised vector z. Non-finite
// inputs map to 0, the training mean.
func (m *Model) transform(z *[NumFeatures]float64, f *Features) {
	for j, x := range f {
		y := x / m.tau[j]
		if math.IsNaN(y) || math.IsInf(y, 0) {
			z[j] = 0
			continue
		}
		z[j] = (slog1p(y) - m.center[j]) * m.invScale[j]
	}
}

// ClassifyInto writes the class probabilities, in Labels order, into probs
// (which must have len ≥ the number of classes) and returns the index of the
// most probable class. It does not allocate. Non-finite feature values are
// replaced by the training mean. It panics if probs is too short. An
// untrained (nil or zero) Model writes nothing and returns -1.
func (m *Model) ClassifyInto(f *Features, probs []float64) int {
	if m == nil || len(m.labels) == 0 {
		return -1
	}
	var z [NumFeatures]float64
	m.transform(&z, f)
	k := len(m.labels)
	probs = probs[:k]
	mx := math.Inf(-1)
	for c := 0; c < k; c++ {
		s := m.b[c] + dot4(m.w[c*NumFeatures:(c+1)*NumFeatures], z[:])
		probs[c] = s
		mx = max(mx, s)
	}
	var sum float64
	for c := range probs {
		probs[c] = math.Exp(probs[c] - mx)
		sum += probs[c]
	}
	best := 0
	for c := range probs {
		probs[c] /= sum
		if probs[c] > probs[best] {
			best = c
		}
	}
	return best
}

// Classify returns the most probable label and every label's probability.
// Ties go to the label listed first in Labels.
func (m *Model) Classify(f Features) (label string, probs map[string]float64) {
	if m == nil || len(m.labels) == 0 {
		return "", nil
	}
	var buf [MaxClasses]float64
	best := m.ClassifyInto(&f, buf[:])
	probs = make(map[string]float64, len(m.labels))
	for c, l := range m.labels {
		probs[l] = buf[c]
	}
	return m.labels[best], probs
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
	if err := cfg.Features.Validate(); err != nil {
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
	m := &Model{labels: labels, rate: c.Features.Rate, cutoff: c.Features.GravityCutoff}
	n := len(examples)
	y := make([]int, n)
	for i := range examples {
		y[i] = index[examples[i].Label]
	}

	// Transform parameters.
	col := make([]float64, n)
	for j := range NumFeatures {
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

func checkLabel(l string) error {
	if l == "" || len(l) > MaxLabelLen || !utf8.ValidString(l) {
		return fmt.Errorf("%w: %q (want 1–%d bytes of UTF-8)", ErrLabel, l, MaxLabelLen)
	}
	return nil
}

// Binary encoding, little-endian:
//
//	"PEMOTION" magic, version u8 = 1, layout fingerprint u64, feature count u32,
//	rate f64, gravity cutoff f64, class count u8, per class (length u8, bytes),
//	τ, μ, 1/σ (feature count f64 each), W (classes × features f64), b (classes f64).
const (
	modelMagic   = "PEMOTION"
	modelVersion = 1
)

// MarshalBinary encodes the model in a versioned little-endian format
// (magic "PEMOTION") that UnmarshalBinary reads back. It returns
// ErrNotTrained for a nil or untrained model and an error wrapping ErrModel
// when a parameter is outside its encodable range.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m == nil || len(m.labels) < 2 {
		return nil, ErrNotTrained
	}
	if err := m.checkParams(); err != nil {
		return nil, fmt.Errorf("%w: %v (train with a larger L2)", ErrModel, err)
	}
	k := len(m.labels)
	size := len(modelMagic) + 1 + 8 + 4 + 8 + 8 + 1
	for _, l := range m.labels {
		size += 1 + len(l)
	}
	size += 8 * (3*NumFeatures + k*NumFeatures + k)
	b := make([]byte, 0, size)
	b = append(b, modelMagic...)
	b = append(b, modelVersion)
	b = binary.LittleEndian.AppendUint64(b, layoutID())
	b = binary.LittleEndian.AppendUint32(b, NumFeatures)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.rate))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.cutoff))
	b = append(b, byte(k))
	for _, l := range m.labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	for _, arr := range [][]float64{m.tau[:], m.center[:], m.invScale[:], m.w, m.b} {
		for _, v := range arr {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b, nil
}

// UnmarshalBinary decodes a model written by MarshalBinary, checking every
// bound before allocating. Errors wrap ErrModel, or ErrLayout when the model
// was trained on a different feature layout.
func (m *Model) UnmarshalBinary(data []byte) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(f, a...)) }
	r := data
	take := func(n int) []byte {
		if len(r) < n {
			return nil
		}
		v := r[:n]
		r = r[n:]
		return v
	}
	if string(take(len(modelMagic))) != modelMagic {
		return bad("bad magic")
	}
	v := take(1)
	if v == nil || v[0] != modelVersion {
		return bad("unsupported version")
	}
	hdr := take(8 + 4 + 8 + 8 + 1)
	if hdr == nil {
		return bad("truncated header")
	}
	layout := binary.LittleEndian.Uint64(hdr)
	nf := binary.LittleEndian.Uint32(hdr[8:])
	if layout != layoutID() || nf != NumFeatures {
		return fmt.Errorf("%w: %d features, layout %016x (want %d, %016x)", ErrLayout, nf, layout, NumFeatures, layoutID())
	}
	rate := math.Float64frombits(binary.LittleEndian.Uint64(hdr[12:]))
	cutoff := math.Float64frombits(binary.LittleEndian.Uint64(hdr[20:]))
	if err := (Config{Rate: rate, GravityCutoff: cutoff}).Validate(); err != nil {
		return bad("feature configuration: %v", err)
	}
	k := int(hdr[28])
	if k < 2 || k > MaxClasses {
		return bad("%d classes", k)
	}
	labels := make([]string, k)
	for c := range labels {
		l := take(1)
		if l == nil {
			return bad("truncated labels")
		}
		s := take(int(l[0]))
		if s == nil {
			return bad("truncated labels")
		}
		labels[c] = string(s)
		if err := checkLabel(labels[c]); err != nil {
			return bad("%v", err)
		}
		if slices.Contains(labels[:c], labels[c]) {
			return bad("duplicate label %q", labels[c])
		}
	}
	want := 8 * (3*NumFeatures + k*NumFeatures + k)
	if len(r) != want {
		return bad("%d bytes of parameters, want %d", len(r), want)
	}
	var out Model
	out.labels, out.rate, out.cutoff = labels, rate, cutoff
	out.w = make([]float64, k*NumFeatures)
	out.b = make([]float64, k)
	for _, arr := range [][]float64{out.tau[:], out.center[:], out.invScale[:], out.w, out.b} {
		for j := range arr {
			arr[j] = math.Float64frombits(binary.LittleEndian.Uint64(take(8)))
		}
	}
	if err := out.checkParams(); err != nil {
		return bad("%v", err)
	}
	*m = out
	return nil
}

// Parameter bounds. Train produces values far inside them (standardised
// features, ridge-penalised weights); they guarantee that a decoded model's
// logits are finite, so its probabilities are never NaN.
const (
	maxTau      = 1e300
	maxCenter   = 1e3 // |slog1p| ≤ 710 for any finite input
	maxInvScale = 1e9 // Train leaves invScale 0 below σ = 1e-9
	maxWeight   = 1e6
)

func (m *Model) checkParams() error {
	for i, blk := range []struct {
		v      []float64
		lo, hi float64
		open   bool // lo excluded
	}{
		{m.tau[:], 0, maxTau, true},
		{m.center[:], -maxCenter, maxCenter, false},
		{m.invScale[:], 0, maxInvScale, false},
		{m.w, -maxWeight, maxWeight, false},
		{m.b, -maxWeight, maxWeight, false},
	} {
		for j, x := range blk.v {
			if !(x >= blk.lo && x <= blk.hi) || (blk.open && x == blk.lo) {
				return fmt.Errorf("parameter block %d entry %d is %v", i, j, x)
			}
		}
	}
	return nil
}

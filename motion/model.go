package motion

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
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
	// Sequence names the continuous recording the window was cut from
	// (RecordingExamples sets it); consecutive examples with the same
	// non-empty Sequence are consecutive windows, which CrossValidateSpan
	// aggregates. Empty means the window stands alone.
	Sequence string
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
	accelOnly  bool   // gyroscope features unused (invScale 0)
	companion  *Model // accelerometer-only model for windows without gyroscope
}

// AccelOnly reports whether the model ignores the gyroscope features (it
// was trained with TrainConfig.AccelOnly).
func (m *Model) AccelOnly() bool { return m != nil && m.accelOnly }

// AccelCompanion returns the accelerometer-only model that classifies
// windows without a gyroscope (has_gyro = 0) in place of m, or nil when m
// has none (TrainConfig.AccelCompanion).
func (m *Model) AccelCompanion() *Model {
	if m == nil {
		return nil
	}
	return m.companion
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
// most probable class. A window without gyroscope (has_gyro 0) goes to the
// accelerometer-only companion when m has one. It does not allocate.
// Non-finite feature values are
// replaced by the training mean. It panics if probs is too short. An
// untrained (nil or zero) Model writes nothing and returns -1.
func (m *Model) ClassifyInto(f *Features, probs []float64) int {
	if !m.trained() {
		return -1
	}
	if m.companion != nil && f[fHasGyro] == 0 {
		m = m.companion
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

// trained reports whether m holds a trained model (Train or
// UnmarshalBinary); the zero Model does not.
func (m *Model) trained() bool { return m != nil && len(m.labels) >= 2 }

// Classify returns the most probable label and every label's probability.
// Ties go to the label listed first in Labels. An untrained (nil or zero)
// Model returns "" and a nil map; Predict says so with ErrNotTrained.
func (m *Model) Classify(f Features) (label string, probs map[string]float64) {
	if !m.trained() {
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

// Predict is Classify with an error: ErrNotTrained for an untrained (nil or
// zero) Model, ErrBadFeatures when every feature is non-finite (a sign of
// a broken pipeline rather than of a window; single non-finite values are
// replaced by the training mean as in ClassifyInto).
func (m *Model) Predict(f Features) (label string, probs map[string]float64, err error) {
	if !m.trained() {
		return "", nil, ErrNotTrained
	}
	finite := false
	for _, v := range f {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = true
			break
		}
	}
	if !finite {
		return "", nil, fmt.Errorf("%w: every feature is NaN or infinite", ErrBadFeatures)
	}
	label, probs = m.Classify(f)
	return label, probs, nil
}

func checkLabel(l string) error {
	if l == "" || len(l) > MaxLabelLen || !utf8.ValidString(l) {
		return fmt.Errorf("%w: %q (want 1–%d bytes of UTF-8)", ErrLabel, l, MaxLabelLen)
	}
	return nil
}

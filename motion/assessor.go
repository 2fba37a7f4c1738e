package motion

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/payedge/payedge/risk"
)

// Reason codes the Assessor reports.
const (
	ReasonVehicle          = "motion.vehicle"
	ReasonWalking          = "motion.walking"
	ReasonInsufficientData = "motion.insufficient_data"
)

// Source is the risk.Signal source name of the Assessor.
const Source = "motion"

// DefaultPlausibility returns the default per-class probability that a
// payment made in that motion state is genuine: a terminal on a counter or
// held steady by a cashier is normal, one carried by a walking person is
// unusual (delivery drivers do it), one riding in a vehicle is suspicious.
func DefaultPlausibility() map[string]float64 {
	return map[string]float64{"counter": 0.97, "handheld": 0.95, "walking": 0.6, "vehicle": 0.2}
}

// Assessor turns a window of motion samples into a risk.Signal. It
// implements risk.Scorer[[]Sample] and is safe for concurrent use. Its
// fields are read once, on the first call; later changes have no effect.
//
// The Signal's Confidence is Σ_c P(c | window)·Plausibility[c]: the
// classifier's calibrated class probabilities weighted by how plausible a
// genuine payment is in each class.
type Assessor struct {
	// Model classifies windows; nil means DefaultModel.
	Model *Model
	// Window holds the validation limits (MinDuration, MaxGap, MaxAccel …).
	// Its Rate and GravityCutoff are ignored: the model's are used.
	Window Config
	// Plausibility maps a class to P(genuine | class); nil means
	// DefaultPlausibility. Classes missing from the map use
	// UnknownPlausibility.
	Plausibility map[string]float64
	// UnknownPlausibility applies to classes missing from Plausibility;
	// 0 means the default 0.5.
	UnknownPlausibility float64
	// InsufficientConfidence is the Confidence reported when the window
	// holds too little data to judge (too few samples, too short, a gap, too
	// low a rate); 0 means the default 0.5, which a naive-Bayes fusion treats
	// as no evidence.
	InsufficientConfidence float64
	// ReasonThreshold is the class probability at or above which the
	// vehicle and walking reasons are reported (they are also reported when
	// the class is the most probable); 0 means the default 0.5.
	ReasonThreshold float64

	once  sync.Once
	err   error
	model *Model
	cfg   Config
	plaus []float64 // per model class
	pool  sync.Pool
}

var _ risk.Scorer[[]Sample] = (*Assessor)(nil)

func (a *Assessor) init() {
	a.model = a.Model
	if a.model == nil {
		a.model, a.err = DefaultModel()
		if a.err != nil {
			return
		}
	}
	c := a.Window
	c.Rate, c.GravityCutoff = a.model.rate, a.model.cutoff
	if a.err = c.Validate(); a.err != nil {
		return
	}
	a.cfg = c.withDefaults()
	for l, p := range a.Plausibility {
		if !(p >= 0 && p <= 1) {
			a.err = fmt.Errorf("%w: plausibility of %q is %v, not in [0, 1]", ErrConfig, l, p)
			return
		}
	}
	for name, p := range map[string]float64{"UnknownPlausibility": a.UnknownPlausibility,
		"InsufficientConfidence": a.InsufficientConfidence, "ReasonThreshold": a.ReasonThreshold} {
		if !(p >= 0 && p <= 1) {
			a.err = fmt.Errorf("%w: %s %v not in [0, 1]", ErrConfig, name, p)
			return
		}
	}
	plaus := a.Plausibility
	if plaus == nil {
		plaus = DefaultPlausibility()
	}
	unknown := a.orDefault(a.UnknownPlausibility, 0.5)
	for _, l := range a.model.labels {
		p, ok := plaus[l]
		if !ok {
			p = unknown
		}
		a.plaus = append(a.plaus, p)
	}
	a.pool.New = func() any {
		e, _ := NewExtractor(a.cfg) // cfg validated above
		return e
	}
}

// Score implements risk.Scorer: it validates and classifies the window.
// A window with too little data yields a neutral Signal with reason
// motion.insufficient_data and a nil error; a corrupt window (NaN or
// infinite values, magnitudes beyond the sensor range, timestamps going
// backwards or repeated, too many samples) yields an error wrapping the
// Err… sentinel, which the host should treat as tampering or a faulty
// terminal. An Assessor whose fields are invalid (a plausibility or
// threshold outside [0, 1], bad Window limits) fails every call with an
// error wrapping ErrConfig. ctx is checked before work starts, and a done
// ctx returns ctx.Err().
func (a *Assessor) Score(ctx context.Context, samples []Sample) (risk.Signal, error) {
	if err := ctx.Err(); err != nil {
		return risk.Signal{}, err
	}
	a.once.Do(a.init)
	if a.err != nil {
		return risk.Signal{}, a.err
	}
	e := a.pool.Get().(*Extractor)
	var f Features
	err := e.ExtractInto(&f, samples)
	a.pool.Put(e)
	if err != nil {
		if IsInsufficient(err) {
			return risk.Signal{
				Source:     Source,
				Confidence: a.orDefault(a.InsufficientConfidence, 0.5),
				Reasons:    []risk.Reason{{Code: ReasonInsufficientData, Detail: err.Error()}},
			}, nil
		}
		return risk.Signal{}, err
	}
	return a.signal(&f), nil
}

// Assess is Score under a name that reads well at call sites; same result,
// same errors.
func (a *Assessor) Assess(ctx context.Context, samples []Sample) (risk.Signal, error) {
	return a.Score(ctx, samples)
}

// ScoreFeatures turns already extracted features into a Signal. Its only
// errors are an invalid Assessor (ErrConfig, as for Score) and a failure to
// load the default model.
func (a *Assessor) ScoreFeatures(f Features) (risk.Signal, error) {
	a.once.Do(a.init)
	if a.err != nil {
		return risk.Signal{}, a.err
	}
	return a.signal(&f), nil
}

func (a *Assessor) orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

func (a *Assessor) signal(f *Features) risk.Signal {
	var probs [MaxClasses]float64
	labels := a.model.labels
	best := a.model.ClassifyInto(f, probs[:])
	var conf float64
	for c, p := range a.plaus {
		conf += probs[c] * p
	}
	thr := a.orDefault(a.ReasonThreshold, 0.5)
	var reasons []risk.Reason
	for _, r := range [...]struct{ label, code string }{{"vehicle", ReasonVehicle}, {"walking", ReasonWalking}} {
		c := slices.Index(labels, r.label)
		if c >= 0 && (probs[c] >= thr || c == best) {
			reasons = append(reasons, risk.Reason{Code: r.code,
				Detail: fmt.Sprintf("P(%s) = %.3f", r.label, probs[c])})
		}
	}
	return risk.Signal{Source: Source, Confidence: min(max(conf, 0), 1), Reasons: reasons}
}

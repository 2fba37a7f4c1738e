package motion

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/payedge/payedge/risk"
)

// Source is the risk.Signal source name of the Assessor.
const Source = "motion"

// Reason codes the Assessor reports. The class reasons name the movement
// state behind the confidence; ReasonInsufficientData comes with the neutral
// confidence of a window too short or too sparse to judge.
const (
	ReasonCounter          = "motion.counter"
	ReasonHandheld         = "motion.handheld"
	ReasonWalking          = "motion.walking"
	ReasonVehicle          = "motion.vehicle"
	ReasonInsufficientData = "motion.insufficient_data"
)

// Input is what the Assessor scores: the samples of one payment, from one
// window (DefaultWindow, at least AssessorConfig.Window.MinDuration) up to
// Window.MaxDuration; see Assessor.Classify for how a longer input is cut
// into windows.
type Input = []Sample

// DefaultPlausibility returns the default per-class confidence, on the
// neutral scale of risk.Signal: the confidence that this motion state alone
// gives a payment starting from even odds, so that p/(1−p) is the state's
// likelihood ratio P(state | genuine) / P(state | fraud).
//
//   - counter 0.8 (LR 4): the usual state of a counter-top or merchant's
//     terminal; a fraudster's terminal can lie on a table too, so the
//     evidence is moderate;
//   - handheld 0.75 (LR 3): a cashier or waiter presenting the terminal;
//   - walking 0.4 (LR 0.67): delivery drivers do take payments walking, but
//     a terminal carried while it reads a card is more often a relay or
//     skimming set-up than a checkout;
//   - vehicle 0.15 (LR 0.18): riding in a vehicle during a card read is the
//     pattern of relay attacks on public transport and of mobile skimming.
//
// These are priors of judgement, not measured rates: a host with labelled
// outcomes should measure the per-class likelihood ratios and set them.
func DefaultPlausibility() map[string]float64 {
	return map[string]float64{"counter": 0.8, "handheld": 0.75, "walking": 0.4, "vehicle": 0.15}
}

// AssessorConfig configures an Assessor. The zero value is usable: every
// zero field takes the default documented on it (DefaultAssessorConfig
// returns them filled in).
type AssessorConfig struct {
	// Window holds the validation limits (MinDuration, MaxGap, MaxAccel …).
	// Its Rate and GravityCutoff are ignored: the model's are used.
	Window Config
	// Plausibility maps a class to its confidence on the neutral scale (see
	// DefaultPlausibility, the default when nil). Classes missing from the
	// map use UnknownPlausibility.
	Plausibility map[string]float64
	// UnknownPlausibility applies to classes missing from Plausibility;
	// 0 means the default 0.5 (no evidence).
	UnknownPlausibility float64
	// InsufficientConfidence is the Confidence reported when the input
	// holds too little data to judge (too few samples, too short, a gap, too
	// low a rate); 0 means the default 0.5, which fusion treats as no
	// evidence.
	InsufficientConfidence float64
	// ReasonThreshold is the class probability at or above which a class
	// reason is reported (the most probable class is always reported);
	// 0 means the default 0.5.
	ReasonThreshold float64
}

// DefaultAssessorConfig returns the configuration the zero AssessorConfig
// stands for.
func DefaultAssessorConfig() AssessorConfig {
	return AssessorConfig{
		Window:                 DefaultConfig(),
		Plausibility:           DefaultPlausibility(),
		UnknownPlausibility:    0.5,
		InsufficientConfidence: 0.5,
		ReasonThreshold:        0.5,
	}
}

func (c AssessorConfig) withDefaults() AssessorConfig {
	c.Window = c.Window.withDefaults()
	if c.Plausibility == nil {
		c.Plausibility = DefaultPlausibility()
	}
	for _, p := range []*float64{&c.UnknownPlausibility, &c.InsufficientConfidence, &c.ReasonThreshold} {
		if *p == 0 {
			*p = 0.5
		}
	}
	return c
}

// Validate reports whether the configuration (after defaults) is usable;
// errors wrap ErrConfig. Every plausibility and the three scalar settings
// must lie in [0, 1]; Window must be valid (Config.Validate).
func (c AssessorConfig) Validate() error {
	if err := c.Window.Validate(); err != nil {
		return err
	}
	labels := make([]string, 0, len(c.Plausibility))
	for l := range c.Plausibility {
		labels = append(labels, l)
	}
	slices.Sort(labels) // a deterministic error for several bad entries
	for _, l := range labels {
		if p := c.Plausibility[l]; !(p >= 0 && p <= 1) {
			return fmt.Errorf("%w: plausibility of %q is %v, not in [0, 1]", ErrConfig, l, p)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"UnknownPlausibility", c.UnknownPlausibility}, {"InsufficientConfidence", c.InsufficientConfidence}, {"ReasonThreshold", c.ReasonThreshold}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("%w: %s %v not in [0, 1]", ErrConfig, f.name, f.v)
		}
	}
	return nil
}

// Assessor turns the motion samples of a payment into a risk.Signal. It
// implements risk.Scorer[Input] and is safe for concurrent use. Build one
// with NewAssessor; the zero value is usable and stands for
// NewAssessor(AssessorConfig{}, nil) (the default model and configuration),
// loaded on first use, and a struct literal with the deprecated fields
// below works as before (an invalid one fails every call with ErrConfig).
//
// The Signal's Confidence is Σ_c P(c | input)·Plausibility[c]: by the law
// of total probability, the confidence at the neutral reference when the
// motion state is what matters, weighted by the classifier's calibrated
// class probabilities.
type Assessor struct {
	// Model, Window, Plausibility, UnknownPlausibility,
	// InsufficientConfidence and ReasonThreshold configure an Assessor
	// built as a struct literal; they are read once, on first use, and
	// ignored by an Assessor from NewAssessor.
	//
	// Deprecated: use NewAssessor(AssessorConfig{…}, model), which reports
	// a bad configuration when it is built rather than on every call.
	Model *Model
	// Deprecated: see Model; AssessorConfig.Window.
	Window Config
	// Deprecated: see Model; AssessorConfig.Plausibility.
	Plausibility map[string]float64
	// Deprecated: see Model; AssessorConfig.UnknownPlausibility.
	UnknownPlausibility float64
	// Deprecated: see Model; AssessorConfig.InsufficientConfidence.
	InsufficientConfidence float64
	// Deprecated: see Model; AssessorConfig.ReasonThreshold.
	ReasonThreshold float64

	once  sync.Once
	err   error
	cfg   AssessorConfig // defaults filled in
	model *Model
	plaus []float64 // per model class
	pool  sync.Pool
}

var _ risk.Scorer[Input] = (*Assessor)(nil)

// NewAssessor returns an Assessor that classifies with model (nil means
// DefaultModel) under cfg. An invalid cfg is an error wrapping ErrConfig;
// an untrained model is ErrNotTrained.
func NewAssessor(cfg AssessorConfig, model *Model) (*Assessor, error) {
	a := &Assessor{}
	a.once.Do(func() { a.init(cfg, model) })
	if a.err != nil {
		return nil, a.err
	}
	return a, nil
}

func (a *Assessor) init(cfg AssessorConfig, model *Model) {
	if model == nil {
		model, a.err = DefaultModel()
		if a.err != nil {
			return
		}
	}
	if !model.trained() {
		a.err = ErrNotTrained
		return
	}
	a.model = model
	cfg.Window.Rate, cfg.Window.GravityCutoff = model.rate, model.cutoff
	if a.err = cfg.Validate(); a.err != nil {
		return
	}
	a.cfg = cfg.withDefaults()
	for _, l := range model.labels {
		p, ok := a.cfg.Plausibility[l]
		if !ok {
			p = a.cfg.UnknownPlausibility
		}
		a.plaus = append(a.plaus, p)
	}
	wcfg := a.cfg.Window
	a.pool.New = func() any {
		e, _ := NewExtractor(wcfg) // validated above
		return e
	}
}

func (a *Assessor) ready() error {
	a.once.Do(func() {
		a.init(AssessorConfig{Window: a.Window, Plausibility: a.Plausibility,
			UnknownPlausibility: a.UnknownPlausibility, InsufficientConfidence: a.InsufficientConfidence,
			ReasonThreshold: a.ReasonThreshold}, a.Model)
	})
	return a.err
}

// Config returns the Assessor's configuration with defaults filled in (the
// zero AssessorConfig before first use of a zero Assessor).
func (a *Assessor) Config() AssessorConfig {
	if a.ready() != nil {
		return AssessorConfig{}
	}
	c := a.cfg
	c.Plausibility = cloneMap(c.Plausibility)
	return c
}

func cloneMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Score implements risk.Scorer: it validates and classifies the input.
// Too little data yields a neutral Signal (InsufficientConfidence, 0.5 by
// default) with reason motion.insufficient_data and a nil error; a corrupt
// input (NaN or infinite values, magnitudes beyond the sensor range,
// timestamps going backwards or repeated, too many samples) yields an error
// wrapping the Err… sentinel, which the host should treat as tampering or a
// faulty terminal. ctx is checked before work starts, and a done ctx
// returns ctx.Err().
func (a *Assessor) Score(ctx context.Context, in Input) (risk.Signal, error) {
	r, err := a.Classify(ctx, in)
	return r.Signal, err
}

// Assess is Score under a name that reads well at call sites; same result,
// same errors.
func (a *Assessor) Assess(ctx context.Context, in Input) (risk.Signal, error) {
	return a.Score(ctx, in)
}

// Result is the Assessor's full answer for one input: the most probable
// class, every class's probability, how many windows were classified and
// the Signal that Score returns.
type Result struct {
	Label   string             // most probable class; "" when insufficient
	Probs   map[string]float64 // class probabilities; nil when insufficient
	Windows int                // windows classified (0 when insufficient)
	Signal  risk.Signal
}

// Classify is Score with the class behind the Signal. An input of up to
// DefaultWindow+DefaultHop (3.84 s) is one window; a longer one (a payment
// that spans several windows) is cut into windows of DefaultWindow every
// DefaultHop, as the model was trained, and the class probabilities are
// averaged over them. Errors are those of Score.
func (a *Assessor) Classify(ctx context.Context, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := a.ready(); err != nil {
		return Result{}, err
	}
	e := a.pool.Get().(*Extractor)
	defer a.pool.Put(e)
	var f Features
	var probs, sum [MaxClasses]float64
	k := len(a.model.labels)
	info, err := validateWindow(in, a.cfg.Window)
	if err == nil && info.Duration <= DefaultWindow+DefaultHop {
		err = e.ExtractInto(&f, in)
		if err == nil {
			a.model.ClassifyInto(&f, probs[:])
			return a.result(probs[:k], 1), nil
		}
	}
	if err != nil {
		return a.insufficient(err)
	}
	rec := Recording{Samples: in}
	ws, _ := rec.Windows(DefaultWindow, DefaultHop) // constant, valid d and hop
	n := 0
	for _, w := range ws {
		if err := e.ExtractInto(&f, w); err != nil {
			continue // a sub-window of a valid input is only ever too short
		}
		a.model.ClassifyInto(&f, probs[:])
		for c := range k {
			sum[c] += probs[c]
		}
		n++
	}
	if n == 0 {
		return a.insufficient(&WindowError{Err: ErrTooShort, Index: -1, Detail: "no complete window"})
	}
	for c := range k {
		sum[c] /= float64(n)
	}
	return a.result(sum[:k], n), nil
}

// insufficient turns a window error into the neutral Result, or returns a
// corrupt window's error.
func (a *Assessor) insufficient(err error) (Result, error) {
	if !IsInsufficient(err) {
		return Result{}, err
	}
	return Result{Signal: risk.Signal{
		Source:     Source,
		Confidence: a.cfg.InsufficientConfidence,
		Reasons:    []risk.Reason{{Code: ReasonInsufficientData, Detail: err.Error()}},
	}}, nil
}

// ScoreFeatures turns already extracted features into a Signal. Its only
// errors are an invalid configuration (ErrConfig) and a failure to load the
// default model.
func (a *Assessor) ScoreFeatures(f Features) (risk.Signal, error) {
	if err := a.ready(); err != nil {
		return risk.Signal{}, err
	}
	var probs [MaxClasses]float64
	a.model.ClassifyInto(&f, probs[:])
	return a.result(probs[:len(a.model.labels)], 1).Signal, nil
}

var classReasons = map[string]string{
	"counter": ReasonCounter, "handheld": ReasonHandheld,
	"walking": ReasonWalking, "vehicle": ReasonVehicle,
}

// result turns class probabilities (model order) into a Result.
func (a *Assessor) result(probs []float64, windows int) Result {
	labels := a.model.labels
	best := 0
	var conf float64
	for c, p := range probs {
		conf += p * a.plaus[c]
		if p > probs[best] {
			best = c
		}
	}
	r := Result{Label: labels[best], Probs: make(map[string]float64, len(labels)), Windows: windows}
	for c, l := range labels {
		r.Probs[l] = probs[c]
	}
	var reasons []risk.Reason
	for c, l := range labels {
		code, ok := classReasons[l]
		if !ok || !(probs[c] >= a.cfg.ReasonThreshold || c == best) {
			continue
		}
		reasons = append(reasons, risk.Reason{Code: code,
			Detail: fmt.Sprintf("P(%s) = %.3f, class confidence %.2f", l, probs[c], a.plaus[c])})
	}
	if math.IsNaN(conf) {
		conf = 0.5
	}
	r.Signal = risk.Signal{Source: Source, Confidence: min(max(conf, 0), 1), Reasons: reasons}
	return r
}

package risk

import (
	"fmt"
	"math"
	"slices"
)

// DefaultEpsilon is the default clamp: confidences and the prior are
// limited to [DefaultEpsilon, 1-DefaultEpsilon] before fusion, so that no
// single signal can move the fused log-odds by more than about ±6.9
// (a likelihood ratio of 999:1) and none can force certainty.
const DefaultEpsilon = 1e-3

// MaxWeight bounds a fusion weight, so that no configuration can overflow
// the log-odds sum.
const MaxWeight = 1000

// FuseConfig configures a Fuser. The zero value fuses every source with
// weight 1 and clamps with DefaultEpsilon.
type FuseConfig struct {
	// Weights scales the log-likelihood ratio of each source, keyed by
	// Signal.Source. Sources not listed weigh 1. Use weights below 1 for
	// sources whose evidence is correlated (for example two cameras
	// looking at the same counter: 0.5 each), 0 to ignore a source.
	// Weights must lie in [0, MaxWeight].
	Weights map[string]float64
	// Epsilon clamps confidences and the prior to [Epsilon, 1-Epsilon].
	// Zero selects DefaultEpsilon. A host that wants a single signal to be
	// able to force (near) certainty sets a tiny Epsilon such as 1e-12;
	// Epsilon must lie in [1e-15, 0.5).
	Epsilon float64
}

// DefaultFuseConfig returns the settings the zero FuseConfig selects:
// every source weight 1, clamp DefaultEpsilon.
func DefaultFuseConfig() FuseConfig { return FuseConfig{Epsilon: DefaultEpsilon} }

// Validate reports whether c is usable: an Epsilon outside [1e-15, 0.5)
// is an error wrapping ErrConfig, a weight outside [0, MaxWeight] (or NaN)
// one wrapping ErrWeight.
func (c FuseConfig) Validate() error {
	if c.Epsilon != 0 && !(c.Epsilon >= 1e-15 && c.Epsilon < 0.5) {
		return fmt.Errorf("%w: FuseConfig.Epsilon %v not in [1e-15, 0.5)", ErrConfig, c.Epsilon)
	}
	for src, w := range c.Weights {
		if math.IsNaN(w) || w < 0 || w > MaxWeight {
			return fmt.Errorf("%w: source %q weight %v", ErrWeight, truncate(src, 64), w)
		}
	}
	return nil
}

// Fuser fuses signals by naive-Bayes log-likelihood-ratio summation around a
// prior:
//
//	logit(P) = logit(prior) + Σ wᵢ·logit(cᵢ)
//
// where cᵢ is signal i's Confidence (clamped to [ε, 1−ε]) and wᵢ its source
// weight. Every Confidence is calibrated at a neutral 50/50 reference (see
// Signal): it is the posterior that evidence alone gives from even odds, so
// logit(cᵢ) is the evidence's log-likelihood ratio, whatever the prior. A
// 0.5 signal, like a missing one, changes nothing at any prior, and the
// result rises with the prior. The prior is the host's base rate of genuine
// payments in this context. A Fuser is immutable and safe for concurrent
// use.
type Fuser struct {
	weights map[string]float64
	eps     float64
}

// NewFuser validates cfg and returns a Fuser. The weight map is copied.
// Its errors are those of FuseConfig.Validate.
func NewFuser(cfg FuseConfig) (*Fuser, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &Fuser{eps: cfg.Epsilon}
	if f.eps == 0 {
		f.eps = DefaultEpsilon
	}
	if len(cfg.Weights) > 0 {
		f.weights = make(map[string]float64, len(cfg.Weights))
		for k, v := range cfg.Weights {
			f.weights[k] = v
		}
	}
	return f, nil
}

// defaultFuser backs the package-level Fuse. It is never modified.
var defaultFuser = Fuser{eps: DefaultEpsilon}

// Fuse combines signals around prior with weight 1 for every source and the
// default clamp (see Fuser). A signal that is absent contributes nothing, and
// the result does not depend on the order of signals (up to floating-point
// rounding). Confidences 0 and 1 are clamped to [ε, 1−ε].
//
// Invalid input is rejected, never clamped: if prior or any confidence is
// NaN, ±Inf or outside [0, 1], Fuse returns NaN, which Policy.Decide and
// Policy.Evaluate reject with an error wrapping ErrConfidence (so the
// payment fails closed). Fuser.Explain rejects exactly the same inputs with
// a descriptive error. Fuse does not allocate.
func Fuse(prior float64, signals ...Signal) float64 {
	return defaultFuser.Fuse(prior, signals...)
}

// valid reports whether p is a probability: not NaN, not infinite, in [0, 1].
func valid(p float64) bool { return p >= 0 && p <= 1 } // false for NaN

// fuser returns f, or the default fuser for a nil or zero Fuser, so that
// the zero value works.
func (f *Fuser) fuser() *Fuser {
	if f == nil || f.eps == 0 {
		return &defaultFuser
	}
	return f
}

// Weight returns the weight f applies to source.
func (f *Fuser) Weight(source string) float64 {
	if w, ok := f.fuser().weights[source]; ok {
		return w
	}
	return 1
}

// Epsilon returns the clamp in use.
func (f *Fuser) Epsilon() float64 { return f.fuser().eps }

func (f *Fuser) clamp(p float64) float64 {
	if p < f.eps {
		return f.eps
	}
	if p > 1-f.eps {
		return 1 - f.eps
	}
	return p
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Fuse is the configured form of the package-level Fuse, with the same
// handling of invalid input (NaN result). A source of weight 0 is skipped
// entirely — by Explain too — so its confidence, even an invalid one, does
// not affect the result. The zero Fuser fuses like the package-level Fuse.
// Fuse does not allocate.
func (f *Fuser) Fuse(prior float64, signals ...Signal) float64 {
	f = f.fuser()
	if !valid(prior) {
		return math.NaN()
	}
	sum := logit(f.clamp(prior))
	for i := range signals {
		w := f.Weight(signals[i].Source)
		if w == 0 {
			continue
		}
		c := signals[i].Confidence
		if !valid(c) {
			return math.NaN()
		}
		sum += w * logit(f.clamp(c))
	}
	return sigmoid(sum)
}

// Contribution is one signal's share of a fusion.
type Contribution struct {
	Source     string  // the signal's Source
	Confidence float64 // as given
	Clamped    float64 // after clamping to [ε, 1−ε] (0 for an ignored invalid one)
	Weight     float64 // the source's fusion weight w
	// LogLR is the signed change this signal made to the fused log-odds,
	// w·logit(clamped): its weighted log-likelihood ratio. Positive moves
	// towards genuine; a 0.5 signal contributes 0.
	LogLR   float64
	Reasons []Reason // the signal's own reasons
}

// Fusion explains a fused confidence.
type Fusion struct {
	Prior      float64 // as given
	Confidence float64 // fused posterior
	LogOdds    float64 // logit of the fused posterior
	// Contributions lists every signal, largest |LogLR| first; ties keep
	// argument order.
	Contributions []Contribution
}

// Top returns up to n contributions that moved the result most.
func (r Fusion) Top(n int) []Contribution {
	if n > len(r.Contributions) {
		n = len(r.Contributions)
	}
	if n < 0 {
		n = 0
	}
	return r.Contributions[:n]
}

// Explain fuses like Fuse and reports how much each signal moved the
// result. It rejects exactly the inputs for which Fuse returns NaN: a prior
// that is NaN, ±Inf or outside [0, 1] is an error wrapping ErrConfidence, and
// such a confidence of a source with non-zero weight is a *SignalError
// wrapping ErrConfidence. A zero-weight source is listed with LogLR 0
// whatever its confidence. When Explain succeeds, Fusion.Confidence equals
// Fuse's result. The zero Fuser works like the default one.
func (f *Fuser) Explain(prior float64, signals ...Signal) (Fusion, error) {
	f = f.fuser()
	if !valid(prior) {
		return Fusion{}, fmt.Errorf("%w: prior %v", ErrConfidence, prior)
	}
	res := Fusion{Prior: prior, Contributions: make([]Contribution, 0, len(signals))}
	sum := logit(f.clamp(prior))
	for i, s := range signals {
		c := Contribution{Source: s.Source, Confidence: s.Confidence, Weight: f.Weight(s.Source), Reasons: s.Reasons}
		if c.Weight != 0 {
			if !valid(s.Confidence) {
				return Fusion{}, &SignalError{Index: i, Source: truncate(s.Source, 64), Value: s.Confidence, Err: ErrConfidence}
			}
			c.Clamped = f.clamp(s.Confidence)
			c.LogLR = c.Weight * logit(c.Clamped)
		} else if valid(s.Confidence) {
			c.Clamped = f.clamp(s.Confidence)
		}
		sum += c.LogLR
		res.Contributions = append(res.Contributions, c)
	}
	res.LogOdds = sum
	res.Confidence = sigmoid(sum)
	slices.SortStableFunc(res.Contributions, func(a, b Contribution) int {
		x, y := math.Abs(a.LogLR), math.Abs(b.LogLR)
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	return res, nil
}

// Signal returns the fusion as a Signal from source, carrying the reasons
// of the contributions in order of influence, so that a fused verdict can
// be passed on or fused again (with care: re-fusing counts evidence twice).
func (r Fusion) Signal(source string) Signal {
	var reasons []Reason
	for _, c := range r.Contributions {
		reasons = append(reasons, c.Reasons...)
	}
	return Signal{Source: source, Confidence: r.Confidence, Reasons: reasons}
}

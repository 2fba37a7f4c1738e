package biometric

import (
	"context"
	"errors"
	"fmt"

	"github.com/payedge/payedge/risk"
)

// Source is the Source of every biometric risk.Signal.
const Source = "biometric"

// Reason codes of the biometric risk.Signal.
const (
	ReasonMatch       = "biometric.match"       // identified above threshold with a clear margin
	ReasonNoMatch     = "biometric.no_match"    // nobody enrolled matched
	ReasonAmbiguous   = "biometric.ambiguous"   // two candidates too close: no judgement
	ReasonNotLive     = "biometric.not_live"    // the liveness check rejected the capture
	ReasonBadSample   = "biometric.bad_sample"  // the sample was unusable: no judgement
	ReasonUnavailable = "biometric.unavailable" // identification failed (store, timeout): no judgement
)

// Defaults of AssessorConfig: a 1:N operating point typical of a good face
// model on a gallery of about a million (NIST FRTE 1:N reports FNIR of a few
// per cent at FPIR 0.001 for such galleries).
const (
	DefaultFPIR              = 0.001
	DefaultFNIR              = 0.02
	DefaultNotLiveConfidence = 0.05
)

// AssessorConfig calibrates the biometric risk.Signal. The zero value is
// usable (the Default… values). Measure FPIR and FNIR for your model and
// gallery size with Evaluate at the server's threshold.
type AssessorConfig struct {
	// FPIR is the false-positive identification rate at the operating
	// threshold, in (0, 1); 0 means DefaultFPIR.
	FPIR float64
	// FNIR is the false-negative identification rate at the operating
	// threshold, in (0, 1); 0 means DefaultFNIR.
	FNIR float64
	// NotLiveConfidence is the confidence when liveness fails, in (0, 0.5];
	// 0 means DefaultNotLiveConfidence.
	NotLiveConfidence float64
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c AssessorConfig) Validate() error {
	in := func(v, lo, hi float64) bool { return v == 0 || v > lo && v < hi }
	if !in(c.FPIR, 0, 1) || !in(c.FNIR, 0, 1) || !in(c.NotLiveConfidence, 0, 0.50001) {
		return fmt.Errorf("%w: FPIR %v, FNIR %v, NotLiveConfidence %v", ErrConfig, c.FPIR, c.FNIR, c.NotLiveConfidence)
	}
	if c.withDefaults().FPIR+c.withDefaults().FNIR >= 1 {
		return fmt.Errorf("%w: FPIR + FNIR ≥ 1: the matcher carries no evidence", ErrConfig)
	}
	return nil
}

func (c AssessorConfig) withDefaults() AssessorConfig {
	if c.FPIR == 0 {
		c.FPIR = DefaultFPIR
	}
	if c.FNIR == 0 {
		c.FNIR = DefaultFNIR
	}
	if c.NotLiveConfidence == 0 {
		c.NotLiveConfidence = DefaultNotLiveConfidence
	}
	return c
}

// signal maps an identification outcome to a risk.Signal calibrated at the
// neutral 0.5 reference. With the operating point's error rates, an
// identification has likelihood ratio LR = (1−FNIR)/FPIR between "the
// payer is the enrolled cardholder" and "the payer is someone else", and a
// miss has LR = FNIR/(1−FPIR); Confidence = LR/(1+LR).
func (c AssessorConfig) signal(id Identity, err error) risk.Signal {
	c = c.withDefaults()
	s := risk.Signal{Source: Source, Confidence: 0.5}
	lrConf := func(lr float64) float64 { return lr / (1 + lr) }
	switch {
	case err == nil:
		s.Confidence = lrConf((1 - c.FNIR) / c.FPIR)
		s.Reasons = []risk.Reason{{Code: ReasonMatch, Detail: fmt.Sprintf("score %.4f, runner-up %.4f", id.Score, id.Second)}}
	case errors.Is(err, ErrNoMatch):
		s.Confidence = lrConf(c.FNIR / (1 - c.FPIR))
		s.Reasons = []risk.Reason{{Code: ReasonNoMatch, Detail: err.Error()}}
	case errors.Is(err, ErrAmbiguous):
		s.Reasons = []risk.Reason{{Code: ReasonAmbiguous, Detail: err.Error()}}
	case errors.Is(err, ErrNotLive):
		s.Confidence = c.NotLiveConfidence
		s.Reasons = []risk.Reason{{Code: ReasonNotLive, Detail: err.Error()}}
	case errors.Is(err, ErrSample), errors.Is(err, ErrDimension), errors.Is(err, ErrNotFinite), errors.Is(err, ErrZeroVector):
		s.Reasons = []risk.Reason{{Code: ReasonBadSample, Detail: err.Error()}}
	default:
		s.Reasons = []risk.Reason{{Code: ReasonUnavailable, Detail: err.Error()}}
	}
	return s
}

// Assessor turns a biometric sample into a risk.Signal by identifying it:
// it is a risk.Scorer[Sample]. Safe for concurrent use. The zero Assessor
// returns ErrNotInitialized.
type Assessor struct {
	cfg AssessorConfig
	ids IdentityServer
}

var _ risk.Scorer[Sample] = (*Assessor)(nil)

// NewAssessor returns an assessor over ids. Errors wrap ErrConfig.
func NewAssessor(cfg AssessorConfig, ids IdentityServer) (*Assessor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ids == nil {
		return nil, fmt.Errorf("%w: nil IdentityServer", ErrConfig)
	}
	return &Assessor{cfg: cfg.withDefaults(), ids: ids}, nil
}

// Score identifies s and returns the evidence (see Assess). Its error is
// only ErrNotInitialized or ctx.Err(): an identification that fails is
// evidence (no match, not live) or no judgement (0.5 with a reason).
func (a *Assessor) Score(ctx context.Context, s Sample) (risk.Signal, error) {
	_, sig, err := a.Assess(ctx, s)
	return sig, err
}

// Assess is Score that also returns the identity when identification
// succeeded (the zero Identity otherwise).
func (a *Assessor) Assess(ctx context.Context, s Sample) (Identity, risk.Signal, error) {
	if a.ids == nil {
		return Identity{}, risk.Signal{}, ErrNotInitialized
	}
	id, err := a.ids.Identify(ctx, s)
	if cerr := ctx.Err(); cerr != nil {
		return Identity{}, risk.Signal{}, cerr
	}
	return id, a.cfg.signal(id, err), nil
}

// Signal returns the risk.Signal for an identification outcome (id, err),
// as Score would.
func (c AssessorConfig) Signal(id Identity, err error) risk.Signal { return c.signal(id, err) }

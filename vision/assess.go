package vision

import (
	"context"
	"fmt"
	"image"

	"github.com/payedge/payedge/risk"
)

// Source is the risk.Signal source name of this package.
const Source = "vision"

// Input is the input of Assessor.Score: a merchant and the photo its
// terminal took of its surroundings.
type Input struct {
	MerchantID string      // whose references to compare with
	Image      image.Image // the photo, e.g. from Decode; nil scores as covered
}

// Scene is the former name of Input.
//
// Deprecated: use Input.
type Scene = Input

// Config tunes an Assessor. The zero value is usable: zero fields take the
// defaults of DefaultConfig.
//
// Confidences follow risk.Signal's neutral contract: a value c carries the
// likelihood ratio c/(1−c) for "the terminal is in the merchant's
// premises", so 0.5 is no evidence either way.
type Config struct {
	// MatchThreshold is the Similarity at or above which the photo is
	// taken to show a registered scene (default 0.5).
	MatchThreshold float64
	// NoReference is the confidence reported when the merchant has no
	// reference photo: the package cannot judge, so the default 0.5 is
	// no evidence either way (likelihood ratio 1).
	NoReference float64
	// Unusable caps the confidence when a quality gate failed and no
	// reference matched: a covered lens or a black frame is itself a
	// weak sign of tampering (default 0.3, likelihood ratio 0.43).
	Unusable float64
	// Floor and Ceiling bound every reported confidence, so one signal
	// never decides alone when fused (defaults 0.02 and 0.98: likelihood
	// ratios between 1/49 and 49).
	Floor, Ceiling float64
}

// AssessorConfig is the former name of Config.
//
// Deprecated: use Config.
type AssessorConfig = Config

// DefaultConfig returns the defaults used for zero fields.
func DefaultConfig() Config {
	return Config{MatchThreshold: 0.5, NoReference: 0.5, Unusable: 0.3, Floor: 0.02, Ceiling: 0.98}
}

// DefaultAssessorConfig returns DefaultConfig().
//
// Deprecated: use DefaultConfig.
func DefaultAssessorConfig() Config { return DefaultConfig() }

// Validate reports a configuration with values outside [0,1] (or NaN) or
// Floor above Ceiling, with an error wrapping ErrConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, v := range []float64{c.MatchThreshold, c.NoReference, c.Unusable, c.Floor, c.Ceiling} {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%w: value %v outside [0,1]", ErrConfig, v)
		}
	}
	if c.Floor > c.Ceiling {
		return fmt.Errorf("%w: floor %v above ceiling %v", ErrConfig, c.Floor, c.Ceiling)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MatchThreshold == 0 {
		c.MatchThreshold = d.MatchThreshold
	}
	if c.NoReference == 0 {
		c.NoReference = d.NoReference
	}
	if c.Unusable == 0 {
		c.Unusable = d.Unusable
	}
	if c.Floor == 0 {
		c.Floor = d.Floor
	}
	if c.Ceiling == 0 {
		c.Ceiling = d.Ceiling
	}
	return c
}

// Assessor turns a terminal's photo of its surroundings into a risk.Signal:
// quality gates, then the best Similarity against the merchant's reference
// scenes. It is safe for concurrent use if its Store is.
//
// The zero Assessor has no store: its methods return an error matching both
// ErrNotInitialized and ErrNoStore. Build one with NewAssessor.
type Assessor struct {
	Store  SceneStore // the merchants' references; required
	Config Config     // validated on every call; zero fields take defaults
}

var _ risk.Scorer[Input] = (*Assessor)(nil)

// NewAssessor returns an Assessor with cfg over store (the merchants'
// reference scenes), after validating cfg. It returns ErrNoStore for a nil
// store and an error wrapping ErrConfig for an invalid cfg.
func NewAssessor(cfg Config, store SceneStore) (*Assessor, error) {
	if store == nil {
		return nil, ErrNoStore
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Assessor{Store: store, Config: cfg}, nil
}

// Score implements risk.Scorer[Input]; it calls Assess.
func (a *Assessor) Score(ctx context.Context, in Input) (risk.Signal, error) {
	return a.Assess(ctx, in.MerchantID, in.Image)
}

// Assess scores img as evidence that the terminal is in merchantID's
// registered premises. Confidence is the calibrated Similarity of the best
// reference (bounded by Floor and Ceiling), with reason vision.scene_match
// when it reaches MatchThreshold and vision.unknown_scene otherwise; failed
// quality gates add vision.dark, vision.blurred or vision.covered and, when
// nothing matched, cap the confidence at Unusable. A merchant without
// references gets NoReference and vision.unknown_scene. A nil or tiny image
// (a side under 32 pixels, or more than MaxImagePixels pixels) yields a
// low-confidence signal with vision.covered, not an error. Errors come only
// from the context (ctx.Err()), the store (wrapped), a missing store
// (ErrNoStore) or an invalid Config in an Assessor not made by NewAssessor
// (ErrConfig); a zero or nil Assessor returns an error matching
// ErrNotInitialized and ErrNoStore, and a nil ctx ErrNilContext.
func (a *Assessor) Assess(ctx context.Context, merchantID string, img image.Image) (risk.Signal, error) {
	if a == nil || a.Store == nil {
		return risk.Signal{}, fmt.Errorf("%w: %w", ErrNotInitialized, ErrNoStore)
	}
	if ctx == nil {
		return risk.Signal{}, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return risk.Signal{}, err
	}
	if err := a.Config.Validate(); err != nil {
		return risk.Signal{}, err
	}
	cfg := a.Config.withDefaults()
	sig := risk.Signal{Source: Source}
	bound := func(c float64) float64 { return min(max(c, cfg.Floor), cfg.Ceiling) }

	if img == nil || img.Bounds().Dx() < 32 || img.Bounds().Dy() < 32 || oversized(img.Bounds()) {
		detail := "no image"
		if img != nil {
			detail = fmt.Sprintf("image %dx%d: sides below 32 px or more than %d pixels", img.Bounds().Dx(), img.Bounds().Dy(), MaxImagePixels)
		}
		sig.Confidence = bound(min(cfg.Unusable, cfg.NoReference))
		sig.Reasons = []risk.Reason{{Code: ReasonCovered, Detail: detail}}
		return sig, nil
	}
	work := working(img, DefaultWorkSide)
	q := Quality(work)
	sig.Reasons = append(sig.Reasons, q.Reasons()...)

	refs, err := a.Store.References(ctx, merchantID)
	if err != nil {
		return risk.Signal{}, fmt.Errorf("vision: references of %q: %w", merchantID, err)
	}
	if len(refs) == 0 {
		c := cfg.NoReference
		if !q.OK() {
			c = min(c, cfg.Unusable)
		}
		sig.Confidence = bound(c)
		sig.Reasons = append(sig.Reasons, risk.Reason{Code: ReasonUnknownScene, Detail: "merchant has no reference scene"})
		return sig, nil
	}
	fp := extractWorking(work)
	best, bestIdx := Evidence{}, -1
	for i, r := range refs {
		if err := ctx.Err(); err != nil {
			return risk.Signal{}, err
		}
		e := fp.Compare(r)
		if bestIdx < 0 || e.Score > best.Score {
			best, bestIdx = e, i
		}
	}
	c := best.Score
	if c >= cfg.MatchThreshold {
		sig.Reasons = append(sig.Reasons, risk.Reason{Code: ReasonSceneMatch,
			Detail: fmt.Sprintf("reference %d: similarity %.3f, %d of %d matches geometrically consistent, PDQ distance %d",
				bestIdx, best.Score, best.Inliers, best.Matches, best.PDQDistance)})
	} else {
		if !q.OK() {
			c = min(c, cfg.Unusable)
		}
		sig.Reasons = append(sig.Reasons, risk.Reason{Code: ReasonUnknownScene,
			Detail: fmt.Sprintf("best of %d references: similarity %.3f, %d consistent matches", len(refs), best.Score, best.Inliers)})
	}
	sig.Confidence = bound(c)
	return sig, nil
}

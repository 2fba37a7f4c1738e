package risk

import (
	"context"
	"fmt"
	"math"
)

// Reason explains one contribution to a Signal. Code is a stable,
// machine-readable identifier such as "vision.blurred" or "geo.moved";
// Detail is free text for humans and may change between releases.
type Reason struct {
	Code   string // stable machine code, "<source>.<what>"
	Detail string // free text for humans
}

// Signal is one piece of evidence about a payment environment.
//
// Confidence, in [0, 1], is calibrated at a neutral 50/50 reference: it is
// the probability that the payment environment is genuine that this
// evidence alone would give starting from even odds, so it carries the
// evidence's likelihood ratio LR = c/(1−c). 0.5 means "no evidence either
// way"; a scorer that cannot judge returns 0.5 with a reason. The host's
// base rate enters once, as the prior of Fuse, never inside a Signal.
// Source names the producer (for example "vision") and is the key for
// per-source fusion weights.
type Signal struct {
	Source     string   // the producer, e.g. "vision"; key of fusion weights
	Confidence float64  // in [0, 1], calibrated at a neutral 0.5
	Reasons    []Reason // what drove Confidence
}

// Scorer turns evidence of type T into a Signal. Implementations document
// whether they are safe for concurrent use; all payedge scorers are.
type Scorer[T any] interface {
	Score(ctx context.Context, in T) (Signal, error)
}

// ScorerFunc adapts an ordinary function to the Scorer interface.
type ScorerFunc[T any] func(ctx context.Context, in T) (Signal, error)

// Score calls f(ctx, in). A nil ScorerFunc returns an error wrapping
// ErrNotInitialized.
func (f ScorerFunc[T]) Score(ctx context.Context, in T) (Signal, error) {
	if f == nil {
		return Signal{}, fmt.Errorf("%w: nil ScorerFunc", ErrNotInitialized)
	}
	return f(ctx, in)
}

// Validate reports whether s.Confidence is a number in [0, 1]; errors wrap
// ErrConfidence.
func (s Signal) Validate() error {
	if math.IsNaN(s.Confidence) || s.Confidence < 0 || s.Confidence > 1 {
		return fmt.Errorf("%w: signal %q: %v", ErrConfidence, truncate(s.Source, 64), s.Confidence)
	}
	return nil
}

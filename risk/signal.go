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
	Code   string
	Detail string
}

// Signal is one piece of evidence about a payment environment.
//
// Confidence is the calibrated probability, in [0, 1], that the payment
// environment is genuine. Source names the producer (for example "vision")
// and is the key for per-source fusion weights.
type Signal struct {
	Source     string
	Confidence float64
	Reasons    []Reason
}

// Scorer turns evidence of type T into a Signal. Implementations document
// whether they are safe for concurrent use; all payedge scorers are.
type Scorer[T any] interface {
	Score(ctx context.Context, in T) (Signal, error)
}

// ScorerFunc adapts an ordinary function to the Scorer interface.
type ScorerFunc[T any] func(ctx context.Context, in T) (Signal, error)

// Score calls f(ctx, in).
func (f ScorerFunc[T]) Score(ctx context.Context, in T) (Signal, error) { return f(ctx, in) }

// Validate reports whether s.Confidence is a number in [0, 1]; errors wrap
// ErrConfidence.
func (s Signal) Validate() error {
	if math.IsNaN(s.Confidence) || s.Confidence < 0 || s.Confidence > 1 {
		return fmt.Errorf("%w: signal %q: %v", ErrConfidence, truncate(s.Source, 64), s.Confidence)
	}
	return nil
}

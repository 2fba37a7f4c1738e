package biometric

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// IdentityServer identifies the enrolled person a sample belongs to (1:N).
// Implementations are safe for concurrent use.
type IdentityServer interface {
	// Identify returns the identity whose template best matches s. It
	// releases a payment token and a masked card reference, never a PAN.
	// Errors wrap ErrNoMatch (nobody above the threshold, or an empty
	// gallery), ErrAmbiguous (two candidates too close to tell apart),
	// ErrNotLive (the liveness check rejected s), ErrSample (s unusable), or
	// are ctx.Err().
	Identify(ctx context.Context, s Sample) (Identity, error)
}

// IdentityServerFunc adapts a function to IdentityServer.
type IdentityServerFunc func(ctx context.Context, s Sample) (Identity, error)

// Identify calls f(ctx, s).
func (f IdentityServerFunc) Identify(ctx context.Context, s Sample) (Identity, error) {
	return f(ctx, s)
}

// Identity is the outcome of a successful identification.
type Identity struct {
	EnrolmentID string
	// Token is the payment token to authorise with (never print it whole;
	// see MaskToken).
	Token string
	// CardRef is the masked card reference, safe to show and log.
	CardRef string
	// Score is the top-1 cosine similarity; Second is the runner-up's
	// (-1 when the gallery holds one person).
	Score, Second float64
}

// MatchError details ErrNoMatch and ErrAmbiguous: the two best scores and
// the operating point they were judged against.
type MatchError struct {
	Err           error // ErrNoMatch or ErrAmbiguous
	Score, Second float64
	Threshold     float64
	Margin        float64
}

func (e *MatchError) Error() string {
	return fmt.Sprintf("%v (top-1 %.4f, top-2 %.4f, threshold %.4f, margin %.4f)", e.Err, e.Score, e.Second, e.Threshold, e.Margin)
}

// Unwrap returns e.Err.
func (e *MatchError) Unwrap() error { return e.Err }

// LivenessChecker is the host's presentation-attack detection. It returns
// nil for a live capture, an error wrapping ErrNotLive for a spoof, and any
// other error when it could not decide (then identification fails with that
// error). It must be safe for concurrent use.
type LivenessChecker interface {
	CheckLiveness(ctx context.Context, s Sample) error
}

// LivenessFunc adapts a function to LivenessChecker.
type LivenessFunc func(ctx context.Context, s Sample) error

// CheckLiveness calls f(ctx, s).
func (f LivenessFunc) CheckLiveness(ctx context.Context, s Sample) error { return f(ctx, s) }

// Defaults of ServerConfig.
const (
	// DefaultThreshold is the cosine similarity a top-1 candidate must
	// reach. Calibrate your own with Calibrate on your model's scores.
	DefaultThreshold = 0.6
	// DefaultMargin is the minimum gap between top-1 and top-2.
	DefaultMargin = 0.05
)

// ServerConfig configures the reference IdentityServer. The zero value is
// usable: DefaultDim, DefaultThreshold, DefaultMargin, float32 index on all
// cores, no liveness check.
type ServerConfig struct {
	// Index configures the gallery (dimension, quantisation, workers).
	Index IndexConfig
	// Threshold is the minimum top-1 cosine similarity, in (-1, 1];
	// 0 means DefaultThreshold.
	Threshold float64
	// Margin is the minimum top-1 − top-2 gap: when the runner-up also
	// scores at least Threshold − Margin and trails the best by less than
	// Margin, the server returns ErrAmbiguous rather than guess between two
	// people. 0 means DefaultMargin; negative disables the check.
	Margin float64
	// Liveness, if not nil, is asked before every search.
	Liveness LivenessChecker
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c ServerConfig) Validate() error {
	if err := c.Index.Validate(); err != nil {
		return err
	}
	if c.Threshold != c.Threshold || c.Threshold <= -1 || c.Threshold > 1 {
		return fmt.Errorf("%w: Threshold %v not in (-1, 1]", ErrConfig, c.Threshold)
	}
	if c.Margin != c.Margin || c.Margin > 2 {
		return fmt.Errorf("%w: Margin %v", ErrConfig, c.Margin)
	}
	return nil
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Margin == 0 {
		c.Margin = DefaultMargin
	}
	if c.Margin < 0 {
		c.Margin = 0
	}
	return c
}

// Server is the reference IdentityServer: an Index over the enrolled
// templates and sealed records in an EnrolmentStore. It is safe for
// concurrent use. The zero Server returns ErrNotInitialized.
type Server struct {
	cfg    ServerConfig
	index  *Index
	store  EnrolmentStore
	sealer *Sealer
	enrol  sync.Mutex // serialises Enrol/Unenrol/Load
}

var _ IdentityServer = (*Server)(nil)

// NewServer returns a server with an empty index over store, sealing records
// with sealer. Call Load to index records already in store. Errors wrap
// ErrConfig.
func NewServer(cfg ServerConfig, store EnrolmentStore, sealer *Sealer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || sealer == nil {
		return nil, fmt.Errorf("%w: nil store or sealer", ErrConfig)
	}
	cfg = cfg.withDefaults()
	ix, err := NewIndex(cfg.Index)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, index: ix, store: store, sealer: sealer}, nil
}

// Enrol seals r, stores it and adds its template to the index. Errors wrap
// ErrDuplicateID, ErrRecord, the template errors, or the store's.
func (s *Server) Enrol(ctx context.Context, r Record) error {
	if s.index == nil {
		return ErrNotInitialized
	}
	if len(r.Template) != s.index.Dim() {
		return &DimensionError{Got: len(r.Template), Want: s.index.Dim()}
	}
	t, err := NewTemplate(r.Template, s.index.Dim())
	if err != nil {
		return err
	}
	r.Template = t
	sealed, err := s.sealer.Seal(r)
	if err != nil {
		return err
	}
	s.enrol.Lock()
	defer s.enrol.Unlock()
	if s.index.Contains(r.ID) {
		return fmt.Errorf("%w: %q", ErrDuplicateID, r.ID)
	}
	if _, err := s.store.Get(ctx, r.ID); err == nil {
		return fmt.Errorf("%w: %q (in store)", ErrDuplicateID, r.ID)
	} else if !errors.Is(err, ErrNotEnrolled) {
		return err
	}
	if err := s.store.Put(ctx, r.ID, sealed); err != nil {
		return err
	}
	if err := s.index.Add(r.ID, r.Template); err != nil {
		_ = s.store.Delete(context.WithoutCancel(ctx), r.ID)
		return err
	}
	return nil
}

// Unenrol removes id from the index and the store. Errors wrap
// ErrNotEnrolled or the store's.
func (s *Server) Unenrol(ctx context.Context, id string) error {
	if s.index == nil {
		return ErrNotInitialized
	}
	s.enrol.Lock()
	defer s.enrol.Unlock()
	if err := s.store.Delete(ctx, id); err != nil {
		return err
	}
	if err := s.index.Remove(id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Load opens every record in the store and indexes those not yet indexed,
// returning how many it added. A record that does not open (wrong key,
// tampered, swapped) stops the load with an error wrapping ErrSealed that
// names it; records added before it stay indexed.
func (s *Server) Load(ctx context.Context) (int, error) {
	if s.index == nil {
		return 0, ErrNotInitialized
	}
	s.enrol.Lock()
	defer s.enrol.Unlock()
	n := 0
	err := s.store.Range(ctx, func(id string, sealed []byte) error {
		if s.index.Contains(id) {
			return nil
		}
		r, err := s.sealer.Open(id, sealed)
		if err != nil {
			return fmt.Errorf("loading %q: %w", truncate(id, 64), err)
		}
		if err := s.index.Add(id, r.Template); err != nil {
			return fmt.Errorf("loading %q: %w", truncate(id, 64), err)
		}
		n++
		return nil
	})
	return n, err
}

// Len returns the number of indexed people.
func (s *Server) Len() int {
	if s.index == nil {
		return 0
	}
	return s.index.Len()
}

// Config returns the configuration in effect (defaults filled in).
func (s *Server) Config() ServerConfig { return s.cfg }

// Identify implements IdentityServer: liveness check, top-2 search,
// threshold and margin, then the sealed record is opened for the token.
func (s *Server) Identify(ctx context.Context, smp Sample) (Identity, error) {
	if s.index == nil {
		return Identity{}, ErrNotInitialized
	}
	if err := smp.Validate(); err != nil {
		return Identity{}, err
	}
	if len(smp.Embedding) != s.index.Dim() {
		return Identity{}, fmt.Errorf("%w: %w", ErrSample, &DimensionError{Got: len(smp.Embedding), Want: s.index.Dim()})
	}
	if s.cfg.Liveness != nil {
		if err := s.cfg.Liveness.CheckLiveness(ctx, smp); err != nil {
			return Identity{}, err
		}
	}
	n := s.index.Len()
	if n == 0 {
		return Identity{}, &MatchError{Err: ErrNoMatch, Score: -1, Second: -1, Threshold: s.cfg.Threshold, Margin: s.cfg.Margin}
	}
	hits, err := s.index.SearchContext(ctx, smp.Embedding, min(2, n))
	if errors.Is(err, ErrBadK) {
		// The gallery shrank between Len and the search.
		hits, err = s.index.SearchContext(ctx, smp.Embedding, 1)
	}
	if err != nil {
		if errors.Is(err, ErrBadK) {
			return Identity{}, &MatchError{Err: ErrNoMatch, Score: -1, Second: -1, Threshold: s.cfg.Threshold, Margin: s.cfg.Margin}
		}
		return Identity{}, err
	}
	top, second := hits[0].Score, -1.0
	if len(hits) > 1 {
		second = hits[1].Score
	}
	me := &MatchError{Score: top, Second: second, Threshold: s.cfg.Threshold, Margin: s.cfg.Margin}
	if top < s.cfg.Threshold {
		me.Err = ErrNoMatch
		return Identity{}, me
	}
	if second >= s.cfg.Threshold-s.cfg.Margin && top-second < s.cfg.Margin {
		me.Err = ErrAmbiguous
		return Identity{}, me
	}
	sealed, err := s.store.Get(ctx, hits[0].ID)
	if err != nil {
		return Identity{}, err
	}
	r, err := s.sealer.Open(hits[0].ID, sealed)
	if err != nil {
		return Identity{}, err
	}
	return Identity{EnrolmentID: r.ID, Token: r.Token, CardRef: r.CardRef, Score: top, Second: second}, nil
}

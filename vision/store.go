package vision

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// SceneStore holds each merchant's reference fingerprints: photos of the
// registered premises taken at onboarding. Implementations must be safe for
// concurrent use.
type SceneStore interface {
	// References returns the merchant's reference fingerprints (possibly
	// none, with a nil error). Callers must not modify the returned
	// fingerprints or slice.
	References(ctx context.Context, merchantID string) ([]*Fingerprint, error)
	// Add stores one more reference for the merchant.
	Add(ctx context.Context, merchantID string, fp *Fingerprint) error
}

// MemoryStore is the in-memory reference SceneStore. It is correct and
// concurrency-safe but keeps everything in RAM and forgets it on restart:
// a host persists fingerprints with MarshalBinary in its own database.
// The zero value is ready to use with a limit of DefaultMaxReferences.
type MemoryStore struct {
	// MaxReferences bounds the references kept per merchant (0 means
	// DefaultMaxReferences; negative is invalid and Add reports ErrConfig);
	// Add returns ErrStoreFull beyond it. Set it before the store is
	// shared: it is read without the lock.
	MaxReferences int

	mu   sync.RWMutex
	refs map[string][]*Fingerprint
}

// DefaultMaxReferences is MemoryStore's default per-merchant bound.
const DefaultMaxReferences = 32

var _ SceneStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// References implements SceneStore. It returns a fresh slice (the
// fingerprints themselves are shared and immutable), or ctx.Err(),
// ErrNilContext for a nil ctx and ErrNotInitialized for a nil store.
func (s *MemoryStore) References(ctx context.Context, merchantID string) ([]*Fingerprint, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil *MemoryStore", ErrNotInitialized)
	}
	if ctx == nil {
		return nil, ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.refs[merchantID]), nil
}

// Add implements SceneStore. A nil fingerprint is rejected with
// ErrBadFingerprint, a merchant already holding MaxReferences references
// with ErrStoreFull, a negative MaxReferences with ErrConfig, a nil ctx
// with ErrNilContext, a nil store with ErrNotInitialized and a done ctx
// with ctx.Err(). The store keeps fp itself, not a copy (Fingerprints are
// immutable).
func (s *MemoryStore) Add(ctx context.Context, merchantID string, fp *Fingerprint) error {
	if s == nil {
		return fmt.Errorf("%w: nil *MemoryStore", ErrNotInitialized)
	}
	if ctx == nil {
		return ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if fp == nil {
		return fmt.Errorf("%w: nil reference for %q", ErrBadFingerprint, merchantID)
	}
	limit := s.MaxReferences
	if limit < 0 {
		return fmt.Errorf("%w: MemoryStore.MaxReferences %d is negative", ErrConfig, limit)
	}
	if limit == 0 {
		limit = DefaultMaxReferences
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refs[merchantID]) >= limit {
		return fmt.Errorf("%w: merchant %q has %d", ErrStoreFull, merchantID, limit)
	}
	if s.refs == nil {
		s.refs = make(map[string][]*Fingerprint)
	}
	s.refs[merchantID] = append(s.refs[merchantID], fp)
	return nil
}

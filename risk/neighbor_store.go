package risk

import (
	"context"
	"fmt"
	"sync"
)

// ProfileStore keeps one neighbour Profile per terminal. Hosts implement it
// over Redis, SQL or similar; MemoryStore is the in-memory reference.
// Implementations must be safe for concurrent use, and both methods must
// return an error wrapping ctx.Err() when ctx is already done. The package
// risktest checks an implementation against this contract.
//
// A store owns what it holds: the profile Profile returns, the one fn
// receives and the one fn returns are not aliased by the store afterwards,
// so a caller modifying any of them cannot change what is stored (a store
// that serialises profiles gets this for free; an in-memory one copies).
type ProfileStore interface {
	// Profile returns the profile of terminalID, or an error wrapping
	// ErrNoProfile when there is none.
	Profile(ctx context.Context, terminalID string) (*Profile, error)
	// Update atomically replaces the profile of terminalID by the result
	// of fn, which receives the current profile (nil when none). If fn
	// fails, nothing is stored and Update returns fn's error. A nil result
	// deletes the profile.
	Update(ctx context.Context, terminalID string, fn func(current *Profile) (*Profile, error)) error
}

// profileViewer is implemented by stores of this package that can lend the
// scorer an immutable, already validated profile without copying it.
type profileViewer interface {
	viewProfile(ctx context.Context, terminalID string) (*Profile, error)
}

// profileUpdater is implemented by stores of this package whose Update can
// skip its defensive copies for a caller that neither modifies the current
// profile nor keeps the new one (NeighborAssessor.Learn: Profile.Learn builds a
// fresh profile).
type profileUpdater interface {
	updateOwned(ctx context.Context, terminalID string, fn func(*Profile) (*Profile, error)) error
}

// MemoryStore is an in-memory ProfileStore. It is correct, safe for
// concurrent use and fast, but not persistent: use it in tests, single-node
// deployments and as the model for a host's own store. The zero value is an
// empty store ready to use; a MemoryStore must not be copied after first use.
type MemoryStore struct {
	mu       sync.RWMutex
	profiles map[string]*Profile
}

var _ ProfileStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// ready checks the receiver and the context: a nil *MemoryStore is an
// error wrapping ErrNotInitialized, a nil ctx ErrNilContext, and a done
// ctx its ctx.Err().
func (s *MemoryStore) ready(ctx context.Context) error {
	if s == nil {
		return fmt.Errorf("%w: nil *MemoryStore", ErrNotInitialized)
	}
	if ctx == nil {
		return ErrNilContext
	}
	return ctx.Err()
}

// Profile implements ProfileStore: it returns a copy of the stored profile
// that the caller owns.
func (s *MemoryStore) Profile(ctx context.Context, terminalID string) (*Profile, error) {
	p, err := s.viewProfile(ctx, terminalID)
	if err != nil {
		return nil, err
	}
	return p.Clone(), nil
}

// viewProfile returns the stored profile itself. Stored profiles are private
// copies that are never modified (Update replaces them), so the scorer may
// read one without holding the lock and without copying.
func (s *MemoryStore) viewProfile(ctx context.Context, terminalID string) (*Profile, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	p, ok := s.profiles[terminalID]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoProfile, truncate(terminalID, 64))
	}
	return p, nil
}

// Update implements ProfileStore. fn runs under the store's write lock, so
// it must not call back into s; it receives a copy of the stored profile.
// The result is validated, must belong to terminalID, and is copied before
// it is stored.
func (s *MemoryStore) Update(ctx context.Context, terminalID string, fn func(*Profile) (*Profile, error)) error {
	return s.update(ctx, terminalID, fn, true)
}

// updateOwned is Update for this package's own callers, which neither
// modify the profile fn receives nor keep the one fn returns: it skips both
// copies.
func (s *MemoryStore) updateOwned(ctx context.Context, terminalID string, fn func(*Profile) (*Profile, error)) error {
	return s.update(ctx, terminalID, fn, false)
}

func (s *MemoryStore) update(ctx context.Context, terminalID string, fn func(*Profile) (*Profile, error), copies bool) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if fn == nil {
		return fmt.Errorf("%w: nil update function", ErrConfig)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.profiles[terminalID]
	if copies {
		cur = cur.Clone()
	}
	next, err := fn(cur)
	if err != nil {
		return err
	}
	if next == nil {
		delete(s.profiles, terminalID)
		return nil
	}
	if next.TerminalID != terminalID {
		return fmt.Errorf("%w: profile of %q stored under %q", ErrProfile, truncate(next.TerminalID, 64), truncate(terminalID, 64))
	}
	if err := next.Validate(); err != nil {
		return err
	}
	if s.profiles == nil {
		s.profiles = make(map[string]*Profile)
	}
	if copies {
		next = next.Clone()
	}
	s.profiles[terminalID] = next
	return nil
}

// Put stores a copy of p under p.TerminalID, replacing any profile there;
// use it to load preconfigured or persisted profiles. A nil or invalid p is
// an error wrapping ErrProfile (see Profile.Validate); a done ctx returns
// ctx.Err().
func (s *MemoryStore) Put(ctx context.Context, p *Profile) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: nil", ErrProfile)
	}
	return s.Update(ctx, p.TerminalID, func(*Profile) (*Profile, error) { return p, nil })
}

// Len returns the number of stored profiles (0 for a nil store).
func (s *MemoryStore) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.profiles)
}

package biometric

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// EnrolmentStore keeps sealed enrolment records (see Sealer) by ID. The
// store sees only sealed bytes: it never holds a template or token in clear.
//
// Every method takes ctx first and returns ctx.Err() (possibly wrapped) if
// ctx is done before it starts. Implementations must be safe for
// concurrent use and must copy the bytes they are given and return copies,
// so callers may reuse their buffers. Check an implementation with
// biometrictest.TestEnrolmentStore.
type EnrolmentStore interface {
	// Put creates or replaces the record id.
	Put(ctx context.Context, id string, sealed []byte) error
	// Get returns the record id, or an error wrapping ErrNotEnrolled.
	Get(ctx context.Context, id string) ([]byte, error)
	// Delete removes the record id, or returns an error wrapping ErrNotEnrolled.
	Delete(ctx context.Context, id string) error
	// Range calls fn for every record, in any order, stopping at and
	// returning fn's first error. fn must not call the store.
	Range(ctx context.Context, fn func(id string, sealed []byte) error) error
}

// MemoryStore is the in-memory EnrolmentStore: correct, concurrency-safe,
// and gone when the process exits — a reference and a test double, not a
// database. The zero value is an empty store ready to use.
type MemoryStore struct {
	mu sync.RWMutex
	m  map[string][]byte
}

var _ EnrolmentStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Put implements EnrolmentStore.
func (s *MemoryStore) Put(ctx context.Context, id string, sealed []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	if len(sealed) > MaxSealedLen {
		return fmt.Errorf("%w: sealed record %d bytes > %d", ErrRecord, len(sealed), MaxSealedLen)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[id] = append([]byte(nil), sealed...)
	return nil
}

// Get implements EnrolmentStore.
func (s *MemoryStore) Get(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotEnrolled, truncate(id, 64))
	}
	return append([]byte(nil), b...), nil
}

// Delete implements EnrolmentStore.
func (s *MemoryStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return fmt.Errorf("%w: %q", ErrNotEnrolled, truncate(id, 64))
	}
	delete(s.m, id)
	return nil
}

// Range implements EnrolmentStore. It iterates over a snapshot, in ID order.
func (s *MemoryStore) Range(ctx context.Context, fn func(id string, sealed []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	ids := slices.Sorted(maps.Keys(s.m))
	snap := make([][]byte, len(ids))
	for i, id := range ids {
		snap[i] = append([]byte(nil), s.m[id]...)
	}
	s.mu.RUnlock()
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(id, snap[i]); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of records.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

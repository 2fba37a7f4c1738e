package risktest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/risk/risktest"
)

func TestMemoryStore(t *testing.T) {
	risktest.TestProfileStore(t, func(*testing.T) risk.ProfileStore { return risk.NewMemoryStore() })
}

// racyStore reads and writes without holding its lock across Update: it
// loses updates, and ignores contexts. The checks must catch it.
type racyStore struct {
	mu sync.Mutex
	m  map[string]*risk.Profile
}

func (s *racyStore) Profile(_ context.Context, id string) (*risk.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.m[id]; ok {
		return p, nil
	}
	return nil, risk.ErrNoProfile
}

func (s *racyStore) Update(_ context.Context, id string, fn func(*risk.Profile) (*risk.Profile, error)) error {
	s.mu.Lock()
	cur := s.m[id]
	s.mu.Unlock()
	next, err := fn(cur)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if next == nil {
		delete(s.m, id)
	} else {
		s.m[id] = next
	}
	return nil
}

// aliasStore is correct except that it hands out and keeps the very
// profiles it is given; ignoreStore passes fn no current profile.
type aliasStore struct{ racyStore }

type ignoreStore struct{ racyStore }

func (s *ignoreStore) Update(ctx context.Context, id string, fn func(*risk.Profile) (*risk.Profile, error)) error {
	return s.racyStore.Update(ctx, id, func(*risk.Profile) (*risk.Profile, error) { return fn(nil) })
}

func TestCheckCatchesEachBrokenClause(t *testing.T) {
	for _, tc := range []struct {
		clause string
		store  func() risk.ProfileStore
	}{
		{"OwnsProfiles", func() risk.ProfileStore { return &aliasStore{racyStore{m: map[string]*risk.Profile{}}} }},
		{"UpdateSeesCurrent", func() risk.ProfileStore { return &ignoreStore{racyStore{m: map[string]*risk.Profile{}}} }},
	} {
		err := risktest.CheckProfileStore(context.Background(), func() (risk.ProfileStore, error) { return tc.store(), nil })
		if err == nil || !strings.Contains(err.Error(), tc.clause+":") {
			t.Errorf("store broken in %s passed: %v", tc.clause, err)
		}
	}
}

func TestCheckCatchesBrokenStore(t *testing.T) {
	err := risktest.CheckProfileStore(context.Background(), func() (risk.ProfileStore, error) {
		return &racyStore{m: map[string]*risk.Profile{}}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "DoneContext") {
		t.Fatalf("broken store passed: %v", err)
	}
	// The lost-update check is probabilistic for a racy store; the context
	// check is deterministic.
	boom := errors.New("boom")
	if err := risktest.CheckProfileStore(context.Background(), func() (risk.ProfileStore, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("constructor error: %v", err)
	}
}

// Nil arguments are errors, not panics (CheckProfileStore panicked on a nil
// newStore, a nil store from it, and passed a nil ctx on to the store).
func TestCheckProfileStoreNilArguments(t *testing.T) {
	mem := func() (risk.ProfileStore, error) { return risk.NewMemoryStore(), nil }
	//lint:ignore SA1012 a nil context is the input under test
	if err := risktest.CheckProfileStore(nil, mem); !errors.Is(err, risk.ErrNilContext) {
		t.Errorf("nil ctx: %v", err)
	}
	if err := risktest.CheckProfileStore(context.Background(), nil); !errors.Is(err, risk.ErrNotInitialized) {
		t.Errorf("nil newStore: %v", err)
	}
	nilStore := func() (risk.ProfileStore, error) { return nil, nil }
	if err := risktest.CheckProfileStore(context.Background(), nilStore); err == nil || !strings.Contains(err.Error(), "nil ProfileStore") {
		t.Errorf("nil store: %v", err)
	}
}

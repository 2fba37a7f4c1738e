package biometrictest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/payedge/payedge/biometric"
)

func TestMemoryStore(t *testing.T) {
	TestEnrolmentStore(t, func(*testing.T) biometric.EnrolmentStore { return biometric.NewMemoryStore() })
	TestEnrolmentStore(t, func(*testing.T) biometric.EnrolmentStore { return &biometric.MemoryStore{} })
}

// forgetful loses deletes: the suite must catch it.
type forgetful struct{ *biometric.MemoryStore }

func (forgetful) Delete(context.Context, string) error { return nil }

// sharing returns its internal buffer from Get.
type sharing struct {
	mu sync.Mutex
	m  map[string][]byte
	biometric.EnrolmentStore
}

func (s *sharing) Put(ctx context.Context, id string, b []byte) error {
	s.mu.Lock()
	s.m[id] = b
	s.mu.Unlock()
	return s.EnrolmentStore.Put(ctx, id, b)
}

func (s *sharing) Get(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	b, ok := s.m[id]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	return s.EnrolmentStore.Get(ctx, id)
}

func TestCheckCatchesBrokenStores(t *testing.T) {
	for name, mk := range map[string]func() biometric.EnrolmentStore{
		"forgetful": func() biometric.EnrolmentStore { return forgetful{biometric.NewMemoryStore()} },
		"sharing": func() biometric.EnrolmentStore {
			return &sharing{m: map[string][]byte{}, EnrolmentStore: biometric.NewMemoryStore()}
		},
	} {
		err := CheckEnrolmentStore(context.Background(), func() (biometric.EnrolmentStore, error) { return mk(), nil })
		if err == nil {
			t.Errorf("%s store passed the suite", name)
		}
	}
	if err := CheckEnrolmentStore(context.Background(), func() (biometric.EnrolmentStore, error) { return biometric.NewMemoryStore(), nil }); err != nil {
		t.Errorf("MemoryStore fails: %v", err)
	}
	boom := errors.New("boom")
	if err := CheckEnrolmentStore(context.Background(), func() (biometric.EnrolmentStore, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("newStore error not returned: %v", err)
	}
}

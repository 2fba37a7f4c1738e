package vehicletest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/vehicle"
	"github.com/payedge/payedge/vehicle/vehicletest"
)

func TestMemoryRegistry(t *testing.T) {
	vehicletest.TestFriendRegistry(t, func(t *testing.T) vehicle.FriendRegistry {
		r, err := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	})
}

// repeatingRegistry hands out sequence number 1 forever, which would let a
// replayed envelope through; the suite must reject it.
type repeatingRegistry struct{ *vehicle.MemoryRegistry }

func (r repeatingRegistry) NextSequence(ctx context.Context, from, to vehicle.VehicleID) (uint64, error) {
	if _, err := r.MemoryRegistry.NextSequence(ctx, from, to); err != nil {
		return 0, err
	}
	return 1, nil
}

// TestBrokenRegistryHelper runs the suite on repeatingRegistry when asked
// to by TestSuiteCatchesBrokenRegistry, in a child process.
func TestBrokenRegistryHelper(t *testing.T) {
	if os.Getenv("VEHICLETEST_BROKEN") != "1" {
		t.Skip("run by TestSuiteCatchesBrokenRegistry")
	}
	vehicletest.TestFriendRegistry(t, func(t *testing.T) vehicle.FriendRegistry {
		r, _ := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
		return repeatingRegistry{r}
	})
}

func TestSuiteCatchesBrokenRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child test process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenRegistryHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VEHICLETEST_BROKEN=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a registry that repeats sequence numbers:\n%s", out)
	}
	if !strings.Contains(string(out), "NextSequence(a, b) #2 = 1") {
		t.Fatalf("the suite failed for another reason:\n%s", out)
	}
}

func TestMemoryReplayStore(t *testing.T) {
	vehicletest.TestReplayStore(t, func(t *testing.T) vehicle.ReplayStore { return vehicle.NewMemoryReplayStore() })
}

// aliasingStore keeps the caller's slice instead of a copy, so a vehicle
// reusing its buffer would corrupt the saved state; the suite must notice.
type aliasingStore struct {
	mu sync.Mutex
	m  map[vehicle.VehicleID][]byte
}

func (s *aliasingStore) Load(ctx context.Context, id vehicle.VehicleID) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[id]
	if !ok {
		return nil, vehicle.ErrNoReplayState
	}
	return bytes.Clone(b), nil
}

func (s *aliasingStore) Save(ctx context.Context, id vehicle.VehicleID, st []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = st
	return nil
}

// TestBrokenReplayStoreHelper runs the suite on aliasingStore when asked to
// by TestSuiteCatchesBrokenReplayStore, in a child process.
func TestBrokenReplayStoreHelper(t *testing.T) {
	if os.Getenv("VEHICLETEST_BROKEN_STORE") != "1" {
		t.Skip("run by TestSuiteCatchesBrokenReplayStore")
	}
	vehicletest.TestReplayStore(t, func(t *testing.T) vehicle.ReplayStore {
		return &aliasingStore{m: map[vehicle.VehicleID][]byte{}}
	})
}

func TestSuiteCatchesBrokenReplayStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child test process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenReplayStoreHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VEHICLETEST_BROKEN_STORE=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a store that aliases the saved state:\n%s", out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestBrokenReplayStoreHelper/NoAliasing") {
		t.Fatalf("the suite failed for another reason:\n%s", out)
	}
}

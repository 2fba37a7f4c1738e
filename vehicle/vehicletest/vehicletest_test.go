package vehicletest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
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

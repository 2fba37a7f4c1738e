package vehicletest_test

import (
	"testing"

	"github.com/payedge/payedge/vehicle"
	"github.com/payedge/payedge/vehicle/vehicletest"
)

// A host checks its own FriendRegistry from its tests with one call. The
// suite needs a *testing.T, so this example is compiled but not run;
// vehicle's own tests run it against MemoryRegistry.
func ExampleTestFriendRegistry() {
	_ = func(t *testing.T) {
		vehicletest.TestFriendRegistry(t, func(t *testing.T) vehicle.FriendRegistry {
			r, err := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
			if err != nil {
				t.Fatal(err)
			}
			return r
		})
	}
}

// A host checks the store that keeps its vehicles' replay state across
// restarts (a file, a flash partition, a database) the same way.
func ExampleTestReplayStore() {
	_ = func(t *testing.T) {
		vehicletest.TestReplayStore(t, func(t *testing.T) vehicle.ReplayStore {
			return vehicle.NewMemoryReplayStore()
		})
	}
}

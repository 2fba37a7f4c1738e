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

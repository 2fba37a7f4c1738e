// Package vehicletest checks implementations of the vehicle package's
// interfaces. A host that stores friend relationships in its own database
// runs
//
//	func TestMyRegistry(t *testing.T) {
//		vehicletest.TestFriendRegistry(t, func(t *testing.T) vehicle.FriendRegistry { return newMyRegistry(t) })
//	}
//
// newRegistry must return an empty registry each time it is called.
package vehicletest

// Package vehicletest checks implementations of the vehicle package's
// interfaces. A host that stores friend relationships or replay state in
// its own database runs
//
//	func TestMyRegistry(t *testing.T) {
//		vehicletest.TestFriendRegistry(t, func(t *testing.T) vehicle.FriendRegistry { return newMyRegistry(t) })
//	}
//
//	func TestMyReplayStore(t *testing.T) {
//		vehicletest.TestReplayStore(t, func(t *testing.T) vehicle.ReplayStore { return newMyReplayStore(t) })
//	}
//
// newRegistry and newStore must return an empty registry or store each
// time they are called.
package vehicletest

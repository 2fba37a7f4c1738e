// Package schedtest checks that a sched.SchedulerBackend honours the
// contract written on the interface, in the spirit of testing/fstest.TestFS
// and testing/slogtest.Run: a host that implements a VM or container manager
// calls TestSchedulerBackend from its own tests.
//
// # Quick start
//
//	func TestMyHypervisor(t *testing.T) {
//		schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
//			return newMyBackend(t) // fresh, empty, no injected failures
//		})
//	}
//
// The suite checks Kind, Create's reported allocation, duplicate IDs,
// Delete of unknown and deleted IDs, context cancellation, idempotent
// ResourceChanged, the ordering rules between Create and Delete of one ID,
// concurrent use, the optional sched.WorkloadLister capability (listing is
// linearizable with Create and Delete), the optional sched.ForeignLister
// capability (the view and LastSeq reflect exactly the changes applied,
// duplicates and changes numbered below LastSeq are ignored), and the
// backend behind a real sched.Coordinator.
package schedtest

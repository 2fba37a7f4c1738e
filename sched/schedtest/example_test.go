package schedtest_test

import (
	"testing"

	"github.com/payedge/payedge/sched"
	"github.com/payedge/payedge/sched/schedtest"
)

// A host checks its own SchedulerBackend from its tests with one call. The
// suite needs a *testing.T, so this example is compiled but not run;
// sched's own tests run it against MemBackend.
func ExampleTestSchedulerBackend() {
	_ = func(t *testing.T) {
		schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
			b, err := sched.NewMemBackend(sched.MemConfig{})
			if err != nil {
				t.Fatal(err)
			}
			return b
		})
	}
}

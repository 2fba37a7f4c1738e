package schedtest_test

import (
	"testing"
	"time"

	"github.com/payedge/payedge/sched"
	"github.com/payedge/payedge/sched/schedtest"
)

func TestMemBackendConforms(t *testing.T) {
	for _, cfg := range []sched.MemConfig{
		{Kind: sched.VM, Overhead: sched.Resources{MemoryBytes: 128 << 20}, OverheadFraction: 0.1},
		{Kind: sched.Container, Latency: time.Microsecond},
	} {
		t.Run(cfg.Kind.String(), func(t *testing.T) {
			schedtest.Run(t, func(t *testing.T) sched.SchedulerBackend {
				b, err := sched.NewMemBackend(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return b
			})
		})
	}
}

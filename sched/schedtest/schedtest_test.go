package schedtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
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
			schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
				b, err := sched.NewMemBackend(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return b
			})
		})
	}
}

// leaky violates the contract: Delete of an unknown ID succeeds, a
// cancelled Delete removes the workload but reports failure, a failed
// (cancelled) Create leaves its allocation behind, ListWorkloads misses a
// workload and ListForeign loses the last applied change number.
type leaky struct{ *sched.MemBackend }

func (l leaky) Delete(ctx context.Context, id string) error {
	if err := l.MemBackend.Delete(context.WithoutCancel(ctx), id); err != nil && !errors.Is(err, sched.ErrNotFound) {
		return err
	}
	return ctx.Err()
}

// ListWorkloads forgets the most recent workload.
func (l leaky) ListWorkloads(ctx context.Context) ([]sched.Workload, error) {
	ws, err := l.MemBackend.ListWorkloads(ctx)
	if len(ws) > 0 {
		ws = ws[:len(ws)-1]
	}
	return ws, err
}

// ListForeign reports the view without the number of the last change it
// applied, so a coordinator would number its changes below it.
func (l leaky) ListForeign(ctx context.Context) (sched.ForeignView, error) {
	v, err := l.MemBackend.ListForeign(ctx)
	v.LastSeq = 0
	return v, err
}

func (l leaky) Create(ctx context.Context, p sched.Placement) (sched.Allocation, error) {
	a, err := l.MemBackend.Create(context.WithoutCancel(ctx), p)
	if err != nil {
		return a, err
	}
	return a, ctx.Err()
}

// impatient breaks one ordering rule only: its Create takes a while before
// the workload exists, and a Delete meanwhile answers ErrNotFound at once
// instead of waiting for the Create, which then succeeds — so a Delete that
// said "not found" leaves a workload running.
type impatient struct{ *sched.MemBackend }

func (p impatient) Create(ctx context.Context, pl sched.Placement) (sched.Allocation, error) {
	if err := ctx.Err(); err != nil {
		return sched.Allocation{}, err
	}
	select {
	case <-time.After(2 * time.Millisecond):
	case <-ctx.Done():
		return sched.Allocation{}, ctx.Err()
	}
	return p.MemBackend.Create(context.WithoutCancel(ctx), pl)
}

// overwriting breaks idempotency by ID only: a Create of a live ID
// replaces the workload and succeeds again.
type overwriting struct{ *sched.MemBackend }

func (o overwriting) Create(ctx context.Context, p sched.Placement) (sched.Allocation, error) {
	a, err := o.MemBackend.Create(ctx, p)
	if errors.Is(err, sched.ErrDuplicateID) {
		if err := o.MemBackend.Delete(ctx, p.Request.ID); err != nil {
			return sched.Allocation{}, err
		}
		return o.MemBackend.Create(ctx, p)
	}
	return a, err
}

// TestBrokenBackendHelper runs the suite against leaky when asked to by
// TestRunDetectsBrokenBackend, in a child process.
func TestBrokenBackendHelper(t *testing.T) {
	if os.Getenv("SCHEDTEST_BROKEN") != "1" {
		t.Skip("helper for TestRunDetectsBrokenBackend")
	}
	schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
		b, _ := sched.NewMemBackend(sched.MemConfig{Kind: sched.Container})
		return leaky{b}
	})
}

// TestImpatientBackendHelper runs the suite against impatient when asked
// to by TestRunDetectsBrokenBackend, in a child process.
func TestImpatientBackendHelper(t *testing.T) {
	if os.Getenv("SCHEDTEST_BROKEN") != "impatient" {
		t.Skip("helper for TestRunDetectsBrokenBackend")
	}
	schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
		b, _ := sched.NewMemBackend(sched.MemConfig{Kind: sched.VM})
		return impatient{b}
	})
}

// TestOverwritingBackendHelper runs the suite against overwriting when
// asked to by TestRunDetectsBrokenBackend, in a child process.
func TestOverwritingBackendHelper(t *testing.T) {
	if os.Getenv("SCHEDTEST_BROKEN") != "overwriting" {
		t.Skip("helper for TestRunDetectsBrokenBackend")
	}
	schedtest.TestSchedulerBackend(t, func(t *testing.T) sched.SchedulerBackend {
		b, _ := sched.NewMemBackend(sched.MemConfig{Kind: sched.Container})
		return overwriting{b}
	})
}

func TestRunDetectsBrokenBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenBackendHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "SCHEDTEST_BROKEN=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a backend that breaks the contract:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestBrokenBackendHelper/DeleteUnknown", "--- FAIL: TestBrokenBackendHelper/CancelledContext",
		"--- FAIL: TestBrokenBackendHelper/DeleteCancelledContext", "--- FAIL: TestBrokenBackendHelper/DeleteDuringCreate",
		"--- FAIL: TestBrokenBackendHelper/ListWorkloads", "--- FAIL: TestBrokenBackendHelper/ListForeign"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Backends that break one ordering rule each.
	for _, tt := range []struct{ env, helper, rule string }{
		{"impatient", "TestImpatientBackendHelper", "DeleteWaitsForCreate"},
		{"overwriting", "TestOverwritingBackendHelper", "DuplicateCreate"},
		{"overwriting", "TestOverwritingBackendHelper", "ConcurrentCreateSameID"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^"+tt.helper+"$", "-test.v")
		cmd.Env = append(os.Environ(), "SCHEDTEST_BROKEN="+tt.env)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--- FAIL: "+tt.helper+"/"+tt.rule) {
			t.Errorf("the suite passed the %s backend's %s (%v):\n%s", tt.env, tt.rule, err, out)
		}
	}
}

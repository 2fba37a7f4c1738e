package sched

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// zeroCases calls every method of every exported type with methods on its
// zero value (and on a nil pointer where the receiver is one). None may
// panic; methods of the types that need a constructor must return
// ErrNotInitialized.
var zeroCases = []struct {
	name string
	fn   func(t *testing.T)
}{
	{"Coordinator", func(t *testing.T) {
		for _, c := range []*Coordinator{{}, nil} {
			zeroCoordinator(t, c)
		}
	}},
	{"MemBackend", func(t *testing.T) {
		for _, m := range []*MemBackend{{}, nil} {
			ctx := context.Background()
			if k := m.Kind(); k != 0 {
				t.Errorf("Kind() = %v, want 0", k)
			}
			_, err := m.Create(ctx, Placement{Request: Request{ID: "x", Kind: VM}, Node: "n"})
			notInit(t, "Create", err)
			notInit(t, "Delete", m.Delete(ctx, "x"))
			notInit(t, "ResourceChanged", m.ResourceChanged(ctx, Change{}))
			_, err = m.ListWorkloads(ctx)
			notInit(t, "ListWorkloads", err)
			_, err = m.ListForeign(ctx)
			notInit(t, "ListForeign", err)
			if m.Allocations() != nil || m.Foreign() != nil || m.View() != nil {
				t.Error("listing methods of a zero MemBackend are not empty")
			}
		}
	}},
	{"MemConfig", func(t *testing.T) {
		if err := (MemConfig{}).Validate(); err != nil {
			t.Errorf("zero MemConfig: %v", err)
		}
		if _, err := NewVMBackend(MemConfig{}); err != nil {
			t.Errorf("NewVMBackend(zero MemConfig): %v", err)
		}
	}},
	{"Config", func(t *testing.T) {
		if err := (Config{}).Validate(); err != nil {
			t.Errorf("zero Config: %v", err)
		}
		if err := DefaultConfig().Validate(); err != nil {
			t.Errorf("DefaultConfig: %v", err)
		}
	}},
	{"Ratios", func(t *testing.T) {
		if err := (Ratios{}).Validate(); err != nil {
			t.Errorf("zero Ratios: %v", err)
		}
	}},
	{"Weights", func(t *testing.T) {
		if err := (Weights{}).Validate(); err != nil {
			t.Errorf("zero Weights: %v", err)
		}
	}},
	{"Resources", func(t *testing.T) {
		var r Resources
		if !r.Add(r).IsZero() || !r.Sub(r).IsZero() || !r.Fits(r) || !r.Max(r).IsZero() || r.String() == "" {
			t.Error("zero Resources arithmetic")
		}
	}},
	{"Sampling", func(t *testing.T) { nonEmpty(t, Sampling(0).String()) }},
	{"TaintEffect", func(t *testing.T) { nonEmpty(t, TaintEffect(0).String()) }},
	{"Kind", func(t *testing.T) {
		nonEmpty(t, Kind(0).String())
		if Kind(0).Valid() {
			t.Error("zero Kind is valid")
		}
	}},
	{"ChangeOp", func(t *testing.T) { nonEmpty(t, ChangeOp(0).String()) }},
	{"Toleration", func(t *testing.T) {
		if (Toleration{}).Tolerates(Taint{Key: "k", Effect: TaintNoSchedule}) {
			t.Error("zero Toleration tolerates a keyed taint")
		}
	}},
	{"DriftKind", func(t *testing.T) { nonEmpty(t, DriftKind(0).String()) }},
	{"DriftEvent", func(t *testing.T) { nonEmpty(t, DriftEvent{}.String()) }},
	{"FindingKind", func(t *testing.T) { nonEmpty(t, FindingKind(0).String()) }},
	{"Finding", func(t *testing.T) { nonEmpty(t, Finding{}.String()) }},
	{"NodeVerdict", func(t *testing.T) { nonEmpty(t, NodeVerdict{}.String()) }},
	{"RequestError", func(t *testing.T) {
		e := &RequestError{}
		nonEmpty(t, e.Error())
		_ = e.Unwrap()
		if e.Is(ErrInvalidRequest) {
			t.Error("zero RequestError matches ErrInvalidRequest")
		}
	}},
	{"PlacementError", func(t *testing.T) {
		e := &PlacementError{}
		nonEmpty(t, e.Error())
		if len(e.Unwrap()) != 0 {
			t.Error("zero PlacementError unwraps to something")
		}
	}},
	{"BackendError", func(t *testing.T) {
		e := &BackendError{}
		nonEmpty(t, e.Error())
		_ = e.Unwrap()
		if !e.Is(ErrBackend) {
			t.Error("BackendError does not match ErrBackend")
		}
	}},
	{"NotifyError", func(t *testing.T) {
		e := &NotifyError{}
		nonEmpty(t, e.Error())
		_ = e.Unwrap()
		_ = e.Is(ErrNotifyFailed)
	}},
	{"NodeError", func(t *testing.T) {
		e := &NodeError{}
		nonEmpty(t, e.Error())
		_ = e.Unwrap()
	}},
}

func zeroCoordinator(t *testing.T, c *Coordinator) {
	t.Helper()
	ctx := context.Background()
	notInit(t, "AddNode", c.AddNode(ctx, Node{Name: "n1", Capacity: Resources{MilliCPU: 1000, MemoryBytes: gib}}))
	notInit(t, "RemoveNode", c.RemoveNode("n1"))
	_, err := c.DrainNode("n1")
	notInit(t, "DrainNode", err)
	notInit(t, "ResumeNode", c.ResumeNode(ctx, "n1"))
	_, err = c.Create(ctx, vmReq("x", 1000, gib))
	notInit(t, "Create", err)
	notInit(t, "Delete", c.Delete(ctx, "x"))
	_, err = c.Explain(vmReq("x", 1000, gib))
	notInit(t, "Explain", err)
	notInit(t, "Audit", c.Audit())
	notInit(t, "Flush", c.Flush(ctx))
	_, err = c.Recover(ctx)
	notInit(t, "Recover", err)
	_, err = c.Reconcile(ctx)
	notInit(t, "Reconcile", err)
	if c.Findings() != nil {
		t.Error("Findings of a zero Coordinator")
	}
	if c.Nodes() != nil || c.Allocations() != nil || c.Pending() != nil || c.RetryPending(ctx) != 0 || c.Stats() != (Stats{}) {
		t.Error("listing methods of a zero Coordinator are not empty")
	}
}

func notInit(t *testing.T, method string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotInitialized) {
		t.Errorf("%s on the zero value: %v, want ErrNotInitialized", method, err)
	}
}

func nonEmpty(t *testing.T, s string) {
	t.Helper()
	if s == "" {
		t.Error("empty string")
	}
}

func TestZeroValues(t *testing.T) {
	var names []string
	for _, tc := range zeroCases {
		names = append(names, tc.name)
		t.Run(tc.name, tc.fn)
	}
	zerotest.Covered(t, names...)
}

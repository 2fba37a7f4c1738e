package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// muted is the network between a coordinator and a manager that stops
// taking notifications while mute is set (the coordinator's outbox then
// keeps them).
type muted struct {
	*MemBackend
	mute *atomic.Bool
}

var errMuted = errors.New("manager unreachable")

func (m muted) ResourceChanged(ctx context.Context, ch Change) error {
	if m.mute.Load() {
		return errMuted
	}
	return m.MemBackend.ResourceChanged(ctx, ch)
}

// ListForeign hides the capability: the old coordinator of these tests
// talks to the manager only through SchedulerBackend.
func (m muted) ListForeign() {}

// checkViews fails unless each manager's view of the other equals what the
// other really runs.
func checkViews(t *testing.T, vm, ctr *MemBackend) {
	t.Helper()
	if diff := cmp.Diff(ctr.Allocations(), vm.Foreign()); diff != "" {
		t.Errorf("VM manager's view of the containers (-truth +view):\n%s", diff)
	}
	if diff := cmp.Diff(vm.Allocations(), ctr.Foreign()); diff != "" {
		t.Errorf("container manager's view of the VMs (-truth +view):\n%s", diff)
	}
}

// ledgerEvents drops the events about the managers' views (Recover on
// managers filled without a coordinator finds their views empty and
// repairs them).
func ledgerEvents(evs []DriftEvent) []DriftEvent {
	var out []DriftEvent
	for _, ev := range evs {
		if ev.Manager == 0 {
			out = append(out, ev)
		}
	}
	return out
}

// resize changes what m runs for id behind the coordinator's back, as a
// manager that resized the workload would report it.
func resize(m *MemBackend, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.own[id]
	w.Resources.MilliCPU += 500
	w.Resources.MemoryBytes += gib
	m.own[id] = w
}

// TestRecoverDeliversLostDeleted is defect 1 of the review after issue 21:
// a coordinator dies with a Deleted, a Created and a resize (Deleted then
// Created) still in its outbox for the container manager. The replacement
// recovers on the same managers; both managers' views must then equal
// what the other manager really runs — no phantom left in the container
// manager's view.
func TestRecoverDeliversLostDeleted(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewVMBackend(MemConfig{OverheadFraction: 0.05})
	ctr, _ := NewContainerBackend(MemConfig{})
	var mute atomic.Bool
	old, err := New(Config{Rand: rand.NewPCG(1, 2), NotifyRetries: 1, NotifyBackoff: time.Microsecond}, vm, muted{ctr, &mute})
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, old, 4, small)
	for _, r := range []Request{vmReq("vm-keep", 1000, gib), vmReq("vm-gone", 1000, gib), vmReq("vm-resized", 1000, gib), ctrReq("ctr-a", 500, gib)} {
		if _, err := old.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	checkViews(t, vm, ctr) // everything delivered so far

	mute.Store(true) // the container manager stops hearing from the coordinator
	if err := old.Delete(ctx, "vm-gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Create(ctx, vmReq("vm-new", 2000, 2*gib)); err != nil {
		t.Fatal(err)
	}
	resize(vm, "vm-resized")
	rep, err := old.Reconcile(ctx) // re-accounts it: Deleted then Created, queued
	if err != nil || rep.Repaired != 1 {
		t.Fatalf("old Reconcile: %+v, %v", rep, err)
	}
	if n := old.Stats().Outbox; n != 4 {
		t.Fatalf("old outbox holds %d changes, want 4 (Deleted, Created, Deleted+Created)", n)
	}
	// The old coordinator dies here with its outbox. Its ledger is gone.

	c, err := New(Config{Rand: rand.NewPCG(3, 4)}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 4, small)
	if _, err := c.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(groundTruth(vm, ctr), c.Allocations()); diff != "" {
		t.Fatalf("rebuilt ledger (-truth +ledger):\n%s", diff)
	}
	checkViews(t, vm, ctr)
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverWithClockBehind is defect 2: the replacement coordinator's
// clock is an hour behind its predecessor's (another host, or a stepped
// clock). Its announcements — the recovery's and every later one — must
// still be applied by managers that drop numbers at or below the last one
// they applied.
func TestRecoverWithClockBehind(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	old, err := New(Config{Rand: rand.NewPCG(5, 6), Now: func() time.Time { return t0 }}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, old, 4, small)
	for i := range 3 {
		if _, err := old.Create(ctx, vmReq(fmt.Sprint("vm-", i), 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Create(ctx, ctrReq(fmt.Sprint("ctr-", i), 500, gib)); err != nil {
			t.Fatal(err)
		}
	}
	checkViews(t, vm, ctr)

	behind := t0.Add(-time.Hour)
	c, err := New(Config{Rand: rand.NewPCG(7, 8), Now: func() time.Time { return behind }}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 4, small)
	if _, err := c.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	// Announcements of the new coordinator: creates and deletes of both
	// kinds.
	for _, r := range []Request{vmReq("vm-new", 1000, gib), ctrReq("ctr-new", 500, gib)} {
		if _, err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"vm-0", "ctr-1"} {
		if err := c.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(groundTruth(vm, ctr), c.Allocations()); diff != "" {
		t.Fatalf("ledger (-truth +ledger):\n%s", diff)
	}
	checkViews(t, vm, ctr)
}

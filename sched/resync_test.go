package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// TestReconcileResyncsViews: drift in a manager's view that appears while
// the coordinator runs (a manager that lost part of its state, a change it
// mangled) is found by Reconcile, reported as typed events naming the
// manager, repaired within Config.MaxRepairs, and left in Audit's findings
// until repaired.
func TestReconcileResyncsViews(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{MaxRepairs: 2}, MemConfig{}, MemConfig{})
	addNodes(t, c, 3, small)
	for i := range 3 {
		if _, err := c.Create(ctx, vmReq(fmt.Sprint("v", i), 1000, gib)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, ctrReq("k", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	ctr.mu.Lock()
	delete(ctr.foreign, "v0") // lost
	a := ctr.foreign["v1"]
	a.Resources.MilliCPU = 7000 // stale
	ctr.foreign["v1"] = a
	ctr.foreign["ghost"] = Allocation{ID: "ghost", Kind: VM, Node: "node-0000", NUMACell: -1, Resources: Resources{MilliCPU: 4000, MemoryBytes: 8 * gib}}
	ctr.foreign[""] = Allocation{Kind: VM, Node: "node-0000", NUMACell: -1} // malformed
	ctr.mu.Unlock()

	var seen []DriftEvent
	c.cfg.OnDrift = func(e DriftEvent) { seen = append(seen, e) }
	rep, err := c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range rep.Events {
		if ev.Manager != Container {
			t.Errorf("event %v names manager %v, want container", ev, ev.Manager)
		}
		got = append(got, fmt.Sprintf("%s %s %v", ev.Kind, ev.ID, ev.Repaired))
	}
	want := []string{"invalid  false", "view-phantom ghost false", "view-missing v0 true", "view-stale v1 true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("first Reconcile (-want +got):\n%s", diff)
	}
	if rep.Repaired != 2 || rep.Deferred != 1 || len(seen) != 4 {
		t.Fatalf("repaired %d deferred %d (bound 2), OnDrift saw %d", rep.Repaired, rep.Deferred, len(seen))
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	fk := map[FindingKind]int{}
	for _, f := range c.Findings() {
		fk[f.Kind]++
	}
	if fk[FindingPendingRepair] != 1 || fk[FindingUnreconciled] != 1 {
		t.Fatalf("findings %v", c.Findings())
	}
	if rep, err = c.Reconcile(ctx); err != nil || rep.Repaired != 1 || rep.Deferred != 0 {
		t.Fatalf("second Reconcile: %+v, %v", rep, err)
	}
	ctr.mu.Lock()
	delete(ctr.foreign, "")
	ctr.mu.Unlock()
	if rep, err = c.Reconcile(ctx); err != nil || len(rep.Events) != 0 {
		t.Fatalf("third Reconcile: %+v, %v", rep, err)
	}
	if f := c.Findings(); len(f) != 0 {
		t.Fatalf("findings after repair: %v", f)
	}
	checkViews(t, vm, ctr)
}

// TestReconcileSeqBehind: a running coordinator whose numbering fell
// behind a manager (another coordinator with a clock ahead sent it a
// change) has its announcements dropped. Reconcile reports DriftSeqBehind,
// numbers above the manager, and re-announces what the manager dropped;
// later announcements are applied.
func TestReconcileSeqBehind(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c, vm, ctr := newTestCoordinator(t, Config{Now: func() time.Time { return now }}, MemConfig{}, MemConfig{})
	addNodes(t, c, 2, small)
	if _, err := c.Create(ctx, vmReq("before", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	// A change numbered an hour ahead reaches the container manager.
	ahead := uint64(now.Add(time.Hour).UnixNano())
	if err := ctr.ResourceChanged(ctx, Change{Seq: ahead, Op: Deleted, Allocation: Allocation{ID: "nobody", Kind: VM, Node: "node-0000"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, vmReq("dropped", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	if len(ctr.Foreign()) != 1 {
		t.Fatalf("the manager applied a change numbered below its last one: %v", ctr.Foreign())
	}
	rep, err := c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range rep.Events {
		got = append(got, fmt.Sprintf("%s %s %s %v", ev.Kind, ev.Manager, ev.ID, ev.Repaired))
	}
	want := []string{"view-missing container dropped true", "seq-behind container  true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if _, err := c.Create(ctx, vmReq("after", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "before"); err != nil {
		t.Fatal(err)
	}
	checkViews(t, vm, ctr)
	if rep, err := c.Reconcile(ctx); err != nil || len(rep.Events) != 0 {
		t.Fatalf("second Reconcile: %+v, %v", rep, err)
	}
}

// TestRecoverFencesPredecessor: a predecessor that is not quite dead keeps
// sending after the replacement recovered. Once a manager applied one of
// the replacement's changes (numbered in a new epoch), it drops the
// predecessor's; the replacement's Reconcile then adopts what the
// predecessor created and tells the other manager.
func TestRecoverFencesPredecessor(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	old, _ := New(Config{Now: func() time.Time { return t0 }}, vm, ctr)
	addNodes(t, old, 2, small)
	if _, err := old.Create(ctx, vmReq("v0", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	c, _ := New(Config{Now: func() time.Time { return t0.Add(-time.Minute) }}, vm, ctr)
	addNodes(t, c, 2, small)
	if _, err := c.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, vmReq("v1", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	// The predecessor, still running, places a VM: the VM runs, but the
	// container manager ignores the predecessor's announcement.
	if _, err := old.Create(ctx, vmReq("zombie", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	for _, a := range ctr.Foreign() {
		if a.ID == "zombie" {
			t.Fatal("the container manager applied a change of the fenced predecessor")
		}
	}
	rep, err := c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Events) != 1 || rep.Events[0].Kind != DriftOrphan || !rep.Events[0].Repaired {
		t.Fatalf("Reconcile: %v", rep.Events)
	}
	checkViews(t, vm, ctr)
}

// TestSeqExhausted: a manager that reports having applied a change number
// too close to 2^64 leaves no room to number above it. Recover refuses
// with ErrSeqExhausted and changes nothing; Reconcile reports the manager
// (unrepaired, in Audit's findings) and sends it nothing.
func TestSeqExhausted(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	if _, err := vm.Create(ctx, Placement{Request: vmReq("v", 1000, gib), Node: "node-0000", NUMACell: -1}); err != nil {
		t.Fatal(err)
	}
	huge := Change{Seq: math.MaxUint64 - 7, Op: Deleted, Allocation: Allocation{ID: "x", Kind: VM, Node: "node-0000"}}
	if err := ctr.ResourceChanged(ctx, huge); err != nil {
		t.Fatal(err)
	}
	c, _ := New(Config{}, vm, ctr)
	addNodes(t, c, 1, small)
	if _, err := c.Recover(ctx); !errors.Is(err, ErrSeqExhausted) {
		t.Fatalf("Recover: %v, want ErrSeqExhausted", err)
	}
	if a := c.Allocations(); len(a) != 0 {
		t.Fatalf("a failed Recover changed the ledger: %v", a)
	}
	rep, err := c.Reconcile(ctx) // adopts v as an orphan; the view stays as it is
	if err != nil {
		t.Fatal(err)
	}
	var seq *DriftEvent
	for i, ev := range rep.Events {
		if ev.Kind == DriftSeqBehind {
			seq = &rep.Events[i]
		}
		if ev.Manager == Container && ev.Kind != DriftSeqBehind {
			t.Errorf("view repair toward a manager that drops everything: %v", ev)
		}
	}
	if seq == nil || seq.Repaired || seq.Manager != Container {
		t.Fatalf("events %v", rep.Events)
	}
	found := false
	for _, f := range c.Findings() {
		found = found || (f.Kind == FindingUnreconciled && f.ID == "")
	}
	if !found {
		t.Fatalf("findings %v", c.Findings())
	}
}

// bare is a manager without ForeignLister.
type bare struct{ b *MemBackend }

func (b bare) Kind() Kind { return b.b.Kind() }
func (b bare) Create(ctx context.Context, p Placement) (Allocation, error) {
	return b.b.Create(ctx, p)
}
func (b bare) Delete(ctx context.Context, id string) error { return b.b.Delete(ctx, id) }
func (b bare) ResourceChanged(ctx context.Context, ch Change) error {
	return b.b.ResourceChanged(ctx, ch)
}
func (b bare) ListWorkloads(ctx context.Context) ([]Workload, error) {
	return b.b.ListWorkloads(ctx)
}

// TestRecoverWithoutForeignLister: managers without the capability keep
// the earlier behaviour — Recover announces every workload, and no view
// event is reported.
func TestRecoverWithoutForeignLister(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	for _, p := range []Placement{
		{Request: vmReq("v", 1000, gib), Node: "node-0000", NUMACell: -1},
	} {
		if _, err := vm.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ctr.Create(ctx, Placement{Request: ctrReq("k", 500, gib), Node: "node-0000", NUMACell: -1}); err != nil {
		t.Fatal(err)
	}
	c, _ := New(Config{}, bare{vm}, bare{ctr})
	addNodes(t, c, 1, small)
	rep, err := c.Recover(ctx)
	if err != nil || rep.Recovered != 2 || len(rep.Events) != 0 {
		t.Fatalf("Recover: %+v, %v", rep, err)
	}
	checkViews(t, vm, ctr)
	if rep, err := c.Reconcile(ctx); err != nil || len(rep.Events) != 0 {
		t.Fatalf("Reconcile: %+v, %v", rep, err)
	}
}

// TestReconcileViewsNoFalseDrift: with notifications failing at random
// (the outbox backs up and changes are in flight for a while) and creates
// and deletes running, Reconcile must not take a change still on its way
// for drift in a manager's view; after a final Flush the views are right.
func TestReconcileViewsNoFalseDrift(t *testing.T) {
	ctx := context.Background()
	var events atomic.Int64
	var first atomic.Value
	cfg := Config{Rand: rand.NewPCG(8, 8), NotifyRetries: 1, NotifyBackoff: 20 * time.Microsecond,
		OnDrift: func(e DriftEvent) {
			events.Add(1)
			first.CompareAndSwap(nil, e.String())
		}}
	flaky := MemConfig{NotifyFailureRate: 0.3, Latency: 10 * time.Microsecond}
	c, vm, ctr := newTestCoordinator(t, cfg, flaky, flaky)
	addNodes(t, c, 8, small)
	passes := churnWhileReconciling(t, c, churn{goroutines: 4, ops: 250, keep: 10, delEvery: 2, seed: 9})
	if n := events.Load(); n != 0 {
		t.Fatalf("%d false drift events in %d passes, first: %v", n, passes, first.Load())
	}
	for range 100 {
		if c.Flush(ctx) == nil {
			break
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkViews(t, vm, ctr)
	if rep, err := c.Reconcile(ctx); err != nil || len(rep.Events) != 0 {
		t.Fatalf("final Reconcile: %+v, %v", rep, err)
	}
	t.Logf("%d Reconcile passes, %d notify failures", passes, c.Stats().NotifyFailures)
}

func TestDriftKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := DriftOrphan; k <= DriftSeqBehind; k++ {
		s := k.String()
		if seen[s] || s == fmt.Sprintf("DriftKind(%d)", uint8(k)) {
			t.Errorf("DriftKind %d has name %q", k, s)
		}
		seen[s] = true
	}
	if s := (DriftSeqBehind + 1).String(); s != fmt.Sprintf("DriftKind(%d)", uint8(DriftSeqBehind+1)) {
		t.Errorf("unknown kind named %q", s)
	}
}

func TestNextEpoch(t *testing.T) {
	for _, tt := range []struct {
		s, want uint64
		ok      bool
	}{
		{0, 1 << 40, true},
		{1<<40 - 1, 1 << 40, true},
		{1 << 40, 2 << 40, true},
		{1764849600000000000, (1764849600000000000>>40 + 1) << 40, true},
		{math.MaxUint64 - 1<<40 - 1<<40 + 1, math.MaxUint64 - 1<<40 + 1, true},
		{math.MaxUint64 - 1<<40 + 1, 0, false},
		{math.MaxUint64, 0, false},
	} {
		got, ok := nextEpoch(tt.s)
		if got != tt.want || ok != tt.ok {
			t.Errorf("nextEpoch(%d) = %d, %v; want %d, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

// TestSortEvents: the index sort with in-place permutation equals a
// stable sort, ties (same kind, ID and node) kept in their order.
func TestSortEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for n := range 200 {
		evs := make([]DriftEvent, n)
		for i := range evs {
			evs[i] = DriftEvent{Kind: DriftKind(1 + rng.IntN(4)), ID: fmt.Sprint(rng.IntN(8)), Node: fmt.Sprint(rng.IntN(2)), Detail: fmt.Sprint(i)}
		}
		want := slices.Clone(evs)
		slices.SortStableFunc(want, func(a, b DriftEvent) int { return cmpEvents(&a, &b) })
		sortEvents(evs)
		if diff := cmp.Diff(want, evs); diff != "" {
			t.Fatalf("n=%d (-stable +got):\n%s", n, diff)
		}
	}
}

package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Evictions are committed changes like any other: the other manager hears
// of them before Create returns, even when the preempting request then
// fails on its backend.
func TestPreemptionNotifiesEvenWhenCreateFails(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	c, err := New(Config{Preemption: true}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	node := Resources{MilliCPU: 8000, MemoryBytes: 32 * gib}
	addNodes(t, c, 1, node)
	if _, err := c.Create(ctx, Request{ID: "lo", Kind: Container, Resources: node}); err != nil {
		t.Fatal(err)
	}
	if got := len(vm.Foreign()); got != 1 {
		t.Fatalf("VM manager knows %d foreign workloads, want 1", got)
	}
	vm.failNodes["node-0000"] = true
	_, err = c.Create(ctx, Request{ID: "hi", Kind: VM, Priority: 5, Resources: node})
	if err == nil {
		t.Fatal("Create succeeded on a failing backend")
	}
	if got := ctr.Allocations(); len(got) != 0 {
		t.Fatalf("victim not evicted: %v", got)
	}
	if got := vm.Foreign(); len(got) != 0 {
		t.Fatalf("Create returned %v, but the VM manager still sees the evicted workload: %v", err, got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// Audit checks each NUMA cell's ledger against the sum of the pinned
// records on it, and a forced (over-committed) workload elsewhere on the
// node does not excuse a cell that capacity-checked claims overflow.
func TestAuditChecksNUMACells(t *testing.T) {
	ctx := context.Background()
	numa := []NUMACell{{4000, 16 * gib}, {4000, 16 * gib}}
	setup := func(t *testing.T) (*Coordinator, *nodeState) {
		vm := newScripted(t, MemConfig{Kind: VM})
		ctr := newScripted(t, MemConfig{Kind: Container})
		c, err := New(Config{}, vm, ctr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddNode(ctx, Node{Name: "n", Capacity: small, NUMA: numa}); err != nil {
			t.Fatal(err)
		}
		r := vmReq("pin", 3000, 8*gib)
		r.PinNUMA = true
		if _, err := c.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := c.Audit(); err != nil {
			t.Fatal(err)
		}
		return c, c.byName["n"]
	}
	t.Run("stale cell ledger", func(t *testing.T) {
		c, ns := setup(t)
		c.mu.Lock()
		for i := range ns.cellUsed {
			ns.cellUsed[i] = Resources{} // forgets the pinned claim
		}
		c.mu.Unlock()
		if err := c.Audit(); !errors.Is(err, ErrLedgerBug) {
			t.Fatalf("Audit missed a NUMA cell ledger that lost its pinned claim: %v", err)
		}
	})
	t.Run("forced workload does not excuse a cell", func(t *testing.T) {
		c, ns := setup(t)
		// An unpinned workload accounted as its manager reports it (a
		// failed undo, an adopted orphan) over-commits the node.
		c.mu.Lock()
		w := &workload{req: Request{ID: "big", Kind: Container, Resources: small}, state: stLive, cell: -1, claim: small}
		c.work["big"] = w
		c.claim(w, ns, -1, small)
		c.settle(w)
		if !w.forced {
			c.mu.Unlock()
			t.Fatal("setup: the adopted workload is not forced")
		}
		c.mu.Unlock()
		if err := c.Audit(); err != nil {
			t.Fatalf("a known over-commit is reported as a bug: %v", err)
		}
		// Now corrupt the pinned workload's record: the cell ledger
		// still sums correctly but the capacity-checked claim overflows
		// the cell.
		c.mu.Lock()
		pin := c.work["pin"]
		ns.cellUsed[pin.cell].MilliCPU += 2000
		pin.res.MilliCPU += 2000
		ns.used.MilliCPU += 2000
		c.updateIndex(ns)
		c.mu.Unlock()
		if err := c.Audit(); !errors.Is(err, ErrLedgerBug) {
			t.Fatalf("Audit excused an overflowing NUMA cell because another workload is forced: %v", err)
		}
	})
}

// lateAnswer creates the workload at once but holds the answer until
// released: a Create in flight whose workload already runs.
type lateAnswer struct {
	*MemBackend
	created, release chan struct{}
}

func (l *lateAnswer) Create(ctx context.Context, p Placement) (Allocation, error) {
	a, err := l.MemBackend.Create(ctx, p)
	close(l.created)
	<-l.release
	return a, err
}

// A node on which a Create in flight already runs a workload is not lost,
// even when every workload the ledger records there is missing.
func TestReconcileNodeLostIgnoresNothingInFlight(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	cb, _ := NewMemBackend(MemConfig{Kind: Container})
	ctr := &lateAnswer{MemBackend: cb, created: make(chan struct{}), release: make(chan struct{})}
	c, err := New(Config{}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 1, small)
	close(ctr.created) // the first Create answers at once
	close(ctr.release)
	if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	if err := vm.Delete(ctx, "a"); err != nil { // lost behind the coordinator's back
		t.Fatal(err)
	}
	ctr.created, ctr.release = make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Create(ctx, ctrReq("b", 1000, gib))
		done <- err
	}()
	<-ctr.created
	rep, err := c.Reconcile(ctx)
	close(ctr.release)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var kinds []DriftKind
	for _, ev := range rep.Events {
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) != 1 || kinds[0] != DriftMissing {
		t.Fatalf("events %v, want one missing (the node runs b)", rep.Events)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// A second Recover (allowed while the first accounted nothing) rebuilds
// the whole picture: what the first could not account and the second did
// is no longer reported.
func TestRecoverAgainClearsStaleFindings(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	if _, err := vm.Create(ctx, Placement{Request: vmReq("b", 1000, gib), Node: "late", NUMACell: -1}); err != nil {
		t.Fatal(err)
	}
	c, _ := New(Config{}, vm, ctr)
	rep, err := c.Recover(ctx)
	if err != nil || rep.Recovered != 0 || len(rep.Events) != 1 || rep.Events[0].Kind != DriftUnknownNode {
		t.Fatalf("first Recover: %+v, %v", rep, err)
	}
	if err := c.AddNode(ctx, Node{Name: "late", Capacity: small}); err != nil {
		t.Fatal(err)
	}
	rep, err = c.Recover(ctx)
	if err != nil || rep.Recovered != 1 || len(ledgerEvents(rep.Events)) != 0 {
		t.Fatalf("second Recover: %+v, %v", rep, err)
	}
	if f := c.Findings(); len(f) != 0 {
		t.Fatalf("findings after a clean second Recover: %v", f)
	}
}

// slowAnswer creates the workload, then, one time in four, answers only
// after the coordinator's backend timeout has passed: a lost answer the
// coordinator must undo.
type slowAnswer struct {
	*MemBackend
	mu  sync.Mutex
	rng *rand.Rand
}

func (s *slowAnswer) Create(ctx context.Context, p Placement) (Allocation, error) {
	a, err := s.MemBackend.Create(context.WithoutCancel(ctx), p)
	s.mu.Lock()
	late := s.rng.IntN(4) == 0
	s.mu.Unlock()
	if late {
		<-ctx.Done()
		return Allocation{}, ctx.Err()
	}
	return a, err
}

// Reconcile beside creates whose answers are lost (the coordinator undoes
// them), deletes and preemptions sees no drift, and the ledger ends equal
// to what the managers run.
func TestReconcileNoFalseDriftWithLostAnswers(t *testing.T) {
	ctx := context.Background()
	var events atomic.Int64
	var first atomic.Value
	vm, _ := NewMemBackend(MemConfig{Kind: VM, OverheadFraction: 0.05})
	cb, _ := NewMemBackend(MemConfig{Kind: Container})
	ctr := &slowAnswer{MemBackend: cb, rng: rand.New(rand.NewPCG(1, 2))}
	c, err := New(Config{BackendTimeout: 2 * time.Millisecond, Preemption: true, MaxPending: 8, Rand: rand.NewPCG(9, 9),
		OnDrift: func(e DriftEvent) { events.Add(1); first.CompareAndSwap(nil, e.String()) }}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 6, small)
	passes := churnWhileReconciling(t, c, churn{goroutines: 4, ops: 150, keep: 8, delEvery: 3, seed: 3, priorities: true,
		// A list slower than the short timeout (-race) leaves the ledger unchanged.
		skip: func(err error) bool { return errors.Is(err, ErrBackendTimeout) },
		pass: c.Audit})
	if n := events.Load(); n != 0 {
		t.Fatalf("%d false drift events in %d passes, first: %v", n, passes, first.Load())
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(groundTruth(vm, cb), c.Allocations()); diff != "" {
		t.Fatalf("ledger differs (-truth +ledger):\n%s", diff)
	}
	if diff := cmp.Diff(cb.Allocations(), vm.Foreign()); diff != "" {
		t.Fatalf("VM manager's view of the containers (-truth +view):\n%s", diff)
	}
	if c.Stats().Preempted == 0 {
		t.Log("no preemption happened")
	}
	t.Logf("%d Reconcile passes, stats %+v", passes, c.Stats())
}

// A failed list names no workload or node; its error says so plainly.
func TestBackendErrorWithoutIDOrNode(t *testing.T) {
	e := &BackendError{Kind: VM, Op: "list", Err: ErrInjected}
	if got := e.Error(); strings.Contains(got, `""`) {
		t.Fatalf("Error() = %q prints empty fields", got)
	}
	e = &BackendError{Kind: VM, Op: "create", ID: "a", Node: "n", Err: ErrInjected}
	if got, want := e.Error(), `vm backend create "a" on "n": `+ErrInjected.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// badList lists part of what its manager runs, then fails, while fail is
// set.
type badList struct {
	*MemBackend
	fail *atomic.Bool
}

func (b badList) ListWorkloads(ctx context.Context) ([]Workload, error) {
	ws, err := b.MemBackend.ListWorkloads(ctx)
	if err == nil && b.fail.Load() {
		return ws[:len(ws)/2], ErrInjected
	}
	return ws, err
}

// A manager that fails in the middle of its list leaves the ledger, the
// other manager and Config.OnDrift untouched, does not leave the
// coordinator refusing placements, and a later Recover succeeds.
func TestRecoverManagerFailsMidList(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	cb, _ := NewMemBackend(MemConfig{Kind: Container})
	for i := range 4 {
		if _, err := vm.Create(ctx, Placement{Request: vmReq(fmt.Sprint("v", i), 1000, gib), Node: "node-0000", NUMACell: -1}); err != nil {
			t.Fatal(err)
		}
		if _, err := cb.Create(ctx, Placement{Request: ctrReq(fmt.Sprint("k", i), 500, gib), Node: "node-0001", NUMACell: -1}); err != nil {
			t.Fatal(err)
		}
	}
	var fail atomic.Bool
	fail.Store(true)
	drift := 0
	c, _ := New(Config{OnDrift: func(DriftEvent) { drift++ }}, vm, badList{cb, &fail})
	addNodes(t, c, 2, small)
	_, err := c.Recover(ctx)
	if be, ok := errors.AsType[*BackendError](err); !ok || be.Kind != Container || !errors.Is(err, ErrInjected) {
		t.Fatalf("Recover with a failing list: %v", err)
	}
	if got := c.Allocations(); len(got) != 0 || drift != 0 || len(cb.Foreign()) != 0 || len(c.Findings()) != 0 {
		t.Fatalf("a failed Recover changed things: ledger %v, %d drift events, container manager told %v, findings %v",
			got, drift, cb.Foreign(), c.Findings())
	}
	if _, err := c.Reconcile(ctx); !errors.Is(err, ErrInjected) {
		t.Fatalf("Reconcile with a failing list: %v", err)
	}
	fail.Store(false)
	rep, err := c.Recover(ctx)
	if err != nil || rep.Recovered != 8 || len(ledgerEvents(rep.Events)) != 0 {
		t.Fatalf("Recover after the list recovered: %+v, %v", rep, err)
	}
	if diff := cmp.Diff(groundTruth(vm, cb), c.Allocations()); diff != "" {
		t.Fatalf("ledger (-truth +ledger):\n%s", diff)
	}
	if _, err := c.Create(ctx, vmReq("new", 1000, gib)); err != nil {
		t.Fatalf("Create after Recover: %v", err)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// Planning a preemption reads every workload record; a request that fits
// nowhere and finds nothing to evict must not hold the write lock for
// that, or every commit and delete waits behind it.
func TestPreemptionPlansUnderReadLock(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newTestCoordinator(t, Config{Preemption: true}, MemConfig{}, MemConfig{})
	addNodes(t, c, 2, small)
	for i := range 2 {
		if _, err := c.Create(ctx, Request{ID: fmt.Sprint("w", i), Kind: VM, Priority: 5, Resources: small}); err != nil {
			t.Fatal(err)
		}
	}
	planned, shared := 0, 0
	c.onPlan = func() {
		planned++
		if c.mu.TryRLock() {
			shared++
			c.mu.RUnlock()
		}
	}
	if _, err := c.Create(ctx, Request{ID: "eq", Kind: VM, Priority: 5, Resources: small}); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("equal priority: %v", err)
	}
	if planned == 0 || shared != planned {
		t.Fatalf("%d preemption plans, %d of them under a shared lock", planned, shared)
	}
	// With victims the plan is made again under the write lock and runs.
	p, err := c.Create(ctx, Request{ID: "hi", Kind: VM, Priority: 9, Resources: small})
	if err != nil || len(p.Preempted) != 1 {
		t.Fatalf("preempting Create: %+v, %v", p, err)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// One request evicts on one node at most: when its backend then fails
// there, the next attempt does not evict on another node too.
func TestPreemptionEvictsOnOneNodeOnly(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	c, err := New(Config{Preemption: true}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 3, small)
	for i := range 3 {
		if _, err := c.Create(ctx, Request{ID: fmt.Sprint("lo", i), Kind: Container, Resources: small}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		vm.failNodes[fmt.Sprintf("node-%04d", i)] = true
	}
	_, err = c.Create(ctx, Request{ID: "hi", Kind: VM, Priority: 5, Resources: small})
	if !errors.Is(err, ErrBackend) {
		t.Fatalf("Create on a failing backend: %v, want ErrBackend", err)
	}
	if got := len(ctr.Allocations()); got != 2 {
		t.Fatalf("%d of 3 low-priority workloads left: one failed request evicted on %d nodes", got, 3-got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// craftedList lists exactly what it is given.
type craftedList struct {
	*MemBackend
	list []Workload
}

func (c craftedList) ListWorkloads(ctx context.Context) ([]Workload, error) {
	return append([]Workload(nil), c.list...), nil
}

// Malformed listings are reported as DriftInvalid and never accounted; a
// well-formed allocation with a malformed request is accounted with the
// minimal request.
func TestRecoverMalformedListings(t *testing.T) {
	ctx := context.Background()
	r := Resources{MilliCPU: 1000, MemoryBytes: gib}
	alloc := func(id string, k Kind, node string, cell int, res Resources) Workload {
		return Workload{Allocation: Allocation{ID: id, Kind: k, Node: node, NUMACell: cell, Resources: res}}
	}
	manyLabels := map[string]string{}
	for i := range MaxLabels + 1 {
		manyLabels[fmt.Sprint("k", i)] = "v"
	}
	good1 := alloc("ok-bad-request", Container, "node-0000", -1, r)
	good1.Request = Request{ID: "ok-bad-request", Kind: Container, Resources: r, NodeSelector: manyLabels, Priority: 7}
	good2 := alloc("ok-other-request", Container, "node-0000", -1, r)
	good2.Request = Request{ID: "someone-else", Kind: Container, Resources: r, Priority: 7}
	list := []Workload{
		alloc("", Container, "node-0000", -1, r),
		alloc(strings.Repeat("x", MaxIDLen+1), Container, "node-0000", -1, r),
		alloc("wrong-kind", VM, "node-0000", -1, r),
		alloc("negative", Container, "node-0000", -1, Resources{MilliCPU: -1, MemoryBytes: gib}),
		alloc("huge", Container, "node-0000", -1, Resources{MilliCPU: MaxQuantity + 1, MemoryBytes: gib}),
		alloc("cell-neg", Container, "node-0000", -2, r),
		alloc("cell-missing", Container, "node-0000", 3, r),
		alloc("no-node", Container, "", -1, r),
		good1, good2,
	}
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	cb, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, craftedList{cb, list})
	addNodes(t, c, 1, small)
	rep, err := c.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	invalid := 0
	for _, ev := range ledgerEvents(rep.Events) {
		if ev.Kind != DriftInvalid || ev.Repaired {
			t.Errorf("event %v, want invalid and unrepaired", ev)
		}
		invalid++
	}
	if rep.Recovered != 2 || invalid != 8 || rep.Listed != len(list) {
		t.Fatalf("recovered %d, %d invalid of %d listed: %v", rep.Recovered, invalid, rep.Listed, rep.Events)
	}
	got := c.Allocations()
	if len(got) != 2 || got[0].ID != "ok-bad-request" || got[1].ID != "ok-other-request" {
		t.Fatalf("ledger %v", got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	// Reconcile reports them again, repairs nothing and changes nothing.
	rep, err = c.Reconcile(ctx)
	if err != nil || rep.Repaired != 0 || len(rep.Events) != 8 {
		t.Fatalf("Reconcile: %+v, %v", rep, err)
	}
	if diff := cmp.Diff(got, c.Allocations()); diff != "" {
		t.Fatalf("Reconcile changed the ledger (-before +after):\n%s", diff)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

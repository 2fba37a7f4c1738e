package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var errKilled = errors.New("coordinator process is dead")

// crashable is the network between a coordinator process and a manager: a
// call sent before the crash reaches the manager and takes effect there
// (after lat), while its answer may be lost; after the crash nothing is sent.
type crashable struct {
	b        *MemBackend
	dead     *atomic.Bool
	lat      *atomic.Int64 // nanoseconds before a call reaches the manager
	inflight *sync.WaitGroup
}

func (c crashable) Kind() Kind { return c.b.Kind() }

func (c crashable) enter() bool {
	if c.dead.Load() {
		return false
	}
	c.inflight.Add(1)
	if d := time.Duration(c.lat.Load()); d > 0 {
		time.Sleep(d)
	}
	return true
}

func (c crashable) Create(ctx context.Context, p Placement) (Allocation, error) {
	if !c.enter() {
		return Allocation{}, errKilled
	}
	defer c.inflight.Done()
	// The manager finishes what it received even if the sender dies; the
	// answer to a dead sender is lost.
	a, err := c.b.Create(context.WithoutCancel(ctx), p)
	if c.dead.Load() {
		return Allocation{}, errKilled
	}
	return a, err
}

func (c crashable) Delete(ctx context.Context, id string) error {
	if !c.enter() {
		return errKilled
	}
	defer c.inflight.Done()
	err := c.b.Delete(context.WithoutCancel(ctx), id)
	if c.dead.Load() {
		return errKilled
	}
	return err
}

func (c crashable) ResourceChanged(ctx context.Context, ch Change) error {
	if !c.enter() {
		return errKilled
	}
	defer c.inflight.Done()
	return c.b.ResourceChanged(ctx, ch)
}

// groundTruth is what the managers really run, sorted by ID.
func groundTruth(vm, ctr *MemBackend) []Allocation {
	out := append(vm.Allocations(), ctr.Allocations()...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// usage sums allocations per node.
func usage(allocs []Allocation) map[string]Resources {
	u := make(map[string]Resources)
	for _, a := range allocs {
		u[a.Node] = u[a.Node].Add(a.Resources)
	}
	return u
}

// TestCrashRecovery kills a coordinator while thousands of workloads run
// and operations are in flight, starts a new one on the same managers,
// checks that the rebuilt ledger equals what the managers run, then keeps
// placing and deleting and checks that no node is ever over-committed by
// the new coordinator.
func TestCrashRecovery(t *testing.T) {
	ctx := context.Background()
	const nodes, prefill = 120, 3000
	nodeCap := Resources{MilliCPU: 64000, MemoryBytes: 256 * gib, DiskBytes: 4000 * gib}
	vm, _ := NewMemBackend(MemConfig{Kind: VM, OverheadFraction: 0.05})
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	var dead atomic.Bool
	var lat atomic.Int64
	var inflight sync.WaitGroup
	old, err := New(Config{Rand: rand.NewPCG(1, 1), MaxPending: 64},
		crashable{vm, &dead, &lat, &inflight}, crashable{ctr, &dead, &lat, &inflight})
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, old, nodes, nodeCap)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range prefill {
		if _, err := old.Create(ctx, workloadMix(rng, fmt.Sprint("pre-", i))); err != nil {
			t.Fatal(err)
		}
	}

	// Operations in flight: 8 goroutines create and delete with a small
	// manager latency until the process dies.
	lat.Store(int64(50 * time.Microsecond))
	var wg sync.WaitGroup
	var ops atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; !dead.Load(); i++ {
				if rng.IntN(5) < 2 {
					_ = old.Delete(ctx, fmt.Sprint("pre-", rng.IntN(prefill)))
				} else {
					_, _ = old.Create(ctx, workloadMix(rng, fmt.Sprintf("g%d-%d", g, i)))
				}
				ops.Add(1)
			}
		})
	}
	for ops.Load() < 400 {
		time.Sleep(time.Millisecond)
	}
	dead.Store(true) // the old process dies: its ledger is gone
	lastLedger := old.Allocations()
	inflight.Wait() // what it had sent lands at the managers
	wg.Wait()       // (its goroutines only see errors from here on)
	truth := groundTruth(vm, ctr)
	if len(truth) < 2000 {
		t.Fatalf("only %d live workloads at the crash", len(truth))
	}
	// The dead coordinator's ledger lags the managers by the operations
	// that were in flight (answers it never got, undos it could not send).
	inflightDiff := 0
	oldLedger := map[string]Allocation{}
	for _, a := range lastLedger {
		oldLedger[a.ID] = a
	}
	for _, a := range truth {
		if oldLedger[a.ID] != a {
			inflightDiff++
		}
		delete(oldLedger, a.ID)
	}
	inflightDiff += len(oldLedger)
	t.Logf("%d workloads live at the crash after %d operations; the dead ledger disagreed with the managers on %d", len(truth), ops.Load(), inflightDiff)
	if inflightDiff == 0 {
		t.Fatal("no operation was in flight at the crash; the test exercised nothing")
	}

	c, err := New(Config{Rand: rand.NewPCG(3, 3)}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, nodes, nodeCap)
	rep, err := c.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recovered != len(truth) || len(ledgerEvents(rep.Events)) != 0 {
		t.Fatalf("recovered %d of %d, events %v", rep.Recovered, len(truth), rep.Events)
	}
	if diff := cmp.Diff(truth, c.Allocations()); diff != "" {
		t.Fatalf("rebuilt ledger differs from the managers (-truth +ledger):\n%s", diff)
	}
	// The changes the dead coordinator never delivered (its outbox lagged
	// behind 8 goroutines) are found in the managers' views and sent.
	for _, ev := range rep.Events {
		if !ev.Repaired {
			t.Errorf("unrepaired %v", ev)
		}
	}
	t.Logf("%d view differences repaired by Recover", len(rep.Events))
	checkViews(t, vm, ctr)
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	atRecovery := usage(truth)
	alloc := make(map[string]Resources)
	for _, n := range c.Nodes() {
		alloc[n.Node.Name] = n.Allocatable
	}

	// Continue: place until full and churn, from several goroutines.
	var wg2 sync.WaitGroup
	for g := range 4 {
		wg2.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 10))
			for i := range 1500 {
				_, _ = c.Create(ctx, workloadMix(rng, fmt.Sprintf("new%d-%d", g, i)))
				if i%3 == 0 {
					_ = c.Delete(ctx, truth[rng.IntN(len(truth))].ID)
				}
			}
		})
	}
	wg2.Wait()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	now := groundTruth(vm, ctr)
	if diff := cmp.Diff(now, c.Allocations()); diff != "" {
		t.Fatalf("ledger differs from the managers after continuing (-truth +ledger):\n%s", diff)
	}
	checkViews(t, vm, ctr)
	for node, u := range usage(now) {
		if !u.Fits(alloc[node]) && !u.Fits(atRecovery[node]) {
			t.Errorf("node %s over-committed by the new coordinator: %v of %v (was %v at recovery)", node, u, alloc[node], atRecovery[node])
		}
	}
	if c.Stats().Placed == 0 {
		t.Fatal("nothing placed after recovery")
	}
}

// drifter changes what a MemBackend runs behind the coordinator's back.
type drifter struct {
	rng   *rand.Rand
	nodes []string
	n     int
}

// inject applies one random drift to m and names it.
func (d *drifter) inject(m *MemBackend) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.own))
	for id := range m.own {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	d.n++
	if op := d.rng.IntN(8); op >= 5 {
		return d.injectView(m, op)
	}
	switch op := d.rng.IntN(5); {
	case op == 0 || len(ids) == 0: // a late create the ledger never heard of
		id := fmt.Sprintf("orphan-%s-%d", m.cfg.Kind, d.n)
		m.own[id] = memWorkload{Allocation: Allocation{ID: id, Kind: m.cfg.Kind, Node: d.nodes[d.rng.IntN(len(d.nodes))], NUMACell: -1,
			Resources: Resources{MilliCPU: 500, MemoryBytes: gib}}}
		return "orphan"
	case op == 1: // a lost delete or crashed workload
		id := ids[d.rng.IntN(len(ids))]
		delete(m.own, id)
		return "missing"
	case op == 2: // resized by its manager
		id := ids[d.rng.IntN(len(ids))]
		a := m.own[id]
		a.Resources.MilliCPU += 250
		a.Resources.MemoryBytes += gib / 2
		m.own[id] = a
		return "resized"
	case op == 3: // moved (live migration) by its manager
		id := ids[d.rng.IntN(len(ids))]
		a := m.own[id]
		a.Node = d.nodes[d.rng.IntN(len(d.nodes))]
		m.own[id] = a
		return "moved"
	default: // the manager lost a node
		node := d.nodes[d.rng.IntN(len(d.nodes))]
		for _, id := range ids {
			if m.own[id].Node == node {
				delete(m.own, id)
			}
		}
		return "node-lost"
	}
}

// injectView applies one drift to m's view of the other manager (m.mu is
// held): a phantom, a lost entry or a stale one.
func (d *drifter) injectView(m *MemBackend, op int) string {
	ids := make([]string, 0, len(m.foreign))
	for id := range m.foreign {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	switch {
	case op == 5 || len(ids) == 0:
		id := fmt.Sprintf("phantom-%s-%d", m.cfg.Kind, d.n)
		m.foreign[id] = Allocation{ID: id, Kind: other(m.cfg.Kind), Node: d.nodes[d.rng.IntN(len(d.nodes))], NUMACell: -1,
			Resources: Resources{MilliCPU: 700, MemoryBytes: gib}}
		return "view-phantom"
	case op == 6:
		delete(m.foreign, ids[d.rng.IntN(len(ids))])
		return "view-missing"
	default:
		id := ids[d.rng.IntN(len(ids))]
		a := m.foreign[id]
		a.Resources.MilliCPU += 100
		m.foreign[id] = a
		return "view-stale"
	}
}

// TestPropertyReconcileUnderDrift runs creates and deletes from several
// goroutines while drift is injected into both managers (into what they
// run and into their views of each other) and Reconcile runs concurrently;
// Audit never reports a bug, and after a final Reconcile the ledger equals
// what the managers run and each manager's view of the other is right.
func TestPropertyReconcileUnderDrift(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			var events atomic.Int64
			cfg := Config{Rand: rand.NewPCG(seed, 1), MaxRepairs: 7, OnDrift: func(DriftEvent) { events.Add(1) }}
			c, vm, ctr := newTestCoordinator(t, cfg, MemConfig{OverheadFraction: 0.05}, MemConfig{})
			addNodes(t, c, 24, small)
			var names []string
			for _, n := range c.Nodes() {
				names = append(names, n.Node.Name)
			}
			stop := make(chan struct{})
			var wg, load sync.WaitGroup
			for g := range 4 {
				load.Go(func() {
					rng := rand.New(rand.NewPCG(seed, uint64(g)))
					var live []string
					for i := range 400 {
						if len(live) > 20 && rng.IntN(3) == 0 {
							k := rng.IntN(len(live))
							_ = c.Delete(ctx, live[k])
							live = append(live[:k], live[k+1:]...)
							continue
						}
						r := randomRequest(rng, fmt.Sprintf("s%d-g%d-%d", seed, g, i))
						if _, err := c.Create(ctx, r); err == nil {
							live = append(live, r.ID)
						}
					}
				})
			}
			wg.Go(func() {
				d := &drifter{rng: rand.New(rand.NewPCG(seed, 99)), nodes: names}
				for range 60 {
					d.inject(vm)
					d.inject(ctr)
					time.Sleep(100 * time.Microsecond)
				}
			})
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := c.Reconcile(ctx); err != nil {
						t.Error(err)
						return
					}
					if err := c.Audit(); err != nil {
						t.Error(err)
						return
					}
				}
			})
			load.Wait()
			close(stop)
			wg.Wait()

			for range 1000 {
				rep, err := c.Reconcile(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Deferred == 0 {
					break
				}
			}
			rep, err := c.Reconcile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Events) != 0 {
				t.Fatalf("drift left after reconciling: %v", rep.Events)
			}
			if err := c.Audit(); err != nil {
				t.Fatal(err)
			}
			for _, f := range c.Findings() {
				if f.Kind == FindingBug || f.Kind == FindingPendingRepair || f.Kind == FindingUnreconciled {
					t.Errorf("finding after reconcile: %v", f)
				}
			}
			if diff := cmp.Diff(groundTruth(vm, ctr), c.Allocations()); diff != "" {
				t.Fatalf("ledger differs from the managers (-truth +ledger):\n%s", diff)
			}
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ctr.Allocations(), vm.Foreign()); diff != "" {
				t.Errorf("VM manager's view of the containers (-truth +view):\n%s", diff)
			}
			if diff := cmp.Diff(vm.Allocations(), ctr.Foreign()); diff != "" {
				t.Errorf("container manager's view of the VMs (-truth +view):\n%s", diff)
			}
			if events.Load() < 10 {
				t.Fatalf("only %d drift events observed", events.Load())
			}
			t.Logf("%d drift events, %d workloads live at the end", events.Load(), len(c.Allocations()))
		})
	}
}

// TestReconcileEvents checks each drift kind on a quiet cluster: the typed
// event, the repair, the bound on repairs and Audit's findings.
func TestReconcileEvents(t *testing.T) {
	ctx := context.Background()
	var seen []DriftEvent
	c, vm, ctr := newTestCoordinator(t, Config{MaxRepairs: 2, OnDrift: func(e DriftEvent) { seen = append(seen, e) }}, MemConfig{}, MemConfig{})
	addNodes(t, c, 3, small)
	for i := range 4 {
		if _, err := c.Create(ctx, vmReq(fmt.Sprint("v", i), 1000, gib)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Create(ctx, ctrReq("k", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	vm.mu.Lock()
	delete(vm.own, "v0") // missing
	a := vm.own["v1"]
	a.Resources.MilliCPU = 3000 // resized
	vm.own["v1"] = a
	a = vm.own["v2"]
	a.Node = "node-0002" // moved, unless it is there already
	if vm.own["v2"].Node == "node-0002" {
		a.Node = "node-0001"
	}
	vm.own["v2"] = a
	vm.own["orph"] = memWorkload{Allocation: Allocation{ID: "orph", Kind: VM, Node: "node-0000", NUMACell: -1, Resources: Resources{MilliCPU: 100, MemoryBytes: gib}}}
	vm.own["lost"] = memWorkload{Allocation: Allocation{ID: "lost", Kind: VM, Node: "elsewhere", NUMACell: -1, Resources: Resources{MilliCPU: 100, MemoryBytes: gib}}}
	vm.own["k"] = memWorkload{Allocation: Allocation{ID: "k", Kind: VM, Node: "node-0000", NUMACell: -1, Resources: Resources{MilliCPU: 100, MemoryBytes: gib}}}
	vm.mu.Unlock()

	rep, err := c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(evs []DriftEvent) map[DriftKind]int {
		m := map[DriftKind]int{}
		for _, e := range evs {
			m[e.Kind]++
		}
		return m
	}
	want := map[DriftKind]int{DriftOrphan: 1, DriftMissing: 1, DriftResized: 1, DriftMoved: 1, DriftUnknownNode: 1, DriftConflict: 1}
	if diff := cmp.Diff(want, kinds(rep.Events)); diff != "" {
		t.Fatalf("events (-want +got):\n%s\n%v", diff, rep.Events)
	}
	if rep.Repaired != 2 || rep.Deferred != 2 || len(seen) != len(rep.Events) {
		t.Fatalf("repaired %d deferred %d (bound 2), OnDrift saw %d of %d", rep.Repaired, rep.Deferred, len(seen), len(rep.Events))
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	fk := map[FindingKind]int{}
	for _, f := range c.Findings() {
		fk[f.Kind]++
	}
	if fk[FindingPendingRepair] != 2 || fk[FindingUnreconciled] != 2 {
		t.Fatalf("findings %v", c.Findings())
	}
	rep, err = c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repaired != 2 || rep.Deferred != 0 {
		t.Fatalf("second pass: %+v", rep)
	}
	if rep, err = c.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	// What remains is what cannot be repaired without guessing.
	if diff := cmp.Diff(map[DriftKind]int{DriftUnknownNode: 1, DriftConflict: 1}, kinds(rep.Events)); diff != "" {
		t.Fatalf("third pass (-want +got):\n%s", diff)
	}
	mine := c.Allocations()
	truth := []Allocation{}
	for _, a := range groundTruth(vm, ctr) {
		if a.Node != "elsewhere" && !(a.ID == "k" && a.Kind == VM) {
			truth = append(truth, a)
		}
	}
	if diff := cmp.Diff(truth, mine); diff != "" {
		t.Fatalf("ledger (-truth +ledger):\n%s", diff)
	}
	// Lose a whole node.
	vm.mu.Lock()
	for id, a := range vm.own {
		if a.Node == "node-0000" {
			delete(vm.own, id)
		}
	}
	vm.mu.Unlock()
	ctr.mu.Lock()
	for id, a := range ctr.own {
		if a.Node == "node-0000" {
			delete(ctr.own, id)
		}
	}
	ctr.mu.Unlock()
	onNode := 0
	for _, a := range c.Allocations() {
		if a.Node == "node-0000" {
			onNode++
		}
	}
	rep, _ = c.Reconcile(ctx)
	if onNode > 0 && kinds(rep.Events)[DriftNodeLost] != 1 {
		t.Fatalf("no node-lost event for %d workloads: %v", onNode, rep.Events)
	}
}

// TestAuditFailedUndoIsNotABug: a create that over-consumed and whose undo
// the manager refused is a known, reported condition — Audit returns nil
// and Findings names it — not a coordinator bug.
func TestAuditFailedUndoIsNotABug(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM, Overhead: Resources{MemoryBytes: 2 * gib}})
	vm.deleteErr = func(n int, id string) error {
		if n <= 5 {
			return ErrInjected
		}
		return nil
	}
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, ctr)
	_ = c.AddNode(ctx, Node{Name: "tight", Capacity: Resources{MilliCPU: 4000, MemoryBytes: 8 * gib}})
	if _, err := c.Create(ctx, vmReq("vm", 4000, 8*gib)); !errors.Is(err, ErrUndoFailed) {
		t.Fatalf("err = %v", err)
	}
	if err := c.Audit(); err != nil {
		t.Fatalf("Audit calls a known condition a bug: %v", err)
	}
	got := map[FindingKind]int{}
	for _, f := range c.Findings() {
		got[f.Kind]++
	}
	if diff := cmp.Diff(map[FindingKind]int{FindingUndoFailed: 1, FindingOverCommitted: 1}, got); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}
	// The over-committed node takes nothing more.
	if _, err := c.Create(ctx, vmReq("more", 100, gib/8)); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("placed on an over-committed node: %v", err)
	}
	// A real bug is still one.
	c.mu.Lock()
	c.byName["tight"].used.MilliCPU += 1
	c.mu.Unlock()
	if err := c.Audit(); !errors.Is(err, ErrLedgerBug) {
		t.Fatalf("Audit missed a corrupted ledger: %v", err)
	}
}

func TestRecoverReportsWhatItCannotAccount(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	for _, p := range []Placement{
		{Request: vmReq("a", 1000, gib), Node: "n1", NUMACell: -1},
		{Request: vmReq("b", 1000, gib), Node: "gone", NUMACell: -1},
		{Request: vmReq("twin", 1000, gib), Node: "n1", NUMACell: -1},
	} {
		if _, err := vm.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ctr.Create(ctx, Placement{Request: ctrReq("twin", 500, gib), Node: "n1", NUMACell: -1}); err != nil {
		t.Fatal(err)
	}
	c, _ := New(Config{}, vm, ctr)
	_ = c.AddNode(ctx, Node{Name: "n1", Capacity: small})
	rep, err := c.Recover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if evs := ledgerEvents(rep.Events); rep.Recovered != 1 || rep.Listed != 4 || len(evs) != 2 ||
		evs[0].Kind != DriftUnknownNode || evs[1].Kind != DriftConflict {
		t.Fatalf("report %+v", rep)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recover(ctx); !errors.Is(err, ErrLedgerNotEmpty) {
		t.Fatalf("second Recover: %v", err)
	}
	// Adding the node lets Reconcile adopt what Recover could not place.
	_ = c.AddNode(ctx, Node{Name: "gone", Capacity: small})
	rep, err = c.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Repaired != 1 || rep.Events[0].Kind != DriftOrphan || rep.Events[0].ID != "b" {
		t.Fatalf("reconcile after AddNode: %+v", rep)
	}
	// A backend without the capability.
	c2, _ := New(Config{}, noList{vm})
	if _, err := c2.Recover(ctx); !errors.Is(err, ErrNoLister) {
		t.Fatalf("Recover without a lister: %v", err)
	}
	if _, err := c2.Reconcile(ctx); !errors.Is(err, ErrNoLister) {
		t.Fatalf("Reconcile without a lister: %v", err)
	}
}

// noList hides MemBackend's WorkloadLister.
type noList struct{ b *MemBackend }

func (n noList) Kind() Kind { return n.b.Kind() }
func (n noList) Create(ctx context.Context, p Placement) (Allocation, error) {
	return n.b.Create(ctx, p)
}
func (n noList) Delete(ctx context.Context, id string) error { return n.b.Delete(ctx, id) }
func (n noList) ResourceChanged(ctx context.Context, ch Change) error {
	return n.b.ResourceChanged(ctx, ch)
}

// TestReconcileSeesNoDriftUnderLoad: with no drift injected, Reconcile
// running beside creates, deletes and pending retries that are in flight
// (the managers answer slowly) must report nothing: an operation in flight
// is never taken for drift.
func TestReconcileSeesNoDriftUnderLoad(t *testing.T) {
	var events atomic.Int64
	var first atomic.Value
	cfg := Config{Rand: rand.NewPCG(5, 5), MaxPending: 16, OnDrift: func(e DriftEvent) {
		events.Add(1)
		first.CompareAndSwap(nil, e.String())
	}}
	lat := MemConfig{Latency: 20 * time.Microsecond, OverheadFraction: 0.05}
	c, vm, ctr := newTestCoordinator(t, cfg, lat, MemConfig{Latency: 20 * time.Microsecond})
	addNodes(t, c, 8, small)
	passes := churnWhileReconciling(t, c, churn{goroutines: 6, ops: 300, keep: 10, delEvery: 2, seed: 7})
	if n := events.Load(); n != 0 {
		t.Fatalf("%d false drift events in %d passes, first: %v", n, passes, first.Load())
	}
	if diff := cmp.Diff(groundTruth(vm, ctr), c.Allocations()); diff != "" {
		t.Fatalf("ledger differs (-truth +ledger):\n%s", diff)
	}
	t.Logf("%d Reconcile passes under load", passes)
}

// slowList makes ListWorkloads wait until released.
type slowList struct {
	*MemBackend
	entered, release chan struct{}
}

func (s slowList) ListWorkloads(ctx context.Context) ([]Workload, error) {
	close(s.entered)
	<-s.release
	return s.MemBackend.ListWorkloads(ctx)
}

// TestCreateWaitsForRecover: a placement while Recover lists would be
// decided on a ledger that does not yet hold the running workloads, so
// Create refuses it with ErrRecovering.
func TestCreateDuringRecover(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	if _, err := vm.Create(ctx, Placement{Request: vmReq("running", 8000, 32*gib), Node: "node-0000", NUMACell: -1}); err != nil {
		t.Fatal(err)
	}
	s := slowList{vm, make(chan struct{}), make(chan struct{})}
	c, _ := New(Config{}, s)
	addNodes(t, c, 1, small)
	done := make(chan error)
	go func() {
		_, err := c.Recover(ctx)
		done <- err
	}()
	<-s.entered
	if _, err := c.Create(ctx, vmReq("new", 1000, gib)); !errors.Is(err, ErrRecovering) {
		t.Fatalf("Create during Recover: %v", err)
	}
	close(s.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, vmReq("new", 1000, gib)); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("Create after Recover on the full node: %v", err)
	}
}

// churn describes the load churnWhileReconciling runs: goroutines each
// doing ops creates and deletes (a delete, with probability 1/delEvery,
// once more than keep of its workloads are live).
type churn struct {
	goroutines, ops, keep, delEvery int
	seed                            uint64
	priorities                      bool // random priorities 0–2 (preemption)
	// pass runs after each Reconcile that returned nil; a non-nil error
	// fails the test. skip reports a Reconcile error to retry rather than fail.
	pass func() error
	skip func(error) bool
}

// churnWhileReconciling runs the load of ch against c while another
// goroutine calls Reconcile in a loop, and returns the number of passes.
func churnWhileReconciling(t *testing.T, c *Coordinator, ch churn) int {
	t.Helper()
	ctx := context.Background()
	stop := make(chan struct{})
	var load, rec sync.WaitGroup
	for g := range ch.goroutines {
		load.Go(func() {
			rng := rand.New(rand.NewPCG(ch.seed, uint64(g)))
			var live []string
			for i := range ch.ops {
				if len(live) > ch.keep && rng.IntN(ch.delEvery) == 0 {
					k := rng.IntN(len(live))
					_ = c.Delete(ctx, live[k])
					live = append(live[:k], live[k+1:]...)
					continue
				}
				r := workloadMix(rng, fmt.Sprintf("g%d-%d", g, i))
				if ch.priorities {
					r.Priority = int32(rng.IntN(3))
				}
				if _, err := c.Create(ctx, r); err == nil {
					live = append(live, r.ID)
				}
			}
		})
	}
	passes := 0
	rec.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.Reconcile(ctx); err != nil {
				if ch.skip != nil && ch.skip(err) {
					continue
				}
				t.Error(err)
				return
			}
			if ch.pass != nil {
				if err := ch.pass(); err != nil {
					t.Error(err)
					return
				}
			}
			passes++
		}
	})
	load.Wait()
	close(stop)
	rec.Wait()
	return passes
}

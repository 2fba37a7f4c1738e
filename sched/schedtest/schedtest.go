package schedtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/payedge/payedge/sched"
)

// Run is the old name of TestSchedulerBackend.
//
// Deprecated: use TestSchedulerBackend.
func Run(t *testing.T, newBackend func(t *testing.T) sched.SchedulerBackend) {
	t.Helper()
	TestSchedulerBackend(t, newBackend)
}

// TestSchedulerBackend checks the backends newBackend returns against the
// sched.SchedulerBackend contract, one subtest per rule; it calls
// newBackend once per subtest and expects a fresh, empty backend that
// injects no failures and accepts any node name. Backends that implement
// the optional sched.WorkloadLister or sched.ForeignLister are checked for
// them too.
func TestSchedulerBackend(t *testing.T, newBackend func(t *testing.T) sched.SchedulerBackend) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, sched.SchedulerBackend)
	}{
		{"Kind", testKind},
		{"CreateReportsAllocation", testCreate},
		{"CreateKeepsNUMACell", testNUMACell},
		{"DuplicateCreate", testDuplicate},
		{"DeleteUnknown", testDeleteUnknown},
		{"DeleteTwice", testDeleteTwice},
		{"ReuseIDAfterDelete", testReuse},
		{"CancelledContext", testCancelled},
		{"DeleteCancelledContext", testDeleteCancelled},
		{"ResourceChangedIdempotent", testResourceChanged},
		{"ResourceChangedRejectsOwnKind", testOwnKindChange},
		{"Concurrent", testConcurrent},
		{"ConcurrentCreateSameID", testConcurrentCreateSameID},
		{"DeleteDuringCreate", testDeleteDuringCreate},
		{"DeleteWaitsForCreate", testDeleteWaitsForCreate},
		{"ListWorkloads", testListWorkloads},
		{"ListForeign", testListForeign},
		{"WithCoordinator", testWithCoordinator},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			if b == nil {
				t.Fatal("newBackend returned nil")
			}
			tt.fn(t, b)
		})
	}
}

const gib = 1 << 30

func placement(b sched.SchedulerBackend, id string) sched.Placement {
	r := sched.Resources{MilliCPU: 1000, MemoryBytes: gib}
	return sched.Placement{
		Request:  sched.Request{ID: id, Kind: b.Kind(), Resources: r},
		Node:     "schedtest-node",
		NUMACell: -1,
		Claim:    r,
		Attempt:  1,
	}
}

func other(k sched.Kind) sched.Kind {
	if k == sched.VM {
		return sched.Container
	}
	return sched.VM
}

func mustCreate(t *testing.T, b sched.SchedulerBackend, p sched.Placement) sched.Allocation {
	t.Helper()
	a, err := b.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("Create(%q): %v", p.Request.ID, err)
	}
	return a
}

func testKind(t *testing.T, b sched.SchedulerBackend) {
	k := b.Kind()
	if !k.Valid() {
		t.Fatalf("Kind() = %v, want VM or Container", k)
	}
	if b.Kind() != k {
		t.Fatal("Kind() changed between calls")
	}
}

func checkAlloc(t *testing.T, b sched.SchedulerBackend, p sched.Placement, a sched.Allocation) {
	t.Helper()
	if a.ID != p.Request.ID || a.Kind != b.Kind() || a.Node != p.Node || a.NUMACell != p.NUMACell {
		t.Fatalf("allocation %+v does not describe placement of %q on %q cell %d", a, p.Request.ID, p.Node, p.NUMACell)
	}
	r := a.Resources
	for _, v := range []int64{r.MilliCPU, r.MemoryBytes, r.DiskBytes, r.GPUs} {
		if v < 0 || v > sched.MaxQuantity {
			t.Fatalf("allocation quantity %d outside [0, MaxQuantity]: %v", v, r)
		}
	}
}

func testCreate(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "create-1")
	checkAlloc(t, b, p, mustCreate(t, b, p))
}

func testNUMACell(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "numa-1")
	p.Request.PinNUMA = true
	p.NUMACell = 1
	checkAlloc(t, b, p, mustCreate(t, b, p))
}

func testDuplicate(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "dup-1")
	mustCreate(t, b, p)
	if _, err := b.Create(context.Background(), p); !errors.Is(err, sched.ErrDuplicateID) {
		t.Fatalf("second Create of a live ID: %v, want ErrDuplicateID", err)
	}
	if err := b.Delete(context.Background(), p.Request.ID); err != nil {
		t.Fatalf("Delete after duplicate Create: %v", err)
	}
}

func testDeleteUnknown(t *testing.T, b sched.SchedulerBackend) {
	if err := b.Delete(context.Background(), "never-created"); !errors.Is(err, sched.ErrNotFound) {
		t.Fatalf("Delete of unknown ID: %v, want ErrNotFound", err)
	}
}

func testDeleteTwice(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "del-1")
	mustCreate(t, b, p)
	if err := b.Delete(context.Background(), p.Request.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := b.Delete(context.Background(), p.Request.ID); !errors.Is(err, sched.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}

func testReuse(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "reuse-1")
	mustCreate(t, b, p)
	if err := b.Delete(context.Background(), p.Request.ID); err != nil {
		t.Fatal(err)
	}
	checkAlloc(t, b, p, mustCreate(t, b, p))
}

func testCancelled(t *testing.T, b sched.SchedulerBackend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := placement(b, "cancel-1")
	if _, err := b.Create(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a cancelled context: %v, want context.Canceled", err)
	}
	if err := b.Delete(context.Background(), p.Request.ID); !errors.Is(err, sched.ErrNotFound) {
		t.Fatalf("failed Create left an allocation behind (Delete: %v)", err)
	}
}

// testDeleteCancelled: a Delete with a cancelled context either happens
// (the ID is free again) or fails and leaves the workload running (a second
// Create of the ID is a duplicate) — never fails after removing it.
func testDeleteCancelled(t *testing.T, b sched.SchedulerBackend) {
	p := placement(b, "delcancel-1")
	mustCreate(t, b, p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first := b.Delete(ctx, p.Request.ID)
	_, again := b.Create(context.Background(), p)
	switch {
	case first == nil && again != nil:
		t.Fatalf("Delete with a cancelled context succeeded, but the ID is not free: Create says %v", again)
	case first != nil && !errors.Is(again, sched.ErrDuplicateID):
		t.Fatalf("Delete with a cancelled context failed (%v) but the workload is gone: Create says %v, want ErrDuplicateID", first, again)
	}
}

func change(b sched.SchedulerBackend, seq uint64, op sched.ChangeOp, id string) sched.Change {
	return sched.Change{Seq: seq, Op: op, Allocation: sched.Allocation{
		ID: id, Kind: other(b.Kind()), Node: "schedtest-node", NUMACell: -1,
		Resources: sched.Resources{MilliCPU: 500, MemoryBytes: gib},
	}}
}

func testResourceChanged(t *testing.T, b sched.SchedulerBackend) {
	ctx := context.Background()
	for i, c := range []sched.Change{
		change(b, 1, sched.Created, "foreign-1"),
		change(b, 1, sched.Created, "foreign-1"), // retried delivery
		change(b, 2, sched.Created, "foreign-2"),
		change(b, 3, sched.Deleted, "foreign-1"),
		change(b, 3, sched.Deleted, "foreign-1"),
		change(b, 4, sched.Deleted, "never-created"),
	} {
		if err := b.ResourceChanged(ctx, c); err != nil {
			t.Fatalf("change %d (%s %s): %v", i, c.Op, c.Allocation.ID, err)
		}
	}
}

func testOwnKindChange(t *testing.T, b sched.SchedulerBackend) {
	c := change(b, 1, sched.Created, "mine")
	c.Allocation.Kind = b.Kind()
	if err := b.ResourceChanged(context.Background(), c); !errors.Is(err, sched.ErrInvalidChange) {
		t.Fatalf("change about the backend's own kind: %v, want ErrInvalidChange", err)
	}
}

func testConcurrent(t *testing.T, b sched.SchedulerBackend) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range 25 {
				p := placement(b, fmt.Sprintf("conc-%d-%d", g, i))
				if _, err := b.Create(ctx, p); err != nil {
					errs <- err
					return
				}
				if err := b.ResourceChanged(ctx, change(b, 0, sched.Created, fmt.Sprintf("f-%d-%d", g, i))); err != nil {
					errs <- err
					return
				}
				if i%2 == 0 {
					if err := b.Delete(ctx, p.Request.ID); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testWithCoordinator runs the backend behind a real Coordinator, next to a
// reference backend of the other kind.
func testWithCoordinator(t *testing.T, b sched.SchedulerBackend) {
	ctx := context.Background()
	peer, err := sched.NewMemBackend(sched.MemConfig{Kind: other(b.Kind())})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sched.New(sched.Config{}, b, peer)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := c.AddNode(ctx, sched.Node{Name: name, Capacity: sched.Resources{MilliCPU: 64000, MemoryBytes: 256 * gib, DiskBytes: 1 << 40}}); err != nil {
			t.Fatal(err)
		}
	}
	var placed []sched.Placement
	for i := range 6 {
		p, err := c.Create(ctx, sched.Request{ID: fmt.Sprint("w", i), Kind: b.Kind(),
			Resources: sched.Resources{MilliCPU: 1000, MemoryBytes: gib}})
		if err != nil {
			t.Fatalf("Create through the coordinator: %v", err)
		}
		placed = append(placed, p)
	}
	if _, err := c.Create(ctx, sched.Request{ID: "peer", Kind: peer.Kind(),
		Resources: sched.Resources{MilliCPU: 1000, MemoryBytes: gib}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if got := len(peer.Foreign()); got != len(placed) {
		t.Fatalf("peer manager was told about %d allocations, want %d", got, len(placed))
	}
	if _, ok := b.(sched.WorkloadLister); ok {
		// A replacement coordinator rebuilds the same ledger. (It gets a
		// peer of its own: two live coordinators on one manager are not
		// a supported setup, and its changes outrank c's.)
		peer2, err := sched.NewMemBackend(sched.MemConfig{Kind: other(b.Kind())})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := sched.New(sched.Config{}, b, peer2)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes() {
			if err := c2.AddNode(ctx, n.Node); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := c2.Recover(ctx)
		if err != nil {
			t.Fatalf("Recover: %v", err)
		}
		var want []sched.Allocation
		for _, a := range c.Allocations() {
			if a.Kind == b.Kind() {
				want = append(want, a)
			}
		}
		if !slices.Equal(want, c2.Allocations()) {
			t.Fatalf("Recover rebuilt %v (events %v), want %v", c2.Allocations(), rep.Events, want)
		}
		// peer2 starts with an empty view, and b's view holds c's peer
		// workload, which c2's managers do not run: the only events are
		// repairs of those views (when b implements ForeignLister).
		for _, ev := range rep.Events {
			if ev.Manager == 0 || !ev.Repaired {
				t.Fatalf("Recover reported %v", ev)
			}
		}
		if got := len(peer2.Foreign()); got != len(want) {
			t.Fatalf("Recover told the other manager about %d allocations, want %d", got, len(want))
		}
	}
	for _, p := range placed {
		if err := c.Delete(ctx, p.Request.ID); err != nil {
			t.Fatalf("Delete through the coordinator: %v", err)
		}
	}
	if got := len(peer.Foreign()); got != 0 {
		t.Fatalf("peer manager still sees %d allocations", got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

// testConcurrentCreateSameID: Create is idempotent by ID — of concurrent
// Creates of one ID exactly one succeeds and the others fail with
// ErrDuplicateID.
func testConcurrentCreateSameID(t *testing.T, b sched.SchedulerBackend) {
	ctx := context.Background()
	for round := range 10 {
		p := placement(b, fmt.Sprint("same-", round))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = b.Create(ctx, p) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, sched.ErrDuplicateID):
				t.Fatalf("concurrent Create of one ID: %v, want nil or ErrDuplicateID", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent Creates of %q succeeded, want exactly 1", ok, len(errs), p.Request.ID)
		}
		if err := b.Delete(ctx, p.Request.ID); err != nil {
			t.Fatalf("Delete after concurrent Creates: %v", err)
		}
	}
}

// testDeleteDuringCreate: a Delete racing a Create of the same ID acts on
// the Create's outcome. Afterwards the workload runs exactly when Create
// succeeded and Delete did not remove it (Delete returned ErrNotFound,
// having run first); a Create that failed — here because its context was
// cancelled while it ran — never completes later.
func testDeleteDuringCreate(t *testing.T, b sched.SchedulerBackend) {
	for round := range 20 {
		p := placement(b, fmt.Sprint("race-", round))
		ctx, cancel := context.WithCancel(context.Background())
		var createErr, deleteErr error
		var wg sync.WaitGroup
		wg.Go(func() { _, createErr = b.Create(ctx, p) })
		wg.Go(func() {
			if round%2 == 1 {
				cancel() // the caller gives up on the Create
			}
			deleteErr = b.Delete(context.Background(), p.Request.ID)
		})
		wg.Wait()
		cancel()
		if deleteErr != nil && !errors.Is(deleteErr, sched.ErrNotFound) {
			t.Fatalf("Delete racing Create: %v", deleteErr)
		}
		runs := createErr == nil && errors.Is(deleteErr, sched.ErrNotFound)
		again := b.Delete(context.Background(), p.Request.ID)
		switch {
		case runs && again != nil:
			t.Fatalf("Create succeeded after Delete said not found, but the workload is gone (second Delete: %v)", again)
		case !runs && !errors.Is(again, sched.ErrNotFound):
			t.Fatalf("workload runs after Create returned %v and Delete returned %v (second Delete: %v)", createErr, deleteErr, again)
		}
	}
}

// testListWorkloads checks the optional sched.WorkloadLister: what Create
// returned is listed once with the same allocation, what Delete removed is
// not, and a cancelled context is honoured.
func testListWorkloads(t *testing.T, b sched.SchedulerBackend) {
	l, ok := b.(sched.WorkloadLister)
	if !ok {
		t.Skip("the backend does not implement sched.WorkloadLister")
	}
	ctx := context.Background()
	want := map[string]sched.Allocation{}
	for i := range 5 {
		p := placement(b, fmt.Sprint("list-", i))
		p.Request.Priority = int32(i)
		want[p.Request.ID] = mustCreate(t, b, p)
	}
	if err := b.Delete(ctx, "list-2"); err != nil {
		t.Fatal(err)
	}
	delete(want, "list-2")
	got, err := l.ListWorkloads(ctx)
	if err != nil {
		t.Fatalf("ListWorkloads: %v", err)
	}
	seen := map[string]bool{}
	for _, w := range got {
		id := w.Allocation.ID
		if seen[id] {
			t.Fatalf("ListWorkloads lists %q twice", id)
		}
		seen[id] = true
		a, ok := want[id]
		if !ok {
			t.Fatalf("ListWorkloads lists %q, which was deleted or never created", id)
		}
		if w.Allocation != a {
			t.Fatalf("ListWorkloads reports %+v, Create returned %+v", w.Allocation, a)
		}
		if w.Request.ID != "" && (w.Request.ID != id || w.Request.Kind != b.Kind()) {
			t.Fatalf("ListWorkloads returns request %q of kind %v for workload %q", w.Request.ID, w.Request.Kind, id)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("ListWorkloads lists %d workloads, want %d", len(seen), len(want))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.ListWorkloads(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ListWorkloads with a cancelled context: %v, want context.Canceled", err)
	}
}

// testListForeign checks the optional sched.ForeignLister: a fresh
// backend's view is empty at LastSeq 0; afterwards it holds exactly what
// the applied changes describe (a Created records an allocation, a later
// Created of the ID replaces it, a Deleted removes it, a Deleted of an
// unknown ID only advances LastSeq); a change numbered at or below
// LastSeq is acknowledged and ignored; the backend's own workloads are
// never in it; and a cancelled context is honoured.
func testListForeign(t *testing.T, b sched.SchedulerBackend) {
	fl, ok := b.(sched.ForeignLister)
	if !ok {
		t.Skip("the backend does not implement sched.ForeignLister")
	}
	ctx := context.Background()
	check := func(step string, wantSeq uint64, want ...sched.Allocation) {
		t.Helper()
		v, err := fl.ListForeign(ctx)
		if err != nil {
			t.Fatalf("%s: ListForeign: %v", step, err)
		}
		if v.LastSeq != wantSeq {
			t.Fatalf("%s: LastSeq %d, want %d", step, v.LastSeq, wantSeq)
		}
		got := map[string]sched.Allocation{}
		for _, a := range v.Allocations {
			if _, dup := got[a.ID]; dup {
				t.Fatalf("%s: ListForeign lists %q twice", step, a.ID)
			}
			got[a.ID] = a
		}
		if len(got) != len(want) {
			t.Fatalf("%s: the view holds %v, want %v", step, v.Allocations, want)
		}
		for _, a := range want {
			if got[a.ID] != a {
				t.Fatalf("%s: the view holds %+v for %q, want %+v", step, got[a.ID], a.ID, a)
			}
		}
	}
	apply := func(c sched.Change) {
		t.Helper()
		if err := b.ResourceChanged(ctx, c); err != nil {
			t.Fatalf("change %d (%s %s): %v", c.Seq, c.Op, c.Allocation.ID, err)
		}
	}
	check("fresh backend", 0)
	mustCreate(t, b, placement(b, "own")) // never part of the view

	// Change numbers as a coordinator makes them: large, and with gaps.
	base := uint64(1) << 61
	c1 := change(b, base+10, sched.Created, "foreign-1")
	c2 := change(b, base+20, sched.Created, "foreign-2")
	apply(c1)
	apply(c2)
	apply(c1) // a retried delivery
	check("two Created", base+20, c1.Allocation, c2.Allocation)

	apply(change(b, base+15, sched.Deleted, "foreign-1")) // numbered below LastSeq
	check("a Deleted numbered below LastSeq", base+20, c1.Allocation, c2.Allocation)

	resized := change(b, base+30, sched.Created, "foreign-2")
	resized.Allocation.Resources.MilliCPU = 1500
	resized.Allocation.Node = "schedtest-other-node"
	apply(resized)
	check("a Created replacing an allocation", base+30, c1.Allocation, resized.Allocation)

	apply(change(b, base+40, sched.Deleted, "foreign-1"))
	apply(change(b, base+50, sched.Deleted, "never-created"))
	check("Deleted", base+50, resized.Allocation)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fl.ListForeign(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ListForeign with a cancelled context: %v, want context.Canceled", err)
	}
}

// probeCtx is a context that reports the first time the backend asks for
// its Done channel — to wait on it, that is: from then on the Create it was
// passed to is under way. (A mere Err or Deadline check may come before
// the backend registers the Create, so it proves nothing.)
type probeCtx struct {
	context.Context
	once    sync.Once
	touched chan struct{}
}

func (p *probeCtx) Done() <-chan struct{} {
	p.once.Do(func() { close(p.touched) })
	return p.Context.Done()
}

// testDeleteWaitsForCreate: a Delete issued once a Create of the same ID
// is under way (the Create waits on its context) acts on that Create's
// outcome — it removes the workload if the Create succeeds, so it may not
// answer ErrNotFound then — and afterwards no workload of that ID runs.
// Rounds where the backend never waits on its context check only the last
// part.
func testDeleteWaitsForCreate(t *testing.T, b sched.SchedulerBackend) {
	strict := 0
	for round := range 20 {
		p := placement(b, fmt.Sprint("inflight-", round))
		ctx := &probeCtx{Context: context.Background(), touched: make(chan struct{})}
		returned := make(chan struct{})
		var createErr error
		go func() {
			defer close(returned)
			_, createErr = b.Create(ctx, p)
		}()
		select {
		case <-ctx.touched:
		case <-returned:
		}
		deleteErr := b.Delete(context.Background(), p.Request.ID)
		<-returned
		select {
		case <-ctx.touched:
			strict++
			if createErr == nil && deleteErr != nil {
				t.Fatalf("Delete issued while Create of %q was in flight returned %v, but the Create succeeded: the Delete did not wait for it", p.Request.ID, deleteErr)
			}
		default:
		}
		if deleteErr != nil && !errors.Is(deleteErr, sched.ErrNotFound) {
			t.Fatalf("Delete after Create: %v", deleteErr)
		}
		if createErr == nil && deleteErr == nil || createErr != nil {
			if err := b.Delete(context.Background(), p.Request.ID); !errors.Is(err, sched.ErrNotFound) {
				t.Fatalf("%q still runs after Create returned %v and Delete returned %v (second Delete: %v)", p.Request.ID, createErr, deleteErr, err)
			}
		} else if err := b.Delete(context.Background(), p.Request.ID); err != nil {
			t.Fatalf("cleanup Delete of %q: %v", p.Request.ID, err)
		}
	}
	if strict == 0 {
		t.Logf("Create never waited on its context; the in-flight ordering rule was not checked")
	}
}

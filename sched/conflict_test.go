package sched

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// conflictCluster builds n small nodes labelled host=<name> and installs an
// afterDecide hook that, for the first `times` decisions of the request
// under test, lets a competing workload take the whole of the top `steal`
// ranked nodes before the decision is committed — the interleaving of two
// concurrent Creates, made deterministic.
func conflictCluster(t *testing.T, cfg Config, n, times, steal int) (*Coordinator, *scripted, *MemBackend, *int) {
	t.Helper()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr, err := NewMemBackend(MemConfig{Kind: Container})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("node-%d", i)
		if err := c.AddNode(context.Background(), Node{Name: name, Capacity: small, Labels: map[string]string{"host": name}}); err != nil {
			t.Fatal(err)
		}
	}
	hooked := new(int)
	inside := false
	c.afterDecide = func(ranked []candidate) {
		if inside || *hooked >= times {
			return
		}
		*hooked++
		inside = true
		defer func() { inside = false }()
		for _, cd := range ranked[:min(steal, len(ranked))] {
			name := cd.n.spec.Name
			r := Request{ID: fmt.Sprintf("thief-%d-%s", *hooked, name), Kind: Container,
				Resources:    Resources{MilliCPU: small.MilliCPU, MemoryBytes: small.MemoryBytes},
				NodeSelector: map[string]string{"host": name}}
			if _, err := c.Create(context.Background(), r); err != nil {
				t.Errorf("competing create on %s: %v", name, err)
			}
		}
	}
	return c, vm, ctr, hooked
}

func TestConflictLimitReturnsErrConflict(t *testing.T) {
	ctx := context.Background()
	const maxConflicts = 3
	c, vm, ctr, hooked := conflictCluster(t, Config{Sampling: SampleFull, MaxAttempts: 1, MaxConflicts: maxConflicts}, 8, 1<<30, 1)
	_, err := c.Create(ctx, vmReq("victim", 1000, gib))
	pe, ok := errors.AsType[*PlacementError](err)
	if !ok || !errors.Is(err, ErrConflict) || errors.Is(err, ErrNoCapacity) || pe.ID != "victim" {
		t.Fatalf("err = %v, want a *PlacementError matching ErrConflict", err)
	}
	if *hooked != maxConflicts+1 {
		t.Fatalf("%d decisions, want %d (one plus MaxConflicts re-decisions)", *hooked, maxConflicts+1)
	}
	st := c.Stats()
	if st.Conflicts != maxConflicts+1 || st.Failed != 1 || st.Placed != maxConflicts+1 {
		t.Fatalf("stats %+v", st)
	}
	if n := vm.creates.Load(); n != 0 {
		t.Fatalf("backend called %d times for a decision that never committed", n)
	}
	checkConsistent(t, c, vm.MemBackend, ctr)
	for _, a := range c.Allocations() {
		if a.ID == "victim" {
			t.Fatalf("conflicted request left in the ledger: %+v", a)
		}
	}
	// The ID is free again and the request places once the interference stops.
	c.afterDecide = nil
	if p, err := c.Create(ctx, vmReq("victim", 1000, gib)); err != nil || p.Attempt != 1 {
		t.Fatalf("retry after ErrConflict: %+v %v", p, err)
	}
	checkConsistent(t, c, vm.MemBackend, ctr)
}

func TestConflictsBelowLimitStillPlace(t *testing.T) {
	ctx := context.Background()
	const maxConflicts = 3
	c, vm, ctr, hooked := conflictCluster(t, Config{Sampling: SampleFull, MaxAttempts: 1, MaxConflicts: maxConflicts}, 8, maxConflicts, 1)
	p, err := c.Create(ctx, vmReq("victim", 1000, gib))
	if err != nil {
		t.Fatalf("%d conflicts (the limit) must still place: %v", maxConflicts, err)
	}
	if *hooked != maxConflicts || p.Attempt != 1 {
		t.Fatalf("hooked %d, placement %+v", *hooked, p)
	}
	if st := c.Stats(); st.Conflicts != maxConflicts || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	checkConsistent(t, c, vm.MemBackend, ctr)
}

// A stale best choice falls back to the next-best node of the same
// decision without counting a conflict.
func TestStaleBestFallsBackToNextRanked(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr, hooked := conflictCluster(t, Config{Sampling: SampleFull, MaxAttempts: 3}, 4, 1, 1)
	var ranked []string
	inner := c.afterDecide
	c.afterDecide = func(r []candidate) {
		if len(ranked) == 0 {
			for _, cd := range r {
				ranked = append(ranked, cd.n.spec.Name)
			}
		}
		inner(r)
	}
	p, err := c.Create(ctx, vmReq("victim", 1000, gib))
	if err != nil {
		t.Fatal(err)
	}
	if *hooked != 1 || len(ranked) < 2 || p.Node != ranked[1] {
		t.Fatalf("placed on %s, ranked %v: want the second-ranked node", p.Node, ranked)
	}
	if st := c.Stats(); st.Conflicts != 0 {
		t.Fatalf("stats %+v", st)
	}
	checkConsistent(t, c, vm.MemBackend, ctr)
}

// A queued request whose retry loses its node to a concurrent commit goes
// back to the queue ahead of later arrivals, even if they filled the queue
// in the meantime.
func TestPendingRetryLosingRaceKeepsItsPlace(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{MaxPending: 1}, MemConfig{}, MemConfig{})
	addNodes(t, c, 1, Resources{MilliCPU: 2000, MemoryBytes: 4 * gib})
	if _, err := c.Create(ctx, vmReq("big", 2000, 4*gib)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, ctrReq("first", 1000, gib)); !errors.Is(err, ErrQueued) {
		t.Fatal(err)
	}
	armed, inside := true, false
	c.afterDecide = func([]candidate) {
		if !armed || inside {
			return
		}
		armed, inside = false, true
		defer func() { inside = false }()
		if _, err := c.Create(ctx, ctrReq("thief", 2000, 4*gib)); err != nil {
			t.Errorf("thief: %v", err)
		}
		if _, err := c.Create(ctx, ctrReq("later", 1000, gib)); !errors.Is(err, ErrQueued) {
			t.Errorf("later arrival: %v", err)
		}
	}
	if err := c.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	got := c.Pending()
	if len(got) != 2 || got[0].ID != "first" || got[1].ID != "later" {
		t.Fatalf("pending %+v, want first then later", got)
	}
	checkConsistent(t, c, vm, ctr)
}

package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedRand is a *rand.Rand safe for the concurrent Consume callbacks.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) float() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// propertyCluster builds a mixed cluster: three node classes with
// different allocation ratios, some NUMA nodes, some tainted, some labelled.
func propertyCluster(t *testing.T, c *Coordinator, n int) {
	t.Helper()
	classes := []string{"", "general", "dense"}
	for i := range n {
		node := Node{
			Name:     fmt.Sprintf("node-%03d", i),
			Class:    classes[i%3],
			Capacity: Resources{MilliCPU: 16000, MemoryBytes: 64 * gib, DiskBytes: 500 * gib, GPUs: int64(i % 5 / 4)},
			Labels:   map[string]string{"zone": fmt.Sprintf("z%d", i%4)},
		}
		if i%4 == 0 {
			node.NUMA = []NUMACell{{MilliCPU: 8000, MemoryBytes: 32 * gib}, {MilliCPU: 8000, MemoryBytes: 32 * gib}}
		}
		if i%7 == 0 {
			node.Taints = []Taint{{Key: "pci", Value: "true", Effect: TaintNoSchedule}}
		}
		if err := c.AddNode(context.Background(), node); err != nil {
			t.Fatal(err)
		}
	}
}

func randomRequest(rng *rand.Rand, id string) Request {
	r := workloadMix(rng, id)
	switch rng.IntN(10) {
	case 0:
		r.NodeSelector = map[string]string{"zone": fmt.Sprintf("z%d", rng.IntN(4))}
	case 1:
		r.Tolerations = []Toleration{{Key: "pci", Exists: true}}
	case 2:
		r.AntiAffinityGroups = []string{fmt.Sprintf("anti-%d", rng.IntN(5))}
	case 3:
		r.AffinityGroups = []string{fmt.Sprintf("aff-%d", rng.IntN(20))}
	case 4:
		r.PinNUMA = true
	case 5:
		r.Resources.GPUs = 1
	}
	r.Priority = int32(rng.IntN(3))
	return r
}

// TestPropertyConcurrentLedger hammers one coordinator with thousands of
// concurrent creates and deletes while both backends fail at random, consume
// more (or less) than asked and drop notifications, and node drains come
// and go. Afterwards the ledger must equal, node by node, the sum of the
// live allocations both backends report; no node may exceed capacity ×
// ratio; and the two managers' views must agree.
func TestPropertyConcurrentLedger(t *testing.T) {
	const (
		nodes      = 48
		goroutines = 8
	)
	const ops = 1500
	cr := &lockedRand{r: rand.New(rand.NewPCG(99, 1))}
	consume := func(over float64) func(Placement) Resources {
		return func(p Placement) Resources {
			r := p.Request.Resources
			switch f := cr.float(); {
			case f < over: // over-consumption, up to +50 % memory and CPU
				r.MemoryBytes += int64(float64(r.MemoryBytes) * cr.float() * 0.5)
				r.MilliCPU += int64(float64(r.MilliCPU) * cr.float() * 0.5)
			case f < over+0.1: // under-consumption
				r.MemoryBytes -= r.MemoryBytes / 4
			}
			return r
		}
	}
	var onPending sync.Map
	var falseDrift atomic.Int64
	var firstDrift atomic.Value
	cfg := Config{
		Classes:           map[string]Ratios{"general": {CPU: 2}, "dense": {CPU: 4, Memory: 1.5}},
		MaxPending:        64,
		CompensateRetries: 12,
		Preemption:        true,
		NotifyBackoff:     1, // 1 ns: keep the test fast; synctest covers the timing
		Rand:              rand.NewPCG(1, 2),
		// No drift is injected here: every event Reconcile reports while
		// the hostile load runs is a false one.
		OnDrift: func(e DriftEvent) { falseDrift.Add(1); firstDrift.CompareAndSwap(nil, e.String()) },
		OnPending: func(p Placement, err error) {
			if err == nil {
				onPending.Store(p.Request.ID, true)
			}
		},
	}
	c, vm, ctr := newTestCoordinator(t, cfg,
		MemConfig{FailureRate: 0.1, NotifyFailureRate: 0.4, Consume: consume(0.3), Rand: rand.NewPCG(3, 4)},
		MemConfig{FailureRate: 0.1, NotifyFailureRate: 0.4, Consume: consume(0.1), Rand: rand.NewPCG(5, 6)})
	propertyCluster(t, c, nodes)

	ctx := context.Background()
	baseline := runtime.NumGoroutine()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+1)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var live []string
			for i := range ops {
				switch x := rng.IntN(100); {
				case x < 2 && g == 0:
					name := fmt.Sprintf("node-%03d", rng.IntN(nodes))
					if _, err := c.DrainNode(name); err != nil {
						errs <- err
						return
					}
				case x < 4 && g == 0:
					if err := c.ResumeNode(ctx, fmt.Sprintf("node-%03d", rng.IntN(nodes))); err != nil {
						errs <- err
						return
					}
				case x < 5 && g == 0:
					// Remove a node; if it was idle, add it back at once
					// (its slot may be reused by the re-added node).
					name := fmt.Sprintf("node-%03d", rng.IntN(nodes))
					var spec Node
					for _, n := range c.Nodes() {
						if n.Node.Name == name {
							spec = n.Node
						}
					}
					switch err := c.RemoveNode(name); {
					case err == nil:
						if err := c.AddNode(ctx, spec); err != nil {
							errs <- fmt.Errorf("re-add %s: %w", name, err)
							return
						}
					case errors.Is(err, ErrNodeBusy), errors.Is(err, ErrUnknownNode):
					default:
						errs <- err
						return
					}
				case x < 12:
					// Shared IDs: goroutines race to create and delete the
					// same workloads.
					id := fmt.Sprintf("shared-%d", rng.IntN(16))
					if rng.IntN(2) == 0 {
						_, err := c.Create(ctx, randomRequest(rng, id))
						if err != nil && !expectedCreateError(err) && !errors.Is(err, ErrDuplicateID) {
							errs <- fmt.Errorf("create %s: %w", id, err)
							return
						}
					} else {
						err := c.Delete(ctx, id)
						if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrBackend) {
							errs <- fmt.Errorf("delete %s: %w", id, err)
							return
						}
					}
				case x < 60 || len(live) == 0:
					r := randomRequest(rng, fmt.Sprintf("g%d-%d", g, i))
					_, err := c.Create(ctx, r)
					if err != nil && !expectedCreateError(err) {
						errs <- fmt.Errorf("create %s: %w", r.ID, err)
						return
					}
					if err == nil || errors.Is(err, ErrQueued) {
						live = append(live, r.ID)
					}
				default:
					j := rng.IntN(len(live))
					err := c.Delete(ctx, live[j])
					switch {
					case err == nil || errors.Is(err, ErrNotFound):
						live[j] = live[len(live)-1]
						live = live[:len(live)-1]
					case errors.Is(err, ErrBackend), errors.Is(err, ErrInProgress):
					default:
						errs <- fmt.Errorf("delete %s: %w", live[j], err)
						return
					}
				}
			}
		}()
	}
	stopRec := make(chan struct{})
	var rec sync.WaitGroup
	reconciles := 0
	rec.Go(func() {
		for {
			select {
			case <-stopRec:
				return
			default:
			}
			if _, err := c.Reconcile(ctx); err != nil {
				errs <- err
				return
			}
			reconciles++
			time.Sleep(200 * time.Microsecond)
		}
	})
	wg.Wait()
	close(stopRec)
	rec.Wait()
	if reconciles == 0 {
		t.Error("Reconcile never ran")
	}
	if n := falseDrift.Load(); n != 0 {
		t.Errorf("Reconcile reported %d drift events in %d passes under a load without drift; first: %v", n, reconciles, firstDrift.Load())
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; c.Stats().Outbox > 0; i++ {
		if i > 200 {
			t.Fatalf("outbox never drained: %+v", c.Stats())
		}
		_ = c.Flush(ctx)
	}
	st := c.Stats()
	t.Logf("stats: %+v", st)
	if st.Placed < int64(goroutines*ops/10) {
		t.Errorf("only %d placements; the test exercised too little", st.Placed)
	}
	if st.Alternates == 0 || st.OverConsumed == 0 || st.Corrections == 0 || st.NotifyFailures == 0 || st.Preempted == 0 {
		t.Errorf("failure paths not exercised: %+v", st)
	}
	retried := 0
	onPending.Range(func(any, any) bool { retried++; return true })
	if retried == 0 {
		t.Error("no pending request was placed when capacity appeared")
	}
	checkConsistent(t, c, vm, ctr)
	// The coordinator starts no goroutines of its own: none may outlive
	// the calls that ran.
	// Workers that called wg.Done may take a moment to exit.
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > baseline; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > baseline {
		t.Errorf("%d goroutines after the run, %d before", n, baseline)
	}
}

func expectedCreateError(err error) bool {
	for _, want := range []error{ErrNoCapacity, ErrBackend, ErrOverConsumed, ErrConflict} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// checkConsistent asserts the ledger invariants against both backends.
func checkConsistent(t *testing.T, c *Coordinator, vm, ctr *MemBackend) {
	t.Helper()
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	actual := make(map[string]Resources)
	ids := make(map[string]Allocation)
	for _, b := range []*MemBackend{vm, ctr} {
		for _, a := range b.Allocations() {
			actual[a.Node] = actual[a.Node].Add(a.Resources)
			ids[a.ID] = a
		}
	}
	for _, n := range c.Nodes() {
		if n.Used != actual[n.Node.Name] {
			t.Errorf("node %s: ledger %v, backends report %v", n.Node.Name, n.Used, actual[n.Node.Name])
		}
		if !n.Used.Fits(n.Allocatable) {
			t.Errorf("node %s: used %v exceeds capacity × ratio %v", n.Node.Name, n.Used, n.Allocatable)
		}
		delete(actual, n.Node.Name)
	}
	for node, r := range actual {
		if !r.IsZero() {
			t.Errorf("backends report %v on unknown node %s", r, node)
		}
	}
	allocs := c.Allocations()
	if len(allocs) != len(ids) {
		t.Errorf("ledger has %d live workloads, backends %d", len(allocs), len(ids))
	}
	for _, a := range allocs {
		if ids[a.ID] != a {
			t.Errorf("ledger %+v, backend %+v", a, ids[a.ID])
		}
	}
	if vv, cv := vm.View(), ctr.View(); !sameView(vv, cv) {
		t.Errorf("managers disagree:\nvm  %v\nctr %v", vv, cv)
	}
}

func sameView(a, b map[string]Resources) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

package sched

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in a synctest bubble: time is virtual, so timeouts,
// latencies and retry backoffs are checked to the nanosecond without
// sleeping.

func TestSynctestBackendTimeoutTriesAlternates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, vm, ctr := newTestCoordinator(t, Config{BackendTimeout: time.Minute, MaxAttempts: 3},
			MemConfig{Latency: 2 * time.Minute}, MemConfig{})
		addNodes(t, c, 4, small)
		start := time.Now()
		_, err := c.Create(ctx, vmReq("slow", 1000, gib))
		if elapsed := time.Since(start); elapsed != 3*time.Minute {
			t.Fatalf("took %v, want 3 attempts × 1 min", elapsed)
		}
		pe, ok := errors.AsType[*PlacementError](err)
		if !ok || !errors.Is(err, ErrBackendTimeout) || !errors.Is(err, context.DeadlineExceeded) || len(pe.Attempts) != 3 {
			t.Fatalf("err = %v", err)
		}
		nodes := map[string]bool{}
		for _, a := range pe.Attempts {
			nodes[a.Node] = true
		}
		if len(nodes) != 3 {
			t.Fatalf("attempts on %v, want 3 distinct nodes", nodes)
		}
		checkConsistent(t, c, vm, ctr)
		if len(c.Allocations()) != 0 {
			t.Fatal("timed-out create left a claim")
		}
	})
}

func TestSynctestCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, vm, ctr := newTestCoordinator(t, Config{BackendTimeout: time.Minute},
			MemConfig{Latency: 2 * time.Minute}, MemConfig{})
		addNodes(t, c, 2, small)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Create(ctx, vmReq("a", 1000, gib))
		if time.Since(start) != 30*time.Second || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBackendTimeout) {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		checkConsistent(t, c, vm, ctr)
	})
}

func TestSynctestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, vm, ctr := newTestCoordinator(t, Config{BackendTimeout: time.Minute},
			MemConfig{Latency: 5 * time.Second}, MemConfig{Latency: 50 * time.Millisecond})
		addNodes(t, c, 2, small)
		start := time.Now()
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(ctx, ctrReq("b", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 5*time.Second+50*time.Millisecond {
			t.Fatalf("creates took %v", got)
		}
		checkConsistent(t, c, vm, ctr)
	})
}

func TestSynctestDeleteTimeoutKeepsWorkload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c, vm, ctr := newTestCoordinator(t, Config{BackendTimeout: 10 * time.Second},
			MemConfig{Latency: 6 * time.Second}, MemConfig{})
		addNodes(t, c, 1, small)
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		c.cfg.BackendTimeout = 5 * time.Second // the backend slows down below its latency
		start := time.Now()
		err := c.Delete(ctx, "a")
		if time.Since(start) != 5*time.Second || !errors.Is(err, ErrBackendTimeout) || !errors.Is(err, ErrBackend) {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		if len(c.Allocations()) != 1 {
			t.Fatal("workload dropped from the ledger although the backend did not delete it")
		}
		checkConsistent(t, c, vm, ctr)
	})
}

func TestSynctestNotifyRetryBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		vm, _ := NewMemBackend(MemConfig{Kind: VM})
		ctr := newScripted(t, MemConfig{Kind: Container})
		ctr.notifyErr = func(n int, _ Change) error {
			if n <= 2 {
				return ErrInjected
			}
			return nil
		}
		c, _ := New(Config{NotifyRetries: 3, NotifyBackoff: 10 * time.Millisecond}, vm, ctr)
		addNodes(t, c, 1, small)
		start := time.Now()
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 30*time.Millisecond {
			t.Fatalf("two retries took %v, want 10 ms + 20 ms", got)
		}
		if st := c.Stats(); st.Outbox != 0 || st.NotifyFailures != 0 || len(ctr.Foreign()) != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestSynctestNotifyExhaustedThenFlushed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		vm, _ := NewMemBackend(MemConfig{Kind: VM})
		ctr := newScripted(t, MemConfig{Kind: Container})
		ctr.notifyErr = func(n int, _ Change) error {
			if n <= 4 {
				return ErrInjected
			}
			return nil
		}
		c, _ := New(Config{NotifyRetries: 3, NotifyBackoff: 10 * time.Millisecond}, vm, ctr)
		addNodes(t, c, 1, small)
		start := time.Now()
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 70*time.Millisecond {
			t.Fatalf("three retries took %v, want 10+20+40 ms", got)
		}
		if st := c.Stats(); st.Outbox != 1 || st.NotifyFailures != 1 || len(ctr.Foreign()) != 0 {
			t.Fatalf("stats %+v", st)
		}
		time.Sleep(time.Second)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Outbox != 0 || len(ctr.Foreign()) != 1 {
			t.Fatalf("after flush %+v", st)
		}
		checkConsistent(t, c, vm, ctr.MemBackend)
	})
}

func TestSynctestNotifyRetryHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vm, _ := NewMemBackend(MemConfig{Kind: VM})
		ctr := newScripted(t, MemConfig{Kind: Container})
		ctr.notifyErr = func(int, Change) error { return ErrInjected }
		c, _ := New(Config{NotifyRetries: 10, NotifyBackoff: time.Second}, vm, ctr)
		addNodes(t, c, 1, small)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 1500*time.Millisecond {
			t.Fatalf("retrying stopped after %v, want the caller's 1.5 s", got)
		}
		if st := c.Stats(); st.Outbox != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// A queued request retried on behalf of a Delete whose context runs out
// mid-retry stays queued: the deleting caller's deadline is no reason to
// drop somebody else's request.
func TestSynctestPendingSurvivesRetrierDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var outcomes []error
		cfg := Config{MaxPending: 4, BackendTimeout: time.Minute,
			OnPending: func(_ Placement, err error) { outcomes = append(outcomes, err) }}
		c, vm, ctr := newTestCoordinator(t, cfg, MemConfig{}, MemConfig{Latency: 10 * time.Second})
		addNodes(t, c, 1, Resources{MilliCPU: 2000, MemoryBytes: 4 * gib})
		if _, err := c.Create(context.Background(), vmReq("big", 2000, 4*gib)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create(context.Background(), ctrReq("wait", 1000, gib)); !errors.Is(err, ErrQueued) {
			t.Fatalf("queue: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Delete(ctx, "big"); err != nil {
			t.Fatal(err)
		}
		if got := c.Pending(); len(got) != 1 || got[0].ID != "wait" {
			t.Fatalf("pending after the retrier's deadline: %+v", got)
		}
		if len(outcomes) != 1 || !errors.Is(outcomes[0], ErrQueued) {
			t.Fatalf("OnPending saw %v, want one ErrQueued", outcomes)
		}
		checkConsistent(t, c, vm, ctr)
		// The next capacity event with time to spare places it.
		if n := c.RetryPending(context.Background()); n != 1 {
			t.Fatalf("RetryPending placed %d", n)
		}
		if len(c.Pending()) != 0 || len(ctr.Allocations()) != 1 {
			t.Fatalf("pending %v, container allocations %v", c.Pending(), ctr.Allocations())
		}
		checkConsistent(t, c, vm, ctr)
	})
}

// sluggish is a backend whose Create ignores ctx for its latency and then
// either reports success regardless (late success) or reports the context's
// error although the workload was created (a lost RPC response).
type sluggish struct {
	*MemBackend
	latency    time.Duration
	lateResult bool // true: late success; false: created but reported as failed
}

func (s *sluggish) Create(ctx context.Context, p Placement) (Allocation, error) {
	time.Sleep(s.latency)
	a, err := s.MemBackend.Create(context.WithoutCancel(ctx), p)
	if err != nil || s.lateResult {
		return a, err
	}
	if cerr := ctx.Err(); cerr != nil {
		return Allocation{}, cerr
	}
	return a, nil
}

func TestSynctestLateBackendOutcomes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		lateResult bool
		callerCtx  time.Duration // 0: no caller deadline, only BackendTimeout
		wantErr    error
		wantLive   int
	}{
		{"timeout then late success", true, 0, nil, 1},
		{"timeout, created but reported failed", false, 0, ErrBackendTimeout, 0},
		{"caller deadline, created but reported failed", false, 30 * time.Second, context.DeadlineExceeded, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mem, _ := NewMemBackend(MemConfig{Kind: VM})
				vm := &sluggish{MemBackend: mem, latency: 2 * time.Minute, lateResult: tt.lateResult}
				ctr, _ := NewMemBackend(MemConfig{Kind: Container})
				c, err := New(Config{BackendTimeout: time.Minute, MaxAttempts: 1}, vm, ctr)
				if err != nil {
					t.Fatal(err)
				}
				addNodes(t, c, 2, small)
				ctx := context.Background()
				if tt.callerCtx > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.callerCtx)
					defer cancel()
				}
				_, err = c.Create(ctx, vmReq("a", 1000, gib))
				if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got := len(c.Allocations()); got != tt.wantLive {
					t.Fatalf("%d live workloads, want %d", got, tt.wantLive)
				}
				checkConsistent(t, c, mem, ctr)
			})
		})
	}
}

// hung is a manager whose ResourceChanged never answers before its context ends.
type hung struct{ *MemBackend }

func (h hung) ResourceChanged(ctx context.Context, _ Change) error {
	<-ctx.Done()
	return ctx.Err()
}

// Once a manager has failed a full round of retries, Create and Delete try
// it once instead of a full round, so a hung manager costs the other one
// NotifyTimeout per operation, not (1 + NotifyRetries) × NotifyTimeout.
func TestSynctestHungManagerCostsOneTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		vm, _ := NewMemBackend(MemConfig{Kind: VM})
		mem, _ := NewMemBackend(MemConfig{Kind: Container})
		c, _ := New(Config{NotifyRetries: 2, NotifyBackoff: 10 * time.Millisecond, NotifyTimeout: time.Second}, vm, hung{mem})
		addNodes(t, c, 1, small)
		for i, want := range []time.Duration{3*time.Second + 30*time.Millisecond, time.Second, time.Second} {
			start := time.Now()
			if _, err := c.Create(ctx, vmReq(fmt.Sprint("vm", i), 1000, gib)); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != want {
				t.Fatalf("create %d took %v, want %v", i, got, want)
			}
		}
		// An explicit Flush still makes the full round.
		start := time.Now()
		if err := c.Flush(ctx); !errors.Is(err, ErrNotifyFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Flush = %v", err)
		}
		if got := time.Since(start); got != 3*time.Second+30*time.Millisecond {
			t.Fatalf("Flush took %v", got)
		}
		if st := c.Stats(); st.Outbox != 3 || st.NotifyFailures != 4 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestSynctestNotifyBackoffCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vm, _ := NewMemBackend(MemConfig{Kind: VM})
		ctr := newScripted(t, MemConfig{Kind: Container})
		ctr.notifyErr = func(int, Change) error { return ErrInjected }
		c, _ := New(Config{NotifyRetries: 3, NotifyBackoff: 40 * time.Second}, vm, ctr)
		addNodes(t, c, 1, small)
		start := time.Now()
		if _, err := c.Create(context.Background(), vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), 40*time.Second+2*maxNotifyBackoff; got != want {
			t.Fatalf("retries took %v, want %v (doubling capped at %v)", got, want, maxNotifyBackoff)
		}
	})
}

// lostDelete deletes after its latency, ignoring ctx, and then reports the
// context's error: the workload is gone but the answer is lost.
type lostDelete struct {
	*MemBackend
	latency time.Duration
}

func (l lostDelete) Delete(ctx context.Context, id string) error {
	time.Sleep(l.latency)
	if err := l.MemBackend.Delete(context.WithoutCancel(ctx), id); err != nil {
		return err
	}
	return ctx.Err()
}

func TestSynctestDeleteLostAnswerReconciles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		mem, _ := NewMemBackend(MemConfig{Kind: VM})
		ctr, _ := NewMemBackend(MemConfig{Kind: Container})
		c, _ := New(Config{BackendTimeout: time.Second}, lostDelete{mem, 2 * time.Second}, ctr)
		addNodes(t, c, 1, small)
		if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, "a"); !errors.Is(err, ErrBackendTimeout) {
			t.Fatalf("first delete: %v", err)
		}
		if len(c.Allocations()) != 1 || len(mem.Allocations()) != 0 {
			t.Fatal("expected the ledger to still hold the workload the backend dropped")
		}
		if err := c.Delete(ctx, "a"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if len(ctr.Foreign()) != 0 {
			t.Fatalf("container manager still sees %+v", ctr.Foreign())
		}
		checkConsistent(t, c, mem, ctr)
	})
}

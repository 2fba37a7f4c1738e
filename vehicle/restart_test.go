package vehicle

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// keyed adds to w a vehicle built from a key the test keeps, so that it can
// be restarted with the same key; mod adjusts its config.
func (w *world) keyed(t testing.TB, id VehicleID, mod func(*VehicleConfig)) (*Vehicle, *ecdh.PrivateKey) {
	t.Helper()
	key, err := GenerateKey(w.rnd)
	if err != nil {
		t.Fatal(err)
	}
	cfg := VehicleConfig{ID: id, Network: w.netKey.PublicKey(), Now: w.clk.Now, Rand: w.rnd}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVehicleWithKey(cfg, key, 1)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := v.Info()
	ctx := context.Background()
	if err := w.reg.Enrol(ctx, info); err != nil {
		t.Fatal(err)
	}
	if err := w.platform.Open(ctx, string(id), 1_000_000); err != nil {
		t.Fatal(err)
	}
	w.vs = append(w.vs, v)
	w.byID[id] = v
	return v, key
}

// restartCfg describes the restarted vehicle: the same identity and
// collaborators as in keyed, with state and previous key as given.
func (w *world) restartCfg(id VehicleID, state []byte, store ReplayStore, prev *ecdh.PrivateKey) VehicleConfig {
	return VehicleConfig{ID: id, Network: w.netKey.PublicKey(), Now: w.clk.Now, Rand: w.rnd,
		ReplayState: state, ReplayStore: store, PreviousKey: prev}
}

func mustRestart(t *testing.T, old *Vehicle, cfg VehicleConfig, key *ecdh.PrivateKey, gen uint32) *Vehicle {
	t.Helper()
	if err := old.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	v, err := NewVehicleWithKey(cfg, key, gen)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	return v
}

func load(t *testing.T, s ReplayStore, id VehicleID) []byte {
	t.Helper()
	st, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func openOK(t *testing.T, v *Vehicle, env []byte) Opened {
	t.Helper()
	o, err := v.TryOpen(env)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return o
}

// TestRestartWithoutStateRefusesReplay is the defect: a vehicle restarted
// with the same key and friends but no saved state opened (and would
// answer again) an envelope its previous run had opened and answered.
// Now it refuses everything sealed before it started; the base station's
// re-broadcast (new sequence, new timestamp) opens and settles once.
func TestRestartWithoutStateRefusesReplay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	a := w.vs[0]
	b, key := w.keyed(t, "bob", nil)
	w.befriend(t, a, b)

	req, err := a.Request(b.ID(), 250, []byte("toll"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.bs.Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	o := openOK(t, b, first.Envelope)
	p, err := b.Respond(o, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.bs.Pay(ctx, p); err != nil {
		t.Fatal(err)
	}
	unopened := w.broadcast(t, a, b, 7, nil) // in flight across the restart

	w.clk.Advance(2 * time.Second) // the restart
	b = mustRestart(t, b, w.restartCfg("bob", nil, nil, nil), key, 1)
	if err := b.AddFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string][]byte{"replay of the answered envelope": first.Envelope, "unopened, sealed before the restart": unopened.Envelope} {
		_, err := b.TryOpen(env)
		var re *RestartError
		if !errors.As(err, &re) || !errors.Is(err, ErrSealedBeforeStart) || !errors.Is(err, ErrStale) {
			t.Fatalf("%s: got %v, want *RestartError", name, err)
		}
		if re.Start != w.clk.Now() || !re.Timestamp.Before(re.Start) {
			t.Fatalf("%s: %+v", name, re)
		}
	}
	// The replay never reached the platform a second time either way; the
	// re-broadcast of the in-flight request opens after the restart.
	again, err := w.bs.Request(ctx, Request{ID: unopened.RequestID, From: a.ID(), To: b.ID(), Amount: 7})
	if err != nil {
		t.Fatal(err)
	}
	if again.Sequence <= unopened.Sequence {
		t.Fatalf("re-broadcast sequence %d, first %d", again.Sequence, unopened.Sequence)
	}
	o = openOK(t, b, again.Envelope)
	if p, err = b.Respond(o, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.bs.Pay(ctx, p); err != nil {
		t.Fatal(err)
	}
	openOK(t, b, w.broadcast(t, a, b, 1, nil).Envelope) // fresh requests open
	if got, _ := w.platform.Balance(ctx, "bob"); got != 1_000_000-257 {
		t.Fatalf("bob paid %d, want 257 once", 1_000_000-got)
	}
}

// TestRestartSameMillisecond: the start floor compares milliseconds (the
// envelope's precision), so a request sealed in the vehicle's start
// millisecond, after the start, still opens.
func TestRestartSameMillisecond(t *testing.T) {
	w := newWorld(t, 1)
	w.clk.Advance(500 * time.Microsecond)
	a := w.vs[0]
	b, _ := w.keyed(t, "bob", nil)
	w.befriend(t, a, b)
	w.clk.Advance(100 * time.Microsecond)
	openOK(t, b, w.broadcast(t, a, b, 1, nil).Envelope)
}

// TestRestartWithStoreRefusesReplay: with a ReplayStore the restored
// vehicle rejects the replay through its window (clock-independent) and
// still opens what was sealed before the restart but never opened, so
// nothing in flight is lost.
func TestRestartWithStoreRefusesReplay(t *testing.T) {
	w := newWorld(t, 2)
	a, c := w.vs[0], w.vs[1]
	store := NewMemoryReplayStore()
	b, key := w.keyed(t, "bob", func(c *VehicleConfig) { c.ReplayStore = store })
	w.befriend(t, a, b)
	w.befriend(t, c, b)
	var opened [][]byte
	for i := range 5 {
		env := w.broadcast(t, a, b, int64(10+i), nil).Envelope
		if i != 2 { // sequence 3 is lost on the radio
			openOK(t, b, env)
			opened = append(opened, env)
		}
	}
	fromC := w.broadcast(t, c, b, 3, nil).Envelope
	openOK(t, b, fromC)
	opened = append(opened, fromC)
	unopened := w.broadcast(t, a, b, 99, nil).Envelope // sequence 6, in flight

	w.clk.Advance(3 * time.Second)
	b = mustRestart(t, b, w.restartCfg("bob", load(t, store, "bob"), store, nil), key, 1)
	for i, env := range opened {
		var re *ReplayError
		if _, err := b.TryOpen(env); !errors.As(err, &re) || !re.Duplicate {
			t.Fatalf("replay %d after restart: %v", i, err)
		}
	}
	// The friends came back with the state: no AddFriend needed.
	if o := openOK(t, b, unopened); o.Sequence != 6 || o.Request.Amount != 99 {
		t.Fatalf("in-flight request: %+v", o)
	}
	openOK(t, b, w.broadcast(t, c, b, 4, nil).Envelope)
	// And the second restart remembers what the first run opened.
	b = mustRestart(t, b, w.restartCfg("bob", load(t, store, "bob"), store, nil), key, 1)
	for _, env := range append(opened, unopened) {
		if _, err := b.TryOpen(env); !errors.Is(err, ErrReplay) {
			t.Fatalf("replay after the second restart: %v", err)
		}
	}
}

// TestRestartStateCoversClockSkew: an envelope stamped by a base station
// whose clock runs ahead of the vehicle's is newer than the restart time,
// so the start floor cannot refuse it; the saved window does.
func TestRestartStateCoversClockSkew(t *testing.T) {
	w := newWorld(t, 1)
	a := w.vs[0]
	b, key := w.keyed(t, "bob", nil)
	w.befriend(t, a, b)
	env := w.broadcast(t, a, b, 1, nil).Envelope // stamped T
	w.clk.Advance(-4 * time.Minute)              // the vehicle's clock is 4 min behind
	openOK(t, b, env)
	st, err := b.ReplayState()
	if err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Minute) // restart at T−3 min by the vehicle's clock
	b = mustRestart(t, b, w.restartCfg("bob", st, nil, nil), key, 1)
	if _, err := b.TryOpen(env); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay of a future-stamped envelope after restart with state: %v", err)
	}
}

// TestRestartAfterRotation: rotation, then restart, with and without
// state. The in-flight request under the previous key opens until the
// recorded retirement; replays under either generation are refused.
func TestRestartAfterRotation(t *testing.T) {
	ctx := context.Background()
	for _, saveAfterRotate := range []bool{true, false} {
		t.Run(fmt.Sprintf("saved-after-rotation=%v", saveAfterRotate), func(t *testing.T) {
			w := newWorld(t, 1)
			a := w.vs[0]
			store := NewMemoryReplayStore()
			b, key1 := w.keyed(t, "bob", func(c *VehicleConfig) { c.ReplayStore = store })
			w.befriend(t, a, b)
			opened1 := w.broadcast(t, a, b, 1, nil).Envelope
			openOK(t, b, opened1)
			inFlight1 := w.broadcast(t, a, b, 2, nil).Envelope // generation 1, not yet opened

			key2, err := GenerateKey(w.rnd)
			if err != nil {
				t.Fatal(err)
			}
			info, err := b.RotateWithKey(key2)
			if err != nil {
				t.Fatal(err)
			}
			if info.Generation != 2 || !bytes.Equal(info.PublicKey, key2.PublicKey().Bytes()) {
				t.Fatalf("rotated info %+v", info)
			}
			if err := w.reg.Rotate(ctx, info); err != nil {
				t.Fatal(err)
			}
			if saveAfterRotate {
				if err := b.SaveReplayState(ctx); err != nil {
					t.Fatal(err)
				}
			}
			w.clk.Advance(time.Minute)
			st := load(t, store, "bob")
			b = mustRestart(t, b, w.restartCfg("bob", st, store, key1), key2, 2)
			if _, err := b.TryOpen(opened1); !errors.Is(err, ErrReplay) {
				t.Fatalf("replay under generation 1: %v", err)
			}
			o := openOK(t, b, inFlight1)
			if o.Generation != 1 {
				t.Fatalf("in-flight opened under generation %d", o.Generation)
			}
			p, err := b.Respond(o, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.bs.Pay(ctx, p); err != nil {
				t.Fatal(err)
			}
			opened2 := w.broadcast(t, a, b, 3, nil).Envelope
			if o := openOK(t, b, opened2); o.Generation != 2 {
				t.Fatalf("fresh request under generation %d", o.Generation)
			}

			// Restart again without state: the floor refuses both
			// generations' replays.
			w.clk.Advance(time.Second)
			noState := mustRestart(t, b, w.restartCfg("bob", nil, nil, key1), key2, 2)
			if err := noState.AddFriend(a.ID()); err != nil {
				t.Fatal(err)
			}
			for _, env := range [][]byte{opened1, inFlight1, opened2} {
				if _, err := noState.TryOpen(env); !errors.Is(err, ErrSealedBeforeStart) {
					t.Fatalf("replay after restart without state: %v", err)
				}
			}

			// With state, past the retirement the old key is gone.
			b = mustRestart(t, noState, w.restartCfg("bob", load(t, store, "bob"), store, key1), key2, 2)
			w.clk.Advance(DefaultRotationGrace)
			if _, err := b.TryOpen(inFlight1); !errors.Is(err, ErrNotForMe) && !errors.Is(err, ErrStale) {
				t.Fatalf("generation 1 after its grace: %v", err)
			}
			late, err := NewVehicleWithKey(w.restartCfg("bob", load(t, store, "bob"), nil, key1), key2, 2)
			if err != nil {
				t.Fatal(err)
			}
			late.mu.RLock()
			n := len(late.gens)
			late.mu.RUnlock()
			if n != 1 {
				t.Fatalf("restart after the grace kept %d generations, want 1", n)
			}
		})
	}
}

// TestRestartChainKeepsFloor: a run started without state (its windows
// know nothing of the run before it) saves a state; a vehicle restored from
// that state must still refuse what the first run opened.
func TestRestartChainKeepsFloor(t *testing.T) {
	w := newWorld(t, 1)
	a := w.vs[0]
	b, key := w.keyed(t, "bob", nil) // run 1: no store
	w.befriend(t, a, b)
	env := w.broadcast(t, a, b, 1, nil).Envelope
	openOK(t, b, env)
	w.clk.Advance(time.Second)
	store := NewMemoryReplayStore()
	b = mustRestart(t, b, w.restartCfg("bob", nil, store, nil), key, 1) // run 2: no state, a store
	start2 := w.clk.Now()
	if err := b.AddFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	openOK(t, b, w.broadcast(t, a, b, 2, nil).Envelope)
	w.clk.Advance(time.Second)
	b = mustRestart(t, b, w.restartCfg("bob", load(t, store, "bob"), store, nil), key, 1) // run 3
	var re *RestartError
	if _, err := b.TryOpen(env); !errors.As(err, &re) || !re.Start.Equal(start2) {
		t.Fatalf("run 1's envelope in run 3: %v", err)
	}
	// What run 2 sealed after its start and never opened still opens.
	openOK(t, b, w.broadcast(t, a, b, 3, nil).Envelope)
}

// TestRestartRemovedFriend: the window of a friend removed before the
// restart is kept (for 2 × Freshness), so befriending again after the
// restart cannot reopen its envelopes.
func TestRestartRemovedFriend(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	a := w.vs[0]
	store := NewMemoryReplayStore()
	b, key := w.keyed(t, "bob", func(c *VehicleConfig) { c.ReplayStore = store })
	w.befriend(t, a, b)
	env := w.broadcast(t, a, b, 1, nil).Envelope
	openOK(t, b, env)
	if err := b.RemoveFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveReplayState(ctx); err != nil {
		t.Fatal(err)
	}
	b = mustRestart(t, b, w.restartCfg("bob", load(t, store, "bob"), store, nil), key, 1)
	if _, err := b.TryOpen(env); err == nil {
		t.Fatal("opened a removed friend's envelope after restart")
	}
	if err := b.AddFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryOpen(env); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay after re-befriending: %v", err)
	}
}

// failingStore fails Save while fail is set and counts saves.
type failingStore struct {
	MemoryReplayStore
	mu    sync.Mutex
	fail  bool
	saves int
}

var errDisk = errors.New("disk full")

func (s *failingStore) Save(ctx context.Context, id VehicleID, st []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDisk
	}
	s.saves++
	return s.MemoryReplayStore.Save(ctx, id, st)
}

// TestReplayStoreWriteAhead: a request is handed out only after the state
// with its sequence is saved; a failed save hands out nothing and moves no
// window, so the envelope opens once the store works again.
func TestReplayStoreWriteAhead(t *testing.T) {
	w := newWorld(t, 1)
	a := w.vs[0]
	store := &failingStore{}
	b, key := w.keyed(t, "bob", func(c *VehicleConfig) { c.ReplayStore = store })
	w.befriend(t, a, b)
	env := w.broadcast(t, a, b, 1, nil).Envelope
	store.fail = true
	if o, err := b.TryOpen(env); !errors.Is(err, ErrReplayNotSaved) || !errors.Is(err, errDisk) || o.Request.Amount != 0 {
		t.Fatalf("failed save: %+v, %v", o, err)
	}
	if err := b.SaveReplayState(context.Background()); !errors.Is(err, ErrReplayNotSaved) {
		t.Fatalf("SaveReplayState with a failing store: %v", err)
	}
	store.fail = false
	openOK(t, b, env)
	// Every state saved after an open refuses that open on restart.
	for i := range 3 {
		env := w.broadcast(t, a, b, int64(2+i), nil).Envelope
		openOK(t, b, env)
		r, err := NewVehicleWithKey(w.restartCfg("bob", load(t, store, "bob"), nil, nil), key, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.TryOpen(env); !errors.Is(err, ErrReplay) {
			t.Fatalf("state saved by open %d does not cover it: %v", i, err)
		}
	}
	// A canceled context reaches the store: nothing is accepted.
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	env = w.broadcast(t, a, b, 9, nil).Envelope
	if _, err := b.TryOpenContext(cctx, env); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrReplayNotSaved) {
		t.Fatalf("canceled: %v", err)
	}
	openOK(t, b, env)
}

// TestReplayStoreConcurrent: concurrent opens through a store (-race); the
// last saved state holds every one of them, so saves never go backwards.
func TestReplayStoreConcurrent(t *testing.T) {
	w := newWorld(t, 4)
	store := NewMemoryReplayStore()
	b, key := w.keyed(t, "bob", func(c *VehicleConfig) { c.ReplayStore = store })
	var envs [][]byte
	for _, f := range w.vs[:4] {
		w.befriend(t, f, b)
		for i := range 12 {
			envs = append(envs, w.broadcast(t, f, b, int64(1+i), nil).Envelope)
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(envs), func(i, j int) { envs[i], envs[j] = envs[j], envs[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(envs))
	for g := range 6 {
		wg.Go(func() {
			for i := g; i < len(envs); i += 6 {
				if _, err := b.TryOpen(envs[i]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := NewVehicleWithKey(w.restartCfg("bob", load(t, store, "bob"), nil, nil), key, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, env := range envs {
		if _, err := r.TryOpen(env); !errors.Is(err, ErrReplay) {
			t.Fatalf("envelope %d after restart: %v", i, err)
		}
	}
}

// TestReplayStateRoundTrip: random windows, friends, removed friends and
// generations survive encode → parse → restore exactly, and the encoding
// is canonical.
func TestReplayStateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		w := newWorld(t, 0)
		v, key := w.keyed(t, "bob", nil)
		ids := []VehicleID{}
		for i := range 1 + rng.IntN(10) {
			id := VehicleID(fmt.Sprintf("friend-%02d", i))
			ids = append(ids, id)
			if err := v.AddFriend(id); err != nil {
				t.Fatal(err)
			}
		}
		v.mu.Lock()
		for _, id := range ids {
			if rng.IntN(3) == 0 {
				continue
			}
			win := &ReplayWindow{}
			for range 1 + rng.IntN(100) {
				_ = win.Accept(1 + rng.Uint64N(200))
			}
			v.windows[id] = win
		}
		v.mu.Unlock()
		for _, id := range ids {
			if rng.IntN(4) == 0 {
				if err := v.RemoveFriend(id); err != nil {
					t.Fatal(err)
				}
			}
		}
		var gen uint32 = 1
		if trial%2 == 1 {
			if _, err := v.RotateWithKey(mustKey(t, w)); err != nil {
				t.Fatal(err)
			}
			gen = 2
		}
		st, err := v.ReplayState()
		if err != nil {
			t.Fatal(err)
		}
		ps, err := parseReplayState(st)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		again, err := ps.encode()
		if err != nil || !bytes.Equal(again, st) {
			t.Fatalf("trial %d: re-encode differs (%v)", trial, err)
		}
		v.mu.RLock()
		curKey := v.gens[len(v.gens)-1].priv
		v.mu.RUnlock()
		cfg := w.restartCfg("bob", st, nil, nil)
		if gen == 2 {
			cfg.PreviousKey = key
		}
		r, err := NewVehicleWithKey(cfg, curKey, gen)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		v.mu.RLock()
		r.mu.RLock()
		if !maps.Equal(v.friends, r.friends) || !maps.EqualFunc(v.removed, r.removed, time.Time.Equal) ||
			!maps.EqualFunc(v.windows, r.windows, func(a, b *ReplayWindow) bool { return *a == *b }) {
			t.Errorf("trial %d: restored state differs:\nfriends %v / %v\nremoved %v / %v", trial,
				slices.Sorted(maps.Keys(v.friends)), slices.Sorted(maps.Keys(r.friends)), v.removed, r.removed)
		}
		if r.hasFloor != v.hasFloor || r.floor != v.floor || len(r.gens) != len(v.gens) || !r.gens[0].retireAt.Equal(v.gens[0].retireAt.Truncate(time.Millisecond)) {
			t.Errorf("trial %d: generations differ", trial)
		}
		r.mu.RUnlock()
		v.mu.RUnlock()
		rs, err := r.ReplayState()
		if err != nil || !bytes.Equal(rs, st) {
			t.Fatalf("trial %d: the restored vehicle saves another state (%v)", trial, err)
		}
	}
}

func mustKey(t testing.TB, w *world) *ecdh.PrivateKey {
	t.Helper()
	k, err := GenerateKey(w.rnd)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestReplayStateMismatch: a well-formed state restores only into the
// vehicle and keys it was saved for; a damaged one is refused by Validate.
func TestReplayStateMismatch(t *testing.T) {
	w := newWorld(t, 1)
	a := w.vs[0]
	b, key := w.keyed(t, "bob", nil)
	w.befriend(t, a, b)
	openOK(t, b, w.broadcast(t, a, b, 1, nil).Envelope)
	key2 := mustKey(t, w)
	if _, err := b.RotateWithKey(key2); err != nil {
		t.Fatal(err)
	}
	st, err := b.ReplayState()
	if err != nil {
		t.Fatal(err)
	}
	other := mustKey(t, w)
	for name, c := range map[string]struct {
		cfg  VehicleConfig
		key  *ecdh.PrivateKey
		gen  uint32
		want error
	}{
		"other vehicle":            {w.restartCfg("carol", st, nil, nil), key2, 2, ErrReplayStateMismatch},
		"key older than state":     {w.restartCfg("bob", st, nil, nil), key, 1, ErrReplayStateMismatch},
		"other key, same gen":      {w.restartCfg("bob", st, nil, nil), other, 2, ErrReplayStateMismatch},
		"wrong previous key":       {w.restartCfg("bob", st, nil, other), key2, 2, ErrReplayStateMismatch},
		"previous is current":      {w.restartCfg("bob", st, nil, key2), key2, 2, ErrInvalidKey},
		"previous of generation 0": {w.restartCfg("bob", nil, nil, key), key2, 1, ErrInvalidKey},
	} {
		if _, err := NewVehicleWithKey(c.cfg, c.key, c.gen); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	// A newer key than the state (rotated after the save) is fine.
	key3 := mustKey(t, w)
	if _, err := NewVehicleWithKey(w.restartCfg("bob", st, nil, key2), key3, 3); err != nil {
		t.Fatalf("key newer than the state: %v", err)
	}
	// Every single-bit flip is refused with a typed error.
	for i := range len(st) * 8 {
		bad := bytes.Clone(st)
		bad[i/8] ^= 1 << (i % 8)
		cfg := w.restartCfg("bob", bad, nil, nil)
		err := cfg.Validate()
		var se *ReplayStateError
		if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, ErrBadReplayState) || !errors.As(err, &se) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
		if _, err := NewVehicleWithKey(cfg, key2, 2); err == nil {
			t.Fatalf("bit %d flipped: restored", i)
		}
	}
	var se *ReplayStateError
	if err := w.restartCfg("bob", st[:len(st)-1], nil, nil).Validate(); !errors.As(err, &se) {
		t.Fatalf("truncated: %v", err)
	}
	if err := w.restartCfg("bob", append(bytes.Clone(st), 0), nil, nil).Validate(); !errors.As(err, &se) || se.Field != "crc" {
		t.Fatalf("trailing byte: %v", err)
	}
}

// TestReplayStateTooManyFriends: a state with more friends than the
// restarted vehicle's MaxFriends is refused, not cut short.
func TestReplayStateTooManyFriends(t *testing.T) {
	w := newWorld(t, 0)
	b, key := w.keyed(t, "bob", nil)
	for i := range 5 {
		if err := b.AddFriend(VehicleID(fmt.Sprintf("f%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.ReplayState()
	if err != nil {
		t.Fatal(err)
	}
	cfg := w.restartCfg("bob", st, nil, nil)
	cfg.MaxFriends = 4
	if _, err := NewVehicleWithKey(cfg, key, 1); !errors.Is(err, ErrTooManyFriends) {
		t.Fatalf("got %v", err)
	}
}

// TestReplayStateSizeBound: a state over MaxReplayStateSize is neither
// written nor read.
func TestReplayStateSizeBound(t *testing.T) {
	w := newWorld(t, 0)
	b, _ := w.keyed(t, "bob", func(c *VehicleConfig) { c.MaxFriends = 20_000 })
	pad := string(bytes.Repeat([]byte{'x'}, MaxIDLen-6))
	for i := range 17_000 {
		if err := b.AddFriend(VehicleID(fmt.Sprintf("%06d%s", i, pad))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.ReplayState(); !errors.Is(err, ErrBadReplayState) {
		t.Fatalf("oversized state written: %v", err)
	}
	if _, err := parseReplayState(make([]byte, MaxReplayStateSize+1)); !errors.Is(err, ErrBadReplayState) {
		t.Fatalf("oversized state read: %v", err)
	}
	// MaxFriendsWithReplayStore friends of the longest IDs, each with a
	// window, fit with room to spare.
	full := &savedState{id: "bob", gens: []savedGen{{gen: 1}, {gen: 2}}}
	full.gens[0].retiring = true
	for i := range MaxFriendsWithReplayStore {
		id := VehicleID(fmt.Sprintf("%06d%s", i, pad))
		full.friends = append(full.friends, id)
		full.windows = append(full.windows, savedWindow{requester: id, top: 1 << 40, bitmap: ^uint64(0)})
	}
	if st, err := full.encode(); err != nil || len(st) > MaxReplayStateSize*2/3 {
		t.Fatalf("full state: %d bytes, %v", len(st), err)
	}
	// More entries than the 16-bit counts hold are refused, not wrapped.
	many := &savedState{id: "bob", gens: []savedGen{{gen: 1}}}
	for i := range 1 << 16 {
		many.friends = append(many.friends, VehicleID(fmt.Sprintf("%05x", i)))
	}
	if _, err := many.encode(); !errors.Is(err, ErrBadReplayState) {
		t.Fatalf("65 536 friends encoded: %v", err)
	}
	many.friends = many.friends[:1<<16-1]
	if st, err := many.encode(); err != nil {
		t.Fatalf("65 535 friends: %v", err)
	} else if _, err := parseReplayState(st); err != nil {
		t.Fatalf("65 535 friends do not parse back: %v", err)
	}
	// A count that cannot fit is refused before anything is allocated.
	st, _ := (&savedState{id: "bob", gens: []savedGen{{gen: 1}}}).encode()
	off := len(st) - 4 - 2 - 2
	st[off], st[off+1] = 0xff, 0xff
	if _, err := parseReplayState(st); !errors.Is(err, ErrBadReplayState) {
		t.Fatalf("huge count: %v", err)
	}
}

// TestRotateWithKeyAndSaveErrors: RotateWithKey refuses a missing, foreign
// or reused key; SaveReplayState needs a store; both refuse a closed
// vehicle.
func TestRotateWithKeyAndSaveErrors(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 0)
	b, key := w.keyed(t, "bob", nil)
	p256, err := ecdh.P256().GenerateKey(w.rnd)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*ecdh.PrivateKey{"nil": nil, "P-256": p256, "current": key} {
		if _, err := b.RotateWithKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("RotateWithKey(%s): %v", name, err)
		}
	}
	k2 := mustKey(t, w)
	if _, err := b.RotateWithKey(k2); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RotateWithKey(key); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("RotateWithKey(previous, still live): %v", err)
	}
	big := w.restartCfg("bob", nil, NewMemoryReplayStore(), nil)
	big.MaxFriends = MaxFriendsWithReplayStore + 1
	if err := big.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("MaxFriends above MaxFriendsWithReplayStore with a store: %v", err)
	}
	big.MaxFriends = MaxFriendsWithReplayStore
	if err := big.Validate(); err != nil {
		t.Errorf("MaxFriends = MaxFriendsWithReplayStore: %v", err)
	}
	if err := b.SaveReplayState(ctx); !errors.Is(err, ErrNoReplayStore) {
		t.Errorf("SaveReplayState without a store: %v", err)
	}
	_ = b.Close()
	if _, err := b.RotateWithKey(mustKey(t, w)); !errors.Is(err, ErrClosed) {
		t.Errorf("RotateWithKey after Close: %v", err)
	}
	if _, err := b.ReplayState(); !errors.Is(err, ErrClosed) {
		t.Errorf("ReplayState after Close: %v", err)
	}
	if err := b.SaveReplayState(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveReplayState after Close: %v", err)
	}
}

package vehicle

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	alice, bob, carol := w.vs[0], w.vs[1], w.vs[2]
	w.befriend(t, alice, bob)
	w.befriend(t, carol, bob)

	b := w.broadcast(t, alice, bob, 4250, []byte("fuel pump 4"))
	if _, err := carol.TryOpen(b.Envelope); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("carol: %v, want ErrNotForMe", err)
	}
	if _, err := alice.TryOpen(b.Envelope); !errors.Is(err, ErrNotForMe) {
		t.Fatalf("alice (the requester): %v, want ErrNotForMe", err)
	}
	o, err := bob.TryOpen(b.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if o.Request.From != alice.ID() || o.Request.Amount != 4250 || string(o.Request.Payload) != "fuel pump 4" ||
		o.BaseStation != "gNB-7" || o.Sequence != 1 || o.Request.ID != b.RequestID {
		t.Fatalf("opened %+v", o)
	}
	info, err := bob.Respond(o, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.bs.Pay(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Receipt.Amount != 4250 || res.Receipt.From != "car-0001" || res.Receipt.To != "car-0000" {
		t.Fatalf("result %+v", res)
	}
	for id, want := range map[string]int64{"car-0000": 1_004_250, "car-0001": 995_750, "car-0002": 1_000_000} {
		if got, _ := w.platform.Balance(ctx, id); got != want {
			t.Errorf("%s balance %d, want %d", id, got, want)
		}
	}
	// The same PaymentInfo again moves nothing.
	res2, err := w.bs.Pay(ctx, info)
	if err != nil || !res2.Duplicate {
		t.Fatalf("duplicate pay: %+v %v", res2, err)
	}
	if got, _ := w.platform.Balance(ctx, "car-0000"); got != 1_004_250 {
		t.Errorf("duplicate moved money: %d", got)
	}
	// A replay of the envelope is rejected.
	if _, err := bob.TryOpen(b.Envelope); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	// Closing zeroes the keys; nothing works afterwards.
	if err := w.bs.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.bs.Pay(ctx, info); !errors.Is(err, ErrClosed) {
		t.Fatalf("pay after close: %v", err)
	}
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.TryOpen(b.Envelope); !errors.Is(err, ErrClosed) {
		t.Fatalf("open after close: %v", err)
	}
	if err := bob.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

func TestBadFlows(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 4)
	a, b, c, d := w.vs[0], w.vs[1], w.vs[2], w.vs[3]
	w.befriend(t, a, b)
	req := func(from VehicleID, to VehicleID) Request {
		r := Request{From: from, To: to, Amount: 10}
		r.ID[0] = byte(len(from) + len(to))
		return r
	}
	if _, err := w.bs.Request(ctx, req("ghost", b.ID())); !errors.Is(err, ErrUnknownRequester) {
		t.Errorf("unknown requester: %v", err)
	}
	if _, err := w.bs.Request(ctx, req(a.ID(), c.ID())); !errors.Is(err, ErrNotFriends) {
		t.Errorf("no friend: %v", err)
	}
	if _, err := w.bs.Request(ctx, Request{From: a.ID(), To: b.ID(), Amount: 0}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("zero amount: %v", err)
	}
	if _, err := w.bs.Request(ctx, Request{From: a.ID(), To: b.ID(), Amount: 1, Payload: make([]byte, MaxPayload+1)}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("oversized payload: %v", err)
	}

	bc := w.broadcast(t, a, b, 99, nil)
	o, err := b.TryOpen(bc.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := b.Respond(o, true)
	// Someone else answers.
	forged := info
	forged.Payer = c.ID()
	if _, err := w.bs.Pay(ctx, forged); !errors.Is(err, ErrWrongResponder) {
		t.Errorf("wrong responder: %v", err)
	}
	// The amount is changed on the way.
	forged = info
	forged.Amount = 99_000
	if _, err := w.bs.Pay(ctx, forged); !errors.Is(err, ErrTampered) {
		t.Errorf("changed amount: %v", err)
	}
	forged = info
	forged.Tag[3] ^= 1
	if _, err := w.bs.Pay(ctx, forged); !errors.Is(err, ErrTampered) {
		t.Errorf("changed tag: %v", err)
	}
	unknown := info
	unknown.RequestID[0] ^= 0xff
	if _, err := w.bs.Pay(ctx, unknown); !errors.Is(err, ErrUnknownRequest) {
		t.Errorf("unknown request: %v", err)
	}
	// A declined request moves nothing and is gone.
	bc2 := w.broadcast(t, a, b, 77, nil)
	o2, err := b.TryOpen(bc2.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	no, _ := b.Respond(o2, false)
	if _, err := w.bs.Pay(ctx, no); !errors.Is(err, ErrDeclined) {
		t.Errorf("declined: %v", err)
	}
	// Insufficient funds: nothing moves, the request can be retried.
	poor := w.add(t, "poor")
	if err := w.platform.Open(ctx, "nobody", 0); err != nil {
		t.Fatal(err)
	}
	w.befriend(t, d, poor)
	_ = w.platform // poor's account was opened with 1 000 000 by add; drain it
	if _, err := w.platform.Transfer(ctx, Transfer{ID: "drain", From: "poor", To: "nobody", Amount: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	bc3 := w.broadcast(t, d, poor, 5, nil)
	o3, err := poor.TryOpen(bc3.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	pay, _ := poor.Respond(o3, true)
	before, _ := w.platform.Total(ctx)
	if _, err := w.bs.Pay(ctx, pay); !errors.Is(err, ErrInsufficientFunds) {
		t.Errorf("insufficient funds: %v", err)
	}
	if after, _ := w.platform.Total(ctx); after != before {
		t.Errorf("total changed %d → %d", before, after)
	}
	if got, _ := w.platform.Balance(ctx, string(d.ID())); got != 1_000_000 {
		t.Errorf("failed flow moved money: %d", got)
	}
}

func TestOutOfCoverage(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 3)
	a, b, c := w.vs[0], w.vs[1], w.vs[2]
	w.befriend(t, a, b)
	w.befriend(t, a, c)
	pos := map[VehicleID]Position{a.ID(): {X: 100}, b.ID(): {X: 5000}, c.ID(): {X: 200}}
	pool, _ := NewResourcePool(PoolConfig{})
	bs, err := NewBaseStation(BaseStationConfig{ID: "gNB-8", NetworkKey: w.netKey, Now: w.clk.Now, Rand: w.rnd,
		CoverageRadius: 1000, Pool: pool,
		Locate: func(id VehicleID) (Position, bool) { p, ok := pos[id]; return p, ok }}, w.reg, w.platform)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := a.Request(b.ID(), 5, nil)
	if _, err := bs.Request(ctx, r); !errors.Is(err, ErrFriendOutOfCoverage) {
		t.Errorf("friend far away: %v", err)
	}
	r, _ = b.Request(a.ID(), 5, nil)
	if _, err := bs.Request(ctx, r); !errors.Is(err, ErrRequesterOutOfCoverage) {
		t.Errorf("requester far away: %v", err)
	}
	r, _ = a.Request(c.ID(), 5, nil)
	bc, err := bs.Request(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.TryOpen(bc.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.Respond(o, true)
	res, err := bs.Pay(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	if res.Grant == nil || res.GrantErr != nil {
		t.Fatalf("no sidelink grant: %+v", res)
	}
	if _, err := pool.Use(res.Grant.ID, w.clk.Now()); err != nil {
		t.Errorf("use grant: %v", err)
	}
}

// TestOnlyFriendOpens: among 1 000 vehicles in coverage, only the friend
// opens the envelope; everyone else gets ErrNotForMe.
func TestOnlyFriendOpens(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	w := newWorld(t, n)
	// Everyone has friends, so no vehicle rejects for lack of keys.
	for i := 0; i+1 < n; i += 2 {
		w.befriend(t, w.vs[i], w.vs[i+1])
	}
	w.befriend(t, w.vs[0], w.vs[n-1])
	for _, pair := range [][2]int{{0, 1}, {0, n - 1}, {n - 1, n - 2}} {
		from, to := w.vs[pair[0]], w.vs[pair[1]]
		b := w.broadcast(t, from, to, 1, []byte("toll"))
		opened := 0
		for _, v := range w.vs {
			o, err := v.TryOpen(b.Envelope)
			switch {
			case err == nil:
				opened++
				if v != to || o.Request.From != from.ID() {
					t.Fatalf("%s opened a request for %s", v.ID(), to.ID())
				}
			case !errors.Is(err, ErrNotForMe):
				t.Fatalf("%s: %v, want ErrNotForMe", v.ID(), err)
			}
		}
		if opened != 1 {
			t.Fatalf("%d vehicles opened the envelope, want exactly the friend", opened)
		}
	}
}

func TestEveryBitFlipRejected(t *testing.T) {
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	bc := w.broadcast(t, a, b, 1234, bytes.Repeat([]byte{0xa5}, 40))
	env := bc.Envelope
	for i := range len(env) * 8 {
		m := bytes.Clone(env)
		m[i/8] ^= 1 << (i % 8)
		if o, err := b.TryOpen(m); err == nil {
			t.Fatalf("bit %d (byte %d) flipped and the envelope opened: %+v", i, i/8, o.Request)
		}
	}
	// Truncations and extensions too.
	for n := range len(env) {
		if _, err := b.TryOpen(env[:n]); !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := b.TryOpen(append(bytes.Clone(env), 0)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("extended: %v", err)
	}
	if _, err := b.TryOpen(make([]byte, MaxEnvelopeSize+1)); !errors.Is(err, ErrOversized) {
		t.Fatalf("oversized: %v", err)
	}
	// The original still opens: the flips were rejected before the replay
	// window moved.
	if _, err := b.TryOpen(env); err != nil {
		t.Fatalf("original after flips: %v", err)
	}
}

func TestReplayAndFreshness(t *testing.T) {
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	var envs [][]byte
	for range 70 {
		envs = append(envs, w.broadcast(t, a, b, 1, nil).Envelope)
	}
	// Open 1, then 70: 1 is now behind the 64-entry window.
	if _, err := b.TryOpen(envs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryOpen(envs[69]); err != nil {
		t.Fatal(err)
	}
	var re *ReplayError
	if _, err := b.TryOpen(envs[0]); !errors.As(err, &re) || re.Duplicate {
		t.Fatalf("replay behind the window: %v", err)
	}
	// 10 is behind the window too (70-10 ≥ 64) even though never opened.
	if _, err := b.TryOpen(envs[5]); !errors.Is(err, ErrReplay) {
		t.Fatalf("old never-seen: %v", err)
	}
	// 40 is inside the window: first open works, the replay is rejected.
	if _, err := b.TryOpen(envs[39]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryOpen(envs[39]); !errors.As(err, &re) || !re.Duplicate {
		t.Fatalf("replay inside the window: %v", err)
	}
	if _, err := b.TryOpen(envs[69]); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay of the highest: %v", err)
	}
	// Freshness: 5 min + 1 ms later the envelope is stale.
	fresh := w.broadcast(t, a, b, 1, nil).Envelope
	w.clk.Advance(DefaultFreshness + time.Millisecond)
	var se *StaleError
	if _, err := b.TryOpen(fresh); !errors.As(err, &se) || !errors.Is(err, ErrStale) {
		t.Fatalf("stale: %v", err)
	}
	// And from the future.
	future := w.broadcast(t, a, b, 1, nil).Envelope
	w.clk.Advance(-2*DefaultFreshness - time.Second)
	if _, err := b.TryOpen(future); !errors.Is(err, ErrStale) {
		t.Fatalf("future: %v", err)
	}
}

func TestBroadcastsUnlinkable(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	req, _ := a.Request(b.ID(), 500, []byte("parking"))
	b1, err := w.bs.Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := w.bs.Request(ctx, req) // the same request, broadcast again
	if err != nil {
		t.Fatal(err)
	}
	if b1.RequestID != b2.RequestID || b1.Sequence == b2.Sequence {
		t.Fatalf("rebroadcast: %+v %+v", b1, b2)
	}
	var e1, e2 Envelope
	if err := e1.UnmarshalBinary(b1.Envelope); err != nil {
		t.Fatal(err)
	}
	if err := e2.UnmarshalBinary(b2.Envelope); err != nil {
		t.Fatal(err)
	}
	// The only shared fields are the public ones every broadcast of this
	// base station at this time shares: version, base station, timestamp,
	// and the ciphertext length.
	if e1.BaseStation != e2.BaseStation || !e1.Timestamp.Equal(e2.Timestamp) {
		t.Fatal("public header differs")
	}
	fields := []struct {
		name   string
		x1, x2 []byte
	}{
		{"nonce", e1.Nonce[:], e2.Nonce[:]},
		{"hint", e1.Hint[:], e2.Hint[:]},
		{"slot", e1.Slot[:], e2.Slot[:]},
		{"protected", e1.Protected[:], e2.Protected[:]},
		{"ciphertext", e1.Ciphertext, e2.Ciphertext},
	}
	for _, f := range fields {
		same := 0
		for i := range f.x1 {
			if f.x1[i] == f.x2[i] {
				same++
			}
		}
		// Independent uniform bytes agree with probability 1/256 each.
		if limit := len(f.x1)/32 + 3; same > limit {
			t.Errorf("%s: %d of %d bytes equal (limit %d)", f.name, same, len(f.x1), limit)
		}
	}
	// No 4-byte window of the per-broadcast part of one envelope appears in
	// the other.
	hdr := 2 + len(e1.BaseStation) + 8
	for i := hdr; i+4 <= len(b1.Envelope); i++ {
		if bytes.Contains(b2.Envelope[hdr:], b1.Envelope[i:i+4]) && !isLength(b1.Envelope, i) {
			t.Errorf("bytes %d…%d of broadcast 1 reappear in broadcast 2", i, i+4)
		}
	}
	// Both still open for the friend, as two sequence numbers.
	for _, env := range [][]byte{b1.Envelope, b2.Envelope} {
		if _, err := b.TryOpen(env); err != nil {
			t.Fatal(err)
		}
	}
}

// isLength reports whether the window at i overlaps the 2-byte ciphertext
// length, the one per-broadcast field that equal requests share.
func isLength(env []byte, i int) bool {
	off := 2 + int(env[1]) + 8 + NonceSize + HintSize + SlotSize + ProtectedSize
	return i <= off+1 && i+4 > off
}

func TestRotationKeepsInFlight(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	old := w.broadcast(t, a, b, 300, nil) // in flight under generation 1

	info, err := b.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if info.Generation != 2 {
		t.Fatalf("generation %d", info.Generation)
	}
	if err := w.reg.Rotate(ctx, info); err != nil {
		t.Fatal(err)
	}
	if err := w.reg.Rotate(ctx, info); !errors.Is(err, ErrStaleGeneration) {
		t.Fatalf("second rotate to same generation: %v", err)
	}
	fresh := w.broadcast(t, a, b, 400, nil) // under generation 2
	w.clk.Advance(time.Minute)
	for _, bc := range []Broadcast{old, fresh} {
		o, err := b.TryOpen(bc.Envelope)
		if err != nil {
			t.Fatalf("open after rotation: %v", err)
		}
		p, err := b.Respond(o, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.bs.Pay(ctx, p); err != nil {
			t.Fatalf("pay after rotation (generation %d): %v", o.Generation, err)
		}
	}
	if got, _ := w.platform.Balance(ctx, string(a.ID())); got != 1_000_700 {
		t.Fatalf("requester balance %d, want both payments", got)
	}
	// After the grace period the old key is gone.
	w.clk.Advance(DefaultRotationGrace)
	late := w.broadcast(t, a, b, 1, nil)
	if _, err := b.TryOpen(late.Envelope); err != nil {
		t.Fatalf("current key after grace: %v", err)
	}
	for range 3 {
		if _, err := b.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	b.mu.RLock()
	n := len(b.gens)
	b.mu.RUnlock()
	if n != 2 {
		t.Fatalf("%d generations kept, want current + previous", n)
	}
}

func TestConcurrentDuplicatedPayments(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 8)
	for i := 0; i < 8; i += 2 {
		w.befriend(t, w.vs[i], w.vs[i+1])
	}
	before, _ := w.platform.Total(ctx)
	var infos []PaymentInfo
	for r := range 40 {
		i := 2 * (r % 4)
		bc := w.broadcast(t, w.vs[i], w.vs[i+1], int64(100+r), nil)
		o, err := w.vs[i+1].TryOpen(bc.Envelope)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.vs[i+1].Respond(o, true)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, p)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := map[RequestID]int{}
	for copy := range 4 {
		for _, p := range infos {
			wg.Go(func() {
				r, err := w.bs.Pay(ctx, p)
				if err != nil {
					t.Errorf("pay: %v", err)
					return
				}
				if !r.Duplicate {
					mu.Lock()
					fresh[p.RequestID]++
					mu.Unlock()
				}
				// The platform directly, duplicated too.
				rec, err := w.platform.Transfer(ctx, r.Receipt.Transfer)
				if err != nil || !rec.Duplicate {
					t.Errorf("direct duplicate: %+v %v", rec, err)
				}
				_ = copy
			})
		}
	}
	wg.Wait()
	for _, p := range infos {
		if fresh[p.RequestID] != 1 {
			t.Errorf("request %s settled %d times", p.RequestID, fresh[p.RequestID])
		}
	}
	after, _ := w.platform.Total(ctx)
	if after != before {
		t.Fatalf("sum of balances %d → %d", before, after)
	}
	var want int64 = 1_000_000
	for r := range 40 {
		if r%4 == 0 {
			want += int64(100 + r)
		}
	}
	if got, _ := w.platform.Balance(ctx, string(w.vs[0].ID())); got != want {
		t.Fatalf("payee balance %d, want %d", got, want)
	}
}

// TestConcurrentFlows runs requests, opens, rotations and payments from
// many goroutines at once (run with -race), then closes the base station
// while requests are still arriving.
func TestConcurrentFlows(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 8)
	for i := 0; i < 8; i += 2 {
		w.befriend(t, w.vs[i], w.vs[i+1])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		from, to := w.vs[2*g], w.vs[2*g+1]
		wg.Go(func() {
			for k := range 15 {
				req, err := from.Request(to.ID(), int64(1+k), nil)
				if err != nil {
					t.Error(err)
					return
				}
				bc, err := w.bs.Request(ctx, req)
				if err != nil {
					t.Error(err)
					return
				}
				for _, v := range w.vs { // every vehicle tries, concurrently with the others
					_, err := v.TryOpen(bc.Envelope)
					// vs[7] rotates twice during the run, which retires
					// the generation an envelope may have been sealed under.
					if err != nil && v == to && !(v == w.vs[7] && errors.Is(err, ErrNotForMe)) {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			info, err := w.vs[7].Rotate()
			if err != nil {
				t.Error(err)
				return
			}
			if err := w.reg.Rotate(ctx, info); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	// Close while requests race it: each either succeeds or sees ErrClosed.
	for g := range 4 {
		from, to := w.vs[2*g], w.vs[2*g+1]
		wg.Go(func() {
			for range 10 {
				req, _ := from.Request(to.ID(), 1, nil)
				if _, err := w.bs.Request(ctx, req); err != nil && !errors.Is(err, ErrClosed) {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		if err := w.bs.Close(); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
}

package vehicle

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestEnvelopeLengthHidesIdentity: the envelope's length depends on the
// payload size only, never on who pays whom — vehicle IDs of different
// lengths must not show through the ciphertext length.
func TestEnvelopeLengthHidesIdentity(t *testing.T) {
	w := newWorld(t, 0)
	short1, short2 := w.add(t, "a"), w.add(t, "b")
	long1 := w.add(t, "a-vehicle-with-a-much-longer-identifier-0001")
	long2 := w.add(t, "a-vehicle-with-a-much-longer-identifier-0002")
	w.befriend(t, short1, short2)
	w.befriend(t, long1, long2)
	payload := make([]byte, 100)
	e1 := w.broadcast(t, short1, short2, 7, payload).Envelope
	e2 := w.broadcast(t, long1, long2, 7, payload).Envelope
	if len(e1) != len(e2) {
		t.Fatalf("envelope length %d for short IDs, %d for long IDs: the length reveals the pair", len(e1), len(e2))
	}
	for _, c := range []struct {
		env []byte
		v   *Vehicle
	}{{e1, short2}, {e2, long2}} {
		if _, err := c.v.TryOpen(c.env); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReplayAfterRefriend: ending a friendship and making it again must
// not reopen sequence numbers — the pair keys come back identical, so a
// captured envelope would otherwise be accepted a second time.
func TestReplayAfterRefriend(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	env := w.broadcast(t, a, b, 10, nil).Envelope
	if _, err := b.TryOpen(env); err != nil {
		t.Fatal(err)
	}
	if err := w.reg.Unfriend(ctx, a.ID(), b.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryOpen(env); err == nil {
		t.Fatal("opened while not friends")
	}
	w.clk.Advance(time.Minute)
	w.befriend(t, a, b)
	if _, err := b.TryOpen(env); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay after unfriend and befriend: %v, want ErrReplay", err)
	}
	// New requests of the pair still open (the registry never reuses a
	// sequence number of the pair).
	if _, err := b.TryOpen(w.broadcast(t, a, b, 11, nil).Envelope); err != nil {
		t.Fatal(err)
	}
	// Long after the friendship ended the remembered window may go: by then
	// every envelope sealed before is stale.
	if err := b.RemoveFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(2*DefaultFreshness + time.Second)
	if err := b.AddFriend("someone-else"); err != nil {
		t.Fatal(err)
	}
	b.mu.RLock()
	_, kept := b.windows[a.ID()]
	b.mu.RUnlock()
	if kept {
		t.Fatal("window of a friend removed 2×Freshness ago is still kept")
	}
}

// TestPoolClockNeverRunsBackwards: concurrent callers (BaseStation.Pay
// reads its clock before it reaches the pool) can pass times out of order.
// A grant swept as expired at a later time must still block a grant asked
// for at an earlier time, when it was live.
func TestPoolClockNeverRunsBackwards(t *testing.T) {
	p, err := NewResourcePool(PoolConfig{SubChannels: 1, Slots: 1, InterferenceRange: 100, GrantLifetime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	here := Position{X: 0, Y: 0}
	far := Position{X: 10_000, Y: 0}
	a, err := p.Grant("a1", "a2", here, here, t0)
	if err != nil {
		t.Fatal(err)
	}
	// A far-away pair at t0+2s sweeps a as expired.
	if _, err := p.Grant("f1", "f2", far, far, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	// A pair next to a, asked for at t0+0.5s (a late caller), while a was live.
	c, err := p.Grant("c1", "c2", here, here, t0.Add(500*time.Millisecond))
	if err != nil {
		return // denied: fine
	}
	if c.Slot == a.Slot && c.SubChannel == a.SubChannel && c.Issued.Before(a.Expires) && c.Interferes(a, 100) {
		t.Fatalf("grant %+v overlaps %+v in time, resource and range", c, a)
	}
}

// TestPoolReleaseOutOfOrder: a release stamped earlier than a grant the
// pool already made must not make the pool hand the released resource to
// a neighbour for a time when the released grant still held it.
func TestPoolReleaseOutOfOrder(t *testing.T) {
	p, err := NewResourcePool(PoolConfig{SubChannels: 1, Slots: 1, InterferenceRange: 100, GrantLifetime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	here := Position{}
	a, err := p.Grant("a1", "a2", here, here, t0.Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Release(a.ID, t0.Add(400*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	c, err := p.Grant("c1", "c2", here, here, t0.Add(100*time.Millisecond))
	if err != nil {
		return
	}
	if c.Issued.Before(t0.Add(400 * time.Millisecond)) {
		t.Fatalf("grant issued at %s on the resource grant %d held until its release at +400ms", c.Issued.Sub(t0), a.ID)
	}
}

// TestPlatformNoOverflow: balances are int64; a transfer into an account
// near the top used to wrap it negative, and the total of several large
// accounts overflowed. Open keeps the sum of all balances representable,
// so no transfer can overflow, and nothing moves on a failure.
func TestPlatformNoOverflow(t *testing.T) {
	ctx := context.Background()
	p, err := NewMemoryPlatform(PlatformConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Open(ctx, "rich", math.MaxInt64-10); err != nil {
		t.Fatal(err)
	}
	err = p.Open(ctx, "payer", 100)
	if err == nil {
		// An implementation may accept the account; then the transfer must fail.
		if _, err := p.Transfer(ctx, Transfer{ID: "t1", From: "payer", To: "rich", Amount: 100}); err == nil {
			t.Fatal("transfer wrapped the payee's balance")
		}
	} else if !errors.Is(err, ErrInvalidTransfer) {
		t.Fatalf("open past the representable total: %v", err)
	}
	for _, acct := range []string{"rich", "payer"} {
		if b, err := p.Balance(ctx, acct); err == nil && b < 0 {
			t.Fatalf("%s has a negative balance %d", acct, b)
		}
	}
	total, err := p.Total(ctx)
	if err != nil || total < 0 {
		t.Fatalf("total %d, %v", total, err)
	}
	if err := p.Open(ctx, "small", 10); err != nil {
		t.Fatalf("the representable remainder: %v", err)
	}
}

// TestNextSequenceNeverWraps: RFC 4303 §3.3.3 — the counter must not
// cycle. At 2^64−1 the pair's sequence space is used up; wrapping to 0 (which
// every receiver rejects) or 1 (a replay of the first request) is wrong.
func TestNextSequenceNeverWraps(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	w.reg.mu.Lock()
	w.reg.seq[pairKey{a.ID(), b.ID()}] = math.MaxUint64 - 1
	w.reg.mu.Unlock()
	s, err := w.reg.NextSequence(ctx, a.ID(), b.ID())
	if err != nil || s != math.MaxUint64 {
		t.Fatalf("last sequence: %d, %v", s, err)
	}
	for range 2 {
		s, err = w.reg.NextSequence(ctx, a.ID(), b.ID())
		if !errors.Is(err, ErrSequenceExhausted) {
			t.Fatalf("after the last sequence: %d, %v; want ErrSequenceExhausted", s, err)
		}
	}
	req, _ := a.Request(b.ID(), 1, nil)
	if _, err := w.bs.Request(ctx, req); !errors.Is(err, ErrSequenceExhausted) {
		t.Fatalf("base station: %v", err)
	}
}

// TestReplayWindowModel checks ReplayWindow against a direct model of RFC
// 4303 §3.4.3 over random sequences: accept iff seq ≥ 1, not seen, and
// seq > highest − 64; the window's right edge is the highest accepted.
func TestReplayWindowModel(t *testing.T) {
	r := seeded(42)
	for trial := range 200 {
		var w ReplayWindow
		seen := map[uint64]bool{}
		var top uint64
		base := uint64(0)
		if trial%4 == 3 {
			base = math.MaxUint64 - 300 // near the top of the space
		}
		for range 400 {
			var buf [8]byte
			r.Read(buf[:])
			seq := base + uint64(buf[0])%200 + uint64(buf[1]%2)*uint64(buf[2])
			if buf[3] == 0 {
				seq = 0
			}
			want := seq != 0 && !seen[seq] && (seq > top || top-seq < ReplayWindowSize)
			err := w.Accept(seq)
			if (err == nil) != want {
				t.Fatalf("trial %d: seq %d (top %d): err %v, want accept=%v", trial, seq, top, err, want)
			}
			if want {
				seen[seq] = true
				top = max(top, seq)
			}
			if w.Highest() != top {
				t.Fatalf("highest %d, want %d", w.Highest(), top)
			}
		}
	}
}

// TestRetransmissionsBounded: a requester resending one request forever
// must not grow the base station's state for it without bound (each
// resend keeps its sequence number so the answer can be checked).
func TestRetransmissionsBounded(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, b := w.vs[0], w.vs[1]
	w.befriend(t, a, b)
	req, err := a.Request(b.ID(), 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last Broadcast
	n := 0
	for ; n < 10_000; n++ {
		bc, err := w.bs.Request(ctx, req)
		if err != nil {
			if !errors.Is(err, ErrTooManyBroadcasts) {
				t.Fatalf("resend %d: %v", n, err)
			}
			break
		}
		last = bc
	}
	if n > MaxBroadcastsPerRequest {
		t.Fatalf("%d broadcasts of one request accepted, bound %d", n, MaxBroadcastsPerRequest)
	}
	// The last accepted broadcast still settles.
	o, err := b.TryOpen(last.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Respond(o, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.bs.Pay(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// swapRegistry is a FriendRegistry whose host replaced one vehicle's unit:
// the same ID and generation now carry another public key (a registry with
// deletion and re-enrolment can do that; generations restart at 1).
type swapRegistry struct {
	*MemoryRegistry
	id  VehicleID
	pub []byte
}

func (r *swapRegistry) Vehicle(ctx context.Context, id VehicleID) (VehicleInfo, error) {
	info, err := r.MemoryRegistry.Vehicle(ctx, id)
	if err == nil && id == r.id && r.pub != nil {
		info.PublicKey = r.pub
	}
	return info, err
}

// TestKeyCacheFollowsPublicKey: the base station's derived-key cache must
// not keep sealing for a public key the registry no longer holds — the
// old unit would still read requests and the new one none.
func TestKeyCacheFollowsPublicKey(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	a, oldUnit := w.vs[0], w.vs[1]
	w.befriend(t, a, oldUnit)
	sr := &swapRegistry{MemoryRegistry: w.reg, id: oldUnit.ID()}
	bs, err := NewBaseStation(BaseStationConfig{ID: "gNB-8", NetworkKey: w.netKey, Now: w.clk.Now, Rand: w.rnd}, sr, w.platform)
	if err != nil {
		t.Fatal(err)
	}
	seal := func() []byte {
		req, _ := a.Request(oldUnit.ID(), 3, nil)
		bc, err := bs.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return bc.Envelope
	}
	if _, err := oldUnit.TryOpen(seal()); err != nil {
		t.Fatal(err)
	}
	newUnit, err := NewVehicle(VehicleConfig{ID: oldUnit.ID(), Network: w.netKey.PublicKey(), Now: w.clk.Now, Rand: w.rnd})
	if err != nil {
		t.Fatal(err)
	}
	if err := newUnit.AddFriend(a.ID()); err != nil {
		t.Fatal(err)
	}
	info, _ := newUnit.Info()
	sr.pub = info.PublicKey
	env := seal()
	if _, err := oldUnit.TryOpen(env); err == nil {
		t.Fatal("the replaced unit opened a request sealed after its key was replaced")
	}
	if _, err := newUnit.TryOpen(env); err != nil {
		t.Fatalf("the new unit: %v", err)
	}
}

// TestFreshnessBoundaries: ±Freshness inclusive, injected clock, a
// configured window, and a stale envelope does not move the replay window.
func TestFreshnessBoundaries(t *testing.T) {
	for _, window := range []time.Duration{0, 30 * time.Second} {
		w := newWorld(t, 1)
		a := w.vs[0]
		cfg := VehicleConfig{ID: "recipient", Network: w.netKey.PublicKey(), Now: w.clk.Now, Rand: w.rnd, Freshness: window}
		b, err := NewVehicle(cfg)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := b.Info()
		if err := w.reg.Enrol(context.Background(), info); err != nil {
			t.Fatal(err)
		}
		w.befriend(t, a, b)
		eff := window
		if eff == 0 {
			eff = DefaultFreshness
		}
		for _, c := range []struct {
			skew time.Duration
			ok   bool
		}{
			{eff, true}, {-eff, true}, {eff + time.Millisecond, false}, {-eff - time.Millisecond, false},
		} {
			env := w.broadcast(t, a, b, 1, nil).Envelope
			w.clk.Advance(c.skew)
			_, err := b.TryOpen(env)
			w.clk.Advance(-c.skew)
			if (err == nil) != c.ok || (!c.ok && !errors.Is(err, ErrStale)) {
				t.Fatalf("window %s, receiver clock %+v from the seal: %v", eff, c.skew, err)
			}
			if !c.ok {
				// Rejected as stale, so the window did not move: the same
				// envelope opens once its time is right.
				if _, err := b.TryOpen(env); err != nil {
					t.Fatalf("after a stale reject: %v", err)
				}
			}
		}
	}
}

// TestPlatformConcurrentProperty: many goroutines send transfers with
// repeated IDs (same content), conflicting reuses and overdrafts. The
// total is conserved, no balance goes negative, and each ID moves money at
// most once.
func TestPlatformConcurrentProperty(t *testing.T) {
	ctx := context.Background()
	p, err := NewMemoryPlatform(PlatformConfig{})
	if err != nil {
		t.Fatal(err)
	}
	accts := []string{"a", "b", "c", "d"}
	for _, a := range accts {
		if err := p.Open(ctx, a, 1000); err != nil {
			t.Fatal(err)
		}
	}
	var ts []Transfer
	r := seeded(7)
	for i := range 300 {
		var buf [3]byte
		r.Read(buf[:])
		from, to := accts[buf[0]%4], accts[buf[1]%4]
		if from == to {
			to = accts[(buf[1]+1)%4]
		}
		ts = append(ts, Transfer{ID: fmt.Sprintf("t%d", i), From: from, To: to, Amount: 1 + int64(buf[2])*3})
	}
	var mu sync.Mutex
	moved := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i, tt := range ts {
				if (i+g)%5 == 0 {
					tt.Amount++ // a conflicting reuse of the ID
				}
				rec, err := p.Transfer(ctx, tt)
				if err != nil {
					if !errors.Is(err, ErrInsufficientFunds) && !errors.Is(err, ErrTransferConflict) {
						t.Errorf("transfer %s: %v", tt.ID, err)
					}
					continue
				}
				if !rec.Duplicate {
					mu.Lock()
					moved[tt.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for id, n := range moved {
		if n != 1 {
			t.Errorf("%s moved money %d times", id, n)
		}
	}
	total, _ := p.Total(ctx)
	if total != 4000 {
		t.Fatalf("total %d, want 4000", total)
	}
	for _, a := range accts {
		if b, _ := p.Balance(ctx, a); b < 0 {
			t.Fatalf("%s: %d", a, b)
		}
	}
}

// TestMarshalChecksBeforeAllocating: an oversized Envelope is rejected
// before any buffer of its size is allocated.
func TestMarshalChecksBeforeAllocating(t *testing.T) {
	e := &Envelope{BaseStation: "gNB", Ciphertext: make([]byte, 64<<20)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := e.MarshalBinary()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized ciphertext: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("MarshalBinary allocated %d bytes before rejecting", grew)
	}
}

// TestRequestChecksBeforeCopying: Vehicle.Request rejects an oversized
// payload before copying it.
func TestRequestChecksBeforeCopying(t *testing.T) {
	w := newWorld(t, 2)
	big := make([]byte, 64<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := w.vs[0].Request(w.vs[1].ID(), 1, big)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("oversized payload: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("Request allocated %d bytes before rejecting", grew)
	}
}

// TestPoolNoOverlapOutOfOrderTimes: random grants and releases whose times
// jitter backwards as well as forwards (as from concurrent callers). Each
// grant holds its resource over [Issued, end), end the earlier of its
// expiry and its release at the pool's time (the latest time seen). No two
// grants within interference range (or sharing a vehicle, in one slot)
// may hold one resource at one moment.
func TestPoolNoOverlapOutOfOrderTimes(t *testing.T) {
	for seed := range uint64(30) {
		r := mrand.New(mrand.NewPCG(seed, 7))
		cfg := PoolConfig{SubChannels: 1 + r.IntN(3), Slots: 1 + r.IntN(3), InterferenceRange: 100 + 300*r.Float64(),
			GrantLifetime: time.Duration(200+r.IntN(800)) * time.Millisecond}
		p, err := NewResourcePool(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
		base, clock := t0, time.Time{}
		type held struct {
			g   Grant
			end time.Time
		}
		var all []*held
		var live []*held
		for range 300 {
			base = base.Add(time.Duration(r.IntN(60)) * time.Millisecond)
			at := base.Add(-time.Duration(r.IntN(500)) * time.Millisecond) // up to 0.5 s late
			if r.IntN(3) > 0 || len(live) == 0 {
				a, b := VehicleID(fmt.Sprint("v", r.IntN(20))), VehicleID(fmt.Sprint("v", r.IntN(20)))
				if a == b {
					continue
				}
				if at.After(clock) {
					clock = at
				}
				pa := Position{X: 1500 * r.Float64()}
				pb := Position{X: pa.X + 200*(r.Float64()-0.5)}
				g, err := p.Grant(a, b, pa, pb, at)
				if err != nil {
					continue
				}
				h := &held{g: g, end: g.Expires}
				all, live = append(all, h), append(live, h)
				continue
			}
			if at.After(clock) {
				clock = at
			}
			i := r.IntN(len(live))
			h := live[i]
			live = append(live[:i], live[i+1:]...)
			if p.Release(h.g.ID, at) == nil && clock.Before(h.end) {
				h.end = clock
			}
		}
		for i, x := range all {
			for _, y := range all[i+1:] {
				if x.g.Slot != y.g.Slot || !(x.g.Issued.Before(y.end) && y.g.Issued.Before(x.end)) {
					continue
				}
				if x.g.sharesVehicle(y.g) || (x.g.SubChannel == y.g.SubChannel && x.g.Interferes(y.g, cfg.InterferenceRange)) {
					t.Fatalf("seed %d: grants %d and %d overlap: %+v / %+v", seed, x.g.ID, y.g.ID, x, y)
				}
			}
		}
	}
}

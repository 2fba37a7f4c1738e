package vehicle

import (
	"context"
	"crypto/ecdh"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// lockedReader makes a ChaCha8 safe for concurrent readers.
type lockedReader struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// world is a network with n enrolled vehicles, a base station and a
// platform where every vehicle's account holds 1 000 000 minor units.
type world struct {
	clk      *clock
	rnd      *lockedReader
	netKey   *ecdh.PrivateKey
	reg      *MemoryRegistry
	platform *MemoryPlatform
	bs       *BaseStation
	vs       []*Vehicle
	byID     map[VehicleID]*Vehicle
}

func newWorld(t testing.TB, n int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{clk: newClock(), rnd: &lockedReader{r: seeded(1)}, byID: map[VehicleID]*Vehicle{}}
	var err error
	if w.netKey, err = GenerateKey(w.rnd); err != nil {
		t.Fatal(err)
	}
	if w.reg, err = NewMemoryRegistry(RegistryConfig{}); err != nil {
		t.Fatal(err)
	}
	if w.platform, err = NewMemoryPlatform(PlatformConfig{Now: w.clk.Now}); err != nil {
		t.Fatal(err)
	}
	w.bs, err = NewBaseStation(BaseStationConfig{ID: "gNB-7", NetworkKey: w.netKey, Now: w.clk.Now, Rand: w.rnd}, w.reg, w.platform)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		w.add(t, VehicleID(fmt.Sprintf("car-%04d", i)))
	}
	_ = ctx
	return w
}

func (w *world) add(t testing.TB, id VehicleID) *Vehicle {
	t.Helper()
	ctx := context.Background()
	v, err := NewVehicle(VehicleConfig{ID: id, Network: w.netKey.PublicKey(), Now: w.clk.Now, Rand: w.rnd})
	if err != nil {
		t.Fatal(err)
	}
	info, err := v.Info()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.reg.Enrol(ctx, info); err != nil {
		t.Fatal(err)
	}
	if err := w.platform.Open(ctx, string(id), 1_000_000); err != nil {
		t.Fatal(err)
	}
	w.vs = append(w.vs, v)
	w.byID[id] = v
	return v
}

// befriend records the friendship in the registry and both vehicles.
func (w *world) befriend(t testing.TB, a, b *Vehicle) {
	t.Helper()
	if err := w.reg.Befriend(context.Background(), a.ID(), b.ID()); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]*Vehicle{{a, b}, {b, a}} {
		if err := p[0].AddFriend(p[1].ID()); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) broadcast(t testing.TB, from, to *Vehicle, amount int64, payload []byte) Broadcast {
	t.Helper()
	req, err := from.Request(to.ID(), amount, payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.bs.Request(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

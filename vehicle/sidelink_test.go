package vehicle

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func TestPoolLifecycle(t *testing.T) {
	p, err := NewResourcePool(PoolConfig{SubChannels: 2, Slots: 1, InterferenceRange: 100, GrantLifetime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	at := func(x float64) Position { return Position{X: x} }
	g1, err := p.Grant("a", "b", at(0), at(10), t0)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := p.Grant("c", "d", at(20), at(30), t0)
	if err != nil {
		t.Fatal(err)
	}
	if g1.SubChannel == g2.SubChannel && g1.Slot == g2.Slot {
		t.Fatal("neighbouring pairs share a resource")
	}
	// A third pair nearby: the 2-resource pool is exhausted around it.
	if _, err := p.Grant("e", "f", at(40), at(50), t0); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("third nearby grant: %v", err)
	}
	// Far away, a resource can be reused.
	g4, err := p.Grant("g", "h", at(1000), at(1010), t0)
	if err != nil {
		t.Fatalf("far grant: %v", err)
	}
	if g4.SubChannel != g1.SubChannel {
		t.Errorf("far pair got sub-channel %d, want reuse of %d", g4.SubChannel, g1.SubChannel)
	}
	if _, err := p.Use(g1.ID, t0.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(g1.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(g1.ID, t0); !errors.Is(err, ErrDoubleRelease) {
		t.Fatalf("double release: %v", err)
	}
	if _, err := p.Use(g1.ID, t0); !errors.Is(err, ErrUnknownGrant) {
		t.Fatalf("use after release: %v", err)
	}
	// The released resource goes to the waiting pair.
	if _, err := p.Grant("e", "f", at(40), at(50), t0); err != nil {
		t.Fatalf("grant after release: %v", err)
	}
	if _, err := p.Use(g2.ID, t0.Add(time.Second)); !errors.Is(err, ErrGrantExpired) {
		t.Fatalf("use after expiry: %v", err)
	}
	if err := p.Release(g2.ID, t0.Add(2*time.Second)); !errors.Is(err, ErrGrantExpired) {
		t.Fatalf("release after expiry: %v", err)
	}
	if err := p.Release(999, t0); !errors.Is(err, ErrUnknownGrant) {
		t.Fatalf("unknown release: %v", err)
	}
	if _, err := p.Grant("a", "a", at(0), at(0), t0); !errors.Is(err, ErrSelfFriend) {
		t.Fatalf("self pair: %v", err)
	}
	s := p.Stats()
	want := PoolStats{Requested: 5, Granted: 4, Denied: 1, Released: 1, Expired: 1, Used: 1}
	if s != want {
		t.Fatalf("stats %+v, want %+v", s, want)
	}
	if _, err := NewResourcePool(PoolConfig{SubChannels: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("negative sub-channels: %v", err)
	}
}

// TestPoolNeverOverlapsInRange is the property test: over random grants,
// releases, uses and time steps, no two live grants within interference
// range share a resource, and no two pairs sharing a vehicle share a slot.
func TestPoolNeverOverlapsInRange(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			cfg := PoolConfig{SubChannels: 1 + rng.IntN(4), Slots: 1 + rng.IntN(6),
				InterferenceRange: 50 + 400*rng.Float64(), GrantLifetime: time.Duration(1+rng.IntN(5)) * time.Second}
			p, err := NewResourcePool(cfg)
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			var live []Grant
			// want is the documented answer to releasing or using g at now.
			want := func(g Grant) error {
				switch {
				case now.Before(g.Expires):
					return nil
				case now.Before(g.Expires.Add(cfg.GrantLifetime)):
					return ErrGrantExpired
				}
				return ErrUnknownGrant
			}
			requested := 0
			for step := range 400 {
				switch op := rng.IntN(10); {
				case op < 6:
					a := VehicleID(fmt.Sprint("v", rng.IntN(30)))
					b := VehicleID(fmt.Sprint("v", rng.IntN(30)))
					if a == b {
						continue
					}
					pa := Position{X: 3000 * rng.Float64(), Y: 12 * rng.Float64()}
					pb := Position{X: pa.X + 600*(rng.Float64()-0.5), Y: 12 * rng.Float64()}
					requested++
					g, err := p.Grant(a, b, pa, pb, now)
					if err == nil {
						live = append(live, g)
					} else if !errors.Is(err, ErrPoolExhausted) {
						t.Fatal(err)
					}
				case op < 8 && len(live) > 0:
					i := rng.IntN(len(live))
					g := live[i]
					w := want(g)
					if err := p.Release(g.ID, now); !errors.Is(err, w) || (w == nil && err != nil) {
						t.Fatalf("step %d: release: %v, want %v", step, err, w)
					}
					if w == nil {
						if err := p.Release(g.ID, now); !errors.Is(err, ErrDoubleRelease) {
							t.Fatalf("step %d: second release: %v", step, err)
						}
					}
					live = append(live[:i], live[i+1:]...)
				case op < 9 && len(live) > 0:
					g := live[rng.IntN(len(live))]
					w := want(g)
					if _, err := p.Use(g.ID, now); !errors.Is(err, w) || (w == nil && err != nil) {
						t.Fatalf("step %d: use: %v, want %v", step, err, w)
					}
				default:
					now = now.Add(time.Duration(rng.IntN(800)) * time.Millisecond)
				}
				act := p.Active(now)
				for i := range act {
					for j := i + 1; j < len(act); j++ {
						g, h := act[i], act[j]
						if g.Slot == h.Slot && g.sharesVehicle(h) {
							t.Fatalf("step %d: grants %d and %d share a vehicle and slot %d", step, g.ID, h.ID, g.Slot)
						}
						if g.Slot == h.Slot && g.SubChannel == h.SubChannel && g.Interferes(h, cfg.InterferenceRange) {
							t.Fatalf("step %d: grants %d and %d within %.0f m share resource (%d,%d)",
								step, g.ID, h.ID, cfg.InterferenceRange, g.SubChannel, g.Slot)
						}
					}
					if !now.Before(act[i].Expires) {
						t.Fatalf("expired grant %d listed as active", act[i].ID)
					}
				}
			}
			s := p.Stats()
			if s.Requested != requested || s.Granted+s.Denied != s.Requested {
				t.Fatalf("stats %+v for %d requests", s, requested)
			}
		})
	}
}

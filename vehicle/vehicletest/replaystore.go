package vehicletest

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/payedge/payedge/vehicle"
)

// TestReplayStore runs the ReplayStore contract against fresh stores from
// newStore, one per subtest: Load of an unknown vehicle matches
// vehicle.ErrNoReplayState; Save then Load returns the same bytes, for
// states up to vehicle.MaxReplayStateSize; a later Save replaces the
// state; vehicles do not see each other's states; neither Save's argument
// nor Load's result aliases the store's memory; concurrent use is safe and
// a Load after concurrent Saves returns one of them whole; a canceled
// context is reported as context.Canceled; and a Vehicle restarted from
// the store refuses the envelopes its previous run opened.
func TestReplayStore(t *testing.T, newStore func(t *testing.T) vehicle.ReplayStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, vehicle.ReplayStore)
	}{
		{"LoadMissing", testLoadMissing},
		{"SaveLoad", testSaveLoad},
		{"Replace", testReplace},
		{"PerVehicle", testPerVehicle},
		{"NoAliasing", testNoAliasing},
		{"Largest", testLargest},
		{"Concurrent", testConcurrentStore},
		{"CanceledContext", testStoreCanceled},
		{"Restart", testRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tc.fn(t, s)
		})
	}
}

func blob(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(n), byte(n >> 8), byte(n >> 16)})
	_, _ = r.Read(b)
	return b
}

func mustSave(t *testing.T, s vehicle.ReplayStore, id vehicle.VehicleID, st []byte) {
	t.Helper()
	if err := s.Save(context.Background(), id, st); err != nil {
		t.Fatalf("Save(%s, %d bytes): %v", id, len(st), err)
	}
}

func mustLoad(t *testing.T, s vehicle.ReplayStore, id vehicle.VehicleID, want []byte) {
	t.Helper()
	got, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Load(%s) = %d bytes %.16x…, want %d bytes %.16x…", id, len(got), got, len(want), want)
	}
}

func testLoadMissing(t *testing.T, s vehicle.ReplayStore) {
	if _, err := s.Load(context.Background(), "car-1"); !errors.Is(err, vehicle.ErrNoReplayState) {
		t.Fatalf("Load of a vehicle never saved: %v, want ErrNoReplayState", err)
	}
}

func testSaveLoad(t *testing.T, s vehicle.ReplayStore) {
	for i, n := range []int{1, 45, 300, 4096} {
		st := blob(uint64(i), n)
		mustSave(t, s, "car-1", st)
		mustLoad(t, s, "car-1", st)
	}
}

func testReplace(t *testing.T, s vehicle.ReplayStore) {
	long, short := blob(1, 500), blob(2, 60)
	mustSave(t, s, "car-1", long)
	mustSave(t, s, "car-1", short)
	mustLoad(t, s, "car-1", short) // no tail of the longer state left
}

func testPerVehicle(t *testing.T, s vehicle.ReplayStore) {
	ids := []vehicle.VehicleID{"car-1", "car-2", "car-10", "Car-1"}
	for i, id := range ids {
		mustSave(t, s, id, blob(uint64(i), 100+i))
	}
	for i, id := range ids {
		mustLoad(t, s, id, blob(uint64(i), 100+i))
	}
	if _, err := s.Load(context.Background(), "car-3"); !errors.Is(err, vehicle.ErrNoReplayState) {
		t.Fatalf("Load of another vehicle: %v, want ErrNoReplayState", err)
	}
}

func testNoAliasing(t *testing.T, s vehicle.ReplayStore) {
	st := blob(3, 200)
	arg := bytes.Clone(st)
	mustSave(t, s, "car-1", arg)
	for i := range arg {
		arg[i] ^= 0xff // the caller reuses its buffer
	}
	mustLoad(t, s, "car-1", st)
	got, err := s.Load(context.Background(), "car-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = 0 // the caller scribbles on the result
	}
	mustLoad(t, s, "car-1", st)
}

func testLargest(t *testing.T, s vehicle.ReplayStore) {
	st := blob(4, vehicle.MaxReplayStateSize)
	mustSave(t, s, "car-1", st)
	mustLoad(t, s, "car-1", st)
}

func testConcurrentStore(t *testing.T, s vehicle.ReplayStore) {
	ctx := context.Background()
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*rounds)
	for w := range workers {
		wg.Go(func() {
			own := vehicle.VehicleID(fmt.Sprintf("car-%d", w))
			for r := range rounds {
				if err := s.Save(ctx, own, blob(uint64(w), 64+r)); err != nil {
					errs <- err
				}
				if err := s.Save(ctx, "shared", blob(uint64(100+w), 64+r)); err != nil {
					errs <- err
				}
				got, err := s.Load(ctx, "shared")
				if err != nil {
					errs <- err
					continue
				}
				if !isSharedBlob(got, workers, rounds) {
					errs <- fmt.Errorf("Load(shared) during concurrent saves returned %d bytes no Save wrote", len(got))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range workers {
		mustLoad(t, s, vehicle.VehicleID(fmt.Sprintf("car-%d", w)), blob(uint64(w), 64+rounds-1))
	}
	got, err := s.Load(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if !isSharedBlob(got, workers, rounds) {
		t.Fatalf("Load(shared) after concurrent saves returned %d bytes no Save wrote", len(got))
	}
}

func isSharedBlob(b []byte, workers, rounds int) bool {
	r := len(b) - 64
	if r < 0 || r >= rounds {
		return false
	}
	for w := range workers {
		if bytes.Equal(b, blob(uint64(100+w), 64+r)) {
			return true
		}
	}
	return false
}

func testStoreCanceled(t *testing.T, s vehicle.ReplayStore) {
	mustSave(t, s, "car-1", blob(5, 80))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Save(ctx, "car-1", blob(6, 80)); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Load(ctx, "car-1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a canceled context: %v, want context.Canceled", err)
	}
}

// testRestart runs the store in its real place: a vehicle saves through
// it while opening, is restarted from what it loads, and refuses what it
// opened before.
func testRestart(t *testing.T, s vehicle.ReplayStore) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	rnd := rand.NewChaCha8([32]byte{42})
	netKey, err := vehicle.GenerateKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	bank, err := vehicle.NewMemoryPlatform(vehicle.PlatformConfig{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := vehicle.NewBaseStation(vehicle.DefaultBaseStationConfig("gNB-1", netKey, clock, rnd), reg, bank)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[vehicle.VehicleID]*ecdh.PrivateKey{}
	cars := map[vehicle.VehicleID]*vehicle.Vehicle{}
	for _, id := range []vehicle.VehicleID{"alice", "bob"} {
		k, err := vehicle.GenerateKey(rnd)
		if err != nil {
			t.Fatal(err)
		}
		cfg := vehicle.DefaultVehicleConfig(id, netKey.PublicKey(), clock, rnd)
		cfg.ReplayStore = s
		v, err := vehicle.NewVehicleWithKey(cfg, k, 1)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := v.Info()
		if err := reg.Enrol(ctx, info); err != nil {
			t.Fatal(err)
		}
		keys[id], cars[id] = k, v
	}
	if err := reg.Befriend(ctx, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	_ = cars["alice"].AddFriend("bob")
	_ = cars["bob"].AddFriend("alice")
	var opened [][]byte
	for i := range 3 {
		req, err := cars["alice"].Request("bob", int64(100+i), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := bs.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cars["bob"].TryOpen(b.Envelope); err != nil {
			t.Fatalf("open through the store: %v", err)
		}
		opened = append(opened, b.Envelope)
	}
	st, err := s.Load(ctx, "bob")
	if err != nil {
		t.Fatalf("Load after the vehicle saved: %v", err)
	}
	_ = cars["bob"].Close()
	cfg := vehicle.DefaultVehicleConfig("bob", netKey.PublicKey(), clock, rnd)
	cfg.ReplayState, cfg.ReplayStore = st, s
	bob, err := vehicle.NewVehicleWithKey(cfg, keys["bob"], 1)
	if err != nil {
		t.Fatalf("restart from the loaded state: %v", err)
	}
	for i, env := range opened {
		if _, err := bob.TryOpen(env); !errors.Is(err, vehicle.ErrReplay) {
			t.Fatalf("envelope %d opened before the restart: %v, want ErrReplay", i, err)
		}
	}
}

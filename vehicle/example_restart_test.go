package vehicle_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/payedge/payedge/vehicle"
)

// A vehicle saves its replay state write-ahead through a ReplayStore; after
// a restart with the same key it resumes from the saved state and refuses
// a replay of what it answered before, while a request in flight across
// the restart still opens. Started without the state, it refuses
// everything sealed before it started instead.
func Example_restart() {
	ctx := context.Background()
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	rnd := rand.NewChaCha8([32]byte{2}) // use crypto/rand.Reader in production

	netKey, _ := vehicle.GenerateKey(rnd)
	reg, _ := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
	bank, _ := vehicle.NewMemoryPlatform(vehicle.PlatformConfig{Now: now})
	bs, _ := vehicle.NewBaseStation(vehicle.DefaultBaseStationConfig("gNB-1", netKey, now, rnd), reg, bank)
	store := vehicle.NewMemoryReplayStore() // a file or flash partition in a real vehicle

	aliceCfg := vehicle.DefaultVehicleConfig("alice", netKey.PublicKey(), now, rnd)
	alice, _ := vehicle.NewVehicle(aliceCfg)
	bobKey, _ := vehicle.GenerateKey(rnd) // kept in bob's secure storage
	bobCfg := vehicle.DefaultVehicleConfig("bob", netKey.PublicKey(), now, rnd)
	bobCfg.ReplayStore = store
	bob, _ := vehicle.NewVehicleWithKey(bobCfg, bobKey, 1)
	for _, v := range []*vehicle.Vehicle{alice, bob} {
		info, _ := v.Info()
		_ = reg.Enrol(ctx, info)
		_ = bank.Open(ctx, string(info.ID), 100_00)
	}
	_ = reg.Befriend(ctx, "alice", "bob")
	_ = alice.AddFriend("bob")
	_ = bob.AddFriend("alice")

	send := func(amount int64) []byte {
		req, _ := alice.Request("bob", amount, nil)
		b, _ := bs.Request(ctx, req)
		return b.Envelope
	}
	answered := send(12_00)
	o, _ := bob.TryOpen(answered) // saved before it returns
	info, _ := bob.Respond(o, true)
	_, err := bs.Pay(ctx, info)
	fmt.Println("paid:", err == nil)
	inFlight := send(3_00)

	// Bob's unit restarts.
	clock = clock.Add(5 * time.Second)
	_ = bob.Close()
	state, _ := store.Load(ctx, "bob")
	bobCfg.ReplayState = state
	bob, _ = vehicle.NewVehicleWithKey(bobCfg, bobKey, 1)
	_, err = bob.TryOpen(answered)
	fmt.Println("replay:", errors.Is(err, vehicle.ErrReplay))
	o, err = bob.TryOpen(inFlight)
	fmt.Println("in flight:", err == nil, o.Request.Amount)

	// Restarted without the state, it refuses what was sealed before.
	clock = clock.Add(5 * time.Second)
	bobCfg.ReplayState, bobCfg.ReplayStore = nil, nil
	fresh, _ := vehicle.NewVehicleWithKey(bobCfg, bobKey, 1)
	_ = fresh.AddFriend("alice")
	_, err = fresh.TryOpen(answered)
	fmt.Println("without state:", errors.Is(err, vehicle.ErrSealedBeforeStart))
	o, err = fresh.TryOpen(send(1_00))
	fmt.Println("new request:", err == nil, o.Request.Amount)
	// Output:
	// paid: true
	// replay: true
	// in flight: true 300
	// without state: true
	// new request: true 100
}

package vehicle_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/payedge/payedge/vehicle"
)

func Example() {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) }
	rnd := rand.NewChaCha8([32]byte{1}) // use crypto/rand.Reader in production

	netKey, _ := vehicle.GenerateKey(rnd)
	reg, _ := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
	bank, _ := vehicle.NewMemoryPlatform(vehicle.PlatformConfig{Now: now})
	bs, _ := vehicle.NewBaseStation(vehicle.BaseStationConfig{ID: "gNB-1", NetworkKey: netKey, Now: now, Rand: rnd}, reg, bank)

	cars := map[vehicle.VehicleID]*vehicle.Vehicle{}
	for _, id := range []vehicle.VehicleID{"alice", "bob", "carol"} {
		v, _ := vehicle.NewVehicle(vehicle.DefaultVehicleConfig(id, netKey.PublicKey(), now, rnd))
		info, _ := v.Info()
		_ = reg.Enrol(ctx, info)
		_ = bank.Open(ctx, string(id), 100_00)
		cars[id] = v
	}
	_ = reg.Befriend(ctx, "alice", "bob")
	_ = cars["alice"].AddFriend("bob")
	_ = cars["bob"].AddFriend("alice")

	req, _ := cars["alice"].Request("bob", 42_50, []byte("parking, level 2"))
	b, err := bs.Request(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []vehicle.VehicleID{"alice", "bob", "carol"} {
		o, err := cars[id].TryOpen(b.Envelope)
		if errors.Is(err, vehicle.ErrNotForMe) {
			fmt.Printf("%s: not for me\n", id)
			continue
		}
		fmt.Printf("%s: %s asks %d for %q\n", id, o.Request.From, o.Request.Amount, o.Request.Payload)
		info, _ := cars[id].Respond(o, true)
		res, err := bs.Pay(ctx, info)
		fmt.Println("settled:", err == nil, res.Receipt.Amount)
	}
	a, _ := bank.Balance(ctx, "alice")
	c, _ := bank.Balance(ctx, "bob")
	fmt.Println("alice", a, "bob", c)
	// Output:
	// alice: not for me
	// bob: alice asks 4250 for "parking, level 2"
	// settled: true 4250
	// carol: not for me
	// alice 14250 bob 5750
}

func ExampleSimulate() {
	rep, err := vehicle.Simulate(vehicle.SimConfig{Seed: 7, Vehicles: 60, Payments: 200})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("wrong opens:", rep.Decode.WrongOpens)
	fmt.Println("money conserved:", rep.BalanceBefore == rep.BalanceAfter)
	fmt.Println("duplicates that moved money:", rep.DuplicateMoves)
	// Output:
	// wrong opens: 0
	// money conserved: true
	// duplicates that moved money: 0
}

func ExampleHighwayLOSPathLoss() {
	for _, d := range []float64{10, 100, 1000} {
		fmt.Printf("%4.0f m: %.1f dB\n", d, vehicle.HighwayLOSPathLoss(d, 5.9))
	}
	// Output:
	//   10 m: 67.8 dB
	//  100 m: 87.8 dB
	// 1000 m: 107.8 dB
}

package vehicle

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func smallSim(seed uint64) SimConfig {
	return SimConfig{Seed: seed, Vehicles: 120, Payments: 1500}
}

func TestSimulateDeterministic(t *testing.T) {
	a, err := Simulate(smallSim(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Simulate(smallSim(3))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, b, cmpopts.EquateNaNs()); d != "" {
		t.Fatalf("same seed, different reports (-first +second):\n%s", d)
	}
	c, err := Simulate(smallSim(4))
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(a.Latency, c.Latency) {
		t.Fatal("different seeds gave the same latencies")
	}
}

func TestSimulateReport(t *testing.T) {
	r, err := Simulate(smallSim(5))
	if err != nil {
		t.Fatal(err)
	}
	if r.Decode.WrongOpens != 0 || r.DuplicateMoves != 0 || r.BalanceBefore != r.BalanceAfter {
		t.Fatalf("security or money invariant broken: %+v dupMoves=%d balance %d→%d",
			r.Decode, r.DuplicateMoves, r.BalanceBefore, r.BalanceAfter)
	}
	if r.Completed == 0 || r.Completed != r.Decode.Opened || len(r.Latency.Samples) != r.Completed {
		t.Fatalf("completed %d, opened %d, latencies %d", r.Completed, r.Decode.Opened, len(r.Latency.Samples))
	}
	if r.Duplicates == 0 {
		t.Fatal("no duplicate deliveries were exercised")
	}
	// Latency: at least the fixed parts (2 slots down, 2 slots up, two
	// processing steps) and ordered quantiles.
	l := r.Latency
	if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Fatalf("latency quantiles out of order: %+v", l)
	}
	// Every vehicle in coverage decodes every broadcast: attempts per
	// broadcast lie between 1 and the fleet size.
	if r.Decode.PerBroadcastMean < 1 || r.Decode.PerBroadcastMean > float64(r.Config.Vehicles) {
		t.Fatalf("decode work %+v", r.Decode)
	}
	if g := r.Grants; g.Granted+g.Denied != g.Requested || g.Requested != r.Completed {
		t.Fatalf("grants %+v for %d payments", g, r.Completed)
	}
	// PRR: noise-only reception never below reception with interference;
	// short range nearly perfect.
	sent := 0
	for _, b := range r.PRR {
		sent += b.Sent
		if b.Received > b.ReceivedNoise || b.ReceivedNoise > b.Sent {
			t.Fatalf("bin %+v", b)
		}
	}
	if sent != r.Grants.Granted {
		t.Fatalf("%d packets for %d grants", sent, r.Grants.Granted)
	}
	if p := r.PRR[0].PRRNoiseOnly(); p < 0.95 {
		t.Fatalf("PRR within %.0f m against noise only = %.2f", r.PRR[0].To, p)
	}
}

func TestSimulateBadConfig(t *testing.T) {
	for name, c := range map[string]SimConfig{
		"negative vehicles": {Vehicles: -1},
		"one vehicle":       {Vehicles: 1},
		"huge payments":     {Payments: MaxSimPayments + 1},
		"NaN road":          {RoadLength: math.NaN()},
		"packet too big":    {PacketSize: MaxPayload + 1},
		"BLER 1":            {Latency: LatencyConfig{BLER: 1}},
		"efficiency 2":      {Radio: RadioConfig{Efficiency: 2}},
		"bad pool":          {Pool: PoolConfig{Slots: -1}},
		"NaN tx power":      {Radio: RadioConfig{TxPowerDBm: math.NaN()}},
		"negative sigma":    {Latency: LatencyConfig{PlatformSigma: -1}},
	} {
		if _, err := Simulate(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestDefaultConfigsValidate(t *testing.T) {
	for name, err := range map[string]error{
		"sim":      DefaultSimConfig().Validate(),
		"radio":    DefaultRadioConfig().Validate(),
		"latency":  DefaultLatencyConfig().Validate(),
		"pool":     DefaultPoolConfig().Validate(),
		"registry": DefaultRegistryConfig().Validate(),
	} {
		if err != nil {
			t.Errorf("%s defaults: %v", name, err)
		}
	}
}

func TestPathLossModel(t *testing.T) {
	// TR 37.885 highway LOS at 5.9 GHz: free-space slope, 20 dB/decade.
	if d := HighwayLOSPathLoss(1000, 5.9) - HighwayLOSPathLoss(100, 5.9); math.Abs(d-20) > 1e-9 {
		t.Fatalf("slope %v dB/decade", d)
	}
	if got := ThermalNoiseDBm(1e6); math.Abs(got-(-114)) > 1e-9 {
		t.Fatalf("noise in 1 MHz = %v dBm", got)
	}
	// 1 bit/s/Hz at full efficiency needs SINR 1 (0 dB).
	if got := RequiredSINRdB(1000, 1e6, 1e6, 1); math.Abs(got) > 1e-9 {
		t.Fatalf("threshold %v dB", got)
	}
}

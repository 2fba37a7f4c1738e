package vehicle

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value: each works or returns one clear error, never panics.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(0, 0)
	errIf := func(ok bool) error {
		if ok {
			return nil
		}
		return errors.New("unexpected zero-value result")
	}
	cases := []struct {
		typ, method string
		call        func() error
		want        error // nil: the zero value works
	}{
		{"BaseStation", "ID", func() error { return errIf((&BaseStation{}).ID() == "") }, nil},
		{"BaseStation", "Request", func() error { _, err := (&BaseStation{}).Request(ctx, Request{}); return err }, ErrNotInitialized},
		{"BaseStation", "Pay", func() error { _, err := (&BaseStation{}).Pay(ctx, PaymentInfo{}); return err }, ErrNotInitialized},
		{"BaseStation", "Close", func() error { return (&BaseStation{}).Close() }, ErrNotInitialized},
		{"BaseStation", "nil Request", func() error { _, err := (*BaseStation)(nil).Request(ctx, Request{}); return err }, ErrNotInitialized},
		{"BaseStationConfig", "Validate", func() error { return BaseStationConfig{}.Validate() }, ErrInvalidConfig},
		{"Envelope", "MarshalBinary", func() error { _, err := (&Envelope{}).MarshalBinary(); return err }, ErrInvalidID},
		{"Envelope", "AppendBinary", func() error { _, err := (&Envelope{}).AppendBinary(nil); return err }, ErrInvalidID},
		{"Envelope", "UnmarshalBinary", func() error { return (&Envelope{}).UnmarshalBinary(nil) }, ErrTruncated},
		{"Envelope", "nil MarshalBinary", func() error { _, err := (*Envelope)(nil).MarshalBinary(); return err }, ErrNotInitialized},
		{"EnvelopeError", "Error", func() error { return errIf((&EnvelopeError{}).Error() != "") }, nil},
		{"EnvelopeError", "Unwrap", func() error { return errIf((&EnvelopeError{}).Unwrap() == nil) }, nil},
		{"Grant", "Interferes", func() error { return errIf(Grant{}.Interferes(Grant{}, 0)) }, nil},
		{"LatencyStats", "Quantile", func() error { return errIf(LatencyStats{}.Quantile(0.5) == 0) }, nil},
		{"MemoryPlatform", "Open", func() error { return (&MemoryPlatform{}).Open(ctx, "a", 1) }, ErrNotInitialized},
		{"MemoryPlatform", "Balance", func() error { _, err := (&MemoryPlatform{}).Balance(ctx, "a"); return err }, ErrNotInitialized},
		{"MemoryPlatform", "Total", func() error { _, err := (&MemoryPlatform{}).Total(ctx); return err }, ErrNotInitialized},
		{"MemoryPlatform", "Transfer", func() error { _, err := (&MemoryPlatform{}).Transfer(ctx, Transfer{}); return err }, ErrNotInitialized},
		{"MemoryRegistry", "Enrol", func() error { return (&MemoryRegistry{}).Enrol(ctx, VehicleInfo{}) }, ErrNotInitialized},
		{"MemoryRegistry", "Rotate", func() error { return (&MemoryRegistry{}).Rotate(ctx, VehicleInfo{}) }, ErrNotInitialized},
		{"MemoryRegistry", "Vehicle", func() error { _, err := (&MemoryRegistry{}).Vehicle(ctx, "a"); return err }, ErrNotInitialized},
		{"MemoryRegistry", "Befriend", func() error { return (&MemoryRegistry{}).Befriend(ctx, "a", "b") }, ErrNotInitialized},
		{"MemoryRegistry", "Unfriend", func() error { return (&MemoryRegistry{}).Unfriend(ctx, "a", "b") }, ErrNotInitialized},
		{"MemoryRegistry", "Friends", func() error { _, err := (&MemoryRegistry{}).Friends(ctx, "a"); return err }, ErrNotInitialized},
		{"MemoryRegistry", "NextSequence", func() error { _, err := (&MemoryRegistry{}).NextSequence(ctx, "a", "b"); return err }, ErrNotInitialized},
		{"PRRBin", "PRR", func() error { return errIf(math.IsNaN(PRRBin{}.PRR())) }, nil},
		{"PRRBin", "PRRNoiseOnly", func() error { return errIf(math.IsNaN(PRRBin{}.PRRNoiseOnly())) }, nil},
		{"PlatformConfig", "Validate", func() error { return PlatformConfig{}.Validate() }, nil},
		{"PoolConfig", "Validate", func() error { return PoolConfig{}.Validate() }, nil},
		{"PoolStats", "SuccessRate", func() error { return errIf(PoolStats{}.SuccessRate() == 1) }, nil},
		{"Position", "Distance", func() error { return errIf(Position{}.Distance(Position{}) == 0) }, nil},
		{"RegistryConfig", "Validate", func() error { return RegistryConfig{}.Validate() }, nil},
		{"ReplayError", "Error", func() error { return errIf((&ReplayError{}).Error() != "") }, nil},
		{"ReplayError", "Unwrap", func() error { return (&ReplayError{}).Unwrap() }, ErrReplay},
		{"ReplayWindow", "Check", func() error { return (&ReplayWindow{}).Check(1) }, nil},
		{"ReplayWindow", "Accept", func() error { return (&ReplayWindow{}).Accept(1) }, nil},
		{"ReplayWindow", "Highest", func() error { return errIf((&ReplayWindow{}).Highest() == 0) }, nil},
		{"Report", "GrantSuccessRate", func() error { return errIf(Report{}.GrantSuccessRate() == 1) }, nil},
		{"Request", "Validate", func() error { return (&Request{}).Validate() }, ErrInvalidID},
		{"RequestID", "String", func() error { return errIf(RequestID{}.String() == "00000000000000000000000000000000") }, nil},
		{"ResourcePool", "Config", func() error { return errIf((&ResourcePool{}).Config() == PoolConfig{}) }, nil},
		{"ResourcePool", "Grant", func() error { _, err := (&ResourcePool{}).Grant("a", "b", Position{}, Position{}, now); return err }, ErrNotInitialized},
		{"ResourcePool", "Use", func() error { _, err := (&ResourcePool{}).Use(1, now); return err }, ErrNotInitialized},
		{"ResourcePool", "Release", func() error { return (&ResourcePool{}).Release(1, now) }, ErrNotInitialized},
		{"ResourcePool", "Active", func() error { return errIf((&ResourcePool{}).Active(now) == nil) }, nil},
		{"ResourcePool", "Stats", func() error { return errIf((&ResourcePool{}).Stats() == PoolStats{}) }, nil},
		{"RadioConfig", "Validate", func() error { return RadioConfig{}.Validate() }, nil},
		{"LatencyConfig", "Validate", func() error { return LatencyConfig{}.Validate() }, nil},
		{"SimConfig", "Validate", func() error { return SimConfig{}.Validate() }, nil},
		{"StaleError", "Error", func() error { return errIf((&StaleError{}).Error() != "") }, nil},
		{"StaleError", "Unwrap", func() error { return (&StaleError{}).Unwrap() }, ErrStale},
		{"Transfer", "Validate", func() error { return Transfer{}.Validate() }, ErrInvalidTransfer},
		{"Vehicle", "ID", func() error { return errIf((&Vehicle{}).ID() == "") }, nil},
		{"Vehicle", "Info", func() error { _, err := (&Vehicle{}).Info(); return err }, ErrNotInitialized},
		{"Vehicle", "AddFriend", func() error { return (&Vehicle{}).AddFriend("b") }, ErrNotInitialized},
		{"Vehicle", "RemoveFriend", func() error { return (&Vehicle{}).RemoveFriend("b") }, ErrNotInitialized},
		{"Vehicle", "Rotate", func() error { _, err := (&Vehicle{}).Rotate(); return err }, ErrNotInitialized},
		{"Vehicle", "Close", func() error { return (&Vehicle{}).Close() }, ErrNotInitialized},
		{"Vehicle", "Request", func() error { _, err := (&Vehicle{}).Request("b", 1, nil); return err }, ErrNotInitialized},
		{"Vehicle", "TryOpen", func() error { _, err := (&Vehicle{}).TryOpen(nil); return err }, ErrNotInitialized},
		{"Vehicle", "Respond", func() error { _, err := (&Vehicle{}).Respond(Opened{}, true); return err }, ErrNotInitialized},
		{"Vehicle", "TryOpenContext", func() error { _, err := (&Vehicle{}).TryOpenContext(ctx, nil); return err }, ErrNotInitialized},
		{"Vehicle", "RotateWithKey", func() error { _, err := (&Vehicle{}).RotateWithKey(nil); return err }, ErrNotInitialized},
		{"Vehicle", "ReplayState", func() error { _, err := (&Vehicle{}).ReplayState(); return err }, ErrNotInitialized},
		{"Vehicle", "SaveReplayState", func() error { return (&Vehicle{}).SaveReplayState(ctx) }, ErrNotInitialized},
		{"Vehicle", "nil ReplayState", func() error { _, err := (*Vehicle)(nil).ReplayState(); return err }, ErrNotInitialized},
		{"MemoryReplayStore", "Load", func() error { _, err := (&MemoryReplayStore{}).Load(ctx, "a"); return err }, ErrNoReplayState},
		{"MemoryReplayStore", "Save", func() error { return (&MemoryReplayStore{}).Save(ctx, "a", []byte{1}) }, nil},
		{"MemoryReplayStore", "nil Load", func() error { _, err := (*MemoryReplayStore)(nil).Load(ctx, "a"); return err }, ErrNotInitialized},
		{"MemoryReplayStore", "nil Save", func() error { return (*MemoryReplayStore)(nil).Save(ctx, "a", nil) }, ErrNotInitialized},
		{"ReplayStateError", "Error", func() error { return errIf((&ReplayStateError{}).Error() != "") }, nil},
		{"ReplayStateError", "Unwrap", func() error { return errIf(len((&ReplayStateError{}).Unwrap()) == 1) }, nil},
		{"RestartError", "Error", func() error { return errIf((&RestartError{}).Error() != "") }, nil},
		{"RestartError", "Unwrap", func() error { return errIf(len((&RestartError{}).Unwrap()) == 2) }, nil},
		{"Vehicle", "nil TryOpen", func() error { _, err := (*Vehicle)(nil).TryOpen(nil); return err }, ErrNotInitialized},
		{"VehicleConfig", "Validate", func() error { return VehicleConfig{}.Validate() }, ErrInvalidConfig},
		{"VehicleID", "Validate", func() error { return VehicleID("").Validate() }, ErrInvalidID},
		{"VehicleInfo", "Validate", func() error { return VehicleInfo{}.Validate() }, ErrInvalidID},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.typ] = true
		t.Run(c.typ+"."+c.method, func(t *testing.T) {
			err := c.call()
			if c.want == nil && err != nil {
				t.Fatalf("zero value should work: %v", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	zerotest.Covered(t, names...)
}

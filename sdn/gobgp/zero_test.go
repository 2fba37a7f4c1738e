package gobgp_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// Every method of a zero RouteController (and of a nil one) returns
// ErrClosed without panicking; a zero Config is invalid with sdn.ErrInvalid.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}
	for name, r := range map[string]*gobgp.RouteController{"zero": new(gobgp.RouteController), "nil": nil} {
		checks := map[string]error{}
		checks["EnsureVRF"] = r.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: rd})
		checks["DeleteVRF"] = r.DeleteVRF(ctx, "t-x")
		checks["EnsureBGPInstance"] = r.EnsureBGPInstance(ctx, sdn.BGPSpec{VRF: "t-x", ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.1")})
		checks["DeleteBGPInstance"] = r.DeleteBGPInstance(ctx, "t-x")
		_, checks["AdvertisedRoutes"] = r.AdvertisedRoutes(ctx, "t-x")
		_, checks["ReceivedRoutes"] = r.ReceivedRoutes(ctx, "t-x")
		_, checks["ListVRFs"] = r.ListVRFs(ctx)
		_, checks["ReceivedByVRF"] = r.ReceivedByVRF(ctx)
		_, checks["Established"] = r.Established(ctx, netip.MustParseAddr("127.0.0.1"))
		checks["Restart"] = r.Restart(ctx)
		for m, err := range checks {
			if !errors.Is(err, gobgp.ErrClosed) {
				t.Errorf("%s %s = %v, want ErrClosed", name, m, err)
			}
		}
		if s := r.Server(); s != nil {
			t.Errorf("%s Server = %v, want nil", name, s)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s Close = %v", name, err)
		}
	}
	if err := (gobgp.Config{}).Validate(); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("zero Config: %v, want sdn.ErrInvalid", err)
	}
	zerotest.Covered(t, "RouteController", "Config")
}

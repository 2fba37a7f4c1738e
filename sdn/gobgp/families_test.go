package gobgp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// Adding a family to an instance (as sdn's default families gained
// VPN-IPv6) originates the networks in the new family without withdrawing
// them from the families kept: the VPN-IPv4 route does not flap. Removing
// the family withdraws only its routes.
func TestFamilyChangeKeepsOtherFamilies(t *testing.T) {
	ctx := t.Context()
	p := partition(0)
	rc, err := gobgp.New(ctx, gobgp.Config{ASN: p.ASN, RouterID: p.RouterID, ListenPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var mu sync.Mutex
	withdrawn := map[bgp.Family]int{}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = rc.Server().WatchEvent(wctx, server.WatchEventMessageCallbacks{OnBestPath: func(ps []*apiutil.Path, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range ps {
			if p.Withdrawal {
				withdrawn[p.Family]++
			}
		}
	}}, server.WatchBestPath(false))
	if err != nil {
		t.Fatal(err)
	}
	count := func(f bgp.Family) int { mu.Lock(); defer mu.Unlock(); return withdrawn[f] }
	rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}
	if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", VNI: 10000, RD: rd}); err != nil {
		t.Fatal(err)
	}
	spec := sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}, Networks: prefixes("10.1.0.0/24")}
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	spec.Families = []sdn.AddressFamily{sdn.FamilyL3VPNIPv4, sdn.FamilyEVPN}
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	st, err := rc.ListVRFs(ctx)
	if err != nil || len(st) != 1 || len(st[0].BGP.Networks) != 1 {
		t.Fatalf("ListVRFs after adding EVPN: %+v, %v", st, err)
	}
	// Remove EVPN again: its route goes, VPN-IPv4's stays.
	spec.Families = []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "the EVPN route withdrawn", func() (bool, error) { return count(bgp.RF_EVPN) == 1, nil })
	// Now withdraw the network: the one VPN-IPv4 withdrawal the watcher
	// may see, after any earlier one (events arrive in order).
	spec.Networks = nil
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "the VPN-IPv4 route withdrawn", func() (bool, error) { return count(bgp.RF_IPv4_VPN) > 0, nil })
	if n := count(bgp.RF_IPv4_VPN); n != 1 {
		t.Errorf("VPN-IPv4 route withdrawn %d times, want once (family changes flapped it)", n)
	}
}

package gobgp_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// One embedded GoBGP speaker (not listening): a tenant's VRF, a BGP
// instance bound to it, and the VPN-IPv4 and VPN-IPv6 routes it
// originates.
func Example() {
	ctx := context.Background()
	rc, err := gobgp.New(ctx, gobgp.Config{ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1"), ListenPort: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rc.Close()
	rd, _ := sdn.ParseRouteDistinguisher("10.255.0.1:1")
	rt, _ := sdn.ParseRouteTarget("64512:8000000")
	if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-acme", VNI: 10000, RD: rd, ImportRTs: []sdn.RouteTarget{rt}, ExportRTs: []sdn.RouteTarget{rt}}); err != nil {
		fmt.Println(err)
		return
	}
	err = rc.EnsureBGPInstance(ctx, sdn.BGPSpec{VRF: "t-acme", ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1"),
		Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4, sdn.FamilyL3VPNIPv6},
		Networks: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	routes, err := rc.AdvertisedRoutes(ctx, "t-acme")
	for _, r := range routes {
		fmt.Println(r.Prefix, r.RD, r.RTs)
	}
	fmt.Println(err)
	// Output:
	// 10.1.0.0/24 10.255.0.1:1 [64512:8000000]
	// 2001:db8:1::/48 10.255.0.1:1 [64512:8000000]
	// <nil>
}

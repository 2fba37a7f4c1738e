package sdn_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/payedge/payedge/sdn"
)

// Two tenants use the same address plan in two partitions; each reaches
// its own router in the other partition and never the other tenant's.
func Example() {
	ctx := context.Background()
	parts := []sdn.Partition{
		{ID: "east", ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1")},
		{ID: "west", ASN: 65002, RouterID: netip.MustParseAddr("10.255.0.2")},
	}
	fabric, err := sdn.NewFabric(parts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctl, err := sdn.NewController(ctx, sdn.Config{Partitions: parts}, sdn.NewMemoryStore(), fabric.Routers())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, tenant := range []string{"acme", "globex"} {
		b, err := ctl.CreateTenant(ctx, sdn.TenantSpec{ID: tenant})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: VRF %s, VNI %d, RT %s, RD east %s\n", tenant, b.VRF, b.VNI, b.ExportRTs[0], b.RD["east"])
		ctl.AttachRouter(ctx, tenant, sdn.VirtualRouter{Partition: "east", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}})
		ctl.AttachRouter(ctx, tenant, sdn.VirtualRouter{Partition: "west", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.2.0.0/24")}})
	}
	west, _ := fabric.Router("west")
	routes, _ := west.ReceivedRoutes(ctx, "t-acme")
	for _, r := range routes {
		fmt.Printf("t-acme in west receives %s from %s (RD %s)\n", r.Prefix, r.Origin, r.RD)
	}
	// Output:
	// acme: VRF t-acme, VNI 10000, RT 64512:8000000, RD east 10.255.0.1:1
	// globex: VRF t-globex, VNI 10001, RT 64512:8000001, RD east 10.255.0.1:2
	// t-acme in west receives 10.1.0.0/24 from east (RD 10.255.0.1:1)
}

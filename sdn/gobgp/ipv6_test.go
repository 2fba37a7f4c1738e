package gobgp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// wire lists what a speaker holds from its peers in one family of its
// global table: "RD prefix" for VPN routes, "RD prefix gw GW" for EVPN IP
// prefix routes.
func wire(t testing.TB, rc *gobgp.RouteController, fam bgp.Family) []string {
	t.Helper()
	var out []string
	err := rc.Server().ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: fam}, func(_ bgp.NLRI, ps []*apiutil.Path) {
		for _, p := range ps {
			if p.Withdrawal || !p.PeerAddress.IsValid() {
				continue
			}
			switch n := p.Nlri.(type) {
			case *bgp.LabeledVPNIPAddrPrefix:
				out = append(out, fmt.Sprintf("%s %s", n.RD, n.Prefix))
			case *bgp.EVPNNLRI:
				if ip, ok := n.RouteTypeData.(*bgp.EVPNIPPrefixRoute); ok {
					out = append(out, fmt.Sprintf("%s %s/%d gw %s", ip.RD, ip.IPPrefix, ip.IPPrefixLength, ip.GWIPAddress))
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// IPv6 tenant networks over real GoBGP speakers: a tenant's IPv6 prefix
// attached in p1 crosses to p2 as a VPN-IPv6 route (RFC 4659) and as an
// EVPN IP prefix route with an IPv6 gateway (RFC 9136), reaches the
// tenant's VRF there beside its IPv4 prefix, stays out of another
// tenant's VRF, and is withdrawn from p2 when the router is detached.
func TestIPv6OverRealBGP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	ctx := t.Context()
	r := newRegion(t, 2)
	for _, tenant := range []string{"six", "other"} {
		if _, err := r.ctl.CreateTenant(ctx, sdn.TenantSpec{ID: tenant}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.ctl.AttachRouter(ctx, "six", sdn.VirtualRouter{Partition: "p1", Prefixes: prefixes("10.1.0.0/24", "2001:db8:1::/48")}); err != nil {
		t.Fatal(err)
	}
	if err := r.ctl.AttachRouter(ctx, "other", sdn.VirtualRouter{Partition: "p1", Prefixes: prefixes("2001:db8:99::/48")}); err != nil {
		t.Fatal(err)
	}
	adv, err := r.speakers[0].AdvertisedRoutes(ctx, sdn.VRFName("six"))
	if err != nil {
		t.Fatal(err)
	}
	if len(adv) != 2 || adv[1].Prefix != netip.MustParsePrefix("2001:db8:1::/48") {
		t.Fatalf("p1 advertises %v", adv)
	}
	rd := adv[1].RD.String()
	want6 := []string{rd + " 2001:db8:1::/48"}
	wantEVPN := []string{rd + " 10.1.0.0/24 gw 0.0.0.0", rd + " 2001:db8:1::/48 gw ::"}
	eventually(t, settle, "six's IPv6 prefix reaches p2 over VPN-IPv6 and EVPN", func() (bool, error) {
		got, err := r.received(ctx, 1, "six")
		if err != nil {
			return false, err
		}
		if !slices.Equal(got, prefixes("10.1.0.0/24", "2001:db8:1::/48")) {
			return false, fmt.Errorf("p2 six received %v (%s)", got, r.sessions(ctx))
		}
		v6 := wire(t, r.speakers[1], bgp.RF_IPv6_VPN)
		if !slices.Contains(v6, want6[0]) {
			return false, fmt.Errorf("p2 VPN-IPv6 table %v, want %v", v6, want6)
		}
		ev := wire(t, r.speakers[1], bgp.RF_EVPN)
		for _, w := range wantEVPN {
			if !slices.Contains(ev, w) {
				return false, fmt.Errorf("p2 EVPN table %v, want %v", ev, wantEVPN)
			}
		}
		return true, nil
	})
	// Isolation: the other tenant's IPv6 prefix reaches only its own VRF.
	eventually(t, settle, "other's IPv6 prefix reaches p2", func() (bool, error) {
		got, err := r.received(ctx, 1, "other")
		return slices.Equal(got, prefixes("2001:db8:99::/48")), err
	})
	if got, _ := r.received(ctx, 1, "six"); slices.Contains(got, netip.MustParsePrefix("2001:db8:99::/48")) {
		t.Errorf("six received other's prefix: %v", got)
	}
	// ListVRFs reports the IPv6 network as originated, so Reconcile is quiet.
	if rep, err := r.ctl.Reconcile(ctx); err != nil || len(rep.Changes) != 0 {
		t.Errorf("Reconcile after IPv6 attach: %v, %v", rep.Changes, err)
	}

	if err := r.ctl.DetachRouter(ctx, "six", "p1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "six's IPv6 prefix withdrawn from p2", func() (bool, error) {
		got, err := r.received(ctx, 1, "six")
		if err != nil || len(got) != 0 {
			return false, fmt.Errorf("p2 six still receives %v (%v)", got, err)
		}
		for _, w := range wire(t, r.speakers[1], bgp.RF_IPv6_VPN) {
			if w == want6[0] {
				return false, fmt.Errorf("p2 still holds VPN-IPv6 %s", w)
			}
		}
		for _, w := range wire(t, r.speakers[1], bgp.RF_EVPN) {
			if slices.Contains(wantEVPN, w) {
				return false, fmt.Errorf("p2 still holds EVPN %s", w)
			}
		}
		return true, nil
	})
}

// An IPv6 network needs a family that carries it; with VPN-IPv6 alone the
// adapter originates it and reports it in AdvertisedRoutes and ListVRFs.
func TestIPv6NeedsFamily(t *testing.T) {
	ctx := t.Context()
	p := partition(0)
	rc, err := gobgp.New(ctx, gobgp.Config{ASN: p.ASN, RouterID: p.RouterID, ListenPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}
	if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: rd}); err != nil {
		t.Fatal(err)
	}
	nets := prefixes("2001:db8::/32")
	spec := sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}, Networks: nets}
	if err := rc.EnsureBGPInstance(ctx, spec); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("IPv6 network with VPN-IPv4 only: %v, want ErrInvalid", err)
	}
	spec.Families = []sdn.AddressFamily{sdn.FamilyL3VPNIPv6}
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	adv, err := rc.AdvertisedRoutes(ctx, "t-x")
	if err != nil || len(adv) != 1 || adv[0].Prefix != nets[0] || adv[0].RD != rd {
		t.Errorf("AdvertisedRoutes = %v, %v", adv, err)
	}
	st, err := rc.ListVRFs(ctx)
	if err != nil || len(st) != 1 || st[0].BGP == nil || !slices.Equal(st[0].BGP.Networks, nets) {
		t.Errorf("ListVRFs = %+v, %v", st, err)
	}
	spec.Networks = nil
	if err := rc.EnsureBGPInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if adv, err := rc.AdvertisedRoutes(ctx, "t-x"); err != nil || len(adv) != 0 {
		t.Errorf("after withdrawal AdvertisedRoutes = %v, %v", adv, err)
	}
}

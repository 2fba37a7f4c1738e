package sdn_test

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/payedge/payedge/sdn"
)

// IPv6 tenant networks: with the default families (VPN-IPv4, VPN-IPv6,
// EVPN) a tenant's IPv6 prefixes reach its VRFs in the other partitions
// and are withdrawn on detach; a Config whose families carry no IPv6 (only
// VPN-IPv4) refuses an IPv6 prefix instead of accepting a route that real
// BGP gear would never carry.
func TestIPv6TenantNetworks(t *testing.T) {
	ctx := t.Context()
	if got := sdn.DefaultConfig().Families; !slices.Contains(got, sdn.FamilyL3VPNIPv6) {
		t.Fatalf("default families %v lack VPN-IPv6", got)
	}
	w := newWorld(t, 6)
	c := w.controller(t)
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "six"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachRouter(ctx, "six", router("p1", "10.1.0.0/24", "2001:db8:1::/48")); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachRouter(ctx, "six", router("p2", "2001:db8:2::/48")); err != nil {
		t.Fatal(err)
	}
	got := func(part string) []netip.Prefix {
		fr, err := w.fabric.Router(part)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := fr.ReceivedRoutes(ctx, sdn.VRFName("six"))
		if err != nil {
			t.Fatal(err)
		}
		var out []netip.Prefix
		for _, r := range rs {
			out = append(out, r.Prefix)
		}
		return out
	}
	if g, want := got("p2"), []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}; !slices.Equal(g, want) {
		t.Errorf("p2 received %v, want %v", g, want)
	}
	if g, want := got("p3"), []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("2001:db8:2::/48")}; !slices.Equal(g, want) {
		t.Errorf("p3 received %v, want %v", g, want)
	}
	if err := c.DetachRouter(ctx, "six", "p1"); err != nil {
		t.Fatal(err)
	}
	if g, want := got("p3"), []netip.Prefix{netip.MustParsePrefix("2001:db8:2::/48")}; !slices.Equal(g, want) {
		t.Errorf("after detach p3 received %v, want %v", g, want)
	}

	// VPN-IPv4 only: IPv6 cannot cross, so it is refused.
	w4 := newWorld(t, 7)
	w4.cfg.Families = []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}
	c4 := w4.controller(t)
	if _, err := c4.CreateTenant(ctx, sdn.TenantSpec{ID: "four"}); err != nil {
		t.Fatal(err)
	}
	if err := c4.AttachRouter(ctx, "four", router("p1", "2001:db8:1::/48")); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("IPv6 prefix with VPN-IPv4 only: %v, want ErrInvalid", err)
	}
	if err := c4.AttachRouter(ctx, "four", router("p1", "10.1.0.0/24")); err != nil {
		t.Error(err)
	}
	// EVPN alone carries both.
	we := newWorld(t, 8)
	we.cfg.Families = []sdn.AddressFamily{sdn.FamilyEVPN}
	ce := we.controller(t)
	if _, err := ce.CreateTenant(ctx, sdn.TenantSpec{ID: "evpn"}); err != nil {
		t.Fatal(err)
	}
	if err := ce.AttachRouter(ctx, "evpn", router("p1", "2001:db8:1::/48", "10.1.0.0/24")); err != nil {
		t.Error(err)
	}
}

// The in-memory fabric carries a prefix only over a family both instances
// activate that carries its IP version, as BGP does.
func TestFabricFamilyCarriesVersion(t *testing.T) {
	ctx := t.Context()
	f, err := sdn.NewFabric(testParts[:2]...)
	if err != nil {
		t.Fatal(err)
	}
	rt := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 1}
	nets := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}
	for i, p := range testParts[:2] {
		r, err := f.Router(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: uint32(i + 1)}, ImportRTs: []sdn.RouteTarget{rt}, ExportRTs: []sdn.RouteTarget{rt}}); err != nil {
			t.Fatal(err)
		}
		b := sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4, sdn.FamilyL3VPNIPv6}}
		if i == 0 {
			b.Networks = nets
		} else {
			b.Families = []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}
		}
		if err := r.EnsureBGPInstance(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	r2, err := f.Router("p2")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := r2.ReceivedRoutes(ctx, "t-x")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Prefix != nets[0] {
		t.Errorf("VPN-IPv4-only instance received %v, want only %v", rs, nets[0])
	}
	if s := sdn.FamilyL3VPNIPv6.String(); s != "ipv6 vpn" {
		t.Errorf("FamilyL3VPNIPv6 = %q", s)
	}
}

package sdn_test

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/payedge/payedge/sdn"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestRenderFRRGolden(t *testing.T) {
	w := newWorld(t, 8)
	w.cfg.Neighbors = map[string][]sdn.Neighbor{
		"p1": {{Address: netip.MustParseAddr("10.254.0.1"), ASN: 64512}, {Address: netip.MustParseAddr("10.254.0.2"), ASN: 64512}},
	}
	c := w.controller(t)
	ctx := t.Context()
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "acme", VLAN: 120}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "globex", RouteTarget: sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 42}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachRouter(ctx, "acme", router("p1", "10.1.0.0/24", "10.1.1.0/24", "2001:db8:1::/48")); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachRouter(ctx, "globex", router("p1", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	got, err := c.RenderFRR("p1")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "frr_p1.golden", got)
	got, err = c.RenderFRR("p2")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "frr_p2.golden", got)
	if _, err := c.RenderFRR("nope"); err == nil {
		t.Error("unknown partition rendered")
	}
	// L3VPN only: no EVPN blocks.
	p := testParts[0]
	only := sdn.RenderFRR(p, nil, []sdn.VRFState{{
		VRF: sdn.VRFSpec{Name: "t-x", VNI: 7, RD: sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}},
		BGP: &sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}},
	}})
	golden(t, "frr_l3vpn_only.golden", only)
}

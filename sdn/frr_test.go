package sdn_test

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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

// FRR reads a route target's layout from the AS's value and (before FRR 9)
// knows no asdot: a four-octet AS is rendered in asplain, and a type 2
// value with an AS below 65536, which FRR cannot express, is named in a
// comment instead of being rendered as the type 0 value FRR would make
// of it.
func TestRenderFRRFourOctetRTs(t *testing.T) {
	p := testParts[0]
	big := sdn.RouteTarget{Type: sdn.TypeAS4, Admin: 4200000000, Assigned: 7}
	small := sdn.RouteTarget{Type: sdn.TypeAS4, Admin: 65000, Assigned: 7}
	two := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 65000, Assigned: 7}
	out := sdn.RenderFRR(p, nil, []sdn.VRFState{{
		VRF: sdn.VRFSpec{Name: "t-x", VNI: 7, RD: sdn.RouteDistinguisher{Type: sdn.TypeAS4, Admin: 4200000000, Assigned: 1},
			ImportRTs: []sdn.RouteTarget{two, small, big}, ExportRTs: []sdn.RouteTarget{big}},
		BGP: &sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4, sdn.FamilyEVPN}},
	}})
	for _, want := range []string{
		"  rd vpn export 4200000000:1\n",
		"  rt vpn import 65000:7 4200000000:7\n",
		"  ! rt vpn import: not rendered: FRR cannot configure a type 2 route target 0.65000:7 with an AS below 65536\n",
		"  rt vpn export 4200000000:7\n",
		"  rd 4200000000:1\n",
		"  route-target import 65000:7\n",
		"  route-target import 4200000000:7\n",
		"  route-target export 4200000000:7\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	for _, bad := range []string{"0.65000", "64086.59904", "65000L"} {
		if strings.Contains(strings.ReplaceAll(out, "not rendered: FRR cannot configure a type 2 route target 0.65000:7", ""), bad) {
			t.Errorf("FRR output holds %q:\n%s", bad, out)
		}
	}
}

package gobgp_test

import (
	"encoding/hex"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/payedge/payedge/sdn"
)

// The canonical text of sdn's route targets and distinguishers is GoBGP's:
// GoBGP prints the same string for the same 8 bytes, and parses sdn's text
// back to them. (GoBGP v4.8.0 reads asplain "4200000000:7" as 65535:7, so
// sdn must not write a four-octet AS that way.)
func TestTextFormsMatchGoBGP(t *testing.T) {
	rts := []sdn.RouteTarget{
		{Type: sdn.TypeAS2, Admin: 65000, Assigned: 7},
		{Type: sdn.TypeAS2, Admin: 1, Assigned: 4294967295},
		{Type: sdn.TypeIPv4, Admin: 0xc0000201, Assigned: 7},
		{Type: sdn.TypeAS4, Admin: 4200000000, Assigned: 7},
		{Type: sdn.TypeAS4, Admin: 65000, Assigned: 7},
		{Type: sdn.TypeAS4, Admin: 65546, Assigned: 65535},
		{Type: sdn.TypeAS4, Admin: 4294967295, Assigned: 1},
	}
	for _, rt := range rts {
		want, err := rt.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		ec, err := bgp.ParseRouteTarget(rt.String())
		if err != nil {
			t.Errorf("GoBGP cannot parse %q: %v", rt, err)
			continue
		}
		got, _ := ec.Serialize()
		if hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("GoBGP reads %q as %x (%s), want %x", rt, got, ec, want)
		}
		if ec.String() != rt.String() {
			t.Errorf("GoBGP writes %x as %q, sdn as %q", want, ec.String(), rt)
		}
		rd := sdn.RouteDistinguisher(rt)
		grd, err := bgp.ParseRouteDistinguisher(rd.String())
		if err != nil {
			t.Errorf("GoBGP cannot parse RD %q: %v", rd, err)
			continue
		}
		gb, _ := grd.Serialize()
		wb, _ := rd.MarshalBinary()
		if hex.EncodeToString(gb) != hex.EncodeToString(wb) || grd.String() != rd.String() {
			t.Errorf("RD %q: GoBGP %x %q, sdn %x", rd, gb, grd, wb)
		}
	}
}

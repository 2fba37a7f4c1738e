package gobgp_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// evpnFromPeers maps each EVPN IP prefix route a speaker received to its
// Router's MAC and encapsulation extended communities ("" when absent).
func evpnFromPeers(t testing.TB, rc *gobgp.RouteController) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	err := rc.Server().ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: bgp.RF_EVPN}, func(_ bgp.NLRI, ps []*apiutil.Path) {
		for _, p := range ps {
			n, ok := p.Nlri.(*bgp.EVPNNLRI)
			if !ok || p.Withdrawal || !p.PeerAddress.IsValid() {
				continue
			}
			ip, ok := n.RouteTypeData.(*bgp.EVPNIPPrefixRoute)
			if !ok {
				continue
			}
			var got [2]string
			for _, a := range p.Attrs {
				if ec, ok := a.(*bgp.PathAttributeExtendedCommunities); ok {
					for _, v := range ec.Value {
						switch v := v.(type) {
						case *bgp.RouterMacExtended:
							got[0] = v.Mac.String()
						case *bgp.EncapExtended:
							got[1] = v.TunnelType.String()
						}
					}
				}
			}
			out[fmt.Sprintf("%s/%d", ip.IPPrefix, ip.IPPrefixLength)] = got
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// EVPN type-5 routes over VXLAN carry the Router's MAC extended community
// (RFC 9136 section 4.4.1, RFC 9135 section 8.1): the configured MAC, or
// DefaultRouterMAC of the router ID, for IPv4 and IPv6 prefixes alike.
func TestRouterMACOverRealBGP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	ctx := t.Context()
	port := freePort(t, 2)
	macs := []net.HardwareAddr{{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01}, nil} // RFC 7042 documentation MAC; default
	nets := [][]netip.Prefix{prefixes("10.1.0.0/24", "2001:db8:1::/48"), prefixes("10.2.0.0/24")}
	var rcs []*gobgp.RouteController
	rt := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 1}
	for i := range 2 {
		p := partition(i)
		rc, err := gobgp.New(ctx, gobgp.Config{ASN: p.ASN, RouterID: p.RouterID, RouterMAC: macs[i],
			ListenAddress: loopback(i), ListenPort: int32(port), LocalAddress: loopback(i), PeerPort: port, OneSidedOpen: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		rcs = append(rcs, rc)
		rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: uint32(i + 1)}
		if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", VNI: 10000, RD: rd, ImportRTs: []sdn.RouteTarget{rt}, ExportRTs: []sdn.RouteTarget{rt}}); err != nil {
			t.Fatal(err)
		}
		if err := rc.EnsureBGPInstance(ctx, sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Neighbors: neighbors(i, 2),
			Families: []sdn.AddressFamily{sdn.FamilyEVPN}, Networks: nets[i]}); err != nil {
			t.Fatal(err)
		}
	}
	want := []map[string][2]string{
		{"10.2.0.0/24": {"02:00:0a:ff:00:02", "vxlan"}},
		{"10.1.0.0/24": {"00:00:5e:00:53:01", "vxlan"}, "2001:db8:1::/48": {"00:00:5e:00:53:01", "vxlan"}},
	}
	eventually(t, settle, "EVPN routes with the Router's MAC on both speakers", func() (bool, error) {
		for i, rc := range rcs {
			got := evpnFromPeers(t, rc)
			if fmt.Sprint(got) != fmt.Sprint(want[i]) {
				return false, fmt.Errorf("speaker %d received %v, want %v", i, got, want[i])
			}
		}
		return true, nil
	})
}

func TestRouterMACConfig(t *testing.T) {
	if got := gobgp.DefaultRouterMAC(netip.MustParseAddr("10.255.0.1")).String(); got != "02:00:0a:ff:00:01" {
		t.Errorf("DefaultRouterMAC = %s", got)
	}
	if got := gobgp.DefaultRouterMAC(netip.MustParseAddr("2001:db8::1")); got != nil {
		t.Errorf("DefaultRouterMAC of IPv6 = %v", got)
	}
	base := gobgp.Config{ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1")}
	for _, m := range []net.HardwareAddr{{}, {1, 2, 3, 4, 5}, {0x01, 0, 0x5e, 0, 0, 1}, {0, 0, 0, 0, 0, 0}, make(net.HardwareAddr, 8)} {
		c := base
		c.RouterMAC = m
		if err := c.Validate(); !errors.Is(err, sdn.ErrInvalid) {
			t.Errorf("RouterMAC %v: %v, want ErrInvalid", m, err)
		}
	}
	base.RouterMAC = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x53, 0x01}
	if err := base.Validate(); err != nil {
		t.Error(err)
	}
}

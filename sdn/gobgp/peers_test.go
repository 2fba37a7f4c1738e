package gobgp_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// errAfter is a context whose Err reports context.Canceled from its
// (k+1)-th call on: it cancels an operation at each point where the
// adapter checks its context, one point per k.
type errAfter struct {
	context.Context
	n atomic.Int64
	k int64
}

func (c *errAfter) Err() error {
	if c.n.Add(1) > c.k {
		return context.Canceled
	}
	return nil
}

func peerAddrs(t *testing.T, rc *gobgp.RouteController) []string {
	t.Helper()
	var out []string
	if err := rc.Server().ListPeer(t.Context(), &api.ListPeerRequest{}, func(p *api.Peer) {
		out = append(out, p.GetConf().GetNeighborAddress())
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// An EnsureBGPInstance cancelled at any point, retried and then deleted
// leaves no neighbour behind; neighbours shared with another instance
// stay until that one is deleted too.
func TestCancelledInstanceLeaksNoPeer(t *testing.T) {
	ctx := t.Context()
	rid := netip.MustParseAddr("10.0.0.1")
	// Neighbours on a closed port of loopback: sessions never come up,
	// which does not matter here.
	n1 := sdn.Neighbor{Address: netip.MustParseAddr("127.0.0.201"), ASN: 65010}
	n2 := sdn.Neighbor{Address: netip.MustParseAddr("127.0.0.202"), ASN: 65011}
	for k := int64(0); ; k++ {
		rc, err := gobgp.New(ctx, gobgp.Config{ASN: 65001, RouterID: rid, ListenPort: -1, PeerPort: 9})
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"t-a", "t-b"} {
			rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: uint32(i + 1)}
			rt := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 65000, Assigned: uint32(i + 1)}
			if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: name, VNI: uint32(100 + i), RD: rd, ImportRTs: []sdn.RouteTarget{rt}, ExportRTs: []sdn.RouteTarget{rt}}); err != nil {
				t.Fatal(err)
			}
		}
		spec := func(vrf string, ns ...sdn.Neighbor) sdn.BGPSpec {
			return sdn.BGPSpec{VRF: vrf, ASN: 65001, RouterID: rid, Neighbors: ns,
				Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4, sdn.FamilyEVPN},
				Networks: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}
		}
		if err := rc.EnsureBGPInstance(ctx, spec("t-b", n1)); err != nil {
			t.Fatal(err)
		}
		cctx := &errAfter{Context: ctx, k: k}
		failed := rc.EnsureBGPInstance(cctx, spec("t-a", n1, n2)) != nil
		if err := rc.EnsureBGPInstance(ctx, spec("t-a", n1, n2)); err != nil {
			t.Fatalf("k=%d: retry: %v", k, err)
		}
		if err := rc.DeleteBGPInstance(ctx, "t-a"); err != nil {
			t.Fatal(err)
		}
		if got := peerAddrs(t, rc); len(got) != 1 || got[0] != n1.Address.String() {
			t.Errorf("k=%d: after deleting t-a the speaker has neighbours %v, want only %v (t-b's)", k, got, n1.Address)
		}
		if err := rc.DeleteBGPInstance(ctx, "t-b"); err != nil {
			t.Fatal(err)
		}
		if got := peerAddrs(t, rc); len(got) != 0 {
			t.Errorf("k=%d: after deleting every instance the speaker has neighbours %v", k, got)
		}
		rc.Close()
		if !failed {
			break
		}
	}
}

// TestOneSidedOpen checks that with OneSidedOpen exactly one end of each
// session connects out (the lower address) and that the option needs a
// LocalAddress.
func TestOneSidedOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	bad := gobgp.Config{ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1"), OneSidedOpen: true}
	if err := bad.Validate(); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("OneSidedOpen without LocalAddress: %v, want ErrInvalid", err)
	}
	s, _ := speakers(t, 3)
	meshVRF(t, s)
	ctx := t.Context()
	for k, rc := range s {
		if err := rc.Server().ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
			addr := netip.MustParseAddr(p.GetConf().GetNeighborAddress())
			if want := addr.Compare(loopback(k)) < 0; p.GetTransport().GetPassiveMode() != want {
				t.Errorf("speaker %v toward %v: passive %v, want %v", loopback(k), addr, !want, want)
			}
		}); err != nil {
			t.Fatal(err)
		}
		for j := range s {
			if j == k {
				continue
			}
			eventually(t, 30*time.Second, fmt.Sprintf("session %d–%d", k, j), func() (bool, error) {
				return rc.Established(ctx, loopback(j))
			})
		}
	}
}

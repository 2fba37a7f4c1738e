package gobgp_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

const settle = 90 * time.Second // a bound, not a wait: the tests poll; loaded CI machines under -race need it

// region is three speakers driven by one sdn.Controller.
type region struct {
	speakers []*gobgp.RouteController
	parts    []sdn.Partition
	cfg      sdn.Config
	store    *sdn.MemoryStore
	ctl      *sdn.Controller
}

func newRegion(t *testing.T, n int) *region { return newRegionB(t, n) }

func newRegionB(t testing.TB, n int) *region {
	t.Helper()
	s, _ := speakers(t, n)
	r := &region{speakers: s, store: sdn.NewMemoryStore()}
	routers := map[string]sdn.RouteController{}
	r.cfg.Neighbors = map[string][]sdn.Neighbor{}
	for i := range n {
		p := partition(i)
		r.parts = append(r.parts, p)
		routers[p.ID] = s[i]
		r.cfg.Neighbors[p.ID] = neighbors(i, n)
	}
	r.cfg.Partitions = r.parts
	ctl, err := sdn.NewController(t.Context(), r.cfg, r.store, routers)
	if err != nil {
		t.Fatal(err)
	}
	r.ctl = ctl
	return r
}

// received returns the prefixes tenant's VRF in partition i receives.
func (r *region) received(ctx context.Context, i int, tenant string) ([]netip.Prefix, error) {
	routes, err := r.speakers[i].ReceivedRoutes(ctx, sdn.VRFName(tenant))
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for _, rt := range routes {
		out = append(out, rt.Prefix)
	}
	return out, nil
}

// sessions lists the sessions that are not established, for messages.
func (r *region) sessions(ctx context.Context) string {
	var down []string
	for i, s := range r.speakers {
		for _, n := range r.cfg.Neighbors[r.parts[i].ID] {
			if up, err := s.Established(ctx, n.Address); !up {
				down = append(down, fmt.Sprintf("%s→%v down (%v)", r.parts[i].ID, n.Address, err))
			}
		}
	}
	if len(down) == 0 {
		return "every session established"
	}
	return fmt.Sprint(down)
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestControllerOverRealBGP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	ctx := t.Context()
	r := newRegion(t, 3)
	// Two tenants with the same address plan: 10.<partition>.0.0/24.
	for _, tenant := range []string{"red", "blue"} {
		if _, err := r.ctl.CreateTenant(ctx, sdn.TenantSpec{ID: tenant}); err != nil {
			t.Fatal(err)
		}
		for i, p := range r.parts {
			vr := sdn.VirtualRouter{Partition: p.ID, Prefixes: prefixes(fmt.Sprintf("10.%d.0.0/24", i+1))}
			if tenant == "blue" {
				vr.Prefixes = append(vr.Prefixes, netip.MustParsePrefix(fmt.Sprintf("172.16.%d.0/24", i+1)))
			}
			if err := r.ctl.AttachRouter(ctx, tenant, vr); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := func(i int, tenant string) []netip.Prefix {
		var out []netip.Prefix
		for j := range r.parts {
			if j == i {
				continue
			}
			out = append(out, netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/24", j+1)))
			if tenant == "blue" {
				out = append(out, netip.MustParsePrefix(fmt.Sprintf("172.16.%d.0/24", j+1)))
			}
		}
		slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		return out
	}
	converged := func(tenants ...string) func() (bool, error) {
		return func() (bool, error) {
			for i := range r.parts {
				for _, tenant := range tenants {
					got, err := r.received(ctx, i, tenant)
					if err != nil {
						return false, err
					}
					if !slices.Equal(got, want(i, tenant)) {
						return false, fmt.Errorf("partition %d tenant %s received %v, want %v (%s)", i, tenant, got, want(i, tenant), r.sessions(ctx))
					}
				}
			}
			return true, nil
		}
	}
	start := time.Now()
	eventually(t, settle, "both tenants reach their routers in every partition", converged("red", "blue"))
	t.Logf("converged in %v after the last controller call", time.Since(start))
	for i := range r.parts {
		by, err := r.speakers[i].ReceivedByVRF(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tenant := range []string{"red", "blue"} {
			one, _ := r.speakers[i].ReceivedRoutes(ctx, sdn.VRFName(tenant))
			if len(by[sdn.VRFName(tenant)]) != len(one) {
				t.Errorf("partition %d %s: ReceivedByVRF %d routes, ReceivedRoutes %d", i, tenant, len(by[sdn.VRFName(tenant)]), len(one))
			}
		}
	}
	// Isolation: red never holds a 172.16/12 route, whatever the RD.
	for i := range r.parts {
		got, _ := r.received(ctx, i, "red")
		for _, p := range got {
			if netip.MustParsePrefix("172.16.0.0/12").Overlaps(p) {
				t.Errorf("red in partition %d received blue's %v", i, p)
			}
		}
	}

	// Deleting a tenant withdraws its routes from every peer.
	if err := r.ctl.DeleteTenant(ctx, "blue"); err != nil {
		t.Fatal(err)
	}
	eventually(t, settle, "blue's routes withdrawn everywhere", func() (bool, error) {
		for i := range r.parts {
			all, err := r.speakers[i].ListVRFs(ctx)
			if err != nil {
				return false, err
			}
			for _, st := range all {
				if st.VRF.Name == "t-blue" {
					return false, fmt.Errorf("partition %d still has t-blue", i)
				}
			}
			got, err := r.received(ctx, i, "red")
			if err != nil || !slices.Equal(got, want(i, "red")) {
				return false, err
			}
		}
		return true, nil
	})

	// A speaker restarts empty; Reconcile brings it back.
	if raceEnabled {
		t.Log("restart step skipped under -race (see race_on_test.go); CI runs it without -race")
		return
	}
	if err := r.speakers[1].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.speakers[1].ListVRFs(ctx); len(st) != 0 {
		t.Fatalf("restarted speaker kept %d VRFs", len(st))
	}
	rep, err := r.ctl.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Changes) == 0 {
		t.Fatal("Reconcile found nothing to repair on the restarted speaker")
	}
	eventually(t, settle, "red converged again after the restart", converged("red"))
	if rep, err := r.ctl.Reconcile(ctx); err != nil || len(rep.Changes) != 0 {
		t.Errorf("second Reconcile: %d changes, %v", len(rep.Changes), err)
	}
}

func TestPeerEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	port := freePort(t, 2)
	events := make(chan gobgp.PeerEvent, 64)
	var rcs []*gobgp.RouteController
	for i := range 2 {
		p := partition(i)
		cfg := gobgp.Config{ASN: p.ASN, RouterID: p.RouterID, ListenAddress: loopback(i), ListenPort: int32(port), LocalAddress: loopback(i), PeerPort: port, OneSidedOpen: true}
		if i == 0 {
			cfg.OnPeerEvent = func(e gobgp.PeerEvent) {
				select {
				case events <- e:
				default:
				}
			}
		}
		rc, err := gobgp.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		rcs = append(rcs, rc)
	}
	ctx := t.Context()
	for i, rc := range rcs {
		p := partition(i)
		rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: uint32(i + 1)}
		if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: rd}); err != nil {
			t.Fatal(err)
		}
		if err := rc.EnsureBGPInstance(ctx, sdn.BGPSpec{VRF: "t-x", ASN: p.ASN, RouterID: p.RouterID, Neighbors: neighbors(i, 2), Families: []sdn.AddressFamily{sdn.FamilyL3VPNIPv4}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(settle)
	for {
		select {
		case e := <-events:
			if e.State == "established" && e.Peer == loopback(1) {
				// The event may reach us before the speaker's peer table
				// says so, and a loaded machine may see the session reset
				// once while the second speaker configures: the query must
				// agree, not necessarily at the same instant.
				eventually(t, settle, "Established after the event", func() (bool, error) {
					return rcs[0].Established(ctx, loopback(1))
				})
				return
			}
		case <-deadline:
			t.Fatal("no established event")
		}
	}
}

func TestBadInput(t *testing.T) {
	ctx := t.Context()
	if _, err := gobgp.New(ctx, gobgp.Config{ASN: 0, RouterID: netip.MustParseAddr("10.0.0.1")}); err == nil {
		t.Error("AS 0 accepted")
	}
	if _, err := gobgp.New(ctx, gobgp.Config{ASN: 65001}); err == nil {
		t.Error("missing router id accepted")
	}
	var zero gobgp.RouteController
	if err := zero.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}}); err == nil {
		t.Error("zero RouteController accepted a call")
	}
	if err := zero.Close(); err != nil {
		t.Error(err)
	}
	rc, err := gobgp.New(ctx, gobgp.Config{ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.1"), ListenPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rd := sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 1}
	if err := rc.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-x", RD: rd}); err != nil {
		t.Fatal(err)
	}
	// The instance must carry the speaker's AS and router id.
	err = rc.EnsureBGPInstance(ctx, sdn.BGPSpec{VRF: "t-x", ASN: 65002, RouterID: netip.MustParseAddr("10.0.0.1")})
	if err == nil {
		t.Error("foreign AS accepted")
	}
	rc.Close()
	if _, err := rc.ListVRFs(ctx); err == nil {
		t.Error("closed controller answered")
	}
	// Closed is closed: Restart does not bring the speaker back.
	if err := rc.Restart(ctx); !errors.Is(err, gobgp.ErrClosed) {
		t.Errorf("Restart after Close: %v, want ErrClosed", err)
	}
	if _, err := rc.ListVRFs(ctx); !errors.Is(err, gobgp.ErrClosed) {
		t.Errorf("after Restart after Close: %v, want ErrClosed", err)
	}
}

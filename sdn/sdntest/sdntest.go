// Package sdntest checks implementations of the sdn package's interfaces
// against their written contracts, in the manner of testing/fstest: a host
// that brings its own sdn.RouteController (a vendor SDN API, a BGP daemon)
// or its own sdn.Store calls one function from its tests.
package sdntest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/payedge/payedge/sdn"
)

// Setup is a pair of RouteControllers under test: the routers of two
// partitions whose cores are connected, so that a route exported by a VRF
// on A is received by a VRF on B that imports its route target.
type Setup struct {
	A, B         sdn.RouteController
	PartA, PartB sdn.Partition
	// NeighborsA and NeighborsB are the BGP neighbours each side's
	// instances must list to reach the core (nil for the in-memory fabric).
	NeighborsA, NeighborsB []sdn.Neighbor
	// Families to activate (default sdn.DefaultConfig's: L3VPN-IPv4,
	// L3VPN-IPv6 and EVPN). The IPv6 check runs when one of them carries
	// IPv6 prefixes.
	Families []sdn.AddressFamily
	// Settle bounds how long route propagation may take (default 100 ms;
	// a real BGP pair needs seconds). The suite polls, it never sleeps
	// the whole bound.
	Settle time.Duration
}

func (s Setup) families() []sdn.AddressFamily {
	if len(s.Families) == 0 {
		return sdn.DefaultConfig().Families
	}
	return s.Families
}

func (s Setup) settle() time.Duration {
	if s.Settle <= 0 {
		return 100 * time.Millisecond
	}
	return s.Settle
}

// eventually polls cond until it returns nil or the settle time passes.
func eventually(ctx context.Context, d time.Duration, cond func() error) error {
	deadline := time.Now().Add(d)
	wait := time.Millisecond
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func rt(n uint32) sdn.RouteTarget {
	return sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: n}
}

func rd(p sdn.Partition, n uint32) sdn.RouteDistinguisher {
	b := p.RouterID.As4()
	return sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), Assigned: n}
}

func prefixes(rs []sdn.Route) []netip.Prefix {
	out := make([]netip.Prefix, len(rs))
	for i, r := range rs {
		out[i] = r.Prefix
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out)
}

// TestRouteController checks a pair of RouteControllers: idempotent Ensure
// and Delete, ErrVRFNotFound for unknown VRFs, advertised routes that
// match the instance's networks, propagation by route target from A to B
// (of IPv6 prefixes too when a family carries them),
// isolation of a VRF that imports another target, withdrawal when networks
// are removed or the instance deleted, refusal to delete a VRF with an
// instance bound, cancelled contexts, and concurrent use (run with -race).
// newSetup must return controllers with no VRFs; each subtest gets a fresh
// setup.
func TestRouteController(t *testing.T, newSetup func(t *testing.T) Setup) {
	t.Helper()
	for _, c := range routeChecks {
		t.Run(c.name, func(t *testing.T) {
			s := newSetup(t)
			ctx, cancel := context.WithTimeout(t.Context(), s.settle()+30*time.Second)
			defer cancel()
			if err := c.run(ctx, s); err != nil {
				t.Error(err)
			}
		})
	}
}

type vrfPair struct{ va, vb sdn.VRFSpec }

func specs(s Setup, name string, exportA, importB uint32) vrfPair {
	return vrfPair{
		va: sdn.VRFSpec{Name: name, VNI: 10001, RD: rd(s.PartA, 1), ImportRTs: []sdn.RouteTarget{rt(exportA)}, ExportRTs: []sdn.RouteTarget{rt(exportA)}},
		vb: sdn.VRFSpec{Name: name, VNI: 10001, RD: rd(s.PartB, 1), ImportRTs: []sdn.RouteTarget{rt(importB)}, ExportRTs: []sdn.RouteTarget{rt(importB)}},
	}
}

func bgp(s Setup, side string, vrf string, nets ...string) sdn.BGPSpec {
	p, ns := s.PartA, s.NeighborsA
	if side == "b" {
		p, ns = s.PartB, s.NeighborsB
	}
	b := sdn.BGPSpec{VRF: vrf, ASN: p.ASN, RouterID: p.RouterID, Neighbors: ns, Families: s.families()}
	for _, n := range nets {
		b.Networks = append(b.Networks, netip.MustParsePrefix(n))
	}
	return b
}

// up creates the VRF pair with instances; A originates nets.
func up(ctx context.Context, s Setup, p vrfPair, nets ...string) error {
	if err := s.A.EnsureVRF(ctx, p.va); err != nil {
		return fmt.Errorf("A.EnsureVRF: %w", err)
	}
	if err := s.B.EnsureVRF(ctx, p.vb); err != nil {
		return fmt.Errorf("B.EnsureVRF: %w", err)
	}
	if err := s.A.EnsureBGPInstance(ctx, bgp(s, "a", p.va.Name, nets...)); err != nil {
		return fmt.Errorf("A.EnsureBGPInstance: %w", err)
	}
	if err := s.B.EnsureBGPInstance(ctx, bgp(s, "b", p.vb.Name)); err != nil {
		return fmt.Errorf("B.EnsureBGPInstance: %w", err)
	}
	return nil
}

func expectReceived(ctx context.Context, s Setup, rc sdn.RouteController, vrf string, want ...string) error {
	var w []netip.Prefix
	for _, p := range want {
		w = append(w, netip.MustParsePrefix(p))
	}
	var got []netip.Prefix
	err := eventually(ctx, s.settle(), func() error {
		rs, err := rc.ReceivedRoutes(ctx, vrf)
		if err != nil {
			return err
		}
		got = prefixes(rs)
		if !slices.Equal(got, w) {
			return fmt.Errorf("VRF %s received %v, want %v", vrf, got, w)
		}
		return nil
	})
	return err
}

var routeChecks = []struct {
	name string
	run  func(context.Context, Setup) error
}{
	{"UnknownVRF", func(ctx context.Context, s Setup) error {
		if _, err := s.A.ReceivedRoutes(ctx, "t-nobody"); !errors.Is(err, sdn.ErrVRFNotFound) {
			return fmt.Errorf("ReceivedRoutes of unknown VRF: %v, want ErrVRFNotFound", err)
		}
		if _, err := s.A.AdvertisedRoutes(ctx, "t-nobody"); !errors.Is(err, sdn.ErrVRFNotFound) {
			return fmt.Errorf("AdvertisedRoutes of unknown VRF: %v, want ErrVRFNotFound", err)
		}
		if err := s.A.EnsureBGPInstance(ctx, bgp(s, "a", "t-nobody")); !errors.Is(err, sdn.ErrVRFNotFound) {
			return fmt.Errorf("EnsureBGPInstance on unknown VRF: %v, want ErrVRFNotFound", err)
		}
		if err := s.A.DeleteVRF(ctx, "t-nobody"); err != nil {
			return fmt.Errorf("DeleteVRF of unknown VRF: %v, want nil (idempotent)", err)
		}
		if err := s.A.DeleteBGPInstance(ctx, "t-nobody"); err != nil {
			return fmt.Errorf("DeleteBGPInstance of unknown VRF: %v, want nil (idempotent)", err)
		}
		return nil
	}},
	{"AdvertiseAndPropagate", func(ctx context.Context, s Setup) error {
		p := specs(s, "t-red", 8000001, 8000001)
		if err := up(ctx, s, p, "10.1.0.0/24", "10.1.1.0/24"); err != nil {
			return err
		}
		// Ensure twice: idempotent.
		if err := up(ctx, s, p, "10.1.0.0/24", "10.1.1.0/24"); err != nil {
			return fmt.Errorf("second Ensure: %w", err)
		}
		adv, err := s.A.AdvertisedRoutes(ctx, "t-red")
		if err != nil {
			return err
		}
		if got := prefixes(adv); !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("10.1.1.0/24")}) {
			return fmt.Errorf("advertised %v", got)
		}
		return expectReceived(ctx, s, s.B, "t-red", "10.1.0.0/24", "10.1.1.0/24")
	}},
	{"Isolation", func(ctx context.Context, s Setup) error {
		red := specs(s, "t-red", 8000001, 8000001)
		blue := specs(s, "t-blue", 8000002, 8000002)
		blue.va.RD.Assigned, blue.vb.RD.Assigned = 2, 2
		if err := up(ctx, s, red, "10.1.0.0/24"); err != nil {
			return err
		}
		if err := up(ctx, s, blue, "10.2.0.0/24"); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-red", "10.1.0.0/24"); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-blue", "10.2.0.0/24"); err != nil {
			return err
		}
		// Blue must never see red's prefix, even after settling.
		rs, err := s.B.ReceivedRoutes(ctx, "t-blue")
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Prefix == netip.MustParsePrefix("10.1.0.0/24") {
				return errors.New("VRF t-blue received t-red's route")
			}
		}
		return nil
	}},
	{"Withdraw", func(ctx context.Context, s Setup) error {
		p := specs(s, "t-red", 8000001, 8000001)
		if err := up(ctx, s, p, "10.1.0.0/24", "10.1.1.0/24"); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-red", "10.1.0.0/24", "10.1.1.0/24"); err != nil {
			return err
		}
		if err := s.A.EnsureBGPInstance(ctx, bgp(s, "a", "t-red", "10.1.1.0/24")); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-red", "10.1.1.0/24"); err != nil {
			return fmt.Errorf("after removing a network: %w", err)
		}
		if err := s.A.DeleteVRF(ctx, "t-red"); !errors.Is(err, sdn.ErrConflict) {
			return fmt.Errorf("DeleteVRF with an instance bound: %v, want ErrConflict", err)
		}
		if err := s.A.DeleteBGPInstance(ctx, "t-red"); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-red"); err != nil {
			return fmt.Errorf("after DeleteBGPInstance: %w", err)
		}
		if err := s.A.DeleteVRF(ctx, "t-red"); err != nil {
			return err
		}
		if _, err := s.A.AdvertisedRoutes(ctx, "t-red"); !errors.Is(err, sdn.ErrVRFNotFound) {
			return fmt.Errorf("deleted VRF still listed: %v", err)
		}
		return nil
	}},
	{"IPv6", func(ctx context.Context, s Setup) error {
		v6 := netip.MustParsePrefix("2001:db8:1::/48")
		if !slices.ContainsFunc(s.families(), func(f sdn.AddressFamily) bool { return f.Carries(v6) }) {
			return nil // no family carries IPv6: nothing to check
		}
		p := specs(s, "t-six", 8000001, 8000001)
		if err := up(ctx, s, p, "10.1.0.0/24", "2001:db8:1::/48"); err != nil {
			return err
		}
		adv, err := s.A.AdvertisedRoutes(ctx, "t-six")
		if err != nil {
			return err
		}
		if got := prefixes(adv); !slices.Equal(got, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), v6}) {
			return fmt.Errorf("advertised %v", got)
		}
		if err := expectReceived(ctx, s, s.B, "t-six", "10.1.0.0/24", "2001:db8:1::/48"); err != nil {
			return err
		}
		if err := s.A.EnsureBGPInstance(ctx, bgp(s, "a", "t-six", "10.1.0.0/24")); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-six", "10.1.0.0/24"); err != nil {
			return fmt.Errorf("after removing the IPv6 network: %w", err)
		}
		return nil
	}},
	{"UpdateVRF", func(ctx context.Context, s Setup) error {
		// Changing B's import target to another one cuts the routes off.
		p := specs(s, "t-red", 8000001, 8000001)
		if err := up(ctx, s, p, "10.1.0.0/24"); err != nil {
			return err
		}
		if err := expectReceived(ctx, s, s.B, "t-red", "10.1.0.0/24"); err != nil {
			return err
		}
		p.vb.ImportRTs = []sdn.RouteTarget{rt(8000009)}
		if err := s.B.EnsureVRF(ctx, p.vb); err != nil {
			return err
		}
		return expectReceived(ctx, s, s.B, "t-red")
	}},
	{"CancelledContext", func(ctx context.Context, s Setup) error {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		p := specs(s, "t-red", 8000001, 8000001)
		if err := s.A.EnsureVRF(cctx, p.va); err == nil {
			return errors.New("EnsureVRF ignored a cancelled context")
		}
		if _, err := s.A.ReceivedRoutes(cctx, "t-red"); err == nil {
			return errors.New("ReceivedRoutes ignored a cancelled context")
		}
		return nil
	}},
	{"InvalidSpecs", func(ctx context.Context, s Setup) error {
		bad := []sdn.VRFSpec{
			{Name: "", RD: rd(s.PartA, 1)},
			{Name: "t-x"},
			{Name: "t-x", RD: rd(s.PartA, 1), ImportRTs: []sdn.RouteTarget{{}}},
		}
		for _, v := range bad {
			if err := s.A.EnsureVRF(ctx, v); !errors.Is(err, sdn.ErrInvalid) {
				return fmt.Errorf("EnsureVRF(%+v) = %v, want ErrInvalid", v, err)
			}
		}
		return nil
	}},
	{"Concurrent", func(ctx context.Context, s Setup) error {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				name := fmt.Sprintf("t-c%d", i)
				p := specs(s, name, 8000100+uint32(i), 8000100+uint32(i))
				p.va.RD.Assigned, p.vb.RD.Assigned = 100+uint32(i), 100+uint32(i)
				if err := up(ctx, s, p, fmt.Sprintf("10.100.%d.0/24", i)); err != nil {
					errs <- err
					return
				}
				if _, err := s.B.ReceivedRoutes(ctx, name); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		for i := range 8 {
			if err := expectReceived(ctx, s, s.B, fmt.Sprintf("t-c%d", i), fmt.Sprintf("10.100.%d.0/24", i)); err != nil {
				return err
			}
		}
		return nil
	}},
}

// TestStore checks an sdn.Store: Get of a missing tenant is
// ErrTenantNotFound, Put then Get round-trips every field, records are
// copies (modifying one after Put or Get changes nothing stored), List is
// sorted, Delete is idempotent, cancelled contexts are honoured, and
// concurrent use is safe (run with -race). newStore must return an empty
// store.
func TestStore(t *testing.T, newStore func(t *testing.T) sdn.Store) {
	t.Helper()
	ctx := t.Context()
	s := newStore(t)
	rec := func(id string) sdn.TenantRecord {
		return sdn.TenantRecord{
			Spec: sdn.TenantSpec{ID: id, Name: "Tenant " + id, ExtraImportRTs: []sdn.RouteTarget{rt(7)}},
			Binding: sdn.Binding{VNI: 10001, VLAN: 101, VRF: "t-" + id, BGPInstance: "t-" + id,
				RD:        map[string]sdn.RouteDistinguisher{"p1": {Type: sdn.TypeIPv4, Admin: 0x0a000001, Assigned: 1}},
				ImportRTs: []sdn.RouteTarget{rt(8000000), rt(7)}, ExportRTs: []sdn.RouteTarget{rt(8000000)}},
			Routers: []sdn.VirtualRouter{{Partition: "p1", Tenant: id, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
			State:   sdn.TenantActive, Pending: true,
		}
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, sdn.ErrTenantNotFound) {
		t.Errorf("Get of missing tenant: %v, want ErrTenantNotFound", err)
	}
	a := rec("a")
	if err := s.Put(ctx, a); err != nil {
		t.Fatalf("Put: %v", err)
	}
	a.Binding.RD["p1"] = sdn.RouteDistinguisher{}
	a.Routers[0].Prefixes[0] = netip.Prefix{}
	got, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if want := rec("a"); !equalRecords(got, want) {
		t.Errorf("Get after Put (and after the caller modified its copy) = %+v, want %+v", got, want)
	}
	got.Routers[0].Prefixes = nil
	if again, _ := s.Get(ctx, "a"); !equalRecords(again, rec("a")) {
		t.Error("modifying a record returned by Get changed the stored one")
	}
	if err := s.Put(ctx, rec("c")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, rec("b")); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list {
		ids = append(ids, r.Spec.ID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Errorf("List = %v, want [a b c]", ids)
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, sdn.ErrTenantNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(cctx, "a"); err == nil {
		t.Error("Get ignored a cancelled context")
	}
	if err := s.Put(cctx, rec("d")); err == nil {
		t.Error("Put ignored a cancelled context")
	}
	if _, err := s.List(cctx); err == nil {
		t.Error("List ignored a cancelled context")
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("w%d", i)
			for range 20 {
				if err := s.Put(ctx, rec(id)); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Get(ctx, id); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func equalRecords(a, b sdn.TenantRecord) bool {
	if a.Spec.ID != b.Spec.ID || a.Spec.Name != b.Spec.Name || !slices.Equal(a.Spec.ExtraImportRTs, b.Spec.ExtraImportRTs) ||
		a.State != b.State || a.Pending != b.Pending || len(a.Routers) != len(b.Routers) {
		return false
	}
	for i := range a.Routers {
		if a.Routers[i].Partition != b.Routers[i].Partition || !slices.Equal(a.Routers[i].Prefixes, b.Routers[i].Prefixes) {
			return false
		}
	}
	x, y := a.Binding, b.Binding
	if x.VNI != y.VNI || x.VLAN != y.VLAN || x.VRF != y.VRF || x.BGPInstance != y.BGPInstance ||
		!slices.Equal(x.ImportRTs, y.ImportRTs) || !slices.Equal(x.ExportRTs, y.ExportRTs) || len(x.RD) != len(y.RD) {
		return false
	}
	for k, v := range x.RD {
		if y.RD[k] != v {
			return false
		}
	}
	return true
}

// CheckRouteController runs the same checks as TestRouteController
// outside a test (for a start-up self-check against real gear, or to prove
// the suite fails a broken controller) and returns the failures joined, or
// nil. Each check gets a fresh Setup from newSetup.
func CheckRouteController(ctx context.Context, newSetup func() (Setup, error)) error {
	var errs []error
	for _, c := range routeChecks {
		s, err := newSetup()
		if err != nil {
			return fmt.Errorf("sdntest: new setup: %w", err)
		}
		cctx, cancel := context.WithTimeout(ctx, s.settle()+30*time.Second)
		err = c.run(cctx, s)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("sdntest: %s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

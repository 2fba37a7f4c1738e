package sdn_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/payedge/payedge/sdn"
)

var testParts = []sdn.Partition{
	{ID: "p1", ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1"), Kind: "frr"},
	{ID: "p2", ASN: 65002, RouterID: netip.MustParseAddr("10.255.0.2"), Kind: "tungsten"},
	{ID: "p3", ASN: 65003, RouterID: netip.MustParseAddr("10.255.0.3"), Kind: "nsx"},
}

// flaky is a fabric router that fails calls while failing() says so.
type flaky struct {
	*sdn.FabricRouter
	mu   sync.Mutex
	rng  *rand.Rand
	rate float64
}

var errInjected = errors.New("injected failure")

func (f *flaky) fail() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate > 0 && f.rng.Float64() < f.rate {
		return errInjected
	}
	return nil
}

func (f *flaky) setRate(r float64) { f.mu.Lock(); f.rate = r; f.mu.Unlock() }

func (f *flaky) EnsureVRF(ctx context.Context, s sdn.VRFSpec) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.FabricRouter.EnsureVRF(ctx, s)
}

func (f *flaky) DeleteVRF(ctx context.Context, n string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.FabricRouter.DeleteVRF(ctx, n)
}

func (f *flaky) EnsureBGPInstance(ctx context.Context, s sdn.BGPSpec) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.FabricRouter.EnsureBGPInstance(ctx, s)
}

func (f *flaky) DeleteBGPInstance(ctx context.Context, n string) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.FabricRouter.DeleteBGPInstance(ctx, n)
}

type world struct {
	fabric  *sdn.Fabric
	routers map[string]*flaky
	store   *sdn.MemoryStore
	cfg     sdn.Config
}

func newWorld(t testing.TB, seed uint64) *world {
	t.Helper()
	f, err := sdn.NewFabric(testParts...)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{fabric: f, routers: map[string]*flaky{}, store: sdn.NewMemoryStore(), cfg: sdn.Config{Partitions: testParts}}
	for _, p := range testParts {
		r, _ := f.Router(p.ID)
		w.routers[p.ID] = &flaky{FabricRouter: r, rng: rand.New(rand.NewPCG(seed, uint64(len(w.routers))))}
	}
	return w
}

func (w *world) rcs() map[string]sdn.RouteController {
	m := map[string]sdn.RouteController{}
	for id, r := range w.routers {
		m[id] = r
	}
	return m
}

func (w *world) controller(t testing.TB) *sdn.Controller {
	t.Helper()
	c, err := sdn.NewController(context.Background(), w.cfg, w.store, w.rcs())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) setFailureRate(r float64) {
	for _, f := range w.routers {
		f.setRate(r)
	}
}

// checkConnectivity verifies, from the fabric's computed routes, that each
// live tenant's routers reach each other across partitions and that no
// VRF holds a route originated by another tenant's VRF.
func checkConnectivity(t testing.TB, w *world, c *sdn.Controller) {
	t.Helper()
	ctx := context.Background()
	rdOwner := map[sdn.RouteDistinguisher]string{}
	for _, id := range c.Tenants() {
		rec, err := c.Tenant(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, rd := range rec.Binding.RD {
			rdOwner[rd] = id
		}
	}
	for _, id := range c.Tenants() {
		rec, _ := c.Tenant(id)
		if rec.State != sdn.TenantActive {
			t.Errorf("tenant %s still %v after reconcile", id, rec.State)
			continue
		}
		for _, p := range testParts {
			got, err := w.routers[p.ID].ReceivedRoutes(ctx, rec.Binding.VRF)
			if err != nil {
				t.Errorf("tenant %s partition %s: %v", id, p.ID, err)
				continue
			}
			for _, r := range got {
				if rdOwner[r.RD] != id {
					t.Errorf("isolation: VRF %s in %s received %v from tenant %q", rec.Binding.VRF, p.ID, r.Prefix, rdOwner[r.RD])
				}
			}
			var want []netip.Prefix
			for _, vr := range rec.Routers {
				if vr.Partition != p.ID {
					want = append(want, vr.Prefixes...)
				}
			}
			var have []netip.Prefix
			for _, r := range got {
				have = append(have, r.Prefix)
			}
			for _, pr := range want {
				if !slices.Contains(have, pr) {
					t.Errorf("reach: tenant %s in %s does not receive %v", id, p.ID, pr)
				}
			}
			if len(have) != len(want) {
				t.Errorf("tenant %s in %s receives %v, want %v", id, p.ID, have, want)
			}
		}
	}
	// No VRF left that belongs to no live tenant.
	live := map[string]bool{}
	for _, id := range c.Tenants() {
		live[sdn.VRFName(id)] = true
	}
	for _, p := range testParts {
		states, _ := w.routers[p.ID].ListVRFs(ctx)
		if len(states) != len(live) {
			t.Errorf("partition %s has %d VRFs, want %d", p.ID, len(states), len(live))
		}
		for _, s := range states {
			if !live[s.VRF.Name] {
				t.Errorf("partition %s keeps VRF %s of no live tenant", p.ID, s.VRF.Name)
			}
		}
	}
	u := c.Usage()
	n := len(c.Tenants())
	rts := map[sdn.RouteTarget]bool{}
	for _, id := range c.Tenants() {
		rec, _ := c.Tenant(id)
		for _, rt := range rec.Binding.ExportRTs {
			rts[rt] = true
		}
	}
	if u.VNIs != n || u.RouteTargets != len(rts) {
		t.Errorf("pools hold %d VNIs and %d RTs for %d tenants exporting %d RTs", u.VNIs, u.RouteTargets, n, len(rts))
	}
	for _, p := range testParts {
		if u.RDs[p.ID] != n {
			t.Errorf("partition %s RD pool holds %d for %d tenants", p.ID, u.RDs[p.ID], n)
		}
	}
}

func router(part string, prefixes ...string) sdn.VirtualRouter {
	vr := sdn.VirtualRouter{Partition: part}
	for _, p := range prefixes {
		vr.Prefixes = append(vr.Prefixes, netip.MustParsePrefix(p))
	}
	return vr
}

func tenantID(i int) string { return fmt.Sprintf("tenant-%02d", i) }

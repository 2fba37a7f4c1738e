package sdn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/payedge/payedge/sdn"
)

// injector numbers every call the controller makes (to every partition's
// router and to the Store) and fails the ones its mode selects.
type injector struct {
	mu      sync.Mutex
	n       int  // calls made so far
	k       int  // the call that fails first (-1: none)
	span    int  // how many calls from k fail (0: all from k on)
	store   bool // inject into Store calls instead of router calls
	crashed bool // a failure was injected since the last restart
	// cancel, when set, is called at call k instead of failing it: the
	// operation's context is cancelled under it.
	cancel  context.CancelFunc
	cancels bool
}

var errCallK = errors.New("injected failure at call k")

func (in *injector) call(store bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := in.n
	in.n++
	if in.k < 0 || store != in.store || i < in.k || (in.span > 0 && i >= in.k+in.span) {
		return nil
	}
	in.crashed = true
	if in.cancels {
		if in.cancel != nil {
			in.cancel()
		}
		return nil // the callee sees the cancelled context
	}
	return errCallK
}

// kRouter wraps a partition's router (a VRFLister and RevisionReporter)
// and fails calls the injector selects, listing and revisions included.
type kRouter struct {
	in *injector
	r  *flaky
}

func (k kRouter) EnsureVRF(ctx context.Context, s sdn.VRFSpec) error {
	if err := k.in.call(false); err != nil {
		return err
	}
	return k.r.EnsureVRF(ctx, s)
}

func (k kRouter) DeleteVRF(ctx context.Context, n string) error {
	if err := k.in.call(false); err != nil {
		return err
	}
	return k.r.DeleteVRF(ctx, n)
}

func (k kRouter) EnsureBGPInstance(ctx context.Context, s sdn.BGPSpec) error {
	if err := k.in.call(false); err != nil {
		return err
	}
	return k.r.EnsureBGPInstance(ctx, s)
}

func (k kRouter) DeleteBGPInstance(ctx context.Context, n string) error {
	if err := k.in.call(false); err != nil {
		return err
	}
	return k.r.DeleteBGPInstance(ctx, n)
}

func (k kRouter) AdvertisedRoutes(ctx context.Context, v string) ([]sdn.Route, error) {
	if err := k.in.call(false); err != nil {
		return nil, err
	}
	return k.r.AdvertisedRoutes(ctx, v)
}

func (k kRouter) ReceivedRoutes(ctx context.Context, v string) ([]sdn.Route, error) {
	if err := k.in.call(false); err != nil {
		return nil, err
	}
	return k.r.ReceivedRoutes(ctx, v)
}

func (k kRouter) ListVRFs(ctx context.Context) ([]sdn.VRFState, error) {
	if err := k.in.call(false); err != nil {
		return nil, err
	}
	return k.r.ListVRFs(ctx)
}

func (k kRouter) Revision(ctx context.Context) (uint64, error) {
	if err := k.in.call(false); err != nil {
		return 0, err
	}
	return k.r.Revision(ctx)
}

// kStore wraps a Store and fails calls the injector selects.
type kStore struct {
	in *injector
	s  sdn.Store
}

func (k kStore) Get(ctx context.Context, id string) (sdn.TenantRecord, error) {
	if err := k.in.call(true); err != nil {
		return sdn.TenantRecord{}, err
	}
	return k.s.Get(ctx, id)
}

func (k kStore) Put(ctx context.Context, r sdn.TenantRecord) error {
	if err := k.in.call(true); err != nil {
		return err
	}
	return k.s.Put(ctx, r)
}

func (k kStore) Delete(ctx context.Context, id string) error {
	if err := k.in.call(true); err != nil {
		return err
	}
	return k.s.Delete(ctx, id)
}

func (k kStore) List(ctx context.Context) ([]sdn.TenantRecord, error) {
	if err := k.in.call(true); err != nil {
		return nil, err
	}
	return k.s.List(ctx)
}

type faultRun struct {
	w  *world
	in *injector
	// plain hides VRFLister and RevisionReporter, so the controller works
	// from what it applied.
	plain bool
}

func (r *faultRun) controller(t *testing.T) *sdn.Controller {
	t.Helper()
	m := map[string]sdn.RouteController{}
	for id, fr := range r.w.routers {
		kr := kRouter{in: r.in, r: fr}
		if r.plain {
			m[id] = sdn.Wrap(kr)
		} else {
			m[id] = kr
		}
	}
	for {
		c, err := sdn.NewController(t.Context(), r.w.cfg, kStore{in: r.in, s: r.w.store}, m)
		if err == nil {
			return c
		}
		if !errors.Is(err, errCallK) {
			t.Fatalf("restart: %v", err)
		}
		// The Store failed while loading: the outage ends, try again.
		r.in.mu.Lock()
		r.in.k = -1
		r.in.mu.Unlock()
	}
}

// faultScenario runs a fixed sequence of operations. With restart set, a
// controller that saw an injected failure is replaced by a new one loaded
// from the Store before the next operation (a crash between two calls).
func faultScenario(t *testing.T, r *faultRun, restart bool) *sdn.Controller {
	ctx := t.Context()
	c := r.controller(t)
	rt := func(n uint32) sdn.RouteTarget { return sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 65100, Assigned: n} }
	ops := []func(){
		func() { c.CreateTenant(ctx, sdn.TenantSpec{ID: "a"}) },
		func() {
			c.CreateTenant(ctx, sdn.TenantSpec{ID: "b", VLAN: 42, ExtraImportRTs: []sdn.RouteTarget{rt(7)}})
		},
		func() {
			c.CreateTenant(ctx, sdn.TenantSpec{ID: "c", RouteTarget: rt(9), ExtraExportRTs: []sdn.RouteTarget{rt(8)}})
		},
		func() { c.AttachRouter(ctx, "a", router("p1", "10.0.1.0/24")) },
		func() { c.AttachRouter(ctx, "a", router("p2", "10.0.2.0/24")) },
		func() { c.AttachRouter(ctx, "a", router("p3", "10.0.3.0/24")) },
		func() { c.AttachRouter(ctx, "b", router("p1", "10.0.1.0/24")) },
		func() { c.AttachRouter(ctx, "b", router("p3", "10.0.3.0/24")) },
		func() { c.AttachRouter(ctx, "c", router("p2", "10.9.0.0/16")) },
		func() { c.Reconcile(ctx) },
		func() { c.DetachRouter(ctx, "a", "p2") },
		func() { c.AttachRouter(ctx, "b", router("p1", "10.0.1.0/25", "10.0.1.128/25")) },
		func() { c.DeleteTenant(ctx, "c") },
		func() { c.CreateTenant(ctx, sdn.TenantSpec{ID: "d", ExtraImportRTs: []sdn.RouteTarget{rt(10)}}) },
		func() { c.AttachRouter(ctx, "d", router("p1", "10.0.1.0/24")) },
		func() { c.DeleteTenant(ctx, "a") },
		func() { c.Reconcile(ctx) },
	}
	base := ctx
	for _, op := range ops {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(base)
		r.in.mu.Lock()
		r.in.cancel = cancel
		r.in.mu.Unlock()
		op()
		cancel()
		r.in.mu.Lock()
		crashed := r.in.crashed
		r.in.crashed = false
		if restart && crashed {
			r.in.k = -1 // the crash is over
		}
		r.in.mu.Unlock()
		if restart && crashed {
			c = r.controller(t)
		}
	}
	return c
}

type tenantView struct {
	ID      string
	Routers []sdn.VirtualRouter
}

func viewOf(c *sdn.Controller) []tenantView {
	var v []tenantView
	for _, id := range c.Tenants() {
		rec, _ := c.Tenant(id)
		v = append(v, tenantView{id, rec.Routers})
	}
	return v
}

func sameView(a, b []tenantView) bool {
	return slices.EqualFunc(a, b, func(x, y tenantView) bool {
		return x.ID == y.ID && slices.EqualFunc(x.Routers, y.Routers, func(p, q sdn.VirtualRouter) bool {
			return p.Partition == q.Partition && slices.Equal(p.Prefixes, q.Prefixes)
		})
	})
}

// TestFailureAtEveryCall injects a failure at call k, for every k the
// scenario makes, into the partitions' routers (listing and revisions
// included) or into the Store; either one call fails, a partition stays
// down for several calls, or every call from k fails until the controller
// is restarted from the Store. After the failures stop, one Reconcile must
// converge: every live tenant's routers reach each other, no route crosses
// tenants, no VRF of a dead tenant is left, the pools hold exactly the live
// tenants' identifiers, a second Reconcile changes nothing and a restarted
// controller plans nothing. Where only router calls failed, the tenants
// end exactly as in a run without failures.
func TestFailureAtEveryCall(t *testing.T) {
	for _, plain := range []bool{false, true} {
		ref := &faultRun{w: newWorld(t, 11), in: &injector{k: -1}, plain: plain}
		want := viewOf(faultScenario(t, ref, false))
		n := ref.in.n
		if len(want) != 2 || n < 50 {
			t.Fatalf("reference run: %d tenants after %d calls", len(want), n)
		}
		for _, mode := range []struct {
			name                    string
			span                    int
			store, restart, cancels bool
		}{
			{"cancel", 1, false, false, true},
			{"store-cancel", 1, true, false, true},
			{"one", 1, false, false, false},
			{"down", 6, false, false, false},
			{"crash", 0, false, true, false},
			{"store-one", 1, true, false, false},
			{"store-crash", 0, true, true, false},
		} {
			for k := range n {
				ok := t.Run(fmt.Sprintf("plain=%v/%s/k=%d", plain, mode.name, k), func(t *testing.T) {
					r := &faultRun{w: newWorld(t, 11), in: &injector{k: k, span: mode.span, store: mode.store, cancels: mode.cancels}, plain: plain}
					c := faultScenario(t, r, mode.restart)
					r.in.mu.Lock()
					r.in.k, r.in.cancel = -1, nil
					r.in.mu.Unlock()
					ctx := t.Context()
					if _, err := c.Reconcile(ctx); err != nil {
						t.Fatalf("final reconcile: %v", err)
					}
					checkConnectivity(t, r.w, c)
					if rep, err := c.Reconcile(ctx); err != nil || len(rep.Changes) != 0 || rep.Pending != 0 {
						t.Errorf("second reconcile: %d changes, %d pending, %v", len(rep.Changes), rep.Pending, err)
					}
					// A restarted controller knows a partition without
					// VRFLister only after re-applying it.
					if plan, err := r.controller(t).Plan(ctx); err != nil || (!plain && len(plan) != 0) {
						t.Errorf("restarted controller plans %v, %v", plan, err)
					}
					if got := viewOf(c); !mode.store && !sameView(got, want) {
						t.Errorf("tenants %+v, want %+v", got, want)
					}
				})
				if !ok {
					break // one failing k per mode is enough to read
				}
			}
		}
	}
}

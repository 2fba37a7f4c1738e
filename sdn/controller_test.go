package sdn_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/sdn"
)

func TestCreateAttachReach(t *testing.T) {
	w := newWorld(t, 1)
	c := w.controller(t)
	ctx := t.Context()
	for i := range 3 {
		b, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(i)})
		if err != nil {
			t.Fatal(err)
		}
		if b.VNI == 0 || len(b.RD) != 3 || len(b.ExportRTs) != 1 || b.VRF != "t-"+tenantID(i) {
			t.Errorf("binding %+v", b)
		}
		for j, p := range testParts {
			// Every tenant uses the same address plan: VRFs keep them apart.
			if err := c.AttachRouter(ctx, tenantID(i), router(p.ID, fmt.Sprintf("10.%d.0.0/16", j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkConnectivity(t, w, c)
	// Idempotence: the same calls again change nothing.
	plan, err := c.Plan(ctx)
	if err != nil || len(plan) != 0 {
		t.Errorf("Plan after apply: %v, %v; want nothing", plan, err)
	}
	b0, _ := c.Tenant(tenantID(0))
	again, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(0)})
	if err != nil || again.VNI != b0.Binding.VNI {
		t.Errorf("re-create: %+v, %v", again, err)
	}
	if err := c.AttachRouter(ctx, tenantID(0), router("p1", "10.0.0.0/16")); err != nil {
		t.Error(err)
	}
	rep, err := c.Reconcile(ctx)
	if err != nil || len(rep.Changes) != 0 {
		t.Errorf("no-op reconcile made %d changes, %v", len(rep.Changes), err)
	}
	// Detach withdraws the router's prefixes everywhere.
	if err := c.DetachRouter(ctx, tenantID(0), "p1"); err != nil {
		t.Fatal(err)
	}
	checkConnectivity(t, w, c)
	if err := c.DetachRouter(ctx, tenantID(0), "p1"); !errors.Is(err, sdn.ErrRouterNotFound) {
		t.Errorf("second detach: %v", err)
	}
	// Delete tears down and frees identifiers.
	if err := c.DeleteTenant(ctx, tenantID(1)); err != nil {
		t.Fatal(err)
	}
	checkConnectivity(t, w, c)
	if err := c.DeleteTenant(ctx, tenantID(1)); !errors.Is(err, sdn.ErrTenantNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestConflictsAndBadInput(t *testing.T) {
	w := newWorld(t, 2)
	c := w.controller(t)
	ctx := t.Context()
	manual := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 100}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "a", VNI: 5000, RouteTarget: manual}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		spec sdn.TenantSpec
		want error
	}{
		{"bad id", sdn.TenantSpec{ID: "Bad_ID"}, sdn.ErrInvalid},
		{"vni too big", sdn.TenantSpec{ID: "b", VNI: 1 << 24}, sdn.ErrInvalid},
		{"duplicate manual vni", sdn.TenantSpec{ID: "b", VNI: 5000}, sdn.ErrConflict},
		{"duplicate rt", sdn.TenantSpec{ID: "b", RouteTarget: manual}, sdn.ErrConflict},
		{"manual rt in auto range", sdn.TenantSpec{ID: "b", RouteTarget: sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 8000005}}, sdn.ErrConflict},
		{"import leaks a's routes", sdn.TenantSpec{ID: "b", ExtraImportRTs: []sdn.RouteTarget{manual}}, sdn.ErrConflict},
		{"a with another spec", sdn.TenantSpec{ID: "a", VNI: 5001}, sdn.ErrConflict},
	}
	before := c.Usage()
	for _, tc := range cases {
		if _, err := c.CreateTenant(ctx, tc.spec); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if after := c.Usage(); after.VNIs != before.VNIs || after.RouteTargets != before.RouteTargets || after.RDs["p1"] != before.RDs["p1"] {
		t.Errorf("failed creates leaked identifiers: %+v → %+v", before, after)
	}
	if err := c.AttachRouter(ctx, "a", router("p9", "10.0.0.0/24")); !errors.Is(err, sdn.ErrUnknownPartition) {
		t.Errorf("unknown partition: %v", err)
	}
	if err := c.AttachRouter(ctx, "a", router("p1", "10.0.0.0/24", "10.0.0.128/25")); !errors.Is(err, sdn.ErrOverlap) {
		t.Errorf("overlap inside a router: %v", err)
	}
	if err := c.AttachRouter(ctx, "a", router("p1", "10.0.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachRouter(ctx, "a", router("p2", "10.0.0.0/16")); !errors.Is(err, sdn.ErrOverlap) {
		t.Errorf("overlap across the tenant's routers: %v", err)
	}
	if err := c.AttachRouter(ctx, "a", router("p2", "10.0.0.1/24")); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("unmasked prefix: %v", err)
	}
	if err := c.AttachRouter(ctx, "zz", router("p2", "10.9.0.0/24")); !errors.Is(err, sdn.ErrTenantNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	bad := sdn.Config{Partitions: []sdn.Partition{{ID: "x", ASN: 0, RouterID: testParts[0].RouterID}}}
	if err := bad.Validate(); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("ASN 0: %v", err)
	}
	twins := sdn.Config{Partitions: []sdn.Partition{testParts[0], {ID: "p9", ASN: 65009, RouterID: testParts[0].RouterID}}}
	if err := twins.Validate(); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("two partitions with one router id (their RDs would collide): %v", err)
	}
	for _, asn := range []uint32{0, 23456, 64496, 65535, 65551, 70000, 4294967295} {
		if sdn.ValidASN(asn) {
			t.Errorf("ValidASN(%d) = true", asn)
		}
	}
	for _, asn := range []uint32{1, 64512, 65001, 131072, 4200000000} {
		if !sdn.ValidASN(asn) {
			t.Errorf("ValidASN(%d) = false", asn)
		}
	}
}

func TestPoolExhausted(t *testing.T) {
	w := newWorld(t, 3)
	w.cfg.VNIRange = sdn.Range{Lo: 10000, Hi: 10001}
	c := w.controller(t)
	ctx := t.Context()
	for i := range 2 {
		if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(2)}); !errors.Is(err, sdn.ErrPoolExhausted) {
		t.Fatalf("third tenant: %v, want ErrPoolExhausted", err)
	}
	if u := c.Usage(); u.RDs["p1"] != 2 || u.RouteTargets != 2 {
		t.Errorf("exhausted create leaked: %+v", u)
	}
	if err := c.DeleteTenant(ctx, tenantID(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(2)}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}

// A partition failing half-way leaves the tenant pending; Reconcile, even
// from a restarted controller, finishes the work.
func TestPartialFailureThenReconcile(t *testing.T) {
	w := newWorld(t, 4)
	c := w.controller(t)
	ctx := t.Context()
	w.routers["p2"].setRate(1)
	b, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "red"})
	var ae *sdn.ApplyError
	if !errors.As(err, &ae) || ae.Partition != "p2" || !errors.Is(err, errInjected) {
		t.Fatalf("create with p2 down: %v, want an ApplyError for p2", err)
	}
	if b.VNI == 0 {
		t.Error("binding not returned with the apply error")
	}
	rec, _ := w.store.Get(ctx, "red")
	if !rec.Pending {
		t.Error("record not pending after a partial failure")
	}
	if err := c.AttachRouter(ctx, "red", router("p1", "10.1.0.0/24")); err == nil {
		t.Error("attach with p2 down succeeded")
	}
	if err := c.AttachRouter(ctx, "red", router("p3", "10.3.0.0/24")); err == nil {
		t.Error("attach with p2 down succeeded")
	}
	w.routers["p2"].setRate(0)
	c2 := w.controller(t) // restart
	rep, err := c2.Reconcile(ctx)
	if err != nil || rep.Pending != 0 {
		t.Fatalf("reconcile: %+v, %v", rep, err)
	}
	checkConnectivity(t, w, c2)
	if rec, _ := w.store.Get(ctx, "red"); rec.Pending {
		t.Error("still pending after reconcile")
	}
}

func TestReconcileRepairsDrift(t *testing.T) {
	w := newWorld(t, 5)
	c := w.controller(t)
	ctx := t.Context()
	for i := range 3 {
		if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(i)}); err != nil {
			t.Fatal(err)
		}
		for _, p := range testParts {
			if err := c.AttachRouter(ctx, tenantID(i), router(p.ID, "192.168."+p.ID[1:]+".0/24")); err != nil {
				t.Fatal(err)
			}
		}
	}
	r1 := w.routers["p1"].FabricRouter
	// Someone deletes a tenant's instance and VRF behind the controller's back,
	// changes another's RTs, and leaves a VRF of a tenant that never existed.
	r1.DeleteBGPInstance(ctx, "t-"+tenantID(0))
	r1.DeleteVRF(ctx, "t-"+tenantID(0))
	rec, _ := c.Tenant(tenantID(1))
	v := sdn.VRFSpec{Name: rec.Binding.VRF, VNI: rec.Binding.VNI, RD: rec.Binding.RD["p1"],
		ImportRTs: []sdn.RouteTarget{{Type: sdn.TypeAS2, Admin: 1, Assigned: 1}}, ExportRTs: rec.Binding.ExportRTs}
	r1.EnsureVRF(ctx, v)
	r1.EnsureVRF(ctx, sdn.VRFSpec{Name: "t-ghost", RD: sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 999}})
	r1.EnsureVRF(ctx, sdn.VRFSpec{Name: "mgmt", RD: sdn.RouteDistinguisher{Type: sdn.TypeIPv4, Admin: 1, Assigned: 998}})
	plan, err := c.Plan(ctx)
	if err != nil || len(plan) == 0 {
		t.Fatalf("Plan found no drift: %v", err)
	}
	if _, err := c.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r1.AdvertisedRoutes(ctx, "mgmt"); err != nil {
		t.Errorf("reconcile touched an unmanaged VRF: %v", err)
	}
	r1.DeleteVRF(ctx, "mgmt")
	checkConnectivity(t, w, c)
}

func TestReconcileCancelled(t *testing.T) {
	w := newWorld(t, 6)
	c := w.controller(t)
	ctx := t.Context()
	w.setFailureRate(1)
	for i := range 5 {
		c.CreateTenant(ctx, sdn.TenantSpec{ID: tenantID(i)})
	}
	w.setFailureRate(0)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Reconcile(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reconcile: %v", err)
	}
	if _, err := c.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	checkConnectivity(t, w, c)
}

// Property: random create/attach/detach/delete/reconcile/restart with
// injected controller failures; after failures stop and a final reconcile,
// every tenant's routers reach each other, no route crosses tenants, no VRF
// of a dead tenant remains and the pools hold exactly the live tenants'
// identifiers.
func TestRandomOperationsConverge(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 8
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			w := newWorld(t, seed)
			w.setFailureRate(0.15)
			c := w.controller(t)
			ctx := t.Context()
			for range 150 {
				id := tenantID(rng.IntN(12))
				p := testParts[rng.IntN(len(testParts))].ID
				switch op := rng.IntN(20); {
				case op < 5:
					c.CreateTenant(ctx, sdn.TenantSpec{ID: id})
				case op < 11:
					c.AttachRouter(ctx, id, router(p, fmt.Sprintf("10.%s.%d.0/24", p[1:], rng.IntN(4))))
				case op < 14:
					c.DetachRouter(ctx, id, p)
				case op < 16:
					c.DeleteTenant(ctx, id)
				case op < 18:
					c.Reconcile(ctx)
				default:
					c = w.controller(t) // restart from the store
				}
			}
			w.setFailureRate(0)
			if _, err := c.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			checkConnectivity(t, w, c)
			rep, err := c.Reconcile(ctx)
			if err != nil || len(rep.Changes) != 0 || rep.Pending != 0 {
				t.Errorf("second reconcile: %d changes, %d pending, %v", len(rep.Changes), rep.Pending, err)
			}
			// A restarted controller derives the same state.
			c2 := w.controller(t)
			if plan, err := c2.Plan(ctx); err != nil || len(plan) != 0 {
				t.Errorf("restarted controller plans %d changes, %v", len(plan), err)
			}
			if u1, u2 := c.Usage(), c2.Usage(); u1.VNIs != u2.VNIs || u1.RouteTargets != u2.RouteTargets {
				t.Errorf("restart changed pool usage: %+v vs %+v", u1, u2)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	w := newWorld(t, 7)
	c := w.controller(t)
	ctx := t.Context()
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 10 {
				id := fmt.Sprintf("g%d-%d", g, i)
				if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: id}); err != nil {
					t.Error(err)
					return
				}
				if err := c.AttachRouter(ctx, id, router(testParts[i%3].ID, "10.0.0.0/24")); err != nil {
					t.Error(err)
				}
				if i%3 == 0 {
					c.Reconcile(ctx)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	checkConnectivity(t, w, c)
}

// VRF names fit a Linux network device name (15 bytes) whatever the tenant
// ID's length, stay unique, and long-ID tenants reach each other and are
// torn down like any other.
func TestLongTenantIDsGetShortVRFNames(t *testing.T) {
	w := newWorld(t, 11)
	c := w.controller(t)
	ctx := t.Context()
	ids := []string{"acme", "acme-payments-europe-west", "acme-payments-europe-east", "0123456789abc", "0123456789abcd"}
	names := map[string]bool{}
	for _, id := range ids {
		b, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.VRF) > sdn.MaxVRFName || b.VRF != sdn.VRFName(id) || names[b.VRF] {
			t.Errorf("tenant %s: VRF name %q (len %d, duplicate %v)", id, b.VRF, len(b.VRF), names[b.VRF])
		}
		names[b.VRF] = true
		for i, p := range testParts {
			if err := c.AttachRouter(ctx, id, router(p.ID, fmt.Sprintf("10.%d.0.0/24", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sdn.VRFName("0123456789abc") != "t-0123456789abc" {
		t.Errorf("a 13-byte ID should keep its name: %s", sdn.VRFName("0123456789abc"))
	}
	checkConnectivity(t, w, c)
	if err := c.DeleteTenant(ctx, "acme-payments-europe-west"); err != nil {
		t.Fatal(err)
	}
	checkConnectivity(t, w, c)
	c2 := w.controller(t) // the names survive a restart from the store
	if plan, err := c2.Plan(ctx); err != nil || len(plan) != 0 {
		t.Errorf("restart plans %d changes, %v", len(plan), err)
	}
}

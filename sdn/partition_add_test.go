package sdn_test

import (
	"testing"

	"github.com/payedge/payedge/sdn"
)

// A region grows: a controller restarted with one more partition gives
// every existing tenant an RD there (recorded in the Store) and a VRF on
// the new partition, and the tenants reach each other through it.
func TestRestartWithNewPartition(t *testing.T) {
	w := newWorld(t, 21)
	ctx := t.Context()
	w.cfg.Partitions = testParts[:2]
	rcs := w.rcs()
	delete(rcs, "p3")
	c, err := sdn.NewController(ctx, w.cfg, w.store, rcs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: id}); err != nil {
			t.Fatal(err)
		}
		if err := c.AttachRouter(ctx, id, router("p1", "10.1.0.0/24")); err != nil {
			t.Fatal(err)
		}
	}
	w.cfg.Partitions = testParts
	c = w.controller(t)
	if _, err := c.Reconcile(ctx); err != nil {
		t.Fatalf("reconcile after adding p3: %v", err)
	}
	if err := c.AttachRouter(ctx, "a", router("p3", "10.3.0.0/24")); err != nil {
		t.Fatal(err)
	}
	checkConnectivity(t, w, c)
	rds := map[sdn.RouteDistinguisher]string{}
	for _, id := range c.Tenants() {
		rec, _ := c.Tenant(id)
		if len(rec.Binding.RD) != 3 {
			t.Errorf("tenant %s has RDs %v", id, rec.Binding.RD)
		}
		for _, rd := range rec.Binding.RD {
			if o, dup := rds[rd]; dup {
				t.Errorf("RD %v of %s and %s", rd, o, id)
			}
			rds[rd] = id
		}
		if stored, _ := w.store.Get(ctx, id); len(stored.Binding.RD) != 3 {
			t.Errorf("stored record of %s has RDs %v", id, stored.Binding.RD)
		}
	}
	// And the restarted controller derives the same.
	if plan, err := w.controller(t).Plan(ctx); err != nil || len(plan) != 0 {
		t.Errorf("restarted controller plans %v, %v", plan, err)
	}
}

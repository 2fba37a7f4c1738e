package sdn_test

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/sdn"
)

// The reverse leak: a tenant created later may not export a route target
// an earlier tenant imports (the earlier one would receive its routes),
// whether as its own RT or as an extra; a restarted controller keeps the
// same claims; once the importer is gone the RT is free.
func TestExportIntoAnotherTenantsImport(t *testing.T) {
	w := newWorld(t, 31)
	c := w.controller(t)
	ctx := t.Context()
	x := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 65100, Assigned: 77}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "imp", ExtraImportRTs: []sdn.RouteTarget{x}}); err != nil {
		t.Fatal(err)
	}
	// Two tenants may both import an RT nobody exports.
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "imp2", ExtraImportRTs: []sdn.RouteTarget{x}}); err != nil {
		t.Fatal(err)
	}
	before := c.Usage()
	for _, ctl := range []*sdn.Controller{c, w.controller(t)} {
		for name, spec := range map[string]sdn.TenantSpec{
			"own RT":       {ID: "exp", RouteTarget: x},
			"extra RT":     {ID: "exp", ExtraExportRTs: []sdn.RouteTarget{x}},
			"both at once": {ID: "exp", ExtraImportRTs: []sdn.RouteTarget{x}, ExtraExportRTs: []sdn.RouteTarget{x}},
		} {
			if _, err := ctl.CreateTenant(ctx, spec); !errors.Is(err, sdn.ErrConflict) {
				t.Errorf("%s: %v, want ErrConflict", name, err)
			}
		}
		if u := ctl.Usage(); u.VNIs != before.VNIs || u.RouteTargets != before.RouteTargets || u.RDs["p1"] != before.RDs["p1"] {
			t.Errorf("refused creates leaked identifiers: %+v → %+v", before, u)
		}
	}
	for _, id := range []string{"imp", "imp2"} {
		if err := c.DeleteTenant(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "exp", RouteTarget: x}); err != nil {
		t.Errorf("after the importers left: %v", err)
	}
	checkConnectivity(t, w, c)
}

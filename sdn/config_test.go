package sdn_test

import (
	"testing"

	"github.com/payedge/payedge/sdn"
)

// A four-octet core AS with the other fields zero is a usable Config: the
// default auto range fits the two-octet number of its type-2 route
// targets, and tenants get them.
func TestFourOctetCoreASN(t *testing.T) {
	w := newWorld(t, 41)
	w.cfg.CoreASN = 4200000000
	if err := w.cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	c := w.controller(t)
	b, err := c.CreateTenant(t.Context(), sdn.TenantSpec{ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if rt := b.ExportRTs[0]; rt.Type != sdn.TypeAS4 || rt.Admin != 4200000000 || rt.Validate() != nil {
		t.Errorf("own route target %+v", rt)
	}
	checkConnectivity(t, w, c)
}

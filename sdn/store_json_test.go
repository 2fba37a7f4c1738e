package sdn_test

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/payedge/payedge/sdn"
)

// A TenantRecord survives JSON, the form pgstore keeps, with unset
// (zero) route targets included.
func TestTenantRecordJSON(t *testing.T) {
	rec := sdn.TenantRecord{
		Spec: sdn.TenantSpec{ID: "acme", ExtraImportRTs: []sdn.RouteTarget{{Type: sdn.TypeAS2, Admin: 1, Assigned: 2}}},
		Binding: sdn.Binding{VNI: 10000, VRF: "t-acme", BGPInstance: "t-acme",
			RD:        map[string]sdn.RouteDistinguisher{"p1": {Type: sdn.TypeIPv4, Admin: 0x0a000001, Assigned: 1}},
			ImportRTs: []sdn.RouteTarget{{Type: sdn.TypeAS4, Admin: 4200000000, Assigned: 7}}},
		Routers: []sdn.VirtualRouter{{Partition: "p1", Tenant: "acme", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}},
		State:   sdn.TenantActive, Pending: true,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var back sdn.TenantRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, back, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

package sdn_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/sdn"
)

// Every exported type's zero value works or returns ErrNotInitialized /
// ErrInvalid / ErrUnsupported; none panics.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	zerotest.Covered(t, "Controller", "Fabric", "FabricRouter", "Pool", "Range", "MemoryStore", "RouteControllerFuncs",
		"RouteDistinguisher", "RouteTarget", "Partition", "VRFSpec", "BGPSpec", "Binding", "TenantRecord",
		"TenantState", "AddressFamily", "Op", "Change", "ApplyError", "Config")
	is := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	var c sdn.Controller
	_, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: "a"})
	is("Controller.CreateTenant", err, sdn.ErrNotInitialized)
	is("Controller.AttachRouter", c.AttachRouter(ctx, "a", sdn.VirtualRouter{}), sdn.ErrNotInitialized)
	is("Controller.DetachRouter", c.DetachRouter(ctx, "a", "p"), sdn.ErrNotInitialized)
	is("Controller.DeleteTenant", c.DeleteTenant(ctx, "a"), sdn.ErrNotInitialized)
	_, err = c.Reconcile(ctx)
	is("Controller.Reconcile", err, sdn.ErrNotInitialized)
	_, err = c.Plan(ctx)
	is("Controller.Plan", err, sdn.ErrNotInitialized)
	_, err = c.Tenant("a")
	is("Controller.Tenant", err, sdn.ErrNotInitialized)
	_, err = c.RenderFRR("p")
	is("Controller.RenderFRR", err, sdn.ErrNotInitialized)
	if c.Tenants() != nil || c.Usage().VNIs != 0 {
		t.Error("zero Controller lists tenants")
	}
	var f sdn.Fabric
	_, err = f.Router("p")
	is("Fabric.Router", err, sdn.ErrNotInitialized)
	if len(f.Routers()) != 0 {
		t.Error("zero Fabric has routers")
	}
	var r sdn.FabricRouter
	is("FabricRouter.EnsureVRF", r.EnsureVRF(ctx, sdn.VRFSpec{}), sdn.ErrNotInitialized)
	is("FabricRouter.DeleteVRF", r.DeleteVRF(ctx, "x"), sdn.ErrNotInitialized)
	is("FabricRouter.EnsureBGPInstance", r.EnsureBGPInstance(ctx, sdn.BGPSpec{}), sdn.ErrNotInitialized)
	is("FabricRouter.DeleteBGPInstance", r.DeleteBGPInstance(ctx, "x"), sdn.ErrNotInitialized)
	_, err = r.AdvertisedRoutes(ctx, "x")
	is("FabricRouter.AdvertisedRoutes", err, sdn.ErrNotInitialized)
	_, err = r.ReceivedRoutes(ctx, "x")
	is("FabricRouter.ReceivedRoutes", err, sdn.ErrNotInitialized)
	_, err = r.ListVRFs(ctx)
	is("FabricRouter.ListVRFs", err, sdn.ErrNotInitialized)
	_ = r.Partition()
	var p sdn.Pool
	_, err = p.Allocate()
	is("Pool.Allocate", err, sdn.ErrNotInitialized)
	is("Pool.Reserve", p.Reserve(1), sdn.ErrNotInitialized)
	is("Pool.Release", p.Release(1), sdn.ErrNotInitialized)
	if p.InUse(0) || p.Used() != 0 || p.Free() != 0 || p.Range() != (sdn.Range{}) {
		t.Error("zero Pool not empty")
	}
	var rg sdn.Range
	if !rg.Contains(0) || rg.Size() != 1 || rg.String() != "0-0" {
		t.Error("zero Range")
	}
	var ms sdn.MemoryStore
	_, err = ms.Get(ctx, "a")
	is("MemoryStore.Get", err, sdn.ErrTenantNotFound)
	if l, err := ms.List(ctx); err != nil || len(l) != 0 {
		t.Error("zero MemoryStore.List")
	}
	if err := ms.Delete(ctx, "a"); err != nil {
		t.Error(err)
	}
	is("MemoryStore.Put", ms.Put(ctx, sdn.TenantRecord{}), sdn.ErrInvalid)
	var fn sdn.RouteControllerFuncs
	is("RouteControllerFuncs.EnsureVRF", fn.EnsureVRF(ctx, sdn.VRFSpec{}), sdn.ErrUnsupported)
	is("RouteControllerFuncs.DeleteVRF", fn.DeleteVRF(ctx, ""), sdn.ErrUnsupported)
	is("RouteControllerFuncs.EnsureBGPInstance", fn.EnsureBGPInstance(ctx, sdn.BGPSpec{}), sdn.ErrUnsupported)
	is("RouteControllerFuncs.DeleteBGPInstance", fn.DeleteBGPInstance(ctx, ""), sdn.ErrUnsupported)
	_, err = fn.AdvertisedRoutes(ctx, "")
	is("RouteControllerFuncs.AdvertisedRoutes", err, sdn.ErrUnsupported)
	_, err = fn.ReceivedRoutes(ctx, "")
	is("RouteControllerFuncs.ReceivedRoutes", err, sdn.ErrUnsupported)
	var rd sdn.RouteDistinguisher
	is("RouteDistinguisher.Validate", rd.Validate(), sdn.ErrInvalid)
	if b, err := rd.MarshalText(); err != nil || len(b) != 0 {
		t.Errorf("zero RD MarshalText = %q, %v; want empty", b, err)
	}
	_, err = rd.MarshalBinary()
	is("RouteDistinguisher.MarshalBinary", err, sdn.ErrInvalid)
	is("RouteDistinguisher.UnmarshalText", rd.UnmarshalText([]byte("x")), sdn.ErrInvalid)
	is("RouteDistinguisher.UnmarshalBinary", rd.UnmarshalBinary(nil), sdn.ErrInvalid)
	if !rd.IsZero() || rd.String() != "" {
		t.Error("zero RD")
	}
	var rt sdn.RouteTarget
	is("RouteTarget.Validate", rt.Validate(), sdn.ErrInvalid)
	if b, err := rt.MarshalText(); err != nil || len(b) != 0 {
		t.Errorf("zero RT MarshalText = %q, %v; want empty", b, err)
	}
	_, err = rt.MarshalBinary()
	is("RouteTarget.MarshalBinary", err, sdn.ErrInvalid)
	is("RouteTarget.UnmarshalText", rt.UnmarshalText([]byte("x")), sdn.ErrInvalid)
	is("RouteTarget.UnmarshalBinary", rt.UnmarshalBinary(nil), sdn.ErrInvalid)
	if !rt.IsZero() || rt.String() != "" {
		t.Error("zero RT")
	}
	is("Partition.Validate", sdn.Partition{}.Validate(), sdn.ErrInvalid)
	is("VRFSpec.Validate", sdn.VRFSpec{}.Validate(), sdn.ErrInvalid)
	is("BGPSpec.Validate", sdn.BGPSpec{}.Validate(), sdn.ErrInvalid)
	if !(sdn.VRFSpec{}).Equal(sdn.VRFSpec{}) || !(sdn.BGPSpec{}).Equal(sdn.BGPSpec{}) {
		t.Error("zero specs not equal to themselves")
	}
	_ = sdn.Binding{}.Clone()
	_ = sdn.TenantRecord{}.Clone()
	for _, s := range []string{sdn.TenantState(0).String(), sdn.AddressFamily(0).String(), sdn.Op(0).String(), sdn.Change{}.String()} {
		if s == "" {
			t.Error("empty String of a zero value")
		}
	}
	if sdn.AddressFamily(0).Carries(netip.Prefix{}) || sdn.AddressFamily(0).Carries(netip.MustParsePrefix("10.0.0.0/8")) {
		t.Error("zero AddressFamily carries a prefix")
	}
	if (&sdn.ApplyError{}).Error() == "" || (&sdn.ApplyError{}).Unwrap() != nil {
		t.Error("zero ApplyError")
	}
	if err := (sdn.Config{}).Validate(); err != nil {
		t.Errorf("zero Config invalid: %v", err)
	}
}

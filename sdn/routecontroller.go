package sdn

import "context"

// RouteController is what the region-interconnect controller needs from
// one partition's routing gear (an SDN controller's API, an FRR daemon, an
// embedded BGP speaker). One RouteController serves one partition.
//
// Every method takes ctx first, honours cancellation, and is safe for
// concurrent use. The Ensure methods are idempotent: calling one with the
// state that already exists changes nothing and returns nil; calling it
// with a different spec for the same VRF replaces the old state. The
// Delete methods are idempotent too: deleting what does not exist returns
// nil.
type RouteController interface {
	// EnsureVRF creates or updates a VRF with its VNI, RD and route targets.
	EnsureVRF(ctx context.Context, spec VRFSpec) error
	// DeleteVRF removes a VRF. A VRF that still has a BGP instance bound is
	// not deleted: the call returns an error wrapping ErrConflict.
	DeleteVRF(ctx context.Context, name string) error
	// EnsureBGPInstance creates or updates the BGP protocol instance bound
	// to spec.VRF, its neighbours, families and originated networks. The
	// VRF must exist (ErrVRFNotFound otherwise). Networks no longer listed
	// are withdrawn.
	EnsureBGPInstance(ctx context.Context, spec BGPSpec) error
	// DeleteBGPInstance removes the instance bound to a VRF, withdrawing
	// its routes.
	DeleteBGPInstance(ctx context.Context, vrf string) error
	// AdvertisedRoutes returns the routes the VRF's instance originates,
	// sorted by prefix; ErrVRFNotFound for an unknown VRF.
	AdvertisedRoutes(ctx context.Context, vrf string) ([]Route, error)
	// ReceivedRoutes returns the routes imported into the VRF from other
	// VRFs (in this or other partitions) by route target, sorted by prefix
	// then RD; ErrVRFNotFound for an unknown VRF.
	ReceivedRoutes(ctx context.Context, vrf string) ([]Route, error)
}

// VRFState is a VRF as a partition reports it, with its bound BGP
// instance when there is one.
type VRFState struct {
	VRF VRFSpec  // the VRF
	BGP *BGPSpec // its instance, or nil
}

// VRFLister is an optional RouteController capability: listing every VRF
// the partition has, so that Reconcile finds drift (a VRF deleted or
// changed behind the controller's back, a leftover of a deleted tenant)
// instead of only re-applying what it intends. The Controller finds it by
// type assertion.
type VRFLister interface {
	// ListVRFs returns every VRF of the partition, in any order; the
	// caller may keep the result but must not modify it.
	ListVRFs(ctx context.Context) ([]VRFState, error)
}

// RevisionReporter is an optional capability of a VRFLister: a number that
// changes whenever anything ListVRFs would report changes (an entity tag,
// Kubernetes' resourceVersion). Reconcile skips listing a partition whose
// revision, and the controller's own intended state, are those it saw
// when it last found the partition exactly as intended.
type RevisionReporter interface {
	Revision(ctx context.Context) (uint64, error)
}

// RouteControllerFuncs adapts a set of functions to a RouteController, in
// the manner of http.HandlerFunc: handy for wrapping a controller (to
// inject failures, count calls, add tracing) or for a partial controller in
// tests. A nil function makes its method return ErrUnsupported.
type RouteControllerFuncs struct {
	EnsureVRFFunc         func(ctx context.Context, spec VRFSpec) error
	DeleteVRFFunc         func(ctx context.Context, name string) error
	EnsureBGPInstanceFunc func(ctx context.Context, spec BGPSpec) error
	DeleteBGPInstanceFunc func(ctx context.Context, vrf string) error
	AdvertisedRoutesFunc  func(ctx context.Context, vrf string) ([]Route, error)
	ReceivedRoutesFunc    func(ctx context.Context, vrf string) ([]Route, error)
}

var _ RouteController = RouteControllerFuncs{}

// Wrap returns RouteControllerFuncs calling rc's methods, to be overridden
// field by field.
func Wrap(rc RouteController) RouteControllerFuncs {
	return RouteControllerFuncs{
		EnsureVRFFunc:         rc.EnsureVRF,
		DeleteVRFFunc:         rc.DeleteVRF,
		EnsureBGPInstanceFunc: rc.EnsureBGPInstance,
		DeleteBGPInstanceFunc: rc.DeleteBGPInstance,
		AdvertisedRoutesFunc:  rc.AdvertisedRoutes,
		ReceivedRoutesFunc:    rc.ReceivedRoutes,
	}
}

// EnsureVRF calls EnsureVRFFunc.
func (f RouteControllerFuncs) EnsureVRF(ctx context.Context, spec VRFSpec) error {
	if f.EnsureVRFFunc == nil {
		return ErrUnsupported
	}
	return f.EnsureVRFFunc(ctx, spec)
}

// DeleteVRF calls DeleteVRFFunc.
func (f RouteControllerFuncs) DeleteVRF(ctx context.Context, name string) error {
	if f.DeleteVRFFunc == nil {
		return ErrUnsupported
	}
	return f.DeleteVRFFunc(ctx, name)
}

// EnsureBGPInstance calls EnsureBGPInstanceFunc.
func (f RouteControllerFuncs) EnsureBGPInstance(ctx context.Context, spec BGPSpec) error {
	if f.EnsureBGPInstanceFunc == nil {
		return ErrUnsupported
	}
	return f.EnsureBGPInstanceFunc(ctx, spec)
}

// DeleteBGPInstance calls DeleteBGPInstanceFunc.
func (f RouteControllerFuncs) DeleteBGPInstance(ctx context.Context, vrf string) error {
	if f.DeleteBGPInstanceFunc == nil {
		return ErrUnsupported
	}
	return f.DeleteBGPInstanceFunc(ctx, vrf)
}

// AdvertisedRoutes calls AdvertisedRoutesFunc.
func (f RouteControllerFuncs) AdvertisedRoutes(ctx context.Context, vrf string) ([]Route, error) {
	if f.AdvertisedRoutesFunc == nil {
		return nil, ErrUnsupported
	}
	return f.AdvertisedRoutesFunc(ctx, vrf)
}

// ReceivedRoutes calls ReceivedRoutesFunc.
func (f RouteControllerFuncs) ReceivedRoutes(ctx context.Context, vrf string) ([]Route, error) {
	if f.ReceivedRoutesFunc == nil {
		return nil, ErrUnsupported
	}
	return f.ReceivedRoutesFunc(ctx, vrf)
}

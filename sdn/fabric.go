package sdn

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Fabric is an in-memory region: several partitions' routers joined by a
// core that carries VPN routes between them. Each partition's router is a
// RouteController (Fabric.Router). Routes propagate exactly as RFC 4364
// section 4.3 describes: a route originated in a VRF carries that VRF's RD
// and export route targets, and a VRF (in any partition, including the
// same one) installs it when one of the route's targets is among its
// import targets, provided both VRFs have a BGP instance with an address
// family in common. Connectivity and isolation are computed, not assumed.
//
// A Fabric is safe for concurrent use. It is the reference implementation
// for tests, simulations and examples; it does not forward packets.
type Fabric struct {
	mu    sync.RWMutex
	parts map[string]*FabricRouter
	// exporters indexes VRFs by the route targets they export.
	exporters map[RouteTarget]map[*fabricVRF]struct{}
}

type fabricVRF struct {
	part *FabricRouter
	spec VRFSpec
	bgp  *BGPSpec
}

// FabricRouter is one partition's router in a Fabric; it implements
// RouteController and VRFLister. Obtain it from Fabric.Router; the zero
// value returns ErrNotInitialized.
type FabricRouter struct {
	f    *Fabric
	p    Partition
	vrfs map[string]*fabricVRF
	rev  uint64 // bumped on every change to vrfs (under f.mu)
}

var (
	_ RouteController  = (*FabricRouter)(nil)
	_ VRFLister        = (*FabricRouter)(nil)
	_ RevisionReporter = (*FabricRouter)(nil)
)

// NewFabric returns a fabric with one router per partition. Partitions
// must be valid and have distinct IDs and router IDs.
func NewFabric(partitions ...Partition) (*Fabric, error) {
	f := &Fabric{parts: make(map[string]*FabricRouter), exporters: make(map[RouteTarget]map[*fabricVRF]struct{})}
	ids := map[netip.Addr]string{}
	for _, p := range partitions {
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if _, dup := f.parts[p.ID]; dup {
			return nil, fmt.Errorf("%w: partition %s listed twice", ErrInvalid, p.ID)
		}
		if other, dup := ids[p.RouterID]; dup {
			return nil, fmt.Errorf("%w: partitions %s and %s share router id %v", ErrInvalid, other, p.ID, p.RouterID)
		}
		ids[p.RouterID] = p.ID
		f.parts[p.ID] = &FabricRouter{f: f, p: p, vrfs: make(map[string]*fabricVRF)}
	}
	return f, nil
}

// Router returns the RouteController of a partition, or an error wrapping
// ErrUnknownPartition.
func (f *Fabric) Router(partitionID string) (*FabricRouter, error) {
	if f == nil || f.parts == nil {
		return nil, ErrNotInitialized
	}
	r, ok := f.parts[partitionID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPartition, truncate(partitionID))
	}
	return r, nil
}

// Routers returns every partition's router keyed by partition ID, the
// form NewController takes.
func (f *Fabric) Routers() map[string]RouteController {
	out := make(map[string]RouteController)
	if f == nil {
		return out
	}
	for id, r := range f.parts {
		out[id] = r
	}
	return out
}

// Partition returns the router's partition.
func (r *FabricRouter) Partition() Partition {
	if r == nil {
		return Partition{}
	}
	return r.p
}

func (r *FabricRouter) ready(ctx context.Context) error {
	if r == nil || r.f == nil {
		return ErrNotInitialized
	}
	return ctx.Err()
}

func (f *Fabric) index(v *fabricVRF) {
	for _, rt := range v.spec.ExportRTs {
		m := f.exporters[rt]
		if m == nil {
			m = make(map[*fabricVRF]struct{})
			f.exporters[rt] = m
		}
		m[v] = struct{}{}
	}
}

func (f *Fabric) unindex(v *fabricVRF) {
	for _, rt := range v.spec.ExportRTs {
		if m := f.exporters[rt]; m != nil {
			delete(m, v)
			if len(m) == 0 {
				delete(f.exporters, rt)
			}
		}
	}
}

// EnsureVRF implements RouteController.
func (r *FabricRouter) EnsureVRF(ctx context.Context, spec VRFSpec) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	spec.ImportRTs = sortedRTs(spec.ImportRTs)
	spec.ExportRTs = sortedRTs(spec.ExportRTs)
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if v, ok := r.vrfs[spec.Name]; ok {
		if v.spec.Equal(spec) {
			return nil
		}
		r.f.unindex(v)
		v.spec = spec
		r.f.index(v)
		r.rev++
		return nil
	}
	v := &fabricVRF{part: r, spec: spec}
	r.vrfs[spec.Name] = v
	r.f.index(v)
	r.rev++
	return nil
}

// DeleteVRF implements RouteController.
func (r *FabricRouter) DeleteVRF(ctx context.Context, name string) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	v, ok := r.vrfs[name]
	if !ok {
		return nil
	}
	if v.bgp != nil {
		return fmt.Errorf("%w: VRF %s still has a BGP instance", ErrConflict, name)
	}
	r.f.unindex(v)
	delete(r.vrfs, name)
	r.rev++
	return nil
}

// EnsureBGPInstance implements RouteController.
func (r *FabricRouter) EnsureBGPInstance(ctx context.Context, spec BGPSpec) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	spec.Neighbors = slices.Clone(spec.Neighbors)
	spec.Families = slices.Clone(spec.Families)
	slices.Sort(spec.Families)
	spec.Families = slices.Compact(spec.Families)
	spec.Networks = sortedPrefixes(spec.Networks)
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	v, ok := r.vrfs[spec.VRF]
	if !ok {
		return fmt.Errorf("%w: %s in partition %s", ErrVRFNotFound, spec.VRF, r.p.ID)
	}
	if v.bgp != nil && v.bgp.Equal(spec) {
		return nil
	}
	v.bgp = &spec
	r.rev++
	return nil
}

// DeleteBGPInstance implements RouteController.
func (r *FabricRouter) DeleteBGPInstance(ctx context.Context, vrf string) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if v, ok := r.vrfs[vrf]; ok && v.bgp != nil {
		v.bgp = nil
		r.rev++
	}
	return nil
}

func (v *fabricVRF) routes() []Route {
	if v.bgp == nil {
		return nil
	}
	out := make([]Route, len(v.bgp.Networks))
	for i, p := range v.bgp.Networks {
		out[i] = Route{Prefix: p, RD: v.spec.RD, RTs: v.spec.ExportRTs, Origin: v.part.p.ID}
	}
	return out
}

// AdvertisedRoutes implements RouteController.
func (r *FabricRouter) AdvertisedRoutes(ctx context.Context, vrf string) ([]Route, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	r.f.mu.RLock()
	defer r.f.mu.RUnlock()
	v, ok := r.vrfs[vrf]
	if !ok {
		return nil, fmt.Errorf("%w: %s in partition %s", ErrVRFNotFound, vrf, r.p.ID)
	}
	return cloneRoutes(v.routes()), nil
}

func commonFamily(a, b *BGPSpec) bool {
	for _, f := range a.Families {
		if slices.Contains(b.Families, f) {
			return true
		}
	}
	return false
}

// carried reports whether a route for p crosses from an instance with
// families b to one with families a: some family both activate carries
// p's IP version (an IPv6 prefix between two L3VPN-IPv4-only instances
// does not).
func carried(a, b *BGPSpec, p netip.Prefix) bool {
	for _, f := range a.Families {
		if f.Carries(p) && slices.Contains(b.Families, f) {
			return true
		}
	}
	return false
}

// ReceivedRoutes implements RouteController.
func (r *FabricRouter) ReceivedRoutes(ctx context.Context, vrf string) ([]Route, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	r.f.mu.RLock()
	defer r.f.mu.RUnlock()
	v, ok := r.vrfs[vrf]
	if !ok {
		return nil, fmt.Errorf("%w: %s in partition %s", ErrVRFNotFound, vrf, r.p.ID)
	}
	if v.bgp == nil {
		return nil, nil
	}
	var out []Route
	seen := map[*fabricVRF]bool{v: true}
	for _, rt := range v.spec.ImportRTs {
		for o := range r.f.exporters[rt] {
			if seen[o] || o.bgp == nil || !commonFamily(v.bgp, o.bgp) {
				continue
			}
			seen[o] = true
			for _, rt := range o.routes() {
				if carried(v.bgp, o.bgp, rt.Prefix) {
					out = append(out, rt)
				}
			}
		}
	}
	slices.SortFunc(out, compareRoutes)
	return cloneRoutes(out), nil
}

// Revision implements RevisionReporter.
func (r *FabricRouter) Revision(ctx context.Context) (uint64, error) {
	if err := r.ready(ctx); err != nil {
		return 0, err
	}
	r.f.mu.RLock()
	defer r.f.mu.RUnlock()
	return r.rev, nil
}

// ListVRFs implements VRFLister. The returned specs are copies, in no
// particular order.
func (r *FabricRouter) ListVRFs(ctx context.Context) ([]VRFState, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	r.f.mu.RLock()
	defer r.f.mu.RUnlock()
	out := make([]VRFState, 0, len(r.vrfs))
	bgps := make([]BGPSpec, 0, len(r.vrfs))
	for _, v := range r.vrfs {
		st := VRFState{VRF: v.spec}
		if v.bgp != nil {
			bgps = append(bgps, *v.bgp)
			st.BGP = &bgps[len(bgps)-1]
		}
		out = append(out, st)
	}
	return out, nil
}

func compareRoutes(a, b Route) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.RD.Admin, b.RD.Admin); c != 0 {
		return c
	}
	return cmp.Compare(a.RD.Assigned, b.RD.Assigned)
}

func cloneRoutes(rs []Route) []Route {
	for i := range rs {
		rs[i].RTs = slices.Clone(rs[i].RTs)
	}
	return rs
}

func compareRT(a, b RouteTarget) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Admin, b.Admin); c != 0 {
		return c
	}
	return cmp.Compare(a.Assigned, b.Assigned)
}

func sortedRTs(rts []RouteTarget) []RouteTarget {
	out := slices.Clone(rts)
	slices.SortFunc(out, compareRT)
	return slices.Compact(out)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

func sortedPrefixes(ps []netip.Prefix) []netip.Prefix {
	out := slices.Clone(ps)
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out)
}

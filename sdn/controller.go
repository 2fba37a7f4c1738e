package sdn

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// VRFPrefix starts the name of every VRF the controller manages (see
// VRFName). Reconcile tears down VRFs with this prefix that belong to no
// live tenant, and leaves every other VRF alone.
const VRFPrefix = "t-"

// MaxVRFName is the longest VRF name the controller gives: a Linux VRF is a
// network device, whose name holds at most 15 bytes (IFNAMSIZ − 1), and FRR
// on Linux names its VRFs after them.
const MaxVRFName = 15

// VRFName returns the VRF name of a tenant: VRFPrefix + the tenant ID when
// that fits in MaxVRFName bytes, else VRFPrefix + the ID's first four bytes +
// "-" + eight hex digits of its FNV-1a hash. Two tenants whose long IDs map
// to one name cannot both exist: the second is refused with ErrConflict.
func VRFName(tenantID string) string {
	if len(VRFPrefix)+len(tenantID) <= MaxVRFName {
		return VRFPrefix + tenantID
	}
	h := fnv.New32a()
	h.Write([]byte(tenantID))
	return fmt.Sprintf("%s%s-%08x", VRFPrefix, tenantID[:4], h.Sum32())
}

// Controller is the region-interconnect controller: it gives each tenant
// identifiers in the core (VNI, optional VLAN, per-partition RDs, route
// targets), creates the tenant's VRF and a BGP instance bound to it on
// every partition through the partitions' RouteControllers, and announces
// the prefixes of the tenant's virtual routers so that they reach each
// other across partitions while no tenant sees another's routes.
//
// Every change is first written to the Store, then applied; a failure
// leaves the record pending and the next Reconcile finishes the work, so a
// crashed or restarted controller (NewController on the same Store) ends in
// the same state. All methods are safe for concurrent use; they are
// serialised. The zero value returns ErrNotInitialized.
//
// A Controller owns its Store: it keeps the identifier pools in memory and
// reads the records only in NewController, so two Controllers writing one
// Store at once (two switch instances sharing a database) would hand out
// the same identifiers. Run one at a time — elect a leader, for instance
// with pgstore's TenantStore.Lock — and let a standby start its own with
// NewController when it takes over.
type Controller struct {
	mu    sync.Mutex
	cfg   Config
	store Store
	parts []Partition // sorted by ID
	rcs   map[string]RouteController

	tenants  map[string]*tenant
	vrfOwner map[string]string // VRF name → tenant ID

	vni, vlan, rt *Pool
	rd            map[string]*Pool
	manualVNI     map[uint32]string
	manualVLAN    map[uint16]string
	exportOwner   map[RouteTarget]string              // every exported RT → its tenant
	importers     map[RouteTarget]map[string]struct{} // every imported RT → tenants

	// applied caches, per partition, the VRF state the controller last
	// confirmed; nil until the partition was listed or fully reconciled.
	applied map[string]map[string]VRFState

	// gen counts changes to the intended state; clean records, per
	// partition, the (revision, gen) at which it was last found exactly as
	// intended (see RevisionReporter).
	gen   uint64
	clean map[string][2]uint64
	ids   []string // sorted tenant IDs; nil when stale
}

type tenant struct {
	rec TenantRecord
	// desired VRF and BGP specs, indexed like Controller.parts (only
	// while active)
	vrf []VRFSpec
	bgp []BGPSpec
}

// NewController returns a controller for the partitions of cfg, one
// RouteController each (routers keyed by partition ID), keeping its
// records in store. It loads every record from store and re-reserves the
// identifiers they hold, so a restarted controller allocates nothing
// differently; a store whose records clash is an error wrapping
// ErrConflict. A partition added to cfg since a record was written gets an
// RD for each active tenant, stored at once with the record marked pending
// (a partition removed from cfg while records still name it is an error
// wrapping ErrUnknownPartition). Call Reconcile afterwards to finish work a
// previous controller left pending.
func NewController(ctx context.Context, cfg Config, store Store, routers map[string]RouteController) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("%w: nil Store", ErrInvalid)
	}
	cfg = cfg.withDefaults()
	c := &Controller{
		cfg: cfg, store: store, rcs: make(map[string]RouteController),
		tenants: make(map[string]*tenant), vrfOwner: make(map[string]string), rd: make(map[string]*Pool),
		manualVNI: make(map[uint32]string), manualVLAN: make(map[uint16]string),
		exportOwner: make(map[RouteTarget]string), importers: make(map[RouteTarget]map[string]struct{}),
		applied: make(map[string]map[string]VRFState), clean: make(map[string][2]uint64),
	}
	c.parts = slices.Clone(cfg.Partitions)
	slices.SortFunc(c.parts, func(a, b Partition) int { return cmp.Compare(a.ID, b.ID) })
	for _, p := range c.parts {
		rc := routers[p.ID]
		if rc == nil {
			return nil, fmt.Errorf("%w: no RouteController for partition %s", ErrInvalid, p.ID)
		}
		c.rcs[p.ID] = rc
		var err error
		if c.rd[p.ID], err = NewPool(cfg.RDRange); err != nil {
			return nil, err
		}
	}
	for id := range routers {
		if _, ok := c.rcs[id]; !ok {
			return nil, fmt.Errorf("%w: RouteController for %q", ErrUnknownPartition, truncate(id))
		}
	}
	var err error
	if c.vni, err = NewPool(cfg.VNIRange); err != nil {
		return nil, err
	}
	if c.vlan, err = NewPool(cfg.VLANRange); err != nil {
		return nil, err
	}
	if c.rt, err = NewPool(cfg.AutoRTRange); err != nil {
		return nil, err
	}
	recs, err := store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("sdn: loading records: %w", err)
	}
	for _, r := range recs {
		if err := c.restore(r); err != nil {
			return nil, fmt.Errorf("sdn: restoring tenant %s: %w", r.Spec.ID, err)
		}
	}
	if err := c.extendToNewPartitions(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// extendToNewPartitions gives every active tenant an RD in each partition
// that was added since its record was written, stores the record as
// pending, and lets Reconcile create the tenant's VRF there. It runs after
// every record is restored, so no RD a record holds is handed out again.
func (c *Controller) extendToNewPartitions(ctx context.Context) error {
	for _, id := range c.sortedIDs() {
		t := c.tenants[id]
		if t.rec.State != TenantActive {
			continue // a deleting tenant never had a VRF there
		}
		next := t.rec.Clone()
		var got []func()
		for _, p := range c.parts {
			if _, ok := next.Binding.RD[p.ID]; ok {
				continue
			}
			pool := c.rd[p.ID]
			n, err := pool.Allocate()
			if err != nil {
				for _, undo := range got {
					undo()
				}
				return fmt.Errorf("sdn: RD for tenant %s in new partition %s: %w", id, p.ID, err)
			}
			got = append(got, func() { pool.Release(n) })
			if next.Binding.RD == nil {
				next.Binding.RD = make(map[string]RouteDistinguisher)
			}
			next.Binding.RD[p.ID] = RouteDistinguisher{Type: TypeIPv4, Admin: routerIDUint(p.RouterID), Assigned: n}
		}
		if len(got) == 0 {
			continue
		}
		next.Pending = true
		if err := c.store.Put(ctx, next); err != nil {
			for _, undo := range got {
				undo()
			}
			return fmt.Errorf("sdn: storing tenant %s: %w", id, err)
		}
		t.rec = next
		c.computeDesired(t)
	}
	return nil
}

func (c *Controller) ready() error {
	if c == nil || c.tenants == nil {
		return ErrNotInitialized
	}
	return nil
}

// restore re-reserves a stored record's identifiers.
func (c *Controller) restore(r TenantRecord) error {
	if err := r.Spec.validate(); err != nil {
		return err
	}
	if _, dup := c.tenants[r.Spec.ID]; dup {
		return fmt.Errorf("%w: tenant listed twice", ErrConflict)
	}
	if r.State != TenantActive && r.State != TenantDeleting {
		return fmt.Errorf("%w: state %v", ErrInvalid, r.State)
	}
	var undo []func()
	fail := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return err
	}
	b := r.Binding
	if err := c.reserveVNI(r.Spec.ID, b.VNI); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { c.releaseVNI(b.VNI) })
	if b.VLAN != 0 {
		if err := c.reserveVLAN(r.Spec.ID, b.VLAN); err != nil {
			return fail(err)
		}
		undo = append(undo, func() { c.releaseVLAN(b.VLAN) })
	}
	for pid, rd := range b.RD {
		pool := c.rd[pid]
		if pool == nil {
			return fail(fmt.Errorf("%w: RD for partition %q", ErrUnknownPartition, truncate(pid)))
		}
		if err := pool.Reserve(rd.Assigned); err != nil {
			return fail(err)
		}
		undo = append(undo, func() { pool.Release(rd.Assigned) })
	}
	own := c.ownRT(b)
	if c.cfg.isAutoRT(own) {
		if err := c.rt.Reserve(own.Assigned); err != nil {
			return fail(err)
		}
		undo = append(undo, func() { c.rt.Release(own.Assigned) })
	}
	if err := c.claimRTs(r.Spec.ID, b.ImportRTs, b.ExportRTs); err != nil {
		return fail(err)
	}
	if other, ok := c.vrfOwner[b.VRF]; ok || !validID(b.VRF) {
		return fail(fmt.Errorf("%w: VRF name %q (also tenant %q)", ErrConflict, truncate(b.VRF), other))
	}
	t := &tenant{rec: r.Clone()}
	c.tenants[r.Spec.ID] = t
	c.vrfOwner[t.rec.Binding.VRF] = r.Spec.ID
	c.ids = nil
	c.computeDesired(t)
	return nil
}

// ownRT is the tenant's own route target: the first export RT.
func (c *Controller) ownRT(b Binding) RouteTarget {
	if len(b.ExportRTs) == 0 {
		return RouteTarget{}
	}
	return b.ExportRTs[0]
}

func (c *Controller) reserveVNI(tenantID string, v uint32) error {
	if v == 0 || v > MaxVNI {
		return fmt.Errorf("%w: VNI %d", ErrInvalid, v)
	}
	if c.vni.Range().Contains(v) {
		if err := c.vni.Reserve(v); err != nil {
			return fmt.Errorf("VNI %d: %w", v, err)
		}
		return nil
	}
	if other, ok := c.manualVNI[v]; ok {
		return fmt.Errorf("%w: VNI %d already used by tenant %s", ErrConflict, v, other)
	}
	c.manualVNI[v] = tenantID
	return nil
}

func (c *Controller) releaseVNI(v uint32) {
	if c.vni.Range().Contains(v) {
		c.vni.Release(v)
		return
	}
	delete(c.manualVNI, v)
}

func (c *Controller) reserveVLAN(tenantID string, v uint16) error {
	if v == 0 || v > MaxVLAN {
		return fmt.Errorf("%w: VLAN %d", ErrInvalid, v)
	}
	if c.vlan.Range().Contains(uint32(v)) {
		if err := c.vlan.Reserve(uint32(v)); err != nil {
			return fmt.Errorf("VLAN %d: %w", v, err)
		}
		return nil
	}
	if other, ok := c.manualVLAN[v]; ok {
		return fmt.Errorf("%w: VLAN %d already used by tenant %s", ErrConflict, v, other)
	}
	c.manualVLAN[v] = tenantID
	return nil
}

func (c *Controller) releaseVLAN(v uint16) {
	if c.vlan.Range().Contains(uint32(v)) {
		c.vlan.Release(uint32(v))
		return
	}
	delete(c.manualVLAN, v)
}

// claimRTs records a tenant's exports and imports after checking that no
// other tenant exports one of them, and that no other tenant imports what
// it exports (either would leak routes between tenants).
func (c *Controller) claimRTs(tenantID string, imports, exports []RouteTarget) error {
	for _, rt := range exports {
		if o, ok := c.exportOwner[rt]; ok && o != tenantID {
			return fmt.Errorf("%w: route target %s is already exported by tenant %s", ErrConflict, rt, o)
		}
		for imp := range c.importers[rt] {
			if imp != tenantID {
				return fmt.Errorf("%w: exporting route target %s would leak routes into tenant %s, which imports it", ErrConflict, rt, imp)
			}
		}
	}
	for _, rt := range imports {
		if o, ok := c.exportOwner[rt]; ok && o != tenantID {
			return fmt.Errorf("%w: importing route target %s would leak the routes of tenant %s", ErrConflict, rt, o)
		}
	}
	for _, rt := range exports {
		c.exportOwner[rt] = tenantID
	}
	for _, rt := range imports {
		m := c.importers[rt]
		if m == nil {
			m = make(map[string]struct{})
			c.importers[rt] = m
		}
		m[tenantID] = struct{}{}
	}
	return nil
}

func (c *Controller) unclaimRTs(tenantID string, imports, exports []RouteTarget) {
	for _, rt := range exports {
		if c.exportOwner[rt] == tenantID {
			delete(c.exportOwner, rt)
		}
	}
	for _, rt := range imports {
		if m := c.importers[rt]; m != nil {
			delete(m, tenantID)
			if len(m) == 0 {
				delete(c.importers, rt)
			}
		}
	}
}

// release frees every identifier of a tenant.
func (c *Controller) release(t *tenant) {
	b := t.rec.Binding
	c.releaseVNI(b.VNI)
	if b.VLAN != 0 {
		c.releaseVLAN(b.VLAN)
	}
	for pid, rd := range b.RD {
		if pool := c.rd[pid]; pool != nil {
			pool.Release(rd.Assigned)
		}
	}
	if own := c.ownRT(b); c.cfg.isAutoRT(own) {
		c.rt.Release(own.Assigned)
	}
	c.unclaimRTs(t.rec.Spec.ID, b.ImportRTs, b.ExportRTs)
	delete(c.tenants, t.rec.Spec.ID)
	if c.vrfOwner[b.VRF] == t.rec.Spec.ID {
		delete(c.vrfOwner, b.VRF)
	}
	c.ids = nil
	c.gen++
}

func routerIDUint(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// CreateTenant allocates a tenant's identifiers, records it and creates its
// VRF and BGP instance on every partition. Creating a tenant that exists
// with the same spec returns its binding and changes nothing (idempotent);
// with a different spec it is ErrConflict. Invalid specs are ErrInvalid,
// clashes ErrConflict, exhausted pools ErrPoolExhausted — in those cases
// nothing is allocated or stored. If a partition fails, the tenant exists
// (its binding is returned with an *ApplyError) and Reconcile finishes it.
func (c *Controller) CreateTenant(ctx context.Context, spec TenantSpec) (Binding, error) {
	if err := c.ready(); err != nil {
		return Binding{}, err
	}
	if err := spec.validate(); err != nil {
		return Binding{}, err
	}
	if err := ctx.Err(); err != nil {
		return Binding{}, err
	}
	spec.ExtraImportRTs = sortedRTs(spec.ExtraImportRTs)
	spec.ExtraExportRTs = sortedRTs(spec.ExtraExportRTs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tenants[spec.ID]; ok {
		if t.rec.State == TenantDeleting {
			return Binding{}, fmt.Errorf("%w: tenant %s is being deleted", ErrConflict, spec.ID)
		}
		if !t.rec.Spec.equal(spec) {
			return Binding{}, fmt.Errorf("%w: tenant %s exists with a different spec", ErrConflict, spec.ID)
		}
		return t.rec.Binding.Clone(), nil
	}
	b, undo, err := c.allocate(spec)
	if err != nil {
		return Binding{}, err
	}
	t := &tenant{rec: TenantRecord{Spec: spec, Binding: b, State: TenantActive, Pending: true}}
	if err := c.store.Put(ctx, t.rec); err != nil {
		undo()
		return Binding{}, fmt.Errorf("sdn: storing tenant %s: %w", spec.ID, err)
	}
	c.tenants[spec.ID] = t
	c.vrfOwner[b.VRF] = spec.ID
	c.ids = nil
	c.computeDesired(t)
	return b.Clone(), c.applyTenant(ctx, t)
}

// allocate assigns identifiers for spec; undo releases them.
func (c *Controller) allocate(spec TenantSpec) (Binding, func(), error) {
	var undos []func()
	undo := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	fail := func(err error) (Binding, func(), error) { undo(); return Binding{}, nil, err }
	name := VRFName(spec.ID)
	if other, ok := c.vrfOwner[name]; ok {
		return fail(fmt.Errorf("%w: tenant %s would share VRF name %s with tenant %s", ErrConflict, spec.ID, name, other))
	}
	b := Binding{VRF: name, BGPInstance: name, RD: make(map[string]RouteDistinguisher, len(c.parts))}
	// VNI
	if spec.VNI != 0 {
		if err := c.reserveVNI(spec.ID, spec.VNI); err != nil {
			return fail(err)
		}
		b.VNI = spec.VNI
	} else {
		v, err := c.vni.Allocate()
		if err != nil {
			return fail(fmt.Errorf("VNI: %w", err))
		}
		b.VNI = v
	}
	undos = append(undos, func() { c.releaseVNI(b.VNI) })
	// VLAN
	switch {
	case spec.VLAN != 0:
		if err := c.reserveVLAN(spec.ID, spec.VLAN); err != nil {
			return fail(err)
		}
		b.VLAN = spec.VLAN
	case c.cfg.AllocateVLANs:
		v, err := c.vlan.Allocate()
		if err != nil {
			return fail(fmt.Errorf("VLAN: %w", err))
		}
		b.VLAN = uint16(v)
	}
	if b.VLAN != 0 {
		undos = append(undos, func() { c.releaseVLAN(b.VLAN) })
	}
	// RDs, one per partition
	for _, p := range c.parts {
		n, err := c.rd[p.ID].Allocate()
		if err != nil {
			return fail(fmt.Errorf("RD in partition %s: %w", p.ID, err))
		}
		pool := c.rd[p.ID]
		undos = append(undos, func() { pool.Release(n) })
		b.RD[p.ID] = RouteDistinguisher{Type: TypeIPv4, Admin: routerIDUint(p.RouterID), Assigned: n}
	}
	// the tenant's own RT, then extras
	own := spec.RouteTarget
	if own.IsZero() {
		n, err := c.rt.Allocate()
		if err != nil {
			return fail(fmt.Errorf("route target: %w", err))
		}
		undos = append(undos, func() { c.rt.Release(n) })
		own = c.cfg.coreRT(n)
	} else if c.cfg.isAutoRT(own) {
		return fail(fmt.Errorf("%w: manual route target %s lies in the auto-allocation range %v", ErrConflict, own, c.cfg.AutoRTRange))
	}
	for _, rt := range slices.Concat(spec.ExtraImportRTs, spec.ExtraExportRTs) {
		if c.cfg.isAutoRT(rt) {
			return fail(fmt.Errorf("%w: manual route target %s lies in the auto-allocation range %v", ErrConflict, rt, c.cfg.AutoRTRange))
		}
	}
	if slices.Contains(spec.ExtraExportRTs, own) || slices.Contains(spec.ExtraImportRTs, own) {
		return fail(fmt.Errorf("%w: route target %s listed as both the tenant's own and an extra", ErrInvalid, own))
	}
	b.ExportRTs = append([]RouteTarget{own}, spec.ExtraExportRTs...)
	b.ImportRTs = append([]RouteTarget{own}, spec.ExtraImportRTs...)
	if err := c.claimRTs(spec.ID, b.ImportRTs, b.ExportRTs); err != nil {
		return fail(err)
	}
	undos = append(undos, func() { c.unclaimRTs(spec.ID, b.ImportRTs, b.ExportRTs) })
	return b, undo, nil
}

// computeDesired fills the desired VRF and BGP specs of t per partition.
func (c *Controller) computeDesired(t *tenant) {
	c.gen++
	t.vrf, t.bgp = nil, nil
	if t.rec.State != TenantActive {
		return
	}
	b := t.rec.Binding
	t.vrf = make([]VRFSpec, len(c.parts))
	t.bgp = make([]BGPSpec, len(c.parts))
	imports, exports := sortedRTs(b.ImportRTs), sortedRTs(b.ExportRTs)
	fams := c.cfg.families()
	for i, p := range c.parts {
		t.vrf[i] = VRFSpec{Name: b.VRF, VNI: b.VNI, VLAN: b.VLAN, RD: b.RD[p.ID], ImportRTs: imports, ExportRTs: exports}
		var nets []netip.Prefix
		for _, vr := range t.rec.Routers {
			if vr.Partition == p.ID {
				nets = append(nets, vr.Prefixes...)
			}
		}
		t.bgp[i] = BGPSpec{VRF: b.VRF, ASN: p.ASN, RouterID: p.RouterID, Neighbors: slices.Clone(c.cfg.Neighbors[p.ID]),
			Families: fams, Networks: sortedPrefixes(nets)}
	}
}

// changesFor lists the calls that bring partition p to t's desired state,
// given what p is known to have (known=false: unknown, so re-ensure).
func (c *Controller) changesFor(t *tenant, pi int, have VRFState, exists, known bool, out []Change) []Change {
	p := c.parts[pi].ID
	id := t.rec.Spec.ID
	name := t.rec.Binding.VRF
	if t.rec.State == TenantActive {
		// The desired specs are never modified once computed (computeDesired
		// replaces them), so changes may point at them.
		want := &t.vrf[pi]
		if !known || !exists || !have.VRF.Equal(*want) {
			out = append(out, Change{Partition: p, Tenant: id, Op: OpEnsureVRF, VRF: want, Name: name})
		}
		wb := &t.bgp[pi]
		if !known || !exists || have.BGP == nil || !have.BGP.Equal(*wb) {
			out = append(out, Change{Partition: p, Tenant: id, Op: OpEnsureBGP, BGP: wb, Name: name})
		}
		return out
	}
	return teardown(p, id, name, have, exists, known, out)
}

// teardown lists the ordered calls that remove a VRF: withdraw the routes,
// delete the BGP instance, delete the VRF. When the partition's state is
// unknown, the idempotent deletes are issued anyway.
func teardown(p, tenantID, name string, have VRFState, exists, known bool, out []Change) []Change {
	if known && !exists {
		return out
	}
	if known && have.BGP != nil && len(have.BGP.Networks) > 0 {
		w := *have.BGP
		w.Networks = nil
		out = append(out, Change{Partition: p, Tenant: tenantID, Op: OpWithdraw, BGP: &w, Name: name})
	}
	if !known || have.BGP != nil {
		out = append(out, Change{Partition: p, Tenant: tenantID, Op: OpDeleteBGP, Name: name})
	}
	return append(out, Change{Partition: p, Tenant: tenantID, Op: OpDeleteVRF, Name: name})
}

// execute makes one call and updates the applied cache.
func (c *Controller) execute(ctx context.Context, ch Change) error {
	rc := c.rcs[ch.Partition]
	var err error
	switch ch.Op {
	case OpEnsureVRF:
		err = rc.EnsureVRF(ctx, *ch.VRF)
	case OpEnsureBGP, OpWithdraw:
		err = rc.EnsureBGPInstance(ctx, *ch.BGP)
	case OpDeleteBGP:
		err = rc.DeleteBGPInstance(ctx, ch.Name)
	case OpDeleteVRF:
		err = rc.DeleteVRF(ctx, ch.Name)
	}
	cache := c.applied[ch.Partition]
	if err != nil {
		// What the partition has is now uncertain.
		if cache != nil {
			delete(cache, ch.Name)
			c.applied[ch.Partition] = nil
		}
		return &ApplyError{Tenant: ch.Tenant, Partition: ch.Partition, Op: ch.Op, Err: err}
	}
	if cache == nil {
		return nil
	}
	st := cache[ch.Name]
	switch ch.Op {
	case OpEnsureVRF:
		st.VRF = *ch.VRF
		cache[ch.Name] = st
	case OpEnsureBGP, OpWithdraw:
		st.BGP = ch.BGP // immutable: a desired spec or a fresh withdrawal
		cache[ch.Name] = st
	case OpDeleteBGP:
		st.BGP = nil
		cache[ch.Name] = st
	case OpDeleteVRF:
		delete(cache, ch.Name)
	}
	return nil
}

// applyTenant brings every partition to t's desired state, then clears
// Pending or, for a deleted tenant, releases its identifiers. It stops at
// the first failure in a partition and goes on with the others.
func (c *Controller) applyTenant(ctx context.Context, t *tenant) error {
	var errs []error
	for pi, p := range c.parts {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		cache := c.applied[p.ID]
		have, exists := VRFState{}, false
		if cache != nil {
			have, exists = cache[t.rec.Binding.VRF]
		}
		for _, ch := range c.changesFor(t, pi, have, exists, cache != nil, nil) {
			if err := c.execute(ctx, ch); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return c.settle(ctx, t)
}

// settle records that t is fully applied: it clears Pending, or deletes
// the record and releases the identifiers of a torn-down tenant.
func (c *Controller) settle(ctx context.Context, t *tenant) error {
	if t.rec.State == TenantDeleting {
		if err := c.store.Delete(ctx, t.rec.Spec.ID); err != nil {
			return fmt.Errorf("sdn: deleting record of tenant %s: %w", t.rec.Spec.ID, err)
		}
		c.release(t)
		return nil
	}
	if !t.rec.Pending {
		return nil
	}
	t.rec.Pending = false
	if err := c.store.Put(ctx, t.rec); err != nil {
		t.rec.Pending = true
		return fmt.Errorf("sdn: storing tenant %s: %w", t.rec.Spec.ID, err)
	}
	return nil
}

// checkPrefixes validates a router's prefixes and that none overlaps a
// prefix of another router of the same tenant, or of the router itself.
func checkPrefixes(t *tenant, vr VirtualRouter) ([]netip.Prefix, error) {
	if len(vr.Prefixes) > MaxPrefixesPerRoute {
		return nil, fmt.Errorf("%w: %d prefixes > %d", ErrInvalid, len(vr.Prefixes), MaxPrefixesPerRoute)
	}
	ps := sortedPrefixes(vr.Prefixes)
	if len(ps) != len(vr.Prefixes) {
		return nil, fmt.Errorf("%w: duplicate prefix in router of partition %s", ErrOverlap, vr.Partition)
	}
	for _, p := range ps {
		if !p.IsValid() || p.Masked() != p {
			return nil, fmt.Errorf("%w: prefix %v is not masked", ErrInvalid, p)
		}
	}
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if ps[i].Overlaps(ps[j]) {
				return nil, fmt.Errorf("%w: %v and %v", ErrOverlap, ps[i], ps[j])
			}
		}
	}
	for _, other := range t.rec.Routers {
		if other.Partition == vr.Partition {
			continue // replaced by this router
		}
		for _, q := range other.Prefixes {
			for _, p := range ps {
				if p.Overlaps(q) {
					return nil, fmt.Errorf("%w: %v overlaps %v of the tenant's router in partition %s", ErrOverlap, p, q, other.Partition)
				}
			}
		}
	}
	return ps, nil
}

// AttachRouter attaches (or replaces) the tenant's virtual router in a
// partition and announces its prefixes. Attaching the same router again
// changes nothing. Errors: ErrTenantNotFound, ErrUnknownPartition,
// ErrInvalid, ErrOverlap (prefixes overlapping inside the tenant) — with
// nothing changed — or an *ApplyError after the record was updated.
func (c *Controller) AttachRouter(ctx context.Context, tenantID string, vr VirtualRouter) error {
	if err := c.ready(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[tenantID]
	if !ok || t.rec.State != TenantActive {
		return fmt.Errorf("%w: %q", ErrTenantNotFound, truncate(tenantID))
	}
	if vr.Tenant != "" && vr.Tenant != tenantID {
		return fmt.Errorf("%w: router of tenant %q attached to %q", ErrInvalid, truncate(vr.Tenant), tenantID)
	}
	if _, ok := c.rcs[vr.Partition]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPartition, truncate(vr.Partition))
	}
	ps, err := checkPrefixes(t, vr)
	if err != nil {
		return err
	}
	fams := c.cfg.families()
	for _, p := range ps {
		if !slices.ContainsFunc(fams, func(f AddressFamily) bool { return f.Carries(p) }) {
			return fmt.Errorf("%w: prefix %v: none of the configured families %v carries it", ErrInvalid, p, fams)
		}
	}
	vr = VirtualRouter{Partition: vr.Partition, Tenant: tenantID, Prefixes: ps}
	i, found := slices.BinarySearchFunc(t.rec.Routers, vr.Partition, func(r VirtualRouter, p string) int { return strings.Compare(r.Partition, p) })
	if found && slices.Equal(t.rec.Routers[i].Prefixes, ps) && !t.rec.Pending {
		return nil
	}
	next := t.rec.Clone()
	if found {
		next.Routers[i] = vr
	} else {
		next.Routers = slices.Insert(next.Routers, i, vr)
	}
	next.Pending = true
	return c.commit(ctx, t, next)
}

// DetachRouter removes the tenant's router from a partition and withdraws
// its prefixes. ErrRouterNotFound when none is attached there.
func (c *Controller) DetachRouter(ctx context.Context, tenantID, partitionID string) error {
	if err := c.ready(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[tenantID]
	if !ok || t.rec.State != TenantActive {
		return fmt.Errorf("%w: %q", ErrTenantNotFound, truncate(tenantID))
	}
	i, found := slices.BinarySearchFunc(t.rec.Routers, partitionID, func(r VirtualRouter, p string) int { return strings.Compare(r.Partition, p) })
	if !found {
		return fmt.Errorf("%w: tenant %s in partition %q", ErrRouterNotFound, tenantID, truncate(partitionID))
	}
	next := t.rec.Clone()
	next.Routers = slices.Delete(next.Routers, i, i+1)
	next.Pending = true
	return c.commit(ctx, t, next)
}

// commit stores next as t's record, then applies it.
func (c *Controller) commit(ctx context.Context, t *tenant, next TenantRecord) error {
	if err := c.store.Put(ctx, next); err != nil {
		return fmt.Errorf("sdn: storing tenant %s: %w", next.Spec.ID, err)
	}
	t.rec = next
	c.computeDesired(t)
	return c.applyTenant(ctx, t)
}

// DeleteTenant tears the tenant down on every partition in order —
// withdraw its routes, delete its BGP instances, delete its VRFs — and
// then releases its identifiers and removes its record. If a partition
// fails, the tenant stays recorded as deleting (its identifiers held, so
// nothing is reused while a VRF may still exist) and Reconcile finishes.
// ErrTenantNotFound for an unknown tenant.
func (c *Controller) DeleteTenant(ctx context.Context, tenantID string) error {
	if err := c.ready(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[tenantID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrTenantNotFound, truncate(tenantID))
	}
	if t.rec.State != TenantDeleting {
		next := t.rec.Clone()
		next.State = TenantDeleting
		next.Pending = true
		return c.commit(ctx, t, next)
	}
	return c.applyTenant(ctx, t)
}

// Tenant returns a copy of a tenant's record, or ErrTenantNotFound.
func (c *Controller) Tenant(tenantID string) (TenantRecord, error) {
	if err := c.ready(); err != nil {
		return TenantRecord{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[tenantID]
	if !ok {
		return TenantRecord{}, fmt.Errorf("%w: %q", ErrTenantNotFound, truncate(tenantID))
	}
	return t.rec.Clone(), nil
}

// Tenants returns the IDs of every tenant (active or being deleted), sorted.
func (c *Controller) Tenants() []string {
	if c.ready() != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.tenants))
	for id := range c.tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// PoolUsage reports how many identifiers each pool holds.
type PoolUsage struct {
	VNIs, VLANs, RouteTargets int            // auto pools plus manual values
	RDs                       map[string]int // per partition
}

// Usage returns the identifiers currently held.
func (c *Controller) Usage() PoolUsage {
	if c.ready() != nil {
		return PoolUsage{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := PoolUsage{VNIs: c.vni.Used() + len(c.manualVNI), VLANs: c.vlan.Used() + len(c.manualVLAN),
		RouteTargets: len(c.exportOwner), RDs: make(map[string]int)}
	for id, p := range c.rd {
		u.RDs[id] = p.Used()
	}
	return u
}

// ReconcileReport says what a Reconcile did.
type ReconcileReport struct {
	Changes []Change // calls made successfully, in order
	Failed  []error  // *ApplyError and store errors, in order
	Pending int      // tenants still pending afterwards
	Settled int      // tenants confirmed (pending cleared or deletion finished)
}

// Plan lists, without making them, the calls that Reconcile would make now:
// per partition, in order. Partitions that cannot be listed are planned
// from what the controller last applied (or fully, when unknown).
func (c *Controller) Plan(ctx context.Context) ([]Change, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Change
	ids := c.sortedIDs()
	for pi := range c.parts {
		chs, err := c.diffPartition(ctx, pi, ids, false)
		if err != nil {
			return nil, err
		}
		for _, ch := range chs {
			out = append(out, ch.detach())
		}
	}
	return out, nil
}

// detach returns ch with copies of the specs it points at, for callers.
func (ch Change) detach() Change {
	if ch.VRF != nil {
		v := *ch.VRF
		v.ImportRTs, v.ExportRTs = slices.Clone(v.ImportRTs), slices.Clone(v.ExportRTs)
		ch.VRF = &v
	}
	if ch.BGP != nil {
		b := *ch.BGP
		b.Neighbors, b.Families, b.Networks = slices.Clone(b.Neighbors), slices.Clone(b.Families), slices.Clone(b.Networks)
		ch.BGP = &b
	}
	return ch
}

// diffPartition lists the calls that bring partition p to the intended
// state: what every tenant wants, and the teardown of managed VRFs that no
// live tenant owns. With list set it refreshes the applied cache from a
// VRFLister first.
func (c *Controller) diffPartition(ctx context.Context, pi int, ids []string, list bool) ([]Change, error) {
	p := c.parts[pi].ID
	cache := c.applied[p]
	if lister, ok := c.rcs[p].(VRFLister); ok && (list || cache == nil) {
		states, err := lister.ListVRFs(ctx)
		switch {
		case err != nil && list:
			return nil, &ApplyError{Partition: p, Op: OpList, Err: err}
		case err == nil:
			cache = make(map[string]VRFState, len(states))
			for _, s := range states {
				cache[s.VRF.Name] = s
			}
			if list {
				c.applied[p] = cache
			}
		}
		// A Plan on a partition that cannot be listed plans from what was
		// last applied (or everything, when that is unknown).
	}
	var out []Change
	for _, id := range ids {
		t := c.tenants[id]
		var have VRFState
		var exists bool
		if cache != nil {
			have, exists = cache[t.rec.Binding.VRF]
		}
		out = c.changesFor(t, pi, have, exists, cache != nil, out)
	}
	if cache != nil {
		var orphans []string
		for name := range cache {
			if !strings.HasPrefix(name, VRFPrefix) {
				continue
			}
			if _, ok := c.vrfOwner[name]; !ok {
				orphans = append(orphans, name)
			}
		}
		slices.Sort(orphans)
		for _, name := range orphans {
			out = teardown(p, strings.TrimPrefix(name, VRFPrefix), name, cache[name], true, true, out)
		}
	}
	return out, nil
}

// Reconcile brings every partition to the intended state recorded in the
// Store: it finishes pending creations, attachments and deletions, repairs
// drift found by listing partitions that implement VRFLister (a VRF
// changed or removed behind the controller's back, the leftover VRF of a
// deleted tenant), and then clears Pending and releases the identifiers of
// torn-down tenants. Running it again with nothing changed makes no call
// and changes nothing. A failing partition is reported in the report's
// Failed list and the returned error; the other partitions go on. A
// cancelled ctx stops it between calls with ctx.Err(); what was done
// stays recorded.
func (c *Controller) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	if err := c.ready(); err != nil {
		return rep, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	failed := map[string]bool{} // tenants with a failed call
	ids := c.sortedIDs()
	for pi, p := range c.parts {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rr, hasRev := c.rcs[p.ID].(RevisionReporter)
		var rev uint64
		if hasRev {
			r, err := rr.Revision(ctx)
			if err != nil {
				hasRev = false
			} else if st, ok := c.clean[p.ID]; ok && st == [2]uint64{r, c.gen} {
				continue // unchanged since it was last found as intended
			}
			rev = r
		}
		delete(c.clean, p.ID)
		chs, err := c.diffPartition(ctx, pi, ids, true)
		if err == nil && len(chs) == 0 && hasRev {
			c.clean[p.ID] = [2]uint64{rev, c.gen}
		}
		if err != nil {
			rep.Failed = append(rep.Failed, err)
			for id := range c.tenants {
				failed[id] = true
			}
			continue
		}
		badTenant := map[string]bool{}
		for _, ch := range chs {
			if badTenant[ch.Tenant] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if err := c.execute(ctx, ch); err != nil {
				rep.Failed = append(rep.Failed, err)
				badTenant[ch.Tenant] = true
				failed[ch.Tenant] = true
				continue
			}
			rep.Changes = append(rep.Changes, ch.detach())
		}
		if c.applied[p.ID] == nil && len(badTenant) == 0 {
			// A partition without VRFLister is known once fully applied.
			c.applied[p.ID] = c.expected(pi)
		}
	}
	for _, id := range c.sortedIDs() {
		t, ok := c.tenants[id]
		if !ok {
			continue
		}
		if failed[id] || (!t.rec.Pending && t.rec.State == TenantActive) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if err := c.settle(ctx, t); err != nil {
			rep.Failed = append(rep.Failed, err)
			continue
		}
		rep.Settled++
	}
	for _, t := range c.tenants {
		if t.rec.Pending {
			rep.Pending++
		}
	}
	return rep, errors.Join(rep.Failed...)
}

// sortedIDs returns the tenant IDs, sorted; the caller must not modify
// the slice, which is cached until a tenant is added or removed.
func (c *Controller) sortedIDs() []string {
	if c.ids == nil {
		c.ids = make([]string, 0, len(c.tenants))
		for id := range c.tenants {
			c.ids = append(c.ids, id)
		}
		slices.Sort(c.ids)
	}
	return c.ids
}

// expected is the state of partition c.parts[p] once every tenant is applied.
func (c *Controller) expected(p int) map[string]VRFState {
	m := make(map[string]VRFState, len(c.tenants))
	for _, t := range c.tenants {
		if t.rec.State != TenantActive {
			continue
		}
		b := t.bgp[p]
		m[t.rec.Binding.VRF] = VRFState{VRF: t.vrf[p], BGP: &b}
	}
	return m
}

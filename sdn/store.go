package sdn

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// TenantState is where a tenant is in its life.
type TenantState uint8

// Tenant states.
const (
	// TenantActive tenants have, or are getting, a VRF and BGP instance on
	// every partition.
	TenantActive TenantState = iota + 1
	// TenantDeleting tenants are being torn down; their identifiers are
	// released when every partition has confirmed the teardown.
	TenantDeleting
)

// String names the state.
func (s TenantState) String() string {
	switch s {
	case TenantActive:
		return "active"
	case TenantDeleting:
		return "deleting"
	}
	return fmt.Sprintf("TenantState(%d)", uint8(s))
}

// TenantRecord is everything the controller keeps about a tenant; it is
// what a Store persists. A restarted controller rebuilds its pools and its
// intended state from the records alone.
type TenantRecord struct {
	Spec    TenantSpec      // what the operator asked for
	Binding Binding         // what was allocated
	Routers []VirtualRouter // attached routers, sorted by partition
	State   TenantState     // active or being deleted
	// Pending is set while some partition may not yet reflect the record;
	// Reconcile clears it once every partition is confirmed.
	Pending bool
}

// Clone returns a deep copy of r.
func (r TenantRecord) Clone() TenantRecord {
	c := r
	c.Spec.ExtraImportRTs = slices.Clone(r.Spec.ExtraImportRTs)
	c.Spec.ExtraExportRTs = slices.Clone(r.Spec.ExtraExportRTs)
	c.Binding = r.Binding.Clone()
	c.Routers = make([]VirtualRouter, len(r.Routers))
	for i, vr := range r.Routers {
		c.Routers[i] = VirtualRouter{Partition: vr.Partition, Tenant: vr.Tenant, Prefixes: slices.Clone(vr.Prefixes)}
	}
	if r.Routers == nil {
		c.Routers = nil
	}
	return c
}

// Store persists tenant records. Every method takes ctx first, honours its
// cancellation and is safe for concurrent use. Records are values: a Store
// must keep its own copy on Put and return a copy the caller owns.
type Store interface {
	// Get returns the record of a tenant, or an error wrapping
	// ErrTenantNotFound.
	Get(ctx context.Context, tenantID string) (TenantRecord, error)
	// Put creates or replaces the record of r.Spec.ID.
	Put(ctx context.Context, r TenantRecord) error
	// Delete removes a record; deleting a missing one is not an error.
	Delete(ctx context.Context, tenantID string) error
	// List returns every record, sorted by tenant ID.
	List(ctx context.Context) ([]TenantRecord, error)
}

// MemoryStore is the in-memory reference Store: correct and safe for
// concurrent use, but it forgets everything when the process ends. The
// zero value is an empty store ready to use.
type MemoryStore struct {
	mu      sync.RWMutex
	records map[string]TenantRecord
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, tenantID string) (TenantRecord, error) {
	if err := ctx.Err(); err != nil {
		return TenantRecord{}, err
	}
	s.mu.RLock()
	r, ok := s.records[tenantID]
	s.mu.RUnlock()
	if !ok {
		return TenantRecord{}, fmt.Errorf("%w: %q", ErrTenantNotFound, truncate(tenantID))
	}
	return r.Clone(), nil
}

// Put implements Store. A record without a valid tenant ID is ErrInvalid.
func (s *MemoryStore) Put(ctx context.Context, r TenantRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(r.Spec.ID) {
		return fmt.Errorf("%w: record for tenant id %q", ErrInvalid, truncate(r.Spec.ID))
	}
	c := r.Clone()
	s.mu.Lock()
	if s.records == nil {
		s.records = make(map[string]TenantRecord)
	}
	s.records[r.Spec.ID] = c
	s.mu.Unlock()
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, tenantID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.records, tenantID)
	s.mu.Unlock()
	return nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context) ([]TenantRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	ids := slices.Sorted(maps.Keys(s.records))
	out := make([]TenantRecord, len(ids))
	for i, id := range ids {
		out[i] = s.records[id].Clone()
	}
	s.mu.RUnlock()
	return out, nil
}

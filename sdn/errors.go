package sdn

import (
	"errors"
	"fmt"
)

// Errors callers branch on with errors.Is.
var (
	// ErrInvalid reports a malformed identifier, spec or configuration.
	ErrInvalid = errors.New("sdn: invalid")
	// ErrPoolExhausted reports an identifier pool with no free value left.
	ErrPoolExhausted = errors.New("sdn: identifier pool exhausted")
	// ErrConflict reports a request that clashes with existing state: a
	// duplicate RD or RT, a manual RT inside the auto-allocation range, an
	// import RT that would leak another tenant's routes, or a tenant
	// re-created with a different spec.
	ErrConflict = errors.New("sdn: conflict")
	// ErrOverlap reports overlapping prefixes inside one tenant.
	ErrOverlap = errors.New("sdn: overlapping prefixes")
	// ErrUnknownPartition reports a partition the controller does not know.
	ErrUnknownPartition = errors.New("sdn: unknown partition")
	// ErrTenantNotFound reports a tenant that does not exist.
	ErrTenantNotFound = errors.New("sdn: tenant not found")
	// ErrRouterNotFound reports a detach of a router that is not attached.
	ErrRouterNotFound = errors.New("sdn: virtual router not attached")
	// ErrVRFNotFound is returned by a RouteController asked about a VRF it
	// does not have.
	ErrVRFNotFound = errors.New("sdn: VRF not found")
	// ErrNotInitialized is returned by every method of a zero-value
	// Controller, Fabric router or pool.
	ErrNotInitialized = errors.New("sdn: not initialized (use the New… constructor)")
	// ErrUnsupported is returned by a RouteControllerFuncs method whose
	// function is nil.
	ErrUnsupported = errors.New("sdn: operation not supported")
)

// ApplyError reports a RouteController call that failed while the
// controller applied a tenant's state to a partition. The tenant's record
// keeps the work as pending; the next Reconcile finishes it.
type ApplyError struct {
	Tenant    string // tenant being applied
	Partition string // partition whose RouteController failed
	Op        Op     // the call that failed
	Err       error  // what the RouteController returned
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("sdn: tenant %q partition %q: %s: %v", e.Tenant, e.Partition, e.Op, e.Err)
}

// Unwrap returns the RouteController's error.
func (e *ApplyError) Unwrap() error { return e.Err }

package sched

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them, often
// inside one of the typed errors below that carry the detail.
var (
	// ErrInvalidRequest: the request is malformed (empty or overlong ID,
	// too many labels, …). ErrInvalidResources and ErrUnknownKind also
	// match it.
	ErrInvalidRequest = errors.New("sched: invalid request")
	// ErrInvalidResources: a quantity is negative or above MaxQuantity, or
	// MilliCPU or MemoryBytes is zero.
	ErrInvalidResources = errors.New("sched: invalid resources")
	// ErrUnknownKind: the kind is neither VM nor Container.
	ErrUnknownKind = errors.New("sched: unknown kind")
	// ErrNoBackend: no backend is registered for the request's kind.
	ErrNoBackend = errors.New("sched: no backend for kind")
	// ErrDuplicateID: a workload with the same ID is live, being placed or
	// pending.
	ErrDuplicateID = errors.New("sched: duplicate request ID")
	// ErrNotFound: no workload (or node) with that ID.
	ErrNotFound = errors.New("sched: not found")
	// ErrInProgress: the workload is being created or deleted right now.
	ErrInProgress = errors.New("sched: operation in progress")
	// ErrNoCapacity: no node passes every filter.
	ErrNoCapacity = errors.New("sched: no feasible node")
	// ErrQueued: the request did not fit and waits in the pending queue;
	// it is retried when capacity appears. Errors wrapping ErrQueued also
	// wrap ErrNoCapacity.
	ErrQueued = errors.New("sched: request queued")
	// ErrConflict: concurrent commits kept invalidating the decision and
	// the bound on re-decisions was reached.
	ErrConflict = errors.New("sched: too many conflicting commits")
	// ErrBackend: a backend call failed.
	ErrBackend = errors.New("sched: backend failed")
	// ErrBackendTimeout: a backend call did not return within the timeout.
	ErrBackendTimeout = errors.New("sched: backend timeout")
	// ErrBadAllocation: a backend returned an allocation that does not
	// describe the placement (wrong ID, node or kind, bad quantities).
	ErrBadAllocation = errors.New("sched: backend returned a bad allocation")
	// ErrOverConsumed: a backend consumed more than the chosen node can
	// hold; the workload was undone and placed again with the larger claim.
	ErrOverConsumed = errors.New("sched: backend consumed more than the node can hold")
	// ErrUndoFailed: the coordinator could not undo a backend Create it
	// had to reject (timed out, over capacity, malformed). The workload
	// is kept in the ledger as the backend reported it, the other manager
	// is told, and the caller must Delete the ID to remove it.
	ErrUndoFailed = errors.New("sched: undo failed, workload kept in the ledger until Delete")
	// ErrNotifyFailed: a change could not be delivered to a manager; it
	// stays in the outbox and is retried.
	ErrNotifyFailed = errors.New("sched: notification failed")
	// ErrInvalidChange: a backend was told about a change that is malformed
	// or concerns its own kind.
	ErrInvalidChange = errors.New("sched: invalid change")
	// ErrInvalidNode: the node description is malformed.
	ErrInvalidNode = errors.New("sched: invalid node")
	// ErrDuplicateNode: a node with that name exists.
	ErrDuplicateNode = errors.New("sched: duplicate node")
	// ErrUnknownNode: no node with that name.
	ErrUnknownNode = errors.New("sched: unknown node")
	// ErrNodeBusy: the node still runs (or is placing) workloads.
	ErrNodeBusy = errors.New("sched: node has running workloads")
	// ErrInvalidConfig: a Config or backend configuration is unusable.
	ErrInvalidConfig = errors.New("sched: invalid configuration")
	// ErrNotInitialized: the method was called on a zero Coordinator or
	// MemBackend (or a nil pointer to one) instead of one made by New or
	// NewMemBackend.
	ErrNotInitialized = errors.New("sched: not initialized (use New or NewMemBackend)")
	// ErrNoLister: Recover or Reconcile needs every backend to implement
	// WorkloadLister, and one does not.
	ErrNoLister = errors.New("sched: backend cannot list its workloads")
	// ErrLedgerNotEmpty: Recover was called on a coordinator that already
	// holds workloads, or placements started while it ran. Recover a new
	// coordinator before accepting placements; Reconcile a running one.
	ErrLedgerNotEmpty = errors.New("sched: ledger not empty")
	// ErrRecovering: Create was called while Recover rebuilds the ledger;
	// retry once Recover has returned.
	ErrRecovering = errors.New("sched: recovering the ledger")
	// ErrSeqExhausted: a manager reports having applied a change number so
	// close to 2^64 that the coordinator cannot number its changes above
	// it (they would all be dropped as duplicates). The manager's record
	// of applied changes must be reset by its operator.
	ErrSeqExhausted = errors.New("sched: change numbers exhausted")
	// ErrInjected is returned by the reference backends when failure
	// injection fires.
	ErrInjected = errors.New("sched: injected failure")
)

// RequestError reports a bad request: which request, which field, and why.
type RequestError struct {
	ID    string // the Request.ID as given
	Field string // the offending field, e.g. "Resources"
	Err   error  // ErrInvalidRequest, ErrInvalidResources, ErrUnknownKind, ErrNoBackend, ErrDuplicateID
}

// Error formats the error with its detail.
func (e *RequestError) Error() string {
	return fmt.Sprintf("request %q: %s: %v", e.ID, e.Field, e.Err)
}

// Unwrap returns the underlying sentinel.
func (e *RequestError) Unwrap() error { return e.Err }

// Is lets ErrInvalidResources and ErrUnknownKind also match ErrInvalidRequest.
func (e *RequestError) Is(target error) bool {
	return target == ErrInvalidRequest && (errors.Is(e.Err, ErrInvalidResources) || errors.Is(e.Err, ErrUnknownKind))
}

// AttemptError is one failed backend attempt of a placement.
type AttemptError struct {
	Node string // the node tried
	Err  error  // usually a *BackendError; wraps ErrUndoFailed if the undo failed too
}

// PlacementError reports why a request could not be placed: how many nodes
// each filter rejected (when no node was feasible), and every backend
// attempt that failed.
type PlacementError struct {
	ID       string
	Rejected map[string]int // filter name → number of nodes it rejected
	Attempts []AttemptError
	// Err is ErrNoCapacity, ErrQueued, ErrConflict, ErrBackend,
	// ErrBackendTimeout, ErrBadAllocation, ErrOverConsumed, or the
	// caller's ctx.Err(). errors.Is on the PlacementError also searches
	// the attempts' errors (so it finds ErrUndoFailed), and ErrQueued also
	// matches ErrNoCapacity.
	Err error
}

// Error formats the error with its detail.
func (e *PlacementError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "place %q: %v", e.ID, e.Err)
	if len(e.Rejected) > 0 {
		b.WriteString(" (rejected by")
		for _, f := range filterNames {
			if n := e.Rejected[f]; n > 0 {
				fmt.Fprintf(&b, " %s:%d", f, n)
			}
		}
		b.WriteString(")")
	}
	for _, a := range e.Attempts {
		fmt.Fprintf(&b, "; on %s: %v", a.Node, a.Err)
	}
	return b.String()
}

// Unwrap returns the sentinel and every attempt's error, so errors.Is finds
// both ErrBackend and, say, context.DeadlineExceeded.
func (e *PlacementError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if errors.Is(e.Err, ErrQueued) {
		errs = append(errs, ErrNoCapacity)
	}
	for _, a := range e.Attempts {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// BackendError is a failed call to a backend.
type BackendError struct {
	Kind Kind   // the backend's kind
	Op   string // "create", "delete", "list" or "list-foreign"
	ID   string // the workload
	Node string // the node of the workload
	Err  error  // the backend's error (ErrBackendTimeout-wrapped on timeout)
}

// Error formats the error with its detail.
func (e *BackendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s backend %s", e.Kind, e.Op)
	if e.ID != "" {
		fmt.Fprintf(&b, " %q", e.ID)
	}
	if e.Node != "" {
		fmt.Fprintf(&b, " on %q", e.Node)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the backend's error.
func (e *BackendError) Unwrap() error { return e.Err }

// Is makes every BackendError match ErrBackend.
func (e *BackendError) Is(target error) bool { return target == ErrBackend }

// NotifyError is a change that could not be delivered to a manager after
// the configured retries. The change stays in the outbox.
type NotifyError struct {
	Target Kind   // the manager that would not take the change
	Change Change // the undelivered change
	Err    error  // the last delivery error
}

// Error formats the error with its detail.
func (e *NotifyError) Error() string {
	return fmt.Sprintf("notify %s of change %d (%s %q): %v", e.Target, e.Change.Seq, e.Change.Op, e.Change.Allocation.ID, e.Err)
}

// Unwrap returns the delivery error.
func (e *NotifyError) Unwrap() error { return e.Err }

// Is makes every NotifyError match ErrNotifyFailed.
func (e *NotifyError) Is(target error) bool { return target == ErrNotifyFailed }

// NodeError reports a bad node operation.
type NodeError struct {
	Node      string // the node name as given
	Workloads int    // live or in-flight workloads, for ErrNodeBusy
	Err       error  // ErrInvalidNode, ErrDuplicateNode, ErrUnknownNode or ErrNodeBusy
}

// Error formats the error with its detail.
func (e *NodeError) Error() string {
	if e.Workloads > 0 {
		return fmt.Sprintf("node %q: %v (%d workloads)", e.Node, e.Err, e.Workloads)
	}
	return fmt.Sprintf("node %q: %v", e.Node, e.Err)
}

// Unwrap returns the sentinel.
func (e *NodeError) Unwrap() error { return e.Err }

package sched

// The Coordinator type, its constructor and its counters. The rest of its
// methods live by responsibility: nodes.go (node events), placement.go
// (filter, score and pick), commit.go (claim, backend create and delete),
// ledger.go (the ledger primitives and Audit), outbox.go (notifications),
// pending.go (the pending queue), explain.go (Explain).

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

type wlState uint8

const (
	stPlacing wlState = iota + 1
	stLive
	stDeleting
	stPending
)

// workload is the ledger record of one request ID.
type workload struct {
	req   Request
	state wlState
	node  *nodeState // nil while it holds no claim
	cell  int
	res   Resources // what the ledger counts on node
	claim Resources // what to claim: the request, or more once a backend consumed more
	seq   uint64    // pending order
	// createdSeq is the Seq of the Created change announcing the workload.
	createdSeq uint64
	pidx       int // index in Coordinator.pending
	// forced: the ledger records the workload as its manager reports it,
	// without a capacity check (an undo that failed, a recovered or
	// adopted workload, a size corrected by Reconcile), so its node may
	// hold more than its allocatable capacity.
	forced bool
	// undoFailed: a rejected allocation that could not be undone; the
	// host must Delete it.
	undoFailed bool
}

// Coordinator places VM and container workloads on one pool of nodes and
// keeps the single ledger both managers share. All methods are safe for
// concurrent use.
//
// A placement is decided on a read-locked view of the ledger (many decisions
// run in parallel), then committed under the write lock, which re-checks
// every filter on the chosen node and claims its resources before the
// backend is called: a stale decision is never committed, and the number of
// re-decisions is bounded by Config.MaxConflicts.
//
// Make a Coordinator with New. The zero Coordinator (and a nil pointer)
// holds nothing: its methods that return an error return ErrNotInitialized,
// the others return empty results; none panics.
type Coordinator struct {
	cfg      Config
	backends [Container + 1]SchedulerBackend
	outboxes []*outbox

	rngMu sync.Mutex
	rng   *rand.Rand

	mu         sync.RWMutex
	nodes      []*nodeState // by slot; nil marks a free slot
	hot        []slotHot    // by slot: what the full scan reads, without chasing nodes
	byName     map[string]*nodeState
	freeSlots  []int
	index      fitIndex
	work       map[string]*workload
	groupTotal map[string]int
	groupNodes map[string]map[*nodeState]struct{} // group → nodes hosting members
	labelNodes map[string][]int                   // "key\x00value" → sorted slots carrying the label
	pending    []*workload
	pendSeq    uint64
	seq        uint64

	// Reconcile state. reconciling counts Reconcile calls between their
	// snapshot and their comparison; while it is non-zero every ID
	// removed from work is remembered in gone, so a workload listed by a
	// manager just before its Delete completed is not taken for an orphan.
	reconcileMu sync.Mutex
	recovering  bool // Recover is listing: Create refuses with ErrRecovering
	reconciling int
	gone        map[string]struct{}
	// drift holds what the last Reconcile or Recover found and did not
	// repair (deferred by the repair bound, or not repairable), by ID;
	// Audit reports it.
	drift map[string]DriftEvent

	npending   atomic.Int64
	retrying   atomic.Bool
	retryAgain atomic.Bool
	st         stats

	// afterDecide, if set, runs between a decision and its commit with no
	// lock held. Tests use it to change the ledger deterministically in
	// that window; it is nil in production.
	afterDecide func(ranked []candidate)
	// onPlan, if set, runs at the start of every preemption plan, with
	// c.mu held as the plan holds it. Tests only; nil in production.
	onPlan func()
}

type stats struct {
	placed, failed, conflicts, alternates, corrections, overconsumed, notifyFailures, deleted, preempted atomic.Int64
}

// Stats counts what a Coordinator did since it was created.
type Stats struct {
	Placed         int64 // successful Creates (including retried pending requests)
	Failed         int64 // Creates that ended in an error
	Deleted        int64 // successful Deletes
	Conflicts      int64 // decisions found stale at commit
	Alternates     int64 // backend attempts after the first
	Corrections    int64 // ledger entries corrected to the actual allocation
	OverConsumed   int64 // allocations undone because the node could not hold them
	NotifyFailures int64 // notifications left in the outbox after retries
	Preempted      int64 // workloads evicted for higher-priority requests
	Outbox         int   // changes waiting for delivery
	Pending        int   // requests waiting for capacity
	Workloads      int   // live, placing and deleting workloads
}

// ready reports ErrNotInitialized for a nil or zero Coordinator. The fields
// it reads are set by New before the Coordinator is shared and never change.
func (c *Coordinator) ready() error {
	if c == nil || c.byName == nil {
		return ErrNotInitialized
	}
	return nil
}

// New returns a Coordinator over the given backends (at most one per kind)
// with no nodes; add them with AddNode. It returns an error wrapping
// ErrInvalidConfig for an invalid cfg, a nil backend or two backends of one
// kind, and ErrUnknownKind for a backend whose Kind is not VM or Container.
func New(cfg Config, backends ...SchedulerBackend) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Coordinator{
		cfg:        cfg,
		rng:        rand.New(cfg.Rand),
		byName:     make(map[string]*nodeState),
		index:      newFitIndex(1),
		work:       make(map[string]*workload),
		groupTotal: make(map[string]int),
		groupNodes: make(map[string]map[*nodeState]struct{}),
		labelNodes: make(map[string][]int),
		gone:       make(map[string]struct{}),
		drift:      make(map[string]DriftEvent),
	}
	// Seq starts from the creation time in nanoseconds, so the changes of
	// a coordinator that replaces an earlier one (a restart against
	// long-lived managers) rank above its predecessor's when the clocks
	// agree; Recover and Reconcile move it above what managers with
	// ForeignLister applied, whatever the clocks say (resync.go).
	if t := cfg.Now().UnixNano(); t > 0 {
		c.seq = uint64(t)
	}
	for _, b := range backends {
		if b == nil {
			return nil, fmt.Errorf("%w: nil backend", ErrInvalidConfig)
		}
		k := b.Kind()
		if !k.Valid() {
			return nil, fmt.Errorf("%w: backend kind %v", ErrUnknownKind, k)
		}
		if c.backends[k] != nil {
			return nil, fmt.Errorf("%w: two backends for kind %s", ErrInvalidConfig, k)
		}
		c.backends[k] = b
		c.outboxes = append(c.outboxes, &outbox{target: b, kind: k})
	}
	return c, nil
}

// Stats returns the counters.
func (c *Coordinator) Stats() Stats {
	if c.ready() != nil {
		return Stats{}
	}
	s := Stats{
		Placed: c.st.placed.Load(), Failed: c.st.failed.Load(), Deleted: c.st.deleted.Load(),
		Conflicts: c.st.conflicts.Load(), Alternates: c.st.alternates.Load(), Corrections: c.st.corrections.Load(),
		OverConsumed: c.st.overconsumed.Load(), NotifyFailures: c.st.notifyFailures.Load(),
		Preempted: c.st.preempted.Load(),
	}
	for _, ob := range c.outboxes {
		ob.mu.Lock()
		s.Outbox += ob.live
		ob.mu.Unlock()
	}
	c.mu.RLock()
	s.Pending = len(c.pending)
	s.Workloads = len(c.work) - len(c.pending)
	c.mu.RUnlock()
	return s
}

package sched

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// SchedulerBackend is a workload manager — the VM manager or the container
// manager — that runs workloads on nodes the Coordinator chose.
//
// Implementations must be safe for concurrent use. The schedtest package
// checks the contract below with one call.
type SchedulerBackend interface {
	// Kind returns the kind of workload the backend runs (VM or
	// Container); it never changes.
	Kind() Kind
	// Create starts the workload p.Request.ID on p.Node and returns what
	// it actually consumed. The allocation's ID, Kind, Node and NUMACell
	// must match the placement; its Resources may differ from p.Claim (a
	// VM's overhead, for example). Create is idempotent by ID: a second
	// Create of an ID that is live or still being created fails with an
	// error wrapping ErrDuplicateID and changes nothing, so of concurrent
	// Creates of one ID at most one succeeds. On any error nothing may
	// remain allocated, now or later: a Create that returned an error never
	// completes afterwards. Create honours ctx: a cancelled or expired
	// context makes it return an error wrapping ctx.Err().
	Create(ctx context.Context, p Placement) (Allocation, error)
	// Delete stops the workload and frees its resources. Deleting an
	// unknown ID returns an error wrapping ErrNotFound. Delete honours ctx
	// like Create; on error the workload must still run. A Delete that
	// starts while a Create of the same ID is in flight waits for that
	// Create to finish (or cancels it) and then acts on its outcome: when
	// Delete returns nil or ErrNotFound, no workload of that ID runs. The
	// coordinator relies on this to undo a Create whose answer it lost.
	Delete(ctx context.Context, id string) error
	// ResourceChanged tells the backend what another manager did on a
	// shared node. It must be idempotent: the same change may arrive
	// again after a retry, and a backend may acknowledge (nil) and ignore
	// a change whose Seq is at or below the highest it applied. A Created
	// for an ID the backend already knows replaces what it knew (Recover
	// re-announces workloads to managers that cannot report their view).
	// Deleting an unknown ID is not an error. A change about the backend's
	// own kind is rejected with ErrInvalidChange. It must return once ctx
	// is done: the coordinator delivers changes from inside Create and
	// Delete and bounds each call with Config.NotifyTimeout.
	ResourceChanged(ctx context.Context, c Change) error
}

// WorkloadLister is an optional capability of a SchedulerBackend, found by
// type assertion (as database/sql/driver's optional interfaces are): it
// lists the workloads the manager actually runs, with what each really
// consumes. The Coordinator needs it for Recover and Reconcile; backends
// without it keep working for everything else.
//
// ListWorkloads returns every workload of the backend's kind that runs, in
// any order, each once, with the allocation's ID, Kind, Node, NUMACell and
// actual Resources. It must be linearizable with Create and Delete: a
// workload whose Create returned successfully before ListWorkloads was
// called is listed unless a Delete of it returned nil before the call; a
// workload whose Delete returned nil before the call is not listed. It
// honours ctx like Create and must be safe for concurrent use with every
// other method.
type WorkloadLister interface {
	ListWorkloads(ctx context.Context) ([]Workload, error)
}

// ForeignLister is an optional capability of a SchedulerBackend, found by
// type assertion like WorkloadLister: it reports the receiving side of the
// notification stream — the other managers' workloads as ResourceChanged
// told the backend about them, and the highest Change.Seq it applied.
// Backends without it keep working; with it, two failures of a
// coordinator replacing a crashed one are repaired:
//
//   - A change still in the crashed coordinator's outbox is lost with it.
//     Re-announcing every workload (what Recover does for a backend
//     without ForeignLister) repairs a lost Created or resize, but a lost
//     Deleted would leave a phantom in the view forever, occupying
//     capacity the manager believes taken. Recover compares each view
//     with what the other managers list and sends exactly the difference:
//     Deleted for a phantom, Created for a missing workload, Deleted then
//     Created for one recorded at another node, cell or size. Reconcile
//     does the same for drift that appears later (a manager that lost its
//     state), leaving changes still in flight alone.
//   - Change numbers must rise above everything a manager applied, or the
//     manager drops them as duplicates. Recover numbers the replacement's
//     changes from the next epoch (multiple of 2^40) above the highest
//     LastSeq any manager reports, whatever its clock says; Reconcile does
//     the same if it finds a manager ahead (DriftSeqBehind). The jump to a
//     new epoch also fences a predecessor that is not quite dead: once a
//     manager applied one of the replacement's changes, it drops the
//     predecessor's later ones (unless the predecessor makes 2^40 more).
//
// Without ForeignLister, Recover announces every workload again (a Created
// each) and numbering follows the coordinator's clock (Change).
//
// ListForeign returns one snapshot taken atomically with respect to
// ResourceChanged: Allocations is the state after every change the
// backend applied and no other — each ID once, as the latest applied
// Created carried it, without the IDs a later applied Deleted removed and
// without the backend's own workloads — and LastSeq is the highest Seq it
// applied (0 if none). A backend with ForeignLister must acknowledge (nil)
// and ignore every change numbered at or below LastSeq — that is what
// fences a predecessor. After ResourceChanged returned nil for a change,
// ListForeign reflects it (or reflects a later one about the same ID).
// A manager that loses this state on a restart reports what it kept;
// Reconcile re-announces the rest within its repair bound. ListForeign
// honours ctx like Create and must be safe for concurrent use with every
// other method. sched/schedtest checks it.
type ForeignLister interface {
	ListForeign(ctx context.Context) (ForeignView, error)
}

// ForeignView is a manager's picture of the other managers' workloads, as
// ForeignLister reports it.
type ForeignView struct {
	// LastSeq is the highest Change.Seq the manager applied; 0 if none.
	LastSeq uint64
	// Allocations are the other managers' workloads as the changes the
	// manager applied describe them, each ID once, in any order.
	Allocations []Allocation
}

// Workload is one running workload as a manager reports it.
type Workload struct {
	// Allocation is where it runs and what it really consumes.
	Allocation Allocation
	// Request is the request it was created from (Placement.Request). A
	// manager that does not keep it returns a zero Request; the
	// coordinator then recovers the workload with only its ID, Kind and
	// Resources, so its labels, groups and priority are lost.
	Request Request
}

// MemConfig configures a MemBackend.
type MemConfig struct {
	// Kind is the kind the backend runs; required.
	Kind Kind
	// Overhead is added to every allocation (a VM's emulator threads and
	// page tables, a container runtime's shim): the allocation is the
	// request plus Overhead plus OverheadFraction of the request.
	Overhead Resources
	// OverheadFraction adds this fraction of the requested memory and CPU
	// to every allocation (0.05 adds 5 %).
	OverheadFraction float64
	// Consume, if set, replaces the Overhead computation: it returns what
	// a placement actually consumes. It may be called concurrently.
	Consume func(Placement) Resources
	// Latency is how long Create and Delete take; they honour ctx while
	// waiting.
	Latency time.Duration
	// FailureRate is the probability that Create or Delete fails with
	// ErrInjected (before changing anything).
	FailureRate float64
	// NotifyFailureRate is the probability that ResourceChanged fails with
	// ErrInjected (before changing anything).
	NotifyFailureRate float64
	// Rand drives failure injection; nil means a fixed-seed PCG. Calls to
	// it are serialised by the backend.
	Rand rand.Source
}

// Validate reports whether the configuration is usable apart from Kind,
// which NewVMBackend and NewContainerBackend fill in (so the zero MemConfig
// is usable with them): errors wrap ErrInvalidConfig for a failure rate
// outside [0, 1], an OverheadFraction outside [0, 10], an invalid Overhead
// or a negative Latency, and ErrUnknownKind for a Kind that is set but is
// neither VM nor Container. The zero value is the recommended setting for
// tests (no overhead, no latency, no failures), so there is no Default.
func (cfg MemConfig) Validate() error {
	if cfg.Kind != 0 && !cfg.Kind.Valid() {
		return fmt.Errorf("%w: backend kind %v", ErrUnknownKind, cfg.Kind)
	}
	for _, p := range []float64{cfg.FailureRate, cfg.NotifyFailureRate} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("%w: failure rate %v outside [0, 1]", ErrInvalidConfig, p)
		}
	}
	if !(cfg.OverheadFraction >= 0 && cfg.OverheadFraction <= 10) {
		return fmt.Errorf("%w: overhead fraction %v outside [0, 10]", ErrInvalidConfig, cfg.OverheadFraction)
	}
	if f := cfg.Overhead.badQuantity(); f != "" {
		return fmt.Errorf("%w: overhead %s", ErrInvalidConfig, f)
	}
	if cfg.Latency < 0 {
		return fmt.Errorf("%w: negative latency", ErrInvalidConfig)
	}
	return nil
}

// MemBackend is an in-memory reference SchedulerBackend: it records the
// allocations it made and the other managers' changes it was told about,
// with configurable overhead, latency and failure injection. It is correct
// and safe for concurrent use, and it is what the tests, benchmarks and
// examples run against; a real host plugs in its hypervisor or container
// runtime instead.
//
// Make one with NewMemBackend. The zero MemBackend runs nothing: Create,
// Delete and ResourceChanged return ErrNotInitialized, Kind returns 0 and
// the listing methods return empty results.
type MemBackend struct {
	cfg MemConfig

	mu  sync.Mutex
	rng *rand.Rand
	own map[string]memWorkload
	// creating holds the IDs whose Create is in flight; a Delete that must
	// wait for one stores a channel there, which the Create closes.
	creating map[string]chan struct{}
	foreign  map[string]Allocation
	lastSeq  uint64
}

var (
	_ SchedulerBackend = (*MemBackend)(nil)
	_ WorkloadLister   = (*MemBackend)(nil)
	_ ForeignLister    = (*MemBackend)(nil)
)

// NewMemBackend returns a reference backend for cfg. It returns an error
// wrapping ErrUnknownKind for a missing or unknown Kind and ErrInvalidConfig
// for a failure rate outside [0, 1], an OverheadFraction outside [0, 10],
// an invalid Overhead or a negative Latency.
func NewMemBackend(cfg MemConfig) (*MemBackend, error) {
	if !cfg.Kind.Valid() {
		return nil, fmt.Errorf("%w: backend kind %v", ErrUnknownKind, cfg.Kind)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	src := cfg.Rand
	if src == nil {
		src = rand.NewPCG(uint64(cfg.Kind), 0x5eed)
	}
	return &MemBackend{
		cfg:      cfg,
		rng:      rand.New(src),
		own:      make(map[string]memWorkload),
		creating: make(map[string]chan struct{}),
		foreign:  make(map[string]Allocation),
	}, nil
}

// NewVMBackend returns a reference VM manager: NewMemBackend with Kind VM
// (same errors).
func NewVMBackend(cfg MemConfig) (*MemBackend, error) {
	cfg.Kind = VM
	return NewMemBackend(cfg)
}

// NewContainerBackend returns a reference container manager: NewMemBackend
// with Kind Container (same errors).
func NewContainerBackend(cfg MemConfig) (*MemBackend, error) {
	cfg.Kind = Container
	return NewMemBackend(cfg)
}

// Kind returns the configured kind.
func (m *MemBackend) Kind() Kind {
	if m == nil {
		return 0
	}
	return m.cfg.Kind
}

// ready reports ErrNotInitialized for a nil or zero MemBackend.
func (m *MemBackend) ready() error {
	if m == nil || m.own == nil {
		return ErrNotInitialized
	}
	return nil
}

func (m *MemBackend) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.cfg.Latency <= 0 {
		return nil
	}
	t := time.NewTimer(m.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail draws one failure decision; m.mu must be held.
func (m *MemBackend) fail(p float64) bool {
	return p > 0 && m.rng.Float64() < p
}

func (m *MemBackend) consume(p Placement) Resources {
	if m.cfg.Consume != nil {
		return m.cfg.Consume(p)
	}
	r := p.Request.Resources.Add(m.cfg.Overhead)
	if f := m.cfg.OverheadFraction; f > 0 {
		r.MilliCPU += int64(math.Ceil(float64(p.Request.Resources.MilliCPU) * f))
		r.MemoryBytes += int64(math.Ceil(float64(p.Request.Resources.MemoryBytes) * f))
	}
	return r
}

// Create records the allocation after the configured latency, unless
// failure injection fires or ctx ends first.
func (m *MemBackend) Create(ctx context.Context, p Placement) (Allocation, error) {
	if err := m.ready(); err != nil {
		return Allocation{}, err
	}
	if p.Request.Kind != m.cfg.Kind {
		return Allocation{}, fmt.Errorf("%w: %s placement sent to %s backend", ErrUnknownKind, p.Request.Kind, m.cfg.Kind)
	}
	if p.Request.ID == "" || p.Node == "" {
		return Allocation{}, fmt.Errorf("%w: placement without ID or node", ErrInvalidRequest)
	}
	id := p.Request.ID
	m.mu.Lock()
	_, live := m.own[id]
	_, busy := m.creating[id]
	if live || busy {
		m.mu.Unlock()
		return Allocation{}, fmt.Errorf("create %q: %w", id, ErrDuplicateID)
	}
	m.creating[id] = nil // a waiting Delete adds the channel
	m.mu.Unlock()

	err := m.wait(ctx)
	a := Allocation{ID: id, Kind: m.cfg.Kind, Node: p.Node, NUMACell: p.NUMACell, Resources: m.consume(p)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if done := m.creating[id]; done != nil {
		close(done)
	}
	delete(m.creating, id)
	if err != nil {
		return Allocation{}, fmt.Errorf("create %q: %w", id, err)
	}
	if m.fail(m.cfg.FailureRate) {
		return Allocation{}, fmt.Errorf("create %q: %w", id, ErrInjected)
	}
	req := cloneRequest(p.Request)
	m.own[id] = memWorkload{a, &req}
	return a, nil
}

// Delete removes the allocation after the configured latency. Unknown
// IDs fail at once with ErrNotFound.
func (m *MemBackend) Delete(ctx context.Context, id string) error {
	if err := m.ready(); err != nil {
		return err
	}
	m.mu.Lock()
	_, ok := m.own[id]
	done, busy := m.creating[id]
	if busy && done == nil {
		done = make(chan struct{})
		m.creating[id] = done
	}
	m.mu.Unlock()
	if busy {
		// A Create of the same ID is in flight: act on its outcome.
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("delete %q: %w", id, ctx.Err())
		}
		m.mu.Lock()
		_, ok = m.own[id]
		m.mu.Unlock()
	}
	if !ok {
		return fmt.Errorf("delete %q: %w", id, ErrNotFound)
	}
	if err := m.wait(ctx); err != nil {
		return fmt.Errorf("delete %q: %w", id, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.own[id]; !ok {
		return fmt.Errorf("delete %q: %w", id, ErrNotFound)
	}
	if m.fail(m.cfg.FailureRate) {
		return fmt.Errorf("delete %q: %w", id, ErrInjected)
	}
	delete(m.own, id)
	return nil
}

// ResourceChanged records another manager's change. Changes with a Seq at
// or below the highest one applied are acknowledged and ignored. Errors:
// ctx.Err(), an error wrapping ErrInvalidChange for a malformed change (or
// one about the backend's own kind), and ErrInjected when NotifyFailureRate
// fires.
func (m *MemBackend) ResourceChanged(ctx context.Context, c Change) error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.Allocation.Kind.Valid() || c.Allocation.Kind == m.cfg.Kind || c.Allocation.ID == "" ||
		(c.Op != Created && c.Op != Deleted) || c.Allocation.Resources.badQuantity() != "" {
		return fmt.Errorf("%w: %s %s %q", ErrInvalidChange, c.Op, c.Allocation.Kind, c.Allocation.ID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail(m.cfg.NotifyFailureRate) {
		return fmt.Errorf("change %d: %w", c.Seq, ErrInjected)
	}
	if c.Seq != 0 {
		if c.Seq <= m.lastSeq {
			return nil
		}
		m.lastSeq = c.Seq
	}
	switch c.Op {
	case Created:
		m.foreign[c.Allocation.ID] = c.Allocation
	case Deleted:
		delete(m.foreign, c.Allocation.ID)
	}
	return nil
}

// Allocations returns the backend's own allocations, sorted by ID.
func (m *MemBackend) Allocations() []Allocation {
	if m.ready() != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedOwn(m.own)
}

// ListWorkloads returns the backend's own workloads with the requests they
// were created from, sorted by ID; it is the WorkloadLister capability.
// Errors: ErrNotInitialized for a zero MemBackend, ctx.Err() once ctx is
// done.
func (m *MemBackend) ListWorkloads(ctx context.Context) ([]Workload, error) {
	if err := m.ready(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Workload, 0, len(m.own))
	for _, a := range sortedOwn(m.own) {
		var req Request
		if r := m.own[a.ID].req; r != nil {
			req = cloneRequest(*r)
		}
		out = append(out, Workload{Allocation: a, Request: req})
	}
	return out, nil
}

// ListForeign returns the other managers' allocations as the backend was
// told about them, sorted by ID, and the highest Seq it applied, in one
// snapshot; it is the ForeignLister capability. Errors: ErrNotInitialized
// for a zero MemBackend, ctx.Err() once ctx is done.
func (m *MemBackend) ListForeign(ctx context.Context) (ForeignView, error) {
	if err := m.ready(); err != nil {
		return ForeignView{}, err
	}
	if err := ctx.Err(); err != nil {
		return ForeignView{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return ForeignView{LastSeq: m.lastSeq, Allocations: sortedAllocs(m.foreign)}, nil
}

// Foreign returns the other managers' allocations as the backend was told
// about them, sorted by ID.
func (m *MemBackend) Foreign() []Allocation {
	if m.ready() != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedAllocs(m.foreign)
}

// View returns the backend's picture of each node's usage: its own
// allocations plus what it was told about the others'.
func (m *MemBackend) View() map[string]Resources {
	if m.ready() != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := make(map[string]Resources)
	for _, o := range m.own {
		a := o.Allocation
		v[a.Node] = v[a.Node].Add(a.Resources)
	}
	for _, a := range m.foreign {
		v[a.Node] = v[a.Node].Add(a.Resources)
	}
	return v
}

// memWorkload is one of a MemBackend's own workloads: its allocation and
// the request it was created from.
type memWorkload struct {
	Allocation
	req *Request
}

func sortedOwn(m map[string]memWorkload) []Allocation {
	out := make([]Allocation, 0, len(m))
	for _, o := range m {
		out = append(out, o.Allocation)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sortedAllocs(m map[string]Allocation) []Allocation {
	out := make([]Allocation, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

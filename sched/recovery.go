package sched

// Recovery: rebuild the ledger from the managers' own lists (Recover), and
// find and repair drift between the ledger and the managers (Reconcile).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// DriftKind classifies a difference between the ledger and what the
// managers report.
type DriftKind uint8

const (
	// DriftOrphan: a manager runs a workload the ledger does not know (a
	// create that landed after its answer was lost, or one made behind the
	// coordinator's back). Repair: the ledger adopts it as reported.
	DriftOrphan DriftKind = iota + 1
	// DriftMissing: the ledger records a live workload its manager does
	// not run (a lost delete, a crashed workload). Repair: the ledger
	// releases it and the other manager is told.
	DriftMissing
	// DriftResized: the manager reports another size or NUMA cell than the
	// ledger records. Repair: the ledger follows the manager.
	DriftResized
	// DriftMoved: the manager runs the workload on another node than the
	// ledger records. Repair: the ledger moves it.
	DriftMoved
	// DriftNodeLost: the managers run none of the workloads the ledger
	// records on a node (each is also reported as DriftMissing). The node
	// stays in the ledger: drain or remove it if it is gone.
	DriftNodeLost
	// DriftUnknownNode: a manager runs a workload on a node the
	// coordinator does not know. Not repaired: add the node, then
	// Reconcile adopts the workload.
	DriftUnknownNode
	// DriftConflict: one ID is listed twice (by two managers, or twice by
	// one), or by a manager of another kind than the ledger records. Not
	// repaired: the host must remove the duplicate.
	DriftConflict
	// DriftInvalid: a manager listed a malformed workload (bad ID, kind,
	// quantities or NUMA cell), or a malformed entry in its ForeignView
	// (DriftEvent.Manager names it then). Not repaired.
	DriftInvalid
	// DriftViewPhantom: a manager's ForeignView (DriftEvent.Manager)
	// shows a workload no other manager runs — a Deleted lost with a
	// crashed coordinator's outbox, say. Repair: that manager is sent a
	// Deleted.
	DriftViewPhantom
	// DriftViewMissing: a manager's ForeignView lacks a workload another
	// manager runs (a lost Created, or a manager that lost its state).
	// Repair: that manager is sent a Created.
	DriftViewMissing
	// DriftViewStale: a manager's ForeignView records a workload on
	// another node, NUMA cell or size than its manager runs it (a lost
	// resize). Repair: that manager is sent a Deleted of what it recorded,
	// then a Created of what runs.
	DriftViewStale
	// DriftSeqBehind: a manager (DriftEvent.Manager) has applied a change
	// numbered at or above the coordinator's next one, so it would drop
	// the coordinator's changes as duplicates (a predecessor or another
	// coordinator numbered higher, e.g. with a clock ahead). Repair, not
	// counted against Config.MaxRepairs: numbering continues at the next
	// epoch above, and the views are resynchronised. Not repairable when
	// no epoch is left (ErrSeqExhausted).
	DriftSeqBehind
)

// String names the kind.
func (k DriftKind) String() string {
	switch k {
	case DriftOrphan:
		return "orphan"
	case DriftMissing:
		return "missing"
	case DriftResized:
		return "resized"
	case DriftMoved:
		return "moved"
	case DriftNodeLost:
		return "node-lost"
	case DriftUnknownNode:
		return "unknown-node"
	case DriftConflict:
		return "conflict"
	case DriftInvalid:
		return "invalid"
	case DriftViewPhantom:
		return "view-phantom"
	case DriftViewMissing:
		return "view-missing"
	case DriftViewStale:
		return "view-stale"
	case DriftSeqBehind:
		return "seq-behind"
	}
	return fmt.Sprintf("DriftKind(%d)", uint8(k))
}

// repairable reports whether Reconcile repairs drift of this kind within
// its repair bound.
func (k DriftKind) repairable() bool {
	return (k >= DriftOrphan && k <= DriftMoved) || (k >= DriftViewPhantom && k <= DriftViewStale)
}

// DriftEvent is one difference between the ledger and the managers, or
// between a manager's view of the other managers' workloads and what they
// run (the DriftView kinds), or in the change numbering (DriftSeqBehind).
type DriftEvent struct {
	Kind   DriftKind  // what differs
	ID     string     // the workload; empty for DriftNodeLost
	Node   string     // the node concerned
	Ledger Allocation // what the ledger recorded; zero if nothing
	// Actual is what the manager reports; zero if nothing. For the
	// DriftView kinds it is what the Manager's view records.
	Actual Allocation
	// Manager is the manager whose ForeignView differs (the DriftView
	// kinds, DriftSeqBehind, and DriftInvalid about a view entry); 0 for
	// drift between the ledger and the managers' own workloads.
	Manager Kind
	// Repaired says whether the ledger was changed to match the manager
	// (for the DriftView kinds: whether the Manager was sent the changes
	// that correct its view; for DriftSeqBehind: whether the numbering
	// moved above it). A repairable event left unrepaired was deferred by
	// Config.MaxRepairs.
	Repaired bool
	Detail   string // human-readable detail
}

// String renders the event as one line.
func (e DriftEvent) String() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.ID != "" {
		fmt.Fprintf(&b, " %q", e.ID)
	}
	if e.Node != "" {
		fmt.Fprintf(&b, " on %q", e.Node)
	}
	switch {
	case e.Manager == 0:
	case e.Kind == DriftSeqBehind:
		fmt.Fprintf(&b, " at the %s manager", e.Manager)
	default:
		fmt.Fprintf(&b, " in the %s manager's view", e.Manager)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	switch {
	case e.Repaired:
		b.WriteString(" (repaired)")
	case e.Kind.repairable():
		b.WriteString(" (repair deferred)")
	}
	return b.String()
}

// DriftReport is what Recover or Reconcile found and did.
type DriftReport struct {
	Listed    int          // workloads the managers listed
	Recovered int          // Recover: workloads accounted in the new ledger
	Events    []DriftEvent // sorted by kind, then ID and node
	Repaired  int          // events whose repair was applied
	Deferred  int          // repairable events left for the next Reconcile
}

// listed is one workload from a manager's list.
type listed struct {
	a    Allocation
	req  Request
	from Kind // the manager that listed it
}

// listAll asks every backend for its workloads.
func (c *Coordinator) listAll(ctx context.Context) ([]listed, error) {
	var out []listed
	for k := VM; k <= Container; k++ {
		b := c.backends[k]
		if b == nil {
			continue
		}
		l, ok := b.(WorkloadLister)
		if !ok {
			return nil, fmt.Errorf("%w: the %s backend (%T)", ErrNoLister, k, b)
		}
		cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
		list, err := l.ListWorkloads(cctx)
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err != nil {
			if timedOut {
				err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
			}
			return nil, &BackendError{Kind: k, Op: "list", Err: err}
		}
		out = slices.Grow(out, len(list))
		for _, w := range list {
			out = append(out, listed{a: w.Allocation, req: w.Request, from: k})
		}
	}
	return out, nil
}

// check validates a listed workload and returns why it is malformed, or "".
// It also replaces a missing or inconsistent request by the minimal one.
func (l *listed) check() string {
	a := &l.a
	switch {
	case a.Kind != l.from:
		return fmt.Sprintf("the %s manager lists it as %s", l.from, a.Kind)
	case badString(a.ID, MaxIDLen):
		return "ID must be 1..253 bytes"
	case badString(a.Node, MaxIDLen):
		return "node name must be 1..253 bytes"
	case a.Resources.badQuantity() != "":
		return fmt.Sprintf("quantity %s negative or above MaxQuantity", a.Resources.badQuantity())
	case a.NUMACell < -1 || a.NUMACell >= MaxNUMACells:
		return fmt.Sprintf("NUMA cell %d", a.NUMACell)
	}
	if l.req.ID != a.ID || l.req.Kind != a.Kind || validateRequest(&l.req) != nil {
		l.req = Request{ID: a.ID, Kind: a.Kind, Resources: a.Resources}
	} else {
		l.req = cloneRequest(l.req)
	}
	return ""
}

// account records a listed workload as live on ns and, if announce, tells
// the other manager; c.mu must be held for writing and the ID must be
// free. Recover leaves the announcement to resyncViews for a manager that
// reports its view.
func (c *Coordinator) account(l *listed, ns *nodeState, announce bool) {
	w := &workload{req: l.req, state: stLive, cell: -1, claim: l.req.Resources.Max(l.a.Resources)}
	c.work[l.a.ID] = w
	c.claim(w, ns, l.a.NUMACell, l.a.Resources)
	c.settle(w)
	if announce {
		c.commitChange(Created, l.a.ID, w)
	}
}

// reaccount moves w to what its manager reports; c.mu must be held.
func (c *Coordinator) reaccount(w *workload, ns *nodeState, a Allocation) {
	c.commitChange(Deleted, a.ID, w)
	c.release(w)
	if w.forced {
		// release dropped it from the node's forced count; settle decides
		// afresh on the new node.
		w.forced = false
	}
	c.claim(w, ns, a.NUMACell, a.Resources)
	c.settle(w)
	c.commitChange(Created, a.ID, w)
}

func (c *Coordinator) ledgerAlloc(id string, w *workload) Allocation {
	if w == nil || w.node == nil {
		return Allocation{}
	}
	return Allocation{ID: id, Kind: w.req.Kind, Node: w.node.spec.Name, NUMACell: w.cell, Resources: w.res}
}

// Recover rebuilds the ledger of a new Coordinator from its managers: every
// workload a manager lists is accounted once, at its actual size, on its
// node, and announced to the other manager (a Created change, so a manager
// that missed the predecessor's notifications catches up). Add the nodes
// first and call Recover before accepting placements (while it lists,
// Create fails with ErrRecovering). What cannot be
// accounted without guessing — a workload on a node the coordinator does
// not know, an ID listed twice or under the wrong kind, a malformed
// listing — is left out of the ledger and reported in the DriftReport,
// through Config.OnDrift and by Audit (FindingUnreconciled); after fixing
// it (AddNode, say), Reconcile adopts it. A node that ends up holding more
// than its allocatable capacity is skipped by placements until it fits
// again (Audit reports FindingOverCommitted).
//
// Managers that implement ForeignLister are brought in step too: each
// one's view of the other managers' workloads is compared with what they
// list, and it is sent exactly the difference — a Deleted for a phantom
// (a Deleted its predecessor's outbox never delivered), a Created for what
// it lacks, Deleted then Created for what it records wrongly — each
// reported as a repaired DriftViewPhantom, DriftViewMissing or
// DriftViewStale event; a manager without ForeignLister is sent a Created
// for every workload. The replacement's changes are numbered from the
// next epoch above the highest Seq those managers applied, whatever its
// clock says (DriftSeqBehind reports a manager that was ahead of it).
//
// One coordinator drives a set of managers at a time: Recover the
// replacement once its predecessor is gone. A predecessor that still
// sends changes is fenced only at managers with ForeignLister, once they
// applied one of the replacement's changes (see ForeignLister).
//
// Every backend must implement WorkloadLister. Errors: ErrNotInitialized,
// an error wrapping ErrNoLister, ErrLedgerNotEmpty when the coordinator
// already holds workloads or one was created while Recover listed, a
// *BackendError when a list failed (wrapping ErrBackendTimeout or ctx.Err()
// where that was the cause), and an error wrapping ErrSeqExhausted when a
// manager reports a LastSeq too close to 2^64 to number above; on error
// the ledger is unchanged.
func (c *Coordinator) Recover(ctx context.Context) (DriftReport, error) {
	if err := c.ready(); err != nil {
		return DriftReport{}, err
	}
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	c.mu.Lock()
	busy, snap := len(c.work) > 0, c.seq
	c.recovering = !busy
	c.mu.Unlock()
	if busy {
		return DriftReport{}, fmt.Errorf("recover: %w", ErrLedgerNotEmpty)
	}
	defer func() {
		c.mu.Lock()
		c.recovering = false
		c.mu.Unlock()
	}()
	list, err := c.listAll(ctx)
	if err != nil {
		return DriftReport{}, fmt.Errorf("recover: %w", err)
	}
	vs, err := c.listViews(ctx)
	if err != nil {
		return DriftReport{}, fmt.Errorf("recover: %w", err)
	}
	rep := DriftReport{Listed: len(list)}
	count := make(map[string]int, len(list))
	for i := range list {
		count[list[i].a.ID]++
	}
	c.mu.Lock()
	if len(c.work) > 0 || c.seq != snap {
		c.mu.Unlock()
		return DriftReport{}, fmt.Errorf("recover: placements started while listing: %w", ErrLedgerNotEmpty)
	}
	events, err := c.advanceSeq(&vs, true)
	if err != nil {
		c.mu.Unlock()
		return DriftReport{}, fmt.Errorf("recover: %w", err)
	}
	c.work = make(map[string]*workload, len(list)) // empty: checked above
	clear(c.drift)                                 // an earlier Recover's findings are superseded
	reported := make(map[string]bool)
	for i := range list {
		l := &list[i]
		id := l.a.ID
		ev := DriftEvent{ID: id, Node: l.a.Node, Actual: l.a}
		if bad := l.check(); bad != "" {
			ev.Kind, ev.Detail = DriftInvalid, bad
		} else if count[id] > 1 {
			if reported[id] {
				continue
			}
			reported[id] = true
			ev.Kind, ev.Detail = DriftConflict, fmt.Sprintf("listed %d times", count[id])
		} else if ns := c.byName[l.a.Node]; ns == nil {
			ev.Kind, ev.Detail = DriftUnknownNode, "the coordinator does not know the node"
		} else if l.a.NUMACell >= len(ns.spec.NUMA) {
			ev.Kind, ev.Detail = DriftInvalid, fmt.Sprintf("NUMA cell %d of a node with %d", l.a.NUMACell, len(ns.spec.NUMA))
		} else {
			// A manager that reports its view hears only what it lacks
			// (resyncViews below); the others hear of every workload.
			c.account(l, ns, vs[other(l.a.Kind)] == nil)
			rep.Recovered++
			continue
		}
		if id != "" {
			c.drift[id] = ev
		}
		events = append(events, ev)
	}
	all := [Container + 1]viewSnap{{acked: math.MaxUint64}, {acked: math.MaxUint64}, {acked: math.MaxUint64}}
	c.resyncViews(&vs, &all, count, nil, &events)
	c.mu.Unlock()
	_ = c.flush(ctx, true)
	return c.report(rep, events), nil
}

// cmpEvents orders events by kind, then ID, then node.
func cmpEvents(a, b *DriftEvent) int {
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	if a.ID != b.ID {
		return strings.Compare(a.ID, b.ID)
	}
	return strings.Compare(a.Node, b.Node)
}

// sortEvents sorts events stably by cmpEvents. Events are large and a
// recovery may report one per workload, so it sorts their indices and
// then moves each event once, following the permutation's cycles.
func sortEvents(events []DriftEvent) {
	if slices.IsSortedFunc(events, func(a, b DriftEvent) int { return cmpEvents(&a, &b) }) {
		return
	}
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if c := cmpEvents(&events[i], &events[j]); c != 0 {
			return c
		}
		return cmp.Compare(i, j) // stable
	})
	// Position i receives the event at idx[i].
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := events[i]
		j := i
		for {
			k := idx[j]
			idx[j] = -1
			if k == i {
				events[j] = tmp
				break
			}
			events[j] = events[k]
			j = k
		}
	}
}

// report sorts the events, fills the counts and tells Config.OnDrift.
func (c *Coordinator) report(rep DriftReport, events []DriftEvent) DriftReport {
	sortEvents(events)
	for _, ev := range events {
		if ev.Repaired {
			rep.Repaired++
		} else if ev.Kind.repairable() {
			rep.Deferred++
		}
		if c.cfg.OnDrift != nil {
			c.cfg.OnDrift(ev)
		}
	}
	rep.Events = events
	return rep
}

// Reconcile compares the ledger with what the managers run and repairs the
// difference, at most Config.MaxRepairs repairs per call: orphans are
// adopted, missing workloads released, resized and moved ones re-accounted
// as their managers report them, and the other manager is told of each
// change. Then, for managers that implement ForeignLister, it compares
// each one's view of the others with the ledger and sends it what it
// lacks (the DriftView kinds, within the same bound); a manager that has
// applied changes numbered above the coordinator's (DriftSeqBehind) first
// moves the numbering above it, outside the bound. Every difference is a
// typed DriftEvent in the report and goes to Config.OnDrift; what was
// deferred or cannot be repaired stays visible in Audit's findings until a
// later Reconcile clears it. Call it periodically: each call bounds the
// repairs, so the period bounds the repair rate.
//
// Reconcile runs beside Create and Delete: workloads being placed, deleted
// or queued, and those committed or removed after its snapshot, are left
// for the next call, so an operation in flight is never taken for drift.
// Reconcile calls are serialised.
//
// Errors: ErrNotInitialized, an error wrapping ErrNoLister, and a
// *BackendError when a list (of workloads or of a view) failed; on error
// the ledger is unchanged.
func (c *Coordinator) Reconcile(ctx context.Context) (DriftReport, error) {
	if err := c.ready(); err != nil {
		return DriftReport{}, err
	}
	c.reconcileMu.Lock()
	defer c.reconcileMu.Unlock()
	c.mu.Lock()
	snap := c.seq
	snapViews := c.snapViews()
	c.reconciling++
	c.mu.Unlock()
	list, err := c.listAll(ctx)
	var vs views
	if err == nil {
		vs, err = c.listViews(ctx)
	}
	c.mu.Lock()
	defer func() {
		if c.reconciling--; c.reconciling == 0 {
			clear(c.gone)
		}
		c.mu.Unlock()
	}()
	if err != nil {
		return DriftReport{}, fmt.Errorf("reconcile: %w", err)
	}
	rep := DriftReport{Listed: len(list)}
	count := make(map[string]int, len(list))
	for i := range list {
		count[list[i].a.ID]++
	}
	sort.Slice(list, func(i, j int) bool { return list[i].a.ID < list[j].a.ID })
	clear(c.drift)
	budget := c.cfg.MaxRepairs
	var events []DriftEvent
	add := func(ev DriftEvent, repair func()) {
		if ev.Kind.repairable() && budget > 0 && repair != nil {
			budget--
			repair()
			ev.Repaired = true
		} else if ev.ID != "" || ev.Manager != 0 {
			c.drift[driftKey(ev)] = ev
		}
		events = append(events, ev)
	}
	// A manager ahead of the coordinator's numbering would drop every
	// change below, the repairs' too: move above it first.
	seqEvents, _ := c.advanceSeq(&vs, false)
	for _, ev := range seqEvents {
		if ev.Repaired {
			events = append(events, ev)
		} else {
			add(ev, nil)
		}
	}
	listedOn := make(map[*nodeState]int)
	reported := make(map[string]bool)
	for i := range list {
		l := &list[i]
		id := l.a.ID
		if ns := c.byName[l.a.Node]; ns != nil {
			// Whatever runs there — in flight or not — shows the node is
			// not lost.
			listedOn[ns]++
		}
		if _, g := c.gone[id]; g {
			continue // removed after the snapshot; the list may predate it
		}
		w := c.work[id]
		if w != nil && (w.state != stLive || w.createdSeq > snap) {
			continue // in flight, or committed after the snapshot
		}
		ev := DriftEvent{ID: id, Node: l.a.Node, Ledger: c.ledgerAlloc(id, w), Actual: l.a}
		if bad := l.check(); bad != "" {
			ev.Kind, ev.Detail = DriftInvalid, bad
			add(ev, nil)
			continue
		}
		if count[id] > 1 || (w != nil && w.req.Kind != l.a.Kind) {
			if !reported[id] {
				reported[id] = true
				ev.Kind, ev.Detail = DriftConflict, fmt.Sprintf("listed %d times; the ledger has it as %s", count[id], w.kindOr())
				add(ev, nil)
			}
			continue
		}
		ns := c.byName[l.a.Node]
		if ns == nil {
			ev.Kind, ev.Detail = DriftUnknownNode, "the coordinator does not know the node"
			add(ev, nil)
			continue
		}
		if l.a.NUMACell >= len(ns.spec.NUMA) {
			ev.Kind, ev.Detail = DriftInvalid, fmt.Sprintf("NUMA cell %d of a node with %d", l.a.NUMACell, len(ns.spec.NUMA))
			add(ev, nil)
			continue
		}
		switch {
		case w == nil:
			ev.Kind, ev.Detail = DriftOrphan, fmt.Sprintf("runs %v unknown to the ledger", l.a.Resources)
			add(ev, func() { c.account(l, ns, true) })
		case w.node != ns:
			ev.Kind, ev.Detail = DriftMoved, fmt.Sprintf("ledger has it on %q", w.node.spec.Name)
			add(ev, func() { c.reaccount(w, ns, l.a) })
		case w.res != l.a.Resources || w.cell != l.a.NUMACell:
			ev.Kind, ev.Detail = DriftResized, fmt.Sprintf("ledger %v cell %d, manager %v cell %d", w.res, w.cell, l.a.Resources, l.a.NUMACell)
			add(ev, func() { c.reaccount(w, ns, l.a) })
		}
	}
	// Live workloads of the snapshot that no manager listed.
	var missing []string
	eligible := make(map[*nodeState]int)
	for id, w := range c.work {
		if w.state != stLive || w.createdSeq > snap {
			continue
		}
		eligible[w.node]++
		if count[id] == 0 {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	missingOn := make(map[*nodeState]int)
	lostRepaired := make(map[*nodeState]bool)
	for _, id := range missing {
		w := c.work[id]
		ns := w.node
		missingOn[ns]++
		ev := DriftEvent{Kind: DriftMissing, ID: id, Node: ns.spec.Name, Ledger: c.ledgerAlloc(id, w),
			Detail: fmt.Sprintf("no %s manager runs it", w.req.Kind)}
		if _, ok := lostRepaired[ns]; !ok {
			lostRepaired[ns] = true
		}
		add(ev, func() {
			c.commitChange(Deleted, id, w)
			c.release(w)
			c.forget(id)
		})
		lostRepaired[ns] = lostRepaired[ns] && events[len(events)-1].Repaired
	}
	for ns, n := range missingOn {
		if n == eligible[ns] && listedOn[ns] == 0 {
			detail := fmt.Sprintf("the managers run none of its %d workload(s); released", n)
			if !lostRepaired[ns] {
				detail = fmt.Sprintf("the managers run none of its %d workload(s); release partly deferred", n)
			}
			events = append(events, DriftEvent{Kind: DriftNodeLost, Node: ns.spec.Name, Detail: detail})
		}
	}
	// The managers' views of each other, after the ledger's repairs.
	c.resyncViews(&vs, &snapViews, count, &budget, &events)
	c.mu.Unlock()
	rep = c.report(rep, events)
	_ = c.flush(ctx, true)
	if rep.Repaired > 0 {
		c.RetryPending(ctx)
	}
	c.mu.Lock() // for the deferred unlock
	return rep, nil
}

// kindOr names w's kind, or "absent".
func (w *workload) kindOr() string {
	if w == nil {
		return "absent"
	}
	return w.req.Kind.String()
}

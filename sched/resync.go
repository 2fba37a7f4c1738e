package sched

// View resync and change numbering. With the ForeignLister capability,
// Recover and Reconcile bring each manager's view of the other managers'
// workloads in step with the ledger — sending that manager, and only it,
// the changes it is missing — and keep the coordinator's change numbers
// above everything the managers applied.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// seqEpoch is the stride of change-number epochs. Recover starts a
// replacement coordinator at the next multiple of seqEpoch above what the
// managers applied, so its predecessor would need 2^40 more changes
// (about 1.7 years at 20 000 changes/s) to catch up with it.
const seqEpoch = 1 << 40

// nextEpoch returns the first Seq of the epoch after the one holding s; ok
// is false when no epoch is left below 2^64.
func nextEpoch(s uint64) (next uint64, ok bool) {
	e := s/seqEpoch + 1
	if e > math.MaxUint64/seqEpoch {
		return 0, false
	}
	return e * seqEpoch, true
}

// other returns the kind of the manager that hears about k's workloads.
func other(k Kind) Kind {
	if k == VM {
		return Container
	}
	return VM
}

// views holds, by kind, what each manager with ForeignLister reported; nil
// for a manager without it or without another manager to hear about.
type views [Container + 1]*ForeignView

// listViews asks every manager that implements ForeignLister for its view.
func (c *Coordinator) listViews(ctx context.Context) (views, error) {
	var vs views
	for k := VM; k <= Container; k++ {
		fl, ok := c.backends[k].(ForeignLister)
		if !ok || c.backends[other(k)] == nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
		v, err := fl.ListForeign(cctx)
		timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err != nil {
			if timedOut {
				err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
			}
			return views{}, &BackendError{Kind: k, Op: "list-foreign", Err: err}
		}
		vs[k] = &v
	}
	return vs, nil
}

// advanceSeq moves the change numbering above every reported LastSeq;
// c.mu must be held for writing. Reconcile (fence false) acts only when a
// manager is ahead of the coordinator; Recover (fence true) always moves
// to the next epoch above the highest LastSeq, so a predecessor that is
// not quite dead numbers below it. Each manager found ahead gives a
// DriftSeqBehind event. When no epoch is left, the events are unrepaired,
// the views of the managers ahead are dropped from vs (changes sent to
// them would be dropped), and the error wraps ErrSeqExhausted.
func (c *Coordinator) advanceSeq(vs *views, fence bool) ([]DriftEvent, error) {
	var top uint64
	found := false
	for _, v := range vs {
		if v != nil {
			found = true
			top = max(top, v.LastSeq)
		}
	}
	ahead := top > c.seq
	if !found || (!ahead && !fence) {
		return nil, nil
	}
	next, ok := nextEpoch(top)
	if !ok && !ahead {
		return nil, nil // already above every manager; no epoch to fence with
	}
	var events []DriftEvent
	var err error
	for k, v := range vs {
		if v == nil || v.LastSeq <= c.seq {
			continue
		}
		ev := DriftEvent{Kind: DriftSeqBehind, Manager: Kind(k), Repaired: ok}
		if ok {
			ev.Detail = fmt.Sprintf("applied change %d, above the coordinator's %d; numbering continues at %d", v.LastSeq, c.seq, next)
		} else {
			ev.Detail = fmt.Sprintf("applied change %d, above the coordinator's %d, and no epoch is left above it; reset the manager's record of applied changes", v.LastSeq, c.seq)
			if err == nil {
				err = fmt.Errorf("%w: the %s manager applied change %d", ErrSeqExhausted, Kind(k), v.LastSeq)
			}
			vs[k] = nil
		}
		events = append(events, ev)
	}
	if ok {
		c.seq = max(c.seq, next-1)
	}
	return events, err
}

// announceTo queues a change for the manager of kind target only and
// returns its Seq; c.mu must be held for writing.
func (c *Coordinator) announceTo(target Kind, op ChangeOp, a Allocation) uint64 {
	c.seq++
	ch := Change{Seq: c.seq, Op: op, Time: c.cfg.Now(), Allocation: a}
	for _, ob := range c.outboxes {
		if ob.kind == target {
			ob.push(ch, 0)
		}
	}
	return c.seq
}

// viewSnap is what Reconcile's snapshot records about the outbox of a
// manager with ForeignLister.
type viewSnap struct {
	// acked: every change up to it was acknowledged before the snapshot,
	// so the view listed after it reflects them; later ones may still be
	// on their way.
	acked uint64
	// deleting: IDs with a Deleted queued or in delivery at the snapshot.
	deleting map[string]struct{}
}

// snapViews records, for each manager with ForeignLister, what its outbox
// had delivered at this instant; c.mu must be held.
func (c *Coordinator) snapViews() [Container + 1]viewSnap {
	var s [Container + 1]viewSnap
	for _, ob := range c.outboxes {
		if _, ok := ob.target.(ForeignLister); !ok {
			continue
		}
		ob.mu.Lock()
		s[ob.kind].acked = ob.acked
		for _, ch := range ob.q[ob.head:] {
			if ch.Op == Deleted {
				if s[ob.kind].deleting == nil {
					s[ob.kind].deleting = make(map[string]struct{})
				}
				s[ob.kind].deleting[ch.Allocation.ID] = struct{}{}
			}
		}
		ob.mu.Unlock()
	}
	return s
}

// viewDiff is one workload the view of a manager records wrongly.
type viewDiff struct {
	id string
	w  *workload
	vi int // index of what the view records in ForeignView.Allocations; -1 if nothing
}

// viewDelta is what diffView found wrong in the view of the manager of
// kind m.
type viewDelta struct {
	m        Kind
	v        *ForeignView
	invalid  []DriftEvent // malformed entries
	diffs    []viewDiff   // missing or stale workloads
	phantoms []Allocation // entries no manager runs
}

func (d *viewDelta) len() int { return len(d.invalid) + len(d.diffs) + len(d.phantoms) }

// resyncViews compares the view of every manager in vs with the ledger
// and sends each manager the changes that bring it in step: Deleted for a
// phantom, Created for a missing workload, Deleted of what it records then
// Created for a stale one. c.mu must be held for writing. Every
// difference is appended to events; it is repaired while *budget allows
// (nil: no bound), and otherwise kept in c.drift for Audit. Missing and
// stale entries are repaired before phantoms: a view that lacks a workload
// lets its manager take capacity that is in use, a phantom only wastes
// some.
func (c *Coordinator) resyncViews(vs *views, snaps *[Container + 1]viewSnap, listed map[string]int, budget *int, events *[]DriftEvent) {
	var deltas [Container + 1]viewDelta
	n := 0
	for k, v := range vs {
		if v != nil {
			deltas[k] = c.diffView(Kind(k), v, snaps[k], listed, budget != nil)
			n += deltas[k].len()
		}
	}
	*events = slices.Grow(*events, n)
	for k := range deltas {
		if vs[k] != nil {
			c.applyView(&deltas[k], budget, events)
		}
	}
}

// diffView finds what the view v of the manager of kind m records wrongly;
// c.mu must be held, and nothing is changed. With ordered, the differences
// are sorted by ID, so which are repaired under a bound does not depend on
// map order (without a bound all are, and report sorts the events).
//
// Workloads in flight are left alone: one being placed or deleted, one
// whose latest Created was not acknowledged by the snapshot (its Seq is
// above snap.acked), an ID with a Deleted queued at the snapshot
// (snap.deleting) or removed since (c.gone). So is an ID some manager
// lists but the ledger does not account as another manager's workload
// (listed): that drift is reported and repaired on the ledger's side
// first. Recover passes acked = MaxUint64 and no deleting.
func (c *Coordinator) diffView(m Kind, v *ForeignView, snap viewSnap, listed map[string]int, ordered bool) viewDelta {
	d := viewDelta{m: m, v: v}
	seen := make(map[string]int, len(v.Allocations)) // ID → index in v.Allocations
	for i, a := range v.Allocations {
		bad := ""
		switch _, dup := seen[a.ID]; {
		case dup:
			bad = "listed twice in the view"
		case a.Kind == m || !a.Kind.Valid():
			bad = fmt.Sprintf("the %s manager's view holds a %s workload", m, a.Kind)
		case badString(a.ID, MaxIDLen) || badString(a.Node, MaxIDLen):
			bad = "ID and node name must be 1..253 bytes"
		case a.Resources.badQuantity() != "":
			bad = fmt.Sprintf("quantity %s negative or above MaxQuantity", a.Resources.badQuantity())
		}
		if bad != "" {
			d.invalid = append(d.invalid, DriftEvent{Kind: DriftInvalid, ID: a.ID, Node: a.Node, Actual: a, Manager: m, Detail: bad})
			continue
		}
		seen[a.ID] = i
	}
	for id, w := range c.work {
		if w.req.Kind == m {
			continue
		}
		vi, inView := seen[id]
		if inView {
			delete(seen, id)
		} else {
			vi = -1
		}
		if w.state != stLive || w.createdSeq > snap.acked {
			continue
		}
		if inView && v.Allocations[vi] == c.ledgerAlloc(id, w) {
			continue
		}
		d.diffs = append(d.diffs, viewDiff{id: id, w: w, vi: vi})
	}
	for id, vi := range seen {
		w := c.work[id]
		if w != nil && w.state != stLive {
			continue
		}
		if _, ok := snap.deleting[id]; ok {
			continue
		}
		if _, ok := c.gone[id]; ok {
			continue
		}
		if (w == nil && listed[id] > 0) || listed[id] > 1 {
			continue
		}
		d.phantoms = append(d.phantoms, v.Allocations[vi])
	}
	if ordered {
		slices.SortFunc(d.diffs, func(a, b viewDiff) int { return strings.Compare(a.id, b.id) })
		slices.SortFunc(d.phantoms, func(a, b Allocation) int { return strings.Compare(a.ID, b.ID) })
	}
	return d
}

// applyView reports and, within *budget (nil: no bound), repairs what
// diffView found; c.mu must be held for writing.
func (c *Coordinator) applyView(d *viewDelta, budget *int, events *[]DriftEvent) {
	m := d.m
	// emit records ev and reports whether to repair it now.
	emit := func(ev DriftEvent) bool {
		fix := ev.Kind.repairable() && (budget == nil || *budget > 0)
		if fix {
			if budget != nil {
				*budget--
			}
			ev.Repaired = true
		} else {
			c.drift[driftKey(ev)] = ev
		}
		*events = append(*events, ev)
		return fix
	}
	for _, ev := range d.invalid {
		emit(ev)
	}
	unknown := fmt.Sprintf("the %s manager does not know it", m)
	for _, df := range d.diffs {
		w, led := df.w, c.ledgerAlloc(df.id, df.w)
		ev := DriftEvent{ID: df.id, Node: led.Node, Ledger: led, Manager: m}
		if df.vi < 0 {
			ev.Kind, ev.Detail = DriftViewMissing, unknown
			if emit(ev) {
				w.createdSeq = c.announceTo(m, Created, led)
			}
			continue
		}
		old := d.v.Allocations[df.vi]
		ev.Kind, ev.Actual = DriftViewStale, old
		ev.Detail = fmt.Sprintf("the view has %v cell %d on %q", old.Resources, old.NUMACell, old.Node)
		if emit(ev) {
			c.announceTo(m, Deleted, old)
			w.createdSeq = c.announceTo(m, Created, led)
		}
	}
	noOne := fmt.Sprintf("no %s manager runs it", other(m))
	for _, a := range d.phantoms {
		if emit(DriftEvent{Kind: DriftViewPhantom, ID: a.ID, Node: a.Node, Actual: a, Manager: m, Detail: noOne}) {
			c.announceTo(m, Deleted, a)
		}
	}
}

// driftKey is the key of an unrepaired event in Coordinator.drift: the
// workload's ID for drift between the ledger and the managers, and a key
// of its own for drift of a manager's view, so the two never collide.
func driftKey(ev DriftEvent) string {
	if ev.Manager == 0 {
		return ev.ID
	}
	return "\x00" + ev.Manager.String() + "\x00" + ev.Kind.String() + "\x00" + ev.ID
}

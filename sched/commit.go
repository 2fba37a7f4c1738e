package sched

// Commit: Create (decide, claim, backend create, correct) and Delete, with
// alternates, undo of rejected allocations and adoption of failed undos.

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

func (c *Coordinator) checkRequest(r *Request) error {
	if err := validateRequest(r); err != nil {
		return err
	}
	if c.backends[r.Kind] == nil {
		return &RequestError{ID: r.ID, Field: "Kind", Err: fmt.Errorf("%w: %s", ErrNoBackend, r.Kind)}
	}
	return nil
}

// Create places a request: it picks a node, claims the resources in the
// ledger, asks the request kind's backend to create the workload, corrects
// the ledger to the allocation the backend reports and notifies the other
// manager. On backend failure the claim is released and up to
// Config.MaxAttempts nodes are tried.
//
// Errors: *RequestError (ErrInvalidRequest, ErrInvalidResources,
// ErrUnknownKind, ErrNoBackend, ErrDuplicateID) for bad input, and
// *PlacementError (ErrRecovering while Recover runs, ErrNoCapacity,
// ErrQueued, ErrConflict, ErrBackend,
// ErrBackendTimeout, ErrBadAllocation, ErrOverConsumed, or ctx.Err() when
// ctx ended) when no placement could be made. Then nothing remains
// claimed, with two exceptions: ErrQueued, where the request waits in the
// pending queue (Delete cancels it), and ErrUndoFailed, where a rejected
// allocation could not be undone, so the workload is kept in the ledger as
// it really is and must be removed with Delete.
//
// A create cut short by the backend timeout or by ctx is undone with a
// backend Delete, in case the backend created the workload and only the
// answer was lost.
//
// A notification that cannot be delivered does not fail Create: it stays
// in the outbox (see Flush and Config.OnNotifyError).
func (c *Coordinator) Create(ctx context.Context, req Request) (Placement, error) {
	if err := c.ready(); err != nil {
		return Placement{}, err
	}
	if err := c.checkRequest(&req); err != nil {
		c.st.failed.Add(1)
		return Placement{}, err
	}
	w := &workload{req: cloneRequest(req), state: stPlacing, cell: -1, claim: req.Resources}
	c.mu.Lock()
	if c.recovering {
		c.mu.Unlock()
		c.st.failed.Add(1)
		return Placement{}, &PlacementError{ID: req.ID, Err: ErrRecovering}
	}
	if _, dup := c.work[req.ID]; dup {
		c.mu.Unlock()
		c.st.failed.Add(1)
		return Placement{}, &RequestError{ID: req.ID, Field: "ID", Err: ErrDuplicateID}
	}
	c.work[req.ID] = w
	c.mu.Unlock()
	return c.place(ctx, w)
}

// place runs the decide–claim–create–commit loop for w, which is registered
// in c.work in state stPlacing and holds no claim.
func (c *Coordinator) place(ctx context.Context, w *workload) (Placement, error) {
	id := w.req.ID
	b := c.backends[w.req.Kind]
	claim := w.claim
	var (
		attempts []AttemptError
		exclude  []*nodeState
		buf      [8]candidate
		lastErr  error
		// preempted lists the workloads evicted for w (Config.Preemption).
		preempted []string
		// freed is set when this placement gave back capacity it had
		// claimed (a failed attempt, or an allocation below the claim).
		// Requests queued while the claim was held may fit now, so they
		// are retried: capacity that appears this way is a capacity event
		// like a Delete.
		freed bool
	)
	defer func() {
		if len(preempted) > 0 {
			// Evictions are committed changes: the other manager hears of
			// them before Create returns, whether or not w was placed
			// (on success the outbox was flushed already and this is cheap).
			_ = c.flush(ctx, true)
		}
		if freed && c.npending.Load() > 0 {
			c.RetryPending(ctx)
		}
	}()
	conflicts := 0
	for attempt := 0; attempt < c.cfg.MaxAttempts; {
		if err := ctx.Err(); err != nil {
			lastErr = err
			attempts = append(attempts, AttemptError{Err: err})
			break
		}
		c.mu.RLock()
		ranked := c.decide(&w.req, claim, exclude, buf[:0])
		c.mu.RUnlock()
		var chosen *nodeState
		cell := -1
		if len(ranked) == 0 {
			if !c.cfg.Preemption || w.req.PinNUMA {
				return c.unplaceable(w, claim, exclude, attempts)
			}
			if len(preempted) > 0 {
				// One request evicts on one node at most: once it has,
				// and the room went elsewhere or its backend failed
				// there, it does not evict on another node too.
				if lastErr != nil {
					break
				}
				return c.unplaceable(w, claim, exclude, attempts)
			}
			// Nothing fits: evict lower-priority workloads from one node.
			// preempt claims the freed room for w in the same critical
			// section that releases it.
			n, evicted, found := c.preempt(ctx, w, claim, exclude)
			preempted = append(preempted, evicted...)
			freed = freed || (n == nil && len(evicted) > 0)
			if !found {
				return c.unplaceable(w, claim, exclude, attempts)
			}
			if n == nil {
				c.st.conflicts.Add(1)
				if conflicts++; conflicts > c.cfg.MaxConflicts {
					lastErr = ErrConflict
					break
				}
				continue
			}
			chosen = n
		} else {
			if c.afterDecide != nil {
				c.afterDecide(ranked)
			}

			// Serialised commit: re-check the decision against the current ledger.
			c.mu.Lock()
			for _, cd := range ranked {
				if c.nodes[cd.n.slot] == cd.n && filterNode(cd.n, &w.req, claim, c.groupTotal) == passed {
					chosen = cd.n
					break
				}
			}
			if chosen == nil {
				c.mu.Unlock()
				c.st.conflicts.Add(1)
				if conflicts++; conflicts > c.cfg.MaxConflicts {
					lastErr = ErrConflict
					break
				}
				continue
			}
			if w.req.PinNUMA {
				cell = pickCell(chosen, claim)
			}
			c.claim(w, chosen, cell, claim)
			c.mu.Unlock()
		}

		attempt++
		if attempt > 1 {
			c.st.alternates.Add(1)
		}
		p := Placement{Request: w.req, Node: chosen.spec.Name, NUMACell: cell, Claim: claim, Attempt: attempt}
		alloc, err := c.callCreate(ctx, b, p)
		if err == nil {
			if alloc.ID != id || alloc.Kind != w.req.Kind || alloc.Node != p.Node || alloc.NUMACell != cell || alloc.Resources.badQuantity() != "" {
				err = &BackendError{Kind: b.Kind(), Op: "create", ID: id, Node: p.Node,
					Err: fmt.Errorf("%w: got %+v", ErrBadAllocation, alloc)}
				if uerr := c.compensate(ctx, b, id); uerr != nil {
					return c.adopt(ctx, w, p, claim, err, uerr, attempts)
				}
			}
		} else if errors.Is(err, ErrBackendTimeout) || ctx.Err() != nil {
			// The call was cut short, by our timeout or the caller's
			// context: the backend may have created the workload anyway
			// (a lost response), so make sure it is gone.
			if uerr := c.compensate(ctx, b, id); uerr != nil {
				return c.adopt(ctx, w, p, claim, err, uerr, attempts)
			}
		}
		if err != nil {
			c.mu.Lock()
			c.release(w)
			c.mu.Unlock()
			freed = true
			lastErr = err
			attempts = append(attempts, AttemptError{Node: p.Node, Err: err})
			exclude = append(exclude, chosen)
			continue
		}

		c.mu.Lock()
		if !c.correct(w, alloc.Resources) {
			c.mu.Unlock()
			c.st.overconsumed.Add(1)
			oerr := fmt.Errorf("%w: consumed %v", ErrOverConsumed, alloc.Resources)
			if uerr := c.compensate(ctx, b, id); uerr != nil {
				return c.adopt(ctx, w, p, alloc.Resources, oerr, uerr, attempts)
			}
			c.mu.Lock()
			c.release(w)
			c.mu.Unlock()
			freed = true
			lastErr = oerr
			attempts = append(attempts, AttemptError{Node: p.Node, Err: oerr})
			claim = claim.Max(alloc.Resources)
			w.claim = claim // a queued retry starts from what the backend really needs
			continue
		}
		w.state = stLive
		c.commitChange(Created, id, w)
		c.mu.Unlock()
		freed = !claim.Fits(alloc.Resources) // some quantity came in under the claim
		c.st.placed.Add(1)
		_ = c.flush(ctx, true)
		p.Allocated = alloc.Resources
		if len(preempted) > 0 {
			sort.Strings(preempted)
			p.Preempted = preempted
		}
		return p, nil
	}

	c.mu.Lock()
	if w.seq != 0 && ctx.Err() != nil {
		// A queued request retried on behalf of a caller whose context
		// ended (a Delete or AddNode with a deadline): that is no reason
		// to drop it, so it goes back to the queue in its old place.
		c.enqueue(w)
		c.mu.Unlock()
		return Placement{}, &PlacementError{ID: id, Attempts: attempts, Err: ErrQueued}
	}
	c.forget(id)
	c.mu.Unlock()
	c.st.failed.Add(1)
	kind := ErrBackend
	switch {
	case ctx.Err() != nil:
		kind = ctx.Err()
	case errors.Is(lastErr, ErrConflict):
		kind = ErrConflict
	case errors.Is(lastErr, ErrBackendTimeout):
		kind = ErrBackendTimeout
	case errors.Is(lastErr, ErrBadAllocation):
		kind = ErrBadAllocation
	case errors.Is(lastErr, ErrOverConsumed):
		kind = ErrOverConsumed
	}
	return Placement{}, &PlacementError{ID: id, Attempts: attempts, Err: kind}
}

// unplaceable ends a placement for which no node is feasible: it queues
// the request if the pending queue has room, and drops it otherwise.
func (c *Coordinator) unplaceable(w *workload, claim Resources, exclude []*nodeState, attempts []AttemptError) (Placement, error) {
	c.mu.RLock()
	rej := c.rejections(&w.req, claim, exclude)
	c.mu.RUnlock()
	c.mu.Lock()
	perr := &PlacementError{ID: w.req.ID, Rejected: rej, Attempts: attempts, Err: ErrNoCapacity}
	// A request that was queued before keeps its place even if new
	// arrivals filled the queue while it was being retried (at most one
	// retrier runs, so the queue exceeds MaxPending by at most one).
	if c.cfg.MaxPending > 0 && (len(c.pending) < c.cfg.MaxPending || w.seq != 0) && len(exclude) == 0 {
		c.enqueue(w)
		perr.Err = ErrQueued
	} else {
		c.forget(w.req.ID)
		c.st.failed.Add(1)
	}
	c.mu.Unlock()
	return Placement{}, perr
}

// adopt handles an allocation the coordinator rejected but could not undo:
// the workload exists on the node, so the ledger records it as it is and
// the other manager is told. Delete removes it.
func (c *Coordinator) adopt(ctx context.Context, w *workload, p Placement, actual Resources, err, uerr error, attempts []AttemptError) (Placement, error) {
	c.mu.Lock()
	c.forceCorrect(w, actual)
	w.undoFailed = true
	w.state = stLive
	c.commitChange(Created, w.req.ID, w)
	c.mu.Unlock()
	_ = c.flush(ctx, true)
	c.st.failed.Add(1)
	attempts = append(attempts, AttemptError{Node: p.Node, Err: fmt.Errorf("%w; %w: %w", err, ErrUndoFailed, uerr)})
	return Placement{}, &PlacementError{ID: w.req.ID, Attempts: attempts, Err: ErrBackend}
}

func (c *Coordinator) callCreate(ctx context.Context, b SchedulerBackend, p Placement) (Allocation, error) {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
	alloc, err := b.Create(cctx, p)
	timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil {
		if timedOut {
			err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
		}
		return Allocation{}, &BackendError{Kind: b.Kind(), Op: "create", ID: p.Request.ID, Node: p.Node, Err: err}
	}
	return alloc, nil
}

// compensate deletes a workload the ledger cannot accept; ErrNotFound counts
// as success (the create never happened).
func (c *Coordinator) compensate(ctx context.Context, b SchedulerBackend, id string) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for range c.cfg.CompensateRetries {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
		err = b.Delete(cctx, id)
		cancel()
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
	}
	return err
}

// Delete stops a workload through its backend, releases its resources and
// notifies the other manager; deleting a pending request just removes it
// from the queue. Pending requests are then retried.
//
// Errors: ErrNotFound for an unknown ID, ErrInProgress while it is being
// created or deleted, *BackendError if the backend failed (the workload
// stays live and keeps its resources). A backend answering ErrNotFound
// means the workload is already gone; the ledger is cleaned up. So after a
// Delete cut short by its timeout or ctx — the backend may have deleted
// the workload and only the answer was lost — calling Delete again
// reconciles the ledger either way.
func (c *Coordinator) Delete(ctx context.Context, id string) error {
	if err := c.ready(); err != nil {
		return err
	}
	c.mu.Lock()
	w := c.work[id]
	if w == nil {
		c.mu.Unlock()
		return fmt.Errorf("delete %q: %w", id, ErrNotFound)
	}
	switch w.state {
	case stPending:
		c.removePending(w)
		c.forget(id)
		c.mu.Unlock()
		return nil
	case stPlacing, stDeleting:
		c.mu.Unlock()
		return fmt.Errorf("delete %q: %w", id, ErrInProgress)
	}
	w.state = stDeleting
	node := w.node.spec.Name
	c.mu.Unlock()

	b := c.backends[w.req.Kind]
	cctx, cancel := context.WithTimeout(ctx, c.cfg.BackendTimeout)
	err := b.Delete(cctx, id)
	timedOut := errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.mu.Lock()
		w.state = stLive
		c.mu.Unlock()
		if timedOut {
			err = fmt.Errorf("%w after %v: %w", ErrBackendTimeout, c.cfg.BackendTimeout, err)
		}
		return &BackendError{Kind: b.Kind(), Op: "delete", ID: id, Node: node, Err: err}
	}
	c.mu.Lock()
	c.commitChange(Deleted, id, w)
	c.release(w)
	c.forget(id)
	c.mu.Unlock()
	c.st.deleted.Add(1)
	_ = c.flush(ctx, true)
	c.RetryPending(ctx)
	return nil
}

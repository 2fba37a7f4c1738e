package sched

// Notifications: the per-manager outbox of committed changes, delivered
// in commit order with retries and doubling backoff.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// outbox is the FIFO of changes one manager has not yet acknowledged.
// Changes are pushed under the coordinator's write lock, so each outbox
// holds them in commit (Seq) order; one goroutine at a time delivers from
// the head, and a failed head blocks the rest, so a manager never sees a
// delete before the create it undoes.
//
// While a manager is unreachable the outbox must not grow with churn: a
// Deleted whose Created has never been offered to the manager cancels it
// (neither is sent), so the outbox holds at most one change per workload
// the manager does not know about yet plus one per workload it knows about
// that is gone. Only the head can have been offered (delivery is strictly
// in order), so only entries behind it are ever cancelled.
type outbox struct {
	target     SchedulerBackend
	kind       Kind
	mu         sync.Mutex
	q          []Change // Seq-sorted; Op 0 marks a cancelled entry
	head       int
	live       int // entries in q[head:] not cancelled
	dead       int // cancelled entries in q[head:]
	delivering bool
	stuck      bool // the head failed a full round of retries
	// acked is the Seq of the last change the manager acknowledged;
	// Reconcile takes the changes up to it as reflected in the manager's
	// ForeignView.
	acked uint64
}

// push appends ch. A Deleted whose Created (Seq cancels) still waits
// behind the head, never offered, removes it instead and is not queued.
func (o *outbox) push(ch Change, cancels uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ch.Op == Deleted && cancels != 0 && o.head < len(o.q) {
		rest := o.q[o.head+1:]
		i, found := slices.BinarySearchFunc(rest, cancels, func(c Change, s uint64) int { return cmpSeq(c.Seq, s) })
		if found && rest[i].Op == Created && rest[i].Allocation.ID == ch.Allocation.ID {
			rest[i] = Change{Seq: cancels}
			o.live--
			o.dead++
			if o.dead >= 64 && o.dead > o.live {
				o.compact()
			}
			return
		}
	}
	o.q = append(o.q, ch)
	o.live++
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compact drops cancelled entries behind the head, which may be in flight
// and keeps its index.
func (o *outbox) compact() {
	if o.head >= len(o.q) {
		return
	}
	keep := o.q[:o.head+1]
	for _, ch := range o.q[o.head+1:] {
		if ch.Op != 0 {
			keep = append(keep, ch)
		}
	}
	clear(o.q[len(keep):])
	o.q = keep
	o.dead = 0
	if o.q[o.head].Op == 0 {
		o.dead = 1
	}
}

// Flush delivers every queued change, retrying each NotifyRetries times
// with doubling backoff. It returns a *NotifyError (matching
// ErrNotifyFailed) for the first change a manager would not take; that
// change and those behind it stay queued. If another goroutine is
// delivering to a manager, Flush leaves that outbox to it.
//
// Create and Delete flush on their way out, but once a manager has failed a
// full round of retries they make a single delivery attempt, so an
// unreachable manager slows the other manager's work by at most one
// NotifyTimeout. A host that wants delivery to resume without waiting for
// the next Create or Delete calls Flush periodically.
func (c *Coordinator) Flush(ctx context.Context) error {
	if err := c.ready(); err != nil {
		return err
	}
	return c.flush(ctx, false)
}

func (c *Coordinator) flush(ctx context.Context, inline bool) error {
	var first error
	for _, ob := range c.outboxes {
		if err := c.drain(ctx, ob, inline); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *Coordinator) drain(ctx context.Context, ob *outbox, inline bool) error {
	ob.mu.Lock()
	if ob.delivering || ob.live == 0 {
		ob.mu.Unlock()
		return nil
	}
	ob.delivering = true
	for ob.head < len(ob.q) {
		ch := ob.q[ob.head]
		if ch.Op == 0 {
			ob.q[ob.head] = Change{}
			ob.head++
			ob.dead--
			continue
		}
		retries := c.cfg.NotifyRetries
		if inline && ob.stuck {
			retries = 0
		}
		ob.mu.Unlock()
		err := c.send(ctx, ob.target, ch, retries)
		ob.mu.Lock()
		if err != nil {
			ob.delivering = false
			ob.stuck = true
			ob.mu.Unlock()
			c.st.notifyFailures.Add(1)
			ne := &NotifyError{Target: ob.kind, Change: ch, Err: err}
			if c.cfg.OnNotifyError != nil {
				c.cfg.OnNotifyError(ne)
			}
			return ne
		}
		ob.stuck = false
		ob.acked = ch.Seq
		ob.q[ob.head] = Change{}
		ob.head++
		ob.live--
		if ob.head >= 1024 && 2*ob.head >= len(ob.q) {
			n := copy(ob.q, ob.q[ob.head:])
			clear(ob.q[n:])
			ob.q, ob.head = ob.q[:n], 0
		}
	}
	ob.q, ob.head, ob.live, ob.dead = ob.q[:0], 0, 0, 0
	ob.delivering = false
	ob.mu.Unlock()
	return nil
}

// maxNotifyBackoff caps the doubling of Config.NotifyBackoff, so a large
// NotifyRetries cannot overflow the delay.
const maxNotifyBackoff = time.Minute

// send offers ch to b, retrying up to retries times with doubling backoff.
func (c *Coordinator) send(ctx context.Context, b SchedulerBackend, ch Change, retries int) error {
	backoff := c.cfg.NotifyBackoff
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.NotifyTimeout)
		err := b.ResourceChanged(cctx, ch)
		cancel()
		if err == nil {
			return nil
		}
		if i >= retries {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry abandoned: %w)", err, ctx.Err())
		}
		if backoff < maxNotifyBackoff {
			backoff = min(2*backoff, maxNotifyBackoff)
		}
	}
}

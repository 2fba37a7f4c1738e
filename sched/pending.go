package sched

// The pending queue: requests that did not fit wait here, ordered by
// priority then arrival, and are retried when capacity appears.

import (
	"context"
	"sort"
)

// enqueue puts w, which holds no claim, in the pending queue; a request
// that was queued before keeps its place in the order. c.mu must be held
// for writing.
func (c *Coordinator) enqueue(w *workload) {
	w.state = stPending
	if w.seq == 0 {
		c.pendSeq++
		w.seq = c.pendSeq
	}
	w.pidx = len(c.pending)
	c.pending = append(c.pending, w)
	c.npending.Add(1)
}

func (c *Coordinator) removePending(w *workload) {
	last := len(c.pending) - 1
	c.pending[w.pidx] = c.pending[last]
	c.pending[w.pidx].pidx = w.pidx
	c.pending[last] = nil
	c.pending = c.pending[:last]
	c.npending.Add(-1)
}

// Pending returns the queued requests in the order they will be retried.
func (c *Coordinator) Pending() []Request {
	if c.ready() != nil {
		return nil
	}
	c.mu.RLock()
	list := c.pendingOrder()
	c.mu.RUnlock()
	out := make([]Request, len(list))
	for i, w := range list {
		out[i] = cloneRequest(w.req)
	}
	return out
}

func (c *Coordinator) pendingOrder() []*workload {
	list := append([]*workload(nil), c.pending...)
	sort.Slice(list, func(i, j int) bool {
		if list[i].req.Priority != list[j].req.Priority {
			return list[i].req.Priority > list[j].req.Priority
		}
		return list[i].seq < list[j].seq
	})
	return list
}

// RetryPending tries to place queued requests, highest priority first, and
// returns how many were placed. The coordinator calls it itself whenever
// capacity appears (Delete, AddNode, ResumeNode); each outcome goes to
// Config.OnPending. If another goroutine is already retrying, it asks that
// one to make another pass and returns 0. A retrier makes at most four
// passes, so under sustained churn a capacity signal can be left for the
// next event; a host that wants queued requests retried even when the
// cluster goes quiet calls RetryPending periodically (and Flush).
func (c *Coordinator) RetryPending(ctx context.Context) int {
	if c.ready() != nil {
		return 0
	}
	placed := 0
	// At most four passes, so a caller of Delete is not kept retrying
	// forever under churn; a signal that arrives after the last pass is
	// served by the next capacity event or an explicit call.
	for pass := 0; pass < 4; pass++ {
		if c.npending.Load() == 0 {
			return placed
		}
		if !c.retrying.CompareAndSwap(false, true) {
			c.retryAgain.Store(true)
			return placed
		}
		c.retryAgain.Store(false)
		placed += c.retryPass(ctx)
		c.retrying.Store(false)
		// Another goroutine may have signalled while we held the flag and
		// returned at once; serve its signal with one more pass.
		if !c.retryAgain.Load() {
			return placed
		}
	}
	return placed
}

func (c *Coordinator) retryPass(ctx context.Context) int {
	placed := 0
	c.mu.RLock()
	list := c.pendingOrder()
	c.mu.RUnlock()
	for _, w := range list {
		if ctx.Err() != nil {
			break
		}
		var buf [8]candidate
		c.mu.Lock()
		if w.state != stPending || c.work[w.req.ID] != w || len(c.decide(&w.req, w.claim, nil, buf[:0])) == 0 {
			c.mu.Unlock()
			continue
		}
		c.removePending(w)
		w.state = stPlacing
		c.mu.Unlock()
		p, err := c.place(ctx, w)
		if err == nil {
			placed++
		}
		if c.cfg.OnPending != nil {
			c.cfg.OnPending(p, err)
		}
	}
	return placed
}

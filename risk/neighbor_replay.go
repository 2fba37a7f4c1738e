package risk

import (
	"strings"
	"sync"
)

// replayCache keeps, per terminal, the fingerprints of its most recent
// scans, bounded in both the terminals it tracks and the scans per
// terminal. It is safe for concurrent use.
type replayCache struct {
	mu        sync.Mutex
	window    int
	terminals map[string]*replayRing
	order     []string // tracked terminals, oldest first, as a ring
	next      int      // where the next terminal goes in order once full
	limit     int
}

// replayRing holds one terminal's recent fingerprints.
type replayRing struct {
	fps []uint64
	pos int
	n   int
}

func newReplayCache(window, terminals int) *replayCache {
	return &replayCache{window: window, limit: terminals, terminals: make(map[string]*replayRing)}
}

// seen reports whether fp is among the recent fingerprints of terminal;
// with record (and fp not seen) it records it as the terminal's newest. It
// allocates only when a terminal is first recorded.
func (c *replayCache) seen(terminal string, fp uint64, record bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.terminals[terminal]
	if r == nil {
		if !record {
			return false
		}
		terminal = strings.Clone(terminal) // do not pin the caller's buffer
		if len(c.order) < c.limit {
			c.order = append(c.order, terminal)
		} else {
			// Forget the oldest-tracked terminal.
			delete(c.terminals, c.order[c.next])
			c.order[c.next] = terminal
			c.next = (c.next + 1) % c.limit
		}
		r = &replayRing{fps: make([]uint64, c.window)}
		c.terminals[terminal] = r
	}
	for _, v := range r.fps[:r.n] {
		if v == fp {
			return true
		}
	}
	if !record {
		return false
	}
	r.fps[r.pos] = fp
	r.pos = (r.pos + 1) % len(r.fps)
	r.n = min(r.n+1, len(r.fps))
	return false
}

package vehicle

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Position is a point on the road plane, in metres.
type Position struct{ X, Y float64 }

// Distance returns the Euclidean distance to q, in metres.
func (p Position) Distance(q Position) float64 { return math.Hypot(p.X-q.X, p.Y-q.Y) }

func (p Position) finite() bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}

// PoolConfig describes a sidelink resource pool (3GPP TS 38.331 SL-ResourcePool:
// sub-channels in frequency × slots in one resource reservation period) and
// how the base station grants it in mode 1 (TS 38.321 §5.22.1, dynamic and
// configured sidelink grants). The zero value is usable: zero fields take
// the defaults of DefaultPoolConfig.
type PoolConfig struct {
	SubChannels       int           // sub-channels per slot; 0 = 5
	Slots             int           // slots per reservation period; 0 = 10
	InterferenceRange float64       // metres; pairs closer than this never share a resource; 0 = 300
	GrantLifetime     time.Duration // how long a grant lasts; 0 = 1 s
	MaxGrants         int           // bound on live grants; 0 = 4096
}

// DefaultPoolConfig returns a 5 × 10 pool (50 resources), 300 m
// interference range, 1 s grants.
func DefaultPoolConfig() PoolConfig {
	return PoolConfig{SubChannels: 5, Slots: 10, InterferenceRange: 300, GrantLifetime: time.Second, MaxGrants: 4096}
}

// Validate reports negative or absurd values.
func (c PoolConfig) Validate() error {
	switch {
	case c.SubChannels < 0 || c.SubChannels > 1<<10:
		return configErr("SubChannels", "%d, want 0…1024", c.SubChannels)
	case c.Slots < 0 || c.Slots > 1<<12:
		return configErr("Slots", "%d, want 0…4096", c.Slots)
	case c.InterferenceRange < 0 || math.IsNaN(c.InterferenceRange) || math.IsInf(c.InterferenceRange, 0):
		return configErr("InterferenceRange", "%v, want a finite value ≥ 0", c.InterferenceRange)
	case c.GrantLifetime < 0:
		return configErr("GrantLifetime", "%s is negative", c.GrantLifetime)
	case c.MaxGrants < 0:
		return configErr("MaxGrants", "%d is negative", c.MaxGrants)
	}
	return nil
}

func (c PoolConfig) withDefaults() PoolConfig {
	d := DefaultPoolConfig()
	if c.SubChannels == 0 {
		c.SubChannels = d.SubChannels
	}
	if c.Slots == 0 {
		c.Slots = d.Slots
	}
	if c.InterferenceRange == 0 {
		c.InterferenceRange = d.InterferenceRange
	}
	if c.GrantLifetime == 0 {
		c.GrantLifetime = d.GrantLifetime
	}
	if c.MaxGrants == 0 {
		c.MaxGrants = d.MaxGrants
	}
	return c
}

// Grant is a mode-1 sidelink grant: one resource (sub-channel, slot) of
// the pool, reserved in every period for the pair A–B until Expires.
type Grant struct {
	ID               uint64
	A, B             VehicleID
	PosA, PosB       Position // positions when granted
	SubChannel, Slot int
	Issued, Expires  time.Time
}

// Interferes reports whether pairs g and h are within rng metres of each
// other: some member of one is within rng of some member of the other.
func (g Grant) Interferes(h Grant, rng float64) bool {
	for _, p := range [2]Position{g.PosA, g.PosB} {
		for _, q := range [2]Position{h.PosA, h.PosB} {
			if p.Distance(q) <= rng {
				return true
			}
		}
	}
	return false
}

func (g Grant) sharesVehicle(h Grant) bool {
	return g.A == h.A || g.A == h.B || g.B == h.A || g.B == h.B
}

// PoolStats counts what a ResourcePool did.
type PoolStats struct {
	Requested, Granted, Denied, Released, Expired, Used int
}

// SuccessRate is Granted / Requested (1 when nothing was requested).
func (s PoolStats) SuccessRate() float64 {
	if s.Requested == 0 {
		return 1
	}
	return float64(s.Granted) / float64(s.Requested)
}

// ResourcePool is a base station's sidelink resource pool. Grant colours
// the interference graph incrementally: the vertices are live grants, an
// edge joins two pairs within InterferenceRange, and a new pair takes the
// first resource (colour) no neighbour holds — greedy first-fit colouring
// (Welsh & Powell, The Computer Journal 10(1), 1967). Pairs sharing a
// vehicle are also kept out of each other's slot (a radio is half duplex).
// So no two live grants within interference range ever overlap; when every
// resource is taken around the pair the grant is denied and counted.
//
// Time is passed in, so expiry is deterministic. The pool's time never
// runs backwards: a call passing a time earlier than one an earlier call
// passed is handled at that later time (a grant is then Issued at it), so
// out-of-order clocks of concurrent callers cannot free a resource for a
// time when its grant still held it. Safe for concurrent use.
type ResourcePool struct {
	mu        sync.Mutex
	cfg       PoolConfig
	next      uint64
	active    map[uint64]Grant
	ended     map[uint64]tombstone // released and expired grants, kept one lifetime past expiry
	stats     PoolStats
	used      []uint64  // scratch bitset over resources
	nextSweep time.Time // earliest time sweep has anything to do; zero = now
	clock     time.Time // latest time any call passed; the pool's time never runs backwards
}

// advance returns the pool's time for a call made at now: now, or the
// latest time an earlier call passed if that is later. Concurrent callers
// read their clocks before they get the lock, so times arrive out of
// order; without this a grant swept as expired (or released) at a later
// time would free its resource for a neighbour asking at an earlier time,
// when the grant still held it.
func (p *ResourcePool) advance(now time.Time) time.Time {
	if now.Before(p.clock) {
		return p.clock
	}
	p.clock = now
	return now
}

type tombstone struct {
	expires  time.Time
	released bool // false: it expired
}

// NewResourcePool returns an empty pool.
func NewResourcePool(cfg PoolConfig) (*ResourcePool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := cfg.SubChannels * cfg.Slots
	return &ResourcePool{cfg: cfg, active: map[uint64]Grant{}, ended: map[uint64]tombstone{},
		used: make([]uint64, (n+63)/64)}, nil
}

// Config returns the pool's configuration with defaults filled in.
func (p *ResourcePool) Config() PoolConfig {
	if p == nil {
		return PoolConfig{}
	}
	return p.cfg
}

// deadline records that sweep has work to do at t.
func (p *ResourcePool) deadline(t time.Time) {
	if p.nextSweep.IsZero() || t.Before(p.nextSweep) {
		p.nextSweep = t
	}
}

func (p *ResourcePool) sweep(now time.Time) {
	if now.Before(p.nextSweep) {
		return // nothing expires or is forgotten before nextSweep
	}
	p.nextSweep = time.Time{}
	defer func() {
		for _, g := range p.active {
			p.deadline(g.Expires)
		}
		for _, ts := range p.ended {
			p.deadline(ts.expires.Add(p.cfg.GrantLifetime))
		}
	}()
	for id, g := range p.active {
		if !now.Before(g.Expires) {
			delete(p.active, id)
			p.ended[id] = tombstone{expires: g.Expires}
			p.stats.Expired++
		}
	}
	for id, ts := range p.ended {
		if !now.Before(ts.expires.Add(p.cfg.GrantLifetime)) {
			delete(p.ended, id)
		}
	}
}

// Grant gives the pair a, b (at posA, posB) a resource that no live grant
// within interference range holds. It returns ErrPoolExhausted, and counts
// a denial, when there is none.
func (p *ResourcePool) Grant(a, b VehicleID, posA, posB Position, now time.Time) (Grant, error) {
	if p == nil || p.active == nil {
		return Grant{}, ErrNotInitialized
	}
	if err := a.Validate(); err != nil {
		return Grant{}, err
	}
	if err := b.Validate(); err != nil {
		return Grant{}, err
	}
	if a == b {
		return Grant{}, ErrSelfFriend
	}
	if !posA.finite() || !posB.finite() {
		return Grant{}, fmt.Errorf("%w: position is not finite", ErrInvalidRequest)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.advance(now)
	p.sweep(now)
	p.stats.Requested++
	g := Grant{A: a, B: b, PosA: posA, PosB: posB, Issued: now, Expires: now.Add(p.cfg.GrantLifetime)}
	if len(p.active) >= p.cfg.MaxGrants {
		p.stats.Denied++
		return Grant{}, fmt.Errorf("%w: %d live grants", ErrPoolExhausted, len(p.active))
	}
	clear(p.used)
	sub := p.cfg.SubChannels
	for _, h := range p.active {
		if h.sharesVehicle(g) {
			for s := range sub {
				c := h.Slot*sub + s
				p.used[c/64] |= 1 << (c % 64)
			}
			continue
		}
		if g.Interferes(h, p.cfg.InterferenceRange) {
			c := h.Slot*sub + h.SubChannel
			p.used[c/64] |= 1 << (c % 64)
		}
	}
	n := sub * p.cfg.Slots
	for w, word := range p.used {
		if free := ^word; free != 0 {
			c := w*64 + bits.TrailingZeros64(free)
			if c >= n {
				break
			}
			p.next++
			g.ID = p.next
			g.Slot, g.SubChannel = c/sub, c%sub
			p.active[g.ID] = g
			p.stats.Granted++
			p.deadline(g.Expires)
			return g, nil
		}
	}
	p.stats.Denied++
	return Grant{}, fmt.Errorf("%w: all %d resources are held within %.0f m", ErrPoolExhausted, n, p.cfg.InterferenceRange)
}

// Use checks that grant id may be transmitted on at now and returns it:
// ErrGrantExpired after its expiry, ErrUnknownGrant if it was released or
// never issued (ended grants are remembered one GrantLifetime past expiry).
func (p *ResourcePool) Use(id uint64, now time.Time) (Grant, error) {
	if p == nil || p.active == nil {
		return Grant{}, ErrNotInitialized
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.advance(now)
	g, ok := p.active[id]
	switch {
	case ok && !now.Before(g.Expires):
		return Grant{}, fmt.Errorf("%w: grant %d expired at %s", ErrGrantExpired, id, g.Expires.Format(time.RFC3339Nano))
	case ok:
		p.stats.Used++
		return g, nil
	}
	if ts, ok := p.ended[id]; ok {
		if !ts.released {
			return Grant{}, fmt.Errorf("%w: grant %d expired at %s", ErrGrantExpired, id, ts.expires.Format(time.RFC3339Nano))
		}
		return Grant{}, fmt.Errorf("%w: grant %d was released", ErrUnknownGrant, id)
	}
	return Grant{}, fmt.Errorf("%w: %d", ErrUnknownGrant, id)
}

// Release returns grant id's resource to the pool. A second release gives
// ErrDoubleRelease and releasing an expired grant ErrGrantExpired, for one
// GrantLifetime after the grant's expiry; later both give ErrUnknownGrant.
func (p *ResourcePool) Release(id uint64, now time.Time) error {
	if p == nil || p.active == nil {
		return ErrNotInitialized
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.advance(now)
	if g, ok := p.active[id]; ok {
		delete(p.active, id)
		if !now.Before(g.Expires) {
			p.ended[id] = tombstone{expires: g.Expires}
			p.deadline(g.Expires.Add(p.cfg.GrantLifetime))
			p.stats.Expired++
			return fmt.Errorf("%w: grant %d", ErrGrantExpired, id)
		}
		p.ended[id] = tombstone{expires: g.Expires, released: true}
		p.deadline(g.Expires.Add(p.cfg.GrantLifetime))
		p.stats.Released++
		return nil
	}
	if ts, ok := p.ended[id]; ok {
		if ts.released {
			return fmt.Errorf("%w: grant %d", ErrDoubleRelease, id)
		}
		return fmt.Errorf("%w: grant %d", ErrGrantExpired, id)
	}
	return fmt.Errorf("%w: %d", ErrUnknownGrant, id)
}

// Active returns the live grants at now, by ID.
func (p *ResourcePool) Active(now time.Time) []Grant {
	if p == nil || p.active == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.advance(now)
	p.sweep(now)
	out := make([]Grant, 0, len(p.active))
	for _, g := range p.active {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b Grant) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// coChannel calls f for every live grant other than g on g's resource.
func (p *ResourcePool) coChannel(g Grant, now time.Time, f func(Grant)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.advance(now)
	for _, h := range p.active {
		if h.ID != g.ID && h.Slot == g.Slot && h.SubChannel == g.SubChannel && now.Before(h.Expires) {
			f(h)
		}
	}
}

// Stats returns the pool's counters.
func (p *ResourcePool) Stats() PoolStats {
	if p == nil {
		return PoolStats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

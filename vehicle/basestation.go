package vehicle

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// MaxBroadcastsPerRequest bounds how often one request may be sealed and
// broadcast (the first time and its resends) while it is pending: the base
// station keeps every broadcast's sequence number to check the answer, and
// a requester resending forever must not grow that without bound.
const MaxBroadcastsPerRequest = 16

// BaseStationConfig configures a BaseStation. ID, NetworkKey, Now and Rand
// are required; zero bounds take their defaults.
type BaseStationConfig struct {
	ID         string           // base-station (cell) identifier, bound into every envelope
	NetworkKey *ecdh.PrivateKey // the network's X25519 private key, shared by its base stations
	Now        func() time.Time
	Rand       io.Reader // envelope nonces

	// Locate reports where an attached vehicle is; nil treats every
	// enrolled vehicle as in coverage and disables sidelink grants.
	Locate         func(VehicleID) (Position, bool)
	Position       Position      // the base station's position, metres
	CoverageRadius float64       // metres; with Locate, vehicles farther away are out of coverage; 0 = unlimited
	Pool           *ResourcePool // optional: with Locate, Pay grants the pair a sidelink channel

	PendingTTL    time.Duration // how long an unanswered request is kept; 0 = 2 × DefaultFreshness
	MaxPending    int           // bound on requests in flight; 0 = 65536
	MaxCachedKeys int           // bound on cached derived keys; 0 = 4096
}

// DefaultBaseStationConfig returns a configuration with the recommended
// bounds for the given identity, network key, clock and randomness, no
// positions (every enrolled vehicle is in coverage) and no sidelink pool.
func DefaultBaseStationConfig(id string, networkKey *ecdh.PrivateKey, now func() time.Time, rand io.Reader) BaseStationConfig {
	return BaseStationConfig{ID: id, NetworkKey: networkKey, Now: now, Rand: rand,
		PendingTTL: 2 * DefaultFreshness, MaxPending: 1 << 16, MaxCachedKeys: 4096}
}

// Validate reports missing collaborators and out-of-range values.
func (c BaseStationConfig) Validate() error {
	if err := checkID("base station ID", c.ID); err != nil {
		return fmt.Errorf("%w: ID: %w", ErrInvalidConfig, err)
	}
	switch {
	case c.NetworkKey == nil || c.NetworkKey.Curve() != ecdh.X25519():
		return configErr("NetworkKey", "need an X25519 private key")
	case c.Now == nil:
		return configErr("Now", "nil clock")
	case c.Rand == nil:
		return configErr("Rand", "nil random source")
	case c.CoverageRadius < 0 || c.CoverageRadius != c.CoverageRadius:
		return configErr("CoverageRadius", "%v, want ≥ 0", c.CoverageRadius)
	case c.PendingTTL < 0:
		return configErr("PendingTTL", "%s is negative", c.PendingTTL)
	case c.MaxPending < 0:
		return configErr("MaxPending", "%d is negative", c.MaxPending)
	case c.MaxCachedKeys < 0:
		return configErr("MaxCachedKeys", "%d is negative", c.MaxCachedKeys)
	}
	return nil
}

// Broadcast is one sealed request, ready for the downlink broadcast.
type Broadcast struct {
	RequestID RequestID
	Sequence  uint64
	Envelope  []byte // wire form; every vehicle in coverage gets these bytes
}

// Result is what the base station returns to both vehicles after the
// platform settled a payment.
type Result struct {
	RequestID RequestID
	Receipt   Receipt
	// Grant is the sidelink channel for the pair, nil when the station has
	// no pool or positions, or when GrantErr says why none was given.
	Grant     *Grant
	GrantErr  error
	Duplicate bool // this PaymentInfo repeated one already settled
}

type pendingReq struct {
	req          Request
	payer, payee string // accounts
	keys         []*pairKeys
	seqs         []uint64
	created      time.Time
	result       *Result
	settling     chan struct{} // non-nil while one Pay is at the platform; closed when it returns
}

// recipKey and pairCacheKey name cached derived keys by everything they
// derive from, the public key included: a registry that re-enrols an ID
// with a new unit's key must not leave the base station sealing for the
// old unit.
type recipKey struct {
	id  VehicleID
	gen uint32
	pub [32]byte
}

type pairCacheKey struct {
	from, to VehicleID
	gen      uint32
	pub      [32]byte
}

// BaseStation is the network side of the protocol: it receives payment
// requests, resolves the requester's friend in the FriendRegistry, seals
// the request for the friend and hands back the broadcast, verifies the
// friend's PaymentInfo, settles it on the PaymentPlatform and grants the
// pair a sidelink channel. Transport is the host's: it delivers requests
// and PaymentInfo on the uplink and broadcasts the envelopes. Safe for
// concurrent use.
type BaseStation struct {
	cfg      BaseStationConfig
	reg      FriendRegistry
	platform PaymentPlatform

	mu      sync.Mutex
	closed  bool
	pending map[RequestID]*pendingReq
	recips  map[recipKey]*recipientKeys
	pairs   map[pairCacheKey]*pairKeys
}

// NewBaseStation returns a base station resolving friends in reg and
// settling on platform.
func NewBaseStation(cfg BaseStationConfig, reg FriendRegistry, platform PaymentPlatform) (*BaseStation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, configErr("registry", "nil FriendRegistry")
	}
	if platform == nil {
		return nil, configErr("platform", "nil PaymentPlatform")
	}
	if cfg.PendingTTL == 0 {
		cfg.PendingTTL = 2 * DefaultFreshness
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 1 << 16
	}
	if cfg.MaxCachedKeys == 0 {
		cfg.MaxCachedKeys = 4096
	}
	return &BaseStation{cfg: cfg, reg: reg, platform: platform, pending: map[RequestID]*pendingReq{},
		recips: map[recipKey]*recipientKeys{}, pairs: map[pairCacheKey]*pairKeys{}}, nil
}

// ID returns the base-station identifier.
func (b *BaseStation) ID() string {
	if b == nil {
		return ""
	}
	return b.cfg.ID
}

func (b *BaseStation) ready() error {
	if b == nil || b.pending == nil {
		return ErrNotInitialized
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Close zeroes every derived key the base station holds and forgets the
// requests in flight; later calls return ErrClosed. The network key
// belongs to the host and is left alone.
func (b *BaseStation) Close() error {
	if b == nil || b.pending == nil {
		return ErrNotInitialized
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	for _, rk := range b.recips {
		rk.zero()
	}
	for _, pk := range b.pairs {
		pk.zero()
	}
	for _, p := range b.pending {
		for _, pk := range p.keys {
			pk.zero()
		}
	}
	clear(b.recips)
	clear(b.pairs)
	clear(b.pending)
	b.closed = true
	return nil
}

func (b *BaseStation) covered(id VehicleID) bool {
	if b.cfg.Locate == nil {
		return true
	}
	p, ok := b.cfg.Locate(id)
	if !ok {
		return false
	}
	return b.cfg.CoverageRadius == 0 || p.Distance(b.cfg.Position) <= b.cfg.CoverageRadius
}

// Request accepts a payment request on the uplink and seals it for the
// requester's friend. Sending the same request again (same ID and content,
// not yet settled) seals it afresh with a new sequence number and nonce, so
// retransmissions cannot be linked. Errors match ErrUnknownRequester,
// ErrRequesterOutOfCoverage, ErrNotFriends, ErrFriendOutOfCoverage,
// ErrInvalidRequest, ErrTooManyPending, ErrSequenceExhausted,
// ErrTooManyBroadcasts (more than MaxBroadcastsPerRequest sends of one
// request), or the registry's errors.
func (b *BaseStation) Request(ctx context.Context, req Request) (Broadcast, error) {
	if err := b.ready(); err != nil {
		return Broadcast{}, err
	}
	if err := req.Validate(); err != nil {
		return Broadcast{}, err
	}
	requester, err := b.reg.Vehicle(ctx, req.From)
	if err != nil {
		return Broadcast{}, fmt.Errorf("%w: %w", ErrUnknownRequester, err)
	}
	if !b.covered(req.From) {
		return Broadcast{}, fmt.Errorf("%w: %q", ErrRequesterOutOfCoverage, req.From)
	}
	friends, err := b.reg.Friends(ctx, req.From)
	if err != nil {
		return Broadcast{}, err
	}
	if _, ok := slices.BinarySearch(friends, req.To); !ok {
		return Broadcast{}, fmt.Errorf("%w: %q has not registered %q", ErrNotFriends, req.From, req.To)
	}
	friend, err := b.reg.Vehicle(ctx, req.To)
	if err != nil {
		return Broadcast{}, err
	}
	if !b.covered(req.To) {
		return Broadcast{}, fmt.Errorf("%w: %q", ErrFriendOutOfCoverage, req.To)
	}
	seq, err := b.reg.NextSequence(ctx, req.From, req.To)
	if err != nil {
		return Broadcast{}, err
	}
	now := b.cfg.Now()
	// Keys are derived, used and zeroed (Close) under b.mu only.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Broadcast{}, ErrClosed
	}
	p, ok := b.pending[req.ID]
	switch {
	case ok && (p.req.From != req.From || p.req.To != req.To || p.req.Amount != req.Amount || !bytes.Equal(p.req.Payload, req.Payload)):
		return Broadcast{}, fmt.Errorf("%w: request ID %s reused with different content", ErrInvalidRequest, req.ID)
	case ok && p.result != nil:
		return Broadcast{}, fmt.Errorf("%w: request %s is already settled", ErrInvalidRequest, req.ID)
	case ok && len(p.seqs) >= MaxBroadcastsPerRequest:
		return Broadcast{}, fmt.Errorf("%w: request %s, %d times", ErrTooManyBroadcasts, req.ID, len(p.seqs))
	case !ok && len(b.pending) >= b.cfg.MaxPending:
		b.sweep(now)
		if len(b.pending) >= b.cfg.MaxPending {
			return Broadcast{}, fmt.Errorf("%w: %d", ErrTooManyPending, b.cfg.MaxPending)
		}
	}
	rk, pk, err := b.keysLocked(friend, req.From)
	if err != nil {
		return Broadcast{}, err
	}
	wire, err := seal(b.cfg.Rand, rk, pk, b.cfg.ID, now, seq, &req)
	if err != nil {
		return Broadcast{}, err
	}
	if !ok {
		req.Payload = slices.Clone(req.Payload)
		p = &pendingReq{req: req, payer: friend.account(), payee: requester.account(), created: now}
		b.pending[req.ID] = p
	}
	if !slices.Contains(p.keys, pk) {
		p.keys = append(p.keys, pk)
	}
	p.seqs = append(p.seqs, seq)
	return Broadcast{RequestID: req.ID, Sequence: seq, Envelope: wire}, nil
}

func (b *BaseStation) sweep(now time.Time) {
	for id, p := range b.pending {
		if now.Sub(p.created) > b.cfg.PendingTTL {
			delete(b.pending, id)
		}
	}
}

// keysLocked returns (deriving and caching) the recipient and pair keys
// for a request from requester to friend under friend's registered key.
func (b *BaseStation) keysLocked(friend VehicleInfo, requester VehicleID) (*recipientKeys, *pairKeys, error) {
	if len(b.recips)+len(b.pairs) > b.cfg.MaxCachedKeys {
		clear(b.recips)
		clear(b.pairs) // in-flight requests keep their own references
	}
	if len(friend.PublicKey) != 32 {
		return nil, nil, fmt.Errorf("%w: %q: %d-byte public key", ErrInvalidKey, friend.ID, len(friend.PublicKey))
	}
	rkKey := recipKey{id: friend.ID, gen: friend.Generation, pub: [32]byte(friend.PublicKey)}
	rk := b.recips[rkKey]
	if rk == nil {
		pub, err := ecdh.X25519().NewPublicKey(friend.PublicKey)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %q: %w", ErrInvalidKey, friend.ID, err)
		}
		z, err := b.cfg.NetworkKey.ECDH(pub)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %q: %w", ErrInvalidKey, friend.ID, err)
		}
		rk, err = deriveRecipient(z, friend.ID, friend.PublicKey, friend.Generation)
		clear(z)
		if err != nil {
			return nil, nil, err
		}
		b.recips[rkKey] = rk
	}
	pck := pairCacheKey{from: requester, to: friend.ID, gen: friend.Generation, pub: rkKey.pub}
	pk := b.pairs[pck]
	if pk == nil {
		var err error
		if pk, err = derivePair(rk, requester, friend.ID, friend.PublicKey); err != nil {
			return nil, nil, err
		}
		b.pairs[pck] = pk
	}
	return rk, pk, nil
}

// Pay relays a friend's PaymentInfo: it checks that the answer comes from
// the friend the request was sealed for and is authentic (ErrUnknownRequest,
// ErrWrongResponder, ErrTampered), returns ErrDeclined for a refusal, and
// otherwise settles the transfer on the platform, idempotently by request
// ID, and grants the pair a sidelink channel. A repeated PaymentInfo
// returns the first Result with Duplicate set and never moves money again.
func (b *BaseStation) Pay(ctx context.Context, info PaymentInfo) (Result, error) {
	if err := b.ready(); err != nil {
		return Result{}, err
	}
	now := b.cfg.Now()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return Result{}, ErrClosed
	}
	p, ok := b.pending[info.RequestID]
	if ok && p.result == nil && now.Sub(p.created) > b.cfg.PendingTTL {
		delete(b.pending, info.RequestID)
		ok = false
	}
	if !ok {
		b.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %s", ErrUnknownRequest, info.RequestID)
	}
	if info.Payer != p.req.To {
		b.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %q answered a request for its friend", ErrWrongResponder, info.Payer)
	}
	authentic := false
	for _, pk := range p.keys {
		if pk.gen == info.Generation && pk.aead != nil {
			want := info.mac(&pk.confirm)
			authentic = hmac.Equal(want[:], info.Tag[:])
		}
	}
	if !authentic || info.Payee != p.req.From || info.Amount != p.req.Amount ||
		info.BaseStation != b.cfg.ID || !slices.Contains(p.seqs, info.Sequence) {
		b.mu.Unlock()
		return Result{}, fmt.Errorf("%w: payment information for %s", ErrTampered, info.RequestID)
	}
	// One Pay per request goes to the platform at a time; concurrent
	// duplicates wait for it and then report its result.
	for p.result == nil && p.settling != nil {
		ch := p.settling
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		b.mu.Lock()
	}
	if p.result != nil {
		r := *p.result
		b.mu.Unlock()
		r.Duplicate = true
		return r, nil
	}
	if !info.Accept {
		delete(b.pending, info.RequestID)
		b.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %s", ErrDeclined, info.RequestID)
	}
	t := Transfer{ID: info.RequestID.String(), From: p.payer, To: p.payee, Amount: p.req.Amount}
	p.settling = make(chan struct{})
	b.mu.Unlock()

	rec, err := b.platform.Transfer(ctx, t)
	b.mu.Lock()
	defer b.mu.Unlock()
	close(p.settling)
	p.settling = nil
	if err != nil {
		return Result{}, err // nothing moved; a waiting duplicate tries again
	}
	if p.result == nil && b.closed {
		// The money moved: report it, without a sidelink grant.
		return Result{RequestID: info.RequestID, Receipt: rec, Duplicate: rec.Duplicate, GrantErr: ErrClosed}, nil
	}
	if p.result != nil { // a concurrent duplicate settled first
		r := *p.result
		r.Duplicate = true
		return r, nil
	}
	r := Result{RequestID: info.RequestID, Receipt: rec, Duplicate: rec.Duplicate}
	if b.cfg.Pool != nil && b.cfg.Locate != nil {
		pa, okA := b.cfg.Locate(p.req.From)
		pb, okB := b.cfg.Locate(p.req.To)
		if okA && okB {
			g, err := b.cfg.Pool.Grant(p.req.From, p.req.To, pa, pb, now)
			if err != nil {
				r.GrantErr = err
			} else {
				r.Grant = &g
			}
		} else {
			r.GrantErr = fmt.Errorf("%w: pair not located", ErrFriendOutOfCoverage)
		}
	}
	p.result = &r
	return r, nil
}

package vehicle

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// DefaultFreshness is the default freshness window: an envelope whose
// timestamp is more than this far from the receiver's clock is rejected.
const DefaultFreshness = 5 * time.Minute

// DefaultRotationGrace is how long a vehicle keeps opening envelopes sealed
// under its previous key after Rotate.
const DefaultRotationGrace = 10 * time.Minute

// VehicleConfig configures a Vehicle. ID, Network, Now and Rand are
// required; zero durations and bounds take their defaults.
type VehicleConfig struct {
	ID      VehicleID
	Account string          // payment account; the ID when empty
	Network *ecdh.PublicKey // the network's X25519 public key (base stations hold the private half)
	Now     func() time.Time
	Rand    io.Reader // key generation and request IDs

	Freshness     time.Duration // ± window on envelope timestamps; 0 = DefaultFreshness
	RotationGrace time.Duration // 0 = DefaultRotationGrace
	MaxFriends    int           // 0 = DefaultMaxFriends
}

// DefaultVehicleConfig returns a configuration with the recommended
// windows and bounds for the given identity, network key, clock and
// randomness.
func DefaultVehicleConfig(id VehicleID, network *ecdh.PublicKey, now func() time.Time, rand io.Reader) VehicleConfig {
	return VehicleConfig{ID: id, Network: network, Now: now, Rand: rand,
		Freshness: DefaultFreshness, RotationGrace: DefaultRotationGrace, MaxFriends: DefaultMaxFriends}
}

// Validate reports missing collaborators and out-of-range values.
func (c VehicleConfig) Validate() error {
	if err := c.ID.Validate(); err != nil {
		return fmt.Errorf("%w: ID: %w", ErrInvalidConfig, err)
	}
	if c.Account != "" {
		if err := checkID("account", c.Account); err != nil {
			return fmt.Errorf("%w: Account: %w", ErrInvalidConfig, err)
		}
	}
	switch {
	case c.Network == nil || c.Network.Curve() != ecdh.X25519():
		return configErr("Network", "need an X25519 public key")
	case c.Now == nil:
		return configErr("Now", "nil clock")
	case c.Rand == nil:
		return configErr("Rand", "nil random source")
	case c.Freshness < 0:
		return configErr("Freshness", "%s is negative", c.Freshness)
	case c.RotationGrace < 0:
		return configErr("RotationGrace", "%s is negative", c.RotationGrace)
	case c.MaxFriends < 0:
		return configErr("MaxFriends", "%d is negative", c.MaxFriends)
	}
	return nil
}

// generation is one key pair of the vehicle with everything derived from it.
type generation struct {
	gen      uint32
	priv     *ecdh.PrivateKey
	retireAt time.Time // zero while current
	rk       *recipientKeys
	pairs    map[VehicleID]*pairKeys
	slots    map[uint32][]*pairKeys
}

func (g *generation) live(now time.Time) bool { return g.retireAt.IsZero() || now.Before(g.retireAt) }

func (g *generation) zero() {
	g.rk.zero()
	for _, pk := range g.pairs {
		pk.zero()
	}
	g.pairs, g.slots, g.priv = nil, nil, nil
}

// Vehicle is a vehicle's side of the protocol: in the requesting role it
// builds Requests; in the responding role it tries to open every broadcast
// envelope (TryOpen) and answers the ones sealed for it with PaymentInfo.
// It holds the private half of its X25519 key pair and is safe for
// concurrent use.
type Vehicle struct {
	mu      sync.RWMutex
	cfg     VehicleConfig
	gens    []*generation // oldest first; the last is current
	friends map[VehicleID]struct{}
	windows map[VehicleID]*ReplayWindow
	// removed holds when each former friend was removed. Its replay window
	// is kept for 2 × Freshness after that: the pair keys of a renewed
	// friendship are the same, so forgetting the window at once would let
	// a captured envelope open a second time.
	removed map[VehicleID]time.Time
	closed  bool
}

// NewVehicle creates a vehicle with a fresh key pair of generation 1.
func NewVehicle(cfg VehicleConfig) (*Vehicle, error) {
	key, err := GenerateKey(cfg.Rand)
	if err != nil {
		return nil, err
	}
	return NewVehicleWithKey(cfg, key, 1)
}

// NewVehicleWithKey creates a vehicle from an existing X25519 private key
// of the given generation (≥ 1), as restored from secure storage.
func NewVehicleWithKey(cfg VehicleConfig, key *ecdh.PrivateKey, gen uint32) (*Vehicle, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if key == nil || key.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("%w: need an X25519 private key", ErrInvalidKey)
	}
	if gen == 0 {
		return nil, fmt.Errorf("%w: generation 0", ErrInvalidKey)
	}
	if cfg.Freshness == 0 {
		cfg.Freshness = DefaultFreshness
	}
	if cfg.RotationGrace == 0 {
		cfg.RotationGrace = DefaultRotationGrace
	}
	if cfg.MaxFriends == 0 {
		cfg.MaxFriends = DefaultMaxFriends
	}
	v := &Vehicle{cfg: cfg, friends: map[VehicleID]struct{}{}, windows: map[VehicleID]*ReplayWindow{},
		removed: map[VehicleID]time.Time{}}
	g, err := v.newGeneration(key, gen)
	if err != nil {
		return nil, err
	}
	v.gens = []*generation{g}
	return v, nil
}

func (v *Vehicle) newGeneration(key *ecdh.PrivateKey, gen uint32) (*generation, error) {
	z, err := key.ECDH(v.cfg.Network)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	defer clear(z)
	rk, err := deriveRecipient(z, v.cfg.ID, key.PublicKey().Bytes(), gen)
	if err != nil {
		return nil, err
	}
	g := &generation{gen: gen, priv: key, rk: rk, pairs: map[VehicleID]*pairKeys{}, slots: map[uint32][]*pairKeys{}}
	for f := range v.friends {
		if err := g.addPair(f, v.cfg.ID); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *generation) addPair(requester, me VehicleID) error {
	pk, err := derivePair(g.rk, requester, me, g.priv.PublicKey().Bytes())
	if err != nil {
		return err
	}
	g.pairs[requester] = pk
	g.slots[pk.slot] = append(g.slots[pk.slot], pk)
	return nil
}

func (g *generation) removePair(requester VehicleID) {
	pk, ok := g.pairs[requester]
	if !ok {
		return
	}
	delete(g.pairs, requester)
	s := slices.DeleteFunc(g.slots[pk.slot], func(p *pairKeys) bool { return p == pk })
	if len(s) == 0 {
		delete(g.slots, pk.slot)
	} else {
		g.slots[pk.slot] = s
	}
	pk.zero()
}

func (v *Vehicle) usable() error {
	if v == nil || v.friends == nil {
		return ErrNotInitialized
	}
	if v.closed {
		return ErrClosed
	}
	return nil
}

// ID returns the vehicle's identifier ("" on the zero value).
func (v *Vehicle) ID() VehicleID {
	if v == nil {
		return ""
	}
	return v.cfg.ID
}

// Info returns the VehicleInfo to enrol with the network (or to pass to
// FriendRegistry.Rotate after Rotate): ID, current public key and
// generation, and the account.
func (v *Vehicle) Info() (VehicleInfo, error) {
	if v == nil {
		return VehicleInfo{}, ErrNotInitialized
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if err := v.usable(); err != nil {
		return VehicleInfo{}, err
	}
	return v.infoLocked(), nil
}

func (v *Vehicle) infoLocked() VehicleInfo {
	g := v.gens[len(v.gens)-1]
	return VehicleInfo{ID: v.cfg.ID, PublicKey: g.priv.PublicKey().Bytes(), Generation: g.gen,
		Enrolment: Enrolment{Account: v.cfg.Account, EnrolledAt: v.cfg.Now()}}
}

// AddFriend derives the pair keys for requests from friend, mirroring a
// FriendRegistry.Befriend. It is idempotent.
func (v *Vehicle) AddFriend(friend VehicleID) error {
	if v == nil {
		return ErrNotInitialized
	}
	if err := friend.Validate(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.usable(); err != nil {
		return err
	}
	if friend == v.cfg.ID {
		return ErrSelfFriend
	}
	if _, ok := v.friends[friend]; ok {
		return nil
	}
	v.forgetWindowsLocked(v.cfg.Now())
	if len(v.friends) >= v.cfg.MaxFriends {
		return fmt.Errorf("%w: %d", ErrTooManyFriends, v.cfg.MaxFriends)
	}
	for _, g := range v.gens {
		if err := g.addPair(friend, v.cfg.ID); err != nil {
			return err
		}
	}
	v.friends[friend] = struct{}{}
	delete(v.removed, friend) // its replay window, if kept, carries on
	return nil
}

// forgetWindowsLocked drops the replay windows of friends removed more
// than 2 × Freshness ago: every envelope sealed before the removal is
// stale by then (for clocks within Freshness of each other).
func (v *Vehicle) forgetWindowsLocked(now time.Time) {
	for id, at := range v.removed {
		if now.Sub(at) > 2*v.cfg.Freshness {
			delete(v.windows, id)
			delete(v.removed, id)
		}
	}
}

// RemoveFriend forgets friend's pair keys. Its replay window is kept for
// 2 × Freshness, so befriending it again within that time cannot reopen
// an envelope already accepted.
func (v *Vehicle) RemoveFriend(friend VehicleID) error {
	if v == nil {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.usable(); err != nil {
		return err
	}
	if _, ok := v.friends[friend]; !ok {
		return fmt.Errorf("%w: %q", ErrNotFriends, friend)
	}
	for _, g := range v.gens {
		g.removePair(friend)
	}
	delete(v.friends, friend)
	now := v.cfg.Now()
	v.forgetWindowsLocked(now)
	if _, ok := v.windows[friend]; ok {
		v.removed[friend] = now
	}
	return nil
}

// Rotate replaces the vehicle's key pair with a fresh one of the next
// generation and returns the VehicleInfo to register with
// FriendRegistry.Rotate. Envelopes sealed under the previous key (requests
// in flight) still open, and can still be answered, for RotationGrace;
// replay windows carry over, so rotation never reopens a sequence number.
// At most the current and the previous generation are live: rotating again
// within RotationGrace retires the older one immediately.
func (v *Vehicle) Rotate() (VehicleInfo, error) {
	if v == nil {
		return VehicleInfo{}, ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.usable(); err != nil {
		return VehicleInfo{}, err
	}
	key, err := GenerateKey(v.cfg.Rand)
	if err != nil {
		return VehicleInfo{}, err
	}
	now := v.cfg.Now()
	cur := v.gens[len(v.gens)-1]
	g, err := v.newGeneration(key, cur.gen+1)
	if err != nil {
		return VehicleInfo{}, err
	}
	cur.retireAt = now.Add(v.cfg.RotationGrace)
	kept := v.gens[:0]
	for _, old := range v.gens {
		if old.live(now) {
			kept = append(kept, old)
		} else {
			old.zero()
		}
	}
	// At most two generations stay live, so a non-recipient's reject costs
	// at most two hashes: a second rotation within the grace period retires
	// the oldest key at once.
	for len(kept) > 1 {
		kept[0].zero()
		kept = kept[1:]
	}
	v.gens = append(kept, g)
	return v.infoLocked(), nil
}

// Close zeroes every key the vehicle holds; later calls return ErrClosed.
func (v *Vehicle) Close() error {
	if v == nil || v.friends == nil {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return ErrClosed
	}
	for _, g := range v.gens {
		g.zero()
	}
	v.gens = nil
	v.closed = true
	return nil
}

// Request builds a payment request from this vehicle to its friend for
// amount minor units, with a fresh request ID (requesting role). It does
// not check the friendship: the base station does.
func (v *Vehicle) Request(friend VehicleID, amount int64, payload []byte) (Request, error) {
	if err := v.usableRLocked(); err != nil {
		return Request{}, err
	}
	id, err := NewRequestID(v.cfg.Rand)
	if err != nil {
		return Request{}, err
	}
	r := Request{ID: id, From: v.cfg.ID, To: friend, Amount: amount, Payload: payload}
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	r.Payload = slices.Clone(payload) // only once its size is known to be in bounds
	return r, nil
}

func (v *Vehicle) usableRLocked() error {
	if v == nil {
		return ErrNotInitialized
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.usable()
}

// Opened is a request TryOpen authenticated and decrypted.
type Opened struct {
	Request     Request
	BaseStation string
	Timestamp   time.Time
	Sequence    uint64
	Generation  uint32 // the recipient key generation it was sealed under
}

// TryOpen tries to open a broadcast envelope (responding role). Vehicles
// the envelope is not for get ErrNotForMe after one keyed hash per live
// key generation (one, or two during a rotation grace period) and no
// allocation — the same work whoever the recipient is. The recipient
// unmasks the header, authenticates and decrypts, then checks the
// freshness window and, last, the pair's replay window.
//
// Errors: *EnvelopeError (ErrTruncated, ErrOversized, ErrMalformed,
// ErrUnsupportedVersion) for unparsable input, ErrNotForMe, ErrTampered
// when the hint matched but authentication failed, *StaleError, and
// *ReplayError.
func (v *Vehicle) TryOpen(wire []byte) (Opened, error) {
	if v == nil {
		return Opened{}, ErrNotInitialized
	}
	v.mu.RLock()
	if err := v.usable(); err != nil {
		v.mu.RUnlock()
		return Opened{}, err
	}
	var w view
	if err := w.parse(wire); err != nil {
		v.mu.RUnlock()
		return Opened{}, err
	}
	// With one generation (no rotation in progress) it is current and
	// live, and the reject path needs no clock.
	var now time.Time
	multi := len(v.gens) > 1
	if multi {
		now = v.cfg.Now()
	}
	var match *generation
	var pad uint32
	for _, g := range v.gens {
		if multi && !g.live(now) {
			continue
		}
		h := hintOf(&g.rk.hint, w.nonce)
		if subtle.ConstantTimeCompare(h[:HintSize], w.hint) == 1 {
			match = g
			pad = binary.BigEndian.Uint32(h[HintSize:])
		}
	}
	if match == nil {
		v.mu.RUnlock()
		return Opened{}, ErrNotForMe
	}
	o, pk, ok := openWith(&w, match.slots[binary.BigEndian.Uint32(w.slot)^pad])
	v.mu.RUnlock()
	if !ok {
		return Opened{}, ErrTampered
	}
	o.Generation = match.gen
	if o.Request.To != v.cfg.ID || o.Request.From != pk.requester {
		return Opened{}, ErrTampered
	}
	if !multi {
		now = v.cfg.Now()
	}
	if d := now.Sub(o.Timestamp); d > v.cfg.Freshness || d < -v.cfg.Freshness {
		return Opened{}, &StaleError{Timestamp: o.Timestamp, Now: now, Window: v.cfg.Freshness}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.usable(); err != nil {
		return Opened{}, err
	}
	if _, ok := v.friends[pk.requester]; !ok {
		return Opened{}, ErrNotForMe // friendship ended meanwhile
	}
	win := v.windows[pk.requester]
	if win == nil {
		win = &ReplayWindow{}
		v.windows[pk.requester] = win
	}
	if err := win.Accept(o.Sequence); err != nil {
		return Opened{}, err
	}
	return o, nil // the payload aliases the AEAD's fresh output, not wire
}

// openWith tries the candidate pair keys of a matched hint (almost always
// exactly one: the 32-bit selectors of one vehicle's friends rarely
// collide).
func openWith(w *view, cands []*pairKeys) (Opened, *pairKeys, bool) {
	for _, pk := range cands {
		m := headerMask(&pk.hp, w.nonce)
		var hdr [ProtectedSize]byte
		for i := range hdr {
			hdr[i] = w.protected[i] ^ m[i]
		}
		pt, err := pk.aead.Open(nil, w.nonce, w.ct, w.additionalData(hdr[:]))
		if err != nil {
			continue
		}
		var o Opened
		if !parsePlaintext(pt, &o.Request) {
			continue
		}
		o.Sequence = binary.BigEndian.Uint64(hdr[:8])
		copy(o.Request.ID[:], hdr[8:])
		o.BaseStation = string(w.bs)
		o.Timestamp = time.UnixMilli(w.ts)
		return o, pk, true
	}
	return Opened{}, nil, false
}

// PaymentInfo is the responding vehicle's answer to an opened request,
// relayed by the base station to the payment platform. Tag is an
// HMAC-SHA256 under the pair's confirmation key over every other field, so
// the base station knows the answer comes from the vehicle that opened the
// envelope and that nothing was changed on the way.
type PaymentInfo struct {
	RequestID   RequestID
	BaseStation string
	Payer       VehicleID // the responding vehicle (the friend)
	Payee       VehicleID // the requesting vehicle
	Amount      int64
	Sequence    uint64
	Generation  uint32
	Accept      bool
	Tag         [32]byte
}

func (p *PaymentInfo) mac(key *[32]byte) [32]byte {
	m := hmac.New(sha256.New, key[:])
	b := make([]byte, 0, 64+3*MaxIDLen)
	b = append(b, "confirm"...)
	b = append(b, p.RequestID[:]...)
	b = lp(b, p.BaseStation)
	b = lp(b, string(p.Payer))
	b = lp(b, string(p.Payee))
	b = binary.BigEndian.AppendUint64(b, uint64(p.Amount))
	b = binary.BigEndian.AppendUint64(b, p.Sequence)
	b = binary.BigEndian.AppendUint32(b, p.Generation)
	if p.Accept {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	m.Write(b)
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// Respond creates the payment information for an opened request: accept
// pays the requested amount, !accept declines. The key generation the
// request was sealed under must still be live (it is for RotationGrace
// after a rotation).
func (v *Vehicle) Respond(o Opened, accept bool) (PaymentInfo, error) {
	if v == nil {
		return PaymentInfo{}, ErrNotInitialized
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if err := v.usable(); err != nil {
		return PaymentInfo{}, err
	}
	if o.Request.To != v.cfg.ID {
		return PaymentInfo{}, fmt.Errorf("%w: request is for %q", ErrWrongResponder, o.Request.To)
	}
	now := v.cfg.Now()
	for _, g := range v.gens {
		if g.gen != o.Generation || !g.live(now) {
			continue
		}
		pk, ok := g.pairs[o.Request.From]
		if !ok {
			return PaymentInfo{}, fmt.Errorf("%w: %q", ErrNotFriends, o.Request.From)
		}
		p := PaymentInfo{RequestID: o.Request.ID, BaseStation: o.BaseStation, Payer: v.cfg.ID,
			Payee: o.Request.From, Amount: o.Request.Amount, Sequence: o.Sequence, Generation: o.Generation, Accept: accept}
		p.Tag = p.mac(&pk.confirm)
		return p, nil
	}
	return PaymentInfo{}, fmt.Errorf("%w: key generation %d is retired", ErrUnknownRequest, o.Generation)
}

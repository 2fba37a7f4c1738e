package vehicle

import (
	"bytes"
	"context"
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

	// ReplayState is the state a previous run of this vehicle saved
	// (ReplayStore.Load, or (*Vehicle).ReplayState kept by the host),
	// restored by the constructor: the replay windows, the friends, and
	// the public halves and retirement times of the live key generations.
	// Empty starts without saved state: the vehicle then refuses every
	// envelope sealed before it started (*RestartError), since it cannot
	// know which of them its previous run opened. See "Restarts" in the
	// package documentation.
	ReplayState []byte
	// ReplayStore, when set, receives the replay state write-ahead: an
	// envelope's sequence number is saved before TryOpen returns the
	// opened request, so a vehicle restored from the last saved state
	// never opens it again. nil keeps the state in memory only. With a
	// store, MaxFriends may be at most MaxFriendsWithReplayStore, so that
	// the state always fits in MaxReplayStateSize.
	ReplayStore ReplayStore
	// PreviousKey is the private key of generation gen−1, for a restart
	// within RotationGrace of a rotation: requests sealed under it keep
	// opening until the retirement time recorded in ReplayState (or for
	// RotationGrace from the restart when the state does not record it).
	// nil drops that generation: its envelopes get ErrNotForMe.
	PreviousKey *ecdh.PrivateKey
}

// DefaultVehicleConfig returns a configuration with the recommended
// windows and bounds for the given identity, network key, clock and
// randomness.
func DefaultVehicleConfig(id VehicleID, network *ecdh.PublicKey, now func() time.Time, rand io.Reader) VehicleConfig {
	return VehicleConfig{ID: id, Network: network, Now: now, Rand: rand,
		Freshness: DefaultFreshness, RotationGrace: DefaultRotationGrace, MaxFriends: DefaultMaxFriends}
}

// Validate reports missing collaborators, out-of-range values and a
// ReplayState that does not parse (*ReplayStateError).
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
	case c.ReplayStore != nil && c.MaxFriends > MaxFriendsWithReplayStore:
		return configErr("MaxFriends", "%d with a ReplayStore, at most %d", c.MaxFriends, MaxFriendsWithReplayStore)
	case c.PreviousKey != nil && c.PreviousKey.Curve() != ecdh.X25519():
		return configErr("PreviousKey", "need an X25519 private key")
	}
	if len(c.ReplayState) > 0 {
		if _, err := parseReplayState(c.ReplayState); err != nil {
			return fmt.Errorf("%w: ReplayState: %w", ErrInvalidConfig, err)
		}
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
	sorted  []VehicleID // the friends in ascending order, for the replay state
	windows map[VehicleID]*ReplayWindow
	// removed holds when each former friend was removed. Its replay window
	// is kept for 2 × Freshness after that: the pair keys of a renewed
	// friendship are the same, so forgetting the window at once would let
	// a captured envelope open a second time.
	removed map[VehicleID]time.Time
	closed  bool

	// Without saved replay state, envelopes sealed before started are
	// refused (floor, Unix ms); a vehicle restored from a state saved by
	// such a vehicle keeps its floor, since the windows it restores know
	// only what was opened after it.
	started  time.Time
	floor    int64
	hasFloor bool
	// saveMu serialises accepts and saves through cfg.ReplayStore, so the
	// store only ever receives newer states; taken before mu.
	saveMu sync.Mutex
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
// of the given generation (≥ 1), as restored from secure storage. With
// cfg.ReplayState it resumes where that state was saved; the state must
// belong to cfg.ID and to this key (or an older generation, when the
// rotation to key happened after the save), else the error matches
// ErrReplayStateMismatch.
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
	now := cfg.Now()
	v := &Vehicle{cfg: cfg, friends: map[VehicleID]struct{}{}, windows: map[VehicleID]*ReplayWindow{},
		removed: map[VehicleID]time.Time{}, started: now}
	var st *savedState
	if len(cfg.ReplayState) > 0 {
		var err error
		if st, err = parseReplayState(cfg.ReplayState); err != nil {
			return nil, err
		}
		if err := v.restore(st, key, gen, now); err != nil {
			return nil, err
		}
	} else {
		v.hasFloor, v.floor = true, now.UnixMilli()
	}
	if cfg.PreviousKey != nil {
		prev, err := v.previousGeneration(st, key, gen, now)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			v.gens = append(v.gens, prev)
		}
	}
	g, err := v.newGeneration(key, gen)
	if err != nil {
		return nil, err
	}
	v.gens = append(v.gens, g)
	// Neither the caller's state buffer nor the previous key (now held by
	// its generation, dropped when it retires) stays in the config.
	v.cfg.ReplayState, v.cfg.PreviousKey = nil, nil
	return v, nil
}

// restore loads a parsed state into a vehicle under construction, before
// its generations exist (they derive the friends' pair keys).
func (v *Vehicle) restore(st *savedState, key *ecdh.PrivateKey, gen uint32, now time.Time) error {
	if st.id != v.cfg.ID {
		return fmt.Errorf("%w: state of %q, vehicle %q", ErrReplayStateMismatch, st.id, v.cfg.ID)
	}
	if cur := st.gens[len(st.gens)-1].gen; cur > gen {
		return fmt.Errorf("%w: state saved at key generation %d, key of generation %d", ErrReplayStateMismatch, cur, gen)
	}
	if sg := st.gen(gen); sg != nil && !bytes.Equal(sg.pub[:], key.PublicKey().Bytes()) {
		return fmt.Errorf("%w: generation %d has another public key in the state", ErrReplayStateMismatch, gen)
	}
	if len(st.friends) > v.cfg.MaxFriends {
		return fmt.Errorf("%w: state has %d friends, MaxFriends is %d", ErrTooManyFriends, len(st.friends), v.cfg.MaxFriends)
	}
	for _, f := range st.friends {
		v.friends[f] = struct{}{}
	}
	v.sorted = slices.Clone(st.friends)
	if st.hasFloor {
		v.hasFloor, v.floor, v.started = true, st.floor, time.UnixMilli(st.floor)
	}
	for _, w := range st.windows {
		v.windows[w.requester] = &ReplayWindow{top: w.top, bitmap: w.bitmap}
		if w.removed {
			v.removed[w.requester] = time.UnixMilli(w.removedAt)
		}
	}
	v.forgetWindowsLocked(now)
	return nil
}

// previousGeneration builds generation gen−1 from cfg.PreviousKey, retiring
// when st says (or RotationGrace from now); nil when already retired.
func (v *Vehicle) previousGeneration(st *savedState, key *ecdh.PrivateKey, gen uint32, now time.Time) (*generation, error) {
	prevKey := v.cfg.PreviousKey
	if gen < 2 {
		return nil, fmt.Errorf("%w: PreviousKey with generation %d", ErrInvalidKey, gen)
	}
	if bytes.Equal(prevKey.PublicKey().Bytes(), key.PublicKey().Bytes()) {
		return nil, fmt.Errorf("%w: PreviousKey is the current key", ErrInvalidKey)
	}
	retire := now.Add(v.cfg.RotationGrace)
	if st != nil {
		if sg := st.gen(gen - 1); sg != nil {
			if !bytes.Equal(sg.pub[:], prevKey.PublicKey().Bytes()) {
				return nil, fmt.Errorf("%w: generation %d has another public key in the state", ErrReplayStateMismatch, gen-1)
			}
			if sg.retiring {
				retire = time.UnixMilli(sg.retireAt)
			}
		}
	}
	if !now.Before(retire) {
		return nil, nil
	}
	g, err := v.newGeneration(prevKey, gen-1)
	if err != nil {
		return nil, err
	}
	g.retireAt = retire
	return g, nil
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
	if i, found := slices.BinarySearch(v.sorted, friend); !found {
		v.sorted = slices.Insert(v.sorted, i, friend)
	}
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
	if i, found := slices.BinarySearch(v.sorted, friend); found {
		v.sorted = slices.Delete(v.sorted, i, i+1)
	}
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
	return v.rotateLocked(key)
}

// RotateWithKey is Rotate to a key the host generated (GenerateKey) and
// stored in its secure storage first, so that a restart after the
// rotation can rebuild the vehicle with NewVehicleWithKey (and the old key
// as VehicleConfig.PreviousKey). The key must be X25519 and not one the
// vehicle already uses (ErrInvalidKey).
func (v *Vehicle) RotateWithKey(key *ecdh.PrivateKey) (VehicleInfo, error) {
	if v == nil {
		return VehicleInfo{}, ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.usable(); err != nil {
		return VehicleInfo{}, err
	}
	if key == nil || key.Curve() != ecdh.X25519() {
		return VehicleInfo{}, fmt.Errorf("%w: need an X25519 private key", ErrInvalidKey)
	}
	for _, g := range v.gens {
		if bytes.Equal(g.priv.PublicKey().Bytes(), key.PublicKey().Bytes()) {
			return VehicleInfo{}, fmt.Errorf("%w: key generation %d already uses this key", ErrInvalidKey, g.gen)
		}
	}
	return v.rotateLocked(key)
}

func (v *Vehicle) rotateLocked(key *ecdh.PrivateKey) (VehicleInfo, error) {
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

// TryOpen is TryOpenContext with context.Background(): without a
// ReplayStore it never blocks.
func (v *Vehicle) TryOpen(wire []byte) (Opened, error) {
	return v.TryOpenContext(context.Background(), wire)
}

// TryOpenContext tries to open a broadcast envelope (responding role). Vehicles
// the envelope is not for get ErrNotForMe after one keyed hash per live
// key generation (one, or two during a rotation grace period) and no
// allocation — the same work whoever the recipient is. The recipient
// unmasks the header, authenticates and decrypts, then checks the
// freshness window, the start time (for a vehicle started without saved
// replay state) and, last, the pair's replay window. With a ReplayStore the
// new replay state is saved (ctx is passed to ReplayStore.Save) before the
// request is returned; opens of one vehicle then run one at a time through
// the store.
//
// Errors: *EnvelopeError (ErrTruncated, ErrOversized, ErrMalformed,
// ErrUnsupportedVersion) for unparsable input, ErrNotForMe, ErrTampered
// when the hint matched but authentication failed, *StaleError,
// *RestartError, *ReplayError, and ErrReplayNotSaved (beside the store's
// error) when the store failed: then nothing was accepted and the same
// envelope may be tried again.
func (v *Vehicle) TryOpenContext(ctx context.Context, wire []byte) (Opened, error) {
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
	if v.hasFloor && o.Timestamp.UnixMilli() < v.floor {
		return Opened{}, &RestartError{Timestamp: o.Timestamp, Start: v.started}
	}
	if v.cfg.ReplayStore != nil {
		return v.acceptSaved(ctx, o, pk.requester, now)
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

// acceptSaved is the last step of TryOpenContext with a ReplayStore: the
// state with o's sequence number accepted is saved first, then the window
// in memory moves. saveMu keeps accepts and saves in one order, so the
// window read here is still the one to advance after the save.
func (v *Vehicle) acceptSaved(ctx context.Context, o Opened, requester VehicleID, now time.Time) (Opened, error) {
	v.saveMu.Lock()
	defer v.saveMu.Unlock()
	v.mu.Lock()
	if err := v.usable(); err != nil {
		v.mu.Unlock()
		return Opened{}, err
	}
	if _, ok := v.friends[requester]; !ok {
		v.mu.Unlock()
		return Opened{}, ErrNotForMe // friendship ended meanwhile
	}
	var next ReplayWindow
	if w := v.windows[requester]; w != nil {
		next = *w
	}
	if err := next.Accept(o.Sequence); err != nil {
		v.mu.Unlock()
		return Opened{}, err
	}
	st := v.snapshotLocked(now)
	v.mu.Unlock()
	st.setWindow(requester, next, time.Time{}, false)
	b, err := st.encode()
	if err != nil {
		return Opened{}, err
	}
	if err := v.cfg.ReplayStore.Save(ctx, v.cfg.ID, b); err != nil {
		return Opened{}, fmt.Errorf("%w: %w", ErrReplayNotSaved, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// The saved state has the sequence: memory follows, whatever happened
	// meanwhile, so the window never falls behind what the store holds.
	w := v.windows[requester]
	if w == nil {
		w = &ReplayWindow{}
		v.windows[requester] = w
	}
	*w = next
	if err := v.usable(); err != nil {
		return Opened{}, err
	}
	if _, ok := v.friends[requester]; !ok {
		if _, ok := v.removed[requester]; !ok {
			v.removed[requester] = v.cfg.Now()
		}
		return Opened{}, ErrNotForMe
	}
	return o, nil
}

// ReplayState returns the vehicle's replay state in its versioned, bounded
// binary form (at most MaxReplayStateSize bytes; see ReplayStateVersion):
// replay windows, friends, and the live key generations' public keys and
// retirement times. Restore it with VehicleConfig.ReplayState. It holds no
// secret, but whoever can rewrite it can reopen old envelopes.
//
// For the restored vehicle to refuse every envelope it acted on, the
// state must be saved after the last TryOpen whose result was acted on
// (answered, shown) and before acting: VehicleConfig.ReplayStore does this
// for every open. States taken concurrently may reach storage out of
// order; the store path serialises them.
func (v *Vehicle) ReplayState() ([]byte, error) {
	if v == nil {
		return nil, ErrNotInitialized
	}
	v.mu.RLock()
	if err := v.usable(); err != nil {
		v.mu.RUnlock()
		return nil, err
	}
	st := v.snapshotLocked(v.cfg.Now())
	v.mu.RUnlock()
	return st.encode()
}

// SaveReplayState saves the replay state through VehicleConfig.ReplayStore
// (ErrNoReplayStore without one). TryOpen saves by itself; call this after
// AddFriend, RemoveFriend or a rotation so that a restart restores them
// too. A store error is returned beside ErrReplayNotSaved.
func (v *Vehicle) SaveReplayState(ctx context.Context) error {
	if err := v.usableRLocked(); err != nil {
		return err
	}
	if v.cfg.ReplayStore == nil {
		return ErrNoReplayStore
	}
	v.saveMu.Lock()
	defer v.saveMu.Unlock()
	v.mu.RLock()
	if err := v.usable(); err != nil {
		v.mu.RUnlock()
		return err
	}
	st := v.snapshotLocked(v.cfg.Now())
	v.mu.RUnlock()
	b, err := st.encode()
	if err != nil {
		return err
	}
	if err := v.cfg.ReplayStore.Save(ctx, v.cfg.ID, b); err != nil {
		return fmt.Errorf("%w: %w", ErrReplayNotSaved, err)
	}
	return nil
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

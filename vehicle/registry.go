package vehicle

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
)

// FriendRegistry is the network's record of enrolled vehicles, their
// current public keys and their mutual friend relationships. Base stations
// consult it to resolve a requester's friend and to number the requests of
// each friend pair.
//
// Implementations must be safe for concurrent use. Every method takes a
// context first and returns ctx.Err() (possibly wrapped) when it is done.
// Hosts check their own implementation with vehicletest.TestFriendRegistry.
type FriendRegistry interface {
	// Enrol registers a new vehicle. It returns an error matching
	// ErrAlreadyEnrolled if the ID is taken and a validation error
	// (ErrInvalidID, ErrInvalidKey) if info.Validate fails.
	Enrol(ctx context.Context, info VehicleInfo) error
	// Rotate replaces an enrolled vehicle's public key. info.Generation
	// must be above the registered generation (ErrStaleGeneration);
	// unknown vehicles give ErrUnknownVehicle. The enrolment data is kept.
	Rotate(ctx context.Context, info VehicleInfo) error
	// Vehicle returns the registered info (ErrUnknownVehicle if none). The
	// result does not alias the registry's memory.
	Vehicle(ctx context.Context, id VehicleID) (VehicleInfo, error)
	// Befriend records that a and b are friends of each other. Both must
	// be enrolled (ErrUnknownVehicle) and distinct (ErrSelfFriend); it is
	// idempotent. Implementations may bound the number of friends
	// (ErrTooManyFriends).
	Befriend(ctx context.Context, a, b VehicleID) error
	// Unfriend removes the relationship in both directions; ErrNotFriends
	// if there is none.
	Unfriend(ctx context.Context, a, b VehicleID) error
	// Friends returns id's friends in ascending order (ErrUnknownVehicle
	// if id is not enrolled).
	Friends(ctx context.Context, id VehicleID) ([]VehicleID, error)
	// NextSequence returns the next broadcast sequence number of the
	// ordered pair from → to: 1 for the first call, then strictly
	// increasing by 1, never repeated for the pair even across Unfriend and
	// Befriend, and unique under concurrent calls. It returns ErrNotFriends
	// if the two are not friends and ErrUnknownVehicle for unknown IDs.
	// After 2^64−1 it returns ErrSequenceExhausted: the counter never
	// wraps (RFC 4303 §3.3.3).
	NextSequence(ctx context.Context, from, to VehicleID) (uint64, error)
}

// RegistryConfig configures a MemoryRegistry. The zero value is usable.
type RegistryConfig struct {
	// MaxFriends bounds each vehicle's friend list; 0 means
	// DefaultMaxFriends.
	MaxFriends int
}

// DefaultMaxFriends is the default bound on a vehicle's friends.
const DefaultMaxFriends = 64

// DefaultRegistryConfig returns the recommended configuration.
func DefaultRegistryConfig() RegistryConfig { return RegistryConfig{MaxFriends: DefaultMaxFriends} }

// Validate reports a negative bound.
func (c RegistryConfig) Validate() error {
	if c.MaxFriends < 0 {
		return configErr("MaxFriends", "%d is negative", c.MaxFriends)
	}
	return nil
}

type pairKey struct{ from, to VehicleID }

// MemoryRegistry is the in-memory FriendRegistry. It is correct and safe
// for concurrent use but keeps everything in process memory: use it in
// tests, simulations and single-process deployments.
type MemoryRegistry struct {
	mu       sync.RWMutex
	max      int
	vehicles map[VehicleID]*VehicleInfo
	friends  map[VehicleID]map[VehicleID]struct{}
	seq      map[pairKey]uint64
}

var _ FriendRegistry = (*MemoryRegistry)(nil)

// NewMemoryRegistry returns an empty registry.
func NewMemoryRegistry(cfg RegistryConfig) (*MemoryRegistry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxFriends == 0 {
		cfg.MaxFriends = DefaultMaxFriends
	}
	return &MemoryRegistry{
		max:      cfg.MaxFriends,
		vehicles: map[VehicleID]*VehicleInfo{},
		friends:  map[VehicleID]map[VehicleID]struct{}{},
		seq:      map[pairKey]uint64{},
	}, nil
}

func (r *MemoryRegistry) ready(ctx context.Context) error {
	if r == nil || r.vehicles == nil {
		return ErrNotInitialized
	}
	return ctx.Err()
}

func cloneInfo(i VehicleInfo) VehicleInfo {
	i.PublicKey = slices.Clone(i.PublicKey)
	return i
}

// Enrol implements FriendRegistry.
func (r *MemoryRegistry) Enrol(ctx context.Context, info VehicleInfo) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	if err := info.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.vehicles[info.ID]; ok {
		return fmt.Errorf("%w: %q", ErrAlreadyEnrolled, info.ID)
	}
	c := cloneInfo(info)
	r.vehicles[info.ID] = &c
	return nil
}

// Rotate implements FriendRegistry.
func (r *MemoryRegistry) Rotate(ctx context.Context, info VehicleInfo) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	if err := info.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.vehicles[info.ID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownVehicle, info.ID)
	}
	if info.Generation <= old.Generation {
		return fmt.Errorf("%w: %q generation %d, registered %d", ErrStaleGeneration, info.ID, info.Generation, old.Generation)
	}
	old.PublicKey = slices.Clone(info.PublicKey)
	old.Generation = info.Generation
	return nil
}

// Vehicle implements FriendRegistry.
func (r *MemoryRegistry) Vehicle(ctx context.Context, id VehicleID) (VehicleInfo, error) {
	if err := r.ready(ctx); err != nil {
		return VehicleInfo{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.vehicles[id]
	if !ok {
		return VehicleInfo{}, fmt.Errorf("%w: %q", ErrUnknownVehicle, id)
	}
	return cloneInfo(*v), nil
}

func (r *MemoryRegistry) known(ids ...VehicleID) error {
	for _, id := range ids {
		if _, ok := r.vehicles[id]; !ok {
			return fmt.Errorf("%w: %q", ErrUnknownVehicle, id)
		}
	}
	return nil
}

// Befriend implements FriendRegistry.
func (r *MemoryRegistry) Befriend(ctx context.Context, a, b VehicleID) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	if a == b {
		return fmt.Errorf("%w: %q", ErrSelfFriend, a)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.known(a, b); err != nil {
		return err
	}
	if _, ok := r.friends[a][b]; ok {
		return nil
	}
	for _, id := range []VehicleID{a, b} {
		if len(r.friends[id]) >= r.max {
			return fmt.Errorf("%w: %q has %d", ErrTooManyFriends, id, r.max)
		}
	}
	for _, p := range [][2]VehicleID{{a, b}, {b, a}} {
		if r.friends[p[0]] == nil {
			r.friends[p[0]] = map[VehicleID]struct{}{}
		}
		r.friends[p[0]][p[1]] = struct{}{}
	}
	return nil
}

// Unfriend implements FriendRegistry.
func (r *MemoryRegistry) Unfriend(ctx context.Context, a, b VehicleID) error {
	if err := r.ready(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.friends[a][b]; !ok {
		return fmt.Errorf("%w: %q and %q", ErrNotFriends, a, b)
	}
	delete(r.friends[a], b)
	delete(r.friends[b], a)
	return nil
}

// Friends implements FriendRegistry.
func (r *MemoryRegistry) Friends(ctx context.Context, id VehicleID) ([]VehicleID, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := r.known(id); err != nil {
		return nil, err
	}
	out := make([]VehicleID, 0, len(r.friends[id]))
	for f := range r.friends[id] {
		out = append(out, f)
	}
	slices.Sort(out)
	return out, nil
}

// NextSequence implements FriendRegistry.
func (r *MemoryRegistry) NextSequence(ctx context.Context, from, to VehicleID) (uint64, error) {
	if err := r.ready(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.known(from, to); err != nil {
		return 0, err
	}
	if _, ok := r.friends[from][to]; !ok {
		return 0, fmt.Errorf("%w: %q and %q", ErrNotFriends, from, to)
	}
	k := pairKey{from, to}
	if r.seq[k] == math.MaxUint64 {
		return 0, fmt.Errorf("%w: %q → %q", ErrSequenceExhausted, from, to)
	}
	r.seq[k]++
	return r.seq[k], nil
}

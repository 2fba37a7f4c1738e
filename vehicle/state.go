package vehicle

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"sync"
	"time"
)

// Replay state: what a Vehicle must remember across a restart so that an
// envelope it opened before cannot be opened again after it. Its wire form
// (version 1, all integers big endian) is
//
//	magic        4 bytes "PEVS"
//	version      1 byte  (ReplayStateVersion)
//	idLen        1 byte  (1…MaxIDLen), then the vehicle ID
//	savedAt      8 bytes, Unix milliseconds (informational)
//	hasFloor     1 byte  (1: the vehicle, or a run it was restored from,
//	             started without saved state)
//	floor        8 bytes, Unix milliseconds: envelopes sealed before it
//	             are refused (0 when hasFloor is 0)
//	nGens        1 byte  (1 or 2), then per live key generation, oldest first:
//	  gen        4 bytes (≥ 1; a second entry is exactly the first + 1)
//	  publicKey  32 bytes, X25519
//	  retiring   1 byte  (1 for every entry but the last, 0 for the last)
//	  retireAt   8 bytes, Unix milliseconds (0 when not retiring)
//	nFriends     2 bytes, then per friend, IDs strictly ascending:
//	  idLen      1 byte, then the ID
//	nWindows     2 bytes, then per replay window, IDs strictly ascending:
//	  idLen      1 byte, then the requester's ID
//	  top        8 bytes, highest sequence accepted (≥ 1)
//	  bitmap     8 bytes, bit i: sequence top−i accepted (bit 0 set)
//	  removed    1 byte  (1: the requester is no longer a friend)
//	  removedAt  8 bytes, Unix milliseconds (0 when not removed)
//	crc          4 bytes, CRC-32C (Castagnoli) of every byte before it
//
// The encoding is canonical: a state that parses re-encodes to the same
// bytes. It holds no secret (public keys, identifiers, sequence numbers),
// only what an attacker who can read the broadcast learns anyway, but it
// must be stored with integrity: whoever can rewrite it can reopen old
// envelopes. The checksum catches torn writes and storage corruption, not
// tampering.

// ReplayStateVersion is the version of the replay-state encoding that
// (*Vehicle).ReplayState writes and VehicleConfig.ReplayState reads.
const ReplayStateVersion = 1

// MaxReplayStateSize bounds an encoded replay state, in bytes. With
// identifiers of at most MaxIDLen bytes it holds over 5 000 friends and
// windows; the default MaxFriends (64) needs at most about 10 KB.
const MaxReplayStateSize = 1 << 20

// MaxFriendsWithReplayStore bounds VehicleConfig.MaxFriends when a
// ReplayStore is set: that many friends of the longest IDs, each with a
// replay window, take about 620 KB, leaving room within MaxReplayStateSize
// for the windows of removed friends.
const MaxFriendsWithReplayStore = 4096

const replayStateMagic = "PEVS"

const (
	stateFixed     = 4 + 1 + 1 + 8 + 9 + 1 + 2 + 2 + 4 // magic … nWindows, crc; without the IDs and entries
	stateGenSize   = 4 + 32 + 1 + 8
	stateWindowMin = 1 + 1 + 8 + 8 + 1 + 8 // smallest window entry (1-byte ID)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ReplayStore keeps the replay state of vehicles across restarts. A
// Vehicle with VehicleConfig.ReplayStore saves its state through it before
// TryOpen hands out an opened request (write-ahead), so a vehicle restored
// from the last saved state never opens an envelope it opened before.
//
// Implementations must be safe for concurrent use. Every method takes a
// context first and returns ctx.Err() (possibly wrapped) when it is done.
// The state is an opaque byte string of at most MaxReplayStateSize bytes.
// Hosts check their own implementation with vehicletest.TestReplayStore.
type ReplayStore interface {
	// Load returns the state last saved for id, or an error matching
	// ErrNoReplayState when none was saved. The result does not alias the
	// store's memory.
	Load(ctx context.Context, id VehicleID) ([]byte, error)
	// Save durably replaces the state of id with state and returns nil
	// only once a later Load (in this process or after a restart) returns
	// it. It must not retain state after returning.
	Save(ctx context.Context, id VehicleID, state []byte) error
}

// MemoryReplayStore is the in-memory ReplayStore. It is correct and safe
// for concurrent use, but it does not survive the process: use it in tests
// and simulations, or where the vehicle's "restart" is a new Vehicle in the
// same process. Its zero value is an empty store ready to use.
type MemoryReplayStore struct {
	mu     sync.Mutex
	states map[VehicleID][]byte
}

var _ ReplayStore = (*MemoryReplayStore)(nil)

// NewMemoryReplayStore returns an empty store.
func NewMemoryReplayStore() *MemoryReplayStore { return &MemoryReplayStore{} }

// Load implements ReplayStore.
func (s *MemoryReplayStore) Load(ctx context.Context, id VehicleID) ([]byte, error) {
	if s == nil {
		return nil, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoReplayState, id)
	}
	return bytes.Clone(st), nil
}

// Save implements ReplayStore. It rejects an invalid ID (ErrInvalidID) and
// a state above MaxReplayStateSize (ErrBadReplayState).
func (s *MemoryReplayStore) Save(ctx context.Context, id VehicleID, state []byte) error {
	if s == nil {
		return ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := id.Validate(); err != nil {
		return err
	}
	if len(state) > MaxReplayStateSize {
		return &ReplayStateError{Field: "state", Offset: MaxReplayStateSize,
			Err: fmt.Errorf("%d bytes, at most %d", len(state), MaxReplayStateSize)}
	}
	st := bytes.Clone(state)
	if st == nil {
		st = []byte{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		s.states = map[VehicleID][]byte{}
	}
	s.states[id] = st
	return nil
}

// savedState is the decoded replay state.
type savedState struct {
	id      VehicleID
	savedAt int64 // Unix ms
	// hasFloor: envelopes sealed before floor (Unix ms) are refused. A
	// vehicle started without saved state has one, and so has every state
	// saved from it: its windows only know what was opened since.
	hasFloor bool
	floor    int64
	gens     []savedGen
	friends  []VehicleID
	windows  []savedWindow
}

type savedGen struct {
	gen      uint32
	pub      [32]byte
	retiring bool
	retireAt int64 // Unix ms
}

type savedWindow struct {
	requester   VehicleID
	top, bitmap uint64
	removed     bool
	removedAt   int64 // Unix ms
}

func (s *savedState) gen(n uint32) *savedGen {
	for i := range s.gens {
		if s.gens[i].gen == n {
			return &s.gens[i]
		}
	}
	return nil
}

// encode writes the version-1 form. s must be canonical (sorted, valid);
// the size bound is checked here.
func (s *savedState) encode() ([]byte, error) {
	if len(s.friends) > math.MaxUint16 || len(s.windows) > math.MaxUint16 {
		return nil, &ReplayStateError{Field: "nFriends", Offset: 0,
			Err: fmt.Errorf("%d friends and %d windows, at most %d each", len(s.friends), len(s.windows), math.MaxUint16)}
	}
	n := stateFixed + len(s.id) + len(s.gens)*stateGenSize
	for _, f := range s.friends {
		n += 1 + len(f)
	}
	for _, w := range s.windows {
		n += stateWindowMin - 1 + len(w.requester)
	}
	if n > MaxReplayStateSize {
		return nil, &ReplayStateError{Field: "state", Offset: MaxReplayStateSize,
			Err: fmt.Errorf("%d bytes needed, at most %d", n, MaxReplayStateSize)}
	}
	b := make([]byte, 0, n)
	b = append(b, replayStateMagic...)
	b = append(b, ReplayStateVersion)
	b = lp(b, string(s.id))
	b = binary.BigEndian.AppendUint64(b, uint64(s.savedAt))
	b = appendFlagTime(b, s.hasFloor, s.floor)
	b = append(b, byte(len(s.gens)))
	for _, g := range s.gens {
		b = binary.BigEndian.AppendUint32(b, g.gen)
		b = append(b, g.pub[:]...)
		b = appendFlagTime(b, g.retiring, g.retireAt)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.friends)))
	for _, f := range s.friends {
		b = lp(b, string(f))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.windows)))
	for _, w := range s.windows {
		b = lp(b, string(w.requester))
		b = binary.BigEndian.AppendUint64(b, w.top)
		b = binary.BigEndian.AppendUint64(b, w.bitmap)
		b = appendFlagTime(b, w.removed, w.removedAt)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func appendFlagTime(b []byte, set bool, ms int64) []byte {
	if !set {
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	b = append(b, 1)
	return binary.BigEndian.AppendUint64(b, uint64(ms))
}

// stateReader reads the fields of an encoded state, recording the first
// error with its field and offset.
type stateReader struct {
	d   []byte
	off int
	err *ReplayStateError
}

func (r *stateReader) fail(field string, off int, err error) {
	if r.err == nil {
		r.err = &ReplayStateError{Field: field, Offset: off, Err: err}
	}
}

func (r *stateReader) take(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.d)-r.off < n {
		r.fail(field, r.off, errStateTruncated)
		return nil
	}
	b := r.d[r.off : r.off+n]
	r.off += n
	return b
}

func (r *stateReader) u8(field string) byte {
	if b := r.take(field, 1); b != nil {
		return b[0]
	}
	return 0
}

func (r *stateReader) u16(field string) uint16 {
	if b := r.take(field, 2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *stateReader) u32(field string) uint32 {
	if b := r.take(field, 4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *stateReader) u64(field string) uint64 {
	if b := r.take(field, 8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *stateReader) id(field string) VehicleID {
	at := r.off
	n := int(r.u8(field))
	b := r.take(field, n)
	if r.err != nil {
		return ""
	}
	id := VehicleID(b)
	if err := id.Validate(); err != nil {
		r.fail(field, at, err)
	}
	return id
}

// flagTime reads a presence byte (0 or 1) and a Unix-ms time that must be
// zero when absent (one encoding per state).
func (r *stateReader) flagTime(field string) (bool, int64) {
	at := r.off
	f := r.u8(field)
	ms := int64(r.u64(field))
	switch {
	case r.err != nil:
	case f > 1:
		r.fail(field, at, fmt.Errorf("flag %d, want 0 or 1", f))
	case f == 0 && ms != 0:
		r.fail(field, at+1, errors.New("time set without its flag"))
	}
	return f == 1, ms
}

// count reads an entry count and checks that the rest of the input can
// hold that many entries of at least minSize bytes before anything is
// allocated for them.
func (r *stateReader) count(field string, minSize int) int {
	at := r.off
	n := int(r.u16(field))
	if r.err == nil && n*minSize > len(r.d)-r.off {
		r.fail(field, at, fmt.Errorf("%d entries cannot fit in %d bytes: %w", n, len(r.d)-r.off, errStateTruncated))
	}
	return n
}

var errStateTruncated = errors.New("truncated")

// parseReplayState decodes and checks an encoded state. Errors are
// *ReplayStateError, matching ErrBadReplayState.
func parseReplayState(d []byte) (*savedState, error) {
	if len(d) > MaxReplayStateSize {
		return nil, &ReplayStateError{Field: "state", Offset: MaxReplayStateSize,
			Err: fmt.Errorf("%d bytes, at most %d", len(d), MaxReplayStateSize)}
	}
	r := &stateReader{d: d}
	if m := r.take("magic", len(replayStateMagic)); m != nil && string(m) != replayStateMagic {
		r.fail("magic", 0, errors.New("not a vehicle replay state"))
	}
	if v := r.u8("version"); r.err == nil && v != ReplayStateVersion {
		r.fail("version", 4, fmt.Errorf("%w: replay state version %d", ErrUnsupportedVersion, v))
	}
	s := &savedState{}
	s.id = r.id("id")
	s.savedAt = int64(r.u64("savedAt"))
	s.hasFloor, s.floor = r.flagTime("floor")

	at := r.off
	ng := int(r.u8("nGens"))
	if r.err == nil && (ng < 1 || ng > 2) {
		r.fail("nGens", at, fmt.Errorf("%d key generations, want 1 or 2", ng))
	}
	for i := 0; i < ng && r.err == nil; i++ {
		at := r.off
		var g savedGen
		g.gen = r.u32("gen")
		copy(g.pub[:], r.take("publicKey", 32))
		g.retiring, g.retireAt = r.flagTime("retireAt")
		switch {
		case r.err != nil:
		case g.gen == 0:
			r.fail("gen", at, errors.New("generation 0"))
		case i > 0 && g.gen != s.gens[i-1].gen+1:
			r.fail("gen", at, fmt.Errorf("generation %d after %d", g.gen, s.gens[i-1].gen))
		case g.retiring != (i < ng-1):
			r.fail("retireAt", at+4+32, errors.New("only the older of two generations retires"))
		}
		s.gens = append(s.gens, g)
	}

	nf := r.count("nFriends", 2)
	if r.err == nil {
		s.friends = make([]VehicleID, 0, nf)
	}
	for i := 0; i < nf && r.err == nil; i++ {
		at := r.off
		f := r.id("friend")
		switch {
		case r.err != nil:
		case f == s.id:
			r.fail("friend", at, ErrSelfFriend)
		case i > 0 && f <= s.friends[i-1]:
			r.fail("friend", at, errors.New("friends not strictly ascending"))
		}
		s.friends = append(s.friends, f)
	}

	nw := r.count("nWindows", stateWindowMin)
	if r.err == nil {
		s.windows = make([]savedWindow, 0, nw)
	}
	for i := 0; i < nw && r.err == nil; i++ {
		at := r.off
		var w savedWindow
		w.requester = r.id("window")
		topAt := r.off
		w.top = r.u64("top")
		w.bitmap = r.u64("bitmap")
		w.removed, w.removedAt = r.flagTime("removedAt")
		_, friend := slices.BinarySearch(s.friends, w.requester)
		switch {
		case r.err != nil:
		case w.requester == s.id:
			r.fail("window", at, ErrSelfFriend)
		case i > 0 && w.requester <= s.windows[i-1].requester:
			r.fail("window", at, errors.New("windows not strictly ascending"))
		case w.top == 0 || w.bitmap&1 == 0:
			r.fail("top", topAt, errors.New("window without its highest sequence"))
		case w.removed == friend:
			r.fail("removedAt", topAt+16, errors.New("a window is removed exactly when its requester is no friend"))
		}
		s.windows = append(s.windows, w)
	}
	if r.err != nil {
		return nil, r.err
	}
	crcAt := r.off
	sum := r.u32("crc")
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(d) {
		return nil, &ReplayStateError{Field: "crc", Offset: r.off, Err: fmt.Errorf("%d trailing bytes", len(d)-r.off)}
	}
	if crc32.Checksum(d[:crcAt], castagnoli) != sum {
		return nil, &ReplayStateError{Field: "crc", Offset: crcAt, Err: ErrReplayStateChecksum}
	}
	return s, nil
}

// snapshotLocked captures the vehicle's replay state at now; v.mu is held.
func (v *Vehicle) snapshotLocked(now time.Time) *savedState {
	s := &savedState{id: v.cfg.ID, savedAt: now.UnixMilli(), hasFloor: v.hasFloor, floor: v.floor}
	for _, g := range v.gens {
		if !g.live(now) {
			continue
		}
		sg := savedGen{gen: g.gen, pub: [32]byte(g.priv.PublicKey().Bytes())}
		if !g.retireAt.IsZero() {
			sg.retiring, sg.retireAt = true, g.retireAt.UnixMilli()
		}
		s.gens = append(s.gens, sg)
	}
	// Friends are kept sorted (AddFriend, RemoveFriend); windows belong to
	// friends or to removed friends (few), merged in order.
	s.friends = slices.Clone(v.sorted)
	removed := make([]VehicleID, 0, len(v.removed))
	for id := range v.removed {
		removed = append(removed, id)
	}
	slices.Sort(removed)
	s.windows = make([]savedWindow, 0, len(v.windows))
	add := func(id VehicleID, gone bool) {
		w := v.windows[id]
		if w == nil || w.top == 0 {
			return // none, or created and never advanced
		}
		sw := savedWindow{requester: id, top: w.top, bitmap: w.bitmap}
		if gone {
			sw.removed, sw.removedAt = true, v.removed[id].UnixMilli()
		}
		s.windows = append(s.windows, sw)
	}
	fi, ri := 0, 0
	for fi < len(s.friends) || ri < len(removed) {
		if ri == len(removed) || (fi < len(s.friends) && s.friends[fi] < removed[ri]) {
			add(s.friends[fi], false)
			fi++
		} else {
			add(removed[ri], true)
			ri++
		}
	}
	return s
}

// setWindow replaces (or inserts) the saved window of requester; used to
// save the state an accept is about to produce before committing it.
func (s *savedState) setWindow(requester VehicleID, w ReplayWindow, removedAt time.Time, removed bool) {
	sw := savedWindow{requester: requester, top: w.top, bitmap: w.bitmap}
	if removed {
		sw.removed, sw.removedAt = true, removedAt.UnixMilli()
	}
	i, found := slices.BinarySearchFunc(s.windows, requester, func(e savedWindow, t VehicleID) int { return cmp.Compare(e.requester, t) })
	if found {
		s.windows[i] = sw
	} else {
		s.windows = slices.Insert(s.windows, i, sw)
	}
}

package vehicle

import (
	"bytes"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// replayStateSeeds returns genuine states: empty, with friends, windows
// and a removed friend, and during a rotation.
func replayStateSeeds(tb testing.TB) [][]byte {
	w := newWorld(tb, 3)
	a, c := w.vs[0], w.vs[2]
	b, _ := w.keyed(tb, "bob", nil)
	var out [][]byte
	save := func() {
		st, err := b.ReplayState()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, st)
	}
	save()
	w.befriend(tb, a, b)
	w.befriend(tb, c, b)
	save()
	for i := range 70 {
		env := w.broadcast(tb, a, b, int64(1+i), nil).Envelope
		if i%3 != 0 {
			if _, err := b.TryOpen(env); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if _, err := b.TryOpen(w.broadcast(tb, c, b, 1, nil).Envelope); err != nil {
		tb.Fatal(err)
	}
	save()
	if err := b.RemoveFriend(c.ID()); err != nil {
		tb.Fatal(err)
	}
	if _, err := b.Rotate(); err != nil {
		tb.Fatal(err)
	}
	save()
	return out
}

func stateErrOK(err error) bool {
	var se *ReplayStateError
	return errors.As(err, &se) && errors.Is(err, ErrBadReplayState)
}

// FuzzReplayState: any input is refused with a *ReplayStateError or parses
// into a state that re-encodes to the same bytes and restores into a
// vehicle (with a key of a newer generation, so any public keys do) or is
// refused by it with a typed error — never a panic.
func FuzzReplayState(f *testing.F) {
	for _, st := range replayStateSeeds(f) {
		f.Add(st)
		f.Add(st[:len(st)-1])
		f.Add(st[:len(st)/2])
		bad := bytes.Clone(st)
		bad[len(bad)-1] ^= 1 // checksum
		f.Add(bad)
		v2 := bytes.Clone(st)
		v2[4] = 2 // version
		f.Add(v2)
	}
	f.Add([]byte{})
	f.Add([]byte(replayStateMagic))
	f.Add(append([]byte(replayStateMagic), ReplayStateVersion, 3, 'b', 'o', 'b'))
	w := newWorld(f, 0)
	key := mustKey(f, w)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReplayState(t, w, key, data, true)
		if len(data) >= 4 {
			// The same bytes with a correct checksum, so that the fuzzer
			// explores the structure behind the CRC too.
			fixed := bytes.Clone(data)
			binary.BigEndian.PutUint32(fixed[len(fixed)-4:], crc32.Checksum(fixed[:len(fixed)-4], castagnoli))
			checkReplayState(t, w, key, fixed, false) // parse and re-encode only: fast
		}
	})
}

func checkReplayState(t *testing.T, w *world, key *ecdh.PrivateKey, data []byte, restore bool) {
	{
		s, err := parseReplayState(data)
		if err != nil {
			if !stateErrOK(err) {
				t.Fatalf("untyped error: %v", err)
			}
			cfg := w.restartCfg("bob", data, nil, nil)
			if len(data) == 0 {
				return // no saved state: the start floor applies
			}
			if err := cfg.Validate(); !stateErrOK(err) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate accepted or mistyped a bad state: %v", err)
			}
			return
		}
		out, err := s.encode()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("re-encode differs (%v):\n in  %x\n out %x", err, data, out)
		}
		if !restore {
			return
		}
		gen := s.gens[len(s.gens)-1].gen + 1
		v, err := NewVehicleWithKey(w.restartCfg(s.id, data, nil, nil), key, gen)
		switch {
		case err == nil:
			if _, err := v.ReplayState(); err != nil {
				t.Fatalf("restored vehicle cannot save: %v", err)
			}
		case errors.Is(err, ErrTooManyFriends), errors.Is(err, ErrInvalidKey) && gen == 0:
		default:
			t.Fatalf("restore of a valid state: %v", err)
		}
	}
}

// TestReplayStateSeedsParse keeps the fuzz seeds honest: the genuine ones
// parse, the damaged ones do not.
func TestReplayStateSeedsParse(t *testing.T) {
	seeds := replayStateSeeds(t)
	if len(seeds) != 4 {
		t.Fatalf("%d seeds", len(seeds))
	}
	for i, st := range seeds {
		s, err := parseReplayState(st)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		t.Logf("seed %d: %d bytes, %d gens, %d friends, %d windows", i, len(st), len(s.gens), len(s.friends), len(s.windows))
	}
}

package vehicle

import (
	"bytes"
	"errors"
	"testing"
)

func parseErrOK(err error) bool {
	var ee *EnvelopeError
	return errors.As(err, &ee) && (errors.Is(err, ErrTruncated) || errors.Is(err, ErrOversized) ||
		errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupportedVersion))
}

// fuzzSeeds returns genuine envelopes and edge cases for both targets.
func fuzzSeeds(f *testing.F) (*world, [][]byte) {
	w := newWorld(f, 3)
	w.befriend(f, w.vs[0], w.vs[1])
	w.befriend(f, w.vs[2], w.vs[1])
	var genuine [][]byte
	for _, size := range []int{0, 1, 256, MaxPayload} {
		genuine = append(genuine, w.broadcast(f, w.vs[0], w.vs[1], int64(size+1), bytes.Repeat([]byte{7}, size)).Envelope)
	}
	genuine = append(genuine, w.broadcast(f, w.vs[2], w.vs[1], 5, []byte("x")).Envelope)
	for _, g := range genuine {
		f.Add(g)
		f.Add(g[:len(g)-1])
		f.Add(append(bytes.Clone(g), 0))
	}
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add([]byte{2, 1, 'x'})
	f.Add([]byte{Version, 0})
	f.Add(bytes.Repeat([]byte{0xff}, headerFixed+8))
	bad := bytes.Clone(genuine[0])
	bad[2] = 0x01 // a control character in the base-station ID
	f.Add(bad)
	return w, genuine
}

// FuzzEnvelope: any input either fails with an *EnvelopeError matching a
// parse sentinel, or parses and re-marshals to the same bytes.
func FuzzEnvelope(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Envelope
		err := e.UnmarshalBinary(data)
		if err != nil {
			if !parseErrOK(err) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		out, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("re-marshal of an accepted envelope: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("round trip changed the bytes:\n in  %x\n out %x", data, out)
		}
	})
}

// FuzzTryOpen: the friend's TryOpen on any input returns a known error or
// opens one of the genuine envelopes (never a modified one), and a
// bystander never opens anything.
func FuzzTryOpen(f *testing.F) {
	w, genuine := fuzzSeeds(f)
	friend, bystander := w.vs[1], w.vs[2]
	f.Fuzz(func(t *testing.T, data []byte) {
		friend.mu.Lock()
		clear(friend.windows) // each input starts with fresh replay windows
		friend.mu.Unlock()
		o, err := friend.TryOpen(data)
		switch {
		case err == nil:
			found := false
			for _, g := range genuine {
				found = found || bytes.Equal(g, data)
			}
			if !found {
				t.Fatalf("opened bytes the base station never sealed: %x → %+v", data, o.Request)
			}
			if _, err := friend.TryOpen(data); !errors.Is(err, ErrReplay) {
				t.Fatalf("replay not rejected: %v", err)
			}
		case errors.Is(err, ErrNotForMe), errors.Is(err, ErrTampered), errors.Is(err, ErrStale),
			errors.Is(err, ErrReplay), parseErrOK(err):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
		if _, err := bystander.TryOpen(data); err == nil {
			// vs[2] is a friend of vs[1] but no envelope is sealed for it.
			t.Fatalf("bystander opened %x", data)
		}
	})
}

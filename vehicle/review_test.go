package vehicle

import (
	"testing"
)

// TestEnvelopeLengthHidesIdentity: the envelope's length depends on the
// payload size only, never on who pays whom — vehicle IDs of different
// lengths must not show through the ciphertext length.
func TestEnvelopeLengthHidesIdentity(t *testing.T) {
	w := newWorld(t, 0)
	short1, short2 := w.add(t, "a"), w.add(t, "b")
	long1 := w.add(t, "a-vehicle-with-a-much-longer-identifier-0001")
	long2 := w.add(t, "a-vehicle-with-a-much-longer-identifier-0002")
	w.befriend(t, short1, short2)
	w.befriend(t, long1, long2)
	payload := make([]byte, 100)
	e1 := w.broadcast(t, short1, short2, 7, payload).Envelope
	e2 := w.broadcast(t, long1, long2, 7, payload).Envelope
	if len(e1) != len(e2) {
		t.Fatalf("envelope length %d for short IDs, %d for long IDs: the length reveals the pair", len(e1), len(e2))
	}
	for _, c := range []struct {
		env []byte
		v   *Vehicle
	}{{e1, short2}, {e2, long2}} {
		if _, err := c.v.TryOpen(c.env); err != nil {
			t.Fatal(err)
		}
	}
}

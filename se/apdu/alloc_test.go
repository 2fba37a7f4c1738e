//go:build !race

package apdu

import "testing"

// TestZeroAlloc pins the zero-allocation promise of the codecs.
func TestZeroAlloc(t *testing.T) {
	c := Command{CLA: 0x80, INS: 0xE2, Data: seq(300), Ne: 65536}
	raw, _ := c.MarshalBinary()
	buf := make([]byte, 0, len(raw))
	rraw := append(seq(64), 0x90, 0x00)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseCommand(raw); err != nil {
			t.Fatal(err)
		}
		buf, _ = c.AppendBinary(buf[:0])
		if _, err := ParseResponse(rraw); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per parse+append, want 0", n)
	}
}

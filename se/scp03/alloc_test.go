//go:build !race

package scp03

import (
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

// TestAllocs pins the allocation budget of the hot path: one allocation
// for Wrap (the wrapped data), none for Unwrap or for CMAC.
func TestAllocs(t *testing.T) {
	p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
	cmd := apdu.Command{CLA: 0x80, INS: 0xE2, Data: make([]byte, 64), Ne: 256}
	if n := testing.AllocsPerRun(100, func() {
		w, err := p.host.Wrap(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.card.Unwrap(w); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Fatalf("Wrap+Unwrap: %v allocations, want ≤ 1", n)
	}
	m, _ := NewCMAC(make([]byte, 16))
	msg := make([]byte, 40)
	out := make([]byte, 0, 16)
	if n := testing.AllocsPerRun(100, func() {
		m.MAC(msg)
		m.Reset()
		m.Write(msg)
		out = m.Sum(out[:0])
	}); n != 0 {
		t.Fatalf("CMAC: %v allocations, want 0", n)
	}
}

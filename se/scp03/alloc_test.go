//go:build !race

package scp03

import (
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

// TestAllocs pins the allocation budget of the hot path: one allocation
// for Wrap (the wrapped data), none for Unwrap, for the AppendWrap/UnwrapRaw
// wire path or for CMAC.
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
	// The wire path allocates nothing: host AppendWrap, card UnwrapRaw,
	// card AppendWrap, host Unwrap.
	buf := make([]byte, 0, 256)
	rbuf := make([]byte, 0, 256)
	resp := apdu.Response{Data: make([]byte, 64), SW: 0x9000}
	if n := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = p.host.AppendWrap(buf[:0], cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := p.card.UnwrapRaw(buf); err != nil {
			t.Fatal(err)
		}
		if rbuf, err = p.card.AppendWrap(rbuf[:0], resp); err != nil {
			t.Fatal(err)
		}
		r, _ := apdu.ParseResponse(rbuf)
		if _, err := p.host.Unwrap(r); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("AppendWrap+UnwrapRaw+AppendWrap+Unwrap: %v allocations, want 0", n)
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

// TestCMACCost pins the bound: AES-CMAC of 16 bytes costs at most
// four AES block encryptions measured in the same process (interleaved
// batches, fastest of each, so other load on the machine cancels out).
func TestCMACCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	m, _ := NewCMAC(make([]byte, 16))
	msg := make([]byte, 16)
	if r := cmacPerAESBlock(m, msg); r > 4 {
		t.Fatalf("CMAC of 16 bytes costs %.2f AES blocks, bound 4", r)
	}
}

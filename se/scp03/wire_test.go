package scp03

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

// TestAppendWrapMatchesWrap drives two identical channels side by side: one
// through Wrap/Unwrap on apdu values, the other through the allocation-free
// AppendWrap/UnwrapRaw on wire bytes. Every wrapped command and response
// must be byte-identical, and the card must recover what the host sent.
func TestAppendWrapMatchesWrap(t *testing.T) {
	for _, level := range allLevels {
		for _, s16 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%02X/S16=%v", byte(level), s16), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(7, uint64(level)))
				channel := rng.IntN(20)
				keys := testKeys(32, 0x30)
				a := openPeers(t, keys, level, s16, false, channel)
				b := openPeers(t, keys, level, s16, false, channel)
				prefix := []byte{0xEE, 0xEE}
				for i := range 30 {
					cmd := randomCommand(rng, channel)
					w, err := a.host.Wrap(cmd)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := w.MarshalBinary()
					got, err := b.host.AppendWrap(bytes.Clone(prefix), cmd)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], want) {
						t.Fatalf("%d: AppendWrap = %X, Wrap encodes %X", i, got[2:], want)
					}
					u, err := b.card.UnwrapRaw(got[2:])
					if err != nil {
						t.Fatalf("%d: UnwrapRaw: %v", i, err)
					}
					if _, err := a.card.Unwrap(viaWire(t, w)); err != nil {
						t.Fatalf("%d: Unwrap: %v", i, err)
					}
					if u.CLA != cmd.CLA || u.INS != cmd.INS || u.P1 != cmd.P1 || u.P2 != cmd.P2 || !bytes.Equal(u.Data, cmd.Data) {
						t.Fatalf("%d: card saw %v, host sent %v", i, u, cmd)
					}
					resp := randomResponse(rng)
					wr, err := a.card.Wrap(resp)
					if err != nil {
						t.Fatal(err)
					}
					wantR, _ := wr.MarshalBinary()
					gotR, err := b.card.AppendWrap(bytes.Clone(prefix), resp)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(gotR[:2], prefix) || !bytes.Equal(gotR[2:], wantR) {
						t.Fatalf("%d: card AppendWrap = %X, Wrap encodes %X", i, gotR[2:], wantR)
					}
					r, err := apdu.ParseResponse(gotR[2:])
					if err != nil {
						t.Fatal(err)
					}
					plain, err := b.host.Unwrap(r)
					if err != nil || plain.SW != resp.SW || !bytes.Equal(plain.Data, resp.Data) {
						t.Fatalf("%d: host Unwrap = %v, %v; card sent %v", i, plain, err, resp)
					}
					if _, err := a.host.Unwrap(viaWireResp(t, wr)); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// wrapAlwaysExtended plays a host that encodes every wrapped command in the
// extended form, as ISO/IEC 7816-4 permits even where the short form fits,
// and MACs the Lc field it sends (00 Lc1 Lc2). Level 33 only.
func wrapAlwaysExtended(h *HostSession, cmd apdu.Command) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := &h.core
	n := 0
	if len(cmd.Data) > 0 {
		n = padLen(len(cmd.Data))
	}
	nc := n + c.macLen
	raw := []byte{apdu.SetSecureMessaging(cmd.CLA), cmd.INS, cmd.P1, cmd.P2, 0, byte(nc >> 8), byte(nc)}
	body := make([]byte, n)
	c.nextCommand(len(cmd.Data))
	if n > 0 {
		c.icv(false)
		c.encryptInto(body, cmd.Data)
	}
	c.commandMACLc(raw[0], raw[1], raw[2], raw[3], raw[4:7], body)
	c.chain = c.mac
	raw = append(raw, body...)
	raw = append(raw, c.mac[:c.macLen]...)
	return append(raw, 0x01, 0x00) // extended Le: 256
}

// TestUnwrapRawExtendedWhereShortFits: the card must accept a command whose
// C-MAC covers an extended Lc although the short form would fit, through
// UnwrapRaw; Unwrap, which only sees the parsed command, cannot.
func TestUnwrapRawExtendedWhereShortFits(t *testing.T) {
	keys := testKeys(16, 0x30)
	p := openPeers(t, keys, LevelAll, false, false, 0)
	for i, data := range [][]byte{[]byte("extended although short fits"), nil, bytes.Repeat([]byte{7}, 200)} {
		cmd := apdu.Command{CLA: 0x80, INS: 0xE2, P1: byte(i), Data: data, Ne: 256}
		raw := wrapAlwaysExtended(p.host, cmd)
		if raw[4] != 0 {
			t.Fatal("helper did not use the extended form")
		}
		u, err := p.card.UnwrapRaw(raw)
		if err != nil {
			t.Fatalf("%d: UnwrapRaw: %v", i, err)
		}
		if !bytes.Equal(u.Data, cmd.Data) || u.INS != 0xE2 || u.P1 != byte(i) || u.CLA != 0x80 || u.Ne != 256 {
			t.Fatalf("%d: card saw %v", i, u)
		}
		wr, err := p.card.Wrap(apdu.Response{Data: []byte{byte(i)}, SW: 0x9000})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := p.host.Unwrap(wr); err != nil || !bytes.Equal(got.Data, []byte{byte(i)}) {
			t.Fatalf("%d: host Unwrap = %v, %v", i, got, err)
		}
	}
	// The canonical form still works on the same channel.
	raw, err := p.host.AppendWrap(nil, apdu.Command{CLA: 0x80, INS: 0xCA, Data: []byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.card.UnwrapRaw(raw); err != nil {
		t.Fatalf("canonical after extended: %v", err)
	}

	// Unwrap of the parsed command MACs the canonical (short) Lc and fails.
	q := openPeers(t, keys, LevelAll, false, false, 0)
	raw = wrapAlwaysExtended(q.host, apdu.Command{CLA: 0x80, INS: 0xE2, Data: []byte{1, 2, 3}})
	cmd, err := apdu.ParseCommand(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.card.Unwrap(cmd); !errors.Is(err, ErrMAC) {
		t.Fatalf("Unwrap of non-canonical encoding: %v, want ErrMAC", err)
	}

	// Re-encoding a short command in the extended form changes the MACed
	// Lc: UnwrapRaw rejects it and the channel dies.
	r := openPeers(t, keys, LevelAll, false, false, 0)
	w, _ := r.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE2, Data: []byte{1, 2, 3}})
	ext := append([]byte{w.CLA, w.INS, w.P1, w.P2, 0, 0, byte(len(w.Data))}, w.Data...)
	if _, err := r.card.UnwrapRaw(ext); !errors.Is(err, ErrMAC) || r.card.Open() {
		t.Fatalf("re-encoded command: %v (open %v)", err, r.card.Open())
	}
}

func TestUnwrapRawErrors(t *testing.T) {
	keys := testKeys(16, 0x30)
	p := openPeers(t, keys, LevelCMAC, false, false, 0)
	if _, err := p.card.UnwrapRaw([]byte{0x84, 0xCA, 0x00, 0x00, 0x00, 0x01}); !errors.Is(err, apdu.ErrLength) || StatusFor(err) != 0x6700 {
		t.Fatalf("Lc = 00: %v", err)
	}
	if p.card.Open() {
		t.Fatal("channel open after a malformed command")
	}
	if _, err := p.card.UnwrapRaw([]byte{0x84, 0xCA, 0x00, 0x00}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("after failure: %v", err)
	}
	p = openPeers(t, keys, LevelCMAC, false, false, 0)
	if _, err := p.card.UnwrapRaw([]byte{0x80, 0xCA, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}); !errors.Is(err, ErrNotSecured) {
		t.Fatalf("plain CLA: %v", err)
	}
	// Level 00: parsed and returned, no MAC.
	p = openPeers(t, keys, LevelNone, false, false, 0)
	u, err := p.card.UnwrapRaw([]byte{0x80, 0xCA, 0x00, 0x66, 0x00})
	if err != nil || u.INS != 0xCA || u.Ne != 256 {
		t.Fatalf("level 00: %v %v", u, err)
	}
	// AppendWrap leaves dst alone on error.
	p = openPeers(t, keys, LevelAll, false, false, 0)
	dst := []byte{1, 2}
	if out, err := p.host.AppendWrap(dst, apdu.Command{CLA: 0x84}); !errors.Is(err, ErrNotSecured) || !bytes.Equal(out, dst) {
		t.Fatalf("AppendWrap error: %X %v", out, err)
	}
	if out, err := p.host.AppendWrap(dst, apdu.Command{CLA: 0x80, Data: make([]byte, 65520)}); !errors.Is(err, ErrTooLong) || !bytes.Equal(out, dst) {
		t.Fatalf("AppendWrap too long: %v", err)
	}
	if out, err := p.card.AppendWrap(dst, apdu.Response{Data: []byte{1}, SW: 0x6A82}); err != nil || !bytes.Equal(out, []byte{1, 2, 0x6A, 0x82}) {
		t.Fatalf("card AppendWrap of error SW: %X %v", out, err)
	}
	p.card.Close()
	if _, err := p.card.AppendWrap(nil, apdu.Response{SW: 0x9000}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("card AppendWrap after Close: %v", err)
	}
}

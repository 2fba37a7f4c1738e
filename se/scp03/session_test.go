package scp03

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

// peers is a host and a card session with an open channel.
type peers struct {
	host *HostSession
	card *CardSession
}

func testKeys(n int, kvn byte) StaticKeys {
	k := func(seed byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed ^ byte(i*7)
		}
		return b
	}
	return StaticKeys{KVN: kvn, ENC: k(0x40), MAC: k(0x50), DEK: k(0x60)}
}

// detRand is a deterministic io.Reader for challenges.
type detRand struct{ r *rand.ChaCha8 }

func newDetRand(seed byte) *detRand {
	var s [32]byte
	s[0] = seed
	return &detRand{rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) { return d.r.Read(p) }

func openPeers(t testing.TB, keys StaticKeys, level SecurityLevel, s16, quirk bool, channel int) peers {
	t.Helper()
	card, err := NewCardSession(keys, CardOptions{S16: s16, Rand: newDetRand(1), CountOnlyDataCommands: quirk})
	if err != nil {
		t.Fatal(err)
	}
	hcLen := 8
	if s16 {
		hcLen = 16
	}
	hc := make([]byte, hcLen)
	newDetRand(2).Read(hc)
	iu, err := InitializeUpdate(keys.KVN, hc, channel)
	if err != nil {
		t.Fatal(err)
	}
	r, err := card.InitializeUpdate(iu)
	if err != nil {
		t.Fatal(err)
	}
	host, err := NewHostSession(keys, hc, r.Data, level, Options{Channel: channel, CountOnlyDataCommands: quirk})
	if err != nil {
		t.Fatal(err)
	}
	ea := host.ExternalAuthenticate()
	if ch, _ := apdu.Channel(ea.CLA); ch != channel {
		t.Fatalf("EXTERNAL AUTHENTICATE CLA %02X not on channel %d", ea.CLA, channel)
	}
	r, err = card.ExternalAuthenticate(viaWire(t, ea))
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Authenticated(r); err != nil {
		t.Fatal(err)
	}
	return peers{host, card}
}

// viaWire encodes and re-parses a command, as a transport would.
func viaWire(t testing.TB, c apdu.Command) apdu.Command {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := apdu.ParseCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func viaWireResp(t testing.TB, r apdu.Response) apdu.Response {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := apdu.ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var allLevels = []SecurityLevel{0x00, 0x01, 0x03, 0x11, 0x13, 0x33}

func randomCommand(r *rand.Rand, channel int) apdu.Command {
	clas := []byte{0x80, 0x00, 0x90, 0x10}
	cla, err := apdu.WithChannel(clas[r.IntN(len(clas))], channel)
	if err != nil {
		panic(err)
	}
	c := apdu.Command{CLA: cla, INS: byte(r.IntN(256)), P1: byte(r.IntN(256)), P2: byte(r.IntN(256))}
	switch r.IntN(5) {
	case 0:
	case 1, 2:
		c.Data = make([]byte, 1+r.IntN(64))
	case 3:
		c.Data = make([]byte, 200+r.IntN(100)) // crosses the short-form limit once wrapped
	case 4:
		c.Data = make([]byte, 1000+r.IntN(3000)) // extended
	}
	for i := range c.Data {
		c.Data[i] = byte(r.IntN(256))
	}
	switch r.IntN(4) {
	case 1:
		c.Ne = 1 + r.IntN(256)
	case 2:
		c.Ne = 257 + r.IntN(65536-256)
	case 3:
		c.Ne = apdu.MaxShortNe
	}
	return c
}

func randomResponse(r *rand.Rand) apdu.Response {
	sws := []uint16{0x9000, 0x9000, 0x9000, 0x6310, 0x6282, 0x6A82, 0x6982}
	resp := apdu.Response{SW: sws[r.IntN(len(sws))]}
	if isErrorSW(resp.SW) {
		return resp
	}
	n := r.IntN(3) * r.IntN(300)
	if n > 0 {
		resp.Data = make([]byte, n)
		for i := range resp.Data {
			resp.Data[i] = byte(r.IntN(256))
		}
	}
	return resp
}

// TestRoundTrip drives host and card through random commands and responses
// at every security level, key size and mode, checking that what the card
// application sees is what the host sent and vice versa.
func TestRoundTrip(t *testing.T) {
	iters := 40
	if testing.Short() {
		iters = 10
	}
	for _, keyLen := range []int{16, 24, 32} {
		for _, level := range allLevels {
			for _, s16 := range []bool{false, true} {
				for _, quirk := range []bool{false, true} {
					name := fmt.Sprintf("AES%d/%02X/S16=%v/quirk=%v", 8*keyLen, byte(level), s16, quirk)
					t.Run(name, func(t *testing.T) {
						rng := rand.New(rand.NewPCG(uint64(keyLen), uint64(level)))
						channel := rng.IntN(20)
						p := openPeers(t, testKeys(keyLen, 0x30), level, s16, quirk, channel)
						defer p.host.Close()
						defer p.card.Close()
						for i := range iters {
							cmd := randomCommand(rng, channel)
							w, err := p.host.Wrap(cmd)
							if err != nil {
								t.Fatalf("%d: Wrap: %v", i, err)
							}
							if level.Has(LevelCMAC) && !apdu.SecureMessaging(w.CLA) {
								t.Fatalf("%d: wrapped CLA %02X lacks secure messaging", i, w.CLA)
							}
							if level.Has(LevelCDEC) && len(cmd.Data) > 0 && bytes.Contains(w.Data, cmd.Data) && len(cmd.Data) > 8 {
								t.Fatalf("%d: command data sent in clear", i)
							}
							u, err := p.card.Unwrap(viaWire(t, w))
							if err != nil {
								t.Fatalf("%d: card Unwrap: %v", i, err)
							}
							if u.CLA != cmd.CLA || u.INS != cmd.INS || u.P1 != cmd.P1 || u.P2 != cmd.P2 || !bytes.Equal(u.Data, cmd.Data) {
								t.Fatalf("%d: card saw %v, host sent %v", i, u, cmd)
							}
							if (u.Ne == 0) != (cmd.Ne == 0) || u.Ne < cmd.Ne {
								t.Fatalf("%d: Ne %d became %d", i, cmd.Ne, u.Ne)
							}
							resp := randomResponse(rng)
							wr, err := p.card.Wrap(resp)
							if err != nil {
								t.Fatalf("%d: card Wrap: %v", i, err)
							}
							got, err := p.host.Unwrap(viaWireResp(t, wr))
							if err != nil {
								t.Fatalf("%d: host Unwrap: %v", i, err)
							}
							if got.SW != resp.SW || !bytes.Equal(got.Data, resp.Data) {
								t.Fatalf("%d: host got %v, card sent %v", i, got, resp)
							}
						}
					})
				}
			}
		}
	}
}

func TestExtendedLengthLimits(t *testing.T) {
	p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
	// 65519 bytes pad to 65520, plus an 8-byte C-MAC: 65528 ≤ 65535.
	big := apdu.Command{CLA: 0x80, INS: 0xE8, Data: bytes.Repeat([]byte{0xA5}, 65519), Ne: 65536}
	w, err := p.host.Wrap(big)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Extended() || len(w.Data) != 65528 || w.Ne != apdu.MaxNe {
		t.Fatalf("wrapped: extended=%v Nc=%d Ne=%d", w.Extended(), len(w.Data), w.Ne)
	}
	u, err := p.card.Unwrap(viaWire(t, w))
	if err != nil || !bytes.Equal(u.Data, big.Data) {
		t.Fatalf("unwrap: %v", err)
	}
	// 65520 bytes would pad to 65536.
	if _, err := p.host.Wrap(apdu.Command{CLA: 0x80, Data: make([]byte, 65520)}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	if _, err := p.card.Wrap(apdu.Response{Data: make([]byte, 65520), SW: 0x9000}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("card Wrap err = %v, want ErrTooLong", err)
	}
}

func TestHostRejectsBadInitializeUpdate(t *testing.T) {
	keys := testKeys(16, 0x30)
	card, _ := NewCardSession(keys, CardOptions{Rand: newDetRand(3)})
	hc := bytes.Repeat([]byte{1}, 8)
	iu, _ := InitializeUpdate(0x30, hc, 0)
	r, err := card.InitializeUpdate(iu)
	if err != nil {
		t.Fatal(err)
	}
	good := r.Data
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name  string
		keys  KeyProvider
		hc    []byte
		resp  []byte
		level SecurityLevel
		want  error
	}{
		{"truncated", keys, hc, good[:12], LevelCMAC, ErrInitializeUpdate},
		{"one byte short", keys, hc, good[:len(good)-1], LevelCMAC, ErrInitializeUpdate},
		{"one byte long", keys, hc, append(append([]byte(nil), good...), 0), LevelCMAC, ErrInitializeUpdate},
		{"not SCP03", keys, hc, mod(func(b []byte) []byte { b[11] = 0x02; return b }), LevelCMAC, ErrInitializeUpdate},
		{"S16 flag without S16 lengths", keys, hc, mod(func(b []byte) []byte { b[12] |= ParamS16; return b }), LevelCMAC, ErrInitializeUpdate},
		{"wrong key version", testKeys(16, 0x31), hc, good, LevelCMAC, ErrKeyVersion},
		{"bad card cryptogram", keys, hc, mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), LevelCMAC, ErrCardCryptogram},
		{"card challenge altered", keys, hc, mod(func(b []byte) []byte { b[13] ^= 1; return b }), LevelCMAC, ErrCardCryptogram},
		{"wrong static keys", testKeys(16, 0x30).with(func(k *StaticKeys) { k.MAC[0] ^= 1 }), hc, good, LevelCMAC, ErrCardCryptogram},
		{"host challenge length", keys, hc[:7], good, LevelCMAC, ErrChallenge},
		{"undefined level 31", keys, hc, good, 0x31, ErrSecurityLevel},
		{"undefined level 02", keys, hc, good, 0x02, ErrSecurityLevel},
		{"key length", StaticKeys{ENC: make([]byte, 15), MAC: make([]byte, 15)}, hc, good, LevelCMAC, ErrKeyLength},
		{"nil provider", nil, hc, good, LevelCMAC, ErrKeyLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHostSession(tt.keys, tt.hc, tt.resp, tt.level, Options{})
			if !errors.Is(err, tt.want) || h != nil {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// A card without R-MAC support cannot be asked for it.
	card, _ = NewCardSession(keys, CardOptions{Rand: newDetRand(3), Supported: LevelCMAC | LevelCDEC})
	r, _ = card.InitializeUpdate(iu)
	if _, err := NewHostSession(keys, hc, r.Data, LevelAll, Options{}); !errors.Is(err, ErrSecurityLevel) {
		t.Fatalf("R-MAC on a card without it: %v", err)
	}
	if _, err := NewHostSession(keys, hc, r.Data, 0x03, Options{Channel: 20}); err == nil {
		t.Fatal("channel 20 accepted")
	}
}

func (k StaticKeys) with(f func(*StaticKeys)) StaticKeys {
	c := StaticKeys{KVN: k.KVN, ENC: bytes.Clone(k.ENC), MAC: bytes.Clone(k.MAC), DEK: bytes.Clone(k.DEK)}
	f(&c)
	return c
}

func TestHostSessionStates(t *testing.T) {
	keys := testKeys(32, 0x30)
	card, _ := NewCardSession(keys, CardOptions{Rand: newDetRand(4)})
	hc := bytes.Repeat([]byte{2}, 8)
	iu, _ := InitializeUpdate(0, hc, 0)
	r, _ := card.InitializeUpdate(iu)
	h, err := NewHostSession(keys, hc, r.Data, LevelAll, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Wrap(apdu.Command{CLA: 0x80}); !errors.Is(err, ErrState) {
		t.Fatalf("Wrap before authentication: %v", err)
	}
	err = h.Authenticated(apdu.Response{SW: 0x6300})
	if se, ok := errors.AsType[*apdu.StatusError](err); !errors.Is(err, ErrExternalAuthenticate) || !ok || se.SW != 0x6300 {
		t.Fatalf("rejected EXTERNAL AUTHENTICATE: %v", err)
	}
	if se, ok := errors.AsType[*apdu.StatusError](h.Authenticated(apdu.Response{SW: 0x6982})); ok {
		t.Fatalf("a dead session reported the card's status %v", se)
	}
	if err := h.Authenticated(apdu.Response{SW: 0x9000}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("after rejection: %v", err)
	}
	if _, err := h.Wrap(apdu.Command{CLA: 0x80}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Wrap after rejection: %v", err)
	}
	for _, b := range [][]byte{h.core.sENC, h.core.sMAC, h.core.sRMAC} {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Fatal("session key not zeroed")
		}
	}
}

func TestHostUnwrapFailures(t *testing.T) {
	t.Run("wrong R-MAC kills the session", func(t *testing.T) {
		p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, Ne: 256})
		p.card.Unwrap(w)
		wr, _ := p.card.Wrap(apdu.Response{Data: []byte{1, 2, 3}, SW: 0x9000})
		wr.Data[len(wr.Data)-1] ^= 0x01
		if _, err := p.host.Unwrap(wr); !errors.Is(err, ErrMAC) {
			t.Fatalf("err = %v, want ErrMAC", err)
		}
		if _, err := p.host.Wrap(apdu.Command{CLA: 0x80}); !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("Wrap after MAC failure: %v", err)
		}
		if !bytes.Equal(p.host.core.sMAC, make([]byte, 16)) {
			t.Fatal("S-MAC not zeroed after MAC failure")
		}
	})
	t.Run("altered SW", func(t *testing.T) {
		p := openPeers(t, testKeys(16, 0x30), 0x13, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, Ne: 256})
		p.card.Unwrap(w)
		wr, _ := p.card.Wrap(apdu.Response{Data: []byte{1}, SW: 0x9000})
		wr.SW = 0x6310
		if _, err := p.host.Unwrap(wr); !errors.Is(err, ErrMAC) {
			t.Fatalf("err = %v, want ErrMAC", err)
		}
	})
	t.Run("missing R-MAC", func(t *testing.T) {
		p := openPeers(t, testKeys(16, 0x30), 0x11, false, false, 0)
		p.host.Wrap(apdu.Command{CLA: 0x80})
		if _, err := p.host.Unwrap(apdu.Response{Data: []byte{1, 2, 3}, SW: 0x9000}); !errors.Is(err, ErrMAC) {
			t.Fatalf("err = %v, want ErrMAC", err)
		}
	})
	t.Run("error SW passes through", func(t *testing.T) {
		p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE4, Data: []byte{1}})
		p.card.Unwrap(w)
		wr, err := p.card.Wrap(apdu.Response{Data: []byte{9, 9}, SW: 0x6A88})
		if err != nil || wr.Data != nil || wr.SW != 0x6A88 {
			t.Fatalf("card Wrap of error SW = %v, %v", wr, err)
		}
		got, err := p.host.Unwrap(wr)
		if err != nil || got.SW != 0x6A88 {
			t.Fatalf("host Unwrap = %v, %v", got, err)
		}
		// The session continues.
		w, err = p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, Ne: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.card.Unwrap(w); err != nil {
			t.Fatal(err)
		}
		if _, err := p.host.Unwrap(apdu.Response{Data: []byte{1}, SW: 0x6A82}); !errors.Is(err, ErrProtocol) {
			t.Fatalf("data with error SW: %v", err)
		}
		if _, err := p.host.Wrap(apdu.Command{CLA: 0x80}); !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("session alive after a forged error response: %v", err)
		}
	})
	t.Run("bad R-ENC padding", func(t *testing.T) {
		p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, Ne: 256})
		p.card.Unwrap(w)
		// The card MACs 15 bytes that are not a whole block.
		p.card.core.level = LevelCMAC | LevelCDEC | LevelRMAC
		wr, _ := p.card.Wrap(apdu.Response{Data: make([]byte, 15), SW: 0x9000})
		if _, err := p.host.Unwrap(wr); !errors.Is(err, ErrPadding) {
			t.Fatalf("err = %v, want ErrPadding", err)
		}
		if _, err := p.host.Unwrap(wr); !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("after padding error: %v", err)
		}
	})
}

func TestCardRejects(t *testing.T) {
	keys := testKeys(16, 0x30)
	t.Run("replay", func(t *testing.T) {
		p := openPeers(t, keys, LevelAll, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE2, Data: []byte{1, 2, 3}})
		first := viaWire(t, w)
		replay := viaWire(t, w)
		if _, err := p.card.Unwrap(first); err != nil {
			t.Fatal(err)
		}
		if _, err := p.card.Unwrap(replay); !errors.Is(err, ErrMAC) || StatusFor(err) != 0x6982 {
			t.Fatalf("replay: %v", err)
		}
		if p.card.Open() {
			t.Fatal("channel still open after MAC failure")
		}
		if _, err := p.card.Unwrap(replay); !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("after failure: %v", err)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		w1, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0x01})
		w2, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0x02})
		_ = w1
		if _, err := p.card.Unwrap(w2); !errors.Is(err, ErrMAC) {
			t.Fatalf("reordered: %v", err)
		}
	})
	t.Run("altered header", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE4, P1: 0x00})
		w.P1 = 0x80
		if _, err := p.card.Unwrap(w); !errors.Is(err, ErrMAC) {
			t.Fatalf("altered P1: %v", err)
		}
	})
	t.Run("missing secure messaging", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		if _, err := p.card.Unwrap(apdu.Command{CLA: 0x80, INS: 0xCA, Data: make([]byte, 8)}); !errors.Is(err, ErrNotSecured) {
			t.Fatalf("plain command: %v", err)
		}
		if p.card.Open() {
			t.Fatal("channel open after unsecured command")
		}
	})
	t.Run("other channel", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 1)
		if _, err := p.host.Wrap(apdu.Command{CLA: 0x82, INS: 0xCA}); !errors.Is(err, apdu.ErrChannel) {
			t.Fatalf("host Wrap on channel 2: %v", err)
		}
		w, err := p.host.Wrap(apdu.Command{CLA: 0x81, INS: 0xCA})
		if err != nil || w.CLA != 0x85 {
			t.Fatalf("wrapped CLA %02X, %v", w.CLA, err)
		}
		w.CLA = 0x86 // same MAC input (channel is zeroed), other channel
		if _, err := p.card.Unwrap(w); !errors.Is(err, ErrNotSecured) {
			t.Fatalf("card Unwrap on channel 2: %v", err)
		}
	})
	t.Run("ISO secure messaging bits", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA})
		w.CLA = 0x8C // same MAC input, but not the GlobalPlatform indication
		if _, err := p.card.Unwrap(w); !errors.Is(err, ErrNotSecured) {
			t.Fatalf("CLA 8C: %v", err)
		}
	})
	t.Run("class bit b6 outside the MAC", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA})
		w.CLA |= 0x20 // A4: MACed as 84, so only the class check can see it
		if _, err := p.card.Unwrap(w); !errors.Is(err, ErrNotSecured) || !errors.Is(err, apdu.ErrClass) || p.card.Open() {
			t.Fatalf("CLA A4: %v", err)
		}
		q := openPeers(t, keys, 0x01, false, false, 0)
		if _, err := q.host.Wrap(apdu.Command{CLA: 0xA0, INS: 0xCA}); !errors.Is(err, apdu.ErrClass) {
			t.Fatalf("host Wrap of CLA A0: %v", err)
		}
	})
	t.Run("truncated MAC", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		if _, err := p.card.Unwrap(apdu.Command{CLA: 0x84, INS: 0xCA, Data: make([]byte, 7)}); !errors.Is(err, ErrMAC) {
			t.Fatalf("7-byte data: %v", err)
		}
	})
	t.Run("bad C-DEC padding", func(t *testing.T) {
		p := openPeers(t, keys, 0x03, false, false, 0)
		p.host.core.level = LevelCMAC // MAC 15 clear bytes: not whole blocks
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE2, Data: make([]byte, 15)})
		if _, err := p.card.Unwrap(w); !errors.Is(err, ErrPadding) {
			t.Fatalf("err = %v, want ErrPadding", err)
		}
	})
	t.Run("wrapping twice", func(t *testing.T) {
		p := openPeers(t, keys, 0x01, false, false, 0)
		if _, err := p.host.Wrap(apdu.Command{CLA: 0x84}); !errors.Is(err, ErrNotSecured) {
			t.Fatalf("SM class: %v", err)
		}
		if _, err := p.host.Wrap(apdu.Command{CLA: 0xFF}); err == nil {
			t.Fatal("CLA FF wrapped")
		}
	})
	t.Run("quirk mismatch", func(t *testing.T) {
		p := openPeers(t, keys, 0x03, false, false, 0)
		p.host.core.quirk = true // host skips the counter for a case-1 command
		w, _ := p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0x01})
		if _, err := p.card.Unwrap(w); err != nil {
			t.Fatal(err)
		}
		w, _ = p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0x02, Data: []byte("counter")})
		u, err := p.card.Unwrap(w)
		if err == nil && bytes.Equal(u.Data, []byte("counter")) {
			t.Fatal("different counters decrypted to the same data")
		}
	})
}

func TestCardHandshakeErrors(t *testing.T) {
	keys := testKeys(16, 0x30)
	newCard := func() *CardSession {
		c, err := NewCardSession(keys, CardOptions{Rand: newDetRand(5)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	hc := make([]byte, 8)
	tests := []struct {
		name string
		cmd  apdu.Command
		sw   uint16
	}{
		{"unknown key version", apdu.Command{CLA: 0x80, INS: 0x50, P1: 0x31, Data: hc, Ne: 256}, 0x6A88},
		{"short challenge", apdu.Command{CLA: 0x80, INS: 0x50, P1: 0x30, Data: hc[:7], Ne: 256}, 0x6700},
		{"P2", apdu.Command{CLA: 0x80, INS: 0x50, P1: 0x30, P2: 1, Data: hc, Ne: 256}, 0x6A86},
		{"INS", apdu.Command{CLA: 0x80, INS: 0x51, P1: 0x30, Data: hc, Ne: 256}, 0x6D00},
		{"CLA A0", apdu.Command{CLA: 0xA0, INS: 0x50, P1: 0x30, Data: hc, Ne: 256}, 0x6E00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newCard().InitializeUpdate(tt.cmd)
			if err == nil || r.SW != tt.sw {
				t.Fatalf("SW %04X err %v, want %04X", r.SW, err, tt.sw)
			}
		})
	}
	if _, err := newCard().InitializeUpdate(tests[0].cmd); !errors.Is(err, ErrKeyVersion) || StatusFor(err) != 0x6A88 {
		t.Fatalf("unknown key version: %v", err)
	}
	t.Run("EXTERNAL AUTHENTICATE without INITIALIZE UPDATE", func(t *testing.T) {
		r, err := newCard().ExternalAuthenticate(apdu.Command{CLA: 0x84, INS: 0x82, Data: make([]byte, 16)})
		if !errors.Is(err, ErrState) || r.SW != 0x6985 {
			t.Fatalf("%v %v", r, err)
		}
	})
	handshake := func(level SecurityLevel, supported SecurityLevel) (*CardSession, *HostSession, apdu.Command) {
		c, _ := NewCardSession(keys, CardOptions{Rand: newDetRand(6), Supported: supported})
		iu, _ := InitializeUpdate(0x30, hc, 0)
		r, err := c.InitializeUpdate(iu)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHostSession(keys, hc, r.Data, level, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c, h, h.ExternalAuthenticate()
	}
	t.Run("bad C-MAC", func(t *testing.T) {
		c, _, ea := handshake(0x33, 0)
		ea.Data[15] ^= 1
		r, err := c.ExternalAuthenticate(ea)
		if !errors.Is(err, ErrMAC) || r.SW != 0x6982 {
			t.Fatalf("%v %v", r, err)
		}
		if _, err := c.ExternalAuthenticate(ea); !errors.Is(err, ErrState) {
			t.Fatalf("second try: %v", err)
		}
	})
	t.Run("bad host cryptogram", func(t *testing.T) {
		c, h, ea := handshake(0x33, 0)
		ea.Data[0] ^= 1
		// Re-MAC the altered cryptogram so that only the cryptogram is wrong.
		var k core
		k.macLen, k.cmac = 8, h.core.cmac
		k.commandMAC(ea, ea.Data[:8])
		copy(ea.Data[8:], k.mac[:8])
		r, err := c.ExternalAuthenticate(ea)
		if !errors.Is(err, ErrHostCryptogram) || r.SW != 0x6300 || StatusFor(err) != 0x6300 {
			t.Fatalf("%v %v", r, err)
		}
	})
	t.Run("unsupported level", func(t *testing.T) {
		c, h, ea := handshake(0x13, 0x13)
		_ = h
		ea.P1 = 0x33
		r, err := c.ExternalAuthenticate(ea)
		if !errors.Is(err, ErrSecurityLevel) || r.SW != 0x6A86 {
			t.Fatalf("%v %v", r, err)
		}
	})
	t.Run("wrong length", func(t *testing.T) {
		c, _, ea := handshake(0x01, 0)
		ea.Data = ea.Data[:15]
		r, err := c.ExternalAuthenticate(ea)
		if !errors.Is(err, ErrExternalAuthenticate) || r.SW != 0x6700 {
			t.Fatalf("%v %v", r, err)
		}
	})
}

func TestCardOptionsAndCounter(t *testing.T) {
	keys := testKeys(16, 0x30)
	if _, err := NewCardSession(keys, CardOptions{}); !errors.Is(err, ErrOptions) {
		t.Fatal("no Rand and no pseudo-random challenge accepted")
	}
	if _, err := NewCardSession(keys, CardOptions{PseudoRandomChallenge: true, AID: []byte{1, 2}}); !errors.Is(err, ErrOptions) {
		t.Fatal("2-byte AID accepted")
	}
	if _, err := NewCardSession(keys, CardOptions{Rand: newDetRand(1), Supported: 0x31}); !errors.Is(err, ErrSecurityLevel) {
		t.Fatalf("Supported 31: %v", err)
	}
	if _, err := NewCardSession(nil, CardOptions{Rand: newDetRand(1)}); err == nil {
		t.Fatal("nil keys accepted")
	}
	c, err := NewCardSession(keys, CardOptions{PseudoRandomChallenge: true, AID: []byte{0xA0, 0, 0, 1, 0x51}, SequenceCounter: MaxSequenceCounter - 1})
	if err != nil {
		t.Fatal(err)
	}
	iu, _ := InitializeUpdate(0x30, make([]byte, 8), 0)
	r1, err := c.InitializeUpdate(iu)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseInitializeUpdateResponse(r1.Data)
	if err != nil || info.SequenceCounter != MaxSequenceCounter || info.Param != 0x70 {
		t.Fatalf("info %+v, %v", info, err)
	}
	if r, err := c.InitializeUpdate(iu); !errors.Is(err, ErrSequenceCounter) || r.SW != 0x6985 {
		t.Fatalf("exhausted counter: %v %v", r, err)
	}

	// Close zeroes the card's session keys and ends the channel.
	p := openPeers(t, keys, LevelAll, true, false, 0)
	sENC := p.card.core.sENC
	if bytes.Equal(sENC, make([]byte, 16)) {
		t.Fatal("session key is zero before Close")
	}
	p.card.Close()
	if !bytes.Equal(sENC, make([]byte, 16)) || p.card.Open() {
		t.Fatal("card Close did not zero S-ENC")
	}
	if _, err := p.card.Wrap(apdu.Response{SW: 0x9000}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Wrap after Close: %v", err)
	}
	p.host.Close()
	p.host.Close() // idempotent
}

func TestOpenOverTransport(t *testing.T) {
	keys := testKeys(24, 0x31)
	card, err := NewCardSession(keys, CardOptions{S16: true, PseudoRandomChallenge: true, AID: []byte{0xA0, 0, 0, 1, 0x51, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	tx := cardTransport(card, func(c apdu.Command) apdu.Response {
		return apdu.Response{Data: append([]byte("echo:"), c.Data...), SW: 0x9000}
	})
	h, err := Open(context.Background(), tx, keys, LevelAll, Options{S16: true, Channel: 2}, newDetRand(9))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Level() != LevelAll || !h.Info().S16() {
		t.Fatalf("level %v, info %+v", h.Level(), h.Info())
	}
	for i := range 3 {
		w, err := h.Wrap(apdu.Command{CLA: 0x82, INS: 0xCA, Data: []byte{byte(i)}, Ne: 256})
		if err != nil {
			t.Fatal(err)
		}
		r, err := apdu.Transmit(context.Background(), tx, w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.Unwrap(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("echo:"), byte(i)); !bytes.Equal(got.Data, want) {
			t.Fatalf("got %q want %q", got.Data, want)
		}
	}
	// Wrong keys: the card cryptogram fails.
	if _, err := Open(context.Background(), tx, testKeys(24, 0x31).with(func(k *StaticKeys) { k.MAC[3] ^= 1 }), LevelAll, Options{S16: true}, newDetRand(9)); !errors.Is(err, ErrCardCryptogram) {
		t.Fatalf("wrong keys: %v", err)
	}
	if _, err := Open(context.Background(), tx, keys, LevelAll, Options{}, nil); !errors.Is(err, ErrOptions) {
		t.Fatal("nil rand accepted")
	}
	if _, err := Open(context.Background(), tx, nil, LevelAll, Options{}, newDetRand(1)); !errors.Is(err, ErrKeyLength) {
		t.Fatalf("nil keys: %v", err)
	}
}

// cardTransport turns a CardSession and an application into a
// TransmitFunc: an in-process secure element.
func cardTransport(card *CardSession, app func(apdu.Command) apdu.Response) apdu.TransmitFunc {
	return func(_ context.Context, raw []byte) ([]byte, error) {
		cmd, err := apdu.ParseCommand(raw)
		if err != nil {
			return []byte{0x67, 0x00}, nil
		}
		var resp apdu.Response
		switch {
		case cmd.INS == INSInitializeUpdate && !apdu.SecureMessaging(cmd.CLA):
			resp, _ = card.InitializeUpdate(cmd)
		case cmd.INS == INSExternalAuthenticate:
			resp, _ = card.ExternalAuthenticate(cmd)
		default:
			plain, err := card.Unwrap(cmd)
			if err != nil {
				resp = apdu.Response{SW: StatusFor(err)}
				break
			}
			if resp, err = card.Wrap(app(plain)); err != nil {
				resp = apdu.Response{SW: StatusFor(err)}
			}
		}
		return resp.MarshalBinary()
	}
}

func TestStatusFor(t *testing.T) {
	for err, want := range map[error]uint16{
		nil:                                 0x9000,
		ErrMAC:                              0x6982,
		fmt.Errorf("x: %w", ErrPadding):     0x6982,
		ErrHostCryptogram:                   0x6300,
		ErrSecurityLevel:                    0x6A86,
		ErrSessionClosed:                    0x6985,
		ErrTooLong:                          0x6700,
		fmt.Errorf("%w: x", apdu.ErrLength): 0x6700,
		errors.New("other"):                 0x6F00,
	} {
		if got := StatusFor(err); got != want {
			t.Errorf("StatusFor(%v) = %04X, want %04X", err, got, want)
		}
	}
}

func TestMisc(t *testing.T) {
	if _, err := NewCMAC(make([]byte, 15)); !errors.Is(err, ErrKeyLength) {
		t.Fatal(err)
	}
	for _, bits := range []int{0, 7, -8, MaxDeriveBits + 8} {
		if _, err := DeriveKey(make([]byte, 16), 4, nil, bits); !errors.Is(err, ErrDeriveLength) {
			t.Errorf("bits %d: %v", bits, err)
		}
	}
	if _, err := DeriveKey(make([]byte, 16), 4, nil, MaxDeriveBits); err != nil {
		t.Fatal(err)
	}
	if _, err := DeriveKey(make([]byte, 17), 4, nil, 128); !errors.Is(err, ErrKeyLength) {
		t.Fatal(err)
	}
	k := testKeys(16, 0x30)
	p := openPeers(t, k, LevelAll, false, false, 0)
	// No verb may print key material, directly or as an exported field.
	type holder struct{ Keys StaticKeys }
	secrets := [][]byte{k.ENC, k.MAC, k.DEK, p.host.core.sENC, p.host.core.sMAC, p.host.core.sRMAC,
		p.card.core.sENC, p.host.core.cmac.k1[:]}
	for _, v := range []any{k, &k, holder{k}, p.host, p.card, p.host.core.cmac} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%o", "%b", "%c", "%U"} {
			s := fmt.Sprintf(f, v)
			for _, key := range secrets {
				dec := strings.Trim(fmt.Sprint(key), "[]")
				if strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", key[:8])) || strings.Contains(s, dec[:len(dec)/2]) ||
					strings.Contains(s, string(key[:8])) {
					t.Fatalf("%s of %T prints key material: %s", f, v, s)
				}
			}
		}
	}
	if got := fmt.Sprint(p.host); got != "scp03.HostSession{KVN: 30, S8, level: C-MAC|C-DEC|R-MAC|R-ENC, open: true}" {
		t.Fatalf("HostSession.String = %q", got)
	}
	if got := fmt.Sprint(k); got != "scp03.StaticKeys{KVN: 30, AES-128}" {
		t.Fatalf("String = %q", got)
	}
	if (StaticKeys{ENC: make([]byte, 16), MAC: make([]byte, 24)}).Validate() == nil {
		t.Fatal("mixed key lengths accepted")
	}
	if err := (StaticKeys{ENC: make([]byte, 16), MAC: make([]byte, 16)}).Derive(KeyDEK, 4, nil, make([]byte, 16)); !errors.Is(err, ErrKeyLength) {
		t.Fatalf("missing DEK: %v", err)
	}
	if LevelAll.String() != "C-MAC|C-DEC|R-MAC|R-ENC" || LevelNone.String() != "none" || KeyMAC.String() != "MAC" {
		t.Fatal("String")
	}
	if _, err := InitializeUpdate(0, make([]byte, 9), 0); !errors.Is(err, ErrChallenge) {
		t.Fatal(err)
	}
	m, _ := NewCMAC(make([]byte, 16))
	if m.Size() != 16 || m.BlockSize() != 16 {
		t.Fatal("sizes")
	}
	m.Zero()
	if tag := m.MAC([]byte("x")); tag != [16]byte{} {
		t.Fatal("zeroed CMAC still computes tags")
	}
}

// TestConcurrentTransmit shares one host session between goroutines:
// Transmit serialises the exchanges, so every one verifies.
func TestConcurrentTransmit(t *testing.T) {
	keys := testKeys(16, 0x30)
	card, err := NewCardSession(keys, CardOptions{Rand: newDetRand(3)})
	if err != nil {
		t.Fatal(err)
	}
	var cardMu sync.Mutex // the card itself answers one APDU at a time
	inner := cardTransport(card, func(c apdu.Command) apdu.Response {
		return apdu.Response{Data: append([]byte("ok:"), c.Data...), SW: 0x9000}
	})
	tx := func(ctx context.Context, b []byte) ([]byte, error) {
		runtime.Gosched() // a real transport blocks: let other exchanges start
		cardMu.Lock()
		defer cardMu.Unlock()
		return inner(ctx, b)
	}
	h, err := Open(context.Background(), tx, keys, LevelAll, Options{}, newDetRand(4))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4*25)
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				data := []byte{byte(g), byte(i)}
				r, err := h.Transmit(context.Background(), tx, apdu.Command{CLA: 0x80, INS: 0xCA, Data: data, Ne: 256})
				if err == nil && (r.SW != 0x9000 || !bytes.Equal(r.Data, append([]byte("ok:"), data...))) {
					err = fmt.Errorf("goroutine %d exchange %d: %v", g, i, r)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := h.Transmit(context.Background(), tx, apdu.Command{CLA: 0x84}); !errors.Is(err, ErrNotSecured) {
		t.Fatalf("Transmit of an SM class: %v", err)
	}
}

// TestConcurrentUse exercises the session locks under -race: concurrent
// Wrap, Info, Level and Close must not race or panic.
func TestConcurrentUse(t *testing.T) {
	p := openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 50 {
				if g == 3 && i == 25 {
					p.host.Close()
					p.card.Close()
				}
				_, _ = p.host.Wrap(apdu.Command{CLA: 0x80, INS: byte(i), Data: []byte{byte(g)}})
				_ = p.host.Info()
				_ = p.host.Level()
				_ = p.card.SequenceCounter()
				_ = p.card.Open()
				_, _ = p.card.Wrap(apdu.Response{SW: 0x9000})
			}
		}()
	}
	for range 4 {
		<-done
	}
	if _, err := p.host.Wrap(apdu.Command{CLA: 0x80}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("after concurrent Close: %v", err)
	}
}

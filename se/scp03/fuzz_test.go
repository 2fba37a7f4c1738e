package scp03

import (
	"bytes"
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

// fuzzPeers opens a fresh AES-128 S8 channel at level 33 with a fixed
// history, so that the one valid next command and response are known.
func fuzzPeers(t testing.TB) (p peers, wrapped apdu.Command, wireCmd []byte) {
	p = openPeers(t, testKeys(16, 0x30), LevelAll, false, false, 0)
	var err error
	wrapped, err = p.host.Wrap(apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x91, Data: []byte{0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A}, Ne: 256})
	if err != nil {
		t.Fatal(err)
	}
	wireCmd, err = wrapped.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return p, wrapped, wireCmd
}

// FuzzCardUnwrap feeds arbitrary bytes to the card as the next command. No
// input may panic, and only the command the host actually wrapped (in any
// valid encoding) may be accepted.
func FuzzCardUnwrap(f *testing.F) {
	_, _, valid := fuzzPeers(f)
	f.Add(valid)
	f.Add(append(bytes.Clone(valid[:len(valid)-2]), 0x00))
	f.Add([]byte{0x84, 0xE2, 0x91, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0x80, 0xCA, 0x00, 0x66, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip()
		}
		p, wrapped, _ := fuzzPeers(t)
		cmd, err := apdu.ParseCommand(b)
		if err != nil {
			return
		}
		sent := bytes.Clone(cmd.Data) // Unwrap decrypts in place
		u, err := p.card.Unwrap(cmd)
		if err != nil {
			if p.card.Open() {
				t.Fatalf("channel still open after %v", err)
			}
			return
		}
		if cmd.CLA != wrapped.CLA || cmd.INS != wrapped.INS || cmd.P1 != wrapped.P1 || cmd.P2 != wrapped.P2 ||
			!bytes.Equal(sent, wrapped.Data) || cmd.Extended() != wrapped.Extended() {
			t.Fatalf("forged command %X accepted as %v", b, u)
		}
	})
}

// FuzzCardUnwrapRaw feeds arbitrary bytes to the card's UnwrapRaw as the
// next command. No input may panic; since the C-MAC covers the header, the
// Lc field as sent and the data, only the genuine wire bytes may be
// accepted, with any Le (Le is not MACed) or none.
func FuzzCardUnwrapRaw(f *testing.F) {
	_, _, valid := fuzzPeers(f)
	f.Add(bytes.Clone(valid)) // seeds may be passed in place and are decrypted
	f.Add(bytes.Clone(valid[:len(valid)-1]))
	f.Add(append([]byte{valid[0], valid[1], valid[2], valid[3], 0, 0, valid[4]}, valid[5:len(valid)-1]...))
	f.Add([]byte{0x84, 0xE2, 0x91, 0x00, 0x00})
	f.Add([]byte{0x84, 0xE2, 0x91, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip()
		}
		p, _, _ := fuzzPeers(t)
		sent := bytes.Clone(b) // UnwrapRaw decrypts in place
		u, err := p.card.UnwrapRaw(b)
		if err != nil {
			if p.card.Open() {
				t.Fatalf("channel still open after %v", err)
			}
			return
		}
		body := valid[:len(valid)-1] // without the one-byte Le
		if !bytes.HasPrefix(sent, body) || len(sent) > len(valid) {
			t.Fatalf("forged command %X accepted as %v", sent, u)
		}
	})
}

// FuzzHostUnwrap feeds arbitrary bytes to the host as the response to its
// last command. Only the card's genuine response, or a bare error status
// word, may be accepted.
func FuzzHostUnwrap(f *testing.F) {
	p, wrapped, _ := fuzzPeers(f)
	if _, err := p.card.Unwrap(wrapped); err != nil {
		f.Fatal(err)
	}
	genuine, err := p.card.Wrap(apdu.Response{Data: []byte("0123456789abcdefghij"), SW: 0x9000})
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := genuine.MarshalBinary()
	f.Add(valid)
	f.Add([]byte{0x6A, 0x82})
	f.Add([]byte{0x01, 0x6A, 0x82})
	f.Add([]byte{0x90, 0x00})
	f.Add(append(make([]byte, 16), 0x63, 0x10))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip()
		}
		p, _, _ := fuzzPeers(t)
		b = bytes.Clone(b) // Unwrap decrypts in place
		orig := bytes.Clone(b)
		r, err := apdu.ParseResponse(b)
		if err != nil {
			return
		}
		got, err := p.host.Unwrap(r)
		if err != nil {
			return
		}
		if isErrorSW(r.SW) {
			if len(r.Data) != 0 || got.SW != r.SW {
				t.Fatalf("error SW response %X accepted as %v", b, got)
			}
			return
		}
		if !bytes.Equal(orig, valid) {
			t.Fatalf("forged response %X accepted as %v", b, got)
		}
	})
}

// FuzzNewHostSession feeds arbitrary INITIALIZE UPDATE responses to the
// host: no panic, and only the genuine response authenticates the card.
func FuzzNewHostSession(f *testing.F) {
	keys := testKeys(16, 0x30)
	card, _ := NewCardSession(keys, CardOptions{PseudoRandomChallenge: true, AID: []byte{0xA0, 0, 0, 1, 0x51, 0, 0}})
	hc := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	iu, _ := InitializeUpdate(0x30, hc, 0)
	r, err := card.InitializeUpdate(iu)
	if err != nil {
		f.Fatal(err)
	}
	genuine := r.Data
	f.Add(genuine)
	f.Add(genuine[:29])
	f.Add(make([]byte, 45))
	f.Add(append(bytes.Clone(genuine[:12]), 0x01))
	// Found by the fuzzer: the pseudo-random bit cleared and the sequence
	// counter stripped still authenticates (neither is covered).
	stripped := bytes.Clone(genuine[:29])
	stripped[12] &^= ParamPseudoRandom
	f.Add(stripped)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := NewHostSession(keys, hc, b, LevelAll, Options{})
		if err != nil {
			return
		}
		defer h.Close()
		// Only the host challenge ‖ card challenge context is covered by
		// the card cryptogram (Amendment D §6.2.2.2): key diversification
		// data, the "i" bits other than S16 and the sequence counter (which
		// the pseudo-random bit adds or removes) are not, and a man in the
		// middle can change them. What the cryptogram covers, and the key
		// version the host asked for, must be genuine.
		info, err := ParseInitializeUpdateResponse(b)
		if err != nil {
			t.Fatalf("accepted a response that does not parse: %v", err)
		}
		if info.KeyVersion != genuine[10] || info.S16() || !bytes.Equal(info.CardChallenge, genuine[13:21]) ||
			!bytes.Equal(info.CardCryptogram, genuine[21:29]) {
			t.Fatalf("forged INITIALIZE UPDATE response %X accepted", b)
		}
	})
}

package scp03_test

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

func ExampleCMAC() {
	// RFC 4493 §4, Example 2.
	key, _ := hex.DecodeString("2b7e151628aed2a6abf7158809cf4f3c")
	msg, _ := hex.DecodeString("6bc1bee22e409f96e93d7e117393172a")
	m, _ := scp03.NewCMAC(key)
	m.Write(msg)
	fmt.Printf("%x\n", m.Sum(nil))
	// Output: 070a16b46b4d4144f79bdd9dd04a287c
}

func ExampleDeriveKey() {
	// S-ENC from a static ENC key, host challenge ‖ card challenge.
	key := make([]byte, 16)
	context := make([]byte, 16)
	sEnc, _ := scp03.DeriveKey(key, scp03.DeriveSENC, context, 128)
	fmt.Println(len(sEnc), "bytes")
	// Output: 16 bytes
}

// Example runs a host and an in-process card through the handshake at
// security level 33 (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION) and one
// protected exchange. The keys and host challenge are those of the pySim
// AES-128 level-33 transcript, so the bytes match that card's.
func Example() {
	keys := scp03.StaticKeys{KVN: 0x30,
		ENC: mustHex("000102030405060708090a0b0c0d0e0f"),
		MAC: mustHex("101112131415161718191a1b1c1d1e1f"),
		DEK: mustHex("202122232425262728292a2b2c2d2e2f")}

	// The card: pseudo-random challenges for the ISD-R of an eUICC.
	card, _ := scp03.NewCardSession(keys, scp03.CardOptions{
		PseudoRandomChallenge: true,
		AID:                   mustHex("A0000005591010FFFFFFFF8900000100"),
		SequenceCounter:       2,
	})
	defer card.Close()

	// The host.
	hostChallenge := mustHex("fdf38259a1e0de44")
	iu, _ := scp03.InitializeUpdate(keys.KVN, hostChallenge, 0)
	fmt.Println("> INITIALIZE UPDATE", show(iu))
	r, _ := card.InitializeUpdate(iu)
	fmt.Printf("< %X %04X\n", r.Data, r.SW)

	host, err := scp03.NewHostSession(keys, hostChallenge, r.Data, scp03.LevelAll, scp03.Options{})
	if err != nil {
		fmt.Println(err) // a card without our keys fails here
		return
	}
	defer host.Close()
	ea := host.ExternalAuthenticate()
	fmt.Println("> EXTERNAL AUTHENTICATE", show(ea))
	r, _ = card.ExternalAuthenticate(ea)
	fmt.Printf("< %04X\n", r.SW)
	if err := host.Authenticated(r); err != nil {
		fmt.Println(err)
		return
	}

	// GET EID (GSMA SGP.22 ES10c), protected both ways.
	getEID := apdu.Command{CLA: 0x80, INS: 0xE2, P1: 0x91, P2: 0x00, Data: mustHex("BF3E035C015A"), Ne: 256}
	w, _ := host.Wrap(getEID)
	fmt.Println("> GET EID (wrapped)", show(w))
	plain, _ := card.Unwrap(w)
	resp, _ := card.Wrap(apdu.Response{Data: mustHex("bf3e125a1089882119900000000000000000000005"), SW: 0x9000})
	fmt.Printf("< %X %04X\n", resp.Data, resp.SW)
	got, err := host.Unwrap(resp)
	fmt.Printf("card saw %s; host got %X %04X %v\n", show(plain), got.Data, got.SW, err)

	// Output:
	// > INITIALIZE UPDATE 8050300008FDF38259A1E0DE4400
	// < 000000000000000000003003703B1ACA81E821F219081CDC01C26B372D000003 9000
	// > EXTERNAL AUTHENTICATE 84823300108C36F96BCC00724A4E13AD591D7DA3F0
	// < 9000
	// > GET EID (wrapped) 84E2910018267A85DFE4A98FCA6FB0527E0DFECCE4914E40401433C87F00
	// < F3BA2B1013AA6224F5E1C138D71805C569E5439B47576260B75FC021B25097CB2E68F8A0144975B9 9000
	// card saw 80E2910006BF3E035C015A00; host got BF3E125A1089882119900000000000000000000005 9000 <nil>
}

// ExampleOpen runs the handshake over a TransmitFunc, as a host does with a
// PC/SC reader or an NFC transceiver.
func ExampleOpen() {
	keys := scp03.StaticKeys{KVN: 0x30, ENC: make([]byte, 32), MAC: make([]byte, 32), DEK: make([]byte, 32)}
	card, _ := scp03.NewCardSession(keys, scp03.CardOptions{PseudoRandomChallenge: true, AID: mustHex("A000000151000000")})
	tx := func(_ context.Context, raw []byte) ([]byte, error) {
		cmd, err := apdu.ParseCommand(raw)
		if err != nil {
			return []byte{0x67, 0x00}, nil
		}
		var r apdu.Response
		switch cmd.INS {
		case scp03.INSInitializeUpdate:
			r, _ = card.InitializeUpdate(cmd)
		case scp03.INSExternalAuthenticate:
			r, _ = card.ExternalAuthenticate(cmd)
		default:
			// Unwrap the command as received (C-MAC over the wire Lc),
			// then wrap and encode the application's answer.
			if _, err := card.UnwrapRaw(raw); err != nil {
				return apdu.Response{SW: scp03.StatusFor(err)}.MarshalBinary()
			}
			return card.AppendWrap(nil, apdu.Response{Data: []byte("hello"), SW: 0x9000})
		}
		return r.MarshalBinary()
	}
	zeros := zeroReader{}
	host, err := scp03.Open(context.Background(), tx, keys, scp03.LevelAll, scp03.Options{}, zeros)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer host.Close()
	w, _ := host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x00, P2: 0x66, Ne: 256})
	r, _ := apdu.Transmit(context.Background(), tx, w)
	got, err := host.Unwrap(r)
	fmt.Printf("%s %04X %v (level %v)\n", got.Data, got.SW, err, host.Level())
	// Output: hello 9000 <nil> (level C-MAC|C-DEC|R-MAC|R-ENC)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func show(c apdu.Command) string {
	b, _ := c.MarshalBinary()
	return fmt.Sprintf("%X", b)
}

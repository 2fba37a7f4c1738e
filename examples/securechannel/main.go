// Command securechannel shows a GlobalPlatform SCP03 secure channel end to
// end, in one process: a host (se/scp03.HostSession) talks to an in-process
// card (se/scp03.CardSession behind an apdu.TransmitFunc) through a wire
// that prints every APDU in hex. The host opens the channel at security
// level 33 (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION), stores and reads
// back a record, then a man in the middle flips one bit of a command and,
// in a second session, one bit of a response: both are caught and the
// session that caught them is dead. Keys are never printed.
//
//	go run ./examples/securechannel -seed 7 -level 33 -keylen 16
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// config holds the command-line settings.
type config struct {
	Seed   uint64 // seed of the demo keys and the host challenges
	Level  scp03.SecurityLevel
	KeyLen int  // 16, 24 or 32 bytes (AES-128/192/256)
	S16    bool // S16 mode: 16-byte challenges, cryptograms and MACs
}

func main() {
	var cfg config
	var level string
	flag.Uint64Var(&cfg.Seed, "seed", 7, "seed of the demo static keys and host challenges")
	flag.StringVar(&level, "level", "33", "security level in hex: 00, 01, 03, 11, 13 or 33")
	flag.IntVar(&cfg.KeyLen, "keylen", 16, "AES key length in bytes: 16, 24 or 32")
	flag.BoolVar(&cfg.S16, "s16", false, "use S16 mode (16-byte MACs) instead of S8")
	flag.Parse()
	l, err := strconv.ParseUint(level, 16, 8)
	if err != nil {
		fmt.Fprintln(os.Stderr, "securechannel: -level:", err)
		os.Exit(2)
	}
	cfg.Level = scp03.SecurityLevel(l)
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "securechannel:", err)
		os.Exit(1)
	}
}

// isdAID is the AID of the GlobalPlatform issuer security domain; the card
// derives its pseudo-random challenges from it.
var isdAID = []byte{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}

// Instructions of the demo applet.
const (
	insStoreData = 0xE2 // store the data field as the record
	insGetData   = 0xCA // P1P2 = 0066: return the record
)

// card is the in-process secure element: an SCP03 card session in front of
// a one-record applet.
type card struct {
	sc     *scp03.CardSession
	record []byte
	out    []byte // response buffer, reused (TransmitFunc contract)
}

func newCard(keys scp03.KeyProvider, s16 bool) (*card, error) {
	sc, err := scp03.NewCardSession(keys, scp03.CardOptions{
		S16: s16, PseudoRandomChallenge: true, AID: isdAID,
		KeyDiversificationData: [10]byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09},
	})
	if err != nil {
		return nil, err
	}
	return &card{sc: sc}, nil
}

// transmit is the card's apdu.TransmitFunc: handshake commands go to the
// card session, everything else is unwrapped (C-MAC over the Lc field as
// received), handled by the applet and wrapped.
func (c *card) transmit(_ context.Context, raw []byte) ([]byte, error) {
	cmd, err := apdu.ParseCommand(raw)
	if err != nil {
		return apdu.Response{SW: apdu.SWWrongLength}.AppendBinary(c.out[:0])
	}
	var resp apdu.Response
	switch {
	case cmd.INS == scp03.INSInitializeUpdate && !apdu.SecureMessaging(cmd.CLA):
		resp, _ = c.sc.InitializeUpdate(cmd)
	case cmd.INS == scp03.INSExternalAuthenticate:
		resp, _ = c.sc.ExternalAuthenticate(cmd)
	default:
		plain, err := c.sc.UnwrapRaw(raw)
		if err != nil {
			return apdu.Response{SW: scp03.StatusFor(err)}.AppendBinary(c.out[:0])
		}
		c.out, err = c.sc.AppendWrap(c.out[:0], c.applet(plain))
		if err != nil {
			return apdu.Response{SW: scp03.StatusFor(err)}.AppendBinary(c.out[:0])
		}
		return c.out, nil
	}
	return resp.AppendBinary(c.out[:0])
}

// applet handles an unwrapped command.
func (c *card) applet(cmd apdu.Command) apdu.Response {
	switch {
	case cmd.INS == insStoreData:
		c.record = append(c.record[:0], cmd.Data...)
		return apdu.Response{SW: apdu.SWSuccess}
	case cmd.INS == insGetData && cmd.P1 == 0x00 && cmd.P2 == 0x66:
		return apdu.Response{Data: bytes.Clone(c.record), SW: apdu.SWSuccess}
	case cmd.INS == insGetData:
		return apdu.Response{SW: apdu.SWReferencedDataNotFound}
	}
	return apdu.Response{SW: apdu.SWINSNotSupported}
}

// wire prints every APDU that crosses it and lets a man in the middle
// alter them.
type wire struct {
	w          io.Writer
	next       apdu.TransmitFunc
	tamperCmd  bool // flip one bit of the next wrapped command
	tamperResp bool // flip one bit of the next response data
	exchanges  int
}

func (m *wire) transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if m.tamperCmd && len(cmd) > 8 {
		m.tamperCmd = false
		cmd = bytes.Clone(cmd)
		cmd[6] ^= 0x01
		fmt.Fprintf(m.w, "  !! man in the middle flips bit 0 of command byte 6\n")
	}
	fmt.Fprintf(m.w, "  → %s\n", hexAPDU(cmd))
	resp, err := m.next(ctx, cmd)
	if err != nil {
		return nil, err
	}
	m.exchanges++
	if m.tamperResp && len(resp) > 4 {
		m.tamperResp = false
		resp = bytes.Clone(resp)
		resp[0] ^= 0x01
		fmt.Fprintf(m.w, "  !! man in the middle flips bit 0 of response byte 0\n")
	}
	fmt.Fprintf(m.w, "  ← %s\n", hexAPDU(resp))
	return resp, nil
}

// hexAPDU formats an APDU in upper-case hex, eliding the middle of long
// ones.
func hexAPDU(b []byte) string {
	s := fmt.Sprintf("%X", b)
	if len(s) > 96 {
		s = s[:64] + "…" + s[len(s)-24:]
	}
	return fmt.Sprintf("%s (%d bytes)", s, len(b))
}

// demoKeys derives a demo key set from the seed. Real hosts keep static
// keys behind a KeyProvider in an HSM; these are never printed.
func demoKeys(seed uint64, n int) scp03.StaticKeys {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	r := rand.NewChaCha8(s)
	k := func() []byte {
		b := make([]byte, n)
		_, _ = r.Read(b)
		return b
	}
	return scp03.StaticKeys{KVN: 0x30, ENC: k(), MAC: k(), DEK: k()}
}

// exchange wraps cmd, sends it and unwraps the response, printing both
// ends in clear.
func exchange(ctx context.Context, w io.Writer, h *scp03.HostSession, tx apdu.TransmitFunc, what string, cmd apdu.Command) (apdu.Response, error) {
	fmt.Fprintf(w, "\n%s: plain command %s\n", what, cmd)
	wc, err := h.Wrap(cmd)
	if err != nil {
		return apdu.Response{}, err
	}
	r, err := apdu.Transmit(ctx, tx, wc)
	if err != nil {
		return apdu.Response{}, err
	}
	plain, err := h.Unwrap(r)
	if err != nil {
		return apdu.Response{}, err
	}
	fmt.Fprintf(w, "  plain response %q SW %04X (%s)\n", plain.Data, plain.SW, apdu.StatusText(plain.SW))
	return plain, nil
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if err := cfg.Level.Validate(); err != nil {
		return err
	}
	start := time.Now()
	keys := demoKeys(cfg.Seed, cfg.KeyLen)
	if err := keys.Validate(); err != nil {
		return err
	}
	defer keys.Zero()
	c, err := newCard(keys, cfg.S16)
	if err != nil {
		return err
	}
	mitm := &wire{w: w, next: c.transmit}
	var chSeed [32]byte
	chSeed[0], chSeed[1] = byte(cfg.Seed), 0xC7
	hostRand := rand.NewChaCha8(chSeed) // deterministic host challenges for a reproducible transcript

	mode := "S8"
	if cfg.S16 {
		mode = "S16"
	}
	fmt.Fprintf(w, "SCP03 demo: AES-%d, %s, security level %02X (%v), keys %v\n", 8*cfg.KeyLen, mode, byte(cfg.Level), cfg.Level, keys)
	fmt.Fprintf(w, "\n1. Handshake: INITIALIZE UPDATE, EXTERNAL AUTHENTICATE\n")
	opts := scp03.Options{S16: cfg.S16}
	h, err := scp03.Open(ctx, mitm.transmit, keys, cfg.Level, opts, hostRand)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer h.Close()
	fmt.Fprintf(w, "  host: %v\n  card: %v\n", h, c.sc)

	fmt.Fprintf(w, "\n2. Protected exchanges\n")
	record := []byte("merchant=shop-17;terminal=term-1;limit=50.00EUR")
	if _, err := exchange(ctx, w, h, mitm.transmit, "STORE DATA", apdu.Command{CLA: 0x80, INS: insStoreData, Data: record}); err != nil {
		return err
	}
	got, err := exchange(ctx, w, h, mitm.transmit, "GET DATA", apdu.Command{CLA: 0x80, INS: insGetData, P1: 0x00, P2: 0x66, Ne: 256})
	if err != nil {
		return err
	}
	if !bytes.Equal(got.Data, record) {
		return fmt.Errorf("read back %q, stored %q", got.Data, record)
	}
	// An error status word comes back bare (no R-MAC) and the channel stays open.
	if _, err := exchange(ctx, w, h, mitm.transmit, "GET DATA (unknown tag)", apdu.Command{CLA: 0x80, INS: insGetData, P1: 0x9F, P2: 0x7F, Ne: 256}); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n3. A tampered command\n")
	mitm.tamperCmd = true
	r, err := exchange(ctx, w, h, mitm.transmit, "STORE DATA", apdu.Command{CLA: 0x80, INS: insStoreData, Data: []byte("limit=5000.00EUR")})
	if err != nil {
		return err
	}
	if !cfg.Level.Has(scp03.LevelCMAC) {
		fmt.Fprintf(w, "  not caught: level %02X has no C-MAC; the card stored %q\n", byte(cfg.Level), c.record)
	} else {
		if r.SW != apdu.SWSecurityStatusNotSatisfied || c.sc.Open() {
			return fmt.Errorf("tampered command: SW %04X, card channel open %v", r.SW, c.sc.Open())
		}
		fmt.Fprintf(w, "  caught: the card's C-MAC check failed (SW %04X) and its channel is closed: %v\n", r.SW, c.sc)
		r, err = exchange(ctx, w, h, mitm.transmit, "GET DATA", apdu.Command{CLA: 0x80, INS: insGetData, P1: 0x00, P2: 0x66, Ne: 256})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  the card refuses every further command (SW %04X); the record is unchanged: %q\n", r.SW, c.record)
	}
	h.Close()

	fmt.Fprintf(w, "\n4. A new session, and a tampered response\n")
	h2, err := scp03.Open(ctx, mitm.transmit, keys, cfg.Level, opts, hostRand)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer h2.Close()
	mitm.tamperResp = true
	_, err = exchange(ctx, w, h2, mitm.transmit, "GET DATA", apdu.Command{CLA: 0x80, INS: insGetData, P1: 0x00, P2: 0x66, Ne: 256})
	switch {
	case errors.Is(err, scp03.ErrMAC):
		fmt.Fprintf(w, "  caught by the host: %v\n", err)
	case cfg.Level&scp03.LevelRMAC == 0:
		fmt.Fprintf(w, "  not caught: level %02X has no R-MAC (%v)\n", byte(cfg.Level), err)
	default:
		return fmt.Errorf("tampered response: err = %v, want ErrMAC", err)
	}
	if _, err := h2.Wrap(apdu.Command{CLA: 0x80, INS: insGetData, P2: 0x66}); err != nil {
		fmt.Fprintf(w, "  host session is dead: Wrap returns %q\n", err)
	}
	fmt.Fprintf(w, "\n%d APDUs exchanged in %v\n", mitm.exchanges, time.Since(start).Round(time.Millisecond))
	return nil
}

// Command nfc runs the payedge contactless device end to end: a payment
// application inside the TEE reads a simulated Visa and a simulated
// Mastercard through the secure element, where applet 1 (the TEE's) and
// applet 2 (the NFC controller's) relay every card APDU over a GlobalPlatform
// SCP03 session (C-MAC, C-DECRYPTION, R-MAC, R-ENCRYPTION).
//
// For each card it prints the masked card and the per-hop APDU trace: the
// plaintext hops (TEE ↔ applet 1, applet 2 ↔ card) show only APDU headers
// and status words, the relayed hop between the applets shows the full
// ciphertext. Finally it prints what the rich OS received: the masked
// summary, and a check that no PAN, expiry or track-2 byte reached it.
//
//	go run ./examples/nfc -seed 7 -amount 1250
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/payedge/payedge/nfc"
	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se/scp03"
)

type config struct {
	Seed   uint64 // seed of the demo keys, challenges and unpredictable numbers
	Amount uint64 // in cents of EUR
	Quiet  bool   // print only the relayed hop's first exchanges
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 7, "seed of the demo SCP03 keys, challenges and unpredictable numbers")
	flag.Uint64Var(&cfg.Amount, "amount", 1250, "amount in euro cents")
	flag.BoolVar(&cfg.Quiet, "quiet", false, "shorten the trace")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nfc:", err)
		os.Exit(1)
	}
}

// seeded is a deterministic io.Reader (demo only: use crypto/rand).
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed uint64, stream byte) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	s[31] = stream
	return &seeded{rand.NewChaCha8(s)}
}

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func demoKeys(seed uint64) scp03.StaticKeys {
	r := newSeeded(seed, 'k')
	k := func() []byte { b := make([]byte, 16); _, _ = io.ReadFull(r, b); return b }
	return scp03.StaticKeys{KVN: 0x30, ENC: k(), MAC: k(), DEK: k()}
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	for i, sc := range []struct {
		name string
		card *emvtest.Card
	}{{"Visa", emvtest.Visa()}, {"Mastercard", emvtest.Mastercard()}} {
		var trace []nfc.Event
		dev, err := nfc.NewDevice(nfc.DefaultConfig(demoKeys(cfg.Seed)), nfc.NewSimController(sc.card), nfc.Options{
			Rand: newSeeded(cfg.Seed, byte('c'+i)),
			EMV: emv.Config{
				Terminal: emv.Terminal{Amount: cfg.Amount, Currency: 978, Country: 276, TTQ: [4]byte{0x36, 0x00, 0x40, 0x00}, TerminalType: 0x22},
				Now:      func() time.Time { return time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC) },
				Rand:     newSeeded(cfg.Seed, byte('u'+i)),
			},
			Trace: func(e nfc.Event) { trace = append(trace, e) },
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "=== %s card in the field ===\n", sc.name)
		summary, err := dev.RichOS().Pay(ctx) // the rich OS asks the TEE app to read the card
		if err != nil {
			_ = dev.Close()
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		card, err := dev.TEE().ReadCard(ctx) // the TEE app's own view (second tap)
		if err != nil {
			_ = dev.Close()
			return err
		}
		e := card.Expiry()
		fmt.Fprintf(w, "TEE app read: %v (expiry %04d-%02d held in the TEE, %d records)\n", card, e.Year, int(e.Month), len(card.Records()))
		fmt.Fprintln(w, "per-hop trace of the first read:")
		n := len(trace) / 2 // the trace holds both reads; print the first
		for j, ev := range trace[:n] {
			if cfg.Quiet && j > 12 {
				fmt.Fprintf(w, "  … %d more events\n", n-j)
				break
			}
			fmt.Fprintf(w, "  %s\n", ev)
		}
		fmt.Fprintf(w, "rich OS received: %s\n", summary)
		fmt.Fprintf(w, "rich OS handled %d messages; card data found in them: %v\n\n", len(dev.RichOS().Handled()), leaks(card, dev.RichOS().Handled()))
		if err := dev.Close(); err != nil {
			return err
		}
	}
	return nil
}

// leaks reports whether any PAN, expiry or track-2 encoding appears in msgs.
func leaks(c *emv.Card, msgs [][]byte) bool {
	pan := c.RevealPAN()
	bcd, _ := hex.DecodeString(pan)
	var needles [][]byte
	for _, s := range [][]byte{bcd, c.RevealTrack2(), []byte(pan)} {
		needles = append(needles, s, []byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))))
	}
	for _, m := range msgs {
		for _, n := range needles {
			if len(n) > 0 && bytes.Contains(m, n) {
				return true
			}
		}
	}
	return false
}

package nfc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se/scp03"
)

// seeded is a deterministic io.Reader for challenges.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(n uint64) *seeded {
	var s [32]byte
	s[0] = byte(n)
	return &seeded{rand.NewChaCha8(s)}
}
func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func testKeys() scp03.StaticKeys {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
	return scp03.StaticKeys{KVN: 0x30, ENC: k(0x40), MAC: k(0x41), DEK: k(0x42)}
}

func newTestDevice(t testing.TB, card *emvtest.Card, trace func(Event)) (*Device, *SimController) {
	t.Helper()
	ctrl := NewSimController(card)
	d, err := NewDevice(DefaultConfig(testKeys()), ctrl, Options{
		Rand:  newSeeded(7),
		EMV:   emv.Config{Now: func() time.Time { return time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC) }, Rand: newSeeded(9)},
		Trace: trace,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d, ctrl
}

func TestReadCardThroughRelay(t *testing.T) {
	for _, tc := range []struct {
		card *emvtest.Card
		pan  string
	}{{emvtest.Visa(), "4761739001010010"}, {emvtest.Mastercard(), "5413330089010434"}} {
		var events []Event
		d, _ := newTestDevice(t, tc.card, func(e Event) { events = append(events, e) })
		c, err := d.TEE().ReadCard(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.RevealPAN() != tc.pan {
			t.Errorf("PAN %s", c.MaskedPAN())
		}
		hops := map[Hop]int{}
		for _, e := range events {
			hops[e.Hop]++
			if e.Hop != HopRelay && !e.Redacted {
				t.Errorf("plaintext hop event not redacted: %v", e)
			}
		}
		// Every card APDU crosses all three hops; the relay also carries
		// the handshake (INITIALIZE UPDATE, EXTERNAL AUTHENTICATE).
		n := len(tc.card.Log())
		if hops[HopTEE] != 2*n || hops[HopField] != 2*n || hops[HopRelay] != 2*n+4 {
			t.Errorf("hop counts %v for %d card APDUs", hops, n)
		}
		// The relay hop carries secure messaging: CLA 84 on the channel, and
		// no card command in clear.
		for _, e := range events {
			if e.Hop == HopRelay && e.Command && e.Data[1] == InsRelay && e.Data[0]&0x04 == 0 {
				t.Errorf("relay command without secure messaging: %x", e.Data[:4])
			}
		}
		if d.Element().OpenChannels() != 2 {
			t.Errorf("%d channels open after the read, want 2 (TEE and field)", d.Element().OpenChannels())
		}
	}
}

// secretsOf lists every encoding of the card's PAN, expiry and track 2 that
// must never reach the rich OS.
func secretsOf(c *emv.Card) [][]byte {
	pan := c.RevealPAN()
	panBCD, _ := hex.DecodeString(pan)
	e := c.Expiry()
	exp := []byte{byte(e.Year%100/10<<4 | e.Year%10), byte(int(e.Month)/10<<4 | int(e.Month)%10), byte(e.Day/10<<4 | e.Day%10)}
	t2 := c.RevealTrack2()
	var out [][]byte
	yymm := fmt.Sprintf("%02d%02d", e.Year%100, int(e.Month))
	text := [][]byte{[]byte(yymm), []byte(fmt.Sprintf("%04d-%02d", e.Year, int(e.Month))), []byte(fmt.Sprintf("%02d/%02d", int(e.Month), e.Year%100))}
	out = append(out, text...)
	for _, s := range [][]byte{panBCD, exp, t2, []byte(pan), []byte(pan[:12])} {
		out = append(out, s,
			[]byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s))))
	}
	return out
}

func TestRichOSNeverSeesCardData(t *testing.T) {
	for _, card := range []*emvtest.Card{emvtest.Visa(), emvtest.Mastercard()} {
		d, _ := newTestDevice(t, card, nil)
		summary, err := d.RichOS().Pay(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.TEE().ReadCard(context.Background()) // the TEE's own view, for the secrets
		if err != nil {
			t.Fatal(err)
		}
		secrets := secretsOf(c)
		handled := d.RichOS().Handled()
		if len(handled) < 20 {
			t.Fatalf("rich OS handled only %d messages", len(handled))
		}
		for _, b := range handled {
			for _, s := range secrets {
				if bytes.Contains(b, s) {
					t.Errorf("rich OS saw %q in %x", s, b)
				}
			}
		}
		if !bytes.Contains(summary, []byte(c.MaskedPAN())) {
			t.Errorf("summary %s lacks the masked PAN", summary)
		}
		// Control: the same search finds the secrets on the card side, so
		// it is able to fail.
		found := false
		for _, e := range card.Log() {
			for _, s := range secrets[3:6] {
				found = found || bytes.Contains(e.Response, s)
			}
		}
		if !found {
			t.Error("secrets not found even in the card's own log: the search is broken")
		}
	}
}

func TestTamperedRelayTearsDown(t *testing.T) {
	for _, dir := range []bool{true, false} {
		d, _ := newTestDevice(t, emvtest.Visa(), nil)
		n := 0
		d.teeApp.tamper = func(command bool, b []byte) {
			// Flip a bit in the third protected relay exchange (after the
			// two handshake exchanges).
			if command == dir && len(b) > 12 && b[1] == InsRelay {
				n++
				if n == 3 {
					b[len(b)-3] ^= 0x01
				}
			}
			if !command && !dir && len(b) > 12 {
				n++
				if n == 5 {
					b[2] ^= 0x01
				}
			}
		}
		_, err := d.TEE().ReadCard(context.Background())
		if !errors.Is(err, ErrSecureChannel) || !errors.Is(err, emv.ErrTransceive) {
			t.Fatalf("tampered (command=%v): %v", dir, err)
		}
		if d.teeApp.host != nil || d.teeApp.ch != 0 {
			t.Error("applet 1 kept its session after a MAC failure")
		}
		if d.Element().OpenChannels() != 2 {
			t.Errorf("%d channels open after teardown", d.Element().OpenChannels())
		}
		// A fresh read opens a new session and works.
		d.teeApp.tamper = nil
		if _, err := d.TEE().ReadCard(context.Background()); err != nil {
			t.Fatalf("read after teardown: %v", err)
		}
	}
}

func TestControllerTimeout(t *testing.T) {
	cfg := DefaultConfig(testKeys())
	cfg.ControllerTimeout = 20 * time.Millisecond
	ctrl := NewSimController(emvtest.Visa())
	d, err := NewDevice(cfg, ctrl, Options{Rand: newSeeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctrl.SetHang(true)
	_, err = d.TEE().ReadCard(context.Background())
	if !errors.Is(err, ErrController) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("hanging controller: %v", err)
	}
	msg, err := d.RichOS().Pay(context.Background())
	if err == nil || string(msg) != `{"error":"controller"}` {
		t.Errorf("rich OS error %s %v", msg, err)
	}
	ctrl.SetHang(false)
	if _, err := d.TEE().ReadCard(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAccessPolicy(t *testing.T) {
	d, _ := newTestDevice(t, emvtest.Visa(), nil)
	ctx := context.Background()
	// Another channel (a rich-OS client of the SE) cannot select applet 1
	// or applet 2.
	for _, aid := range [][]byte{d.cfg.TEEAID, d.cfg.FieldAID} {
		if ch, err := d.Element().OpenLogicalChannel(ctx, aid); err == nil {
			// applet 2 accepts a selection (it then demands SCP03); it must
			// refuse any unauthenticated relay.
			cla := byte(0x80 | ch.Number())
			r, err := ch.Transmit(ctx, applyCLA(cla, InsRelay, []byte{0x00, 0xA4, 0x04, 0x00, 0x00}))
			if err != nil || r.Success() {
				t.Errorf("unauthenticated relay on channel %d: %v %v", ch.Number(), r, err)
			}
			_ = ch.Close()
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.TEE().ReadCard(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig(testKeys())
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{Keys: testKeys()}).Validate(); err != nil {
		t.Errorf("zero fields with keys: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.TEEAID = []byte{1, 2} },
		func(c *Config) { c.FieldAID = c.TEEAID },
		func(c *Config) { c.TEEChannel = 20 },
		func(c *Config) { c.FieldChannel = -1 },
		func(c *Config) { c.FieldChannel = c.TEEChannel },
		func(c *Config) { c.Keys.MAC = []byte{1} },
		func(c *Config) { c.ControllerTimeout = -1 },
	}
	for i, f := range bad {
		c := DefaultConfig(testKeys())
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	if err := (Config{}).Validate(); !errors.Is(err, scp03.ErrKeyLength) {
		t.Errorf("zero config: %v", err)
	}
	if _, err := NewDevice(good, nil, Options{Rand: newSeeded(1)}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil controller: %v", err)
	}
	// Channels other than 1 and 2 work too.
	c := DefaultConfig(testKeys())
	c.TEEChannel, c.FieldChannel = 7, 5
	d, err := NewDevice(c, NewSimController(emvtest.Mastercard()), Options{Rand: newSeeded(3)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.TEE().ReadCard(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentReads(t *testing.T) {
	d, _ := newTestDevice(t, emvtest.Visa(), nil)
	ctx := context.Background()
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			var err error
			if i%2 == 0 {
				_, err = d.TEE().ReadCard(ctx)
			} else {
				_, err = d.RichOS().Pay(ctx)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

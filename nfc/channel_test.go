package nfc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// relayCmd is a SELECT PPSE as the TEE relays it.
var relayCmd = []byte{0x00, 0xA4, 0x04, 0x00, 0x0E, '2', 'P', 'A', 'Y', '.', 'S', 'Y', 'S', '.', 'D', 'D', 'F', '0', '1', 0x00}

// TestReplayedRelayMessage records a protected relay command between the
// applets and sends it to applet 2 again, in the same session and in a
// later one: SCP03's MAC chaining and fresh session keys must refuse both,
// the card must not see the replay, and the refusal must end the session on
// both sides (applet 2's session closed, applet 1's keys dropped).
func TestReplayedRelayMessage(t *testing.T) {
	card := emvtest.Visa()
	d, _ := newTestDevice(t, card, nil)
	ctx := context.Background()
	var recorded []byte
	d.teeApp.tamper = func(command bool, b []byte) {
		if command && len(b) > 5 && b[1] == InsRelay && recorded == nil {
			recorded = append([]byte(nil), b...)
		}
	}
	begin := func() {
		t.Helper()
		if r, err := d.TEE().send(ctx, InsBegin, nil); err != nil || !r.Success() {
			t.Fatalf("begin: %v %v", r, err)
		}
	}
	relay := func() apdu.Response {
		t.Helper()
		r, err := d.TEE().send(ctx, InsRelay, relayCmd)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	field := d.fieldApplet
	session := func() *scp03.CardSession {
		field.mu.Lock()
		defer field.mu.Unlock()
		return field.sessions[d.teeApp.ch]
	}

	// Same session: the replay follows the original.
	begin()
	if r := relay(); !r.Success() {
		t.Fatalf("relay: %v", r)
	}
	cs := session()
	seen := len(card.Log())
	raw, err := se.TransmitFunc(d.Element())(ctx, recorded)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := apdu.ParseResponse(raw); resp.Success() {
		t.Fatalf("replayed relay message accepted: %x", raw)
	}
	if len(card.Log()) != seen {
		t.Error("the replayed message reached the card")
	}
	if cs == nil || cs.Open() {
		t.Error("applet 2 kept its session open after the replay")
	}
	if r := relay(); r.Success() {
		t.Error("the channel still relays after a replay")
	}
	if d.teeApp.host != nil || d.teeApp.ch != 0 {
		t.Error("applet 1 kept its session after applet 2 refused a MAC")
	}

	// A later session: its keys differ, so the old message fails too.
	begin()
	if r := relay(); !r.Success() {
		t.Fatalf("relay in the new session: %v", r)
	}
	old := recorded
	if old[0]&0x03 != byte(d.teeApp.ch)&0x03 {
		t.Skip("new session on another channel")
	}
	seen = len(card.Log())
	raw, err = se.TransmitFunc(d.Element())(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := apdu.ParseResponse(raw); resp.Success() || len(card.Log()) != seen {
		t.Fatalf("message of an earlier session accepted: %x", raw)
	}
}

// TestSessionKeysDroppedOnEnd checks that ending a read closes both ends of
// the inter-applet channel: applet 2's session is closed and forgotten,
// applet 1 holds no host session and no channel, and a new read runs a new
// handshake (fresh challenges, so fresh keys).
func TestSessionKeysDroppedOnEnd(t *testing.T) {
	var relay [][]byte
	d, _ := newTestDevice(t, emvtest.Mastercard(), func(e Event) {
		if e.Hop == HopRelay && e.Command && len(e.Data) > 1 && e.Data[1] == scp03.INSInitializeUpdate {
			relay = append(relay, e.Data)
		}
	})
	ctx := context.Background()
	var sessions []*scp03.CardSession
	d.teeApp.tamper = func(command bool, b []byte) {
		if command && len(b) > 1 && b[1] == InsRelay {
			d.fieldApplet.mu.Lock()
			for _, cs := range d.fieldApplet.sessions {
				sessions = append(sessions, cs)
			}
			d.fieldApplet.mu.Unlock()
		}
	}
	for range 2 {
		if _, err := d.TEE().ReadCard(ctx); err != nil {
			t.Fatal(err)
		}
		if d.teeApp.host != nil || d.teeApp.ch != 0 {
			t.Error("applet 1 kept its session after the read")
		}
		d.fieldApplet.mu.Lock()
		n := len(d.fieldApplet.sessions)
		d.fieldApplet.mu.Unlock()
		if n != 0 {
			t.Errorf("applet 2 keeps %d sessions after the read", n)
		}
	}
	if len(sessions) == 0 {
		t.Fatal("no session observed")
	}
	for _, cs := range sessions {
		if cs.Open() {
			t.Error("a session of an ended read is still open")
		}
	}
	if len(relay) != 2 || bytes.Equal(relay[0], relay[1]) {
		t.Errorf("the two reads did not run two different handshakes: %x", relay)
	}
	if err := d.Close(); err != nil || !errors.Is(func() error { _, err := d.TEE().ReadCard(ctx); return err }(), ErrClosed) {
		t.Errorf("close: %v", err)
	}
}

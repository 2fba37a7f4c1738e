package nfc

import (
	"context"
	"testing"

	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se/apdu"
)

// FuzzRelayUnwrap feeds arbitrary protected commands to applet 2 inside an
// authenticated session: it must answer with a status word (never panic,
// never reach the controller) and a failure must close the session.
func FuzzRelayUnwrap(f *testing.F) {
	f.Add(byte(0x84), byte(InsRelay), []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(byte(0x84), byte(0x50), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(byte(0x80), byte(InsRelay), []byte{0x00, 0xA4, 0x04, 0x00, 0x00})
	f.Add(byte(0x84), byte(InsRelay), []byte{})
	f.Fuzz(func(t *testing.T, cla, ins byte, data []byte) {
		if len(data) > 4096 {
			t.Skip()
		}
		card := emvtest.Visa()
		d, _ := newTestDevice(t, card, nil)
		ctx := context.Background()
		if r, _ := d.TEE().send(ctx, InsBegin, nil); !r.Success() {
			t.Fatalf("begin: %v", r)
		}
		ch := d.teeApp.ch
		c, err := apdu.WithChannel(cla, ch)
		if err != nil {
			return
		}
		r, err := d.Element().Transmit(ctx, apdu.Command{CLA: c, INS: ins, Data: data, Ne: 256})
		if err != nil {
			t.Fatal(err)
		}
		if r.Success() && len(card.Log()) > 0 {
			t.Fatalf("a forged command reached the card: %v", r)
		}
	})
}

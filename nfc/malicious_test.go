package nfc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se/apdu"
)

// TestMaliciousCardThroughRelay: a card that answers every command with an
// endless 61xx or 6Cxx chain, or with a response larger than the reader's
// bound, ends the read through the relay with an error after a bounded
// number of exchanges, and the next read of a good card on the same device
// works (no state left behind).
func TestMaliciousCardThroughRelay(t *testing.T) {
	tests := []struct {
		name string
		resp apdu.Response
	}{
		{"endless 61xx", apdu.Response{Data: bytes.Repeat([]byte{0xAB}, 16), SW: 0x6110}},
		{"endless 6Cxx", apdu.Response{SW: 0x6C10}},
		{"huge", apdu.Response{Data: make([]byte, 8000), SW: 0x9000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := emvtest.Visa()
			evil := true
			card.Override = func(apdu.Command) (apdu.Response, bool) { return tt.resp, evil }
			d, _ := newTestDevice(t, card, nil)
			_, err := d.TEE().ReadCard(context.Background())
			if err == nil || !errors.Is(err, emv.ErrTransceive) && !errors.Is(err, ErrController) {
				t.Fatalf("malicious card: %v", err)
			}
			if n := len(card.Log()); n > apdu.DefaultMaxChain+1 {
				t.Errorf("%d exchanges with the card", n)
			}
			evil = false
			card.Reset()
			if c, err := d.TEE().ReadCard(context.Background()); err != nil || c.MaskedPAN() != "************0010" {
				t.Fatalf("next read: %v %v", c, err)
			}
		})
	}
}

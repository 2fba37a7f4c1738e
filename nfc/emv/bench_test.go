package emv_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

// BenchmarkReadSimulated is a full card read (PPSE, SELECT, GPO, three
// records) against the simulated Visa card, no relay.
func BenchmarkReadSimulated(b *testing.B) {
	card := emvtest.Visa()
	un := bytes.Repeat([]byte{1, 2, 3, 4}, 1<<16)
	r, _ := emv.NewReader(card, emv.Config{Rand: bytes.NewReader(un)})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		card.Reset()
		if _, err := r.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

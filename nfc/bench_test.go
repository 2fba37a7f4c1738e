package nfc

import (
	"context"
	"testing"

	"github.com/payedge/payedge/nfc/emv/emvtest"
)

// BenchmarkReadCardRelay is a full simulated card read end to end: TEE app,
// applet 1, SCP03 handshake and protected relay, applet 2, controller and
// the simulated Visa card (PPSE, SELECT, GPO, three records).
func BenchmarkReadCardRelay(b *testing.B) {
	card := emvtest.Visa()
	d, _ := newTestDevice(b, card, nil)
	ctx := context.Background()
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		card.Reset()
		if _, err := d.TEE().ReadCard(ctx); err != nil {
			b.Fatal(err)
		}
		d.rich.mu.Lock()
		d.rich.seen = d.rich.seen[:0]
		d.rich.mu.Unlock()
	}
	m.report(b)
}

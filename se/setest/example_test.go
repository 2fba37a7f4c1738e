package setest_test

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

// StateApplet makes channel isolation visible: each channel keeps its own
// value, while the persistent value is shared.
func ExampleStateApplet() {
	ctx := context.Background()
	card, _ := se.NewMemory(se.MemoryConfig{})
	aid := []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x01, 0x01}
	_ = card.Install(aid, setest.NewStateApplet(), se.InstallOptions{})

	a, _ := card.OpenLogicalChannel(ctx, aid)
	b, _ := card.OpenLogicalChannel(ctx, aid)
	_, _ = a.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsPut, Data: []byte("alpha")})
	_, _ = a.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsStore, Data: []byte("kept")})
	ra, _ := a.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256})
	rb, _ := b.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256})
	pb, _ := b.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsLoad, Ne: 256})
	fmt.Printf("channel %d: %q, channel %d: %q, persistent: %q\n", a.Number(), ra.Data, b.Number(), rb.Data, pb.Data)
	// Output:
	// channel 1: "alpha", channel 2: "", persistent: "kept"
}

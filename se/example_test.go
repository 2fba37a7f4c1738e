package se_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
	"github.com/payedge/payedge/se/setest"
)

// An applet on the in-memory element, reached through a logical channel.
func ExampleMemory() {
	ctx := context.Background()
	card, _ := se.NewMemory(se.MemoryConfig{})
	aid := []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x01}
	hello := se.ProcessFunc(func(_ context.Context, cmd apdu.Command) apdu.Response {
		return apdu.Response{Data: []byte("hello"), SW: apdu.SWSuccess}
	})
	_ = card.Install(aid, hello, se.InstallOptions{})

	ch, _ := card.OpenLogicalChannel(ctx, aid)
	defer ch.Close()
	resp, _ := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: 0x10, Ne: 256})
	fmt.Printf("channel %d: %s %04X\n", ch.Number(), resp.Data, resp.SW)

	_, err := card.OpenLogicalChannel(ctx, []byte{0xA0, 0x00, 0x00, 0x00, 0x00})
	fmt.Println(errors.Is(err, se.ErrAppletNotFound))
	// Output:
	// channel 1: hello 9000
	// true
}

// A host opens an SCP03 secure channel to the issuer security domain and
// reads the CPLC data.
func ExampleISD() {
	ctx := context.Background()
	rnd := newSeeded(7)
	keys := testKeys(rnd, 0x30, 16)
	card, _ := se.NewMemory(se.MemoryConfig{})
	isd, _ := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: rnd, CPLC: se.CPLC{ICFabricator: 0x4790}})
	_ = card.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true})

	tx := se.TransmitFunc(card)
	host, err := scp03.Open(ctx, tx, keys, scp03.LevelAll, scp03.Options{}, rnd)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer host.Close()
	resp, _ := host.Transmit(ctx, tx, apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
	cplc, _ := se.ParseCPLC(resp.Data)
	fmt.Printf("level %v, IC fabricator %04X\n", host.Level(), cplc.ICFabricator)
	// Output:
	// level C-MAC|C-DEC|R-MAC|R-ENC, IC fabricator 4790
}

// Two virtual SEs on one pool: each holds only its own applets.
func ExampleVirtualManager() {
	ctx := context.Background()
	vmm, _ := se.NewVMM(se.VMMConfig{PoolBytes: 64 << 10, Policy: se.NewBuddyPolicy()})
	sem, _ := se.NewVirtualManager(vmm)
	aliceAID := []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0xA1}
	bobAID := []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0xB0}
	alice, _ := sem.Create(ctx, se.VirtualConfig{ID: "alice", AIDs: [][]byte{aliceAID}, MemoryBytes: 4096})
	bob, _ := sem.Create(ctx, se.VirtualConfig{ID: "bob", AIDs: [][]byte{bobAID}, MemoryBytes: 4096})
	_ = alice.Install(aliceAID, setest.NewStateApplet(), se.InstallOptions{})
	_ = bob.Install(bobAID, setest.NewStateApplet(), se.InstallOptions{})

	_, err := alice.OpenLogicalChannel(ctx, bobAID)
	fmt.Println("alice selects bob's applet:", errors.Is(err, se.ErrAppletNotFound))
	st := vmm.Stats()
	fmt.Printf("%d VSEs, %d bytes used of %d\n", st.VSEs, st.UsedBytes, st.PoolBytes)
	// Output:
	// alice selects bob's applet: true
	// 2 VSEs, 512 bytes used of 65536
}

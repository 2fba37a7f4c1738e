package se_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
	"github.com/payedge/payedge/se/setest"
)

// relay forwards every command to the applet peer over its own logical
// channel, opened through Selection.Element.
type relay struct {
	peer []byte
	el   se.Transmitter
	ch   int
	err  error
}

func (r *relay) Select(_ context.Context, s se.Selection) apdu.Response {
	r.el = s.Element
	return apdu.Response{SW: apdu.SWSuccess}
}

func (r *relay) Deselect(context.Context, int) {}

func (r *relay) Process(ctx context.Context, cmd apdu.Command) apdu.Response {
	if r.ch == 0 {
		resp, err := r.el.Transmit(ctx, apdu.Command{INS: 0x70, Ne: 1})
		if err != nil || !resp.Success() {
			r.err = err
			return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
		}
		r.ch = int(resp.Data[0])
		cla, _ := apdu.WithChannel(0, r.ch)
		if resp, err := r.el.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 4, Data: r.peer, Ne: 256}); err != nil || !resp.Success() {
			r.err = err
			return apdu.Response{SW: apdu.SWFileNotFound}
		}
	}
	fwd, err := cmd.OnChannel(r.ch)
	if err != nil {
		return apdu.Response{SW: apdu.SWCLANotSupported}
	}
	resp, err := r.el.Transmit(ctx, fwd)
	if err != nil {
		r.err = err
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
	}
	return resp
}

func TestInterApplet(t *testing.T) {
	ctx := context.Background()
	m, _ := se.NewMemory(se.MemoryConfig{})
	relayAID := []byte{0xA0, 0, 0, 0, 0x0F, 1}
	_ = m.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{})
	rl := &relay{peer: stateAID}
	_ = m.Install(relayAID, rl, se.InstallOptions{})
	ch, err := m.OpenLogicalChannel(ctx, relayAID)
	if err != nil {
		t.Fatal(err)
	}
	if r := tx(t, ch, apdu.Command{CLA: 0x80, INS: setest.InsPut, Data: []byte("via relay")}); !r.Success() {
		t.Fatalf("PUT through the relay: %v (%v)", r, rl.err)
	}
	if r := tx(t, ch, apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256}); string(r.Data) != "via relay" {
		t.Fatalf("GET through the relay: %v", r)
	}
	// The relay's channel to the peer is its own: the host's channel to
	// the state applet does not see the relay's value.
	direct, _ := m.OpenLogicalChannel(ctx, stateAID)
	if r := tx(t, direct, apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256}); len(r.Data) != 0 {
		t.Errorf("host channel sees the relay channel's state: %q", r.Data)
	}
	// Outside an applet call, the inner element refuses.
	if _, err := rl.el.Transmit(ctx, apdu.Command{INS: 0x70, Ne: 1}); !errors.Is(err, se.ErrNesting) {
		t.Errorf("Element outside an applet call: %v", err)
	}
	// A relay pointing at itself recurses; the depth bound stops it.
	selfAID := []byte{0xA0, 0, 0, 0, 0x0F, 2}
	loop := &relay{peer: selfAID}
	_ = m.Install(selfAID, loop, se.InstallOptions{})
	lc, err := m.OpenLogicalChannel(ctx, selfAID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := lc.Transmit(ctx, apdu.Command{CLA: 0x80, INS: 0x01})
	if err != nil || r.Success() {
		t.Errorf("self-relay: %v %v, want a refusal", r, err)
	}
	if !errors.Is(loop.err, se.ErrNesting) {
		t.Errorf("self-relay error: %v, want ErrNesting", loop.err)
	}
}

// scpHost is an applet that opens an SCP03 session to the ISD through
// Selection.Element and reads the CPLC data in it.
type scpHost struct {
	el   se.Transmitter
	keys scp03.StaticKeys
	rnd  *seeded
}

func (h *scpHost) Select(_ context.Context, s se.Selection) apdu.Response {
	h.el = s.Element
	return apdu.Response{SW: apdu.SWSuccess}
}

func (h *scpHost) Deselect(context.Context, int) {}

func (h *scpHost) Process(ctx context.Context, _ apdu.Command) apdu.Response {
	resp, err := h.el.Transmit(ctx, apdu.Command{INS: 0x70, Ne: 1})
	if err != nil || !resp.Success() {
		return apdu.Response{SW: apdu.SWFunctionNotSupported}
	}
	n := int(resp.Data[0])
	defer h.el.Transmit(ctx, apdu.Command{INS: 0x70, P1: 0x80, P2: byte(n)})
	cla, _ := apdu.WithChannel(0, n)
	if r, err := h.el.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 4, Data: se.DefaultISDAID(), Ne: 256}); err != nil || !r.Success() {
		return apdu.Response{SW: apdu.SWFileNotFound}
	}
	tr := se.TransmitFunc(h.el)
	host, err := scp03.Open(ctx, tr, h.keys, scp03.LevelAll, scp03.Options{Channel: n}, h.rnd)
	if err != nil {
		return apdu.Response{SW: scp03.StatusFor(err)}
	}
	defer host.Close()
	cla, _ = apdu.WithChannel(0x80, n)
	r, err := host.Transmit(ctx, tr, apdu.Command{CLA: cla, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
	if err != nil {
		return apdu.Response{SW: apdu.SWSecurityStatusNotSatisfied}
	}
	return r
}

func TestAppletToAppletSCP03(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(21)
	keys := testKeys(r, 0x30, 16)
	m, _ := newCardWithISD(t, keys, r, false)
	hostAID := []byte{0xA0, 0, 0, 0, 0x0F, 3}
	_ = m.Install(hostAID, &scpHost{keys: keys, rnd: r}, se.InstallOptions{})
	ch, err := m.OpenLogicalChannel(ctx, hostAID)
	if err != nil {
		t.Fatal(err)
	}
	resp := tx(t, ch, apdu.Command{CLA: 0x80, INS: 0x20, Ne: 256})
	if !resp.Success() {
		t.Fatalf("applet-to-applet SCP03: %v", resp)
	}
	if got, err := se.ParseCPLC(resp.Data); err != nil || got != testCPLC {
		t.Errorf("CPLC through the applets' secure channel: %+v %v", got, err)
	}
	if n := m.OpenChannels(); n != 1 {
		t.Errorf("the host applet left %d channels open, want 1 (the test's)", n)
	}
}

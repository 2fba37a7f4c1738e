package se_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// TestStaleChannelHandle: a Channel whose logical channel was closed behind
// its back (a raw MANAGE CHANNEL close, or an applet closing it) must not
// reach the channel that reuses its number: another selection, another
// applet's state. Its Transmit returns ErrChannelClosed and its Close
// leaves the new channel open.
func TestStaleChannelHandle(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"memory", "vse"} {
		t.Run(name, func(t *testing.T) {
			a := []byte{0xA0, 0, 0, 0, 0x55, 1}
			b := []byte{0xA0, 0, 0, 0, 0x55, 2}
			var e interface {
				se.SecureElement
				Install([]byte, se.Applet, se.InstallOptions) error
			}
			if name == "memory" {
				m, _ := se.NewMemory(se.MemoryConfig{})
				e = m
			} else {
				sem, _ := se.NewVirtualManager(newVMM(t, se.NewBuddyPolicy(), 64<<10, 4))
				v, err := sem.Create(ctx, se.VirtualConfig{ID: "w", AIDs: [][]byte{a, b}})
				if err != nil {
					t.Fatal(err)
				}
				e = v
			}
			if err := e.Install(a, &tagApplet{tag: 1}, se.InstallOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := e.Install(b, &tagApplet{tag: 2}, se.InstallOptions{}); err != nil {
				t.Fatal(err)
			}
			old, err := e.OpenLogicalChannel(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			n := old.Number()
			if r, _ := e.Transmit(ctx, apdu.Command{INS: 0x70, P1: 0x80, P2: byte(n)}); !r.Success() {
				t.Fatalf("raw MANAGE CHANNEL close: %v", r)
			}
			fresh, err := e.OpenLogicalChannel(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if fresh.Number() != n {
				t.Skipf("new channel %d, not the reused %d", fresh.Number(), n)
			}
			r, err := old.Transmit(ctx, apdu.Command{CLA: 0x80, INS: 0x01})
			if !errors.Is(err, se.ErrChannelClosed) {
				t.Errorf("stale handle Transmit: %v %v, want ErrChannelClosed (it reached applet % X)", r, err, r.Data)
			}
			if err := old.Close(); err != nil {
				t.Errorf("stale handle Close: %v, want nil", err)
			}
			if r, err := fresh.Transmit(ctx, apdu.Command{CLA: 0x80, INS: 0x01}); err != nil || len(r.Data) != 1 || r.Data[0] != 2 {
				t.Errorf("the new channel after the stale handle's Close: %v %v, want applet 2", r, err)
			}
			if err := fresh.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestChainedElementCommands: the element does not support command
// chaining (ISO/IEC 7816-4 §5.3.3) for the commands it handles itself, so
// a SELECT or MANAGE CHANNEL with the chaining bit (CLA b5) is refused
// with 6884 instead of being executed on its first fragment.
func TestChainedElementCommands(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{})
	a := []byte{0xA0, 0, 0, 0, 0x01, 0x01}
	b := []byte{0xA0, 0, 0, 0, 0x01, 0x02}
	_ = m.Install(a, &tagApplet{tag: 1}, se.InstallOptions{})
	_ = m.Install(b, &tagApplet{tag: 2}, se.InstallOptions{})
	tx(t, m, selectCmd(0x00, 0, b))
	// The first fragment of SELECT b: a partial AID that matches a first.
	r := tx(t, m, apdu.Command{CLA: 0x10, INS: 0xA4, P1: 0x04, Data: b[:5]})
	if r.SW != 0x6884 {
		t.Errorf("chained SELECT fragment: %v, want 6884", r)
	}
	if got := tx(t, m, apdu.Command{CLA: 0x80, INS: 0x01}); len(got.Data) != 1 || got.Data[0] != 2 {
		t.Errorf("selection changed by a chained fragment: now applet % X, want 2", got.Data)
	}
	if r := tx(t, m, apdu.Command{CLA: 0x10, INS: 0x70, Ne: 1}); r.SW != 0x6884 {
		t.Errorf("chained MANAGE CHANNEL: %v, want 6884", r)
	}
	if n := m.OpenChannels(); n != 0 {
		t.Errorf("%d channels opened by a chained fragment", n)
	}
}

// refusingApplet refuses every selection with its status word.
type refusingApplet struct{ sw uint16 }

func (a refusingApplet) Select(context.Context, se.Selection) apdu.Response {
	return apdu.Response{SW: a.sw}
}
func (a refusingApplet) Process(context.Context, apdu.Command) apdu.Response {
	return apdu.Response{SW: apdu.SWSuccess}
}
func (a refusingApplet) Deselect(context.Context, int) {}

// TestSelectRefusalErrors: OpenLogicalChannel maps a refusal by the
// applet's Select to ErrSelectFailed, whatever its status word — a 6A81
// from SELECT is not "no free channel", which a host would wait on.
func TestSelectRefusalErrors(t *testing.T) {
	ctx := context.Background()
	for _, st := range []uint16{apdu.SWFunctionNotSupported, apdu.SWConditionsNotSatisfied, 0x6999} {
		m, _ := se.NewMemory(se.MemoryConfig{})
		a := []byte{0xA0, 0, 0, 0, 0x44, 1}
		_ = m.Install(a, refusingApplet{st}, se.InstallOptions{})
		_, err := m.OpenLogicalChannel(ctx, a)
		var se2 *apdu.StatusError
		if !errors.Is(err, se.ErrSelectFailed) || errors.Is(err, se.ErrNoFreeChannel) || !errors.As(err, &se2) || se2.SW != st {
			t.Errorf("Select refused with %04X: err = %v, want ErrSelectFailed with the status word", st, err)
		}
		if n := m.OpenChannels(); n != 0 {
			t.Errorf("%d channels left open after a refused selection", n)
		}
	}
}

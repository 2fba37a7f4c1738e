package setest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// Config tells the suite what the element under test holds.
type Config struct {
	// AID is an installed applet that accepts selection on several
	// logical channels at once (required).
	AID []byte
	// StateAID, if set, is the AID of a StateApplet installed in the
	// element; the isolation and concurrency checks use it.
	StateAID []byte
	// MaxChannels, if set, is the number of channels the element offers
	// including the basic channel; the suite checks exhaustion happens
	// exactly there.
	MaxChannels int
}

// unknownAID matches no applet in any sane element.
var unknownAID = []byte{0xF0, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}

// TestSecureElement runs the conformance suite. newSE must return a fresh,
// open element each time it is called (the suite closes it); it may call
// t.Fatal.
func TestSecureElement(t *testing.T, newSE func(t *testing.T) se.SecureElement, cfg Config) {
	t.Helper()
	if len(cfg.AID) < se.MinAIDLen || len(cfg.AID) > se.MaxAIDLen {
		t.Fatalf("setest: Config.AID must be 5–16 bytes, got %d", len(cfg.AID))
	}
	ctx := context.Background()
	open := func(t *testing.T) se.SecureElement {
		t.Helper()
		e := newSE(t)
		if e == nil {
			t.Fatal("newSE returned nil")
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}

	t.Run("OpenLogicalChannel", func(t *testing.T) {
		e := open(t)
		ch, err := e.OpenLogicalChannel(ctx, cfg.AID)
		if err != nil {
			t.Fatalf("OpenLogicalChannel(% X): %v", cfg.AID, err)
		}
		if n := ch.Number(); n < 1 || n > apdu.MaxChannel {
			t.Errorf("Number() = %d, want 1–19", n)
		}
		if sr := ch.SelectResponse(); !sr.Success() && !apdu.IsWarning(sr.SW) {
			t.Errorf("SelectResponse SW = %04X, want 9000 or a warning", sr.SW)
		}
		if err := ch.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := ch.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0xCA, P1: 0x00, P2: 0x66, Ne: 256}); !errors.Is(err, se.ErrChannelClosed) {
			t.Errorf("Transmit after Close: err = %v, want ErrChannelClosed", err)
		}
		if err := ch.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
	})

	t.Run("PartialAID", func(t *testing.T) {
		e := open(t)
		ch, err := e.OpenLogicalChannel(ctx, cfg.AID[:se.MinAIDLen])
		if err != nil {
			t.Fatalf("OpenLogicalChannel(partial % X): %v", cfg.AID[:se.MinAIDLen], err)
		}
		_ = ch.Close()
	})

	t.Run("BadAID", func(t *testing.T) {
		e := open(t)
		for _, n := range []int{1, 4, 17, 32} {
			aid := bytes.Repeat([]byte{0xA0}, n)
			if _, err := e.OpenLogicalChannel(ctx, aid); !errors.Is(err, se.ErrAIDLength) {
				t.Errorf("OpenLogicalChannel(%d-byte AID): err = %v, want ErrAIDLength", n, err)
			}
		}
		if _, err := e.OpenLogicalChannel(ctx, unknownAID); !errors.Is(err, se.ErrAppletNotFound) {
			t.Errorf("OpenLogicalChannel(unknown AID): err = %v, want ErrAppletNotFound", err)
		}
		resp, err := e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00, Data: unknownAID, Ne: 256})
		if err != nil || resp.SW != apdu.SWFileNotFound {
			t.Errorf("SELECT unknown AID: SW %04X, err %v; want 6A82", resp.SW, err)
		}
		// ISO/IEC 7816-4 leaves the word for a malformed AID open: 6700
		// (wrong length, as se.Memory answers) or 6A82 (not found).
		resp, err = e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00, Data: []byte{0xA0, 0, 0}, Ne: 256})
		if err != nil || (resp.SW != apdu.SWWrongLength && resp.SW != apdu.SWFileNotFound) {
			t.Errorf("SELECT 3-byte AID: SW %04X, err %v; want 6700 or 6A82", resp.SW, err)
		}
		resp, err = e.Transmit(ctx, apdu.Command{CLA: 0xFF, INS: 0xA4, P1: 0x04, P2: 0x00, Data: cfg.AID, Ne: 256})
		if err != nil || resp.SW != apdu.SWCLANotSupported {
			t.Errorf("CLA FF: SW %04X, err %v; want 6E00", resp.SW, err)
		}
	})

	t.Run("ExhaustAndReuse", func(t *testing.T) {
		e := open(t)
		var chans []se.Channel
		seen := map[int]bool{}
		for i := 0; ; i++ {
			if i > apdu.MaxChannel {
				t.Fatalf("opened %d logical channels; at most 19 exist", i)
			}
			ch, err := e.OpenLogicalChannel(ctx, cfg.AID)
			if err != nil {
				if !errors.Is(err, se.ErrNoFreeChannel) {
					t.Fatalf("opening channel %d: err = %v, want ErrNoFreeChannel at exhaustion", i+1, err)
				}
				break
			}
			if seen[ch.Number()] {
				t.Fatalf("channel number %d handed out twice", ch.Number())
			}
			seen[ch.Number()] = true
			chans = append(chans, ch)
		}
		if cfg.MaxChannels > 0 && len(chans) != cfg.MaxChannels-1 {
			t.Errorf("opened %d logical channels, want %d", len(chans), cfg.MaxChannels-1)
		}
		if len(chans) == 0 {
			t.Fatal("no logical channel could be opened")
		}
		last := chans[len(chans)-1]
		if err := last.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// The closed channel answers 6881 to raw APDUs.
		cla, _ := apdu.WithChannel(0x00, last.Number())
		resp, err := e.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, P2: 0x00, Data: cfg.AID, Ne: 256})
		if err != nil || resp.SW != apdu.SWLogicalChannelNotSupported {
			t.Errorf("SELECT on closed channel %d: SW %04X, err %v; want 6881", last.Number(), resp.SW, err)
		}
		again, err := e.OpenLogicalChannel(ctx, cfg.AID)
		if err != nil {
			t.Fatalf("reopen after close: %v", err)
		}
		chans[len(chans)-1] = again
		for _, c := range chans {
			if err := c.Close(); err != nil {
				t.Errorf("Close channel %d: %v", c.Number(), err)
			}
		}
		// Many open/close rounds leak nothing.
		for i := 0; i < 3*(apdu.MaxChannel+1); i++ {
			c, err := e.OpenLogicalChannel(ctx, cfg.AID)
			if err != nil {
				t.Fatalf("round %d: %v (channels leak?)", i, err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("round %d: Close: %v", i, err)
			}
		}
	})

	t.Run("ManageChannelAPDU", func(t *testing.T) {
		e := open(t)
		resp, err := e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0x70, P1: 0x00, P2: 0x00, Ne: 1})
		if err != nil || resp.SW != apdu.SWSuccess || len(resp.Data) != 1 || resp.Data[0] == 0 || resp.Data[0] > apdu.MaxChannel {
			t.Fatalf("MANAGE CHANNEL open: %v, err %v", resp, err)
		}
		n := resp.Data[0]
		cla, _ := apdu.WithChannel(0x00, int(n))
		resp, err = e.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, P2: 0x00, Data: cfg.AID, Ne: 256})
		if err != nil || (!resp.Success() && !apdu.IsWarning(resp.SW)) {
			t.Errorf("SELECT on new channel %d: %v, err %v", n, resp, err)
		}
		resp, err = e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0x70, P1: 0x80, P2: n})
		if err != nil || resp.SW != apdu.SWSuccess {
			t.Errorf("MANAGE CHANNEL close %d: %v, err %v", n, resp, err)
		}
		resp, err = e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0x70, P1: 0x80, P2: n})
		if err != nil || resp.SW != apdu.SWLogicalChannelNotSupported {
			t.Errorf("second MANAGE CHANNEL close %d: %v, err %v; want 6881", n, resp, err)
		}
		resp, err = e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0x70, P1: 0x80, P2: 0x00})
		if err != nil || resp.Success() || apdu.IsWarning(resp.SW) {
			t.Errorf("MANAGE CHANNEL close of the basic channel: %v, err %v; want a refusal (se.Memory: 6A86)", resp, err)
		}
	})

	if cfg.StateAID != nil {
		t.Run("Isolation", func(t *testing.T) {
			e := open(t)
			a, err := e.OpenLogicalChannel(ctx, cfg.StateAID)
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.OpenLogicalChannel(ctx, cfg.StateAID)
			if err != nil {
				t.Fatal(err)
			}
			mustPut(ctx, t, a, []byte("alpha"))
			mustPut(ctx, t, b, []byte("beta"))
			if got := mustGet(ctx, t, a); string(got) != "alpha" {
				t.Errorf("channel %d reads %q, want alpha", a.Number(), got)
			}
			if got := mustGet(ctx, t, b); string(got) != "beta" {
				t.Errorf("channel %d reads %q, want beta", b.Number(), got)
			}
			c, err := e.OpenLogicalChannel(ctx, cfg.StateAID)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustGet(ctx, t, c); len(got) != 0 {
				t.Errorf("fresh channel %d sees %q from another channel", c.Number(), got)
			}
			// Closing and reopening a channel starts clean.
			n := b.Number()
			_ = b.Close()
			b2, err := e.OpenLogicalChannel(ctx, cfg.StateAID)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustGet(ctx, t, b2); len(got) != 0 {
				t.Errorf("reopened channel %d (was %d) sees stale %q", b2.Number(), n, got)
			}
			// Persistent storage is per applet, shared by its channels.
			resp, err := a.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsStore, Data: []byte("kept")})
			if err != nil || !resp.Success() {
				t.Fatalf("STORE: %v %v", resp, err)
			}
			resp, err = c.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsLoad, Ne: 256})
			if err != nil || string(resp.Data) != "kept" {
				t.Errorf("LOAD on another channel: %v %v, want \"kept\"", resp, err)
			}
			for _, ch := range []se.Channel{a, b2, c} {
				_ = ch.Close()
			}
		})

		t.Run("Concurrent", func(t *testing.T) {
			e := open(t)
			var wg sync.WaitGroup
			// One goroutine per logical channel, at most four: an element
			// with fewer channels refuses the extra opens by design.
			workers := 4
			if cfg.MaxChannels > 0 {
				workers = min(workers, cfg.MaxChannels-1)
			}
			errs := make(chan error, workers)
			for g := range workers {
				wg.Go(func() {
					ch, err := e.OpenLogicalChannel(ctx, cfg.StateAID)
					if err != nil {
						errs <- err
						return
					}
					defer ch.Close()
					for i := range 50 {
						v := fmt.Appendf(nil, "g%d-%d", g, i)
						if r, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsPut, Data: v}); err != nil || !r.Success() {
							errs <- fmt.Errorf("PUT: %v %v", r, err)
							return
						}
						r, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsGet, Ne: 256})
						if err != nil || !bytes.Equal(r.Data, v) {
							errs <- fmt.Errorf("channel %d read %q, wrote %q (err %v): state leaked between channels", ch.Number(), r.Data, v, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}

	t.Run("Context", func(t *testing.T) {
		e := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := e.Transmit(cctx, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, Data: cfg.AID, Ne: 256}); !errors.Is(err, context.Canceled) {
			t.Errorf("Transmit with a cancelled context: err = %v, want context.Canceled", err)
		}
		if _, err := e.OpenLogicalChannel(cctx, cfg.AID); !errors.Is(err, context.Canceled) {
			t.Errorf("OpenLogicalChannel with a cancelled context: err = %v, want context.Canceled", err)
		}
	})

	t.Run("ATR", func(t *testing.T) {
		e := open(t)
		p, ok := e.(se.ATRProvider)
		if !ok {
			t.Skip("element has no ATR")
		}
		atr := p.ATR()
		if len(atr) < 2 || len(atr) > 33 || (atr[0] != 0x3B && atr[0] != 0x3F) {
			t.Errorf("ATR % X: want 2–33 bytes starting 3B or 3F (ISO/IEC 7816-3)", atr)
		}
		if len(atr) > 0 {
			atr[0] ^= 0xFF
			if again := p.ATR(); len(again) > 0 && again[0] == atr[0] {
				t.Error("ATR returns the element's own slice, not a copy")
			}
		}
	})

	t.Run("Close", func(t *testing.T) {
		e := newSE(t)
		ch, err := e.OpenLogicalChannel(ctx, cfg.AID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		if _, err := e.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, Data: cfg.AID, Ne: 256}); !errors.Is(err, se.ErrClosed) {
			t.Errorf("Transmit after Close: err = %v, want ErrClosed", err)
		}
		if _, err := e.OpenLogicalChannel(ctx, cfg.AID); !errors.Is(err, se.ErrClosed) {
			t.Errorf("OpenLogicalChannel after Close: err = %v, want ErrClosed", err)
		}
		if _, err := ch.Transmit(ctx, apdu.Command{CLA: 0x00, INS: 0xCA, P1: 0x00, P2: 0x66, Ne: 256}); err == nil {
			t.Error("channel Transmit after the element's Close succeeded")
		}
		if err := ch.Close(); err != nil {
			t.Errorf("channel Close after the element's Close: %v, want nil", err)
		}
	})
}

func mustPut(ctx context.Context, t *testing.T, ch se.Channel, v []byte) {
	t.Helper()
	resp, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsPut, Data: v})
	if err != nil || !resp.Success() {
		t.Fatalf("PUT on channel %d: %v, err %v", ch.Number(), resp, err)
	}
}

func mustGet(ctx context.Context, t *testing.T, ch se.Channel) []byte {
	t.Helper()
	resp, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: InsGet, Ne: 256})
	if err != nil || !resp.Success() {
		t.Fatalf("GET on channel %d: %v, err %v", ch.Number(), resp, err)
	}
	return resp.Data
}

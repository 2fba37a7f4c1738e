package se_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

// FuzzMemoryAPDU sends a sequence of raw command APDUs (each prefixed by
// one length byte) to an element holding the ISD and two StateApplets, with
// a PUT on every open channel recorded in a model. It checks that nothing
// panics and that a GET on any channel returns only what that channel
// PUT: state never leaks between channels.
func FuzzMemoryAPDU(f *testing.F) {
	seq := func(cmds ...apdu.Command) []byte {
		var b []byte
		for _, c := range cmds {
			raw, _ := c.MarshalBinary()
			b = append(b, byte(len(raw)))
			b = append(b, raw...)
		}
		return b
	}
	f.Add(seq(apdu.Command{INS: 0x70, Ne: 1}, selectCmd(0x01, 0, stateAID), apdu.Command{CLA: 0x81, INS: setest.InsPut, Data: []byte("x")}))
	f.Add(seq(apdu.Command{INS: 0x70, P2: 2}, selectCmd(0x02, 0, stateAID[:5]), selectCmd(0x02, 2, stateAID[:5]), apdu.Command{CLA: 0x82, INS: setest.InsGet, Ne: 256}))
	f.Add(seq(apdu.Command{INS: 0x70, P1: 0x80, P2: 1}, selectCmd(0xC0, 0, stateAID), apdu.Command{CLA: 0xFF}))
	f.Add(seq(apdu.Command{CLA: 0x80, INS: 0x50, Data: make([]byte, 8), Ne: 256}, apdu.Command{CLA: 0x84, INS: 0x82, P1: 0x33, Data: make([]byte, 16)}))
	f.Add(seq(apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256}, apdu.Command{CLA: 0x80, INS: 0xD8, P1: 0x30, P2: 0x81, Data: make([]byte, 40)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			t.Skip()
		}
		ctx := context.Background()
		r := newSeeded(1)
		m, _ := newCardWithISD(t, testKeys(r, 0x30, 16), r, false)
		_ = m.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{})
		_ = m.Install(otherAID, setest.NewStateApplet(), se.InstallOptions{})
		// model: the value each channel last PUT, reset when the channel's
		// selection may have changed.
		var model [apdu.MaxChannel + 1][]byte
		for len(data) > 0 {
			n := int(data[0])
			data = data[1:]
			if n > len(data) {
				n = len(data)
			}
			raw := data[:n]
			data = data[n:]
			cmd, err := apdu.ParseCommand(raw)
			if err != nil {
				continue
			}
			ch := se.ChannelOf(cmd)
			resp, err := m.Transmit(ctx, cmd)
			if err != nil {
				t.Fatalf("Transmit: %v", err)
			}
			if ch < 0 {
				if resp.SW != apdu.SWCLANotSupported {
					t.Fatalf("CLA %02X: %v", cmd.CLA, resp)
				}
				continue
			}
			switch {
			case cmd.INS == 0x70 || cmd.INS == 0xA4:
				// Selection or channel state changed somewhere: forget
				// what the model knows of every channel.
				model = [apdu.MaxChannel + 1][]byte{}
			case cmd.CLA&0x80 != 0 && cmd.INS == setest.InsPut && resp.Success():
				model[ch] = bytes.Clone(cmd.Data)
			case cmd.CLA&0x80 != 0 && cmd.INS == setest.InsGet && resp.Success() && model[ch] != nil:
				if !bytes.Equal(resp.Data, model[ch]) {
					t.Fatalf("channel %d GET = %q, it PUT %q", ch, resp.Data, model[ch])
				}
			}
			// Every channel's value is either its own or unknown: probe
			// the others after each command.
			for c := range model {
				if model[c] == nil {
					continue
				}
				cla, _ := apdu.WithChannel(0x80, c)
				got, _ := m.Transmit(ctx, apdu.Command{CLA: cla, INS: setest.InsGet, Ne: 256})
				if got.Success() && !bytes.Equal(got.Data, model[c]) {
					t.Fatalf("channel %d sees %q, it PUT %q (leak from another channel)", c, got.Data, model[c])
				}
			}
		}
		_ = m.Close()
	})
}

func FuzzParseCPLC(f *testing.F) {
	f.Add(testCPLC.MarshalBinary())
	f.Add(testCPLC.MarshalBinary()[3:])
	f.Add([]byte{0x9F, 0x7F})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := se.ParseCPLC(b)
		if err != nil {
			return
		}
		out := c.MarshalBinary()
		if !bytes.Equal(out, b) && !bytes.Equal(out[3:], b) {
			t.Fatalf("round trip % X → % X", b, out)
		}
	})
}

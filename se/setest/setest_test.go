package setest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

var aid = []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x01, 0x01}

func newGood(t *testing.T) *se.Memory {
	m, err := se.NewMemory(se.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Install(aid, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGood(t *testing.T) {
	setest.TestSecureElement(t, func(t *testing.T) se.SecureElement { return newGood(t) },
		setest.Config{AID: aid, StateAID: aid, MaxChannels: 20})
}

// leakyChannels never closes channels on the card: Channel.Close only
// forgets the channel.
type leakyChannels struct{ *se.Memory }

func (l leakyChannels) OpenLogicalChannel(ctx context.Context, a []byte) (se.Channel, error) {
	ch, err := l.Memory.OpenLogicalChannel(ctx, a)
	if err != nil {
		return nil, err
	}
	return &forgetful{Channel: ch}, nil
}

type forgetful struct {
	se.Channel
	closed bool
}

func (f *forgetful) Close() error { f.closed = true; return nil }
func (f *forgetful) Transmit(ctx context.Context, c apdu.Command) (apdu.Response, error) {
	if f.closed {
		return apdu.Response{}, se.ErrChannelClosed
	}
	return f.Channel.Transmit(ctx, c)
}

// sharedState routes every channel to the basic channel, so all channels
// share one selection and one state.
type sharedState struct{ *se.Memory }

type basicOnly struct {
	se.Channel
	m *se.Memory
}

func (s sharedState) OpenLogicalChannel(ctx context.Context, a []byte) (se.Channel, error) {
	ch, err := s.Memory.OpenLogicalChannel(ctx, a)
	if err != nil {
		return nil, err
	}
	if _, err := s.Memory.Transmit(ctx, apdu.Command{CLA: 0, INS: 0xA4, P1: 4, Data: a, Ne: 256}); err != nil {
		return nil, err
	}
	return basicOnly{Channel: ch, m: s.Memory}, nil
}

func (b basicOnly) Transmit(ctx context.Context, c apdu.Command) (apdu.Response, error) {
	c.CLA &^= 0x03
	return b.m.Transmit(ctx, c)
}

// wrongStatus answers every refusal with 6F00 instead of the ISO word.
type wrongStatus struct{ *se.Memory }

func (w wrongStatus) Transmit(ctx context.Context, c apdu.Command) (apdu.Response, error) {
	r, err := w.Memory.Transmit(ctx, c)
	if err == nil && !r.Success() {
		r.SW = apdu.SWUnknown
	}
	return r, err
}

func (w wrongStatus) OpenLogicalChannel(ctx context.Context, a []byte) (se.Channel, error) {
	return se.OpenLogicalChannel(ctx, w, a)
}

// TestBrokenHelper runs the suite against the broken element named by
// SETEST_BROKEN; TestBrokenFails runs it in a child process and expects a
// failure.
func TestBrokenHelper(t *testing.T) {
	kind := os.Getenv("SETEST_BROKEN")
	if kind == "" {
		t.Skip("helper for TestBrokenFails")
	}
	setest.TestSecureElement(t, func(t *testing.T) se.SecureElement {
		m := newGood(t)
		switch kind {
		case "leaky":
			return leakyChannels{m}
		case "shared":
			return sharedState{m}
		case "status":
			return wrongStatus{m}
		}
		t.Fatalf("unknown kind %q", kind)
		return nil
	}, setest.Config{AID: aid, StateAID: aid, MaxChannels: 20})
}

func TestBrokenFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	for kind, want := range map[string]string{
		"leaky":  "ExhaustAndReuse",
		"shared": "Isolation",
		"status": "BadAID",
	} {
		t.Run(kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "SETEST_BROKEN="+kind)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a broken element (%s):\n%s", kind, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenHelper/"+want) {
				t.Errorf("broken element %s: want subtest %s to fail; output:\n%s", kind, want, out)
			}
		})
	}
}

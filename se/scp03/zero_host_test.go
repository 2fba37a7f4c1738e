package scp03_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// A zero HostSession has no keys: every operation says so with
// ErrNotInitialized (issue 17: it used to claim "EXTERNAL AUTHENTICATE
// already confirmed").
func TestZeroHostSession(t *testing.T) {
	var h scp03.HostSession
	if _, err := h.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA}); !errors.Is(err, scp03.ErrNotInitialized) {
		t.Errorf("Wrap: %v, want ErrNotInitialized", err)
	}
	if _, err := h.AppendWrap(nil, apdu.Command{CLA: 0x80, INS: 0xCA}); !errors.Is(err, scp03.ErrNotInitialized) {
		t.Errorf("AppendWrap: %v, want ErrNotInitialized", err)
	}
	if _, err := h.Unwrap(apdu.Response{SW: 0x9000}); !errors.Is(err, scp03.ErrNotInitialized) {
		t.Errorf("Unwrap: %v, want ErrNotInitialized", err)
	}
	if err := h.Authenticated(apdu.Response{SW: 0x9000}); err == nil {
		t.Error("Authenticated on a zero session succeeded")
	}
	tx := apdu.TransmitFunc(func(context.Context, []byte) ([]byte, error) { return []byte{0x90, 0x00}, nil })
	if _, err := h.Transmit(context.Background(), tx, apdu.Command{CLA: 0x80, INS: 0xCA}); err == nil {
		t.Error("Transmit on a zero session succeeded")
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	_ = h.String()
}

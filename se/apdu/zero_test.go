package apdu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/se/apdu"
)

// The zero value of every exported type with methods works or returns a
// clear error; nothing panics (issue 17 point 2).
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "Command", "Response", "StatusError", "Transmitter")
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("a zero value panicked: %v", r)
		}
	}()
	// The zero Command is a valid case-1 SELECT-less command 00 00 00 00.
	var c apdu.Command
	if err := c.Validate(); err != nil {
		t.Errorf("zero Command: %v", err)
	}
	if c.Case() != 1 || c.Extended() || c.EncodedLen() != 4 {
		t.Errorf("zero Command: case %d, extended %v, length %d", c.Case(), c.Extended(), c.EncodedLen())
	}
	if b, err := c.MarshalBinary(); err != nil || len(b) != 4 {
		t.Errorf("zero Command MarshalBinary = %x, %v", b, err)
	}
	if b, err := c.AppendBinary(nil); err != nil || len(b) != 4 {
		t.Errorf("zero Command AppendBinary = %x, %v", b, err)
	}
	_ = c.AppendLc(nil)
	if _, err := c.OnChannel(3); err != nil {
		t.Errorf("zero Command OnChannel: %v", err)
	}
	_ = c.String()

	// The zero Response has SW 0000: not success, an error with that word.
	var r apdu.Response
	if r.Success() || r.SW1() != 0 || r.SW2() != 0 {
		t.Error("zero Response reads as success")
	}
	var se *apdu.StatusError
	if err := r.Err(); !errors.As(err, &se) {
		t.Errorf("zero Response Err = %v, want a *StatusError", err)
	}
	if b, err := r.MarshalBinary(); err != nil || len(b) != 2 {
		t.Errorf("zero Response MarshalBinary = %x, %v", b, err)
	}
	if b, err := r.AppendBinary(nil); err != nil || len(b) != 2 {
		t.Errorf("zero Response AppendBinary = %x, %v", b, err)
	}
	_ = r.String()

	if (&apdu.StatusError{}).Error() == "" {
		t.Error("zero StatusError has no message")
	}

	var tx apdu.Transmitter
	if _, err := tx.Transmit(context.Background(), c); !errors.Is(err, apdu.ErrNoTransport) {
		t.Errorf("zero Transmitter: %v, want ErrNoTransport", err)
	}
}

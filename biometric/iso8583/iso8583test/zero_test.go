package iso8583test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

func TestZeroSimulator(t *testing.T) {
	var s Simulator
	if s.Addr() != "" || !errors.Is(s.Close(), ErrNotInitialized) || s.Accepted() != 0 || s.Errors() != 0 {
		t.Error("zero Simulator")
	}
	s.SetDelay(1)
	s.SetJitter(1, 1)
	s.Hold(1)
	s.Duplicate(1)
	s.Ignore(1)
	if s.Release() != 0 || s.DropConnections() != 0 || s.WriteRaw([]byte{1}) != 0 || s.Events() != nil {
		t.Error("zero Simulator fault controls")
	}
	s.DrainEvents()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.WaitEvent(ctx, "0100"); !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
	if _, err := Start(Config{}); err == nil {
		t.Error("Start without issuer")
	}
	zerotest.Covered(t, "Simulator")
}

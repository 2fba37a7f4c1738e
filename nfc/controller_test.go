package nfc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/payedge/payedge/nfc/emv"
)

// failingController fails every exchange at once, as a controller does
// when the card has left the field, or answers with a response too short
// to hold a status word.
type failingController struct{ short bool }

func (f failingController) Transceive(ctx context.Context, _ []byte) ([]byte, error) {
	if f.short {
		return []byte{0x90}, nil
	}
	return nil, errors.New("rf: no card in field")
}

// TestControllerFailureIsNotTimeout: only an exchange that outlived
// Config.ControllerTimeout is ErrTimeout; an immediate controller failure
// or a malformed answer is ErrController alone.
func TestControllerFailureIsNotTimeout(t *testing.T) {
	for _, short := range []bool{false, true} {
		d, err := NewDevice(DefaultConfig(testKeys()), failingController{short}, Options{Rand: newSeeded(2)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = d.TEE().ReadCard(context.Background())
		if !errors.Is(err, ErrController) || !errors.Is(err, emv.ErrTransceive) {
			t.Errorf("short=%v: %v, want ErrController", short, err)
		}
		if errors.Is(err, ErrTimeout) {
			t.Errorf("short=%v: an immediate failure after %v reported as a timeout: %v", short, time.Since(start), err)
		}
		_ = d.Close()
	}
}

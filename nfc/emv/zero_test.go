package emv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/nfc/emv"
)

func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "CardError", "Expiry", "Record", "Card", "TransceiverFunc", "Config", "Reader")
	ctx := context.Background()
	cases := []struct {
		name string
		fn   func() error
	}{
		{"CardError", func() error {
			var e emv.CardError
			_ = e.Error()
			_ = e.Unwrap()
			var np *emv.CardError
			_ = np.Error()
			if np.Unwrap() != nil {
				return errors.New("nil unwrap")
			}
			return nil
		}},
		{"Expiry", func() error {
			if !(emv.Expiry{}).IsZero() {
				return errors.New("zero expiry")
			}
			return nil
		}},
		{"Record", func() error {
			var r emv.Record
			if r.String() == "" || r.GoString() == "" {
				return errors.New("empty")
			}
			return nil
		}},
		{"Card", func() error {
			var c emv.Card
			var np *emv.Card
			if c.RevealPAN() != "" || c.MaskedPAN() != "" || !c.Expiry().IsZero() || c.RevealTrack2() != nil || c.CardholderName() != "" {
				return errors.New("zero card has data")
			}
			if np.RevealPAN() != "" || np.MaskedPAN() != "" || !np.Expiry().IsZero() || np.RevealTrack2() != nil || np.CardholderName() != "" {
				return errors.New("nil card has data")
			}
			_, _ = c.MarshalJSON()
			_, _ = c.MarshalText()
			_ = c.String() + c.GoString()
			return nil
		}},
		{"TransceiverFunc", func() error {
			var f emv.TransceiverFunc
			if _, err := f.Transceive(ctx, nil); !errors.Is(err, emv.ErrTransceive) {
				return err
			}
			return nil
		}},
		{"Config", func() error { return emv.Config{}.Validate() }},
		{"Reader", func() error {
			var r emv.Reader
			if _, err := r.Read(ctx); !errors.Is(err, emv.ErrNotInitialized) {
				return err
			}
			if _, err := r.PDOLData(nil); err != nil {
				return err
			}
			var np *emv.Reader
			if _, err := np.PDOLData(nil); !errors.Is(err, emv.ErrNotInitialized) {
				return err
			}
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fn(); err != nil {
				t.Error(err)
			}
		})
	}
}

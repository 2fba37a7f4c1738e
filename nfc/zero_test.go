package nfc

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "Config", "SimController", "Hop", "Event", "FieldApplet", "TEEApplet", "Device", "TEEApp", "RichOS")
	ctx := context.Background()
	refused := func(r apdu.Response) error {
		if r.SW != apdu.SWConditionsNotSatisfied {
			return errors.New(r.String())
		}
		return nil
	}
	cases := []struct {
		name string
		fn   func() error
	}{
		{"Config", func() error {
			if err := (Config{}).Validate(); !errors.Is(err, ErrConfig) {
				return err
			}
			return nil
		}},
		{"SimController", func() error {
			var s SimController
			s.SetHang(false)
			if _, err := s.Discover(); !errors.Is(err, ErrNotInitialized) {
				return err
			}
			if _, err := s.Transceive(ctx, nil); !errors.Is(err, ErrNotInitialized) {
				return err
			}
			var np *SimController
			np.SetHang(true)
			_, err := np.Transceive(ctx, nil)
			if !errors.Is(err, ErrNotInitialized) {
				return err
			}
			return nil
		}},
		{"Hop", func() error {
			var h Hop
			if h.String() != "Hop(0)" {
				return errors.New(h.String())
			}
			return nil
		}},
		{"Event", func() error { _ = Event{}.String(); return nil }},
		{"FieldApplet", func() error {
			var f FieldApplet
			f.Deselect(ctx, 2)
			if err := refused(f.Select(ctx, se.Selection{Channel: 3})); err != nil {
				return err
			}
			return refused(f.Process(ctx, apdu.Command{}))
		}},
		{"TEEApplet", func() error {
			var a TEEApplet
			a.Deselect(ctx, 1)
			if err := refused(a.Select(ctx, se.Selection{Channel: 1})); err != nil {
				return err
			}
			return refused(a.Process(ctx, apdu.Command{}))
		}},
		{"Device", func() error {
			var d Device
			if d.TEE() != nil || d.RichOS() != nil || d.Element() != nil {
				return errors.New("zero device has parts")
			}
			if err := d.Close(); !errors.Is(err, ErrNotInitialized) {
				return err
			}
			var np *Device
			_, _, _ = np.TEE(), np.RichOS(), np.Element()
			return nil
		}},
		{"TEEApp", func() error {
			var a TEEApp
			if _, err := a.ReadCard(ctx); !errors.Is(err, ErrNotInitialized) {
				return err
			}
			return nil
		}},
		{"RichOS", func() error {
			var r RichOS
			if _, err := r.Pay(ctx); !errors.Is(err, ErrNotInitialized) {
				return err
			}
			if len(r.Handled()) != 0 {
				return errors.New("handled")
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

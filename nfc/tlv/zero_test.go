package tlv_test

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/nfc/tlv"
)

// TestZeroValues calls every method of every exported type on its zero
// value: each works (an empty iterator, a strict decoder, an empty builder)
// and none panics.
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "Error", "Mode", "Tag", "TLV", "Iter", "Decoder", "Builder", "DOLIter", "Scanner")
	cases := []struct {
		name string
		fn   func() error
	}{
		{"Error", func() error {
			var e tlv.Error
			_ = e.Error()
			if e.Unwrap() != nil {
				return errors.New("unwrap")
			}
			var np *tlv.Error
			_ = np.Error()
			return np.Unwrap()
		}},
		{"Mode", func() error {
			var m tlv.Mode
			if m.String() != "strict" {
				return errors.New(m.String())
			}
			return nil
		}},
		{"Tag", func() error {
			var tg tlv.Tag
			if tg.Valid() || tg.Len() != 0 || tg.Constructed() || tg.Class() != 0 || tg.String() != "00" {
				return errors.New("zero tag")
			}
			return nil
		}},
		{"TLV", func() error {
			var o tlv.TLV
			if o.Constructed() {
				return errors.New("constructed")
			}
			return nil
		}},
		{"Iter", func() error {
			var it tlv.Iter
			if _, ok := it.Next(); ok || it.Err() != nil || it.Rest() != nil {
				return errors.New("zero iter")
			}
			var np *tlv.Iter
			_, _ = np.Next()
			_ = np.Rest()
			return np.Err()
		}},
		{"Decoder", func() error {
			var d tlv.Decoder
			if err := d.Validate(); err != nil {
				return err
			}
			it := d.Iter(nil)
			if _, ok := it.Next(); ok {
				return errors.New("iter")
			}
			if err := d.Check(mcPPSE); err != nil {
				return err
			}
			if err := d.Walk(nil, nil); err != nil {
				return err
			}
			if _, err := d.Find(nil, 0x6F); !errors.Is(err, tlv.ErrNotFound) {
				return err
			}
			return nil
		}},
		{"Builder", func() error {
			var b tlv.Builder
			b.Add(0x5A, []byte{1})
			b.AddRaw([]byte{0x9F, 0x37, 0})
			b.Constructed(0x70, nil)
			out, err := b.Bytes()
			if err != nil || len(out) != 8 {
				return errors.New("builder")
			}
			b.Reset()
			var np *tlv.Builder
			np.Add(0x5A, nil)
			np.AddRaw(nil)
			np.Constructed(0x70, nil)
			np.Reset()
			_, err = np.Bytes()
			return err
		}},
		{"Scanner", func() error {
			var s tlv.Scanner
			if _, _, ok := s.Next(); ok || s.Err() != nil {
				return errors.New("zero scanner")
			}
			var np *tlv.Scanner
			_, _, _ = np.Next()
			return np.Err()
		}},
		{"DOLIter", func() error {
			var it tlv.DOLIter
			if _, ok := it.Next(); ok || it.Err() != nil {
				return errors.New("zero dol iter")
			}
			var np *tlv.DOLIter
			_, _ = np.Next()
			return np.Err()
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

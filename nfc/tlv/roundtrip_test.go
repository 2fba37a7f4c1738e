package tlv_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/payedge/payedge/nfc/tlv"
)

// FuzzEncodeRoundTrip: whatever Encode accepts, the strict decoder reads
// back as the same tag and value, with nothing left over
// (decode(encode(x)) == x), and a strict re-encoding is byte-identical.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add(uint32(0x5A), []byte{0x47, 0x61})
	f.Add(uint32(0x9F38), bytes.Repeat([]byte{1}, 200))
	f.Add(uint32(0x9F8001), []byte{1})
	f.Add(uint32(0xDF8101), []byte{})
	f.Add(uint32(0x7F818101), []byte{0})
	f.Add(uint32(0x1F05), []byte{0})
	f.Fuzz(func(t *testing.T, tag uint32, value []byte) {
		if len(value) > 1<<17 {
			t.Skip()
		}
		enc, err := tlv.Encode(tlv.Tag(tag), value)
		if err != nil {
			if !errors.Is(err, tlv.ErrTag) {
				t.Fatalf("Encode(%X): %v", tag, err)
			}
			return
		}
		o, rest, err := tlv.DecodeOne(enc, tlv.Strict)
		if err != nil || o.Tag != tlv.Tag(tag) || !bytes.Equal(o.Value, value) || len(rest) != 0 {
			t.Fatalf("Encode(%X, %x) = %x decodes strictly to %v %x rest %x: %v", tag, value, enc, o.Tag, o.Value, rest, err)
		}
		again, err := tlv.AppendTLV(nil, o.Tag, o.Value)
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding %x gives %x, %v", enc, again, err)
		}
	})
}

// TestEncodeOnlyCanonicalTags: a tag whose first subsequent byte is 80 (a
// tag number with leading zero bits, X.690 §8.1.2.4.2 c) is well formed
// but not canonical; the strict decoder refuses it, so the canonical
// encoder must refuse it too rather than write bytes it cannot read back.
func TestEncodeOnlyCanonicalTags(t *testing.T) {
	for _, tag := range []tlv.Tag{0x9F8001, 0xDF808001, 0x5F8001} {
		if enc, err := tlv.Encode(tag, []byte{1}); !errors.Is(err, tlv.ErrTag) {
			t.Errorf("Encode(%s) = %x, %v; want ErrTag", tag, enc, err)
		}
		var b tlv.Builder
		b.Add(tag, nil)
		if _, err := b.Bytes(); !errors.Is(err, tlv.ErrTag) {
			t.Errorf("Builder.Add(%s): %v", tag, err)
		}
	}
	// The lenient decoder still reads such tags from cards.
	if o, _, err := tlv.DecodeOne([]byte{0x9F, 0x80, 0x01, 0x00}, tlv.Lenient); err != nil || o.Tag != 0x9F8001 {
		t.Errorf("lenient: %v %v", o.Tag, err)
	}
}

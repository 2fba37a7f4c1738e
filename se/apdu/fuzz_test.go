package apdu

import (
	"bytes"
	"testing"
)

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"00700000", "00B0000000", "00A4040002A00000", "00B00000000101",
		"00D6000000000201020304", "002A9E9A000001070000", "00A4040000", "00A40400000000AA",
	} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxCommandLen+16 {
			t.Skip()
		}
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed command invalid: %v", err)
		}
		enc, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseCommand(enc)
		if err != nil {
			t.Fatalf("re-parse %X: %v", enc, err)
		}
		if c2.CLA != c.CLA || c2.INS != c.INS || c2.P1 != c.P1 || c2.P2 != c.P2 || c2.Ne != c.Ne || !bytes.Equal(c2.Data, c.Data) {
			t.Fatalf("round trip %X -> %X", b, enc)
		}
		// Short form whenever it fits: the canonical encoding is never longer.
		if len(enc) > len(b) {
			t.Fatalf("canonical encoding %X longer than input %X", enc, b)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"9000", "01029000", "6A82", "", "90"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("round trip %X -> %X, %v", b, enc, err)
		}
		_ = StatusText(r.SW)
	})
}

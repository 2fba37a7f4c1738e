package tlv_test

import (
	"bytes"
	"testing"

	"github.com/payedge/payedge/nfc/tlv"
)

const maxFuzzLen = 1 << 16

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{mcPPSE, mcRecord, visaSelect, h("00ff5a81021234"), h("6180"), h("9f8181810100"), h("5a84ffffffff")} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in []byte, lenient bool) {
		if len(in) > maxFuzzLen {
			t.Skip()
		}
		mode := tlv.Strict
		if lenient {
			mode = tlv.Lenient
		}
		d := tlv.Decoder{Mode: mode}
		objs, err := tlv.Decode(in, mode)
		werr := d.Check(in)
		if werr == nil && err != nil {
			t.Fatalf("Check accepts what Decode rejects: %v", err)
		}
		if werr == nil && scanCount(d, in) != iterCount(in, mode, 0) {
			t.Fatalf("Scanner and nested Iter disagree on %x", in)
		}
		if err != nil {
			return
		}
		// Every object must lie inside the input; a strict decode must
		// re-encode to the same bytes.
		var out []byte
		for _, o := range objs {
			if len(o.Raw) < len(o.Value) || len(o.Raw) > len(in) {
				t.Fatalf("object outside input")
			}
			out, _ = tlv.AppendTLV(out, o.Tag, o.Value)
		}
		if mode == tlv.Strict && werr == nil && !bytes.Equal(out, in) {
			t.Fatalf("strict round trip\n in %x\nout %x", in, out)
		}
		if mode == tlv.Strict && err == nil {
			// Strict input is lenient input too.
			if _, err := tlv.Decode(in, tlv.Lenient); err != nil {
				t.Fatalf("strict-valid input rejected by lenient: %v", err)
			}
		}
	})
}

func FuzzDOL(f *testing.F) {
	f.Add(h("9f66049f02069f03069f1a0295055f2a029a039c019f3704"))
	f.Add(h("9f6683010000"))
	f.Add(h("9f818181810104"))
	f.Fuzz(func(t *testing.T, dol []byte) {
		if len(dol) > maxFuzzLen {
			t.Skip()
		}
		entries, err := tlv.ParseDOL(dol)
		n, lerr := tlv.DOLDataLen(dol)
		data, ferr := tlv.FillDOL(nil, dol, func(tlv.Tag, int) []byte { return []byte{1, 2, 3} })
		if (err == nil) != (ferr == nil) || (err == nil) != (lerr == nil) {
			t.Fatalf("ParseDOL %v, FillDOL %v, DOLDataLen %v disagree", err, ferr, lerr)
		}
		if err != nil {
			return
		}
		total := 0
		for _, e := range entries {
			total += e.Len
		}
		if total != len(data) || total != n || total > tlv.MaxDOLData {
			t.Fatalf("DOL data %d bytes, entries sum %d, DOLDataLen %d", len(data), total, n)
		}
	})
}

func scanCount(d tlv.Decoder, b []byte) int {
	s := d.NewScanner(b)
	n := 0
	for _, _, ok := s.Next(); ok; _, _, ok = s.Next() {
		n++
	}
	return n
}

func iterCount(b []byte, mode tlv.Mode, depth int) int {
	n := 0
	it := tlv.NewIter(b, mode)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		n++
		if o.Constructed() && depth < tlv.DefaultMaxDepth {
			n += iterCount(o.Value, mode, depth+1)
		}
	}
	return n
}

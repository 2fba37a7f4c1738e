package emv_test

import (
	"testing"

	"github.com/payedge/payedge/nfc/emv"
)

func FuzzParseGPO(f *testing.F) {
	for _, s := range []string{"771282021980940c080101001001010120010200", "800e1980080101001001010120010200", "8002 2020", "9f3602000c", "770082"} {
		b, _ := hexOK(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip()
		}
		g, err := emv.ParseGPO(b)
		if err != nil {
			return
		}
		if g.Format != 1 && g.Format != 2 {
			t.Fatalf("format %d", g.Format)
		}
		if g.Format == 1 && len(g.AFL)%4 != 0 {
			t.Fatal("format 1 AFL not a multiple of 4")
		}
		if es, err := emv.ParseAFL(g.AFL); err == nil {
			for _, e := range es {
				if e.SFI < 1 || e.SFI > 30 || e.First < 1 || e.Last < e.First {
					t.Fatalf("bad entry accepted: %+v", e)
				}
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"70078f01099f320103", "70035a0100", "7081a65a08", "77035a0100", "70055a0354133a"} {
		b, _ := hexOK(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			t.Skip()
		}
		content, err := emv.ParseRecord(b)
		if err == nil && len(content) > len(b) {
			t.Fatal("content longer than the record")
		}
		_, _ = emv.ParsePPSE(b)
		_, _ = emv.ParseFCI(b)
	})
}

func hexOK(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)/2)
	var hi byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		default:
			continue
		}
		if n%2 == 0 {
			hi = v
		} else {
			out = append(out, hi<<4|v)
		}
		n++
	}
	return out, true
}

package tlv_test

import (
	"bytes"
	"testing"

	"github.com/payedge/payedge/nfc/tlv"
)

// TestFillDOLRules checks the padding and truncation rules of EMV 4.4 Book
// 3 §5.4 for a data object shorter or longer than its DOL entry asks:
// numeric (n) is padded with leading zeros and loses its leftmost bytes,
// compressed numeric (cn) is padded with trailing FF and loses its
// rightmost bytes, every other format (b, an, ans) is padded with trailing
// zeros and loses its rightmost bytes; an unknown or constructed tag gets
// zeros of the requested length (rule a).
func TestFillDOLRules(t *testing.T) {
	tests := []struct {
		name   string
		dol    string
		v      string
		format tlv.Format
		want   string
	}{
		{"n shorter", "9f0206", "1234", tlv.FormatN, "000000001234"},
		{"n longer", "9f0203", "000000001234", tlv.FormatN, "001234"},
		{"n exact", "9f0202", "1234", tlv.FormatN, "1234"},
		{"cn shorter", "5a08", "4761739001", tlv.FormatCN, "4761739001ffffff"},
		{"cn longer", "5a02", "4761739001", tlv.FormatCN, "4761"},
		{"b shorter", "9f6604", "3600", tlv.FormatB, "36000000"},
		{"b longer", "9f3302", "e0f8c8", tlv.FormatB, "e0f8"},
		{"unknown", "9f7c03", "", tlv.FormatB, "000000"},
		{"constructed", "bf0c03", "010203", tlv.FormatB, "000000"},
		{"constructed n", "e102", "0102", tlv.FormatN, "0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dol, v := h(tt.dol), h(tt.v)
			if tt.v == "" {
				v = nil
			}
			got, err := tlv.FillDOLFormats(nil, dol, func(tlv.Tag, int) ([]byte, tlv.Format) { return v, tt.format })
			if err != nil || !bytes.Equal(got, h(tt.want)) {
				t.Errorf("FillDOLFormats = %x, %v; want %s", got, err, tt.want)
			}
			if tt.format == tlv.FormatB {
				got, err := tlv.FillDOL(nil, dol, func(tlv.Tag, int) []byte { return v })
				if err != nil || !bytes.Equal(got, h(tt.want)) {
					t.Errorf("FillDOL = %x, %v; want %s", got, err, tt.want)
				}
			}
			if got := tlv.Fit(nil, v, len(h(tt.want)), tt.format); tt.name[:4] != "cons" && !bytes.Equal(got, h(tt.want)) {
				t.Errorf("Fit = %x, want %s", got, tt.want)
			}
		})
	}
	// A constructed tag's value func is not even asked.
	asked := false
	if _, err := tlv.FillDOL(nil, h("a503"), func(tlv.Tag, int) []byte { asked = true; return nil }); err != nil || asked {
		t.Errorf("value asked for a constructed tag (%v)", err)
	}
}

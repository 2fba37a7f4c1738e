package emv_test

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/nfc/tlv"
)

// TestPDOLDataFormats: PDOL entries longer or shorter than the data are
// fitted by the data's EMV format (Book 3 §5.4): numeric data (9C, 9F35,
// 9F15 …) right-aligned with leading zeros and cut on the left, binary data
// (95, 9F66) left-aligned with trailing zeros and cut on the right.
func TestPDOLDataFormats(t *testing.T) {
	cfg := emv.Config{
		Terminal: emv.Terminal{
			TransactionType: 0x20, TerminalType: 0x22, Amount: 1234,
			TTQ:   [4]byte{0x36, 0x00, 0x40, 0x00},
			Extra: map[tlv.Tag][]byte{0x9F15: {0x59, 0x99}, 0x9F4E: []byte("SHOP")},
		},
		Now: func() time.Time { return time.Date(2026, 12, 4, 10, 11, 12, 0, time.UTC) },
	}
	r, err := emv.NewReader(emvtest.Visa(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ pdol, want string }{
		{"9c02", "0020"},
		{"9f3502", "0022"},
		{"9f1503", "005999"},
		{"9f1501", "99"},
		{"9f0203", "001234"},
		{"9f6602", "3600"},
		{"9f6606", "360040000000"},
		{"9f4e06", hex.EncodeToString([]byte("SHOP\x00\x00"))},
		{"9a03", "261204"},
		{"9f2104", "00101112"},
	}
	for _, tt := range tests {
		got, err := r.PDOLData(h(tt.pdol))
		if err != nil || !bytes.Equal(got, h(tt.want)) {
			t.Errorf("PDOL %s: %x, %v; want %s", tt.pdol, got, err, tt.want)
		}
	}
}

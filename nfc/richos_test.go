package nfc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

// encodings returns s in every form an adversary would search the rich
// OS's bytes for: raw, hex (lower and upper), and the inner characters of
// its base64 (standard, URL, raw) at each of the three byte alignments.
func encodings(s []byte) [][]byte {
	out := [][]byte{s, []byte(hex.EncodeToString(s)), []byte(strings.ToUpper(hex.EncodeToString(s)))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
		for off := 0; off < 3 && off < len(s); off++ {
			if e := enc.EncodeToString(s[off:]); len(e) > 8 {
				out = append(out, []byte(e[4:len(e)-4]))
			}
		}
	}
	return out
}

// cardSecrets lists the PAN, expiry and track 2 of a card in clear, as BCD
// at both nibble alignments, and the text forms of the expiry, each in
// every encoding.
func cardSecrets(pan string, track2 []byte, yymmdd string) [][]byte {
	var out [][]byte
	bcd := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	for _, s := range [][]byte{
		[]byte(pan), []byte(pan[:12]), bcd(pan), bcd(pan[1:]), bcd(pan[1:13]), track2,
		bcd(yymmdd), []byte(yymmdd), []byte("20" + yymmdd[:2] + "-" + yymmdd[2:4]), []byte(yymmdd[2:4] + "/" + yymmdd[:2]),
	} {
		out = append(out, encodings(s)...)
	}
	return out
}

// TestRichOSAdversarial searches every byte the rich-OS side handles — its
// Handled record, the summary, the error Pay returns and the diagnostic
// trace in every print form — for the card's PAN, expiry and track 2 in
// clear, hex, BCD at either nibble alignment and base64, for good cards and
// for reads that fail after the card data was read.
func TestRichOSAdversarial(t *testing.T) {
	badExpiry := emvtest.Visa()
	badExpiry.Apps[0].Records[[2]int{2, 3}] = mustHex(t, "5a0847617390010100105f24033013315f3401015f201a56495341204143515549524552205445535420434152442030315f300202019f6e0420700000")
	lastRecordMissing := emvtest.Mastercard()
	delete(lastRecordMissing.Apps[0].Records, [2]int{4, 2})
	tests := []struct {
		name    string
		card    *emvtest.Card
		pan     string
		track2  string
		yymmdd  string
		wantErr bool
	}{
		{"visa", emvtest.Visa(), "4761739001010010", "4761739001010010d30122011143804400000f", "301231", false},
		{"mastercard", emvtest.Mastercard(), "5413330089010434", "5413330089010434d29062010000000000000f", "290630", false},
		{"bad expiry after PAN", badExpiry, "4761739001010010", "4761739001010010d30122011143804400000f", "301331", true},
		{"record missing after PAN", lastRecordMissing, "5413330089010434", "5413330089010434d29062010000000000000f", "290630", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace [][]byte
			d, _ := newTestDevice(t, tt.card, func(e Event) {
				trace = append(trace, []byte(e.String()), []byte(fmt.Sprintf("%+v", e)), []byte(fmt.Sprintf("%#v", e)), []byte(fmt.Sprintf("%x", e.Data)))
			})
			summary, err := d.RichOS().Pay(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Pay: %v", err)
			}
			seen := append(d.RichOS().Handled(), summary)
			seen = append(seen, trace...)
			if err != nil {
				seen = append(seen, []byte(err.Error()), []byte(fmt.Sprintf("%+v", err)))
				in := false
				for _, b := range d.RichOS().Handled() {
					in = in || bytes.Contains(b, []byte(err.Error()))
				}
				if !in {
					t.Errorf("Pay returned %q to the rich OS but Handled does not record it", err)
				}
			}
			secrets := cardSecrets(tt.pan, mustHex(t, tt.track2), tt.yymmdd)
			for _, b := range seen {
				for _, s := range secrets {
					if bytes.Contains(b, s) {
						t.Errorf("rich OS saw %q in %q", s, b)
					}
				}
			}
			// Control: the same search finds the secrets on the card side.
			found := false
			for _, e := range tt.card.Log() {
				for _, s := range secrets[:3] {
					found = found || bytes.Contains(e.Response, s) || bytes.Contains([]byte(hex.EncodeToString(e.Response)), s)
				}
			}
			if !found {
				t.Error("the search does not even find the PAN in the card's own log")
			}
		})
	}
}

// TestPayErrorClasses checks that the error Pay hands the rich OS still
// matches its class with errors.Is.
func TestPayErrorClasses(t *testing.T) {
	cfg := DefaultConfig(testKeys())
	cfg.ControllerTimeout = 10 * time.Millisecond
	ctrl := NewSimController(emvtest.Visa())
	d, err := NewDevice(cfg, ctrl, Options{Rand: newSeeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctrl.SetHang(true)
	if _, err := d.RichOS().Pay(context.Background()); !errors.Is(err, ErrController) || !errors.Is(err, ErrTimeout) {
		t.Errorf("hanging controller: %v", err)
	}
	ctrl.SetHang(false)
	noApps := emvtest.Visa()
	noApps.Apps[0].AID = []byte{1, 2, 3} // too short: the PPSE entry is skipped
	d2, _ := newTestDevice(t, noApps, nil)
	if _, err := d2.RichOS().Pay(context.Background()); !errors.Is(err, emv.ErrNoApplication) || !errors.Is(err, ErrCard) {
		t.Errorf("no application: %v", err)
	}
	missing := emvtest.Visa()
	delete(missing.Apps[0].Records, [2]int{2, 2})
	d3, _ := newTestDevice(t, missing, nil)
	if _, err := d3.RichOS().Pay(context.Background()); !errors.Is(err, ErrCard) || errors.Is(err, emv.ErrRecord) {
		t.Errorf("record missing: %v (want only the class ErrCard)", err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

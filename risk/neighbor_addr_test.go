package risk_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/payedge/payedge/risk"
)

func TestParseAddr(t *testing.T) {
	good := map[string]string{
		"AA:BB:CC:DD:EE:F0": "aa:bb:cc:dd:ee:f0",
		"aa-bb-cc-dd-ee-f0": "aa:bb:cc:dd:ee:f0",
		"aabb.ccdd.eef0":    "aa:bb:cc:dd:ee:f0",
		"AABBCCDDEEF0":      "aa:bb:cc:dd:ee:f0",
		"00:00:00:00:00:01": "00:00:00:00:00:01",
		"fF:ff:ff:ff:ff:fe": "ff:ff:ff:ff:ff:fe",
	}
	for in, want := range good {
		got, err := risk.NormalizeAddr(in)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:fg", "aa:bb-cc:dd:ee:f0",
		"aa.bb.cc.dd.ee.f0", " aa:bb:cc:dd:ee:f0", "aa:bb:cc:dd:ee:f0 ", "aabbccddeef", "aabbccddeef00",
		"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FFFFFFFFFFFF", "aabb.ccdd-eef0", "aa::bb:cc:dd:ee:f",
		"+a:bb:cc:dd:ee:f0", "aa:bb:cc:dd:ee:f0:11", "ａa:bb:cc:dd:ee:f",
	}
	for _, in := range bad {
		if _, err := risk.ParseAddr(in); !errors.Is(err, risk.ErrIdentifier) {
			t.Errorf("%q: err = %v, want ErrIdentifier", in, err)
		}
	}
}

func TestAddrBits(t *testing.T) {
	must := func(s string) risk.Addr {
		a, err := risk.ParseAddr(s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tests := []struct {
		s      string
		kind   risk.NeighborKind
		random bool
		want   risk.AddrClass
	}{
		{"00:1a:2b:3c:4d:5e", risk.KindWiFi, false, risk.ClassUniversal},
		{"02:1a:2b:3c:4d:5e", risk.KindWiFi, false, risk.ClassLocal},
		{"da:a1:19:00:00:01", risk.KindWiFi, false, risk.ClassLocal},
		{"02:1a:2b:3c:4d:5e", risk.KindWiFi, true, risk.ClassLocal}, // Random ignored for WiFi
		{"c0:11:22:33:44:55", risk.KindBLE, true, risk.ClassStaticRandom},
		{"40:11:22:33:44:55", risk.KindBLE, true, risk.ClassPrivate}, // resolvable
		{"00:11:22:33:44:55", risk.KindBLE, true, risk.ClassPrivate}, // non-resolvable
		{"c0:11:22:33:44:55", risk.KindBLE, false, risk.ClassUniversal},
		{"00:11:22:33:44:55", risk.KindBluetooth, false, risk.ClassUniversal},
	}
	for _, tc := range tests {
		if got := risk.Classify(tc.kind, must(tc.s), tc.random); got != tc.want {
			t.Errorf("%s %v random=%v: %v, want %v", tc.s, tc.kind, tc.random, got, tc.want)
		}
	}
	if !must("01:00:5e:00:00:01").Group() || must("00:00:5e:00:00:01").Group() {
		t.Error("Group bit")
	}
}

func TestAddrText(t *testing.T) {
	type doc struct{ A risk.Addr }
	var d doc
	if err := json.Unmarshal([]byte(`{"A":"AA-BB-CC-DD-EE-F0"}`), &d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `{"A":"aa:bb:cc:dd:ee:f0"}` {
		t.Errorf("%s %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"A":"nope"}`), &d); !errors.Is(err, risk.ErrIdentifier) {
		t.Errorf("bad text: %v", err)
	}
}

package risk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/payedge/payedge/risk"
)

// FuzzParseNeighborKind checks ParseNeighborKind (and NeighborKind's
// UnmarshalText, which JSON observations use) against its definition: the
// three names, case ignored, round-trip through MarshalText; anything else
// is an error wrapping ErrNeighborKind whose text stays bounded.
func FuzzParseNeighborKind(f *testing.F) {
	for _, s := range []string{"wifi", "WiFi", "bluetooth", "BLE", "ble ", "", "unknown", "wıfı", "\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := risk.ParseNeighborKind(s)
		var u risk.NeighborKind
		uerr := u.UnmarshalText([]byte(s))
		if (err == nil) != (uerr == nil) || u != k {
			t.Fatalf("%q: Parse %v %v, UnmarshalText %v %v", s, k, err, u, uerr)
		}
		want := map[string]risk.NeighborKind{"wifi": risk.KindWiFi, "bluetooth": risk.KindBluetooth, "ble": risk.KindBLE}[strings.ToLower(s)]
		if err != nil {
			if want != risk.KindUnknown || !errors.Is(err, risk.ErrNeighborKind) || k != risk.KindUnknown || len(err.Error()) > 200 {
				t.Fatalf("%q: %v %v (want %v)", s, k, err, want)
			}
			return
		}
		if k != want {
			t.Fatalf("%q: %v, want %v", s, k, want)
		}
		b, err := k.MarshalText()
		if err != nil || string(b) != strings.ToLower(s) {
			t.Fatalf("%q: MarshalText %q %v", s, b, err)
		}
	})
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/se/scp03"
)

func TestRun(t *testing.T) {
	for _, cfg := range []config{
		{Seed: 7, Level: scp03.LevelAll, KeyLen: 16},
		{Seed: 8, Level: scp03.LevelAll, KeyLen: 32, S16: true},
		{Seed: 9, Level: 0x13, KeyLen: 24},
		{Seed: 10, Level: scp03.LevelCMAC, KeyLen: 16},
		{Seed: 11, Level: scp03.LevelNone, KeyLen: 16},
	} {
		t.Run(fmt.Sprintf("%02X/%d/S16=%v", byte(cfg.Level), cfg.KeyLen, cfg.S16), func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), cfg, &out); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			s := out.String()
			want := []string{"INITIALIZE UPDATE", "→ 8050", "merchant=shop-17"}
			if cfg.Level.Has(scp03.LevelCMAC) {
				want = append(want, "caught: the card's C-MAC check failed (SW 6982)", "SW 6985")
			}
			if cfg.Level.Has(scp03.LevelRMAC) {
				want = append(want, "caught by the host", "host session is dead")
			}
			for _, w := range want {
				if !strings.Contains(s, w) {
					t.Errorf("output lacks %q:\n%s", w, s)
				}
			}
			// Static keys never appear, in any case.
			keys := demoKeys(cfg.Seed, cfg.KeyLen)
			for _, k := range [][]byte{keys.ENC, keys.MAC, keys.DEK} {
				if strings.Contains(strings.ToUpper(s), fmt.Sprintf("%X", k[:6])) {
					t.Fatalf("output contains key material")
				}
			}
		})
	}
	if err := run(context.Background(), config{Seed: 1, Level: 0x02, KeyLen: 16}, &bytes.Buffer{}); err == nil {
		t.Fatal("level 02 accepted")
	}
	if err := run(context.Background(), config{Seed: 1, Level: scp03.LevelAll, KeyLen: 15}, &bytes.Buffer{}); err == nil {
		t.Fatal("15-byte keys accepted")
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunSmall(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := config{N: 2, Width: 128, Height: 96, Seed: 5, Out: dir, Families: "reshot,jpeg"}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "similarity") || !strings.Contains(out.String(), "phash64") {
		t.Errorf("report lacks methods:\n%s", out.String())
	}
	for _, f := range []string{"roc_reshot.png", "roc_jpeg.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := run(context.Background(), config{N: 3, Families: "nope", Width: 160, Height: 120}, &out); err == nil {
		t.Error("unknown family accepted")
	}
}

func TestSized(t *testing.T) {
	if c := sized(config{}, false); c.N != quickN || c.Width != quickW || c.Height != quickH {
		t.Errorf("quick default: %+v", c)
	}
	if c := sized(config{}, true); c.N != fullN || c.Width != fullW || c.Height != fullH {
		t.Errorf("full: %+v", c)
	}
	if c := sized(config{N: 5}, true); c.N != 5 || c.Width != fullW {
		t.Errorf("-n overrides -full: %+v", c)
	}
}

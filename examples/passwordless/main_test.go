package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRunSmall(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	cfg := config{Seed: 3, Terminals: 4, Days: 4, Trials: 20, TargetFPR: 0.05, Out: filepath.Join(dir, "plots")}
	if err := run(context.Background(), cfg, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Accepted at each threshold", "neighbors.match", "neighbors.replayed", "refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Quantile table: class p05 p25 median p75 p95; acceptance table:
	// class and one percentage per threshold (no-PIN, passwordless, tuned).
	median := map[string]string{}
	accepted := map[string][]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && !strings.HasPrefix(line, " ") {
			median[f[0]] = f[3]
		}
		if len(f) == 4 && strings.HasPrefix(line, "  ") && strings.HasSuffix(f[1], "%") {
			for _, v := range f[1:] {
				x, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				accepted[f[0]] = append(accepted[f[0]], x)
			}
		}
	}
	if g, err := strconv.ParseFloat(median["genuine"], 64); err != nil || g < 0.5 {
		t.Errorf("genuine median %q", median["genuine"])
	}
	attacks := []string{"relocated", "spoofed", "cloned-device", "look-alike", "no-RSSI", "replayed", "stale"}
	for _, c := range attacks[:6] {
		if m, err := strconv.ParseFloat(median[c], 64); err != nil || m > 0.3 {
			t.Errorf("%s median %q: attacks should stand apart", c, median[c])
		}
	}
	if median["stale"] != "refused" {
		t.Errorf("stale scans not refused: %q", median["stale"])
	}
	if len(accepted) != 8 {
		t.Fatalf("acceptance table incomplete: %v\n%s", accepted, out)
	}
	if accepted["genuine"][0] < 50 {
		t.Errorf("genuine accepted at the no-PIN threshold: %v %%", accepted["genuine"][0])
	}
	for _, c := range attacks {
		if accepted[c][0] > 5 || accepted[c][2] > 100*cfg.TargetFPR {
			t.Errorf("%s accepted %v %% (no-PIN, passwordless, tuned)", c, accepted[c])
		}
	}
	for _, c := range attacks {
		if accepted[c][0] != 0 {
			t.Errorf("%s accepted %v %% at the no-PIN threshold", c, accepted[c][0])
		}
	}
	for _, f := range []string{"passwordless_scores.png", "passwordless_roc.png"} {
		b, err := os.ReadFile(filepath.Join(cfg.Out, f))
		if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, cfg := range []config{
		{Terminals: 0, Days: 1, Trials: 1, TargetFPR: 0.1},
		{Terminals: 1, Days: 0, Trials: 1, TargetFPR: 0.1},
		{Terminals: 1, Days: 1, Trials: 0, TargetFPR: 0.1},
		{Terminals: 1, Days: 1, Trials: 1, TargetFPR: 1},
	} {
		if err := run(context.Background(), cfg, &bytes.Buffer{}); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

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
	cfg := config{Seed: 3, Terminals: 4, Days: 4, Trials: 10, TargetFPR: 0.05, Out: filepath.Join(dir, "plots")}
	if err := run(context.Background(), cfg, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"TPR (genuine accepted)", "FPR spoofed accepted", "neighbors.match"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The story's point: genuine scans score well above relocated and
	// spoofed ones, and the tuned point keeps each attack class in budget.
	median := map[string]float64{}
	var rates [][3]float64
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && (f[0] == "genuine" || f[0] == "relocated" || f[0] == "spoofed") {
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				t.Fatalf("median of %s: %v", f[0], err)
			}
			median[f[0]] = v
		}
		if len(f) >= 4 && (strings.HasPrefix(line, "  TPR") || strings.HasPrefix(line, "  FPR")) {
			v, err := strconv.ParseFloat(f[len(f)-2], 64)
			if err != nil {
				t.Fatalf("rate in %q: %v", line, err)
			}
			if strings.HasPrefix(line, "  TPR") {
				rates = append(rates, [3]float64{})
			}
			if strings.Contains(line, "relocated") {
				rates[len(rates)-1][1] = v
			} else if strings.Contains(line, "spoofed") {
				rates[len(rates)-1][2] = v
			} else {
				rates[len(rates)-1][0] = v
			}
		}
	}
	if len(median) != 3 || !(median["genuine"] > 0.5 && median["relocated"] < 0.3 && median["spoofed"] < 0.3) {
		t.Errorf("medians %v: genuine should stand apart", median)
	}
	if len(rates) != 3 {
		t.Fatalf("want 3 operating points, got %v", rates)
	}
	tuned := rates[2]
	if tuned[1] > 100*cfg.TargetFPR || tuned[2] > 100*cfg.TargetFPR || tuned[0] < 50 {
		t.Errorf("tuned point TPR %.2f %%, FPR %.2f / %.2f %% over the %.0f %% budget", tuned[0], tuned[1], tuned[2], 100*cfg.TargetFPR)
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

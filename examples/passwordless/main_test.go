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

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	cfg := config{Seed: 2, Subjects: 6, Windows: 2, Folds: 3, Fresh: 3, Gyroless: 0.2, OutDir: dir, WritePlots: true}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`accuracy ([0-9.]+)  macro-F1`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no accuracy in output:\n%s", out.String())
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.8 {
		t.Errorf("leave-subjects-out accuracy %.3f:\n%s", acc, out.String())
	}
	for _, f := range []string{"spectrum.png", "signals_walking.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := run(context.Background(), config{Subjects: 1, Windows: 1, Folds: 2, Fresh: 1}, &out); err == nil {
		t.Error("bad config accepted")
	}
}

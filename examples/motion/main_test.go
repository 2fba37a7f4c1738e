package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	// A tiny recording in the WISDM raw layout: two users, two activities.
	var csv strings.Builder
	for u := 1; u <= 2; u++ {
		for _, act := range []string{"Jogging", "Standing"} {
			for i := range 120 { // 6 s at 20 Hz
				x := float64(i) / 20
				z := 9.81 + 0.05*math.Sin(float64(u)*x)
				if act == "Jogging" {
					z = 9.81 + 4*math.Sin(2*math.Pi*2.7*x)
				}
				fmt.Fprintf(&csv, "%d,%s,%d,0.1,0.2,%.4f;\n", u, act, int64(1e9+x*1e9), z)
			}
		}
	}
	wisdm := filepath.Join(dir, "wisdm.txt")
	if err := os.WriteFile(wisdm, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config{Seed: 2, Subjects: 9, Windows: 3, Folds: 3, Fresh: 3, Gyroless: 0.2, WISDM: wisdm, WISDMRate: 20, OutDir: dir, WritePlots: true,
		HAPT: "../../motion/testdata/hapt", HAPTFolds: 4}
	if raceEnabled {
		// The race detector slows training thirtyfold; the optimiser stops
		// earlier there (as in motion's subset test; the thresholds hold).
		cfg.HAPTIter = 40
	}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	h := regexp.MustCompile(`Over a payment's 3 windows: accuracy ([0-9.]+)`).FindStringSubmatch(out.String())
	if h == nil {
		t.Fatalf("no HAPT headline in output:\n%s", out.String())
	}
	if acc, _ := strconv.ParseFloat(h[1], 64); acc < 0.85 {
		t.Errorf("HAPT subset accuracy over 3 windows %.3f:\n%s", acc, out.String())
	}
	sim := out.String()[strings.Index(out.String(), "--- Simulator"):]
	m := regexp.MustCompile(`accuracy ([0-9.]+)  macro-F1`).FindStringSubmatch(sim)
	if m == nil {
		t.Fatalf("no accuracy in output:\n%s", out.String())
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.8 {
		t.Errorf("leave-subjects-out accuracy %.3f:\n%s", acc, out.String())
	}
	if !strings.Contains(out.String(), "wisdm.txt: 480 rows") {
		t.Errorf("WISDM file not read:\n%s", out.String())
	}
	for _, f := range []string{"spectrum.png", "signals_walking.png", "reliability.png", "hapt_confusion.png", "hapt_reliability.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if err := run(context.Background(), config{Subjects: 1, Windows: 1, Folds: 2, Fresh: 1, NoHAPT: true}, &out); err == nil {
		t.Error("bad config accepted")
	}
	if err := run(context.Background(), config{Subjects: 2, Windows: 1, Folds: 2, Fresh: 1, HAPTFolds: 2, HAPTIter: -1}, &out); err == nil {
		t.Error("negative -hapt-iter accepted")
	}
}

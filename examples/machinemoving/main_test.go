package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
)

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	cfg := config{Seed: 3, Terminals: 60, MovedFrac: 0.2, Reports: 6, GSMOnly: 0.3, BadCells: 0, RegionKM: 30, OutDir: t.TempDir(), WritePlots: true}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`precision ([0-9.]+)  recall ([0-9.]+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no precision/recall in output:\n%s", out.String())
	}
	p, _ := strconv.ParseFloat(m[1], 64)
	r, _ := strconv.ParseFloat(m[2], 64)
	if p < 0.7 || r < 0.7 {
		t.Errorf("precision %.2f recall %.2f:\n%s", p, r, out.String())
	}
	m = regexp.MustCompile(`honest median ([0-9.]+) .* moved median ([0-9.]+); ROC AUC ([0-9.]+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no confidence summary in output:\n%s", out.String())
	}
	ch, _ := strconv.ParseFloat(m[1], 64)
	cm, _ := strconv.ParseFloat(m[2], 64)
	a, _ := strconv.ParseFloat(m[3], 64)
	if ch < 0.8 || cm > 0.2 || a < 0.9 {
		t.Errorf("confidence honest %.3f moved %.3f AUC %.3f:\n%s", ch, cm, a, out.String())
	}
	if !bytes.Contains(out.Bytes(), []byte("plot: ")) {
		t.Errorf("no plot written:\n%s", out.String())
	}
	if err := run(context.Background(), config{Terminals: 0, Reports: 1, RegionKM: 30}, &out); err == nil {
		t.Error("bad config accepted")
	}
}

// TestRunLongSimulation: the simulation runs on its own clock, which the
// monitor reads (MonitorConfig.Now), so a run of many reports — here 400
// at 3 h apart, 50 days from its start date — does not depend on the
// machine's date.
func TestRunLongSimulation(t *testing.T) {
	var out bytes.Buffer
	cfg := config{Seed: 4, Terminals: 4, MovedFrac: 0.25, Reports: 400, GSMOnly: 0.3, RegionKM: 30, OutDir: t.TempDir()}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

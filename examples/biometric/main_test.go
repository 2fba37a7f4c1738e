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
	cfg := config{N: 600, Mated: 100, NonMated: 300, Dim: 64, Clusters: 4, Noise: 0.75, Seed: 3, Out: dir, Payments: 30, Pairs: 300}
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"NIST FRTE 1:N", "queries/s", "target FPIR", "genuine  approved", "stranger approved", "det.png"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "det.png")); err != nil || st.Size() == 0 {
		t.Errorf("det.png: %v", err)
	}
	// The same seed gives the same evaluation table.
	var again bytes.Buffer
	cfg.Out = ""
	if err := run(context.Background(), cfg, &again); err != nil {
		t.Fatal(err)
	}
	table := func(s string) string { return s[strings.Index(s, "NIST"):strings.Index(s, "Payments")] }
	if table(s) != table(again.String()) {
		t.Errorf("not deterministic:\n%s\n%s", table(s), table(again.String()))
	}
}

func TestBadConfig(t *testing.T) {
	good := config{N: 100, Mated: 20, NonMated: 20, Dim: 16, Clusters: 2, Noise: 0.5, Payments: 5, Pairs: 10}
	for _, mut := range []func(*config){
		func(c *config) { c.N = 1 },
		func(c *config) { c.Mated = 200 },
		func(c *config) { c.NonMated = 0 },
		func(c *config) { c.Dim = 0 },
		func(c *config) { c.Noise = 0 },
		func(c *config) { c.Payments = 50 },
		func(c *config) { c.Pairs = 1 },
	} {
		c := good
		mut(&c)
		if err := run(context.Background(), c, &bytes.Buffer{}); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

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
	if err := run(context.Background(), config{Nodes: 40, Arrivals: 3000, Load: 1.2, Seed: 3, Out: dir}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"best-fit (log2 sample)", "spread (log2 sample)", "best-fit (full scan)", "stranded", "Crash and recovery", "the ledger is exact"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, f := range []string{"sched_utilisation.png", "sched_fill.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	if err := run(context.Background(), config{Nodes: 0, Arrivals: 1, Load: 1}, &out); err == nil {
		t.Error("zero nodes accepted")
	}
}

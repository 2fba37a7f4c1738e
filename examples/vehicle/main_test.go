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
	if err := run(context.Background(), config{Vehicles: 80, Payments: 800, Seed: 2, Out: dir}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"end-to-end latency", "by anyone else 0", "moved money: 0", "conserved: true", "PRR of the first sidelink packet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, f := range []string{"vehicle_prr.png", "vehicle_latency_cdf.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	if err := run(context.Background(), config{Vehicles: 1, Payments: 1}, &out); err == nil {
		t.Error("one vehicle accepted")
	}
}

// TestFailuresPrintedInOrder: one seed prints one text — the failure
// counts come from a map and used to print in its random order.
func TestFailuresPrintedInOrder(t *testing.T) {
	f := map[string]int{"e": 5, "a": 1, "d": 4, "b": 2, "c": 3}
	var first bytes.Buffer
	printFailures(&first, f)
	if want := ` "a"=1 "b"=2 "c"=3 "d"=4 "e"=5` + "\n"; first.String() != want {
		t.Fatalf("got %q, want %q", first.String(), want)
	}
	for range 20 {
		var again bytes.Buffer
		printFailures(&again, f)
		if again.String() != first.String() {
			t.Fatalf("%q then %q", first.String(), again.String())
		}
	}
}

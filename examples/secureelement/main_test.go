package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), config{Seed: 3, Steps: 400, Out: dir}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"alice  VSE 1", "bob    VSE 2", "carol  VSE 3",
		"keys rotated 30→31", "overdraft refused 6985",
		"alice selects bob's wallet applet:        refused=true",
		"alice's keys against bob's ISD:            refused=true",
		"alice's VSE reads bob's wallet memory:     refused=true",
		"read ok=true balance=17450",
		"alice writes through the read-only grant:  refused=true",
		"after bob revokes it:                      refused=true",
		"destroy alice with a channel open:         refused=true",
		"alice after destroy:                       refused=true",
		"alice's memory handed to carol is zero:    true",
		"static", "first-fit", "buddy",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "secureelement_fragmentation.png")); err != nil || st.Size() == 0 {
		t.Errorf("plot: %v", err)
	}
	// No key material is printed.
	rnd := newSeeded(3)
	k := keySet(rnd, 0x30)
	if strings.Contains(strings.ToUpper(s), fmt.Sprintf("%X", k.ENC[:6])) {
		t.Error("output contains key material")
	}
	if err := run(context.Background(), config{Steps: -1}, &out); err == nil {
		t.Error("negative steps accepted")
	}
}

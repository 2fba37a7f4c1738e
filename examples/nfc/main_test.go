package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), config{Seed: 7, Amount: 1250}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, w := range []string{
		"VISA DEBIT ************0010 A0000000031010",
		"MASTERCARD ************0434 A0000000041010",
		"applet1═applet2",
		"plaintext withheld",
		"card data found in them: false",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	for _, secret := range []string{"4761739001010010", "5413330089010434", "4761739001", "541333008901"} {
		if strings.Contains(s, secret) {
			t.Errorf("output shows PAN digits %s", secret)
		}
	}
}

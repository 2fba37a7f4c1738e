package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), config{Tenants: 12, Out: dir, FRRLines: 20}, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"different tenants:              0 of", "router bgp 65001", "a second Reconcile made 0 calls", "0 pending"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, f := range []string{"sdn_reachability.png", "sdn_p1_frr.conf"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// IPv6 tenant networks reach the rendered FRR configuration.
	conf, err := os.ReadFile(filepath.Join(dir, "sdn_p1_frr.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"network 2001:db8:1::/48", "address-family ipv6 vpn", "advertise ipv6 unicast"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("sdn_p1_frr.conf lacks %q", want)
		}
	}
	if err := run(context.Background(), config{Tenants: 1}, &out); err == nil {
		t.Error("one tenant accepted")
	}
}

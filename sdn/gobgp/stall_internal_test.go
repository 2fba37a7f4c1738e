package gobgp

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"
)

func TestStallGuard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var bounced []netip.Addr
	g := &stallGuard{ctx: ctx, after: 20 * time.Millisecond, timers: map[netip.Addr]*time.Timer{},
		bounce: func(_ *server.BgpServer, p netip.Addr) {
			mu.Lock()
			defer mu.Unlock()
			bounced = append(bounced, p)
		}}
	stuck, healthy := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	g.observe(stuck, bgp.BGP_FSM_OPENSENT)
	g.observe(stuck, bgp.BGP_FSM_OPENCONFIRM)
	g.observe(healthy, bgp.BGP_FSM_OPENCONFIRM)
	g.observe(healthy, bgp.BGP_FSM_ESTABLISHED)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	got := append([]netip.Addr(nil), bounced...)
	mu.Unlock()
	if len(got) != 1 || got[0] != stuck {
		t.Fatalf("restarted %v, want only %v (stuck in OpenConfirm)", got, stuck)
	}

	// After the watch stops, nothing is restarted.
	g.observe(stuck, bgp.BGP_FSM_OPENCONFIRM)
	cancel()
	g.stopAll()
	g.observe(healthy, bgp.BGP_FSM_OPENCONFIRM)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(bounced) != 1 {
		t.Fatalf("restarted %v after the watch stopped", bounced[1:])
	}
}

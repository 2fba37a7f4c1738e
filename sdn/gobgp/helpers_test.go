package gobgp_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/gobgp"
)

// loopback returns 127.0.0.<i+1>; Linux routes all of 127/8 to lo, so each
// speaker gets its own address and all listen on one port.
func loopback(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 1)}) }

// freePort finds a TCP port free on the first n loopback addresses.
func freePort(t testing.TB, n int) uint16 {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{l}
		ok := true
		for i := 1; i < n; i++ {
			li, err := net.Listen("tcp", fmt.Sprintf("%s:%d", loopback(i), port))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, li)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return uint16(port)
		}
	}
	t.Fatal("no port free on all loopback addresses")
	return 0
}

func partition(i int) sdn.Partition {
	return sdn.Partition{ID: fmt.Sprintf("p%d", i+1), ASN: 65001 + uint32(i), RouterID: netip.AddrFrom4([4]byte{10, 255, 0, byte(i + 1)}), Kind: "gobgp"}
}

// speakers starts n GoBGP speakers peering over loopback on one port.
func speakers(t testing.TB, n int) ([]*gobgp.RouteController, uint16) {
	t.Helper()
	port := freePort(t, n)
	out := make([]*gobgp.RouteController, n)
	for i := range n {
		p := partition(i)
		rc, err := gobgp.New(context.Background(), gobgp.Config{
			ASN: p.ASN, RouterID: p.RouterID,
			ListenAddress: loopback(i), ListenPort: int32(port), LocalAddress: loopback(i), PeerPort: port,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		out[i] = rc
	}
	return out, port
}

// neighbors lists every other speaker as a neighbour of speaker i.
func neighbors(i, n int) []sdn.Neighbor {
	var out []sdn.Neighbor
	for j := range n {
		if j != i {
			out = append(out, sdn.Neighbor{Address: loopback(j), ASN: partition(j).ASN})
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (last error %v)", what, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

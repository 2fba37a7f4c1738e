package gobgp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
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

// speakers starts n GoBGP speakers peering over loopback on one port,
// with OneSidedOpen.
func speakers(t testing.TB, n int) ([]*gobgp.RouteController, uint16) {
	t.Helper()
	return startSpeakers(t, n, true)
}

// startSpeakers is speakers with OneSidedOpen set as given.
func startSpeakers(t testing.TB, n int, oneSided bool) ([]*gobgp.RouteController, uint16) {
	t.Helper()
	port := freePort(t, n)
	out := make([]*gobgp.RouteController, n)
	// Each speaker's session changes and errors, printed if the test
	// fails: a session that does not come up is otherwise invisible.
	var mu sync.Mutex
	var trace []string
	record := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		trace = append(trace, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	}
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("speaker trace:\n%s", strings.Join(trace, "\n"))
		}
	})
	for i := range n {
		p := partition(i)
		rc, err := gobgp.New(context.Background(), gobgp.Config{
			ASN: p.ASN, RouterID: p.RouterID,
			ListenAddress: loopback(i), ListenPort: int32(port), LocalAddress: loopback(i), PeerPort: port,
			OneSidedOpen: oneSided,
			Logger:       slog.New(traceHandler{name: p.ID, record: record}), LogLevel: slog.LevelDebug,
			OnPeerEvent: func(e gobgp.PeerEvent) {
				record("%s: peer %v (AS %d) %s", p.ID, e.Peer, e.ASN, e.State)
			},
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

// traceHandler is a slog.Handler that records a speaker's log lines.
type traceHandler struct {
	name   string
	attrs  []slog.Attr
	record func(format string, args ...any)
}

func (h traceHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h traceHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s", a)
		return true
	})
	h.record("%s: %s %s%s", h.name, r.Level, r.Message, b.String())
	return nil
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(slices.Clip(h.attrs), as...)
	return h
}

func (h traceHandler) WithGroup(string) slog.Handler { return h }

// meshVRF gives every speaker of s the VRF "t" (one shared route target)
// and then, back to back, an instance peering with all the others;
// speaker 0 originates nets.
func meshVRF(t testing.TB, s []*gobgp.RouteController, nets ...string) {
	t.Helper()
	ctx := context.Background()
	rt := sdn.RouteTarget{Type: sdn.TypeAS2, Admin: 64512, Assigned: 1}
	for k, rc := range s {
		v := sdn.VRFSpec{Name: "t", VNI: 1, RD: sdn.RouteDistinguisher{Type: sdn.TypeAS2, Admin: 64512, Assigned: uint32(k + 1)},
			ImportRTs: []sdn.RouteTarget{rt}, ExportRTs: []sdn.RouteTarget{rt}}
		if err := rc.EnsureVRF(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	for k, rc := range s {
		p := partition(k)
		b := sdn.BGPSpec{VRF: "t", ASN: p.ASN, RouterID: p.RouterID, Neighbors: neighbors(k, len(s)), Families: sdn.DefaultConfig().Families}
		if k == 0 {
			for _, n := range nets {
				b.Networks = append(b.Networks, netip.MustParsePrefix(n))
			}
		}
		if err := rc.EnsureBGPInstance(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}

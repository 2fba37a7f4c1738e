package gobgp

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/payedge/payedge/sdn"
)

// OpenConfirmStall is how long a session may wait in OpenConfirm before
// the controller restarts it. A healthy session leaves OpenConfirm one
// round trip after entering it (RFC 4271 section 8.2.2: each side sends
// its KEEPALIVE on entering). GoBGP v4.8.0 can leave both sides of a
// connection collision there: when the OPEN on a speaker's own outgoing
// connection arrives after it has already moved its accepted connection
// to OpenConfirm, both speakers wait for a KEEPALIVE on a connection the
// other no longer reads, until the negotiated hold time expires — and
// then often collide again, as both reconnect after the same idle hold.
// The controller deletes and re-adds such a neighbour, which discards
// both connections.
const OpenConfirmStall = 5 * time.Second

// stallGuard restarts sessions stuck in OpenConfirm. It is driven by
// GoBGP's peer events and must not take RouteController.mu in the event
// callback: a call holding mu may be waiting on the server that is
// delivering the event.
type stallGuard struct {
	ctx    context.Context // cancelled when the watch stops
	srv    *server.BgpServer
	bounce func(srv *server.BgpServer, peer netip.Addr)
	after  time.Duration // OpenConfirmStall; shorter in tests

	mu     sync.Mutex
	timers map[netip.Addr]*time.Timer
}

// observe records a session state change of peer.
func (g *stallGuard) observe(peer netip.Addr, s bgp.FSMState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := g.timers[peer]; t != nil {
		t.Stop()
		delete(g.timers, peer)
	}
	if s != bgp.BGP_FSM_OPENCONFIRM || g.ctx.Err() != nil {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(g.after, func() {
		g.mu.Lock()
		current := g.timers[peer] == t
		if current {
			delete(g.timers, peer)
		}
		g.mu.Unlock()
		if current && g.ctx.Err() == nil {
			g.bounce(g.srv, peer)
		}
	})
	g.timers[peer] = t
}

// stopAll stops every pending timer.
func (g *stallGuard) stopAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p, t := range g.timers {
		t.Stop()
		delete(g.timers, p)
	}
}

// restartPeer deletes and re-adds a neighbour whose session is stuck in
// OpenConfirm on srv, if srv is still the controller's speaker, the
// neighbour is still configured and its session still stuck.
func (r *RouteController) restartPeer(srv *server.BgpServer, peer netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != srv || r.peers[peer] == 0 {
		return
	}
	var asn uint32
	for _, inst := range r.inst {
		if i := slices.IndexFunc(inst.Neighbors, func(n sdn.Neighbor) bool { return n.Address == peer }); i >= 0 {
			asn = inst.Neighbors[i].ASN
			break
		}
	}
	if asn == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stuck := false
	if err := srv.ListPeer(ctx, &api.ListPeerRequest{Address: peer.String()}, func(p *api.Peer) {
		stuck = p.GetState().GetSessionState() == api.PeerState_SESSION_STATE_OPENCONFIRM
	}); err != nil || !stuck {
		return
	}
	if err := srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: peer.String()}); err != nil {
		return
	}
	// AddPeer of a configuration the speaker accepted before fails only
	// when the speaker is stopping.
	_ = srv.AddPeer(ctx, &api.AddPeerRequest{Peer: r.peerConf(sdn.Neighbor{Address: peer, ASN: asn})})
}

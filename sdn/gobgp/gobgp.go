package gobgp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/payedge/payedge/sdn"
)

// ErrClosed is returned by every method after Close, and by a zero-value
// RouteController.
var ErrClosed = errors.New("gobgp: route controller closed or not created with New")

// Config configures a RouteController and the speaker it starts.
type Config struct {
	ASN      uint32     // the partition's AS number (sdn.ValidASN)
	RouterID netip.Addr // IPv4 BGP router ID
	// ListenAddress is the address the speaker listens on (default: all).
	ListenAddress netip.Addr
	// ListenPort is the TCP port to listen on: 0 means 179, -1 does not
	// listen (the speaker then only connects out).
	ListenPort int32
	// LocalAddress is the source address of outgoing sessions (default:
	// chosen by the kernel).
	LocalAddress netip.Addr
	// OneSidedOpen makes the speaker connect out only to neighbours whose
	// address is greater than LocalAddress, and wait for the others to
	// connect to it. Set it on every speaker of a mesh of these speakers:
	// each pair then opens exactly one TCP connection, so its session
	// never meets a connection collision (RFC 4271 section 6.8), which
	// GoBGP v4.8.0 mishandles — the session can stall until the hold
	// time expires (see OpenConfirmStall), and its collision code has data
	// races. Leave it off toward a neighbour that never connects out (a
	// passive router). It requires LocalAddress.
	OneSidedOpen bool
	// PeerPort is the TCP port of neighbours (default 179).
	PeerPort uint16
	// ConnectRetry is the interval between connection attempts to a
	// neighbour (default 1 s; GoBGP's own default is 120 s).
	ConnectRetry time.Duration
	// RouterMAC is the router's MAC carried in the EVPN Router's MAC
	// extended community (RFC 9135 section 8.1) of every EVPN IP prefix
	// route: the inner destination MAC a remote VTEP uses for traffic
	// routed to this partition over VXLAN, which RFC 9136 section 4.4.1
	// requires on type-5 routes over Ethernet NVO tunnels such as VXLAN.
	// Set the MAC of the L3 VNI's interface (the SVI) where a data plane
	// uses it. Default: DefaultRouterMAC of the router ID. It must be a
	// 6-byte unicast address that is not all zeros.
	RouterMAC net.HardwareAddr
	// Logger receives GoBGP's logs (default: discarded).
	Logger *slog.Logger
	// LogLevel is the least severity of GoBGP's records passed to Logger:
	// the zero value, slog.LevelInfo, passes session state changes and
	// warnings (connection collisions, closed connections); slog.LevelDebug
	// adds every connection attempt and message.
	LogLevel slog.Level
	// OnPeerEvent, when set, is called for every peer state change.
	OnPeerEvent func(PeerEvent)
}

// PeerEvent is a neighbour's session state change, from GoBGP's WatchEvent.
type PeerEvent struct {
	Time  time.Time
	Peer  netip.Addr // neighbour address
	ASN   uint32     // neighbour AS
	State string     // "idle", "connect", "active", "opensent", "openconfirm", "established"
}

// Validate reports whether c is usable; errors wrap sdn.ErrInvalid.
func (c Config) Validate() error {
	if !sdn.ValidASN(c.ASN) {
		return fmt.Errorf("%w: gobgp: AS %d", sdn.ErrInvalid, c.ASN)
	}
	if !c.RouterID.Is4() || c.RouterID.IsUnspecified() {
		return fmt.Errorf("%w: gobgp: router id %v", sdn.ErrInvalid, c.RouterID)
	}
	if c.ListenPort < -1 || c.ListenPort > 65535 {
		return fmt.Errorf("%w: gobgp: listen port %d", sdn.ErrInvalid, c.ListenPort)
	}
	if c.OneSidedOpen && !c.LocalAddress.IsValid() {
		return fmt.Errorf("%w: gobgp: OneSidedOpen needs LocalAddress", sdn.ErrInvalid)
	}
	if c.ConnectRetry < 0 {
		return fmt.Errorf("%w: gobgp: negative connect retry", sdn.ErrInvalid)
	}
	if m := c.RouterMAC; m != nil && (len(m) != 6 || m[0]&1 != 0 || [6]byte(m) == [6]byte{}) {
		return fmt.Errorf("%w: gobgp: router MAC %v is not a 6-byte unicast address", sdn.ErrInvalid, m)
	}
	return nil
}

// DefaultRouterMAC is the Router's MAC a speaker with this router ID
// advertises when Config.RouterMAC is unset: 02:00 followed by the
// router ID's four bytes, a locally administered unicast address (IEEE
// 802 U/L bit set, I/G bit clear) as unique as the router ID. Nil for a
// router ID that is not IPv4.
func DefaultRouterMAC(routerID netip.Addr) net.HardwareAddr {
	if !routerID.Is4() {
		return nil
	}
	a := routerID.As4()
	return net.HardwareAddr{0x02, 0x00, a[0], a[1], a[2], a[3]}
}

// routerMAC is the MAC the EVPN routes carry.
func (c Config) routerMAC() net.HardwareAddr {
	if c.RouterMAC != nil {
		return slices.Clone(c.RouterMAC)
	}
	return DefaultRouterMAC(c.RouterID)
}

// RouteController is an sdn.RouteController and sdn.VRFLister on one
// GoBGP speaker. It is safe for concurrent use.
type RouteController struct {
	cfg Config

	mu     sync.Mutex
	srv    *server.BgpServer
	own    bool // the server was started by New and is stopped by Close
	closed bool // Close was called: Restart must not bring it back
	stop   context.CancelFunc
	vrfs   map[string]sdn.VRFSpec  // VRFs as last ensured (for VNI and VLAN)
	inst   map[string]*sdn.BGPSpec // instances bound to VRFs
	peers  map[netip.Addr]int      // neighbour → instances listing it
	nextID uint32
}

var (
	_ sdn.RouteController = (*RouteController)(nil)
	_ sdn.VRFLister       = (*RouteController)(nil)
)

// New starts a GoBGP speaker from cfg and returns its RouteController.
// Close stops the speaker.
func New(ctx context.Context, cfg Config) (*RouteController, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &RouteController{cfg: cfg, own: true}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// NewWithServer returns a RouteController on a speaker the host created
// and started (StartBgp) itself; cfg.ASN and cfg.RouterID must be the
// speaker's. Close does not stop a host's speaker.
func NewWithServer(ctx context.Context, s *server.BgpServer, cfg Config) (*RouteController, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: gobgp: nil server", sdn.ErrInvalid)
	}
	r := &RouteController{cfg: cfg, srv: s}
	r.reset()
	if err := r.watch(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RouteController) reset() {
	r.vrfs = map[string]sdn.VRFSpec{}
	r.inst = map[string]*sdn.BGPSpec{}
	r.peers = map[netip.Addr]int{}
}

func (r *RouteController) start(ctx context.Context) error {
	logger := r.cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lvl := new(slog.LevelVar)
	lvl.Set(r.cfg.LogLevel)
	s := server.NewBgpServer(server.LoggerOption(logger, lvl))
	go s.Serve()
	g := &api.Global{Asn: r.cfg.ASN, RouterId: r.cfg.RouterID.String(), ListenPort: r.cfg.ListenPort}
	if r.cfg.ListenAddress.IsValid() {
		g.ListenAddresses = []string{r.cfg.ListenAddress.String()}
	}
	if err := s.StartBgp(ctx, &api.StartBgpRequest{Global: g}); err != nil {
		s.Stop()
		return fmt.Errorf("gobgp: start: %w", err)
	}
	r.srv = s
	r.reset()
	if err := r.watch(); err != nil {
		// Do not leave a speaker running (and its port held) behind an
		// error: the caller has no controller to close it with.
		s.StopBgp(context.Background(), &api.StopBgpRequest{})
		s.Stop()
		r.srv = nil
		return fmt.Errorf("gobgp: watch events: %w", err)
	}
	return nil
}

// watch follows the speaker's peer events: for OnPeerEvent, and to
// restart sessions stuck in OpenConfirm (see OpenConfirmStall).
func (r *RouteController) watch() error {
	wctx, cancel := context.WithCancel(context.Background())
	g := &stallGuard{ctx: wctx, srv: r.srv, bounce: r.restartPeer, after: OpenConfirmStall, timers: map[netip.Addr]*time.Timer{}}
	r.stop = func() {
		cancel()
		g.stopAll()
	}
	fn := r.cfg.OnPeerEvent
	err := r.srv.WatchEvent(wctx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: func(ev *apiutil.WatchEventMessage_PeerEvent, t time.Time) {
			if ev == nil || ev.Type != apiutil.PEER_EVENT_STATE {
				return
			}
			g.observe(ev.Peer.State.NeighborAddress, ev.Peer.State.SessionState)
			if fn != nil {
				fn(PeerEvent{Time: t, Peer: ev.Peer.State.NeighborAddress, ASN: ev.Peer.State.PeerASN, State: stateName(ev.Peer.State.SessionState)})
			}
		},
	}, server.WatchPeer())
	if err != nil {
		r.stop()
		r.stop = nil
	}
	return err
}

func stateName(s bgp.FSMState) string {
	switch s {
	case bgp.BGP_FSM_IDLE:
		return "idle"
	case bgp.BGP_FSM_CONNECT:
		return "connect"
	case bgp.BGP_FSM_ACTIVE:
		return "active"
	case bgp.BGP_FSM_OPENSENT:
		return "opensent"
	case bgp.BGP_FSM_OPENCONFIRM:
		return "openconfirm"
	case bgp.BGP_FSM_ESTABLISHED:
		return "established"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Server returns the GoBGP speaker, for what this adapter does not cover.
func (r *RouteController) Server() *server.BgpServer {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// Close stops the speaker when New started it. Calling it twice is safe.
func (r *RouteController) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return r.closeLocked()
}

func (r *RouteController) closeLocked() error {
	if r.srv == nil {
		return nil
	}
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	var err error
	if r.own {
		err = r.srv.StopBgp(context.Background(), &api.StopBgpRequest{})
		r.srv.Stop()
	}
	r.srv = nil
	return err
}

// Restart stops the speaker New started and starts a fresh one from the
// same Config, as a crashed and restarted routing daemon would come back:
// with no VRFs, instances, routes or sessions. sdn.Controller.Reconcile
// then brings it back to the intended state. After Close it returns
// ErrClosed; after a Restart that failed it may be called again.
func (r *RouteController) Restart(ctx context.Context) error {
	if r == nil {
		return ErrClosed
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || (!r.own && r.srv == nil) { // closed, or a zero value
		return ErrClosed
	}
	if !r.own {
		return fmt.Errorf("%w: gobgp: Restart of a host's server", sdn.ErrUnsupported)
	}
	if err := r.closeLocked(); err != nil {
		return err
	}
	return r.start(ctx)
}

// Established reports whether the session to a neighbour is up.
func (r *RouteController) Established(ctx context.Context, peer netip.Addr) (bool, error) {
	srv, err := r.server(ctx)
	if err != nil {
		return false, err
	}
	up := false
	err = srv.ListPeer(ctx, &api.ListPeerRequest{Address: peer.String()}, func(p *api.Peer) {
		up = p.GetState().GetSessionState() == api.PeerState_SESSION_STATE_ESTABLISHED
	})
	return up, err
}

func (r *RouteController) server(ctx context.Context) (*server.BgpServer, error) {
	if r == nil {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		return nil, ErrClosed
	}
	return r.srv, nil
}

// lock takes the mutex for an operation and checks the controller is open.
func (r *RouteController) lock(ctx context.Context) error {
	if r == nil {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	if r.srv == nil {
		r.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// --- conversions ---------------------------------------------------------

func toRD(rd sdn.RouteDistinguisher) (bgp.RouteDistinguisherInterface, error) {
	b, err := rd.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return bgp.GetRouteDistinguisher(b), nil
}

func fromRD(rd bgp.RouteDistinguisherInterface) (sdn.RouteDistinguisher, error) {
	var out sdn.RouteDistinguisher
	if rd == nil {
		return out, fmt.Errorf("%w: gobgp: missing RD", sdn.ErrInvalid)
	}
	b, err := rd.Serialize()
	if err != nil {
		return out, err
	}
	return out, out.UnmarshalBinary(b)
}

func toRT(rt sdn.RouteTarget) (bgp.ExtendedCommunityInterface, error) {
	if err := rt.Validate(); err != nil {
		return nil, err
	}
	switch rt.Type {
	case sdn.TypeAS2:
		return bgp.NewTwoOctetAsSpecificExtended(bgp.EC_SUBTYPE_ROUTE_TARGET, uint16(rt.Admin), rt.Assigned, true), nil
	case sdn.TypeIPv4:
		a := netip.AddrFrom4([4]byte{byte(rt.Admin >> 24), byte(rt.Admin >> 16), byte(rt.Admin >> 8), byte(rt.Admin)})
		return bgp.NewIPv4AddressSpecificExtended(bgp.EC_SUBTYPE_ROUTE_TARGET, a, uint16(rt.Assigned), true)
	default:
		return bgp.NewFourOctetAsSpecificExtended(bgp.EC_SUBTYPE_ROUTE_TARGET, rt.Admin, uint16(rt.Assigned), true), nil
	}
}

func fromRT(ec bgp.ExtendedCommunityInterface) (sdn.RouteTarget, bool) {
	var rt sdn.RouteTarget
	b, err := ec.Serialize()
	if err != nil {
		return rt, false
	}
	return rt, rt.UnmarshalBinary(b) == nil
}

func toRTs(rts []sdn.RouteTarget) ([]*api.RouteTarget, error) {
	ecs := make([]bgp.ExtendedCommunityInterface, 0, len(rts))
	for _, rt := range rts {
		ec, err := toRT(rt)
		if err != nil {
			return nil, err
		}
		ecs = append(ecs, ec)
	}
	return apiutil.MarshalRTs(ecs)
}

func fromRTs(in []*api.RouteTarget) []sdn.RouteTarget {
	ecs, err := apiutil.UnmarshalRTs(in)
	if err != nil {
		return nil
	}
	var out []sdn.RouteTarget
	for _, ec := range ecs {
		if rt, ok := fromRT(ec); ok {
			out = append(out, rt)
		}
	}
	return sortRTs(out)
}

func compareRT(a, b sdn.RouteTarget) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Admin, b.Admin); c != 0 {
		return c
	}
	return cmp.Compare(a.Assigned, b.Assigned)
}

func sortRTs(rts []sdn.RouteTarget) []sdn.RouteTarget {
	rts = slices.Clone(rts)
	slices.SortFunc(rts, compareRT)
	return slices.Compact(rts)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

package gobgp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/payedge/payedge/sdn"
)

// gobgpVRF is what GoBGP reports of a VRF.
type gobgpVRF struct {
	rd       sdn.RouteDistinguisher
	imp, exp []sdn.RouteTarget
}

// listVRFs returns the speaker's VRFs (only the one named name, unless
// name is empty) with their RD and route targets converted.
func (r *RouteController) listVRFs(ctx context.Context, name string) (map[string]gobgpVRF, error) {
	out := map[string]gobgpVRF{}
	var convErr error
	err := r.srv.ListVrf(ctx, &api.ListVrfRequest{Name: name}, func(v *api.Vrf) {
		if name != "" && v.GetName() != name {
			return
		}
		rd, err := apiutil.UnmarshalRD(v.GetRd())
		if err == nil {
			var g gobgpVRF
			if g.rd, err = fromRD(rd); err == nil {
				g.imp, g.exp = fromRTs(v.GetImportRt()), fromRTs(v.GetExportRt())
				out[v.GetName()] = g
			}
		}
		if err != nil && convErr == nil {
			convErr = err
		}
	})
	if err == nil {
		err = convErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return out, err
}

// getVRF returns the speaker's VRF of that name.
func (r *RouteController) getVRF(ctx context.Context, name string) (gobgpVRF, bool, error) {
	all, err := r.listVRFs(ctx, name)
	v, found := all[name]
	return v, found, err
}

// existingVRF is getVRF for the read methods: an unknown VRF is
// ErrVRFNotFound.
func (r *RouteController) existingVRF(ctx context.Context, name string) (gobgpVRF, error) {
	v, found, err := r.getVRF(ctx, name)
	if err == nil && !found {
		err = fmt.Errorf("%w: gobgp: %s", sdn.ErrVRFNotFound, name)
	}
	return v, err
}

// EnsureVRF implements sdn.RouteController.
func (r *RouteController) EnsureVRF(ctx context.Context, spec sdn.VRFSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	spec.ImportRTs, spec.ExportRTs = sortRTs(spec.ImportRTs), sortRTs(spec.ExportRTs)
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	have, found, err := r.getVRF(ctx, spec.Name)
	if err != nil {
		return fmt.Errorf("gobgp: EnsureVRF %s: %w", spec.Name, err)
	}
	if found && have.rd == spec.RD && slices.Equal(have.imp, spec.ImportRTs) && slices.Equal(have.exp, spec.ExportRTs) {
		old := r.vrfs[spec.Name]
		r.vrfs[spec.Name] = spec
		if inst := r.inst[spec.Name]; inst != nil && old.VNI != spec.VNI && slices.Contains(inst.Families, sdn.FamilyEVPN) {
			// The EVPN routes carry the VNI as their label: re-originate.
			nets := inst.Networks
			if err := r.withdraw(ctx, old, inst, nets); err != nil {
				return err
			}
			return r.originate(ctx, spec, inst, nets)
		}
		return nil
	}
	inst := r.inst[spec.Name]
	if found {
		// RD or targets changed: GoBGP cannot modify a VRF in place.
		if err := r.srv.DeleteVrf(ctx, &api.DeleteVrfRequest{Name: spec.Name}); err != nil {
			return fmt.Errorf("gobgp: EnsureVRF %s: delete for update: %w", spec.Name, err)
		}
	}
	rd, err := toRD(spec.RD)
	if err != nil {
		return err
	}
	ard, err := apiutil.MarshalRD(rd)
	if err != nil {
		return err
	}
	imp, err := toRTs(spec.ImportRTs)
	if err != nil {
		return err
	}
	exp, err := toRTs(spec.ExportRTs)
	if err != nil {
		return err
	}
	r.nextID++
	if err := r.srv.AddVrf(ctx, &api.AddVrfRequest{Vrf: &api.Vrf{Name: spec.Name, Rd: ard, ImportRt: imp, ExportRt: exp, Id: r.nextID}}); err != nil {
		return fmt.Errorf("gobgp: EnsureVRF %s: %w", spec.Name, err)
	}
	r.vrfs[spec.Name] = spec
	if inst != nil && found {
		return r.originate(ctx, spec, inst, inst.Networks)
	}
	return nil
}

// DeleteVRF implements sdn.RouteController.
func (r *RouteController) DeleteVRF(ctx context.Context, name string) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	if r.inst[name] != nil {
		return fmt.Errorf("%w: gobgp: VRF %s still has a BGP instance", sdn.ErrConflict, name)
	}
	_, found, err := r.getVRF(ctx, name)
	if err != nil {
		return fmt.Errorf("gobgp: DeleteVRF %s: %w", name, err)
	}
	if found {
		if err := r.srv.DeleteVrf(ctx, &api.DeleteVrfRequest{Name: name}); err != nil {
			return fmt.Errorf("gobgp: DeleteVRF %s: %w", name, err)
		}
	}
	delete(r.vrfs, name)
	return nil
}

func (r *RouteController) checkInstance(spec sdn.BGPSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if spec.ASN != r.cfg.ASN || spec.RouterID != r.cfg.RouterID {
		return fmt.Errorf("%w: gobgp: instance AS %d router id %v, speaker has AS %d router id %v",
			sdn.ErrInvalid, spec.ASN, spec.RouterID, r.cfg.ASN, r.cfg.RouterID)
	}
	for _, n := range spec.Networks {
		if !slices.ContainsFunc(spec.Families, func(f sdn.AddressFamily) bool { return f.Carries(n) }) {
			return fmt.Errorf("%w: gobgp: network %v: none of the instance's families %v carries it", sdn.ErrInvalid, n, spec.Families)
		}
	}
	return nil
}

// EnsureBGPInstance implements sdn.RouteController. A call that fails
// part-way gives back the neighbour references it took, so a retry or a
// DeleteBGPInstance leaves no session behind.
func (r *RouteController) EnsureBGPInstance(ctx context.Context, spec sdn.BGPSpec) (err error) {
	if _, err := r.server(ctx); err != nil {
		return err // closed, zero or nil: before checkInstance reads r.cfg
	}
	if err := r.checkInstance(spec); err != nil {
		return err
	}
	spec.Families = slices.Clone(spec.Families)
	slices.Sort(spec.Families)
	spec.Families = slices.Compact(spec.Families)
	spec.Networks = slices.Clone(spec.Networks)
	slices.SortFunc(spec.Networks, comparePrefix)
	spec.Networks = slices.Compact(spec.Networks)
	spec.Neighbors = slices.Clone(spec.Neighbors)
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	v, found, err := r.getVRF(ctx, spec.VRF)
	if err != nil {
		return fmt.Errorf("gobgp: EnsureBGPInstance %s: %w", spec.VRF, err)
	}
	if !found {
		return fmt.Errorf("%w: gobgp: %s", sdn.ErrVRFNotFound, spec.VRF)
	}
	vspec := r.vrfs[spec.VRF]
	vspec.Name, vspec.RD, vspec.ImportRTs, vspec.ExportRTs = spec.VRF, v.rd, v.imp, v.exp
	old := r.inst[spec.VRF]
	// Neighbours first, so that the routes have somewhere to go.
	var added []sdn.Neighbor
	defer func() {
		if err == nil {
			return
		}
		// Not recorded in r.inst: give back what this call took. The
		// speaker is already failing, so a failure here adds nothing.
		for _, n := range added {
			_ = r.releasePeer(context.WithoutCancel(ctx), n)
		}
	}()
	for _, n := range spec.Neighbors {
		if old != nil && slices.Contains(old.Neighbors, n) {
			continue
		}
		if err := r.addPeer(ctx, n); err != nil {
			return err
		}
		added = append(added, n)
	}
	// Per family: a family no longer listed withdraws every old network,
	// a new one originates every network, and one kept changes only the
	// networks that differ — so adding a family (as sdn's default did
	// with VPN-IPv6) does not flap the routes of the others.
	var oldFams []sdn.AddressFamily
	var oldNets []netip.Prefix
	if old != nil {
		oldFams, oldNets = old.Families, old.Networks
	}
	keep, gone, fresh := splitFamilies(oldFams, spec.Families)
	var add, del []netip.Prefix
	for _, n := range spec.Networks {
		if !slices.Contains(oldNets, n) {
			add = append(add, n)
		}
	}
	for _, n := range oldNets {
		if !slices.Contains(spec.Networks, n) {
			del = append(del, n)
		}
	}
	if err := r.withdraw(ctx, vspec, &sdn.BGPSpec{Families: gone}, oldNets); err != nil {
		return err
	}
	if err := r.withdraw(ctx, vspec, &sdn.BGPSpec{Families: keep}, del); err != nil {
		return err
	}
	if err := r.originate(ctx, vspec, &sdn.BGPSpec{Families: keep}, add); err != nil {
		return err
	}
	if err := r.originate(ctx, vspec, &sdn.BGPSpec{Families: fresh}, spec.Networks); err != nil {
		return err
	}
	r.inst[spec.VRF] = &spec
	added = nil // owned by the recorded instance now
	if old != nil {
		for _, n := range old.Neighbors {
			if !slices.Contains(spec.Neighbors, n) {
				// A failure here leaves a reference held (a session kept),
				// never one given back twice (a shared session dropped).
				if err := r.releasePeer(ctx, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// splitFamilies returns the families in both lists, only in the old one,
// and only in the new one.
func splitFamilies(old, cur []sdn.AddressFamily) (keep, gone, fresh []sdn.AddressFamily) {
	for _, f := range old {
		if slices.Contains(cur, f) {
			keep = append(keep, f)
		} else {
			gone = append(gone, f)
		}
	}
	for _, f := range cur {
		if !slices.Contains(old, f) {
			fresh = append(fresh, f)
		}
	}
	return keep, gone, fresh
}

// DeleteBGPInstance implements sdn.RouteController.
func (r *RouteController) DeleteBGPInstance(ctx context.Context, vrf string) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.mu.Unlock()
	old := r.inst[vrf]
	if old == nil {
		return nil
	}
	v, found, err := r.getVRF(ctx, vrf)
	if err != nil {
		return fmt.Errorf("gobgp: DeleteBGPInstance %s: %w", vrf, err)
	}
	if found {
		vspec := r.vrfs[vrf]
		vspec.Name, vspec.RD = vrf, v.rd
		if err := r.withdraw(ctx, vspec, old, old.Networks); err != nil {
			return err
		}
	}
	for i, n := range old.Neighbors {
		if err := r.releasePeer(ctx, n); err != nil {
			// Record the progress: a retry releases only what is left,
			// so a neighbour shared with another instance is not given
			// back twice.
			rest := *old
			rest.Networks, rest.Neighbors = nil, slices.Clone(old.Neighbors[i:])
			r.inst[vrf] = &rest
			return err
		}
	}
	delete(r.inst, vrf)
	return nil
}

// vpnFamilies are enabled on every neighbour.
var vpnFamilies = []*api.Family{
	{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_MPLS_VPN},
	{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_MPLS_VPN},
	{Afi: api.Family_AFI_L2VPN, Safi: api.Family_SAFI_EVPN},
}

func (r *RouteController) addPeer(ctx context.Context, n sdn.Neighbor) error {
	if r.peers[n.Address] > 0 {
		r.peers[n.Address]++
		return nil
	}
	if err := r.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: r.peerConf(n)}); err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("gobgp: add neighbour %v: %w", n.Address, err)
	}
	r.peers[n.Address] = 1
	return nil
}

// peerConf is the GoBGP configuration of a neighbour.
func (r *RouteController) peerConf(n sdn.Neighbor) *api.Peer {
	peer := &api.Peer{
		Conf: &api.PeerConf{NeighborAddress: n.Address.String(), PeerAsn: n.ASN},
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry: uint64(max(1, int64(r.cfg.ConnectRetry.Seconds()))), HoldTime: 30, KeepaliveInterval: 10,
			IdleHoldTimeAfterReset: 1,
		}},
		Transport:    &api.Transport{},
		EbgpMultihop: &api.EbgpMultihop{Enabled: true, MultihopTtl: 8},
	}
	if r.cfg.ConnectRetry == 0 {
		peer.Timers.Config.ConnectRetry = 1
	}
	if r.cfg.PeerPort != 0 {
		peer.Transport.RemotePort = uint32(r.cfg.PeerPort)
	}
	if r.cfg.LocalAddress.IsValid() {
		peer.Transport.LocalAddress = r.cfg.LocalAddress.String()
	}
	// The neighbour with the greater address connects to this one.
	peer.Transport.PassiveMode = r.cfg.OneSidedOpen && n.Address.Compare(r.cfg.LocalAddress) < 0
	for _, f := range vpnFamilies {
		peer.AfiSafis = append(peer.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}})
	}
	return peer
}

func (r *RouteController) releasePeer(ctx context.Context, n sdn.Neighbor) error {
	if r.peers[n.Address] > 1 {
		r.peers[n.Address]--
		return nil
	}
	delete(r.peers, n.Address)
	if err := r.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: n.Address.String()}); err != nil && !strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("gobgp: delete neighbour %v: %w", n.Address, err)
	}
	return nil
}

// paths builds the paths that originate nets in a VRF: an IPv4 or IPv6
// unicast path (GoBGP turns it into VPN-IPv4 or VPN-IPv6 with the VRF's
// RD and export targets) and, with EVPN, an IP prefix route labelled with
// the VNI, the VXLAN encapsulation and the Router's MAC.
func (r *RouteController) paths(v sdn.VRFSpec, inst *sdn.BGPSpec, nets []netip.Prefix) ([]*apiutil.Path, error) {
	var out []*apiutil.Path
	nh, err := bgp.NewPathAttributeNextHop(r.cfg.RouterID)
	if err != nil {
		return nil, err
	}
	// VPN-IPv6 across an IPv4 core: the next hop is the IPv4-mapped IPv6
	// address of the router ID (RFC 4659 section 3.2.1.1).
	nh6 := netip.AddrFrom16(r.cfg.RouterID.As16())
	origin := bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)
	evpn := slices.Contains(inst.Families, sdn.FamilyEVPN)
	l3vpn4 := slices.Contains(inst.Families, sdn.FamilyL3VPNIPv4)
	l3vpn6 := slices.Contains(inst.Families, sdn.FamilyL3VPNIPv6)
	var rd bgp.RouteDistinguisherInterface
	if evpn {
		if rd, err = toRD(v.RD); err != nil {
			return nil, err
		}
	}
	for _, n := range nets {
		is4 := n.Addr().Is4()
		if is4 && l3vpn4 || !is4 && l3vpn6 {
			nlri, err := bgp.NewIPAddrPrefix(n)
			if err != nil {
				return nil, err
			}
			p := &apiutil.Path{Family: bgp.RF_IPv4_UC, Nlri: nlri, Attrs: []bgp.PathAttributeInterface{origin, nh}}
			if !is4 {
				mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, []bgp.PathNLRI{{NLRI: nlri}}, nh6)
				if err != nil {
					return nil, err
				}
				p = &apiutil.Path{Family: bgp.RF_IPv6_UC, Nlri: nlri, Attrs: []bgp.PathAttributeInterface{origin, mp}}
			}
			out = append(out, p)
		}
		if evpn {
			// RFC 9136 section 3.1: the gateway IP is of the prefix's family.
			gw := netip.IPv4Unspecified()
			if !is4 {
				gw = netip.IPv6Unspecified()
			}
			nlri, err := bgp.NewEVPNIPPrefixRoute(rd, bgp.EthernetSegmentIdentifier{Value: make([]byte, 9)}, 0,
				uint8(n.Bits()), n.Addr(), gw, v.VNI)
			if err != nil {
				return nil, err
			}
			mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_EVPN, []bgp.PathNLRI{{NLRI: nlri}}, r.cfg.RouterID)
			if err != nil {
				return nil, err
			}
			// VXLAN is an Ethernet NVO tunnel: RFC 9136 section 4.4.1
			// requires the Router's MAC extended community (RFC 9135
			// section 8.1) beside the encapsulation (RFC 9012).
			encap := bgp.NewPathAttributeExtendedCommunities([]bgp.ExtendedCommunityInterface{
				bgp.NewEncapExtended(bgp.TUNNEL_TYPE_VXLAN), &bgp.RouterMacExtended{Mac: r.cfg.routerMAC()}})
			out = append(out, &apiutil.Path{Family: bgp.RF_EVPN, Nlri: nlri, Attrs: []bgp.PathAttributeInterface{origin, mp, encap}})
		}
	}
	return out, nil
}

func (r *RouteController) originate(ctx context.Context, v sdn.VRFSpec, inst *sdn.BGPSpec, nets []netip.Prefix) error {
	if len(nets) == 0 {
		return nil
	}
	ps, err := r.paths(v, inst, nets)
	if err != nil || len(ps) == 0 {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := r.srv.AddPath(apiutil.AddPathRequest{VRFID: v.Name, Paths: ps}); err != nil {
		return fmt.Errorf("gobgp: originate %d networks in %s: %w", len(nets), v.Name, err)
	}
	return nil
}

func (r *RouteController) withdraw(ctx context.Context, v sdn.VRFSpec, inst *sdn.BGPSpec, nets []netip.Prefix) error {
	if len(nets) == 0 {
		return nil
	}
	ps, err := r.paths(v, inst, nets)
	if err != nil || len(ps) == 0 {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range ps {
		p.Withdrawal = true
	}
	if err := r.srv.DeletePath(apiutil.DeletePathRequest{VRFID: v.Name, Paths: ps}); err != nil {
		return fmt.Errorf("gobgp: withdraw %d networks from %s: %w", len(nets), v.Name, err)
	}
	return nil
}

// vpnRoute is one route read from the global VPN or EVPN tables.
type vpnRoute struct {
	route  sdn.Route
	local  bool
	family sdn.AddressFamily
}

// listVPN reads every VPN-IPv4, VPN-IPv6 and EVPN IP prefix route of the
// speaker.
func (r *RouteController) listVPN(ctx context.Context) ([]vpnRoute, error) {
	var out []vpnRoute
	var convErr error
	collect := func(fam sdn.AddressFamily) func(bgp.NLRI, []*apiutil.Path) {
		return func(_ bgp.NLRI, paths []*apiutil.Path) {
			for _, p := range paths {
				if p.Withdrawal {
					continue
				}
				var rt sdn.Route
				var bgpRD bgp.RouteDistinguisherInterface
				switch n := p.Nlri.(type) {
				case *bgp.LabeledVPNIPAddrPrefix:
					rt.Prefix, bgpRD = n.Prefix, n.RD
				case *bgp.EVPNNLRI:
					ip, ok := n.RouteTypeData.(*bgp.EVPNIPPrefixRoute)
					if !ok {
						continue
					}
					pfx, err := ip.IPPrefix.Prefix(int(ip.IPPrefixLength))
					if err != nil {
						continue
					}
					rt.Prefix, bgpRD = pfx, ip.RD
				default:
					continue
				}
				var err error
				if rt.RD, err = fromRD(bgpRD); err != nil {
					convErr = err
					continue
				}
				for _, a := range p.Attrs {
					if ec, ok := a.(*bgp.PathAttributeExtendedCommunities); ok {
						for _, v := range ec.Value {
							if t, ok := fromRT(v); ok {
								rt.RTs = append(rt.RTs, t)
							}
						}
					}
				}
				rt.RTs = sortRTs(rt.RTs)
				out = append(out, vpnRoute{route: rt, local: !p.PeerAddress.IsValid(), family: fam})
			}
		}
	}
	for _, f := range []struct {
		fam sdn.AddressFamily
		bf  bgp.Family
	}{{sdn.FamilyL3VPNIPv4, bgp.RF_IPv4_VPN}, {sdn.FamilyL3VPNIPv6, bgp.RF_IPv6_VPN}, {sdn.FamilyEVPN, bgp.RF_EVPN}} {
		err := r.srv.ListPath(apiutil.ListPathRequest{TableType: api.TableType_TABLE_TYPE_GLOBAL, Family: f.bf}, collect(f.fam))
		if err != nil && !strings.Contains(err.Error(), "not supported") {
			return nil, err
		}
	}
	if convErr != nil {
		return nil, convErr
	}
	return out, ctx.Err()
}

func dedupe(rs []sdn.Route) []sdn.Route {
	slices.SortFunc(rs, func(a, b sdn.Route) int {
		if c := comparePrefix(a.Prefix, b.Prefix); c != 0 {
			return c
		}
		if c := compareUint(a.RD.Admin, b.RD.Admin); c != 0 {
			return c
		}
		return compareUint(a.RD.Assigned, b.RD.Assigned)
	})
	return slices.CompactFunc(rs, func(a, b sdn.Route) bool { return a.Prefix == b.Prefix && a.RD == b.RD })
}

func compareUint(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AdvertisedRoutes implements sdn.RouteController: the routes this
// speaker originates with the VRF's RD.
func (r *RouteController) AdvertisedRoutes(ctx context.Context, vrf string) ([]sdn.Route, error) {
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	v, err := r.existingVRF(ctx, vrf)
	if err != nil {
		return nil, err
	}
	all, err := r.listVPN(ctx)
	if err != nil {
		return nil, err
	}
	var out []sdn.Route
	for _, x := range all {
		if x.local && x.route.RD == v.rd {
			out = append(out, x.route)
		}
	}
	return dedupe(out), nil
}

// ReceivedRoutes implements sdn.RouteController: routes of other RDs, in
// a family the VRF's instance activates, carrying a target the VRF
// imports. A VRF without an instance receives nothing.
func (r *RouteController) ReceivedRoutes(ctx context.Context, vrf string) ([]sdn.Route, error) {
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	v, err := r.existingVRF(ctx, vrf)
	if err != nil {
		return nil, err
	}
	inst := r.inst[vrf]
	if inst == nil {
		return nil, nil
	}
	all, err := r.listVPN(ctx)
	if err != nil {
		return nil, err
	}
	var out []sdn.Route
	for _, x := range all {
		if x.route.RD == v.rd || !slices.Contains(inst.Families, x.family) {
			continue
		}
		if slices.ContainsFunc(x.route.RTs, func(t sdn.RouteTarget) bool { return slices.Contains(v.imp, t) }) {
			out = append(out, x.route)
		}
	}
	return dedupe(out), nil
}

// ListVRFs implements sdn.VRFLister: the speaker's VRFs, each with the
// instance this adapter bound to it and the networks actually originated.
func (r *RouteController) ListVRFs(ctx context.Context) ([]sdn.VRFState, error) {
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	vrfs, err := r.listVRFs(ctx, "")
	if err != nil {
		return nil, err
	}
	states := make([]sdn.VRFState, 0, len(vrfs))
	for name, v := range vrfs {
		spec := r.vrfs[name]
		spec.Name, spec.RD, spec.ImportRTs, spec.ExportRTs = name, v.rd, v.imp, v.exp
		states = append(states, sdn.VRFState{VRF: spec})
	}
	if len(states) == 0 {
		return nil, ctx.Err()
	}
	all, err := r.listVPN(ctx)
	if err != nil {
		return nil, err
	}
	for i := range states {
		inst := r.inst[states[i].VRF.Name]
		if inst == nil {
			continue
		}
		b := *inst
		// A network is originated when every family of the instance that
		// carries its IP version has its route: one missing (withdrawn
		// behind the adapter's back) is drift for Reconcile to repair.
		type key struct {
			p netip.Prefix
			f sdn.AddressFamily
		}
		have := map[key]bool{}
		b.Networks = nil
		for _, x := range all {
			if x.local && x.route.RD == states[i].VRF.RD && slices.Contains(b.Families, x.family) {
				have[key{x.route.Prefix, x.family}] = true
				b.Networks = append(b.Networks, x.route.Prefix)
			}
		}
		b.Networks = slices.DeleteFunc(b.Networks, func(p netip.Prefix) bool {
			return slices.ContainsFunc(b.Families, func(f sdn.AddressFamily) bool { return f.Carries(p) && !have[key{p, f}] })
		})
		slices.SortFunc(b.Networks, comparePrefix)
		b.Networks = slices.Compact(b.Networks)
		states[i].BGP = &b
	}
	return states, nil
}

var _ = errors.New

// ReceivedByVRF is ReceivedRoutes for every VRF at once, reading the
// speaker's tables once: cheaper than one call per VRF when a partition
// holds many.
func (r *RouteController) ReceivedByVRF(ctx context.Context) (map[string][]sdn.Route, error) {
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	vrfs, err := r.listVRFs(ctx, "")
	if err != nil {
		return nil, err
	}
	byRT := map[sdn.RouteTarget][]string{}
	for name, v := range vrfs {
		if r.inst[name] == nil {
			continue
		}
		for _, rt := range v.imp {
			byRT[rt] = append(byRT[rt], name)
		}
	}
	all, err := r.listVPN(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]sdn.Route{}
	for _, x := range all {
		seen := map[string]bool{}
		for _, rt := range x.route.RTs {
			for _, name := range byRT[rt] {
				if seen[name] || vrfs[name].rd == x.route.RD || !slices.Contains(r.inst[name].Families, x.family) {
					continue
				}
				seen[name] = true
				out[name] = append(out[name], x.route)
			}
		}
	}
	for name := range out {
		out[name] = dedupe(out[name])
	}
	return out, nil
}

// Package gobgp implements sdn.RouteController on an embedded GoBGP v4
// speaker (github.com/osrg/gobgp/v4), so that the sdn package's
// region-interconnect Controller drives real BGP: one speaker per
// partition, VRFs with RDs and route targets, and tenant prefixes carried
// between partitions as VPN-IPv4 routes (RFC 4364), VPN-IPv6 routes (RFC
// 4659) and EVPN type-5 IP prefix routes (RFC 9136).
//
// IPv4 and IPv6: an instance's IPv4 networks go out as VPN-IPv4 with
// sdn.FamilyL3VPNIPv4, its IPv6 networks as VPN-IPv6 with
// sdn.FamilyL3VPNIPv6 (next hop the router ID's IPv4-mapped IPv6 address,
// RFC 4659 section 3.2.1.1), both as EVPN IP prefix routes with
// sdn.FamilyEVPN (gateway 0.0.0.0 or ::). EnsureBGPInstance refuses a
// network none of the instance's families carries with an error wrapping
// sdn.ErrInvalid, before it changes anything.
//
// # Mapping
//
//   - EnsureVRF / DeleteVRF: GoBGP AddVrf / DeleteVrf (name, RD, import
//     and export route targets). A VRF whose RD or targets change is
//     re-created and its networks re-originated.
//   - EnsureBGPInstance: the VRF's networks are originated with AddPath on
//     the VRF (GoBGP stamps the VRF's RD and export targets); with the EVPN
//     family an IP prefix route carrying the VRF's VNI as its label is
//     originated too, with the VXLAN encapsulation and the Router's MAC
//     extended communities (Config.RouterMAC; RFC 9136 section 4.4.1
//     requires the latter over VXLAN, and receivers such as FRR take the
//     inner destination MAC from it). Neighbours are GoBGP peers with the VPN and EVPN
//     families enabled, shared by every instance that lists them. Networks
//     no longer listed are withdrawn.
//   - AdvertisedRoutes / ReceivedRoutes: read from the global VPN-IPv4,
//     VPN-IPv6 and EVPN tables with ListPath, selecting the VRF's own RD,
//     or routes of other RDs whose targets the VRF imports.
//   - ListVRFs (sdn.VRFLister): GoBGP's VRFs with the instances this
//     adapter bound, so sdn.Controller.Reconcile finds a restarted speaker
//     empty and rebuilds it.
//   - Peer state changes from WatchEvent reach Config.OnPeerEvent.
//
// # Sessions between two of these speakers
//
// When both ends of a session are configured at once — as
// sdn.Controller does for the partitions of an interconnect — both
// speakers connect out together and their connections collide (RFC 4271
// section 6.8). GoBGP v4.8.0 can leave both ends of such a collision in
// OpenConfirm, each waiting for a KEEPALIVE on a connection the other no
// longer reads, until the 30 s hold time expires; often they then collide
// again. Two defences: Config.OneSidedOpen lets only the end with the
// lower address connect out, so a mesh of these speakers never collides;
// and without it, a session that waits in OpenConfirm for longer than
// OpenConfirmStall is deleted and re-added, which discards both
// connections (seen in tests: routes 5–12 s after a collision instead of
// 30–60 s and more).
//
// A GoBGP speaker has one AS and router ID: every BGPSpec given to a
// RouteController must carry the ones of its Config.
//
// This package is its own module so that GoBGP's dependencies (gRPC,
// protobuf and more) never reach a user who imports only the core library.
package gobgp

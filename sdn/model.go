package sdn

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Limits on identifiers and sizes an operator or API caller controls.
const (
	MaxIDBytes          = 48   // tenant and partition identifiers
	MaxPrefixesPerRoute = 1024 // prefixes of one virtual router
	MaxExtraRTs         = 16   // manual import or export RTs of one tenant
	MaxNeighbors        = 64   // BGP neighbours of one instance
)

// validID reports whether s is a usable tenant or partition identifier:
// 1 to MaxIDBytes bytes of [a-z0-9-], starting with a letter or digit. Such
// identifiers are safe in VRF names and rendered configuration.
func validID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDBytes || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidASN reports whether asn may identify a partition or the core:
// not 0 (RFC 7607), not AS_TRANS 23456 (RFC 6793), not 65535 or
// 4294967295 (RFC 7300), not the documentation ranges 64496–64511 and
// 65536–65551 (RFC 5398), and not the reserved block 65552–131071 (IANA).
func ValidASN(asn uint32) bool {
	switch {
	case asn == 0, asn == 23456, asn == 65535, asn == 4294967295:
		return false
	case asn >= 64496 && asn <= 64511, asn >= 65536 && asn <= 65551, asn >= 65552 && asn <= 131071:
		return false
	}
	return true
}

// Partition is one network partition of the region (often one SDN vendor's
// domain) with its own routing gear, reached through a RouteController.
type Partition struct {
	ID       string     // identifier, [a-z0-9-], 1 to MaxIDBytes bytes
	ASN      uint32     // the partition's BGP AS number (see ValidASN)
	RouterID netip.Addr // IPv4 BGP router ID of the partition's core-facing router
	Kind     string     // free-form vendor or platform label ("frr", "tungsten", …)
}

// Validate checks the identifier, AS number and router ID; errors wrap ErrInvalid.
func (p Partition) Validate() error {
	if !validID(p.ID) {
		return fmt.Errorf("%w: partition id %q", ErrInvalid, truncate(p.ID))
	}
	if !ValidASN(p.ASN) {
		return fmt.Errorf("%w: partition %s: AS %d is reserved", ErrInvalid, p.ID, p.ASN)
	}
	if !p.RouterID.Is4() || p.RouterID.IsUnspecified() {
		return fmt.Errorf("%w: partition %s: router id %v is not a usable IPv4 address", ErrInvalid, p.ID, p.RouterID)
	}
	if len(p.Kind) > MaxIDBytes {
		return fmt.Errorf("%w: partition %s: kind of %d bytes", ErrInvalid, p.ID, len(p.Kind))
	}
	return nil
}

// TenantSpec is what an operator asks for when creating a tenant. Zero
// fields are allocated by the controller.
type TenantSpec struct {
	ID   string // identifier, [a-z0-9-], 1 to MaxIDBytes bytes
	Name string // display name (free text, at most 256 bytes)
	// VNI requests a specific VXLAN network identifier (0: allocate).
	VNI uint32
	// VLAN requests a specific VLAN (0: none unless Config.AllocateVLANs).
	VLAN uint16
	// RouteTarget requests the tenant's own RT (zero: allocate from the
	// auto range). A manual value must lie outside Config.AutoRTRange.
	RouteTarget RouteTarget
	// ExtraImportRTs and ExtraExportRTs add manual route targets (for
	// example to reach a shared-services VRF). An import RT that another
	// tenant exports is a conflict: it would leak that tenant's routes.
	ExtraImportRTs, ExtraExportRTs []RouteTarget
}

func (s TenantSpec) validate() error {
	if !validID(s.ID) {
		return fmt.Errorf("%w: tenant id %q", ErrInvalid, truncate(s.ID))
	}
	if len(s.Name) > 256 {
		return fmt.Errorf("%w: tenant %s: name of %d bytes", ErrInvalid, s.ID, len(s.Name))
	}
	if s.VNI > MaxVNI {
		return fmt.Errorf("%w: tenant %s: VNI %d > %d", ErrInvalid, s.ID, s.VNI, MaxVNI)
	}
	if s.VLAN > MaxVLAN {
		return fmt.Errorf("%w: tenant %s: VLAN %d > %d", ErrInvalid, s.ID, s.VLAN, MaxVLAN)
	}
	if !s.RouteTarget.IsZero() {
		if err := s.RouteTarget.Validate(); err != nil {
			return fmt.Errorf("tenant %s: %w", s.ID, err)
		}
	}
	if len(s.ExtraImportRTs) > MaxExtraRTs || len(s.ExtraExportRTs) > MaxExtraRTs {
		return fmt.Errorf("%w: tenant %s: more than %d extra route targets", ErrInvalid, s.ID, MaxExtraRTs)
	}
	for _, rt := range slices.Concat(s.ExtraImportRTs, s.ExtraExportRTs) {
		if err := rt.Validate(); err != nil {
			return fmt.Errorf("tenant %s: %w", s.ID, err)
		}
	}
	return nil
}

func (s TenantSpec) equal(o TenantSpec) bool {
	return s.ID == o.ID && s.Name == o.Name && s.VNI == o.VNI && s.VLAN == o.VLAN &&
		s.RouteTarget == o.RouteTarget && slices.Equal(s.ExtraImportRTs, o.ExtraImportRTs) &&
		slices.Equal(s.ExtraExportRTs, o.ExtraExportRTs)
}

// VirtualRouter is a tenant's router in one partition and the prefixes
// behind it, which the tenant's other routers must reach.
type VirtualRouter struct {
	Partition string         // partition ID
	Tenant    string         // tenant ID
	Prefixes  []netip.Prefix // prefixes behind the router (masked, IPv4 or IPv6)
}

// Binding is what the controller allocated and bound for a tenant.
type Binding struct {
	VNI  uint32 // VXLAN network identifier in the core (24 bits)
	VLAN uint16 // optional VLAN (0: none)
	VRF  string // VRF name on every partition (VRFName of the tenant ID)
	// RD is the route distinguisher per partition ID: type 1,
	// router-ID:number, unique per VRF as RFC 4364 recommends.
	RD        map[string]RouteDistinguisher
	ImportRTs []RouteTarget // route targets the VRF imports
	ExportRTs []RouteTarget // route targets the VRF exports
	// BGPInstance names the BGP instance bound to the VRF (the VRF name:
	// "router bgp ASN vrf NAME").
	BGPInstance string
}

// Clone returns a deep copy of b.
func (b Binding) Clone() Binding {
	c := b
	if b.RD != nil {
		c.RD = make(map[string]RouteDistinguisher, len(b.RD))
		for k, v := range b.RD {
			c.RD[k] = v
		}
	}
	c.ImportRTs = slices.Clone(b.ImportRTs)
	c.ExportRTs = slices.Clone(b.ExportRTs)
	return c
}

// AddressFamily is a BGP address family a protocol instance activates.
type AddressFamily uint8

// The address families the controller uses between partitions.
const (
	// FamilyL3VPNIPv4 is VPN-IPv4 (AFI 1, SAFI 128, RFC 4364).
	FamilyL3VPNIPv4 AddressFamily = iota + 1
	// FamilyEVPN is L2VPN EVPN (AFI 25, SAFI 70) with type-5 IP prefix
	// routes (RFC 9136), for IPv4 and IPv6 prefixes alike.
	FamilyEVPN
	// FamilyL3VPNIPv6 is VPN-IPv6 (AFI 2, SAFI 128, RFC 4659): a tenant's
	// IPv6 prefixes carried as FamilyL3VPNIPv4 carries its IPv4 ones, with
	// the same RD and route targets.
	FamilyL3VPNIPv6
)

// valid reports whether f is one of the families above.
func (f AddressFamily) valid() bool { return f >= FamilyL3VPNIPv4 && f <= FamilyL3VPNIPv6 }

// Carries reports whether the family carries prefixes of p's IP version:
// FamilyL3VPNIPv4 IPv4, FamilyL3VPNIPv6 IPv6, FamilyEVPN both.
func (f AddressFamily) Carries(p netip.Prefix) bool {
	switch f {
	case FamilyL3VPNIPv4:
		return p.Addr().Is4()
	case FamilyL3VPNIPv6:
		return p.Addr().Is6()
	case FamilyEVPN:
		return p.IsValid()
	}
	return false
}

// String names f as FRR does.
func (f AddressFamily) String() string {
	switch f {
	case FamilyL3VPNIPv4:
		return "ipv4 vpn"
	case FamilyEVPN:
		return "l2vpn evpn"
	case FamilyL3VPNIPv6:
		return "ipv6 vpn"
	}
	return fmt.Sprintf("AddressFamily(%d)", uint8(f))
}

// VRFSpec is one VRF as a RouteController must create it.
type VRFSpec struct {
	Name      string             // VRF name
	VNI       uint32             // L3 VNI bound to the VRF (0: none)
	VLAN      uint16             // optional VLAN (0: none)
	RD        RouteDistinguisher // the VRF's RD on this partition
	ImportRTs []RouteTarget      // sorted, no duplicates
	ExportRTs []RouteTarget      // sorted, no duplicates
}

// Equal reports whether two specs describe the same VRF.
func (v VRFSpec) Equal(o VRFSpec) bool {
	return v.Name == o.Name && v.VNI == o.VNI && v.VLAN == o.VLAN && v.RD == o.RD &&
		slices.Equal(v.ImportRTs, o.ImportRTs) && slices.Equal(v.ExportRTs, o.ExportRTs)
}

// Neighbor is a BGP peer of a protocol instance.
type Neighbor struct {
	Address netip.Addr // peer address
	ASN     uint32     // peer AS
}

// BGPSpec is a BGP protocol instance bound to a VRF.
type BGPSpec struct {
	VRF       string          // the VRF the instance is bound to
	ASN       uint32          // local AS (the partition's)
	RouterID  netip.Addr      // BGP router ID
	Neighbors []Neighbor      // peers (the core's route reflectors)
	Families  []AddressFamily // activated families, sorted
	// Networks are the prefixes the instance originates into the VRF (the
	// tenant's routers' prefixes in this partition), sorted.
	Networks []netip.Prefix
}

// Equal reports whether two specs describe the same instance.
func (b BGPSpec) Equal(o BGPSpec) bool {
	return b.VRF == o.VRF && b.ASN == o.ASN && b.RouterID == o.RouterID &&
		slices.Equal(b.Neighbors, o.Neighbors) && slices.Equal(b.Families, o.Families) &&
		slices.Equal(b.Networks, o.Networks)
}

// Route is a route in a VRF as a RouteController reports it.
type Route struct {
	Prefix netip.Prefix       // the destination
	RD     RouteDistinguisher // the RD of the VRF that originated it
	RTs    []RouteTarget      // the route targets it carries
	Origin string             // partition ID where it was originated ("" if unknown)
}

// Op names a RouteController call.
type Op uint8

// The RouteController calls, in the order teardown uses them last to first.
const (
	OpEnsureVRF Op = iota + 1
	OpEnsureBGP
	OpWithdraw // EnsureBGPInstance with no networks
	OpDeleteBGP
	OpDeleteVRF
	OpList // VRFLister.ListVRFs, during Reconcile
)

// String names the call.
func (o Op) String() string {
	switch o {
	case OpEnsureVRF:
		return "EnsureVRF"
	case OpEnsureBGP:
		return "EnsureBGPInstance"
	case OpWithdraw:
		return "WithdrawRoutes"
	case OpDeleteBGP:
		return "DeleteBGPInstance"
	case OpDeleteVRF:
		return "DeleteVRF"
	case OpList:
		return "ListVRFs"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Change is one call a Plan or Reconcile makes on a partition.
type Change struct {
	Partition string   // partition ID
	Tenant    string   // tenant ID
	Op        Op       // the call
	VRF       *VRFSpec // for OpEnsureVRF
	BGP       *BGPSpec // for OpEnsureBGP and OpWithdraw
	Name      string   // VRF name for the delete operations
}

// String describes the change in one line.
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", c.Partition, c.Op, c.Name)
	switch {
	case c.VRF != nil:
		fmt.Fprintf(&b, " vni %d rd %s import %v export %v", c.VRF.VNI, c.VRF.RD, c.VRF.ImportRTs, c.VRF.ExportRTs)
	case c.BGP != nil:
		fmt.Fprintf(&b, " as %d networks %v", c.BGP.ASN, c.BGP.Networks)
	}
	return b.String()
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// Validate checks the name, identifiers and route targets; errors wrap ErrInvalid.
func (v VRFSpec) Validate() error {
	if !validID(v.Name) {
		return fmt.Errorf("%w: VRF name %q", ErrInvalid, truncate(v.Name))
	}
	if v.VNI > MaxVNI || v.VLAN > MaxVLAN {
		return fmt.Errorf("%w: VRF %s: VNI %d or VLAN %d out of range", ErrInvalid, v.Name, v.VNI, v.VLAN)
	}
	if err := v.RD.Validate(); err != nil {
		return fmt.Errorf("VRF %s: %w", v.Name, err)
	}
	if len(v.ImportRTs) > MaxExtraRTs+1 || len(v.ExportRTs) > MaxExtraRTs+1 {
		return fmt.Errorf("%w: VRF %s: too many route targets", ErrInvalid, v.Name)
	}
	for _, rt := range slices.Concat(v.ImportRTs, v.ExportRTs) {
		if err := rt.Validate(); err != nil {
			return fmt.Errorf("VRF %s: %w", v.Name, err)
		}
	}
	return nil
}

// Validate checks the instance; errors wrap ErrInvalid.
func (b BGPSpec) Validate() error {
	if !validID(b.VRF) {
		return fmt.Errorf("%w: BGP instance VRF name %q", ErrInvalid, truncate(b.VRF))
	}
	if !ValidASN(b.ASN) {
		return fmt.Errorf("%w: BGP instance %s: AS %d is reserved", ErrInvalid, b.VRF, b.ASN)
	}
	if !b.RouterID.Is4() || b.RouterID.IsUnspecified() {
		return fmt.Errorf("%w: BGP instance %s: router id %v", ErrInvalid, b.VRF, b.RouterID)
	}
	if len(b.Neighbors) > MaxNeighbors {
		return fmt.Errorf("%w: BGP instance %s: %d neighbours > %d", ErrInvalid, b.VRF, len(b.Neighbors), MaxNeighbors)
	}
	for _, n := range b.Neighbors {
		if !n.Address.IsValid() || !ValidASN(n.ASN) {
			return fmt.Errorf("%w: BGP instance %s: neighbour %v AS %d", ErrInvalid, b.VRF, n.Address, n.ASN)
		}
	}
	for _, f := range b.Families {
		if !f.valid() {
			return fmt.Errorf("%w: BGP instance %s: %v", ErrInvalid, b.VRF, f)
		}
	}
	if len(b.Networks) > MaxPrefixesPerRoute*8 {
		return fmt.Errorf("%w: BGP instance %s: %d networks", ErrInvalid, b.VRF, len(b.Networks))
	}
	for _, p := range b.Networks {
		if !p.IsValid() || p.Masked() != p {
			return fmt.Errorf("%w: BGP instance %s: network %v is not a masked prefix", ErrInvalid, b.VRF, p)
		}
	}
	return nil
}

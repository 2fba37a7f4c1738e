package sdn

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// RenderFRR renders the FRRouting configuration (frr.conf syntax, FRR 8 and
// later) of one partition: a default BGP instance peering with the core's
// neighbours for the EVPN, VPN-IPv4 and VPN-IPv6 families, then per tenant VRF
//
//	vrf NAME / vni VNI            the L3 VNI binding
//	router bgp ASN vrf NAME       the protocol instance bound to the VRF
//	  address-family ipv4 unicast   networks; rd/rt vpn; import/export vpn
//	  address-family ipv6 unicast   the same for IPv6 (VPN-IPv6, RFC 4659)
//	  address-family l2vpn evpn     advertise ipv4 unicast; rd; route-target
//
// States are rendered sorted by VRF name, so the output is deterministic
// (the golden tests compare it byte for byte). VRFs without a BGP instance
// get only their vrf block.
func RenderFRR(p Partition, neighbors []Neighbor, states []VRFState) string {
	var b strings.Builder
	states = slices.Clone(states)
	slices.SortFunc(states, func(x, y VRFState) int { return cmp.Compare(x.VRF.Name, y.VRF.Name) })
	fams := map[AddressFamily]bool{}
	for _, s := range states {
		if s.BGP != nil {
			for _, f := range s.BGP.Families {
				fams[f] = true
			}
		}
	}
	fmt.Fprintf(&b, "! partition %s (%s), AS %d, %d VRFs — rendered by payedge/sdn\n", p.ID, p.Kind, p.ASN, len(states))
	b.WriteString("frr defaults datacenter\n!\n")
	for _, s := range states {
		fmt.Fprintf(&b, "vrf %s\n", s.VRF.Name)
		if s.VRF.VNI != 0 {
			fmt.Fprintf(&b, " vni %d\n", s.VRF.VNI)
		}
		if s.VRF.VLAN != 0 {
			// The VLAN of the L3 VNI's SVI lives in the kernel bridge, not in frr.conf.
			fmt.Fprintf(&b, " ! SVI VLAN %d (kernel bridge)\n", s.VRF.VLAN)
		}
		b.WriteString("exit-vrf\n!\n")
	}
	fmt.Fprintf(&b, "router bgp %d\n", p.ASN)
	fmt.Fprintf(&b, " bgp router-id %s\n", p.RouterID)
	b.WriteString(" no bgp default ipv4-unicast\n")
	for _, n := range neighbors {
		fmt.Fprintf(&b, " neighbor %s remote-as %d\n", n.Address, n.ASN)
	}
	if fams[FamilyL3VPNIPv4] {
		b.WriteString(" !\n address-family ipv4 vpn\n")
		for _, n := range neighbors {
			fmt.Fprintf(&b, "  neighbor %s activate\n", n.Address)
		}
		b.WriteString(" exit-address-family\n")
	}
	if fams[FamilyL3VPNIPv6] {
		b.WriteString(" !\n address-family ipv6 vpn\n")
		for _, n := range neighbors {
			fmt.Fprintf(&b, "  neighbor %s activate\n", n.Address)
		}
		b.WriteString(" exit-address-family\n")
	}
	if fams[FamilyEVPN] {
		b.WriteString(" !\n address-family l2vpn evpn\n")
		for _, n := range neighbors {
			fmt.Fprintf(&b, "  neighbor %s activate\n", n.Address)
		}
		b.WriteString("  advertise-all-vni\n exit-address-family\n")
	}
	b.WriteString("exit\n!\n")
	for _, s := range states {
		if s.BGP == nil {
			continue
		}
		v, g := s.VRF, s.BGP
		fmt.Fprintf(&b, "router bgp %d vrf %s\n", g.ASN, v.Name)
		fmt.Fprintf(&b, " bgp router-id %s\n", g.RouterID)
		b.WriteString(" no bgp default ipv4-unicast\n !\n address-family ipv4 unicast\n")
		for _, n := range g.Networks {
			if n.Addr().Is4() {
				fmt.Fprintf(&b, "  network %s\n", n)
			}
		}
		if slices.Contains(g.Families, FamilyL3VPNIPv4) {
			writeFRRVPN(&b, v)
		}
		b.WriteString(" exit-address-family\n")
		if vpn6 := slices.Contains(g.Families, FamilyL3VPNIPv6); has6(g) || vpn6 {
			// With VPN-IPv6 the block is needed even without local IPv6
			// networks: "import vpn" brings the other partitions' ones.
			b.WriteString(" !\n address-family ipv6 unicast\n")
			for _, n := range g.Networks {
				if !n.Addr().Is4() {
					fmt.Fprintf(&b, "  network %s\n", n)
				}
			}
			if vpn6 {
				writeFRRVPN(&b, v)
			}
			b.WriteString(" exit-address-family\n")
		}
		if slices.Contains(g.Families, FamilyEVPN) {
			b.WriteString(" !\n address-family l2vpn evpn\n  advertise ipv4 unicast\n")
			if has6(g) {
				b.WriteString("  advertise ipv6 unicast\n")
			}
			writeFRRRD(&b, "  rd ", v.RD)
			writeFRRRTs(&b, "  route-target import ", v.ImportRTs, false)
			writeFRRRTs(&b, "  route-target export ", v.ExportRTs, false)
			b.WriteString(" exit-address-family\n")
		}
		b.WriteString("exit\n!\n")
	}
	return b.String()
}

// writeFRRVPN writes the VRF's leaking to and from the VPN table of an
// address family block (RFC 4364 for IPv4, RFC 4659 for IPv6): the same
// RD and route targets for both.
func writeFRRVPN(b *strings.Builder, v VRFSpec) {
	writeFRRRD(b, "  rd vpn export ", v.RD)
	b.WriteString("  label vpn export auto\n")
	writeFRRRTs(b, "  rt vpn import ", v.ImportRTs, true)
	writeFRRRTs(b, "  rt vpn export ", v.ExportRTs, true)
	b.WriteString("  export vpn\n  import vpn\n")
}

func has6(g *BGPSpec) bool {
	return slices.ContainsFunc(g.Networks, func(n netip.Prefix) bool { return !n.Addr().Is4() })
}

// frrText writes an RD or RT value as FRR 8 and later parse it: FRR picks
// the layout from the AS's value (type 2 above 65535) and does not know
// asdot before FRR 9, so a four-octet AS is written in asplain. ok is
// false for the four-octet layout with an AS below 65536, which FRR
// cannot express (it would configure the type 0 value instead).
func frrText(typ uint8, admin, assigned uint32, canonical string) (string, bool) {
	if typ != TypeAS4 {
		return canonical, true
	}
	return fmt.Sprintf("%d:%d", admin, assigned), admin > 0xffff
}

func writeFRRRD(b *strings.Builder, prefix string, rd RouteDistinguisher) {
	if s, ok := frrText(rd.Type, rd.Admin, rd.Assigned, rd.String()); ok {
		fmt.Fprintf(b, "%s%s\n", prefix, s)
		return
	}
	fmt.Fprintf(b, "  ! %s: not rendered: FRR cannot configure a type 2 RD %s with an AS below 65536\n", strings.TrimSpace(prefix), rd)
}

// writeFRRRTs writes the route targets FRR can express on one line (or,
// when oneLine is false, one line each) and a comment naming those it
// cannot, rather than let FRR silently import or export a different value.
func writeFRRRTs(b *strings.Builder, prefix string, rts []RouteTarget, oneLine bool) {
	var ok, bad []string
	for _, rt := range rts {
		if s, fits := frrText(rt.Type, rt.Admin, rt.Assigned, rt.String()); fits {
			ok = append(ok, s)
		} else {
			bad = append(bad, rt.String())
		}
	}
	switch {
	case len(ok) == 0:
	case oneLine:
		fmt.Fprintf(b, "%s%s\n", prefix, strings.Join(ok, " "))
	default:
		for _, s := range ok {
			fmt.Fprintf(b, "%s%s\n", prefix, s)
		}
	}
	for _, s := range bad {
		fmt.Fprintf(b, "  ! %s: not rendered: FRR cannot configure a type 2 route target %s with an AS below 65536\n", strings.TrimSpace(prefix), s)
	}
}

// RenderFRR renders the configuration the controller intends for a
// partition (see the package-level RenderFRR), or ErrUnknownPartition.
func (c *Controller) RenderFRR(partitionID string) (string, error) {
	if err := c.ready(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pi := slices.IndexFunc(c.parts, func(p Partition) bool { return p.ID == partitionID })
	if pi < 0 {
		return "", fmt.Errorf("%w: %q", ErrUnknownPartition, truncate(partitionID))
	}
	var states []VRFState
	part := c.parts[pi]
	for _, st := range c.expected(pi) {
		states = append(states, st)
	}
	return RenderFRR(part, c.cfg.Neighbors[partitionID], states), nil
}

package sdn

import (
	"fmt"
	"net/netip"
	"slices"
)

// Config configures a Controller. The zero value is usable: every zero
// field takes the default DefaultConfig shows (a controller with no
// partitions can create tenants but attach no routers).
type Config struct {
	// CoreASN is the AS number used as administrator of auto-allocated
	// route targets (type 0 when it fits in 2 bytes, type 2 otherwise).
	// Default 64512 (the first private AS).
	CoreASN uint32
	// Partitions are the region's partitions; each needs a RouteController.
	Partitions []Partition
	// Neighbors lists, per partition ID, the BGP peers (the core's route
	// reflectors) of every tenant's instance in that partition.
	Neighbors map[string][]Neighbor
	// Families are the address families activated on every instance
	// (default L3VPN-IPv4, L3VPN-IPv6 and EVPN). A tenant's IPv6 prefixes
	// need FamilyL3VPNIPv6 or FamilyEVPN to cross partitions.
	Families []AddressFamily
	// VNIRange is the VNI auto-allocation range (default 10000–16777215).
	// A manual VNI may lie outside it.
	VNIRange Range
	// AllocateVLANs gives every tenant a VLAN from VLANRange.
	AllocateVLANs bool
	// VLANRange is the VLAN auto-allocation range (default 100–4094).
	VLANRange Range
	// AutoRTRange is the range of assigned numbers of auto-allocated route
	// targets CoreASN:N (default 8000000–8999999, as Tungsten Fabric
	// reserves; 8000–65535 when CoreASN needs four octets, whose route
	// targets have a two-octet number); manual route targets of CoreASN
	// may not use it.
	AutoRTRange Range
	// RDRange is the range of assigned numbers of the per-partition route
	// distinguishers RouterID:N (default 1–65535).
	RDRange Range
}

// DefaultConfig returns the defaults the zero Config selects.
func DefaultConfig() Config { return Config{}.withDefaults() }

func (c Config) withDefaults() Config {
	if c.CoreASN == 0 {
		c.CoreASN = 64512
	}
	if len(c.Families) == 0 {
		c.Families = []AddressFamily{FamilyL3VPNIPv4, FamilyL3VPNIPv6, FamilyEVPN}
	}
	if c.VNIRange == (Range{}) {
		c.VNIRange = Range{10000, MaxVNI}
	}
	if c.VLANRange == (Range{}) {
		c.VLANRange = Range{100, MaxVLAN}
	}
	if c.AutoRTRange == (Range{}) {
		c.AutoRTRange = Range{8000000, 8999999}
		if c.CoreASN > 0xffff {
			// A four-octet AS leaves two octets for the number (RFC 5668).
			c.AutoRTRange = Range{8000, 0xffff}
		}
	}
	if c.RDRange == (Range{}) {
		c.RDRange = Range{1, 65535}
	}
	return c
}

// Validate reports whether c is usable; errors wrap ErrInvalid.
func (c Config) Validate() error {
	c = c.withDefaults()
	if !ValidASN(c.CoreASN) {
		return fmt.Errorf("%w: core AS %d is reserved", ErrInvalid, c.CoreASN)
	}
	ids := map[string]bool{}
	routerIDs := map[netip.Addr]string{}
	for _, p := range c.Partitions {
		if err := p.Validate(); err != nil {
			return err
		}
		if ids[p.ID] {
			return fmt.Errorf("%w: partition %s listed twice", ErrInvalid, p.ID)
		}
		ids[p.ID] = true
		// RDs are RouterID:N, numbered per partition: a shared router ID
		// would hand two tenants the same RD (RFC 4364 §4.2).
		if o, dup := routerIDs[p.RouterID]; dup {
			return fmt.Errorf("%w: partitions %s and %s share router id %v", ErrInvalid, o, p.ID, p.RouterID)
		}
		routerIDs[p.RouterID] = p.ID
	}
	for id, ns := range c.Neighbors {
		if !ids[id] {
			return fmt.Errorf("%w: neighbours for partition %q", ErrUnknownPartition, truncate(id))
		}
		if len(ns) > MaxNeighbors {
			return fmt.Errorf("%w: partition %s: %d neighbours", ErrInvalid, id, len(ns))
		}
		for _, n := range ns {
			if !n.Address.IsValid() || !ValidASN(n.ASN) {
				return fmt.Errorf("%w: partition %s: neighbour %v AS %d", ErrInvalid, id, n.Address, n.ASN)
			}
		}
	}
	for _, f := range c.Families {
		if !f.valid() {
			return fmt.Errorf("%w: %v", ErrInvalid, f)
		}
	}
	check := func(name string, r, limit Range) error {
		if r.Lo > r.Hi || !limit.Contains(r.Lo) || !limit.Contains(r.Hi) {
			return fmt.Errorf("%w: %s %v not within %v", ErrInvalid, name, r, limit)
		}
		return nil
	}
	if err := check("VNIRange", c.VNIRange, Range{1, MaxVNI}); err != nil {
		return err
	}
	if err := check("VLANRange", c.VLANRange, Range{1, MaxVLAN}); err != nil {
		return err
	}
	rtLimit := Range{1, 0xffffffff}
	if c.CoreASN > 0xffff {
		rtLimit.Hi = 0xffff
	}
	if err := check("AutoRTRange", c.AutoRTRange, rtLimit); err != nil {
		return err
	}
	if c.AutoRTRange.Size() > maxPoolSize {
		return fmt.Errorf("%w: AutoRTRange %v holds more than %d values", ErrInvalid, c.AutoRTRange, maxPoolSize)
	}
	return check("RDRange", c.RDRange, Range{1, 0xffff})
}

// coreRT returns the route target CoreASN:n.
func (c Config) coreRT(n uint32) RouteTarget {
	if c.CoreASN > 0xffff {
		return RouteTarget{Type: TypeAS4, Admin: c.CoreASN, Assigned: n}
	}
	return RouteTarget{Type: TypeAS2, Admin: c.CoreASN, Assigned: n}
}

// isAutoRT reports whether rt falls in the auto-allocation range.
func (c Config) isAutoRT(rt RouteTarget) bool {
	return rt.Admin == c.CoreASN && (rt.Type == TypeAS2 || rt.Type == TypeAS4) && c.AutoRTRange.Contains(rt.Assigned)
}

func (c Config) families() []AddressFamily {
	f := slices.Clone(c.Families)
	slices.Sort(f)
	return slices.Compact(f)
}

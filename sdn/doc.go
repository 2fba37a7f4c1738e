// Package sdn is a region-interconnect (RI) controller: it joins the
// network partitions of a payment region — often built by different SDN
// vendors — so that each tenant's virtual routers in every partition reach
// each other directly over the core, and no tenant ever sees another's
// routes.
//
// When a tenant is created, the Controller gives it identifiers for its
// traffic in the core (a VXLAN VNI, RFC 7348; an optional VLAN; one route
// distinguisher per partition; a route target), creates a VRF for it on
// every partition and binds them, and binds a BGP protocol instance to the
// VRF with the VPN-IPv4 (RFC 4364), VPN-IPv6 (RFC 4659) and EVPN type-5
// (RFC 9136) families. Tenant networks may be IPv4 or IPv6; a prefix that
// none of the configured families carries is refused.
// Virtual routers attached to the tenant have their prefixes originated in
// their partition's instance; route targets carry them to the tenant's VRFs
// elsewhere (RFC 4364 section 4.3.1).
//
// # Parts
//
//   - Identifiers: RouteDistinguisher (RFC 4364 section 4.2) and
//     RouteTarget (RFC 4360 section 4, RFC 5668) with text and binary
//     forms (canonical text "65000:7", "192.0.2.1:7", and asdot+
//     "64086.59904:7" for a four-octet AS, as GoBGP writes it; FRR's
//     asplain "4200000000:7" and Junos's "65000L:7" are accepted); Pool allocates from explicit ranges, with an auto-allocation
//     range for route targets that manual values may not use.
//   - RouteController: what the controller needs from one partition's
//     routing gear. Fabric is the in-memory reference: several partitions
//     and a core that propagates routes by route-target import/export, so
//     connectivity and isolation are computed. RenderFRR emits a
//     partition's FRRouting configuration. The nested module sdn/gobgp
//     drives real BGP speakers.
//   - Store persists tenant records (MemoryStore in memory); a restarted
//     controller re-reserves exactly the identifiers recorded there.
//   - Controller: CreateTenant, AttachRouter, DetachRouter, DeleteTenant
//     (ordered teardown: withdraw routes, delete the BGP instance, delete
//     the VRF, release identifiers), Plan (dry run) and Reconcile (finish
//     pending work, repair drift). Every call is idempotent and safe for
//     concurrent use; a partial failure leaves a pending record that the
//     next Reconcile finishes.
//
// Package sdntest checks a host's own RouteController and Store.
//
// # Quick start
//
//	fabric, _ := sdn.NewFabric(partitions...)
//	ctl, err := sdn.NewController(ctx, sdn.Config{Partitions: partitions}, sdn.NewMemoryStore(), fabric.Routers())
//	if err != nil { return err }
//	if _, err := ctl.CreateTenant(ctx, sdn.TenantSpec{ID: "acme"}); err != nil { return err }
//	err = ctl.AttachRouter(ctx, "acme", sdn.VirtualRouter{Partition: "p1", Prefixes: prefixes})
//	// later, periodically:
//	rep, err := ctl.Reconcile(ctx)
package sdn

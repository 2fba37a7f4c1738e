// Command sdn tells the region-interconnect story: three network
// partitions from three vendors, twenty tenants that all use the same
// address plan, virtual routers attached and detached, a partition that
// fails half-way and a Reconcile that finishes the work. It prints the
// router-to-router reachability (every tenant reaches itself across
// partitions, no tenant reaches another), the identifiers each tenant got,
// and the FRRouting configuration rendered for one partition, and writes a
// PNG of the reachability matrix.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/sdn"
)

type config struct {
	Tenants  int    // number of tenants
	Out      string // directory for the plot and the rendered config; "" writes none
	FRRLines int    // lines of the rendered FRR config to print
}

func main() {
	var cfg config
	flag.IntVar(&cfg.Tenants, "tenants", 20, "number of tenants")
	flag.StringVar(&cfg.Out, "out", "out", "directory for the PNG plot and the rendered FRR config")
	flag.IntVar(&cfg.FRRLines, "frr-lines", 60, "lines of partition p1's FRR config to print")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sdn:", err)
		os.Exit(1)
	}
}

var partitions = []sdn.Partition{
	{ID: "p1", ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1"), Kind: "frr"},
	{ID: "p2", ASN: 65002, RouterID: netip.MustParseAddr("10.255.0.2"), Kind: "tungsten"},
	{ID: "p3", ASN: 65003, RouterID: netip.MustParseAddr("10.255.0.3"), Kind: "nsx"},
}

// flaky makes one partition's router fail while down is set.
type flaky struct {
	*sdn.FabricRouter
	down bool
}

var errDown = errors.New("partition controller unreachable")

func (f *flaky) EnsureVRF(ctx context.Context, s sdn.VRFSpec) error {
	if f.down {
		return errDown
	}
	return f.FabricRouter.EnsureVRF(ctx, s)
}

func (f *flaky) DeleteVRF(ctx context.Context, name string) error {
	if f.down {
		return errDown
	}
	return f.FabricRouter.DeleteVRF(ctx, name)
}

func (f *flaky) DeleteBGPInstance(ctx context.Context, vrf string) error {
	if f.down {
		return errDown
	}
	return f.FabricRouter.DeleteBGPInstance(ctx, vrf)
}

func (f *flaky) ListVRFs(ctx context.Context) ([]sdn.VRFState, error) {
	if f.down {
		return nil, errDown
	}
	return f.FabricRouter.ListVRFs(ctx)
}

func (f *flaky) Revision(ctx context.Context) (uint64, error) {
	if f.down {
		return 0, errDown
	}
	return f.FabricRouter.Revision(ctx)
}

func (f *flaky) EnsureBGPInstance(ctx context.Context, s sdn.BGPSpec) error {
	if f.down {
		return errDown
	}
	return f.FabricRouter.EnsureBGPInstance(ctx, s)
}

// routerKey is one virtual router: a tenant in a partition.
type routerKey struct {
	tenant string
	part   int
}

func tenantName(i int) string { return fmt.Sprintf("tenant-%02d", i) }

// plan is the address plan every tenant uses: 10.<partition>.0.0/16 and
// 2001:db8:<partition>::/48 (IPv6 crosses as VPN-IPv6 and EVPN).
func plan(part int) []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", part+1)),
		netip.MustParsePrefix(fmt.Sprintf("2001:db8:%d::/48", part+1)),
	}
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Tenants < 2 || cfg.Tenants > 500 {
		return fmt.Errorf("tenants %d not in [2, 500]", cfg.Tenants)
	}
	fabric, err := sdn.NewFabric(partitions...)
	if err != nil {
		return err
	}
	routers := map[string]sdn.RouteController{}
	flakies := map[string]*flaky{}
	for _, p := range partitions {
		r, _ := fabric.Router(p.ID)
		flakies[p.ID] = &flaky{FabricRouter: r}
		routers[p.ID] = flakies[p.ID]
	}
	store := sdn.NewMemoryStore()
	ccfg := sdn.Config{Partitions: partitions, Neighbors: map[string][]sdn.Neighbor{
		"p1": {{Address: netip.MustParseAddr("10.254.0.1"), ASN: 64512}},
	}}
	ctl, err := sdn.NewController(ctx, ccfg, store, routers)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Region: %d partitions (%s), %d tenants, every tenant with the address plan 10.<partition>.0.0/16 and 2001:db8:<partition>::/48\n\n",
		len(partitions), kinds(), cfg.Tenants)
	for i := range cfg.Tenants {
		if _, err := ctl.CreateTenant(ctx, sdn.TenantSpec{ID: tenantName(i)}); err != nil {
			return err
		}
		for pi, p := range partitions {
			if err := ctl.AttachRouter(ctx, tenantName(i), sdn.VirtualRouter{Partition: p.ID, Prefixes: plan(pi)}); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(w, "Identifiers (first three tenants):")
	for i := range min(3, cfg.Tenants) {
		rec, _ := ctl.Tenant(tenantName(i))
		b := rec.Binding
		fmt.Fprintf(w, "  %s  VRF %-12s VNI %d  RT %s  RD p1 %s  p2 %s  p3 %s\n", tenantName(i), b.VRF, b.VNI, b.ExportRTs[0], b.RD["p1"], b.RD["p2"], b.RD["p3"])
	}

	// Partition p3's controller goes down while some tenants change.
	flakies["p3"].down = true
	detached, deleted := 0, 0
	var failures int
	for i := 0; i < cfg.Tenants; i += 4 {
		if err := ctl.DetachRouter(ctx, tenantName(i), "p2"); err != nil {
			var ae *sdn.ApplyError
			if !errors.As(err, &ae) {
				return err
			}
			failures++
		}
		detached++
	}
	for i := 1; i < cfg.Tenants; i += 7 {
		if err := ctl.DeleteTenant(ctx, tenantName(i)); err != nil {
			var ae *sdn.ApplyError
			if !errors.As(err, &ae) {
				return err
			}
			failures++
		}
		deleted++
	}
	newTenant := tenantName(cfg.Tenants)
	if _, err := ctl.CreateTenant(ctx, sdn.TenantSpec{ID: newTenant}); err != nil {
		var ae *sdn.ApplyError
		if !errors.As(err, &ae) {
			return err
		}
		failures++
	}
	for pi, p := range partitions {
		if err := ctl.AttachRouter(ctx, newTenant, sdn.VirtualRouter{Partition: p.ID, Prefixes: plan(pi)}); err != nil {
			failures++
		}
	}
	plan, err := ctl.Plan(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWith p3 down: detached %d routers from p2, deleted %d tenants, created %s; %d calls failed on p3; %d changes pending:\n",
		detached, deleted, newTenant, failures, len(plan))
	for i, ch := range plan {
		if i == 4 {
			fmt.Fprintf(w, "  … %d more\n", len(plan)-4)
			break
		}
		fmt.Fprintf(w, "  %s\n", ch)
	}
	flakies["p3"].down = false
	// A restarted controller on the same store finishes the work.
	ctl, err = sdn.NewController(ctx, ccfg, store, routers)
	if err != nil {
		return err
	}
	rep, err := ctl.Reconcile(ctx)
	if err != nil {
		return err
	}
	again, err := ctl.Reconcile(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRestarted controller, p3 back: Reconcile made %d calls, settled %d tenants, %d pending; a second Reconcile made %d calls\n",
		len(rep.Changes), rep.Settled, rep.Pending, len(again.Changes))

	// Router-to-router reachability computed from the fabric's routes.
	keys, reach, err := reachability(ctx, ctl, fabric)
	if err != nil {
		return err
	}
	intra, intraOK, inter, leaks := 0, 0, 0, 0
	for i, a := range keys {
		for j, b := range keys {
			if i == j || a.part == b.part && a.tenant == b.tenant {
				continue
			}
			if a.tenant == b.tenant {
				intra++
				if reach[i][j] {
					intraOK++
				}
			} else {
				inter++
				if reach[i][j] {
					leaks++
				}
			}
		}
	}
	u := ctl.Usage()
	fmt.Fprintf(w, "\nReachability over %d routers of %d tenants:\n", len(keys), len(ctl.Tenants()))
	fmt.Fprintf(w, "  same tenant, other partition:   %d of %d router pairs reach each other\n", intraOK, intra)
	fmt.Fprintf(w, "  different tenants:              %d of %d router pairs reach each other (isolation)\n", leaks, inter)
	fmt.Fprintf(w, "  identifiers held: %d VNIs, %d route targets, RDs p1 %d p2 %d p3 %d (one per live tenant)\n",
		u.VNIs, u.RouteTargets, u.RDs["p1"], u.RDs["p2"], u.RDs["p3"])
	printMatrix(w, ctl, keys, reach)

	conf, err := ctl.RenderFRR("p1")
	if err != nil {
		return err
	}
	lines := excerpt(conf)
	fmt.Fprintf(w, "\nFRR configuration rendered for partition p1 (%d lines; the default instance and the first tenant):\n",
		strings.Count(conf, "\n"))
	for _, l := range lines[:min(cfg.FRRLines, len(lines))] {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if cfg.Out == "" {
		return nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "sdn_p1_frr.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	path := filepath.Join(cfg.Out, "sdn_reachability.png")
	if err := plotMatrix(path, keys, reach); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwrote %s and %s\n", path, filepath.Join(cfg.Out, "sdn_p1_frr.conf"))
	return nil
}

// excerpt keeps the header, the first vrf block, the default BGP instance
// and the first per-VRF instance of a rendered configuration.
func excerpt(conf string) []string {
	var out []string
	vrfBlocks, bgpBlocks := 0, 0
	keep := true
	for _, l := range strings.Split(conf, "\n") {
		switch {
		case strings.HasPrefix(l, "vrf "):
			vrfBlocks++
			keep = vrfBlocks == 1
			if vrfBlocks == 2 {
				out = append(out, "! … more vrf blocks")
			}
		case strings.HasPrefix(l, "router bgp ") && strings.Contains(l, " vrf "):
			bgpBlocks++
			keep = bgpBlocks == 1
			if bgpBlocks == 2 {
				out = append(out, "! … one such block per tenant")
			}
		case strings.HasPrefix(l, "router bgp "):
			keep = true
		}
		if keep {
			out = append(out, l)
		}
	}
	return out
}

func kinds() string {
	var s []string
	for _, p := range partitions {
		s = append(s, p.ID+" "+p.Kind)
	}
	return strings.Join(s, ", ")
}

// reachability returns the live routers and reach[i][j]: router j's
// prefixes arrive, with j's tenant's RD in j's partition, in the VRF of
// router i's tenant in i's partition.
func reachability(ctx context.Context, ctl *sdn.Controller, fabric *sdn.Fabric) ([]routerKey, [][]bool, error) {
	var keys []routerKey
	rds := map[routerKey]sdn.RouteDistinguisher{}
	vrfs := map[string]string{}
	for _, id := range ctl.Tenants() {
		rec, err := ctl.Tenant(id)
		if err != nil {
			return nil, nil, err
		}
		vrfs[id] = rec.Binding.VRF
		for _, vr := range rec.Routers {
			for pi, p := range partitions {
				if p.ID == vr.Partition {
					k := routerKey{id, pi}
					keys = append(keys, k)
					rds[k] = rec.Binding.RD[p.ID]
				}
			}
		}
	}
	reach := make([][]bool, len(keys))
	for i, a := range keys {
		reach[i] = make([]bool, len(keys))
		r, err := fabric.Router(partitions[a.part].ID)
		if err != nil {
			return nil, nil, err
		}
		got, err := r.ReceivedRoutes(ctx, vrfs[a.tenant])
		if err != nil {
			return nil, nil, err
		}
		for j, b := range keys {
			for _, rt := range got {
				if rt.RD == rds[b] && rt.Origin == partitions[b.part].ID {
					reach[i][j] = true
				}
			}
		}
	}
	return keys, reach, nil
}

// printMatrix prints the tenant-by-tenant matrix: how many of the row
// tenant's routers receive routes of the column tenant.
func printMatrix(w io.Writer, ctl *sdn.Controller, keys []routerKey, reach [][]bool) {
	ids := ctl.Tenants()
	idx := map[string]int{}
	for i, id := range ids {
		idx[id] = i
	}
	m := make([][]int, len(ids))
	for i := range m {
		m[i] = make([]int, len(ids))
	}
	for i, a := range keys {
		for j, b := range keys {
			if reach[i][j] {
				m[idx[a.tenant]][idx[b.tenant]]++
			}
		}
	}
	fmt.Fprintln(w, "\nTenant × tenant: router pairs that reach each other (row receives column; '.' = none)")
	fmt.Fprint(w, "          ")
	for i := range ids {
		fmt.Fprintf(w, "%3d", i)
	}
	fmt.Fprintln(w)
	for i, id := range ids {
		fmt.Fprintf(w, "  %2d %-5s", i, strings.TrimPrefix(id, "tenant-"))
		for j := range ids {
			if m[i][j] == 0 {
				fmt.Fprint(w, "  .")
			} else {
				fmt.Fprintf(w, "%3d", m[i][j])
			}
		}
		fmt.Fprintln(w)
	}
}

// grid adapts the router matrix to plotter.GridXYZ.
type grid struct{ m [][]bool }

func (g grid) Dims() (c, r int) { return len(g.m), len(g.m) }
func (g grid) X(c int) float64  { return float64(c) }
func (g grid) Y(r int) float64  { return float64(r) }
func (g grid) Z(c, r int) float64 {
	if g.m[r][c] {
		return 1
	}
	return 0
}

func plotMatrix(path string, keys []routerKey, reach [][]bool) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Router reachability (%d routers, grouped by tenant)", len(keys))
	p.X.Label.Text = "origin router (tenant-major)"
	p.Y.Label.Text = "receiving router (tenant-major)"
	pal := staticPalette{color.RGBA{240, 240, 240, 255}, color.RGBA{200, 40, 40, 255}}
	h := plotter.NewHeatMap(grid{reach}, pal)
	h.Min, h.Max = 0, 1
	p.Add(h)
	p.X.Min, p.Y.Min = -0.5, -0.5
	p.X.Max, p.Y.Max = float64(len(keys))-0.5, float64(len(keys))-0.5
	return p.Save(7*vg.Inch, 7*vg.Inch, path)
}

type staticPalette []color.Color

func (s staticPalette) Colors() []color.Color { return s }

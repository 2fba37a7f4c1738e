// Command sched tells the unified-scheduling story: one pool of physical
// nodes shared by a VM manager and a container manager, one coordinator
// that places a seeded stream of VM and container arrivals and departures,
// and three placement policies compared on the same trace — sampled best
// fit (the default), sampled spread, and full-scan best fit (the exact
// baseline). It prints placements/s, utilisation and fragmentation and
// writes two PNG plots: utilisation over time and per-node fill.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/sched"
)

const gib = int64(1) << 30

// config is what the flags set.
type config struct {
	Nodes    int     // physical nodes
	Arrivals int     // workload arrivals in the trace
	Load     float64 // offered load as a fraction of cluster CPU
	Seed     uint64
	Out      string // directory for the PNG plots; "" writes none
}

func main() {
	var cfg config
	flag.IntVar(&cfg.Nodes, "nodes", 1000, "number of physical nodes")
	flag.IntVar(&cfg.Arrivals, "arrivals", 60000, "number of workload arrivals")
	flag.Float64Var(&cfg.Load, "load", 1.1, "offered load as a fraction of cluster CPU (values near or above 1 saturate)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "trace seed")
	flag.StringVar(&cfg.Out, "out", "out", "directory for PNG plots")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sched:", err)
		os.Exit(1)
	}
}

// event is one arrival in the trace: a request that lives until Depart.
type event struct {
	At, Depart float64 // virtual time, seconds
	Req        sched.Request
}

type shape struct {
	kind     sched.Kind
	cpu, mem int64
	weight   int
}

// The workload mix of a payment data centre: a few large VMs (switch
// components, HSM front ends) among many small containers.
var shapes = []shape{
	{sched.VM, 4000, 16 * gib, 3},
	{sched.VM, 8000, 32 * gib, 2},
	{sched.VM, 2000, 8 * gib, 3},
	{sched.Container, 500, gib, 8},
	{sched.Container, 1000, 2 * gib, 6},
	{sched.Container, 2000, 4 * gib, 3},
	{sched.Container, 250, gib / 2, 6},
}

// nodeShapes are the three server generations in the pool.
var nodeShapes = []struct {
	class    string
	capacity sched.Resources
}{
	{"gen1", sched.Resources{MilliCPU: 16000, MemoryBytes: 64 * gib, DiskBytes: 1 << 40}},
	{"gen2", sched.Resources{MilliCPU: 32000, MemoryBytes: 128 * gib, DiskBytes: 2 << 40}},
	{"gen3", sched.Resources{MilliCPU: 48000, MemoryBytes: 256 * gib, DiskBytes: 4 << 40}},
}

// trace draws a Poisson arrival stream with exponential lifetimes whose
// offered CPU load is cfg.Load × the cluster's CPU.
func trace(cfg config) []event {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7ace))
	total, meanCPU := 0, 0.0
	for _, s := range shapes {
		total += s.weight
	}
	for _, s := range shapes {
		meanCPU += float64(s.cpu) * float64(s.weight) / float64(total)
	}
	var clusterCPU float64
	for i := range cfg.Nodes {
		clusterCPU += float64(nodeShapes[i%len(nodeShapes)].capacity.MilliCPU)
	}
	const lifetime = 600.0 // mean seconds
	rate := cfg.Load * clusterCPU / (meanCPU * lifetime)
	events := make([]event, cfg.Arrivals)
	t := 0.0
	for i := range events {
		t += rng.ExpFloat64() / rate
		pick := rng.IntN(total)
		var s shape
		for _, s = range shapes {
			if pick < s.weight {
				break
			}
			pick -= s.weight
		}
		r := sched.Request{ID: fmt.Sprintf("%s-%d", s.kind, i), Kind: s.kind,
			Resources: sched.Resources{MilliCPU: s.cpu, MemoryBytes: s.mem}}
		if s.kind == sched.VM {
			r.Resources.DiskBytes = 40 * gib
		}
		events[i] = event{At: t, Depart: t + rng.ExpFloat64()*lifetime, Req: r}
	}
	return events
}

type policy struct {
	name string
	cfg  sched.Config
}

// result is what one policy did with the trace.
type result struct {
	name          string
	placed, fails int
	busy          time.Duration // wall time inside Create and Delete
	ops           int
	util          plotter.XYs // CPU utilisation over virtual time
	meanUtil      float64     // mean CPU utilisation over the second half
	frag          float64     // mean fragmentation over the second half
	fill          []float64   // per-node CPU fill at the end, sorted
	firstFail     string      // the first turned-away request, with per-filter rejections
}

// largest is the biggest shape: free capacity that cannot host it is
// fragmented.
var largest = sched.Resources{MilliCPU: 8000, MemoryBytes: 32 * gib}

func simulate(ctx context.Context, cfg config, p policy, events []event) (result, error) {
	vms, err := sched.NewMemBackend(sched.MemConfig{Kind: sched.VM, OverheadFraction: 0.03,
		Overhead: sched.Resources{MemoryBytes: 256 << 20}})
	if err != nil {
		return result{}, err
	}
	ctrs, err := sched.NewMemBackend(sched.MemConfig{Kind: sched.Container})
	if err != nil {
		return result{}, err
	}
	pc := p.cfg
	pc.Classes = map[string]sched.Ratios{"gen1": {CPU: 1}, "gen2": {CPU: 1}, "gen3": {CPU: 1}}
	pc.Rand = rand.NewPCG(cfg.Seed, 0x5a3e)
	c, err := sched.New(pc, vms, ctrs)
	if err != nil {
		return result{}, err
	}
	for i := range cfg.Nodes {
		ns := nodeShapes[i%len(nodeShapes)]
		if err := c.AddNode(ctx, sched.Node{Name: fmt.Sprintf("node-%04d", i), Class: ns.class, Capacity: ns.capacity}); err != nil {
			return result{}, err
		}
	}
	res := result{name: p.name}
	// departures is a min-heap by time, kept as a sorted slice for clarity.
	type dep struct {
		at float64
		id string
	}
	var deps []dep
	sample := max(1, len(events)/300)
	var utilSum, fragSum float64
	var samples int
	for i, ev := range events {
		// Departures due before this arrival.
		k := sort.Search(len(deps), func(j int) bool { return deps[j].at > ev.At })
		for _, d := range deps[:k] {
			t0 := time.Now()
			err := c.Delete(ctx, d.id)
			res.busy += time.Since(t0)
			res.ops++
			if err != nil {
				return result{}, err
			}
		}
		deps = deps[k:]

		t0 := time.Now()
		_, err := c.Create(ctx, ev.Req)
		res.busy += time.Since(t0)
		res.ops++
		switch {
		case err == nil:
			res.placed++
			j := sort.Search(len(deps), func(j int) bool { return deps[j].at > ev.Depart })
			deps = append(deps, dep{})
			copy(deps[j+1:], deps[j:])
			deps[j] = dep{ev.Depart, ev.Req.ID}
		case errors.Is(err, sched.ErrNoCapacity), errors.Is(err, sched.ErrOverConsumed):
			res.fails++
			if res.firstFail == "" {
				res.firstFail = err.Error()
			}
		default:
			return result{}, err
		}
		if i%sample == 0 {
			u, f := measure(c.Nodes())
			res.util = append(res.util, plotter.XY{X: ev.At / 60, Y: 100 * u})
			if i >= len(events)/2 {
				utilSum += u
				fragSum += f
				samples++
			}
		}
	}
	if err := c.Audit(); err != nil {
		return result{}, err
	}
	if samples > 0 {
		res.meanUtil, res.frag = utilSum/float64(samples), fragSum/float64(samples)
	}
	for _, n := range c.Nodes() {
		res.fill = append(res.fill, 100*float64(n.Used.MilliCPU)/float64(n.Allocatable.MilliCPU))
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(res.fill)))
	return res, nil
}

// measure returns CPU utilisation and fragmentation: the share of free CPU
// that sits on nodes unable to host the largest workload shape.
func measure(nodes []sched.NodeStatus) (util, frag float64) {
	var used, alloc, free, stranded float64
	for _, n := range nodes {
		f := n.Allocatable.Sub(n.Used)
		used += float64(n.Used.MilliCPU)
		alloc += float64(n.Allocatable.MilliCPU)
		free += float64(f.MilliCPU)
		if f.MilliCPU < largest.MilliCPU || f.MemoryBytes < largest.MemoryBytes {
			stranded += float64(f.MilliCPU)
		}
	}
	if free > 0 {
		frag = stranded / free
	}
	return used / alloc, frag
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Nodes < 1 || cfg.Nodes > 100000 || cfg.Arrivals < 1 || cfg.Arrivals > 10_000_000 ||
		!(cfg.Load > 0 && cfg.Load <= 10) {
		return fmt.Errorf("bad configuration %+v", cfg)
	}
	events := trace(cfg)
	policies := []policy{
		{"best-fit (log2 sample)", sched.Config{}},
		{"spread (log2 sample)", sched.Config{Weights: sched.Weights{Spread: 1, Taint: 1}}},
		{"best-fit (full scan)", sched.Config{Sampling: sched.SampleFull}},
	}
	fmt.Fprintf(w, "%d nodes (%d server generations), %d arrivals of VMs and containers, offered load %.0f%% of CPU, seed %d\n\n",
		cfg.Nodes, len(nodeShapes), len(events), 100*cfg.Load, cfg.Seed)
	fmt.Fprintln(w, "ops/s is wall-clock coordinator work (creates and deletes through the reference backends);")
	fmt.Fprintln(w, "mean util and fragmentation are CPU over the second half of the trace.")
	fmt.Fprintf(w, "%-24s %10s %8s %13s %10s %10s\n", "policy", "placed", "failed", "ops/s", "mean util", "fragment.")
	var results []result
	for _, p := range policies {
		r, err := simulate(ctx, cfg, p, events)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		results = append(results, r)
		fmt.Fprintf(w, "%-24s %10d %8d %13.0f %9.1f%% %9.1f%%\n", r.name, r.placed, r.fails,
			float64(r.ops)/r.busy.Seconds(), 100*r.meanUtil, 100*r.frag)
	}
	bf, sp, full := results[0], results[1], results[2]
	rate := func(r result) float64 { return float64(r.ops) / r.busy.Seconds() }
	fmt.Fprintf(w, "\nSampled best fit scores at most ⌈log₂ %d⌉ = %d feasible nodes per decision, the full scan all of them:\n",
		cfg.Nodes, int(math.Ceil(math.Log2(float64(cfg.Nodes)))))
	fmt.Fprintf(w, "  throughput ratio sampled/full %.2f×, mean utilisation %+.1f points, requests turned away %d vs %d.\n",
		rate(bf)/rate(full), 100*(bf.meanUtil-full.meanUtil), bf.fails, full.fails)
	fmt.Fprintf(w, "Spread leaves %.1f%% of free CPU stranded on nodes too full for an 8-core/32 GiB VM (best fit %.1f%%)\n",
		100*sp.frag, 100*bf.frag)
	fmt.Fprintf(w, "  and turned away %d requests (best fit %d).\n", sp.fails, bf.fails)
	if bf.firstFail != "" {
		fmt.Fprintf(w, "The first request best fit turned away, and why: %s\n", bf.firstFail)
	}

	if err := recoverStory(ctx, cfg, events, w); err != nil {
		return fmt.Errorf("recovery: %w", err)
	}

	if cfg.Out == "" {
		return nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if err := plotLines(filepath.Join(cfg.Out, "sched_utilisation.png"), "CPU utilisation over time",
		"time (minutes)", "CPU in use (%)", results, func(r result) plotter.XYs { return r.util }); err != nil {
		return err
	}
	if err := plotLines(filepath.Join(cfg.Out, "sched_fill.png"), "Per-node CPU fill at the end (sorted)",
		"node rank", "CPU in use (%)", results, func(r result) plotter.XYs {
			xy := make(plotter.XYs, len(r.fill))
			for i, f := range r.fill {
				xy[i] = plotter.XY{X: float64(i), Y: f}
			}
			return xy
		}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nplots: %s, %s\n", filepath.Join(cfg.Out, "sched_utilisation.png"), filepath.Join(cfg.Out, "sched_fill.png"))
	return nil
}

// recoverStory plays the first half of the trace, lets the coordinator
// crash, rebuilds the ledger in a new one from what the managers run
// (Recover), loses one workload in a hundred behind the coordinator's back
// and lets Reconcile find and repair the drift.
func recoverStory(ctx context.Context, cfg config, events []event, w io.Writer) error {
	vms, err := sched.NewVMBackend(sched.MemConfig{OverheadFraction: 0.03})
	if err != nil {
		return err
	}
	ctrs, err := sched.NewContainerBackend(sched.MemConfig{})
	if err != nil {
		return err
	}
	classes := map[string]sched.Ratios{"gen1": {CPU: 1}, "gen2": {CPU: 1}, "gen3": {CPU: 1}}
	newCoordinator := func() (*sched.Coordinator, error) {
		c, err := sched.New(sched.Config{Classes: classes, Rand: rand.NewPCG(cfg.Seed, 0x7ec)}, vms, ctrs)
		if err != nil {
			return nil, err
		}
		for i := range cfg.Nodes {
			ns := nodeShapes[i%len(nodeShapes)]
			if err := c.AddNode(ctx, sched.Node{Name: fmt.Sprintf("node-%04d", i), Class: ns.class, Capacity: ns.capacity}); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	old, err := newCoordinator()
	if err != nil {
		return err
	}
	for _, ev := range events[:len(events)/2] {
		if _, err := old.Create(ctx, ev.Req); err != nil && !errors.Is(err, sched.ErrNoCapacity) && !errors.Is(err, sched.ErrOverConsumed) {
			return err
		}
	}
	// The coordinator crashes: its ledger is gone, the workloads run on.
	c, err := newCoordinator()
	if err != nil {
		return err
	}
	t0 := time.Now()
	rep, err := c.Recover(ctx)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	truth := len(vms.Allocations()) + len(ctrs.Allocations())
	fmt.Fprintf(w, "\nCrash and recovery: a new coordinator rebuilt the ledger of %d running workloads (managers run %d) in %v;\n",
		rep.Recovered, truth, took.Round(time.Millisecond))
	lost := 0
	for i, a := range vms.Allocations() {
		if i%100 == 0 {
			if err := vms.Delete(ctx, a.ID); err != nil { // behind the coordinator's back
				return err
			}
			lost++
		}
	}
	rep, err = c.Reconcile(ctx)
	if err != nil {
		return err
	}
	kinds := map[sched.DriftKind]int{}
	for _, ev := range rep.Events {
		kinds[ev.Kind]++
	}
	fmt.Fprintf(w, "  the VM manager then lost %d VMs; Reconcile found %d missing, repaired %d, and Audit says %v.\n",
		lost, kinds[sched.DriftMissing], rep.Repaired, auditVerdict(c.Audit()))
	return nil
}

func auditVerdict(err error) string {
	if err != nil {
		return err.Error()
	}
	return "the ledger is exact"
}

func plotLines(file, title, x, y string, results []result, series func(result) plotter.XYs) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Y.Min, p.Y.Max = 0, 100
	var args []any
	for _, r := range results {
		args = append(args, r.name, series(r))
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return err
	}
	p.Legend.Top = false
	return p.Save(18*vg.Centimeter, 11*vg.Centimeter, file)
}

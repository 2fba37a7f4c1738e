package sched

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// scaleSizes are the cluster sizes of issue 23's placement curve.
var scaleSizes = []int{1000, 5000, 20000, 50000}

// scaledCluster returns a coordinator over n nodes that run about six
// workloads each (about 60 % of CPU and memory), built by placing the
// workloads straight into the managers and recovering the ledger from them,
// which is much faster than placing them one by one. ids lists the
// workloads in creation order.
func scaledCluster(b *testing.B, n int) (c *Coordinator, ids []string) {
	b.Helper()
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	ctx := context.Background()
	c, ps := scaledLayout(b, n, vm, ctr)
	for _, p := range ps {
		m := vm
		if p.Request.Kind == Container {
			m = ctr
		}
		if _, err := m.Create(ctx, p); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.Request.ID)
	}
	if _, err := c.Recover(ctx); err != nil {
		b.Fatal(err)
	}
	return c, ids
}

// scaledLedger is scaledCluster's coordinator, same nodes and workloads,
// with the workloads claimed straight into its ledger and no manager
// running them: enough for benchmarks that only decide, at a fraction of
// the setup time (CI runs every benchmark once).
func scaledLedger(b *testing.B, n int) *Coordinator {
	b.Helper()
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	c, ps := scaledLayout(b, n, vm, ctr)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		w := &workload{req: p.Request, state: stLive, cell: -1, claim: p.Claim}
		c.work[p.Request.ID] = w
		c.claim(w, c.byName[p.Node], -1, p.Claim)
	}
	return c
}

// scaledLayout returns a coordinator over n nodes and the placements of
// scaledCluster's workloads on them.
func scaledLayout(b *testing.B, n int, vm, ctr *MemBackend) (*Coordinator, []Placement) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(n), 21))
	limit := Resources{MilliCPU: benchNode.MilliCPU * 6 / 10, MemoryBytes: benchNode.MemoryBytes * 6 / 10, DiskBytes: benchNode.DiskBytes, GPUs: benchNode.GPUs}
	used := make([]Resources, n)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("node-%05d", i)
	}
	var ps []Placement
	for i := range 6 * n {
		r := workloadMix(rng, fmt.Sprint("pre", i))
		for j := range 8 {
			k := (i + j*(n/8+1)) % n
			if r.Resources.Add(used[k]).Fits(limit) {
				used[k] = used[k].Add(r.Resources)
				ps = append(ps, Placement{Request: r, Node: names[k], NUMACell: -1, Claim: r.Resources})
				break
			}
		}
	}
	c, err := New(Config{Rand: rand.NewPCG(uint64(n), 22)}, vm, ctr)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		if err := c.AddNode(ctx, Node{Name: name, Capacity: benchNode}); err != nil {
			b.Fatal(err)
		}
	}
	return c, ps
}

// cpuMeter reports the process CPU time per operation as "cpu-ns/op": on
// a shared machine wall time per op swings with other load, CPU time much
// less (it includes the garbage collector's work, which belongs to the op).
type cpuMeter struct{ start int64 }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) report(b *testing.B) {
	if end := processCPU(); m.start >= 0 && end >= 0 && b.N > 0 {
		b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
	}
}

func skipLarge(b *testing.B, n int) {
	if n > 20000 && testing.Short() {
		b.Skip("50 000-node setup takes a few seconds; skipped under -short")
	}
}

// BenchmarkPlacementScale measures one end-to-end placement paired with
// one deletion (the steady state of BenchmarkCreate5000) on clusters of
// 1 000 to 50 000 nodes about 60 % full. With SampleLog2 the decision
// scores ⌈log₂ N⌉ feasible nodes, so the cost should grow with log₂ N.
func BenchmarkPlacementScale(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			skipLarge(b, n)
			c, ids := scaledCluster(b, n)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(5, 6))
			reqs := make([]Request, 1<<14)
			for i := range reqs {
				reqs[i] = workloadMix(rng, fmt.Sprint("new", i))
			}
			ring := append([]string(nil), ids...)
			head := 0
			b.ReportAllocs()
			i := 0
			var cpu cpuMeter
			for b.Loop() {
				if i == 0 {
					cpu = startCPU()
				}
				if err := c.Delete(ctx, ring[head]); err != nil {
					b.Fatal(err)
				}
				r := reqs[i%len(reqs)]
				r.ID = fmt.Sprint("new", i)
				if _, err := c.Create(ctx, r); err != nil {
					b.Fatal(err)
				}
				ring[head] = r.ID
				head = (head + 1) % len(ring)
				i++
			}
			cpu.report(b)
		})
	}
}

// walkDescent is the placement walk before issue 23: one full descent of
// the fit index per feasible node, and the node record read for its
// filters and score. BenchmarkDecideScale runs it beside walkFrom as the
// baseline, in the same run.
func (c *Coordinator) walkDescent(r *Request, claim Resources, top []candidate, start, limit int) []candidate {
	k := c.cfg.MaxAttempts
	size := c.index.size
	pos, end, wrapped := start, size, false
	feasible := 0
	for feasible < limit {
		i := c.index.next(pos, end, &claim)
		if i < 0 {
			if wrapped || start == 0 {
				break
			}
			pos, end, wrapped = 0, start, true
			continue
		}
		pos = i + 1
		n := c.nodes[i]
		if filterNode(n, r, claim, c.groupTotal) != passed {
			continue
		}
		feasible++
		top = rank(top, k, candidate{n, score(n, r, claim, &c.cfg.Weights)})
	}
	return top
}

// BenchmarkDecideScale measures the placement decision alone — sampling
// ⌈log₂ N⌉ feasible nodes from a random start, filtering and scoring them —
// on the clusters of BenchmarkPlacementScale, without committing it:
// index=blocks is the walk the coordinator uses, index=descent the one it
// used before (walkDescent), measured in the same run.
func BenchmarkDecideScale(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			skipLarge(b, n)
			c := scaledLedger(b, n)
			if err := c.Audit(); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 8))
			reqs := make([]Request, 256)
			for i := range reqs {
				reqs[i] = workloadMix(rng, fmt.Sprint("probe", i))
			}
			for _, mode := range []string{"blocks", "descent"} {
				b.Run("index="+mode, func(b *testing.B) {
					var buf [8]candidate
					b.ReportAllocs()
					i := 0
					var cpu cpuMeter
					for b.Loop() {
						if i == 0 {
							cpu = startCPU()
						}
						r := &reqs[i%len(reqs)]
						c.mu.RLock()
						start, limit := c.randN(c.index.size), c.limit()
						var top []candidate
						if mode == "blocks" {
							top = c.walkFrom(r, r.Resources, nil, buf[:0], start, limit)
						} else {
							top = c.walkDescent(r, r.Resources, buf[:0], start, limit)
						}
						c.mu.RUnlock()
						if len(top) == 0 {
							b.Fatal("no candidate")
						}
						i++
					}
					cpu.report(b)
				})
			}
		})
	}
}

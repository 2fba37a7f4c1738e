package sdn_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/payedge/payedge/sdn"
)

func benchParts(n int) []sdn.Partition {
	ps := make([]sdn.Partition, n)
	for i := range ps {
		ps[i] = sdn.Partition{ID: fmt.Sprintf("p%d", i), ASN: 65001 + uint32(i), RouterID: netip.AddrFrom4([4]byte{10, 255, 0, byte(i + 1)})}
	}
	return ps
}

// build creates tenants over parts, one router per tenant and partition.
func build(b *testing.B, tenants int, parts []sdn.Partition) (*sdn.Controller, *sdn.Fabric) {
	ctx := context.Background()
	f, err := sdn.NewFabric(parts...)
	if err != nil {
		b.Fatal(err)
	}
	c, err := sdn.NewController(ctx, sdn.Config{Partitions: parts}, sdn.NewMemoryStore(), f.Routers())
	if err != nil {
		b.Fatal(err)
	}
	for i := range tenants {
		id := fmt.Sprintf("t%05d", i)
		if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: id}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	return c, f
}

// reportCPU adds the process CPU time per op ("cpu-ns/op", user + system,
// garbage collection included) from start: on a shared machine wall time
// swings with the load of other processes, CPU time much less.
func reportCPU(b *testing.B, start int64) {
	if end := processCPU(); start >= 0 && end >= 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkCreateReconcile creates 10 000 tenants over 8 partitions in the
// in-memory fabric and reconciles (target ≤ 1 s per op).
func BenchmarkCreateReconcile(b *testing.B) {
	parts := benchParts(8)
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		build(b, 10000, parts)
	}
	reportCPU(b, start)
}

// BenchmarkReconcileNoop reconciles 10 000 tenants over 8 partitions that
// are already in place (target ≤ 50 ms per op).
func BenchmarkReconcileNoop(b *testing.B) {
	c, _ := build(b, 10000, benchParts(8))
	ctx := context.Background()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		rep, err := c.Reconcile(ctx)
		if err != nil || len(rep.Changes) != 0 {
			b.Fatalf("%d changes, %v", len(rep.Changes), err)
		}
	}
	reportCPU(b, start)
}

// listerOnly hides RevisionReporter: every Reconcile lists the partition.
type listerOnly struct {
	sdn.RouteController
	l sdn.VRFLister
}

func (r listerOnly) ListVRFs(ctx context.Context) ([]sdn.VRFState, error) { return r.l.ListVRFs(ctx) }

// BenchmarkReconcileNoopListing is BenchmarkReconcileNoop on partitions
// that cannot report a revision (as sdn/gobgp's): each Reconcile lists
// every partition's 10 000 VRFs and compares them with the intended state.
func BenchmarkReconcileNoopListing(b *testing.B) {
	ctx := context.Background()
	parts := benchParts(8)
	f, err := sdn.NewFabric(parts...)
	if err != nil {
		b.Fatal(err)
	}
	rcs := map[string]sdn.RouteController{}
	for _, p := range parts {
		r, _ := f.Router(p.ID)
		rcs[p.ID] = listerOnly{RouteController: r, l: r}
	}
	c, err := sdn.NewController(ctx, sdn.Config{Partitions: parts}, sdn.NewMemoryStore(), rcs)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		if _, err := c.CreateTenant(ctx, sdn.TenantSpec{ID: fmt.Sprintf("t%05d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		rep, err := c.Reconcile(ctx)
		if err != nil || len(rep.Changes) != 0 {
			b.Fatalf("%d changes, %v", len(rep.Changes), err)
		}
	}
	reportCPU(b, start)
}

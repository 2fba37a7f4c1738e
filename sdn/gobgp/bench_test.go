package gobgp_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/payedge/payedge/sdn"
)

// BenchmarkVRFScale measures, over two real speakers on loopback, the time
// from the first controller call to the moment the peer has received every
// route: 200 tenants (VRFs) × 50 prefixes, originated in partition p1 and
// imported by each tenant's VRF in p2. It reports routes/s.
func BenchmarkVRFScale(b *testing.B) {
	const vrfs, routes = 200, 50
	for b.Loop() {
		b.StopTimer()
		r := newRegionB(b, 2)
		ctx := b.Context()
		b.StartTimer()
		start := time.Now()
		for v := range vrfs {
			id := fmt.Sprintf("t%03d", v)
			if _, err := r.ctl.CreateTenant(ctx, sdn.TenantSpec{ID: id}); err != nil {
				b.Fatal(err)
			}
			vr := sdn.VirtualRouter{Partition: "p1"}
			for k := range routes {
				vr.Prefixes = append(vr.Prefixes, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(v % 250), byte(k), 0}), 24))
			}
			if err := r.ctl.AttachRouter(ctx, id, vr); err != nil {
				b.Fatal(err)
			}
		}
		calls := time.Since(start)
		deadline := time.Now().Add(5 * time.Minute)
		for {
			got, err := r.speakers[1].ReceivedByVRF(ctx)
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, rs := range got {
				total += len(rs)
			}
			if total == vrfs*routes {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d routes arrived", total, vrfs*routes)
			}
			time.Sleep(250 * time.Millisecond)
		}
		all := time.Since(start)
		b.ReportMetric(calls.Seconds(), "s-calls")
		b.ReportMetric(all.Seconds(), "s-visible")
		b.ReportMetric(float64(vrfs*routes)/all.Seconds(), "routes/s")
	}
}

package se_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

var okApplet = se.ProcessFunc(func(context.Context, apdu.Command) apdu.Response {
	return apdu.Response{SW: apdu.SWSuccess}
})

// BenchmarkDispatch measures one APDU through the in-memory element to a
// trivial applet (target ≤ 300 ns, 0 allocs).
func BenchmarkDispatch(b *testing.B) {
	ctx := context.Background()
	m, _ := se.NewMemory(se.MemoryConfig{})
	aid := []byte{0xA0, 0, 0, 0, 0x01}
	_ = m.Install(aid, okApplet, se.InstallOptions{})
	ch, err := m.OpenLogicalChannel(ctx, aid)
	if err != nil {
		b.Fatal(err)
	}
	cla, _ := apdu.WithChannel(0x80, ch.Number())
	for _, bc := range []struct {
		name string
		cmd  apdu.Command
	}{
		{"basic", apdu.Command{CLA: 0x80, INS: 0x01, P1: 0x02, P2: 0x03}},
		{"logical", apdu.Command{CLA: cla, INS: 0x01, P1: 0x02, P2: 0x03, Data: []byte{1, 2, 3, 4}}},
	} {
		if bc.name == "basic" {
			_, _ = m.Transmit(ctx, selectCmd(0, 0, aid))
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := m.Transmit(ctx, bc.cmd)
				if err != nil || r.SW != apdu.SWSuccess {
					b.Fatal(r, err)
				}
			}
		})
	}
	// Through the Channel handle (class byte recoded, generation check).
	b.Run("channel", func(b *testing.B) {
		cmd := apdu.Command{CLA: 0x80, INS: 0x01, P1: 0x02, P2: 0x03, Data: []byte{1, 2, 3, 4}}
		b.ReportAllocs()
		for b.Loop() {
			r, err := ch.Transmit(ctx, cmd)
			if err != nil || r.SW != apdu.SWSuccess {
				b.Fatal(r, err)
			}
		}
	})
}

// BenchmarkBuddyAllocFree measures one allocation and its free by the
// buddy policy on a half-full 1 MiB pool (target ≤ 200 ns), and the same
// through the VMM with all its checks.
func BenchmarkBuddyAllocFree(b *testing.B) {
	const pool = 1 << 20
	b.Run("policy", func(b *testing.B) {
		p := se.NewBuddyPolicy()
		_ = p.Init(pool, 256)
		rng := rand.New(rand.NewPCG(1, 1))
		for range 200 { // a fragmented steady state
			_, _, _ = p.Alloc(uint64(1+rng.IntN(8)) * 256)
		}
		b.ReportAllocs()
		for b.Loop() {
			a, _, err := p.Alloc(1024)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Free(a, 1024); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("vmm", func(b *testing.B) {
		ctx := context.Background()
		v, _ := se.NewVMM(se.VMMConfig{PoolBytes: pool, PageSize: 256})
		id, _ := v.CreateVSE(ctx, se.VSERequest{ID: "x", MemoryBytes: pool, MaxChannels: 1, PageSize: 256})
		for range 200 {
			_, _ = v.Alloc(ctx, id, 256)
		}
		b.ReportAllocs()
		for b.Loop() {
			a, err := v.Alloc(ctx, id, 1024)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.Free(ctx, id, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fragWorkload runs a seeded random create/destroy workload of VSEs on a
// 1 MiB pool (256-byte pages, 16 static partitions) and returns the mean
// external fragmentation, the mean largest free block and the share of
// allocations refused.
func fragWorkload(pol se.Policy, seed uint64, steps int) (frag, largest, refused float64) {
	ctx := context.Background()
	v, _ := se.NewVMM(se.VMMConfig{PoolBytes: 1 << 20, PageSize: 256, MaxVSEs: 64, Policy: pol})
	rng := rand.New(rand.NewPCG(seed, 7))
	type live struct {
		id   se.VSEID
		name string
	}
	var vses []live
	n, tries, fails := 0, 0, 0
	for step := range steps {
		if len(vses) > 0 && (rng.IntN(2) == 0 || len(vses) >= 48) {
			k := rng.IntN(len(vses))
			_ = v.DestroyVSE(ctx, vses[k].id)
			vses = append(vses[:k], vses[k+1:]...)
		} else {
			size := uint64(1+rng.IntN(64)) * 1024 // 1–64 KiB wallets
			n++
			name := fmt.Sprint("w", n)
			// The quota is the largest wallet (one static partition):
			// quotas are charged by reserved bytes, and a quota of size
			// would refuse every rounded-up allocation.
			id, err := v.CreateVSE(ctx, se.VSERequest{ID: name, MemoryBytes: 64 << 10, MaxChannels: 4, PageSize: 256})
			if err == nil {
				tries++
				if _, err := v.Alloc(ctx, id, size); err != nil {
					fails++
					_ = v.DestroyVSE(ctx, id)
				} else {
					vses = append(vses, live{id, name})
				}
			}
		}
		_ = step
		st := v.Stats()
		frag += st.Fragmentation()
		largest += float64(st.LargestFree)
	}
	return frag / float64(steps), largest / float64(steps), float64(fails) / float64(max(tries, 1))
}

// BenchmarkFragmentation reports, per policy, the fragmentation of the same
// seeded workload: frag (mean 1 − largest/free), largest-KiB (mean largest
// free block) and refused (share of allocations that failed).
func BenchmarkFragmentation(b *testing.B) {
	for _, pc := range policies {
		b.Run(pc.name, func(b *testing.B) {
			var f, l, r float64
			for b.Loop() {
				f, l, r = fragWorkload(pc.new(), 42, 2000)
			}
			b.ReportMetric(f, "frag")
			b.ReportMetric(l/1024, "largest-KiB")
			b.ReportMetric(r, "refused")
		})
	}
}

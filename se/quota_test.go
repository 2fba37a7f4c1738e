package se_test

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se"
)

// reservedBy is the model of what each policy of the policies table
// reserves for a range of size bytes on a pool of 256-byte pages: a whole
// partition (static, 16 of them), the next power-of-two number of pages
// (buddy), the size itself (first-fit). It is written from the policies'
// documented behaviour, not read back from the VMM.
func reservedBy(policy string, pool, size uint64) uint64 {
	const page = 256
	switch policy {
	case "static":
		return pool / 16 / page * page
	case "buddy":
		pages := (size + page - 1) / page
		if pages <= 1 {
			return page
		}
		return page << bits.Len64(pages-1)
	}
	return size
}

// TestVMMQuotaChargesReservedBytes runs random alloc/free sequences by
// several VSEs under every policy and checks after every step that each
// VSE's reserved bytes (the model's, and the VMM's own Usage) stay within
// its quota, that Alloc refuses exactly what would break that (ErrQuota;
// ErrNoMemory is allowed where the policy refuses first) and that the
// pool's ReservedBytes is the sum of the VSEs'.
func TestVMMQuotaChargesReservedBytes(t *testing.T) {
	ctx := context.Background()
	const pool = 64 << 10 // static: 16 partitions of 4 KiB
	for _, pc := range policies {
		for seed := range uint64(6) {
			t.Run(fmt.Sprintf("%s/%d", pc.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 12))
				v := newVMM(t, pc.new(), pool, 8)
				type rg struct{ addr, size, res uint64 }
				owned := map[se.VSEID][]rg{}
				quota := map[se.VSEID]uint64{}
				var ids []se.VSEID
				for i := range 5 {
					q := uint64(4+rng.IntN(93)) * 256 // 1–24 KiB, often not a multiple of a partition
					id, err := v.CreateVSE(ctx, req(fmt.Sprint("v", i), q))
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
					quota[id] = q
				}
				sums := func(id se.VSEID) (used, res uint64) {
					for _, r := range owned[id] {
						used += r.size
						res += r.res
					}
					return used, res
				}
				refusedByQuota := 0
				for step := range 600 {
					id := ids[rng.IntN(len(ids))]
					if rng.IntN(3) > 0 { // alloc
						size := uint64(1+rng.IntN(20)) * 256
						res := reservedBy(pc.name, pool, size)
						_, held := sums(id)
						addr, err := v.Alloc(ctx, id, size)
						switch {
						case held+size > quota[id]:
							if !errors.Is(err, se.ErrQuota) {
								t.Fatalf("step %d: %d reserved + %d requested > quota %d: err = %v, want ErrQuota", step, held, size, quota[id], err)
							}
							refusedByQuota++
							continue
						case held+res > quota[id]:
							if err == nil {
								t.Fatalf("step %d: %s reserves %d for %d; with %d held that passes quota %d, yet Alloc succeeded", step, pc.name, res, size, held, quota[id])
							}
							if !errors.Is(err, se.ErrQuota) && !errors.Is(err, se.ErrNoMemory) {
								t.Fatalf("step %d: over quota by rounding: %v", step, err)
							}
							refusedByQuota++
							continue
						case err != nil:
							if !errors.Is(err, se.ErrNoMemory) {
								t.Fatalf("step %d: alloc within quota: %v", step, err)
							}
							continue
						}
						owned[id] = append(owned[id], rg{addr, size, res})
					} else { // free
						rs := owned[id]
						if len(rs) == 0 {
							continue
						}
						k := rng.IntN(len(rs))
						if err := v.Free(ctx, id, rs[k].addr); err != nil {
							t.Fatalf("step %d: free: %v", step, err)
						}
						owned[id] = append(rs[:k], rs[k+1:]...)
					}
					var total uint64
					for _, id := range ids {
						used, res := sums(id)
						if res > quota[id] {
							t.Fatalf("step %d: VSE %d holds %d reserved bytes, quota %d", step, id, res, quota[id])
						}
						gu, gr, err := v.Usage(id)
						if err != nil || gu != used || gr != res {
							t.Fatalf("step %d: Usage(%d) = %d, %d, %v; model %d, %d", step, id, gu, gr, err, used, res)
						}
						if gr > quota[id] {
							t.Fatalf("step %d: VMM says VSE %d holds %d reserved bytes, quota %d", step, id, gr, quota[id])
						}
						total += res
					}
					if st := v.Stats(); st.ReservedBytes != total {
						t.Fatalf("step %d: pool ReservedBytes %d, VSEs hold %d", step, st.ReservedBytes, total)
					}
				}
				if refusedByQuota == 0 {
					t.Error("workload never reached a quota")
				}
				// Refused allocations went back to the policy: freeing
				// everything restores the whole pool.
				for _, id := range ids {
					if err := v.DestroyVSE(ctx, id); err != nil {
						t.Fatal(err)
					}
				}
				st := v.Stats()
				if st.ReservedBytes != 0 || st.FreeBytes != pool {
					t.Fatalf("after destroying all: %+v", st)
				}
				if pc.name != "static" && st.LargestFree != pool {
					t.Fatalf("after destroying all: largest free %d, want %d", st.LargestFree, pool)
				}
			})
		}
	}
}

// TestQuotaCannotStarveOtherVSEs reproduces the review finding: quotas
// counted requested bytes, so under the static policy a VSE with an
// 8-page quota took all 8 partitions one page at a time and every other
// VSE got ErrNoMemory; buddy rounding let a VSE hold more than its quota
// too. Now a VSE never holds more reserved bytes than its quota.
func TestQuotaCannotStarveOtherVSEs(t *testing.T) {
	ctx := context.Background()
	const pool = 64 << 10
	cases := []struct {
		name  string
		pol   se.Policy
		quota uint64   // the hog's
		sizes []uint64 // the hog's requests, in order
		want  int      // how many of them succeed
	}{
		// 8 partitions of 8 KiB; an 8-page (2 KiB) quota fits none.
		{"static", se.NewStaticPolicy(8), 8 * 256, []uint64{256, 256, 256, 256, 256, 256, 256, 256}, 0},
		// A quota of exactly one partition holds one range.
		{"static/one-partition", se.NewStaticPolicy(8), 8 << 10, []uint64{256, 256}, 1},
		// 5 pages reserve an 8-page block: the quota is spent.
		{"buddy", se.NewBuddyPolicy(), 8 * 256, []uint64{5 * 256, 3 * 256}, 1},
		// First-fit reserves what is asked: 5 + 3 pages fit 8.
		{"first-fit", se.NewFirstFitPolicy(), 8 * 256, []uint64{5 * 256, 3 * 256}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVMM(t, tc.pol, pool, 4)
			hog, err := v.CreateVSE(ctx, req("hog", tc.quota))
			if err != nil {
				t.Fatal(err)
			}
			victim, err := v.CreateVSE(ctx, req("victim", 8<<10))
			if err != nil {
				t.Fatal(err)
			}
			before := v.Stats()
			got := 0
			for i, size := range tc.sizes {
				_, err := v.Alloc(ctx, hog, size)
				if err == nil {
					got++
					continue
				}
				if !errors.Is(err, se.ErrQuota) {
					t.Errorf("hog alloc %d (%d bytes): %v, want ErrQuota", i, size, err)
				}
			}
			if got != tc.want {
				t.Errorf("hog got %d of %d ranges, want %d", got, len(tc.sizes), tc.want)
			}
			_, res, err := v.Usage(hog)
			if err != nil {
				t.Fatal(err)
			}
			st := v.Stats()
			if res > tc.quota || st.ReservedBytes > tc.quota {
				t.Errorf("hog with a %d-byte quota holds %d reserved bytes (pool reserved %d of %d)", tc.quota, res, st.ReservedBytes, st.PoolBytes)
			}
			if st.FreeBytes != before.FreeBytes-st.ReservedBytes {
				t.Errorf("free bytes %d after reserving %d of %d: a refused allocation was not given back", st.FreeBytes, st.ReservedBytes, before.FreeBytes)
			}
			if _, err := v.Alloc(ctx, victim, 256); err != nil {
				t.Errorf("victim starved: %v", err)
			}
		})
	}
}

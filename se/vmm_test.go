package se_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

var policies = []struct {
	name string
	new  func() se.Policy
}{
	{"static", func() se.Policy { return se.NewStaticPolicy(16) }},
	{"first-fit", se.NewFirstFitPolicy},
	{"buddy", se.NewBuddyPolicy},
}

func newVMM(t testing.TB, pol se.Policy, pool uint64, maxVSEs int) *se.VMM {
	t.Helper()
	v, err := se.NewVMM(se.VMMConfig{PoolBytes: pool, PageSize: 256, MaxVSEs: maxVSEs, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func req(id string, quota uint64) se.VSERequest {
	return se.VSERequest{ID: id, MemoryBytes: quota, MaxChannels: 4, PageSize: 256, StorageBytes: 256}
}

func TestVMMBadInput(t *testing.T) {
	ctx := context.Background()
	v := newVMM(t, se.NewBuddyPolicy(), 64<<10, 2)
	a, err := v.CreateVSE(ctx, req("a", 8<<10))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := v.CreateVSE(ctx, req("b", 8<<10))
	check := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
	_, err = v.CreateVSE(ctx, req("c", 1024))
	check("third VSE", err, se.ErrTooManyVSEs)
	_, err = se.NewVMM(se.VMMConfig{PageSize: 3})
	check("page 3", err, se.ErrAlignment)
	_, err = se.NewVMM(se.VMMConfig{PoolBytes: 3 << 10, Policy: se.NewBuddyPolicy()})
	check("buddy 12 pages", err, se.ErrConfig)
	_, err = se.NewVMM(se.VMMConfig{PoolBytes: 2 << 30})
	check("2 GiB pool", err, se.ErrConfig)

	w := newVMM(t, se.NewFirstFitPolicy(), 64<<10, 8)
	_, err = w.CreateVSE(ctx, req("a", 128<<10))
	check("quota > pool", err, se.ErrSize)
	_, err = w.CreateVSE(ctx, req("", 1024))
	check("empty ID", err, se.ErrConfig)
	r := req("x", 1000)
	_, err = w.CreateVSE(ctx, r)
	check("quota not page multiple", err, se.ErrAlignment)
	r = req("x", 1024)
	r.PageSize = 128
	_, err = w.CreateVSE(ctx, r)
	check("VSE page below pool page", err, se.ErrAlignment)
	r = req("x", 1024)
	r.AIDs = [][]byte{{1, 2, 3}}
	_, err = w.CreateVSE(ctx, r)
	check("short AID", err, se.ErrAIDLength)
	_, _ = w.CreateVSE(ctx, req("dup", 1024))
	_, err = w.CreateVSE(ctx, req("dup", 1024))
	check("duplicate", err, se.ErrDuplicateVSE)

	_, err = v.Alloc(ctx, a, 0)
	check("zero size", err, se.ErrSize)
	_, err = v.Alloc(ctx, a, 100)
	check("misaligned size", err, se.ErrAlignment)
	_, err = v.Alloc(ctx, a, 1<<20)
	check("larger than pool", err, se.ErrSize)
	_, err = v.Alloc(ctx, a, 16<<10)
	check("over quota", err, se.ErrQuota)
	_, err = v.Alloc(ctx, 99, 256)
	check("unknown VSE", err, se.ErrNoVSE)
	var me *se.MemoryError
	if !errors.As(err, &me) || me.Op != "alloc" || me.VSE != 99 {
		t.Errorf("error is not a *MemoryError with detail: %#v", err)
	}
	addr, err := v.Alloc(ctx, a, 4096)
	if err != nil {
		t.Fatal(err)
	}
	check("validate zero length", v.Validate(a, addr, 0), se.ErrSize)
	check("validate wrap", v.Validate(a, math.MaxUint64-10, 100), se.ErrOverflow)
	check("validate past end", v.Validate(a, addr+4000, 200), se.ErrAccess)
	check("validate other VSE", v.Validate(b, addr, 16), se.ErrAccess)
	if err := v.Validate(a, addr+4000, 96); err != nil {
		t.Errorf("validate inside: %v", err)
	}
	check("write other VSE", v.WriteAt(b, []byte{1}, addr), se.ErrAccess)
	check("read other VSE", v.ReadAt(b, make([]byte, 1), addr), se.ErrAccess)
	check("free unaligned", v.Free(ctx, a, addr+256), se.ErrDoubleFree)
	check("free by other VSE", v.Free(ctx, b, addr), se.ErrDoubleFree)

	// Grants.
	ref, err := v.Grant(ctx, a, b, addr, 512, true)
	if err != nil {
		t.Fatal(err)
	}
	_ = v.WriteAt(a, []byte("shared"), addr)
	p := make([]byte, 6)
	if err := v.ReadGrant(b, ref, 0, p); err != nil || string(p) != "shared" {
		t.Errorf("ReadGrant: %q %v", p, err)
	}
	check("write read-only grant", v.WriteGrant(b, ref, 0, p), se.ErrReadOnly)
	check("grant used by owner", v.ReadGrant(a, ref, 0, p), se.ErrGrant)
	check("grant past its range", v.ReadGrant(b, ref, 510, p), se.ErrAccess)
	check("grant offset wraps", v.ReadGrant(b, ref, math.MaxUint64-2, p), se.ErrOverflow)
	check("unknown grant", v.ReadGrant(b, 999, 0, p), se.ErrGrant)
	_, err = v.Grant(ctx, a, b, addr+4000, 512, false)
	check("grant beyond own range", err, se.ErrAccess)
	_, err = v.Grant(ctx, a, a, addr, 16, false)
	check("grant to self", err, se.ErrGrant)
	check("revoke by peer", v.Revoke(ctx, b, ref), se.ErrGrant)
	if err := v.Revoke(ctx, a, ref); err != nil {
		t.Fatal(err)
	}
	check("revoked grant", v.ReadGrant(b, ref, 0, p), se.ErrGrantRevoked)
	check("revoke twice", v.Revoke(ctx, a, ref), se.ErrGrantRevoked)

	rw, _ := v.Grant(ctx, a, b, addr, 512, false)
	if err := v.WriteGrant(b, rw, 0, []byte("peer")); err != nil {
		t.Fatal(err)
	}
	// Free: zeroes, revokes grants on the range, double free refused.
	if err := v.Free(ctx, a, addr); err != nil {
		t.Fatal(err)
	}
	check("double free", v.Free(ctx, a, addr), se.ErrDoubleFree)
	check("grant after free", v.ReadGrant(b, rw, 0, p), se.ErrGrantRevoked)
	check("use after free", v.ReadAt(a, p, addr), se.ErrAccess)
	addr2, _ := v.Alloc(ctx, a, 4096)
	got := make([]byte, 4096)
	_ = v.ReadAt(a, got, addr2)
	if !bytes.Equal(got, make([]byte, 4096)) {
		t.Error("re-allocated memory is not zero")
	}
	// Destroy; use after destroy.
	if err := v.DestroyVSE(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err = v.Alloc(ctx, a, 256)
	check("alloc after destroy", err, se.ErrDestroyed)
	check("validate after destroy", v.Validate(a, addr2, 1), se.ErrDestroyed)
	check("destroy twice", v.DestroyVSE(ctx, a), se.ErrDestroyed)
	if st := v.Stats(); st.UsedBytes != 0 || st.FreeBytes != 64<<10 || st.LargestFree != 64<<10 || st.VSEs != 1 {
		t.Errorf("stats after destroy: %+v", st)
	}
}

// brokenPolicy hands out overlapping or wrapping ranges.
type brokenPolicy struct {
	addr uint64
}

func (b *brokenPolicy) Name() string                         { return "broken" }
func (b *brokenPolicy) Init(uint64, uint64) error            { return nil }
func (b *brokenPolicy) Free(uint64, uint64) error            { return nil }
func (b *brokenPolicy) FreeBlocks(func(uint64, uint64) bool) {}
func (b *brokenPolicy) Alloc(size uint64) (uint64, uint64, error) {
	return b.addr, size, nil
}

func TestVMMRefusesBrokenPolicy(t *testing.T) {
	ctx := context.Background()
	bp := &brokenPolicy{}
	v := newVMM(t, bp, 64<<10, 4)
	id, _ := v.CreateVSE(ctx, req("a", 32<<10))
	if _, err := v.Alloc(ctx, id, 1024); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Alloc(ctx, id, 1024); !errors.Is(err, se.ErrOverlap) {
		t.Errorf("same range twice: %v, want ErrOverlap", err)
	}
	bp.addr = math.MaxUint64 - 255
	if _, err := v.Alloc(ctx, id, 1024); !errors.Is(err, se.ErrOverflow) {
		t.Errorf("wrapping range: %v, want ErrOverflow", err)
	}
	bp.addr = 100
	if _, err := v.Alloc(ctx, id, 1024); !errors.Is(err, se.ErrAlignment) {
		t.Errorf("misaligned range: %v, want ErrAlignment", err)
	}
}

// TestVMMProperties runs random alloc/free/grant/write sequences against a
// model and checks: ranges never overlap, quotas hold, no access outside a
// VSE's ranges or live grants succeeds, freed memory reads zero, and
// freeing everything restores the pool (the largest block, for buddy).
func TestVMMProperties(t *testing.T) {
	ctx := context.Background()
	const pool = 256 << 10
	for _, pc := range policies {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%s/%d", pc.name, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 99))
				v := newVMM(t, pc.new(), pool, 6)
				type rng2 struct{ addr, size, res uint64 }
				type gr struct {
					ref         se.GrantRef
					owner, peer se.VSEID
					addr, n     uint64
					ro          bool
				}
				owned := map[se.VSEID][]rng2{}
				quota := map[se.VSEID]uint64{}
				var ids []se.VSEID
				var grants []gr
				var revoked []gr
				for i := range 6 {
					q := uint64(16+rng.IntN(64)) * 1024
					id, err := v.CreateVSE(ctx, req(fmt.Sprint("v", i), q))
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
					quota[id] = q
				}
				// inside reports whether the union of the VSE's ranges
				// covers [a, a+n).
				inside := func(id se.VSEID, a, n uint64) bool {
					for cur := a; cur < a+n; {
						next := cur
						for _, r := range owned[id] {
							if cur >= r.addr && cur < r.addr+r.size {
								next = r.addr + r.size
							}
						}
						if next == cur {
							return false
						}
						cur = next
					}
					return true
				}
				for step := range 1500 {
					id := ids[rng.IntN(len(ids))]
					switch op := rng.IntN(10); {
					case op < 4: // alloc
						size := uint64(1+rng.IntN(24)) * 256
						res := reservedBy(pc.name, pool, size)
						var held uint64 // the quota is charged by reserved bytes
						for _, r := range owned[id] {
							held += r.res
						}
						addr, err := v.Alloc(ctx, id, size)
						if held+size > quota[id] {
							if !errors.Is(err, se.ErrQuota) {
								t.Fatalf("step %d: over quota alloc: %v", step, err)
							}
							continue
						}
						if held+res > quota[id] {
							// Over by the policy's rounding: the policy
							// may refuse first, but it must not succeed.
							if !errors.Is(err, se.ErrQuota) && !errors.Is(err, se.ErrNoMemory) {
								t.Fatalf("step %d: over quota by rounding: %v", step, err)
							}
							continue
						}
						if err != nil {
							if !errors.Is(err, se.ErrNoMemory) {
								t.Fatalf("step %d: alloc: %v", step, err)
							}
							continue
						}
						buf := make([]byte, size)
						if err := v.ReadAt(id, buf, addr); err != nil || !bytes.Equal(buf, make([]byte, size)) {
							t.Fatalf("step %d: fresh range not zero (%v)", step, err)
						}
						owned[id] = append(owned[id], rng2{addr, size, res})
						fill := bytes.Repeat([]byte{byte(step) | 1}, int(size))
						if err := v.WriteAt(id, fill, addr); err != nil {
							t.Fatal(err)
						}
					case op < 6: // free
						rs := owned[id]
						if len(rs) == 0 {
							continue
						}
						k := rng.IntN(len(rs))
						if err := v.Free(ctx, id, rs[k].addr); err != nil {
							t.Fatalf("step %d: free: %v", step, err)
						}
						if err := v.Free(ctx, id, rs[k].addr); !errors.Is(err, se.ErrDoubleFree) {
							t.Fatalf("step %d: double free: %v", step, err)
						}
						freed := rs[k]
						owned[id] = append(rs[:k], rs[k+1:]...)
						for i := 0; i < len(grants); i++ {
							g := grants[i]
							if g.owner == id && g.addr >= freed.addr && g.addr < freed.addr+freed.size {
								revoked = append(revoked, g)
								grants = append(grants[:i], grants[i+1:]...)
								i--
							}
						}
					case op < 7: // grant
						rs := owned[id]
						if len(rs) == 0 {
							continue
						}
						r := rs[rng.IntN(len(rs))]
						peer := ids[rng.IntN(len(ids))]
						n := uint64(1 + rng.IntN(int(r.size)))
						ref, err := v.Grant(ctx, id, peer, r.addr, n, rng.IntN(2) == 0)
						if peer == id {
							if !errors.Is(err, se.ErrGrant) {
								t.Fatalf("self grant: %v", err)
							}
							continue
						}
						if err != nil {
							t.Fatalf("grant: %v", err)
						}
						grants = append(grants, gr{ref, id, peer, r.addr, n, false})
					case op < 8: // revoke
						if len(grants) == 0 {
							continue
						}
						k := rng.IntN(len(grants))
						if err := v.Revoke(ctx, grants[k].owner, grants[k].ref); err != nil {
							t.Fatalf("revoke: %v", err)
						}
						revoked = append(revoked, grants[k])
						grants = append(grants[:k], grants[k+1:]...)
					default: // random probes
						a := uint64(rng.IntN(pool+4096)) &^ 15
						n := uint64(1 + rng.IntN(2048))
						err := v.Validate(id, a, n)
						if want := inside(id, a, n); (err == nil) != want {
							t.Fatalf("step %d: Validate(%d, %#x, %d) = %v, model says inside=%v", step, id, a, n, err, want)
						}
						p := make([]byte, 8)
						for _, g := range grants {
							if g.peer != id {
								if err := v.ReadGrant(id, g.ref, 0, p[:1]); err == nil {
									t.Fatalf("non-peer read a grant")
								}
								continue
							}
							// The peer reaches exactly [0, n) of the grant.
							if err := v.ReadGrant(id, g.ref, g.n-1, p[:1]); err != nil {
								t.Fatalf("peer cannot read its grant's last byte: %v", err)
							}
							if err := v.ReadGrant(id, g.ref, g.n, p[:1]); !errors.Is(err, se.ErrAccess) {
								t.Fatalf("peer reads past its grant: %v", err)
							}
						}
						for _, g := range revoked {
							if err := v.ReadGrant(g.peer, g.ref, 0, p[:1]); !errors.Is(err, se.ErrGrantRevoked) {
								t.Fatalf("revoked grant usable: %v", err)
							}
						}
					}
					// Invariants: no overlap across VSEs, quotas hold.
					var all []rng2
					for _, id := range ids {
						rs, err := v.Ranges(id)
						if err != nil {
							t.Fatal(err)
						}
						var sum uint64
						for _, r := range rs {
							all = append(all, rng2{r[0], r[1], 0})
						}
						for _, r := range owned[id] {
							sum += r.res
						}
						if sum > quota[id] {
							t.Fatalf("quota broken: %d reserved > %d", sum, quota[id])
						}
						if len(rs) != len(owned[id]) {
							t.Fatalf("VMM has %d ranges, model %d", len(rs), len(owned[id]))
						}
					}
					for i := range all {
						for j := i + 1; j < len(all); j++ {
							a, b := all[i], all[j]
							if a.addr < b.addr+b.size && b.addr < a.addr+a.size {
								t.Fatalf("step %d: ranges overlap: %+v %+v", step, a, b)
							}
						}
					}
				}
				// Freed memory reads as zero: free everything, then one
				// VSE takes the whole pool it can and reads it.
				for _, id := range ids {
					for _, r := range owned[id] {
						if err := v.Free(ctx, id, r.addr); err != nil {
							t.Fatal(err)
						}
					}
				}
				st := v.Stats()
				if st.UsedBytes != 0 || st.ReservedBytes != 0 {
					t.Fatalf("after freeing all: %+v", st)
				}
				if pc.name == "buddy" || pc.name == "first-fit" {
					if st.LargestFree != pool || st.FreeBlocks != 1 {
						t.Fatalf("%s: freeing everything left %d blocks, largest %d", pc.name, st.FreeBlocks, st.LargestFree)
					}
				}
				for _, id := range ids {
					if err := v.DestroyVSE(ctx, id); err != nil {
						t.Fatal(err)
					}
				}
				big, _ := v.CreateVSE(ctx, req("big", pool))
				for {
					addr, err := v.Alloc(ctx, big, 8<<10)
					if err != nil {
						break
					}
					buf := make([]byte, 8<<10)
					_ = v.ReadAt(big, buf, addr)
					if !bytes.Equal(buf, make([]byte, len(buf))) {
						t.Fatalf("freed memory at %#x is not zero", addr)
					}
				}
			})
		}
	}
}

func TestVirtualSEs(t *testing.T) {
	ctx := context.Background()
	vmm := newVMM(t, se.NewBuddyPolicy(), 64<<10, 4)
	sem, _ := se.NewVirtualManager(vmm)
	aidA := []byte{0xA0, 0, 0, 0, 0x0A, 1}
	aidB := []byte{0xA0, 0, 0, 0, 0x0B, 1}
	a, err := sem.Create(ctx, se.VirtualConfig{ID: "a", AIDs: [][]byte{aidA}, MemoryBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sem.Create(ctx, se.VirtualConfig{ID: "b", AIDs: [][]byte{aidB}, MemoryBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Install(aidB, setest.NewStateApplet(), se.InstallOptions{}); !errors.Is(err, se.ErrAIDNotAllowed) {
		t.Errorf("install B's AID in A: %v", err)
	}
	if err := a.Install(aidA, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Install(aidB, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	// A cannot select B's applet, by full or partial AID.
	if _, err := a.OpenLogicalChannel(ctx, aidB); !errors.Is(err, se.ErrAppletNotFound) {
		t.Errorf("A opens B's applet: %v", err)
	}
	if r, _ := sem.Transmit(ctx, "a", selectCmd(0, 0, aidB[:5])); r.SW == apdu.SWSuccess {
		// aidB[:5] is a prefix of aidA too: it must reach A's own applet.
		rr, _ := sem.Transmit(ctx, "a", apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256})
		if rr.SW != apdu.SWSuccess {
			t.Errorf("partial select reached something else: %v", rr)
		}
	}
	// Storage lives in A's address space.
	ch, _ := a.OpenLogicalChannel(ctx, aidA)
	if r, _ := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsStore, Data: []byte("wallet-a")}); !r.Success() {
		t.Fatalf("STORE: %v", r)
	}
	rs, _ := vmm.Ranges(a.ID())
	if len(rs) != 1 {
		t.Fatalf("A has %d ranges", len(rs))
	}
	p := make([]byte, 9)
	if err := vmm.ReadAt(a.ID(), p, rs[0][0]); err != nil || string(p[1:]) != "wallet-a" {
		t.Errorf("A's storage in the pool: %q %v", p, err)
	}
	if err := vmm.ReadAt(b.ID(), p, rs[0][0]); !errors.Is(err, se.ErrAccess) {
		t.Errorf("B reads A's storage: %v", err)
	}
	// No destroy with open channels; then destroy zeroes and refuses use.
	if err := sem.Destroy(ctx, "a"); !errors.Is(err, se.ErrBusy) {
		t.Errorf("destroy with an open channel: %v", err)
	}
	_ = ch.Close()
	if err := sem.Destroy(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Transmit(ctx, selectCmd(0, 0, aidA)); !errors.Is(err, se.ErrDestroyed) {
		t.Errorf("Transmit after destroy: %v", err)
	}
	if err := a.Install(aidA, setest.NewStateApplet(), se.InstallOptions{}); !errors.Is(err, se.ErrDestroyed) {
		t.Errorf("Install after destroy: %v", err)
	}
	if _, err := sem.Transmit(ctx, "a", selectCmd(0, 0, aidA)); !errors.Is(err, se.ErrNoVSE) {
		t.Errorf("route to destroyed VSE: %v", err)
	}
	if err := vmm.Validate(a.ID(), rs[0][0], 1); !errors.Is(err, se.ErrDestroyed) {
		t.Errorf("Validate after destroy: %v", err)
	}
	if got := sem.IDs(); len(got) != 1 || got[0] != "b" {
		t.Errorf("IDs = %v", got)
	}
	// Manager errors.
	if _, err := sem.Create(ctx, se.VirtualConfig{ID: "b"}); !errors.Is(err, se.ErrDuplicateVSE) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := sem.Request(se.VirtualConfig{ID: "q", AIDs: [][]byte{aidA, aidB}, MemoryBytes: 256, StorageBytes: 256}); !errors.Is(err, se.ErrQuota) {
		t.Errorf("storage over quota: %v", err)
	}
	if _, err := sem.Request(se.VirtualConfig{ID: "q", AIDs: [][]byte{aidA, aidA}}); !errors.Is(err, se.ErrDuplicateAID) {
		t.Errorf("duplicate AID: %v", err)
	}
	if _, err := sem.Request(se.VirtualConfig{ID: "q", PageSize: 300}); !errors.Is(err, se.ErrAlignment) {
		t.Errorf("page 300: %v", err)
	}
	r, err := sem.Request(se.VirtualConfig{ID: "q", MemoryBytes: 1000, StorageBytes: 10})
	if err != nil || r.MemoryBytes != 1024 || r.StorageBytes != 256 || r.MaxChannels != 4 {
		t.Errorf("Request rounding: %+v %v", r, err)
	}
	if _, err := sem.Request(se.VirtualConfig{ID: "q", MemoryBytes: math.MaxUint64}); !errors.Is(err, se.ErrOverflow) {
		t.Errorf("huge quota: %v", err)
	}
	if _, err := se.NewVirtualManager(nil); !errors.Is(err, se.ErrNotInitialized) {
		t.Errorf("nil hypervisor: %v", err)
	}
}

func TestBuddyStats(t *testing.T) {
	ctx := context.Background()
	v := newVMM(t, se.NewBuddyPolicy(), 64<<10, 4) // 256 pages: orders 0–8
	id, _ := v.CreateVSE(ctx, req("a", 64<<10))
	a, err := v.Alloc(ctx, id, 256)
	if err != nil {
		t.Fatal(err)
	}
	st := v.Stats()
	// Splitting order 8 down to 0 leaves one free buddy of each order 0–7.
	want := []int{1, 1, 1, 1, 1, 1, 1, 1}
	if fmt.Sprint(st.FreeByOrder) != fmt.Sprint(want) || st.FreeBlocks != 8 || st.LargestFree != 32<<10 {
		t.Errorf("after one page: %+v", st)
	}
	b, _ := v.Alloc(ctx, id, 768) // rounds up to 4 pages
	st = v.Stats()
	if st.UsedBytes != 1024 || st.ReservedBytes != 256+1024 || st.HighWater != 1280 {
		t.Errorf("used/reserved/high-water: %+v", st)
	}
	_ = v.Free(ctx, id, a)
	_ = v.Free(ctx, id, b)
	st = v.Stats()
	if st.FreeBlocks != 1 || st.LargestFree != 64<<10 || st.HighWater != 1280 || st.Fragmentation() != 0 {
		t.Errorf("after freeing: %+v", st)
	}
	if st.Policy != "buddy" || st.PageSize != 256 {
		t.Errorf("stats header: %+v", st)
	}
}

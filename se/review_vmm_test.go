package se_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se"
)

// TestGrantCannotOutliveFreedMemory: a grant over two adjacent ranges of
// its owner must not keep the second range reachable after the owner
// frees it — the pages go back to the pool and may belong to another VSE
// next. Grant refuses a range that is not inside one live range of the
// owner, and Free revokes every grant that overlaps the freed range.
func TestGrantCannotOutliveFreedMemory(t *testing.T) {
	ctx := context.Background()
	for _, p := range policies {
		if p.name == "static" {
			continue // one range per partition: never adjacent
		}
		t.Run(p.name, func(t *testing.T) {
			v := newVMM(t, p.new(), 64<<10, 4)
			owner, _ := v.CreateVSE(ctx, req("owner", 8<<10))
			peer, _ := v.CreateVSE(ctx, req("peer", 8<<10))
			victim, _ := v.CreateVSE(ctx, req("victim", 8<<10))
			a, err := v.Alloc(ctx, owner, 256)
			if err != nil {
				t.Fatal(err)
			}
			b, err := v.Alloc(ctx, owner, 256)
			if err != nil {
				t.Fatal(err)
			}
			if b != a+256 {
				t.Skipf("ranges not adjacent (%#x, %#x)", a, b)
			}
			ref, err := v.Grant(ctx, owner, peer, a, 512, false)
			if err == nil {
				t.Error("Grant over two adjacent ranges succeeded; want ErrAccess")
				// The grant spans two ranges; if it is allowed at all,
				// freeing either range must end it.
				if err := v.Free(ctx, owner, b); err != nil {
					t.Fatal(err)
				}
				c, err := v.Alloc(ctx, victim, 256)
				if err != nil {
					t.Fatal(err)
				}
				if c == b {
					if err := v.WriteAt(victim, []byte("victim secret"), c); err != nil {
						t.Fatal(err)
					}
				}
				got := make([]byte, 13)
				if err := v.ReadGrant(peer, ref, 256, got); err == nil {
					t.Fatalf("peer reads freed memory through a stale grant (now %q at %#x, victim's range at %#x)", got, b, c)
				}
				if err := v.WriteGrant(peer, ref, 256, []byte("overwrite")); err == nil {
					t.Fatal("peer writes freed memory through a stale grant")
				}
				return
			}
			if !errors.Is(err, se.ErrAccess) {
				t.Errorf("grant over two ranges: err = %v, want ErrAccess", err)
			}
			// A grant inside one range still works.
			ref, err = v.Grant(ctx, owner, peer, b, 256, true)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 1)
			if err := v.ReadGrant(peer, ref, 0, got); err != nil {
				t.Fatal(err)
			}
			if err := v.Free(ctx, owner, b); err != nil {
				t.Fatal(err)
			}
			if err := v.ReadGrant(peer, ref, 0, got); !errors.Is(err, se.ErrGrantRevoked) {
				t.Errorf("grant after its range was freed: err = %v, want ErrGrantRevoked", err)
			}
		})
	}
}

// TestDestroyWithCancelledContext: a Destroy that fails must leave the VSE
// whole (still listed, usable, destroyable later); it must never forget a
// VSE whose memory the hypervisor still holds.
func TestDestroyWithCancelledContext(t *testing.T) {
	ctx := context.Background()
	vmm := newVMM(t, se.NewBuddyPolicy(), 64<<10, 4)
	sem, _ := se.NewVirtualManager(vmm)
	aid := []byte{0xA0, 0, 0, 0, 0x66, 1}
	v, err := sem.Create(ctx, se.VirtualConfig{ID: "w", AIDs: [][]byte{aid}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Install(aid, &tagApplet{tag: 1}, se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := sem.Destroy(cctx, "w"); err != nil {
		if _, gerr := sem.Get("w"); gerr != nil {
			t.Fatalf("Destroy failed (%v) but the manager forgot the VSE: %v; the hypervisor still holds %+v", err, gerr, vmm.Stats())
		}
		if _, terr := v.OpenLogicalChannel(ctx, aid); terr != nil {
			t.Fatalf("VSE unusable after a failed Destroy: %v", terr)
		}
		// Close the channel opened above by closing the VSE's channels.
		_ = v.Close()
		if err := sem.Destroy(ctx, "w"); err != nil {
			t.Fatal(err)
		}
	}
	if st := vmm.Stats(); st.VSEs != 0 || st.UsedBytes != 0 {
		t.Errorf("after Destroy: %d VSEs, %d bytes still held", st.VSEs, st.UsedBytes)
	}
}

// TestVSERequestIsACopy: the request a VSE returns is the caller's to
// change; changing it must not change which applets the VSE allows.
func TestVSERequestIsACopy(t *testing.T) {
	ctx := context.Background()
	sem, _ := se.NewVirtualManager(newVMM(t, se.NewBuddyPolicy(), 64<<10, 4))
	allowed := []byte{0xA0, 0, 0, 0, 0x77, 1}
	v, err := sem.Create(ctx, se.VirtualConfig{ID: "w", AIDs: [][]byte{allowed}})
	if err != nil {
		t.Fatal(err)
	}
	r := v.Request()
	r.AIDs[0][5] = 0xEE // now the AID of another tenant's applet
	other := []byte{0xA0, 0, 0, 0, 0x77, 0xEE}
	if err := v.Install(other, &tagApplet{tag: 9}, se.InstallOptions{}); !errors.Is(err, se.ErrAIDNotAllowed) {
		t.Errorf("Install of an AID the configuration does not list: %v, want ErrAIDNotAllowed", err)
	}
	if got := v.Request().AIDs[0]; got[5] != 1 {
		t.Errorf("Request().AIDs changed to % X through an earlier copy", got)
	}
}

// TestVMMConfigBoundsPageCount: the page tables grow with PoolBytes /
// PageSize (two bytes of owner per page, nine of buddy lists); a 1 GiB
// pool in 1-byte pages would need about 11 GiB. Validate refuses it, so
// NewVMM returns ErrConfig instead of exhausting memory.
func TestVMMConfigBoundsPageCount(t *testing.T) {
	for _, c := range []se.VMMConfig{
		{PoolBytes: 1 << 30, PageSize: 1},
		{PoolBytes: 1 << 30, PageSize: 16},
	} {
		if err := c.Validate(); !errors.Is(err, se.ErrConfig) {
			t.Errorf("%d-byte pool in %d-byte pages: Validate = %v, want ErrConfig", c.PoolBytes, c.PageSize, err)
		}
	}
	for _, c := range []se.VMMConfig{
		{PoolBytes: 1 << 30, PageSize: 256},
		{PoolBytes: 1 << 20, PageSize: 1},
		{},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%d-byte pool in %d-byte pages: %v", c.PoolBytes, c.PageSize, err)
		}
	}
}

// TestUninstalledAppletStorageIsDead: an applet's Storage handle must stop
// working when the applet is uninstalled; in a VSE its range goes back to
// the pool and the next applet gets it, so the old handle would read and
// write the new owner's bytes.
func TestUninstalledAppletStorageIsDead(t *testing.T) {
	ctx := context.Background()
	sem, _ := se.NewVirtualManager(newVMM(t, se.NewFirstFitPolicy(), 64<<10, 4))
	a := []byte{0xA0, 0, 0, 0, 0x99, 1}
	b := []byte{0xA0, 0, 0, 0, 0x99, 2}
	v, err := sem.Create(ctx, se.VirtualConfig{ID: "w", AIDs: [][]byte{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	var old, fresh se.Storage
	capture := func(aid []byte, st *se.Storage) {
		t.Helper()
		if err := v.Install(aid, &captureStorage{Applet: okApplet, got: st}, se.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		ch, err := v.OpenLogicalChannel(ctx, aid) // Select hands over the storage
		if err != nil {
			t.Fatal(err)
		}
		_ = ch.Close()
	}
	capture(a, &old)
	if err := v.Uninstall(a); err != nil {
		t.Fatal(err)
	}
	capture(b, &fresh)
	if _, err := fresh.WriteAt([]byte("b's secret"), 0); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 10)
	if _, err := old.ReadAt(p, 0); err == nil {
		t.Errorf("uninstalled applet's storage still reads: %q", p)
	} else if !errors.Is(err, se.ErrStorage) {
		t.Errorf("uninstalled applet's storage: %v, want ErrStorage", err)
	}
	if _, err := old.WriteAt([]byte("overwrite!"), 0); err == nil {
		t.Error("uninstalled applet's storage still writes")
	}
	if _, err := fresh.ReadAt(p, 0); err != nil || string(p) != "b's secret" {
		t.Errorf("new applet's storage: %q %v", p, err)
	}
	// The same in a Memory element: the handle dies with the applet.
	m, _ := se.NewMemory(se.MemoryConfig{})
	var st se.Storage
	_ = m.Install(a, &captureStorage{Applet: okApplet, got: &st}, se.InstallOptions{})
	ch, _ := m.OpenLogicalChannel(ctx, a)
	_ = ch.Close()
	_ = m.Uninstall(a)
	if _, err := st.WriteAt([]byte{1}, 0); !errors.Is(err, se.ErrStorage) {
		t.Errorf("Memory: uninstalled applet's storage: %v, want ErrStorage", err)
	}
}

// TestVirtualConfigValidateMatchesCreate: a configuration Validate accepts
// must not be refused by Create for its own values: an applet storage
// larger than the whole quota is refused up front (ErrQuota).
func TestVirtualConfigValidateMatchesCreate(t *testing.T) {
	ctx := context.Background()
	cfg := se.VirtualConfig{ID: "x", MemoryBytes: 256, StorageBytes: 512}
	verr := cfg.Validate()
	sem, _ := se.NewVirtualManager(newVMM(t, se.NewBuddyPolicy(), 64<<10, 4))
	_, cerr := sem.Create(ctx, cfg)
	if (verr == nil) != (cerr == nil) {
		t.Errorf("Validate = %v but Create = %v", verr, cerr)
	}
	if !errors.Is(verr, se.ErrQuota) {
		t.Errorf("storage above the quota: Validate = %v, want ErrQuota", verr)
	}
}

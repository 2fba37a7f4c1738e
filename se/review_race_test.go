package se_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

// TestRaceManyChannelsManyVSEs (run with -race): goroutines open and close
// channels on several VSEs, send raw and channel APDUs, close channels
// behind each other's backs, allocate, grant, revoke and read grants, and
// destroy and recreate VSEs — all at once. Nothing may panic, race or
// leak: a channel's GET returns only its own PUT, and at the end the pool
// is whole again.
func TestRaceManyChannelsManyVSEs(t *testing.T) {
	ctx := context.Background()
	for _, pc := range policies {
		t.Run(pc.name, func(t *testing.T) {
			vmm := newVMM(t, pc.new(), 256<<10, 16)
			sem, _ := se.NewVirtualManager(vmm)
			aid := func(w int) []byte { return []byte{0xA0, 0, 0, 0, 0x88, byte(w)} }
			create := func(w int) (*se.VSE, error) {
				// 32 KiB: two 16 KiB static partitions, as quotas are
				// charged by reserved bytes.
				v, err := sem.Create(ctx, se.VirtualConfig{ID: fmt.Sprint("v", w), AIDs: [][]byte{aid(w)}, MemoryBytes: 32 << 10, MaxChannels: 8})
				if err != nil {
					return nil, err
				}
				return v, v.Install(aid(w), setest.NewStateApplet(), se.InstallOptions{})
			}
			const vses = 4
			for w := range vses {
				if _, err := create(w); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for g := range 8 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for i := range 150 {
						w := rng.IntN(vses)
						v, err := sem.Get(fmt.Sprint("v", w))
						if err != nil {
							continue // being recreated
						}
						switch rng.IntN(6) {
						case 0, 1, 2:
							ch, err := v.OpenLogicalChannel(ctx, aid(w))
							if err != nil {
								continue // no free channel, closed or destroyed
							}
							val := fmt.Appendf(nil, "g%d-%d", g, i)
							r, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsPut, Data: val})
							if err == nil && r.Success() {
								r, err = ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsGet, Ne: 256})
								if err == nil && r.Success() && !bytes.Equal(r.Data, val) {
									errs <- fmt.Errorf("channel %d of v%d read %q, wrote %q", ch.Number(), w, r.Data, val)
								}
							}
							_ = ch.Close()
						case 3: // close a random channel behind its owner's back
							_, _ = v.Transmit(ctx, apdu.Command{INS: 0x70, P1: 0x80, P2: byte(1 + rng.IntN(7))})
						case 4: // memory: alloc, grant to a neighbour, read, revoke, free
							peer, err := sem.Get(fmt.Sprint("v", (w+1)%vses))
							if err != nil {
								continue
							}
							a, err := vmm.Alloc(ctx, v.ID(), 256)
							if err != nil {
								continue
							}
							if ref, err := vmm.Grant(ctx, v.ID(), peer.ID(), a, 256, true); err == nil {
								_ = vmm.ReadGrant(peer.ID(), ref, 0, make([]byte, 16))
								if err := vmm.WriteGrant(peer.ID(), ref, 0, []byte{1}); !errors.Is(err, se.ErrReadOnly) && err != nil && !errors.Is(err, se.ErrDestroyed) && !errors.Is(err, se.ErrGrantRevoked) {
									errs <- fmt.Errorf("write through a read-only grant: %v", err)
								}
								_ = vmm.Revoke(ctx, v.ID(), ref)
							}
							_ = vmm.Free(ctx, v.ID(), a)
							_ = vmm.Stats()
						case 5: // destroy (if idle) and recreate
							if err := sem.Destroy(ctx, fmt.Sprint("v", w)); err == nil {
								// Another goroutine may create it first, or
								// destroy the new one before its Install.
								if _, err := create(w); err != nil && !errors.Is(err, se.ErrDuplicateVSE) && !errors.Is(err, se.ErrDestroyed) {
									errs <- fmt.Errorf("recreate v%d: %v", w, err)
								}
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for _, id := range sem.IDs() {
				v, _ := sem.Get(id)
				_ = v.Close()
				if err := sem.Destroy(ctx, id); err != nil {
					t.Errorf("final Destroy %s: %v", id, err)
				}
			}
			st := vmm.Stats()
			if st.VSEs != 0 || st.UsedBytes != 0 || st.ReservedBytes != 0 {
				t.Errorf("after the run: %+v", st)
			}
			if pc.name != "static" && st.LargestFree != st.PoolBytes {
				t.Errorf("largest free block %d after freeing everything, want the whole pool %d", st.LargestFree, st.PoolBytes)
			}
		})
	}
}

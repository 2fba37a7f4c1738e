package se_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

// TestConcurrentVSEs drives several VSEs on one VMM from several
// goroutines (run with -race): each writes and reads its own applet's
// storage and channel state while others allocate, grant and destroy.
func TestConcurrentVSEs(t *testing.T) {
	ctx := context.Background()
	for _, pc := range policies {
		t.Run(pc.name, func(t *testing.T) {
			vmm := newVMM(t, pc.new(), 256<<10, 16)
			sem, _ := se.NewVirtualManager(vmm)
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for g := range 4 {
				wg.Go(func() {
					id := fmt.Sprint("w", g)
					aid := []byte{0xA0, 0, 0, 0, 0x77, byte(g)}
					// 32 KiB: two 16 KiB static partitions (storage and
					// churn), as quotas are charged by reserved bytes.
					v, err := sem.Create(ctx, se.VirtualConfig{ID: id, AIDs: [][]byte{aid}, MemoryBytes: 32 << 10})
					if err != nil {
						errs <- err
						return
					}
					if err := v.Install(aid, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
						errs <- err
						return
					}
					ch, err := v.OpenLogicalChannel(ctx, aid)
					if err != nil {
						errs <- err
						return
					}
					for i := range 40 {
						val := fmt.Appendf(nil, "%s-%d", id, i)
						r, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsStore, Data: val})
						if err != nil || !r.Success() {
							errs <- fmt.Errorf("%s store: %v %v", id, r, err)
							return
						}
						r, err = ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: setest.InsLoad, Ne: 256})
						if err != nil || !bytes.Equal(r.Data, val) {
							errs <- fmt.Errorf("%s load %q, stored %q: %v", id, r.Data, val, err)
							return
						}
						// Churn the pool beside the applet's storage.
						a, err := vmm.Alloc(ctx, v.ID(), 256)
						if err == nil {
							_ = vmm.WriteAt(v.ID(), val, a)
							_ = vmm.Free(ctx, v.ID(), a)
						}
						_ = vmm.Stats()
					}
					_ = ch.Close()
					if err := sem.Destroy(ctx, id); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if st := vmm.Stats(); st.VSEs != 0 || st.UsedBytes != 0 {
				t.Errorf("after the run: %+v", st)
			}
		})
	}
}

package se_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/setest"
)

var (
	stateAID = []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x01, 0x01}
	otherAID = []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x02}
)

func TestMemoryConformance(t *testing.T) {
	setest.TestSecureElement(t, func(t *testing.T) se.SecureElement {
		m, err := se.NewMemory(se.MemoryConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		return m
	}, setest.Config{AID: stateAID, StateAID: stateAID, MaxChannels: 20})
}

func TestMemoryConformanceFewChannels(t *testing.T) {
	setest.TestSecureElement(t, func(t *testing.T) se.SecureElement {
		m, err := se.NewMemory(se.MemoryConfig{MaxChannels: 4})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		return m
	}, setest.Config{AID: stateAID, StateAID: stateAID, MaxChannels: 4})
}

func TestVSEConformance(t *testing.T) {
	for _, pol := range []func() se.Policy{
		// 32 partitions of 2 KiB: the applet's storage takes one, the
		// whole 2 KiB quota (quotas are charged by reserved bytes).
		func() se.Policy { return se.NewStaticPolicy(32) }, se.NewFirstFitPolicy, se.NewBuddyPolicy,
	} {
		name := pol().Name()
		t.Run(name, func(t *testing.T) {
			vmm, err := se.NewVMM(se.VMMConfig{PoolBytes: 64 << 10, PageSize: 256, MaxVSEs: 4, Policy: pol()})
			if err != nil {
				t.Fatal(err)
			}
			sem, err := se.NewVirtualManager(vmm)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			setest.TestSecureElement(t, func(t *testing.T) se.SecureElement {
				n++
				id := fmt.Sprintf("vse-%d", n)
				v, err := sem.Create(context.Background(), se.VirtualConfig{
					ID: id, AIDs: [][]byte{stateAID, otherAID}, MemoryBytes: 2048, MaxChannels: 6, StorageBytes: 256,
				})
				if err != nil {
					t.Fatal(err)
				}
				// A neighbour VSE with the same applet must not interfere.
				if err := v.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					_ = v.Close()
					if err := sem.Destroy(context.Background(), id); err != nil {
						t.Errorf("Destroy %s: %v", id, err)
					}
				})
				return v
			}, setest.Config{AID: stateAID, StateAID: stateAID, MaxChannels: 6})
			if st := vmm.Stats(); st.VSEs != 0 || st.UsedBytes != 0 {
				t.Errorf("after destroying every VSE: %+v", st)
			}
		})
	}
}

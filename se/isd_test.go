package se_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// seeded is a deterministic io.Reader for challenges and keys.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed uint64) *seeded {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return &seeded{r: rand.NewChaCha8(s)}
}
func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func testKeys(r *seeded, kvn byte, n int) scp03.StaticKeys {
	k := scp03.StaticKeys{KVN: kvn, ENC: make([]byte, n), MAC: make([]byte, n), DEK: make([]byte, n)}
	_, _ = r.Read(k.ENC)
	_, _ = r.Read(k.MAC)
	_, _ = r.Read(k.DEK)
	return k
}

var testCPLC = se.CPLC{ICFabricator: 0x4790, ICType: 0x5167, OSID: 0x4791, OSReleaseDate: 0x2348, ICSerialNumber: 0x12345678, ICPersoEquipment: 0xCAFEBABE}

func newCardWithISD(t *testing.T, keys scp03.StaticKeys, r *seeded, s16 bool) (*se.Memory, *se.ISD) {
	t.Helper()
	m, err := se.NewMemory(se.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	isd, err := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: r, S16: s16, CPLC: testCPLC})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true}); err != nil {
		t.Fatal(err)
	}
	return m, isd
}

func TestISDSecureChannel(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		level  scp03.SecurityLevel
		keyLen int
		s16    bool
	}{
		{scp03.LevelAll, 16, false}, {scp03.LevelAll, 32, true}, {0x13, 24, false},
		{scp03.LevelCMAC, 16, false}, {scp03.LevelNone, 16, false},
	} {
		t.Run(fmt.Sprintf("%02X/%d/S16=%v", byte(tc.level), tc.keyLen, tc.s16), func(t *testing.T) {
			r := newSeeded(uint64(tc.level) + uint64(tc.keyLen))
			keys := testKeys(r, 0x30, tc.keyLen)
			m, _ := newCardWithISD(t, keys, r, tc.s16)
			// On a logical channel, as a host would next to other apps.
			ch, err := m.OpenLogicalChannel(ctx, se.DefaultISDAID())
			if err != nil {
				t.Fatal(err)
			}
			host, err := scp03.Open(ctx, se.TransmitFunc(ch), keys, tc.level, scp03.Options{Channel: ch.Number(), S16: tc.s16}, r)
			if err != nil {
				t.Fatalf("scp03.Open: %v", err)
			}
			defer host.Close()
			cla, _ := apdu.WithChannel(0x80, ch.Number())
			resp, err := host.Transmit(ctx, se.TransmitFunc(ch), apdu.Command{CLA: cla, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
			if err != nil || !resp.Success() {
				t.Fatalf("GET DATA CPLC in the secure channel: %v %v", resp, err)
			}
			got, err := se.ParseCPLC(resp.Data)
			if err != nil || got != testCPLC {
				t.Fatalf("CPLC = %+v, %v", got, err)
			}
			// The basic channel is not in the secure channel: a
			// secure-messaging command there is refused.
			resp = tx(t, m, apdu.Command{CLA: 0x84, INS: 0xCA, P1: 0x9F, P2: 0x7F, Data: make([]byte, 8), Ne: 256})
			if resp.SW != apdu.SWSecurityStatusNotSatisfied {
				t.Errorf("SM command on channel 0 without a session: %v, want 6982", resp)
			}
		})
	}
}

func TestISDWrongKeys(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(1)
	keys := testKeys(r, 0x30, 16)
	m, _ := newCardWithISD(t, keys, r, false)
	wrong := testKeys(r, 0x30, 16)
	if _, err := scp03.Open(ctx, se.TransmitFunc(m), wrong, scp03.LevelAll, scp03.Options{}, r); !errors.Is(err, scp03.ErrCardCryptogram) {
		t.Errorf("Open with wrong keys: %v", err)
	}
	other := keys
	other.KVN = 0x31
	var st *apdu.StatusError
	if _, err := scp03.Open(ctx, se.TransmitFunc(m), other, scp03.LevelAll, scp03.Options{}, r); !errors.Is(err, scp03.ErrInitializeUpdate) || !errors.As(err, &st) || st.SW != apdu.SWReferencedDataNotFound {
		t.Errorf("Open with an unknown key version: %v, want 6A88", err)
	}
	// GET DATA works without a secure channel; PUT KEY does not.
	resp := tx(t, m, apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
	if !resp.Success() || !bytes.Equal(resp.Data, testCPLC.MarshalBinary()) {
		t.Errorf("plain GET DATA CPLC: %v", resp)
	}
	put, _ := scp03.PutKey(keys.DEK, 0x30, testKeys(r, 0x31, 16))
	if resp = tx(t, m, put); resp.SW != apdu.SWSecurityStatusNotSatisfied {
		t.Errorf("PUT KEY without a secure channel: %v, want 6982", resp)
	}
	if resp = tx(t, m, apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x00, P2: 0x42, Ne: 256}); resp.SW != apdu.SWReferencedDataNotFound {
		t.Errorf("GET DATA unknown tag: %v, want 6A88", resp)
	}
	fresh, _ := newCardWithISD(t, keys, r, false)
	if resp = tx(t, fresh, apdu.Command{CLA: 0x80, INS: 0x82, P1: 0x33, Data: make([]byte, 16)}); resp.SW != apdu.SWConditionsNotSatisfied {
		t.Errorf("EXTERNAL AUTHENTICATE without INITIALIZE UPDATE: %v, want 6985", resp)
	}
}

func TestISDPutKey(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := newSeeded(uint64(n))
			keys := testKeys(r, 0x30, n)
			m, isd := newCardWithISD(t, keys, r, false)
			tr := se.TransmitFunc(m)
			host, err := scp03.Open(ctx, tr, keys, scp03.LevelAll, scp03.Options{}, r)
			if err != nil {
				t.Fatal(err)
			}
			// Replace 30 by 31.
			next := testKeys(r, 0x31, n)
			put, err := scp03.PutKey(keys.DEK, 0x30, next)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := host.Transmit(ctx, tr, put)
			if err != nil || !resp.Success() {
				t.Fatalf("PUT KEY: %v %v", resp, err)
			}
			if err := scp03.VerifyPutKeyResponse(next, resp.Data); err != nil {
				t.Fatal(err)
			}
			// Add a key set 32 in the same session.
			added := testKeys(r, 0x32, n)
			put, _ = scp03.PutKey(keys.DEK, 0x00, added)
			if resp, err = host.Transmit(ctx, tr, put); err != nil || !resp.Success() {
				t.Fatalf("PUT KEY add: %v %v", resp, err)
			}
			// Replacing an unknown version: 6A88. A DEK mismatch: 9485.
			put, _ = scp03.PutKey(keys.DEK, 0x55, testKeys(r, 0x33, n))
			if resp, _ = host.Transmit(ctx, tr, put); resp.SW != apdu.SWReferencedDataNotFound {
				t.Errorf("PUT KEY for unknown KVN: %v", resp)
			}
			put, _ = scp03.PutKey(testKeys(r, 0, n).DEK, 0x00, testKeys(r, 0x34, n))
			if resp, _ = host.Transmit(ctx, tr, put); resp.SW != scp03.SWInvalidKeyCheckValue {
				t.Errorf("PUT KEY under a wrong DEK: %v, want 9485", resp)
			}
			if got := isd.KeyVersions(); !bytes.Equal(got, []byte{0x31, 0x32}) {
				t.Errorf("key versions %X", got)
			}
			host.Close()
			if _, err := scp03.Open(ctx, tr, keys, scp03.LevelAll, scp03.Options{}, r); err == nil {
				t.Error("old keys still open a channel")
			}
			for _, k := range []scp03.StaticKeys{next, added} {
				h, err := scp03.Open(ctx, tr, k, scp03.LevelAll, scp03.Options{}, r)
				if err != nil {
					t.Fatalf("Open with new key set %02X: %v", k.KVN, err)
				}
				resp, err := h.Transmit(ctx, tr, apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x00, P2: 0xE0, Ne: 256})
				if err != nil || !resp.Success() || resp.Data[0] != 0xE0 {
					t.Fatalf("key information: %v %v", resp, err)
				}
				h.Close()
			}
		})
	}
}

func TestISDConfigErrors(t *testing.T) {
	r := newSeeded(3)
	k := testKeys(r, 0x30, 16)
	noDEK := k
	noDEK.DEK = nil
	dup := k
	for _, tc := range []struct {
		name string
		cfg  se.ISDConfig
	}{
		{"no keys", se.ISDConfig{Rand: r}},
		{"no rand", se.ISDConfig{Keys: []scp03.StaticKeys{k}}},
		{"no DEK", se.ISDConfig{Keys: []scp03.StaticKeys{noDEK}, Rand: r}},
		{"duplicate KVN", se.ISDConfig{Keys: []scp03.StaticKeys{k, dup}, Rand: r}},
		{"KVN 00", se.ISDConfig{Keys: []scp03.StaticKeys{{ENC: k.ENC, MAC: k.MAC, DEK: k.DEK}}, Rand: r}},
		{"bad level", se.ISDConfig{Keys: []scp03.StaticKeys{k}, Rand: r, Supported: 0x02}},
		{"short key", se.ISDConfig{Keys: []scp03.StaticKeys{{KVN: 1, ENC: k.ENC[:15], MAC: k.MAC, DEK: k.DEK}}, Rand: r}},
	} {
		if _, err := se.NewISD(tc.cfg); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestCPLCRoundTrip(t *testing.T) {
	b := testCPLC.MarshalBinary()
	if len(b) != 3+se.CPLCLen {
		t.Fatalf("len %d", len(b))
	}
	for _, in := range [][]byte{b, b[3:]} {
		got, err := se.ParseCPLC(in)
		if err != nil || got != testCPLC {
			t.Errorf("ParseCPLC: %+v %v", got, err)
		}
	}
	for _, bad := range [][]byte{nil, b[:44], append(b, 0), append([]byte{0x9F, 0x7E, 0x2A}, b[3:]...)} {
		if _, err := se.ParseCPLC(bad); !errors.Is(err, se.ErrCPLC) {
			t.Errorf("ParseCPLC(%d bytes) = %v", len(bad), err)
		}
	}
}

func TestISDKeysLiveInStorage(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(11)
	keys := testKeys(r, 0x30, 16)
	// Too small for one key set: the selection is refused with 6A84.
	small, _ := se.NewMemory(se.MemoryConfig{})
	isd, _ := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: r})
	_ = small.Install(se.DefaultISDAID(), isd, se.InstallOptions{StorageBytes: se.KeyStorageBytes(1, 16) - 1})
	if resp := tx(t, small, selectCmd(0, 0, se.DefaultISDAID())); resp.SW != apdu.SWNotEnoughMemory {
		t.Errorf("ISD in too small a storage: %v, want 6A84", resp)
	}

	// In a VSE, the key record sits in the VSE's own memory.
	vmm := newVMM(t, se.NewFirstFitPolicy(), 64<<10, 4)
	sem, _ := se.NewVirtualManager(vmm)
	v, err := sem.Create(ctx, se.VirtualConfig{ID: "w", AIDs: [][]byte{se.DefaultISDAID()}, MemoryBytes: 1024, StorageBytes: 256})
	if err != nil {
		t.Fatal(err)
	}
	isd, _ = se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: r})
	if err := v.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true}); err != nil {
		t.Fatal(err)
	}
	rs, _ := vmm.Ranges(v.ID())
	rec := make([]byte, se.KeyStorageBytes(1, 16))
	if err := vmm.ReadAt(v.ID(), rec, rs[0][0]); err != nil {
		t.Fatal(err)
	}
	if rec[0] != 0x4B || rec[1] != 1 || rec[2] != 0x30 || !bytes.Equal(rec[4:20], keys.ENC) {
		t.Fatalf("key record in VSE memory: % X", rec[:8])
	}
	tr := se.TransmitFunc(v)
	host, err := scp03.Open(ctx, tr, keys, scp03.LevelAll, scp03.Options{}, r)
	if err != nil {
		t.Fatal(err)
	}
	next := testKeys(r, 0x31, 16)
	put, _ := scp03.PutKey(keys.DEK, 0x30, next)
	if resp, err := host.Transmit(ctx, tr, put); err != nil || !resp.Success() {
		t.Fatalf("PUT KEY: %v %v", resp, err)
	}
	host.Close()
	_ = vmm.ReadAt(v.ID(), rec, rs[0][0])
	if rec[2] != 0x31 || !bytes.Equal(rec[4:20], next.ENC) {
		t.Fatalf("PUT KEY did not reach the VSE's memory: % X", rec[:8])
	}
	// Corrupting the record in VSE memory is noticed at the next
	// selection, and a PUT KEY that does not fit is refused.
	_ = vmm.WriteAt(v.ID(), []byte{0x00}, rs[0][0])
	if resp := tx(t, v, selectCmd(0, 0, se.DefaultISDAID())); resp.SW != apdu.SWMemoryFailure {
		t.Errorf("select over a corrupted key record: %v, want 6581", resp)
	}
}

func TestISDPutKeyStorageFull(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(12)
	keys := testKeys(r, 0x30, 16)
	m, _ := se.NewMemory(se.MemoryConfig{})
	isd, _ := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: r})
	_ = m.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true, StorageBytes: se.KeyStorageBytes(1, 16)})
	tr := se.TransmitFunc(m)
	host, err := scp03.Open(ctx, tr, keys, scp03.LevelAll, scp03.Options{}, r)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	put, _ := scp03.PutKey(keys.DEK, 0x00, testKeys(r, 0x31, 16))
	if resp, _ := host.Transmit(ctx, tr, put); resp.SW != apdu.SWNotEnoughMemory {
		t.Errorf("PUT KEY beyond the storage: %v, want 6A84", resp)
	}
	if got := isd.KeyVersions(); !bytes.Equal(got, []byte{0x30}) {
		t.Errorf("key versions after a refused PUT KEY: %X", got)
	}
}

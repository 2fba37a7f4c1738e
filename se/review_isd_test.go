package se_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// berLen decodes a BER-TLV length (ISO/IEC 8825-1 §8.1.3; short form below
// 128, 81 xx up to 255, 82 xxxx up to 65535) and returns it with the
// number of length bytes, or −1.
func berLen(b []byte) (n, size int) {
	switch {
	case len(b) == 0:
		return -1, 0
	case b[0] < 0x80:
		return int(b[0]), 1
	case b[0] == 0x81 && len(b) >= 2 && b[1] >= 0x80:
		return int(b[1]), 2
	case b[0] == 0x82 && len(b) >= 3 && b[1] != 0:
		return int(b[1])<<8 | int(b[2]), 3
	}
	return -1, 0
}

// TestISDKeyInfoTemplateLength: the key information template (GET DATA
// 00E0) is BER-TLV; with 8 or more key sets its body exceeds 127 bytes and
// needs the long length form (81 xx, 82 xxxx).
func TestISDKeyInfoTemplateLength(t *testing.T) {
	for _, sets := range []int{1, 7, 8, 16} {
		r := newSeeded(uint64(sets))
		var keys []scp03.StaticKeys
		for i := range sets {
			keys = append(keys, testKeys(r, byte(0x30+i), 16))
		}
		isd, err := se.NewISD(se.ISDConfig{Keys: keys, Rand: r})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := se.NewMemory(se.MemoryConfig{})
		if err := m.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true, StorageBytes: 4096}); err != nil {
			t.Fatal(err)
		}
		resp := tx(t, m, apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x00, P2: 0xE0, Ne: 65536})
		if resp.SW != apdu.SWSuccess || len(resp.Data) < 2 || resp.Data[0] != 0xE0 {
			t.Fatalf("%d sets: GET DATA 00E0 = %v", sets, resp)
		}
		n, size := berLen(resp.Data[1:])
		if n < 0 || 1+size+n != len(resp.Data) {
			t.Fatalf("%d sets: template % X… has length field % X for %d bytes of body", sets, resp.Data[:min(4, len(resp.Data))], resp.Data[1:1+max(size, 1)], len(resp.Data)-1-max(size, 1))
		}
		body := resp.Data[1+size:]
		count := 0
		for len(body) > 0 {
			if len(body) < 6 || body[0] != 0xC0 || body[1] != 4 {
				t.Fatalf("%d sets: key information % X", sets, body)
			}
			count++
			body = body[6:]
		}
		if count != 3*sets {
			t.Errorf("%d sets: %d key entries, want %d", sets, count, 3*sets)
		}
	}
}

// TestISDPutKeyStatusWords: PUT KEY answers as GlobalPlatform Card
// Specification v2.3 §11.8.3 lists: 9485 for a key check value that does
// not verify (a key encrypted under the DEK of another session's key set),
// 9484 for a key type other than AES, 6A88 for an unknown key version to
// replace, 6A80 for malformed data, 6982 outside a secure channel — for
// every AES key length.
func TestISDPutKeyStatusWords(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := newSeeded(uint64(100 + n))
			k30, k40 := testKeys(r, 0x30, n), testKeys(r, 0x40, n)
			isd, err := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{k30, k40}, Rand: r})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := se.NewMemory(se.MemoryConfig{})
			if err := m.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true}); err != nil {
				t.Fatal(err)
			}
			// Session A on the basic channel with key set 30, session B
			// on a logical channel with key set 40.
			tr := se.TransmitFunc(m)
			a, err := scp03.Open(ctx, tr, k30, scp03.LevelAll, scp03.Options{}, r)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := m.OpenLogicalChannel(ctx, se.DefaultISDAID())
			if err != nil {
				t.Fatal(err)
			}
			trB := se.TransmitFunc(ch)
			b, err := scp03.Open(ctx, trB, k40, scp03.LevelCMAC, scp03.Options{}, r)
			if err != nil {
				t.Fatal(err)
			}
			// Keys under session B's DEK sent in session A: 9485.
			put, _ := scp03.PutKey(k40.DEK, 0x00, testKeys(r, 0x50, n))
			if resp, err := a.Transmit(ctx, tr, put); err != nil || resp.SW != scp03.SWInvalidKeyCheckValue {
				t.Errorf("PUT KEY under another session's DEK: %v %v, want 9485", resp, err)
			}
			// A DES key type: 9484.
			put, _ = scp03.PutKey(k30.DEK, 0x00, testKeys(r, 0x51, n))
			put.Data[1] = 0x80
			if resp, err := a.Transmit(ctx, tr, put); err != nil || resp.SW != scp03.SWAlgorithmNotSupported {
				t.Errorf("PUT KEY with a DES key: %v %v, want 9484", resp, err)
			}
			// Truncated: 6A80.
			put, _ = scp03.PutKey(k30.DEK, 0x00, testKeys(r, 0x52, n))
			put.Data = put.Data[:len(put.Data)-2]
			if resp, err := a.Transmit(ctx, tr, put); err != nil || resp.SW != apdu.SWWrongData {
				t.Errorf("truncated PUT KEY: %v %v, want 6A80", resp, err)
			}
			// Unknown version to replace: 6A88.
			put, _ = scp03.PutKey(k30.DEK, 0x77, testKeys(r, 0x53, n))
			if resp, err := a.Transmit(ctx, tr, put); err != nil || resp.SW != apdu.SWReferencedDataNotFound {
				t.Errorf("PUT KEY replacing 77: %v %v, want 6A88", resp, err)
			}
			// Each session with its own DEK succeeds.
			put, _ = scp03.PutKey(k40.DEK, 0x00, testKeys(r, 0x54, n))
			if resp, err := b.Transmit(ctx, trB, put); err != nil || !resp.Success() {
				t.Errorf("PUT KEY in session B: %v %v", resp, err)
			}
			put, _ = scp03.PutKey(k30.DEK, 0x00, testKeys(r, 0x55, n))
			if resp, err := a.Transmit(ctx, tr, put); err != nil || !resp.Success() {
				t.Errorf("PUT KEY in session A: %v %v", resp, err)
			}
			// Plain PUT KEY (no secure channel) on a fresh channel: 6982.
			c2, err := m.OpenLogicalChannel(ctx, se.DefaultISDAID())
			if err != nil {
				t.Fatal(err)
			}
			put, _ = scp03.PutKey(k30.DEK, 0x00, testKeys(r, 0x56, n))
			if resp, err := c2.Transmit(ctx, put); err != nil || resp.SW != apdu.SWSecurityStatusNotSatisfied {
				t.Errorf("plain PUT KEY: %v %v, want 6982", resp, err)
			}
			if got := isd.KeyVersions(); !bytes.Equal(got, []byte{0x30, 0x40, 0x54, 0x55}) {
				t.Errorf("key versions % X, want 30 40 54 55", got)
			}
		})
	}
}

// TestISDEveryLevelEveryChannelCoding opens SCP03 to the ISD at every
// security level on a channel of the first interindustry coding (1–3) and
// one of the further coding (4–19, secure messaging in b6), runs GET DATA
// and PUT KEY in each, and checks one channel's session is not usable from
// another.
func TestISDEveryLevelEveryChannelCoding(t *testing.T) {
	ctx := context.Background()
	levels := []scp03.SecurityLevel{0x00, 0x01, 0x03, 0x11, 0x13, 0x33} // Amendment D: R-ENC needs C-DEC, no 31
	for _, lvl := range levels {
		t.Run(fmt.Sprintf("%02X", byte(lvl)), func(t *testing.T) {
			r := newSeeded(uint64(lvl) + 500)
			keys := testKeys(r, 0x30, 16)
			m, isd := newCardWithISD(t, keys, r, false)
			var chans []se.Channel
			for range 5 {
				ch, err := m.OpenLogicalChannel(ctx, se.DefaultISDAID())
				if err != nil {
					t.Fatal(err)
				}
				chans = append(chans, ch)
			}
			kvn := byte(0x40)
			for _, ch := range []se.Channel{chans[0], chans[4]} {
				tr := se.TransmitFunc(ch)
				host, err := scp03.Open(ctx, tr, keys, lvl, scp03.Options{Channel: ch.Number()}, r)
				if err != nil {
					t.Fatalf("channel %d: Open: %v", ch.Number(), err)
				}
				cla, _ := apdu.WithChannel(0x80, ch.Number())
				resp, err := host.Transmit(ctx, tr, apdu.Command{CLA: cla, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
				if err != nil || !resp.Success() {
					t.Fatalf("channel %d: GET DATA: %v %v", ch.Number(), resp, err)
				}
				next := testKeys(r, kvn, 16)
				kvn++
				put, _ := scp03.PutKey(keys.DEK, 0x00, next)
				put.CLA = cla
				resp, err = host.Transmit(ctx, tr, put)
				want := apdu.SWSuccess
				if lvl == 0 {
					want = apdu.SWSecurityStatusNotSatisfied // no C-MAC: PUT KEY refused
				}
				if err != nil || resp.SW != want {
					t.Fatalf("channel %d: PUT KEY at level %02X: %v %v, want %04X", ch.Number(), byte(lvl), resp, err, want)
				}
				if want == apdu.SWSuccess {
					if err := scp03.VerifyPutKeyResponse(next, resp.Data); err != nil {
						t.Fatal(err)
					}
				}
				// Another channel has no session: its SM commands are refused.
				other := chans[2]
				ocla, _ := apdu.WithChannel(0x84, other.Number())
				if resp := tx(t, m, apdu.Command{CLA: ocla, INS: 0xCA, P1: 0x9F, P2: 0x7F, Data: make([]byte, 8), Ne: 256}); resp.SW != apdu.SWSecurityStatusNotSatisfied {
					t.Errorf("SM on channel %d without a session: %v, want 6982", other.Number(), resp)
				}
				host.Close()
			}
			if lvl != 0 && len(isd.KeyVersions()) != 3 {
				t.Errorf("key versions % X, want three", isd.KeyVersions())
			}
		})
	}
}

// TestISDKeyVersionsConcurrent (run with -race): a host may read
// KeyVersions while the element runs APDUs that reload or replace the key
// sets.
func TestISDKeyVersionsConcurrent(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(77)
	keys := testKeys(r, 0x30, 16)
	m, isd := newCardWithISD(t, keys, r, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			_, _ = m.Transmit(ctx, selectCmd(0, 0, se.DefaultISDAID())) // reloads the key sets
		}
	}()
	for range 200 {
		if v := isd.KeyVersions(); len(v) != 1 || v[0] != 0x30 {
			t.Errorf("KeyVersions = % X", v)
			break
		}
	}
	<-done
}

// TestISDReinstalled: an ISD uninstalled and installed again (new
// storage) binds to its new storage and keeps its keys; it used to reload
// from the old, now dead, storage and refuse every selection.
func TestISDReinstalled(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(41)
	keys := testKeys(r, 0x30, 16)
	isd, _ := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: r})
	m, _ := se.NewMemory(se.MemoryConfig{})
	aid := se.DefaultISDAID()
	other := []byte{0xA0, 0, 0, 0, 0x42}
	_ = m.Install(other, okApplet, se.InstallOptions{})
	if err := m.Install(aid, isd, se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	tx(t, m, selectCmd(0, 0, aid))   // binds the storage
	tx(t, m, selectCmd(0, 0, other)) // deselects the ISD
	if err := m.Uninstall(aid); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(aid, isd, se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := tx(t, m, selectCmd(0, 0, aid)); !r.Success() {
		t.Fatalf("SELECT of the reinstalled ISD: %v", r)
	}
	if _, err := scp03.Open(ctx, se.TransmitFunc(m), keys, scp03.LevelAll, scp03.Options{}, r); err != nil {
		t.Fatalf("SCP03 after reinstalling: %v", err)
	}
}

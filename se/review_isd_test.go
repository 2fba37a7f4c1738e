package se_test

import (
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

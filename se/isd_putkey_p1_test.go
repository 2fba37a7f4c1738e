package se_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// TestISDPutKeyP1Coding checks PUT KEY's P1 as GlobalPlatform Card
// Specification v2.3 §11.8.2.1 codes it: bit 8 set means more PUT KEY
// commands follow, bits 7–1 are the key version to replace (01–7F) or 0
// to add. The ISD used to read the whole byte as the key version, so
// "replace 30, more follow" (B0) and "add, more follow" (80) were refused
// with 6A88 as unknown key versions 80 and B0.
func TestISDPutKeyP1Coding(t *testing.T) {
	ctx := context.Background()
	r := newSeeded(81)
	keys := testKeys(r, 0x30, 16)
	m, isd := newCardWithISD(t, keys, r, false)
	tr := se.TransmitFunc(m)
	host, err := scp03.Open(ctx, tr, keys, scp03.LevelAll, scp03.Options{}, r)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	put := func(replace byte, more bool, next scp03.StaticKeys) apdu.Response {
		t.Helper()
		cmd, err := scp03.PutKey(keys.DEK, replace, next)
		if err != nil {
			t.Fatal(err)
		}
		if more {
			cmd.P1 |= scp03.PutKeyMore
		}
		resp, err := host.Transmit(ctx, tr, cmd)
		if err != nil {
			t.Fatalf("PUT KEY P1 %02X: %v", cmd.P1, err)
		}
		return resp
	}
	steps := []struct {
		name    string
		replace byte
		more    bool
		kvn     byte
		wantSW  uint16
		want    []byte // key versions after the step
	}{
		{"replace 30 by 31, more follow (P1 B0)", 0x30, true, 0x31, apdu.SWSuccess, []byte{0x31}},
		{"add 32, more follow (P1 80)", 0x00, true, 0x32, apdu.SWSuccess, []byte{0x31, 0x32}},
		{"replace unknown 55, more follow (P1 D5)", 0x55, true, 0x33, apdu.SWReferencedDataNotFound, []byte{0x31, 0x32}},
		{"replace 32 by 33, last (P1 32)", 0x32, false, 0x33, apdu.SWSuccess, []byte{0x31, 0x33}},
		{"add 7F, last (P1 00)", 0x00, false, 0x7F, apdu.SWSuccess, []byte{0x31, 0x33, 0x7F}},
	}
	loaded := map[byte]scp03.StaticKeys{}
	for _, s := range steps {
		next := testKeys(r, s.kvn, 16)
		loaded[s.kvn] = next
		resp := put(s.replace, s.more, next)
		if resp.SW != s.wantSW {
			t.Fatalf("%s: %v, want %04X", s.name, resp, s.wantSW)
		}
		if s.wantSW == apdu.SWSuccess {
			if err := scp03.VerifyPutKeyResponse(next, resp.Data); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		}
		if got := isd.KeyVersions(); !bytes.Equal(got, s.want) {
			t.Fatalf("%s: key versions %X, want %X", s.name, got, s.want)
		}
	}

	// A new key version above 7F could never be named in P1: the ISD
	// refuses it (6A80) even if a host codes it by hand.
	cmd, _ := scp03.PutKey(keys.DEK, 0x00, testKeys(r, 0x10, 16))
	cmd.Data[0] = 0x90
	if resp, err := host.Transmit(ctx, tr, cmd); err != nil || resp.SW != apdu.SWWrongData {
		t.Errorf("PUT KEY of key version 90: %v %v, want 6A80", resp, err)
	}
	if got := isd.KeyVersions(); !bytes.Equal(got, []byte{0x31, 0x33, 0x7F}) {
		t.Errorf("key versions %X after a refused PUT KEY", got)
	}
	// The key sets loaded with bit 8 set and without open channels.
	host.Close()
	for _, kvn := range []byte{0x31, 0x33, 0x7F} {
		h, err := scp03.Open(ctx, tr, loaded[kvn], scp03.LevelAll, scp03.Options{}, r)
		if err != nil {
			t.Fatalf("Open with key set %02X: %v", kvn, err)
		}
		h.Close()
	}
}

// TestPutKeyP1Codec checks both sides of the P1 coding in se/scp03: the
// builder refuses key versions P1 cannot carry, the parser splits P1.
func TestPutKeyP1Codec(t *testing.T) {
	r := newSeeded(82)
	dek := testKeys(r, 0x30, 16).DEK
	next := testKeys(r, 0x31, 16)
	for _, replace := range []byte{0x80, 0x81, 0xB0, 0xFF} {
		if _, err := scp03.PutKey(dek, replace, next); !errors.Is(err, scp03.ErrPutKey) {
			t.Errorf("PutKey replacing %02X: %v, want ErrPutKey", replace, err)
		}
	}
	for _, kvn := range []byte{0x00, 0x80, 0xC0, 0xFF} {
		k := next
		k.KVN = kvn
		if _, err := scp03.PutKey(dek, 0x00, k); !errors.Is(err, scp03.ErrPutKey) {
			t.Errorf("PutKey of key version %02X: %v, want ErrPutKey", kvn, err)
		}
	}
	for _, tc := range []struct {
		p1      byte
		replace byte
		more    bool
	}{
		{0x00, 0x00, false}, {0x30, 0x30, false}, {0x7F, 0x7F, false},
		{0x80, 0x00, true}, {0x81, 0x01, true}, {0xB0, 0x30, true}, {0xFF, 0x7F, true},
	} {
		cmd, err := scp03.PutKey(dek, 0x00, next)
		if err != nil {
			t.Fatal(err)
		}
		cmd.P1 = tc.p1
		req, err := scp03.ParsePutKey(dek, cmd)
		if err != nil {
			t.Fatalf("P1 %02X: %v", tc.p1, err)
		}
		if req.ReplaceKVN != tc.replace || req.More != tc.more || req.Keys.KVN != 0x31 {
			t.Errorf("P1 %02X: ReplaceKVN %02X More %v KVN %02X, want %02X %v 31", tc.p1, req.ReplaceKVN, req.More, req.Keys.KVN, tc.replace, tc.more)
		}
		req.Keys.Zero()
	}
	cmd, _ := scp03.PutKey(dek, 0x00, next)
	for _, kvn := range []byte{0x80, 0xFE} {
		cmd.Data[0] = kvn
		if _, err := scp03.ParsePutKey(dek, cmd); !errors.Is(err, scp03.ErrPutKey) {
			t.Errorf("ParsePutKey of key version %02X: %v, want ErrPutKey", kvn, err)
		}
	}
	// An ISD key set the P1 coding could never replace is refused.
	k := testKeys(r, 0x80, 16)
	if err := (se.ISDConfig{Keys: []scp03.StaticKeys{k}, Rand: r}).Validate(); !errors.Is(err, se.ErrConfig) {
		t.Errorf("ISD key version 80: %v, want ErrConfig", err)
	}
}

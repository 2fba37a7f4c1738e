package scp03

import (
	"bytes"
	"crypto/aes"
	"errors"
	"testing"

	"github.com/payedge/payedge/se/apdu"
)

func putKeyTestKeys(n int, kvn, seed byte) StaticKeys {
	k := StaticKeys{KVN: kvn, ENC: make([]byte, n), MAC: make([]byte, n), DEK: make([]byte, n)}
	for i := range n {
		k.ENC[i] = seed + byte(i)
		k.MAC[i] = seed + 0x40 + byte(i)
		k.DEK[i] = seed + 0x80 + byte(i)
	}
	return k
}

func TestKeyCheckValue(t *testing.T) {
	// The KCV is the first three bytes of AES-ECB(key, 01…01): check
	// against crypto/aes directly, and that it changes with the key.
	key := bytes.Repeat([]byte{0x40}, 16)
	b, _ := aes.NewCipher(key)
	blk := bytes.Repeat([]byte{0x01}, 16)
	b.Encrypt(blk, blk)
	kcv, err := KeyCheckValue(key)
	if err != nil || !bytes.Equal(kcv[:], blk[:3]) {
		t.Fatalf("KCV %X, want %X (%v)", kcv, blk[:3], err)
	}
	key[0] ^= 1
	if kcv2, _ := KeyCheckValue(key); kcv2 == kcv {
		t.Error("KCV did not change with the key")
	}
	if _, err := KeyCheckValue(make([]byte, 15)); !errors.Is(err, ErrKeyLength) {
		t.Errorf("15-byte key: %v", err)
	}
}

func TestPutKeyRoundTrip(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		dek := putKeyTestKeys(n, 0x30, 1).DEK
		keys := putKeyTestKeys(n, 0x31, 9)
		cmd, err := PutKey(dek, 0x30, keys)
		if err != nil {
			t.Fatal(err)
		}
		if cmd.CLA != 0x80 || cmd.INS != INSPutKey || cmd.P1 != 0x30 || cmd.P2 != 0x81 {
			t.Fatalf("header %v", cmd)
		}
		// No key appears in clear.
		for _, k := range [][]byte{keys.ENC, keys.MAC, keys.DEK} {
			if bytes.Contains(cmd.Data, k[:8]) {
				t.Fatal("key in clear in PUT KEY data")
			}
		}
		raw, _ := cmd.MarshalBinary()
		parsed, _ := apdu.ParseCommand(raw)
		req, err := ParsePutKey(dek, parsed)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if req.ReplaceKVN != 0x30 || req.KeyID != 1 || req.Keys.KVN != 0x31 ||
			!bytes.Equal(req.Keys.ENC, keys.ENC) || !bytes.Equal(req.Keys.MAC, keys.MAC) || !bytes.Equal(req.Keys.DEK, keys.DEK) {
			t.Fatalf("%d: parsed %v", n, req.Keys)
		}
		if err := VerifyPutKeyResponse(keys, req.PutKeyResponse()); err != nil {
			t.Fatal(err)
		}
		other := putKeyTestKeys(n, 0x31, 10)
		if err := VerifyPutKeyResponse(other, req.PutKeyResponse()); !errors.Is(err, ErrPutKey) {
			t.Errorf("response verified for other keys: %v", err)
		}
		// Every single-bit change of the data is caught.
		for i := range cmd.Data {
			bad := apdu.Command{CLA: cmd.CLA, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: bytes.Clone(cmd.Data)}
			bad.Data[i] ^= 0x01
			got, err := ParsePutKey(dek, bad)
			if err == nil && i != 0 {
				t.Errorf("%d: bit flip at byte %d accepted: KVN %02X", n, i, got.Keys.KVN)
			}
		}
		// A wrong DEK fails the KCV check.
		if _, err := ParsePutKey(putKeyTestKeys(n, 0, 2).DEK, cmd); !errors.Is(err, ErrPutKey) {
			t.Errorf("wrong DEK: %v", err)
		}
	}
}

func TestPutKeyErrors(t *testing.T) {
	dek := putKeyTestKeys(16, 0x30, 1).DEK
	k := putKeyTestKeys(16, 0x31, 5)
	for _, kvn := range []byte{0x00, 0xFF} {
		kk := k
		kk.KVN = kvn
		if _, err := PutKey(dek, 0, kk); !errors.Is(err, ErrPutKey) {
			t.Errorf("KVN %02X: %v", kvn, err)
		}
	}
	noDEK := k
	noDEK.DEK = nil
	if _, err := PutKey(dek, 0, noDEK); !errors.Is(err, ErrKeyLength) {
		t.Errorf("no DEK: %v", err)
	}
	if _, err := PutKey(dek[:8], 0, k); !errors.Is(err, ErrKeyLength) {
		t.Errorf("short DEK: %v", err)
	}
	cmd, _ := PutKey(dek, 0, k)
	for _, tc := range []struct {
		name string
		cmd  apdu.Command
		want error
	}{
		{"wrong INS", apdu.Command{INS: 0xDA, Data: cmd.Data}, ErrPutKey},
		{"empty", apdu.Command{INS: INSPutKey}, ErrPutKey},
		{"truncated", apdu.Command{INS: INSPutKey, Data: cmd.Data[:len(cmd.Data)-1]}, ErrPutKey},
		{"trailing", apdu.Command{INS: INSPutKey, Data: append(bytes.Clone(cmd.Data), 0)}, ErrPutKey},
		{"DES key type", apdu.Command{INS: INSPutKey, Data: append([]byte{0x31, 0x80}, cmd.Data[2:]...)}, ErrPutKey},
	} {
		if _, err := ParsePutKey(dek, tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := ParsePutKey(dek[:3], cmd); !errors.Is(err, ErrKeyLength) {
		t.Errorf("bad DEK: %v", err)
	}
	if _, err := DecryptKey(dek, make([]byte, 16), 20); !errors.Is(err, ErrPutKey) {
		t.Errorf("key length 20: %v", err)
	}
	if _, err := EncryptKey(dek, make([]byte, 20)); !errors.Is(err, ErrKeyLength) {
		t.Errorf("EncryptKey 20: %v", err)
	}
}

func FuzzParsePutKey(f *testing.F) {
	dek := putKeyTestKeys(16, 0x30, 1).DEK
	for _, n := range []int{16, 24, 32} {
		cmd, _ := PutKey(dek, 0x30, putKeyTestKeys(n, 0x31, 7))
		f.Add(cmd.Data)
	}
	f.Add([]byte{0x31})
	f.Add([]byte{0x31, 0x88, 0xFF, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1024 {
			t.Skip()
		}
		req, err := ParsePutKey(dek, apdu.Command{CLA: 0x80, INS: INSPutKey, P2: 0x81, Data: data})
		if err != nil {
			return
		}
		// Whatever parses re-encodes to the same bytes.
		cmd, err := PutKey(dek, 0, req.Keys)
		if err != nil {
			t.Fatalf("parsed keys do not re-encode: %v", err)
		}
		if !bytes.Equal(cmd.Data, data) {
			t.Fatalf("round trip: % X != % X", cmd.Data, data)
		}
	})
}

// TestParsePutKeyErrorKinds: a key under another DEK is ErrKeyCheckValue
// at every key length (for AES-192 the check value is verified before the
// padding, so the answer does not depend on the length); a DES key type is
// ErrKeyType; both still match ErrPutKey.
func TestParsePutKeyErrorKinds(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		dek := putKeyTestKeys(n, 0x30, 1).DEK
		other := putKeyTestKeys(n, 0x30, 77).DEK
		cmd, err := PutKey(other, 0x00, putKeyTestKeys(n, 0x31, 9))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParsePutKey(dek, cmd)
		if !errors.Is(err, ErrKeyCheckValue) || !errors.Is(err, ErrPutKey) {
			t.Errorf("%d-byte keys under another DEK: err = %v, want ErrKeyCheckValue (and ErrPutKey)", n, err)
		}
		cmd, _ = PutKey(dek, 0x00, putKeyTestKeys(n, 0x31, 9))
		cmd.Data[1] = 0x80
		_, err = ParsePutKey(dek, cmd)
		if !errors.Is(err, ErrKeyType) || !errors.Is(err, ErrPutKey) || errors.Is(err, ErrKeyCheckValue) {
			t.Errorf("%d-byte keys, DES type: err = %v, want ErrKeyType", n, err)
		}
	}
}

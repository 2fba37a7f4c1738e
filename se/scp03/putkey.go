package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
)

// PUT KEY (GlobalPlatform Card Specification v2.3 §11.8 and Amendment D
// §7.2): a host replaces or adds a key set, each key encrypted under the
// static DEK of the open secure channel's key set and followed by its key
// check value.
//
// P1 (Card Specification v2.3 §11.8.2.1): bit 8 set means more PUT KEY
// commands follow (PutKeyMore), clear the last or only one; bits 7–1 are
// the key version number to replace, 01–7F, or 0 to add a key set. So the
// new key version in the data is held to 01–7F too: a set loaded as 80–FE
// could never be named in P1 to be replaced (GlobalPlatform reserves FF
// for an issuer security domain's initial keys).
//
// Coding used here (one key data field per key, ENC, MAC, DEK in order):
//
//	new KVN ‖ { 88 ‖ L ‖ key length ‖ AES-CBC(DEK, ICV 0, key ‖ 00…) ‖ 03 ‖ KCV }×3
//
// where L = 1 + the encrypted length, the key is padded with zero bytes to
// a multiple of 16 (only AES-192 keys need it; the key length byte says
// how many bytes are key) and the KCV is the first three bytes of
// AES-ECB(key, 16 bytes of 01), as Amendment D specifies for AES keys.

const (
	// INSPutKey is the instruction code of PUT KEY.
	INSPutKey byte = 0xD8
	// KeyTypeAES is the GlobalPlatform key type of an AES key.
	KeyTypeAES byte = 0x88
	// KCVSize is the length of a key check value.
	KCVSize = 3
	// PutKeyMore is bit 8 of PUT KEY's P1: more PUT KEY commands follow
	// this one. Bits 7–1 (PutKeyKVNMask) carry the key version replaced.
	PutKeyMore byte = 0x80
	// PutKeyKVNMask selects the key version number in PUT KEY's P1.
	PutKeyKVNMask byte = 0x7F
)

// ErrPutKey reports a malformed PUT KEY command or response: wrong lengths,
// an unknown key type, a key check value that does not verify, or a
// response that does not match the keys sent.
var ErrPutKey = errors.New("scp03: malformed PUT KEY")

// ErrKeyCheckValue reports a PUT KEY key whose check value does not match
// the decrypted key: the key was encrypted under another DEK (for example
// that of another session's key set) or altered. A card answers 9485
// (GlobalPlatform Card Specification v2.3 §11.8.3, "Invalid key check
// value"). It wraps ErrPutKey.
var ErrKeyCheckValue = fmt.Errorf("%w: key check value does not verify", ErrPutKey)

// ErrKeyType reports a PUT KEY key of a type other than AES (88); a card
// answers 9484 ("Algorithm not supported"). It wraps ErrPutKey.
var ErrKeyType = fmt.Errorf("%w: key type not supported", ErrPutKey)

// Status words of PUT KEY (GlobalPlatform Card Specification v2.3
// §11.8.3) beyond ISO/IEC 7816-4's.
const (
	SWAlgorithmNotSupported uint16 = 0x9484
	SWInvalidKeyCheckValue  uint16 = 0x9485
)

// KeyCheckValue returns the key check value of an AES key: the first three
// bytes of the key's encryption of a block of sixteen 01 bytes. A key that is
// not 16, 24 or 32 bytes is an error wrapping ErrKeyLength.
func KeyCheckValue(key []byte) ([KCVSize]byte, error) {
	var kcv [KCVSize]byte
	b, err := aes.NewCipher(key)
	if err != nil {
		return kcv, fmt.Errorf("%w: %d-byte key", ErrKeyLength, len(key))
	}
	var blk [16]byte
	for i := range blk {
		blk[i] = 0x01
	}
	b.Encrypt(blk[:], blk[:])
	copy(kcv[:], blk[:])
	return kcv, nil
}

// EncryptKey encrypts key under dek as PUT KEY carries it: AES-CBC with a
// zero ICV over the key padded with zero bytes to a multiple of 16. Both
// must be AES keys (ErrKeyLength otherwise).
func EncryptKey(dek, key []byte) ([]byte, error) {
	if !aesLen(key) {
		return nil, fmt.Errorf("%w: %d-byte key", ErrKeyLength, len(key))
	}
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %d-byte DEK", ErrKeyLength, len(dek))
	}
	out := make([]byte, (len(key)+15)/16*16)
	copy(out, key)
	var iv [16]byte
	cipher.NewCBCEncrypter(b, iv[:]).CryptBlocks(out, out)
	return out, nil
}

// DecryptKey reverses EncryptKey: it decrypts enc under dek and returns the
// first keyLen bytes. The padding must be zero (ErrPutKey otherwise).
func DecryptKey(dek, enc []byte, keyLen int) ([]byte, error) {
	out, err := decryptPadded(dek, enc, keyLen)
	if err != nil {
		return nil, err
	}
	return checkPadding(out, keyLen)
}

// decryptPadded decrypts enc under dek without looking at the padding.
func decryptPadded(dek, enc []byte, keyLen int) ([]byte, error) {
	if keyLen != 16 && keyLen != 24 && keyLen != 32 {
		return nil, fmt.Errorf("%w: key length %d", ErrPutKey, keyLen)
	}
	if len(enc) != (keyLen+15)/16*16 {
		return nil, fmt.Errorf("%w: %d encrypted bytes for a %d-byte key", ErrPutKey, len(enc), keyLen)
	}
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %d-byte DEK", ErrKeyLength, len(dek))
	}
	out := make([]byte, len(enc))
	var iv [16]byte
	cipher.NewCBCDecrypter(b, iv[:]).CryptBlocks(out, enc)
	return out, nil
}

// checkPadding returns the key of a decrypted, zero-padded key; a nonzero
// padding byte is an error wrapping ErrPutKey (and out is wiped).
func checkPadding(out []byte, keyLen int) ([]byte, error) {
	var nz byte
	for _, c := range out[keyLen:] {
		nz |= c
	}
	if nz != 0 {
		clear(out)
		return nil, fmt.Errorf("%w: key padding is not zero", ErrPutKey)
	}
	return out[:keyLen], nil
}

func aesLen(k []byte) bool { return len(k) == 16 || len(k) == 24 || len(k) == 32 }

// PutKey builds the PUT KEY command (CLA 80, INS D8, P1 = replaceKVN or 00
// to add a key set, P2 = 81: key identifier 1, several keys) that installs
// keys (ENC, MAC and DEK, all required, of one length) as key version
// keys.KVN, each encrypted under dek, the static DEK of the secure channel
// the command will be sent in. P1 marks it the last (or only) PUT KEY
// command; for a sequence, set PutKeyMore in P1 of all but the last before
// wrapping. Send it wrapped (HostSession.Wrap) at C-MAC level or above.
// Errors wrap ErrKeyLength or ErrPutKey (a keys.KVN or replaceKVN outside
// 01–7F, which P1's seven bits cannot code; replaceKVN 00 adds).
func PutKey(dek []byte, replaceKVN byte, keys StaticKeys) (apdu.Command, error) {
	if err := keys.Validate(); err != nil {
		return apdu.Command{}, err
	}
	if replaceKVN > PutKeyKVNMask {
		return apdu.Command{}, fmt.Errorf("%w: key version %02X to replace does not fit P1 bits 7–1 (01–7F)", ErrPutKey, replaceKVN)
	}
	if len(keys.DEK) == 0 {
		return apdu.Command{}, fmt.Errorf("%w: the new key set needs a DEK", ErrKeyLength)
	}
	if keys.KVN == 0x00 || keys.KVN > PutKeyKVNMask {
		return apdu.Command{}, fmt.Errorf("%w: key version %02X outside 01–7F", ErrPutKey, keys.KVN)
	}
	data := []byte{keys.KVN}
	for _, k := range [][]byte{keys.ENC, keys.MAC, keys.DEK} {
		enc, err := EncryptKey(dek, k)
		if err != nil {
			return apdu.Command{}, err
		}
		kcv, _ := KeyCheckValue(k)
		data = append(data, KeyTypeAES, byte(1+len(enc)), byte(len(k)))
		data = append(data, enc...)
		data = append(data, KCVSize)
		data = append(data, kcv[:]...)
		clear(enc)
	}
	return apdu.Command{CLA: 0x80, INS: INSPutKey, P1: replaceKVN, P2: 0x81, Data: data, Ne: 256}, nil
}

// PutKeyRequest is a parsed PUT KEY command.
type PutKeyRequest struct {
	ReplaceKVN byte       // P1 bits 7–1: key version replaced, 00 to add a key set
	More       bool       // P1 bit 8: more PUT KEY commands follow
	KeyID      byte       // P2 without the "several keys" bit
	Keys       StaticKeys // the new keys, decrypted; zero them when done
	KCV        [][KCVSize]byte
}

// ParsePutKey decodes a PUT KEY command (after Unwrap) carrying a complete
// SCP03 key set (ENC, MAC, DEK), decrypting each key with dek and checking
// each key check value in constant time. P1 splits into ReplaceKVN (bits
// 7–1) and More (bit 8). Errors wrap ErrPutKey (lengths, padding, a new
// key version outside 01–7F), ErrKeyType (a key type other than AES; it wraps ErrPutKey),
// ErrKeyCheckValue (a KCV mismatch: the DEK differs or the data was
// altered; it wraps ErrPutKey) or ErrKeyLength (a bad DEK).
func ParsePutKey(dek []byte, cmd apdu.Command) (PutKeyRequest, error) {
	req := PutKeyRequest{ReplaceKVN: cmd.P1 & PutKeyKVNMask, More: cmd.P1&PutKeyMore != 0, KeyID: cmd.P2 & 0x7F}
	if cmd.INS != INSPutKey {
		return req, fmt.Errorf("%w: INS %02X", ErrPutKey, cmd.INS)
	}
	if !aesLen(dek) {
		return req, fmt.Errorf("%w: %d-byte DEK", ErrKeyLength, len(dek))
	}
	d := cmd.Data
	if len(d) < 1 {
		return req, fmt.Errorf("%w: no data", ErrPutKey)
	}
	req.Keys.KVN = d[0]
	if req.Keys.KVN == 0x00 || req.Keys.KVN > PutKeyKVNMask {
		return req, fmt.Errorf("%w: key version %02X outside 01–7F", ErrPutKey, req.Keys.KVN)
	}
	d = d[1:]
	var keys [3][]byte
	fail := func(err error) (PutKeyRequest, error) {
		for _, k := range keys {
			clear(k)
		}
		return PutKeyRequest{ReplaceKVN: req.ReplaceKVN, More: req.More, KeyID: req.KeyID}, err
	}
	for i := range keys {
		if len(d) < 3 {
			return fail(fmt.Errorf("%w: key %d truncated", ErrPutKey, i+1))
		}
		if d[0] != KeyTypeAES {
			return fail(fmt.Errorf("%w: %02X (want 88, AES)", ErrKeyType, d[0]))
		}
		l := int(d[1])
		if l < 1 || len(d) < 2+l+1 {
			return fail(fmt.Errorf("%w: key %d length %d", ErrPutKey, i+1, l))
		}
		keyLen := int(d[2])
		padded, err := decryptPadded(dek, d[3:2+l], keyLen)
		if err != nil {
			return fail(err)
		}
		keys[i] = padded
		d = d[2+l:]
		if d[0] != KCVSize || len(d) < 1+KCVSize {
			return fail(fmt.Errorf("%w: key %d check value", ErrPutKey, i+1))
		}
		// The KCV first: a key under the wrong DEK fails here whatever
		// its length, not at the padding of an AES-192 key.
		want, _ := KeyCheckValue(padded[:keyLen])
		if subtle.ConstantTimeCompare(want[:], d[1:1+KCVSize]) != 1 {
			return fail(fmt.Errorf("%w: key %d", ErrKeyCheckValue, i+1))
		}
		if keys[i], err = checkPadding(padded, keyLen); err != nil {
			return fail(err)
		}
		req.KCV = append(req.KCV, want)
		d = d[1+KCVSize:]
	}
	if len(d) != 0 {
		return fail(fmt.Errorf("%w: %d trailing bytes", ErrPutKey, len(d)))
	}
	if len(keys[0]) != len(keys[1]) || len(keys[1]) != len(keys[2]) {
		return fail(fmt.Errorf("%w: keys of different lengths", ErrKeyLength))
	}
	req.Keys.ENC, req.Keys.MAC, req.Keys.DEK = keys[0], keys[1], keys[2]
	return req, nil
}

// PutKeyResponse returns the response data of a successful PUT KEY: the
// new key version followed by the key check values.
func (r PutKeyRequest) PutKeyResponse() []byte {
	out := []byte{r.Keys.KVN}
	for _, k := range r.KCV {
		out = append(out, k[:]...)
	}
	return out
}

// VerifyPutKeyResponse checks the card's answer to PUT KEY against the
// keys sent: key version and the three key check values (constant-time).
// A mismatch is an error wrapping ErrPutKey.
func VerifyPutKeyResponse(keys StaticKeys, data []byte) error {
	want := []byte{keys.KVN}
	for _, k := range [][]byte{keys.ENC, keys.MAC, keys.DEK} {
		kcv, err := KeyCheckValue(k)
		if err != nil {
			return err
		}
		want = append(want, kcv[:]...)
	}
	if subtle.ConstantTimeCompare(want, data) != 1 {
		return fmt.Errorf("%w: response does not confirm the keys sent", ErrPutKey)
	}
	return nil
}

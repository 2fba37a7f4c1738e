package scp03

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
)

// Instruction codes of the SCP03 handshake (Amendment D §7.1).
const (
	INSInitializeUpdate     byte = 0x50
	INSExternalAuthenticate byte = 0x82
)

// scpIdentifier is the SCP identifier in the key information ("03").
const scpIdentifier = 0x03

type state int

const (
	stateNew      state = iota // card: waiting for INITIALIZE UPDATE
	stateInit                  // INITIALIZE UPDATE done, waiting for EXTERNAL AUTHENTICATE
	stateAuthSent              // host: EXTERNAL AUTHENTICATE built, response pending
	stateOpen                  // secure channel open
	stateDead                  // terminated by a failure or closed
)

// core is the secure-messaging state shared by both ends: session keys, MAC
// chaining value and encryption counter, with scratch space so that the hot
// path does not allocate.
type core struct {
	level  SecurityLevel
	macLen int // 8 (S8) or 16 (S16)
	quirk  bool

	sENC, sMAC, sRMAC []byte // owned copies, zeroed on close
	enc               cipher.Block
	encCBC, decCBC    cipher.BlockMode // AES-CBC under S-ENC, re-IVed per message (see cbcIV)
	cmac, rmac        *CMAC

	chain   [16]byte // MAC chaining value: the last full C-MAC
	counter uint64   // encryption counter (128-bit in the standard; 2^64 commands never happen)

	mac [16]byte // scratch
	iv  [16]byte
	blk [16]byte
	tmp [16]byte
}

// deriveSessionKeys derives S-ENC, S-MAC and S-RMAC from the static keys
// with context = host challenge ‖ card challenge (Amendment D §6.2.1).
func (c *core) deriveSessionKeys(keys KeyProvider, context []byte) error {
	n := keys.KeyLen()
	switch n {
	case 16, 24, 32:
	default:
		return fmt.Errorf("%w: key provider reports %d-byte keys", ErrKeyLength, n)
	}
	buf := make([]byte, 3*n)
	c.sENC, c.sMAC, c.sRMAC = buf[:n:n], buf[n:2*n:2*n], buf[2*n:]
	if err := keys.Derive(KeyENC, DeriveSENC, context, c.sENC); err != nil {
		return err
	}
	if err := keys.Derive(KeyMAC, DeriveSMAC, context, c.sMAC); err != nil {
		return err
	}
	if err := keys.Derive(KeyMAC, DeriveSRMAC, context, c.sRMAC); err != nil {
		return err
	}
	var err error
	if c.enc, err = aes.NewCipher(c.sENC); err != nil {
		return fmt.Errorf("%w: %v", ErrKeyLength, err)
	}
	// crypto/aes CBC modes accept a new IV without allocating and decrypt
	// several blocks in parallel; keep one of each for the session.
	var zero [16]byte
	if m, ok := cipher.NewCBCEncrypter(c.enc, zero[:]).(cbcIV); ok {
		c.encCBC = m
	}
	if m, ok := cipher.NewCBCDecrypter(c.enc, zero[:]).(cbcIV); ok {
		c.decCBC = m
	}
	if c.cmac, err = NewCMAC(c.sMAC); err != nil {
		return err
	}
	c.rmac, err = NewCMAC(c.sRMAC)
	return err
}

// cryptogram computes the card or host cryptogram (Amendment D §6.2.2.2,
// §6.2.2.3): KDF(S-MAC, constant, host challenge ‖ card challenge) of
// 64 bits in S8 mode and 128 bits in S16 mode.
func (c *core) cryptogram(constant byte, context []byte) []byte {
	out := make([]byte, c.macLen)
	deriveInto(c.cmac, constant, context, out)
	return out
}

// commandMAC computes the C-MAC of a wrapped command into c.mac without
// updating the chaining value, with the Lc field as w encodes it (the short
// form whenever it fits); see commandMACLc.
func (c *core) commandMAC(w apdu.Command, dataNoMAC []byte) {
	var lc [3]byte
	c.commandMACLc(w.CLA, w.INS, w.P1, w.P2, w.AppendLc(lc[:0]), dataNoMAC)
}

// commandMACLc computes the C-MAC over chaining value ‖ CLA INS P1 P2 ‖ Lc
// ‖ data into c.mac without updating the chaining value. The class byte is
// the wire class with the logical channel set to zero and the
// GlobalPlatform secure-messaging bit set (Amendment D §6.2.4); lc is the
// Lc field exactly as sent (1 or 3 bytes, counting the MAC).
func (c *core) commandMACLc(cla, ins, p1, p2 byte, lc, dataNoMAC []byte) {
	var hdr [7]byte
	h := append(hdr[:0], macCLA(cla), ins, p1, p2)
	h = append(h, lc...)
	m := c.cmac
	m.Reset()
	m.Write(c.chain[:])
	m.Write(h)
	m.Write(dataNoMAC)
	m.sum(&c.mac)
	m.Reset()
}

// macCLA returns the class byte covered by the C-MAC: logical channel zero
// in the first interindustry coding, b8 (proprietary) and b5 (chaining)
// kept, b3 set for GlobalPlatform secure messaging. For channels 0–3 this
// is (CLA & F0) | 04 as Amendment D §6.2.4 states; channels 4–19 map to the
// same channel-zero class.
func macCLA(cla byte) byte { return cla&0x90 | 0x04 }

// responseMAC computes the R-MAC over chaining value ‖ data ‖ SW into c.mac
// (Amendment D §6.2.5).
func (c *core) responseMAC(data []byte, sw uint16) {
	m := c.rmac
	m.Reset()
	m.Write(c.chain[:])
	m.Write(data)
	var s [2]byte
	s[0], s[1] = byte(sw>>8), byte(sw)
	m.Write(s[:])
	m.sum(&c.mac)
	m.Reset()
}

// nextCommand advances the encryption counter for a command with
// (encrypted) data length n (Amendment D §6.2.6).
func (c *core) nextCommand(n int) {
	if !c.quirk || n > 0 {
		c.counter++
	}
}

// icv computes the ICV into c.iv: AES(S-ENC, counter) for commands,
// AES(S-ENC, 80 ‖ counter) for responses (Amendment D §6.2.6, §6.2.7).
func (c *core) icv(response bool) {
	clear(c.blk[:])
	v := c.counter
	for i := 15; i >= 8; i-- {
		c.blk[i] = byte(v)
		v >>= 8
	}
	if response {
		c.blk[0] = 0x80
	}
	c.enc.Encrypt(c.iv[:], c.blk[:])
}

// cbcIV is a CBC mode whose IV can be replaced, as crypto/aes provides.
type cbcIV interface {
	cipher.BlockMode
	SetIV(iv []byte)
}

// padLen returns the length of data padded with ISO/IEC 9797-1 method 2 to
// whole AES blocks (always at least one padding byte).
func padLen(n int) int { return (n/16 + 1) * 16 }

// encryptInto pads src into dst (len(dst) == padLen(len(src))) and encrypts
// it in AES-CBC under S-ENC with the ICV in c.iv.
func (c *core) encryptInto(dst, src []byte) {
	n := copy(dst, src)
	dst[n] = 0x80
	clear(dst[n+1:])
	if m, ok := c.encCBC.(cbcIV); ok {
		m.SetIV(c.iv[:])
		m.CryptBlocks(dst, dst)
		return
	}
	prev := c.iv[:]
	for i := 0; i < len(dst); i += 16 {
		b := dst[i : i+16]
		subtle.XORBytes(b, b, prev)
		c.enc.Encrypt(b, b)
		prev = b
	}
}

// decryptInPlace decrypts buf (whole blocks) in AES-CBC under S-ENC with
// the ICV in c.iv and removes the ISO/IEC 9797-1 method 2 padding.
func (c *core) decryptInPlace(buf []byte) ([]byte, error) {
	if len(buf) == 0 || len(buf)%16 != 0 {
		return nil, fmt.Errorf("%w: %d encrypted bytes is not a whole number of blocks", ErrPadding, len(buf))
	}
	if m, ok := c.decCBC.(cbcIV); ok {
		m.SetIV(c.iv[:])
		m.CryptBlocks(buf, buf)
	} else {
		c.decryptBlocks(buf)
	}
	// Strip trailing 00 bytes, then the mandatory 80. Senders pad to the
	// next block boundary, but some pad further (the card emulation of
	// Samsung OpenSCP-Java pads 11 bytes to 32); the marker is always the
	// last non-zero byte, so accepting longer padding is unambiguous. The
	// data is already authenticated (the MAC is checked before
	// decryption), so this check reveals nothing to an attacker.
	i := len(buf) - 1
	for i > 0 && buf[i] == 0 {
		i--
	}
	if buf[i] != 0x80 {
		return nil, fmt.Errorf("%w: no 80 padding marker", ErrPadding)
	}
	return buf[:i], nil
}

// decryptBlocks is the block-by-block CBC decryption for ciphers without a
// re-IV-able CBC mode.
func (c *core) decryptBlocks(buf []byte) {
	for i := 0; i < len(buf); i += 16 {
		b := buf[i : i+16]
		copy(c.tmp[:], b)
		c.enc.Decrypt(b, b)
		subtle.XORBytes(b, b, c.iv[:])
		c.iv = c.tmp
	}
	clear(c.tmp[:])
}

// checkMAC compares the first macLen bytes of c.mac with got in constant
// time.
func (c *core) checkMAC(got []byte) bool {
	return len(got) == c.macLen && subtle.ConstantTimeCompare(c.mac[:c.macLen], got) == 1
}

// zero wipes every secret of the session.
func (c *core) zero() {
	clear(c.sENC)
	clear(c.sMAC)
	clear(c.sRMAC)
	if c.cmac != nil {
		c.cmac.Zero()
	}
	if c.rmac != nil {
		c.rmac.Zero()
	}
	c.enc = zeroBlock{}
	c.encCBC, c.decCBC = nil, nil
	clear(c.chain[:])
	clear(c.mac[:])
	clear(c.iv[:])
	clear(c.blk[:])
	clear(c.tmp[:])
	c.counter = 0
}

// isErrorSW reports whether sw is an error status word: anything other than
// 9000 and the warnings 62xx and 63xx (Amendment D §6.2.5).
func isErrorSW(sw uint16) bool {
	return sw != apdu.SWSuccess && !apdu.IsWarning(sw)
}

// checkClassCoding accepts the class bytes whose every bit is either
// covered by the C-MAC (b8, b5), fixed by the secure-messaging indication
// or fixed by the logical channel: the first interindustry coding 0x–1x /
// 8x–9x and the further one 4x–7x / Cx–Fx. Classes with b7 = 0 and b6 = 1
// (20–3F, A0–BF) are refused: b6 is not in the MAC input (Amendment D
// §6.2.4 MACs the class with channel zero, 84 or 04), so a man in the middle
// could flip it unnoticed.
func checkClassCoding(cla byte) error {
	if cla&0x60 == 0x20 {
		return fmt.Errorf("%w: CLA %02X (b7 = 0, b6 = 1) is not a GlobalPlatform class coding", apdu.ErrClass, cla)
	}
	_, err := apdu.Channel(cla)
	return err
}

// checkCLA validates the class byte of a command to be wrapped.
func checkCLA(cla byte) error {
	if err := checkClassCoding(cla); err != nil {
		return err
	}
	if apdu.SecureMessaging(cla) {
		return fmt.Errorf("%w: CLA %02X already indicates secure messaging", ErrNotSecured, cla)
	}
	return nil
}
